using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetAr.Nn.Layers;

/// <summary>
/// The gated activation unit of PixelCNN and WaveNet (van den Oord et al. 2016): <c>y = tanh(a) ⊙ σ(g)</c>, where a
/// and g are the two halves of a convolution's 2C output channels.
/// </summary>
internal static class GatedActivation
{
    /// <summary><c>y[i] = tanh(a[i]) · σ(g[i])</c>.</summary>
    public static void Forward(ReadOnlySpan<float> a, ReadOnlySpan<float> g, Span<float> y, Span<float> scratch)
    {
        Span<float> gate = scratch[..a.Length];
        TensorPrimitives.Tanh(a, y);
        TensorPrimitives.Sigmoid(g, gate);
        TensorPrimitives.Multiply(y, gate, y);
    }

    /// <summary>
    /// <c>da = dy · σ(g) · (1 - tanh²(a))</c>, <c>dg = dy · tanh(a) · σ(g) · (1 - σ(g))</c>, recomputing tanh and σ from
    /// the pre-activations (cheaper than keeping them). da and dg must not overlap the inputs.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> a, ReadOnlySpan<float> g, ReadOnlySpan<float> dy, Span<float> da, Span<float> dg)
    {
        TensorPrimitives.Tanh(a, da);
        TensorPrimitives.Sigmoid(g, dg);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var t = new Vector<float>(da[i..]);
                var s = new Vector<float>(dg[i..]);
                var d = new Vector<float>(dy[i..]);
                (d * s * (one - t * t)).CopyTo(da[i..]);
                (d * t * s * (one - s)).CopyTo(dg[i..]);
            }
        }
        for (; i < a.Length; i++)
        {
            float t = da[i], s = dg[i], d = dy[i];
            da[i] = d * s * (1f - t * t);
            dg[i] = d * t * s * (1f - s);
        }
    }
}
