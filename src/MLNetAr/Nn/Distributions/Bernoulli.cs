using MLNetAr.Kernels;
using MLNetAr.Onnx;

namespace MLNetAr.Nn.Distributions;

/// <summary>Binary pixels: <c>p(x = 1 | z) = σ(z)</c>, one logit per pixel.</summary>
internal sealed class Bernoulli : PixelDistribution
{
    public static readonly Bernoulli Instance = new();

    private Bernoulli() : base(2)
    {
    }

    public override int LogitsPerPixel => 1;

    /// <summary><c>x·z - softplus(z)</c>: <c>log σ(z)</c> for x = 1, <c>log σ(-z)</c> for x = 0.</summary>
    public override void LogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n,
        Span<float> destination)
    {
        Kernel.Softplus(logits[..n], destination[..n]);
        for (int i = 0; i < n; i++) destination[i] = x[i] * logits[i] - destination[i];
    }

    public override float SumLogProbabilities(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, int start,
        int count) =>
        Kernel.BernoulliLogLikelihood(logits.Slice(start, count), x.Slice(start, count));

    public override void NllGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int n, float scale,
        Span<float> dLogits) =>
        Kernel.BernoulliNllGradient(logits[..n], x[..n], scale, dLogits[..n]);

    public override float Draw(SamplingStream stream, ReadOnlySpan<float> logits, int stride, int index) =>
        Draw(stream, logits[index]);

    /// <summary>One step of the random stream: <c>1</c> if a uniform draw falls below <c>σ(logit/τ)</c>.</summary>
    public static float Draw(SamplingStream stream, float logit) =>
        stream.NextSingle() < Kernel.Sigmoid(logit * stream.InverseTemperature) ? 1f : 0f;

    public override float[] MarginalLogits(double[] counts) => [(float)Math.Log((counts[1] + 1) / (counts[0] + 1))];

    public override string ExportLogProbabilities(OnnxGraph graph, string logits, string pixels) =>
        graph.Sub(graph.Mul(pixels, logits), graph.Softplus(logits));
}
