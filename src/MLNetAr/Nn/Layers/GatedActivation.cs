using MLNetAr.Kernels;
using MLNetAr.Onnx;

namespace MLNetAr.Nn.Layers;

/// <summary>
/// The gated activation unit of PixelCNN and WaveNet (van den Oord et al. 2016): <c>y = tanh(a) ⊙ σ(g)</c>, where a
/// and g are the two halves of a convolution's 2C output channels.
/// </summary>
/// <remarks>
/// The arithmetic is <see cref="Kernel.GatedTanhSigmoid"/> and its gradient: one fused SIMD pass whose result for a
/// value does not depend on where it sits in the span, so cached sampling reproduces the full pass bit for bit.
/// </remarks>
internal static class GatedActivation
{
    /// <summary><c>(N, 2C, ...) -> (N, C, ...)</c>: <c>tanh(pre[:, :C]) ⊙ σ(pre[:, C:])</c> as ONNX nodes.</summary>
    public static string ExportOnnx(OnnxGraph graph, string pre, int channels) =>
        graph.Mul(graph.Tanh(graph.Slice(pre, 0, channels, axis: 1)),
            graph.Sigmoid(graph.Slice(pre, channels, 2 * channels, axis: 1)));

    /// <summary><c>y[i] = tanh(a[i]) · σ(g[i])</c>.</summary>
    public static void Forward(ReadOnlySpan<float> a, ReadOnlySpan<float> g, Span<float> y) =>
        Kernel.GatedTanhSigmoid(a, g, y);

    /// <summary>
    /// <c>da = dy · σ(g) · (1 − tanh²(a))</c>, <c>dg = dy · tanh(a) · σ(g) · (1 − σ(g))</c>.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> a, ReadOnlySpan<float> g, ReadOnlySpan<float> dy, Span<float> da,
        Span<float> dg) => Kernel.GatedTanhSigmoidBackward(a, g, dy, da, dg);
}
