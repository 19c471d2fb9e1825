using MLNetAr.Kernels;
using MLNetAr.Onnx;

namespace MLNetAr.Nn.Distributions;

/// <summary>
/// Pixels of K levels under a mixture of M discretised logistics (PixelCNN++, Salimans et al. 2017): 3M outputs per
/// pixel whatever K is, laid out <c>(3M, n)</c> — the M mixture logits π, the M means μ and the M log scales s. Level k
/// is the bin <c>[c_k - h, c_k + h]</c> of <c>c_k = 2k/(K-1) - 1</c> in [-1, 1], <c>h = 1/(K-1)</c>; the edge levels
/// take the tails, so the K probabilities sum to 1 exactly:
/// <c>p(k) = Σ_m softmax(π)_m (σ((c_k + h - μ_m)/e^{s_m}) - σ((c_k - h - μ_m)/e^{s_m}))</c>, with σ(+∞) = 1 at k = K-1
/// and σ(-∞) = 0 at k = 0.
/// </summary>
/// <remarks>
/// A bin's probability is computed as <c>log(σ(a) - σ(b)) = a - softplus(a) - softplus(b) + log(-expm1(b - a))</c>, in
/// double: exact in every regime, where the published code falls back to the density at the bin's centre. Log scales
/// are clamped to [-7, 7] (the published lower bound; above 7 a logistic is flat over [-1, 1]), with no gradient
/// outside. Drawing inverts the mixture's CDF with one uniform (a binary search over the K levels); a temperature τ
/// divides the mixture logits and multiplies the scales.
/// </remarks>
internal sealed class DiscretizedLogisticMixture : PixelDistribution
{
    /// <summary>Bounds of a component's log scale.</summary>
    public const float MinLogScale = -7f, MaxLogScale = 7f;

    public DiscretizedLogisticMixture(int levels, int components) : base(levels)
    {
        if (levels < 3) throw new ArgumentOutOfRangeException(nameof(levels), levels, "A mixture needs K ≥ 3 levels.");
        if (components < 1 || components > 32)
            throw new ArgumentOutOfRangeException(nameof(components), components, "Use 1 to 32 mixture components.");
        Components = components;
    }

    /// <summary>Mixture components M.</summary>
    public int Components { get; }

    public override int LogitsPerPixel => 3 * Components;

    /// <summary>Half a bin in [-1, 1]: <c>1 / (K - 1)</c>.</summary>
    private double HalfBin => 1.0 / (Levels - 1);

    /// <summary>Centre <c>c_k</c> of level k's bin in [-1, 1].</summary>
    private double Centre(int level) => 2.0 * level / (Levels - 1) - 1;

