using MLNetAr.Onnx;

namespace MLNetAr.Nn.Distributions;

/// <summary>
/// Pixels of K levels: <c>p(level k | z) = softmax(z)_k</c>, K logits per pixel laid out <c>(K, n)</c>.
/// </summary>
internal sealed class Categorical(int levels) : PixelDistribution(levels)
{
    public override int LogitsPerPixel => Levels;

    public override void LogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n,
        Span<float> destination)
    {
        for (int i = 0; i < n; i++) destination[i] = LogProbability(logits, n, i, LevelOf(x[i]));
    }

    public override float SumLogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, int start,
        int count)
    {
        double sum = 0;
        for (int i = start; i < start + count; i++) sum += LogProbability(logits, n, i, LevelOf(x[i]));
        return (float)sum;
    }

    public override void NllGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, float scale,
        Span<float> dLogits)
    {
        for (int i = 0; i < n; i++)
        {
            float max = float.NegativeInfinity;
            for (int k = 0; k < Levels; k++) max = MathF.Max(max, logits[k * n + i]);
            float sum = 0f;
            for (int k = 0; k < Levels; k++) sum += dLogits[k * n + i] = MathF.Exp(logits[k * n + i] - max);
            float inverse = scale / sum;
            for (int k = 0; k < Levels; k++) dLogits[k * n + i] *= inverse;
            dLogits[LevelOf(x[i]) * n + i] -= scale;
        }
    }

    public override float Draw(SamplingStream stream, ReadOnlySpan<float> logits, int stride, int index)
    {
        float u = stream.NextSingle(), inverseTemperature = stream.InverseTemperature;
        var (max, total) = SoftmaxNormaliser(logits, stride, index, inverseTemperature);
        float cumulative = 0f, target = u * total;
        for (int k = 0; k < Levels - 1; k++)
        {
            cumulative += MathF.Exp((logits[k * stride + index] - max) * inverseTemperature);
            if (target < cumulative) return k / (float)(Levels - 1);
        }
        return 1f;
    }

    public override float[] MarginalLogits(double[] counts)
    {
        double total = counts.Sum() + Levels;
        return counts.Select(c => (float)Math.Log((c + 1) / total)).ToArray();
    }

    public override string ExportLogProbabilities(OnnxGraph graph, string logits, string pixels)
    {
        string logProbabilities = graph.LogSoftmax(logits, 1); // (N, K, D)
        string levels = graph.Cast(ExportLevelOf(graph, pixels, Levels), OnnxType.Int64);
        string picked = graph.Op("GatherElements", [logProbabilities, graph.Unsqueeze(levels, 1)], n =>
            n.AddAttribute("axis", 1L));
        return graph.Squeeze(picked, 1); // (N, 1, D) -> (N, D)
    }

    /// <summary><c>log softmax(z)[level]</c> of pixel <paramref name="index"/> of logits <c>(K, n)</c>.</summary>
    private float LogProbability(ReadOnlySpan<float> logits, int n, int index, int level)
    {
        var (max, sum) = SoftmaxNormaliser(logits, n, index);
        return logits[level * n + index] - max - MathF.Log(sum);
    }

    /// <summary>
    /// The largest of pixel <paramref name="index"/>'s K logits (stride apart) and <c>Σ_k exp((z_k - max)·s)</c>, s
    /// being <paramref name="scale"/> (1/τ when drawing). Subtracting before scaling keeps the largest term at exactly
    /// exp(0) = 1 however large s is.
    /// </summary>
    private (float Max, float Sum) SoftmaxNormaliser(ReadOnlySpan<float> logits, int stride, int index,
        float scale = 1f)
    {
        float max = float.NegativeInfinity;
        for (int k = 0; k < Levels; k++) max = MathF.Max(max, logits[k * stride + index]);
        float sum = 0f;
        for (int k = 0; k < Levels; k++) sum += MathF.Exp((logits[k * stride + index] - max) * scale);
        return (max, sum);
    }
}
