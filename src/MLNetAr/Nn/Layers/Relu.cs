using System.Numerics.Tensors;

namespace MLNetAr.Nn.Layers;

/// <summary>Rectified linear unit: <c>y = max(x, 0)</c>, elementwise.</summary>
internal static class Relu
{
    /// <summary><c>y[i] = max(x[i], 0)</c>.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary>
    /// <c>dx[i] = dy[i] · [y[i] &gt; 0]</c>, from the layer's output y (in place allowed: dx may be dy).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < y.Length; i++) dx[i] = y[i] > 0f ? dy[i] : 0f;
    }
}