    public override void LogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n,
        Span<float> destination)
    {
        for (int i = 0; i < n; i++) destination[i] = (float)LogProbability(logits, n, i, LevelOf(x[i]));
    }

    public override float SumLogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, int start,
        int count)
    {
        double sum = 0;
        for (int i = start; i < start + count; i++) sum += LogProbability(logits, n, i, LevelOf(x[i]));
        return (float)sum;
    }

    /// <summary><c>log p(level)</c> of pixel <paramref name="index"/> of logits <c>(3M, n)</c>.</summary>
    private double LogProbability(ReadOnlySpan<float> logits, int n, int index, int level)
    {
        int m = Components;
        Span<double> terms = stackalloc double[m];
        double maxPi = double.NegativeInfinity;
        for (int j = 0; j < m; j++) maxPi = Math.Max(maxPi, logits[j * n + index]);
        double piSum = 0;
        for (int j = 0; j < m; j++) piSum += Math.Exp(logits[j * n + index] - maxPi);
        double logPiNormaliser = maxPi + Math.Log(piSum);
        for (int j = 0; j < m; j++)
            terms[j] = logits[j * n + index] - logPiNormaliser
                + ComponentLogProbability(level, logits[(m + j) * n + index], logits[(2 * m + j) * n + index]).Log;
        return LogSumExp(terms);
    }

    /// <summary>
    /// <c>log p_m(level)</c> of one component with mean <paramref name="mean"/> and log scale
    /// <paramref name="logScale"/>, and its derivatives with respect to the mean and the log scale.
    /// </summary>
    private (double Log, double DMean, double DLogScale) ComponentLogProbability(int level, float mean,
        float logScale)
    {
        double s = Math.Clamp(logScale, MinLogScale, MaxLogScale);
        bool clamped = logScale < MinLogScale || logScale > MaxLogScale;
        double inverse = Math.Exp(-s), centred = Centre(level) - mean, h = HalfBin;
        double a = inverse * (centred + h), b = inverse * (centred - h);
        double log, da, db;
        if (level == 0)
        {
            log = a - Softplus(a);                // log σ(a)
            da = Sigmoid(-a);
            db = 0;
        }
        else if (level == Levels - 1)
        {
            log = -Softplus(b);                   // log (1 - σ(b))
            da = 0;
            db = -Sigmoid(b);
        }
        else
        {
            double gap = a - b;                   // 2h/e^s > 0
            double inverseExpm1 = 1 / double.ExpM1(gap);
            log = a - Softplus(a) - Softplus(b) + Math.Log(-double.ExpM1(-gap));
            da = Sigmoid(-a) + inverseExpm1;
            db = -Sigmoid(b) - inverseExpm1;
        }
        // a, b = e^{-s}(c ± h - μ): ∂/∂μ = -e^{-s}, ∂/∂s = -a, -b.
        double dMean = -inverse * (da + db);
        double dLogScale = clamped ? 0 : -(a * da + b * db);
        return (log, dMean, dLogScale);
    }

    public override void NllGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, float scale,
        Span<float> dLogits)
    {
        int m = Components;
        Span<double> weights = stackalloc double[m], terms = stackalloc double[m], dMean = stackalloc double[m],
            dLogScale = stackalloc double[m];
        for (int i = 0; i < n; i++)
        {
            int level = LevelOf(x[i]);
            double maxPi = double.NegativeInfinity;
            for (int j = 0; j < m; j++) maxPi = Math.Max(maxPi, logits[j * n + i]);
            double piSum = 0;
            for (int j = 0; j < m; j++) piSum += weights[j] = Math.Exp(logits[j * n + i] - maxPi);
            for (int j = 0; j < m; j++)
            {
                weights[j] /= piSum;
                var component = ComponentLogProbability(level, logits[(m + j) * n + i], logits[(2 * m + j) * n + i]);
                terms[j] = Math.Log(weights[j]) + component.Log;
                (dMean[j], dLogScale[j]) = (component.DMean, component.DLogScale);
            }
            double logP = LogSumExp(terms);
            for (int j = 0; j < m; j++)
            {
                // L = -log Σ_m w_m p_m: ∂L/∂π_m = w_m - r_m, ∂L/∂θ_m = -r_m ∂log p_m/∂θ_m, r_m the responsibility.
                double responsibility = Math.Exp(terms[j] - logP);
                dLogits[j * n + i] = (float)(scale * (weights[j] - responsibility));
                dLogits[(m + j) * n + i] = (float)(-scale * responsibility * dMean[j]);
                dLogits[(2 * m + j) * n + i] = (float)(-scale * responsibility * dLogScale[j]);
            }
        }
    }

    public override float Draw(SamplingStream stream, ReadOnlySpan<float> logits, int stride, int index)
    {
        int m = Components;
        double u = stream.NextSingle(), inverseTemperature = stream.InverseTemperature;
        Span<double> weights = stackalloc double[m], means = stackalloc double[m], inverses = stackalloc double[m];
        double maxPi = double.NegativeInfinity;
        for (int j = 0; j < m; j++) maxPi = Math.Max(maxPi, logits[j * stride + index] * inverseTemperature);
        double piSum = 0;
        for (int j = 0; j < m; j++)
        {
            piSum += weights[j] = Math.Exp(logits[j * stride + index] * inverseTemperature - maxPi);
            means[j] = logits[(m + j) * stride + index];
            // τ multiplies the scale: 1/(τ e^s).
            double s = Math.Clamp(logits[(2 * m + j) * stride + index], MinLogScale, MaxLogScale);
            inverses[j] = Math.Exp(-s) * inverseTemperature;
        }
        // The smallest level whose CDF (at the bin's upper edge) exceeds u; the last level takes the rest.
        int low = 0, high = Levels - 1;
        while (low < high)
        {
            int level = (low + high) / 2;
            double cdf = 0, edge = Centre(level) + HalfBin;
            for (int j = 0; j < m; j++) cdf += weights[j] * Sigmoid(inverses[j] * (edge - means[j]));
            if (u * piSum < cdf) high = level;
            else low = level + 1;
        }
        return low / (float)(Levels - 1);
    }

    /// <summary>
    /// Equal mixture logits, means at the M quantiles <c>(j + ½)/M</c> of the counted levels, and log scales of a
    /// quarter of the spacing of M equally spaced means (<c>ln(1/(2M))</c>): the marginal's shape, roughly.
    /// </summary>
    public override float[] MarginalLogits(double[] counts)
    {
        int m = Components;
        var result = new float[3 * m];
        double total = counts.Sum();
        for (int j = 0; j < m; j++)
        {
            double target = (j + 0.5) / m * total, running = 0;
            int level = 0;
            while (level < Levels - 1 && running + counts[level] < target) running += counts[level++];
            result[m + j] = total > 0 ? (float)Centre(level) : (float)(2.0 * (j + 0.5) / m - 1);
            result[2 * m + j] = (float)Math.Log(1.0 / (2 * m));
        }
        return result;
    }

    /// <summary>
    /// <c>(N, 3M, D)</c> logits and pixels <c>(N, D)</c> to <c>log p(x_i)</c> <c>(N, D)</c>, computed in double as
    /// <see cref="LogProbabilities"/> is (ONNX has no expm1: <c>1 - exp(b - a)</c> in double loses at most ~1e-11
    /// relative for the clamped scales).
    /// </summary>
    public override string ExportLogProbabilities(OnnxGraph graph, string logits, string pixels)
    {
        int m = Components;
        string z = graph.Cast(logits, OnnxType.Double);
        string pi = graph.Slice(z, 0, m, axis: 1), mean = graph.Slice(z, m, 2 * m, axis: 1);
        string logScale = graph.Op("Clip", [graph.Slice(z, 2 * m, 3 * m, axis: 1), DoubleScalar(graph, MinLogScale),
            DoubleScalar(graph, MaxLogScale)]);
        string levels = graph.Unsqueeze(ExportLevelOf(graph, pixels, Levels), 1); // (N, 1, D), float
        // c = 2k/(K-1) - 1, (N, 1, D)
        string centre = graph.Sub(graph.Mul(graph.Cast(levels, OnnxType.Double), DoubleScalar(graph,
            2.0 / (Levels - 1))), DoubleScalar(graph, 1));
        string inverse = graph.Exp(graph.Neg(logScale));
        string centred = graph.Sub(centre, mean);
        string a = graph.Mul(inverse, graph.Add(centred, DoubleScalar(graph, HalfBin)));
        string b = graph.Mul(inverse, graph.Sub(centred, DoubleScalar(graph, HalfBin)));
        string low = graph.Sub(a, graph.Softplus(a, DoubleScalar(graph, 1)));
        string high = graph.Neg(graph.Softplus(b, DoubleScalar(graph, 1)));
        string interior = graph.Add(graph.Sub(low, graph.Softplus(b, DoubleScalar(graph, 1))),
            graph.Log(graph.Sub(DoubleScalar(graph, 1), graph.Exp(graph.Sub(b, a)))));
        string component = graph.Where(graph.Equal(levels, graph.Scalar(0f)), low,
            graph.Where(graph.Equal(levels, graph.Scalar(Levels - 1)), high, interior)); // (N, M, D)
        string logMixture = graph.LogSoftmax(pi, 1);
        string logP = graph.LogSumExp(graph.Add(logMixture, component), 1); // (N, 1, D)
        return graph.Cast(graph.Squeeze(logP, 1), OnnxType.Float);
    }

    /// <summary>
    /// A double scalar (the graph's constants are float: 1/(K-1) keeps float precision, ~3e-8 relative, which moves a
    /// log-probability by ~3e-8 nats).
    /// </summary>
    private static string DoubleScalar(OnnxGraph graph, double value) =>
        graph.Cast(graph.Scalar((float)value), OnnxType.Double);

    private static double Softplus(double z) => Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z)));
    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    private static double LogSumExp(ReadOnlySpan<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (double v in values) max = Math.Max(max, v);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (double v in values) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
