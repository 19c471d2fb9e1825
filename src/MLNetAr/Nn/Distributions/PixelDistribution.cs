using MLNetAr.Kernels;
using MLNetAr.Onnx;

namespace MLNetAr.Nn.Distributions;

/// <summary>
/// The distribution of a pixel given its logits, for n pixels at a time: Bernoulli for K = 2 levels (one logit per
/// pixel, logits <c>(n)</c>), categorical over K levels (K logits per pixel, laid out <c>(K, n)</c>) or a mixture of
/// M discretised logistics (3M outputs per pixel, <c>(3M, n)</c>). A pixel's value is <c>level / (K - 1)</c>. It owns
/// the logit layout, the log-likelihood, its gradient, drawing and the marginal initialisation, so that no model
/// branches on the number of levels.
/// </summary>
internal abstract class PixelDistribution
{
    protected PixelDistribution(int levels) => Levels = levels;

    /// <summary>
    /// The distribution of pixels with <paramref name="levels"/> levels: Bernoulli for 2, otherwise a softmax over
    /// the levels, or a mixture of <paramref name="mixtureComponents"/> discretised logistics when it is positive.
    /// </summary>
    public static PixelDistribution For(int levels, int mixtureComponents = 0) =>
        levels == 2 && mixtureComponents == 0 ? Bernoulli.Instance
            : mixtureComponents > 0 ? new DiscretizedLogisticMixture(levels, mixtureComponents)
            : new Categorical(levels);

    /// <summary>Number of pixel levels K.</summary>
    public int Levels { get; }

    /// <summary>Outputs per pixel: 1 for Bernoulli, K for categorical, 3M for a mixture.</summary>
    public abstract int LogitsPerPixel { get; }

    /// <summary>
    /// The level <c>round(v·(K - 1))</c> of a pixel value v in [0, 1] (exact for encoded values <c>k / (K - 1)</c>).
    /// </summary>
    public static int LevelOf(float value, int levels) => (int)MathF.Round(value * (levels - 1));

    /// <summary>
    /// <see cref="LevelOf(float, int)"/> as ONNX nodes, element-wise and as float (ONNX's Round is half-to-even, as
    /// MathF.Round).
    /// </summary>
    public static string ExportLevelOf(OnnxGraph graph, string values, int levels) =>
        graph.Round(graph.Mul(values, graph.Scalar(levels - 1)));

    /// <summary>
    /// <c>(B, L·D) -> (L, B·D)</c>: logits computed row by row, each row laid out <c>[k·D + i]</c> (as a dense layer
    /// with L·D outputs makes them), to the distribution's layout <c>(L, n)</c> with n = B·D pixels.
    /// </summary>
    public static void RowsToLevelPlanes(ReadOnlySpan<float> rows, int batch, int d, int logitsPerPixel,
        Span<float> planes)
    {
        for (int r = 0; r < batch; r++)
            for (int k = 0; k < logitsPerPixel; k++)
                rows.Slice((r * logitsPerPixel + k) * d, d).CopyTo(planes.Slice((k * batch + r) * d, d));
    }

    /// <summary><c>(L, B·D) -> (B, L·D)</c>: the inverse of <see cref="RowsToLevelPlanes"/>.</summary>
    public static void LevelPlanesToRows(ReadOnlySpan<float> planes, int batch, int d, int logitsPerPixel,
        Span<float> rows)
    {
        for (int r = 0; r < batch; r++)
            for (int k = 0; k < logitsPerPixel; k++)
                planes.Slice((k * batch + r) * d, d).CopyTo(rows.Slice((r * logitsPerPixel + k) * d, d));
    }

    /// <summary>The level of a pixel value, <see cref="LevelOf(float, int)"/>.</summary>
    public int LevelOf(float value) => LevelOf(value, Levels);

    /// <summary>Per-pixel <c>log p(x_i | z_i)</c> of n pixels <c>(n)</c>.</summary>
    public abstract void LogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n,
        Span<float> destination);

    /// <summary>
    /// <c>Σ log p(x_i | z_i)</c> over pixels <c>[start, start + count)</c> of the n whose logits are given.
    /// </summary>
    public abstract float SumLogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, int start,
        int count);

    /// <summary>
    /// <c>∂(scale · NLL)/∂logits</c> of n pixels: <c>scale·(σ(z) - x)</c> for Bernoulli,
    /// <c>scale·(softmax(z) - onehot(level))</c> for categorical pixels.
    /// </summary>
    public abstract void NllGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, float scale,
        Span<float> dLogits);

    /// <summary>
    /// Draws pixel <paramref name="index"/> of logits with <paramref name="stride"/> between levels, with one uniform
    /// of <paramref name="stream"/>: Bernoulli <c>u &lt; σ(z/τ)</c>, or the level whose cumulative probability under
    /// <c>softmax(z/τ)</c> first exceeds u, τ being the stream's temperature. Returns the pixel value.
    /// </summary>
    public abstract float Draw(SamplingStream stream, ReadOnlySpan<float> logits, int stride, int index);

    /// <summary>
    /// Output biases that start a model at a pixel's marginal distribution, from <paramref name="counts"/> (pixels at
    /// each level): the smoothed log-odds of 1 for Bernoulli, the smoothed log-frequency of each level for categorical
    /// pixels.
    /// </summary>
    public abstract float[] MarginalLogits(double[] counts);

    /// <summary>
    /// <see cref="LogProbabilities"/> as ONNX nodes: logits <c>(N, D)</c> (Bernoulli) or <c>(N, K, D)</c> and encoded
    /// pixels <c>(N, D)</c> to <c>(N, D)</c>.
    /// </summary>
    public abstract string ExportLogProbabilities(OnnxGraph graph, string logits, string pixels);
}
