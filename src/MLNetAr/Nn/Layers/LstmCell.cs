using System.Numerics.Tensors;
using MLNetAr.Kernels;

namespace MLNetAr.Nn.Layers;

/// <summary>
/// One time step of an LSTM (Hochreiter &amp; Schmidhuber 1997) for a batch, given the gate pre-activations
/// <c>[i | f | g | o] = W·u_t + b + U·h_{t-1}</c> <c>(B, 4H)</c>:
/// <c>c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)</c>, <c>h_t = σ(o) ⊙ tanh(c_t)</c>.
/// </summary>
/// <remarks>The products with W and U are the caller's (batched over all steps where possible); this is the elementwise
/// part.</remarks>
internal static class LstmCell
{
    /// <summary>Gate blocks per hidden unit.</summary>
    public const int Gates = 4;

    /// <summary>
    /// <c>(B, 4H) -> (B, H)</c>: replaces the pre-activations in <paramref name="gates"/> by the activated gates
    /// <c>[σ(i) | σ(f) | tanh(g) | σ(o)]</c> (kept for <see cref="Backward"/>) and writes c_t and h_t.
    /// </summary>
    public static void Forward(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h, int batch,
        int hidden)
    {
        for (int r = 0; r < batch; r++)
            Kernel.LstmCell(gates.Slice(r * 4 * hidden, 4 * hidden), cPrev.Slice(r * hidden, hidden),
                c.Slice(r * hidden, hidden), h.Slice(r * hidden, hidden));
    }

    /// <summary>
    /// Given <c>∂L/∂h_t</c> and <c>∂L/∂c_t</c> from later steps (<paramref name="dc"/>, overwritten with
    /// <c>∂L/∂c_{t-1}</c>): the pre-activation gradients <c>(B, 4H)</c>.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> c,
        ReadOnlySpan<float> dh,
        Span<float> dc, Span<float> dGates, int batch, int hidden)
    {
        for (int r = 0; r < batch; r++)
        {
            int gb = r * 4 * hidden, hb = r * hidden;
            for (int k = 0; k < hidden; k++)
            {
                float i = gates[gb + k], f = gates[gb + hidden + k], g = gates[gb + 2 * hidden + k],
                    o = gates[gb + 3 * hidden + k];
                float tc = MathF.Tanh(c[hb + k]), d = dh[hb + k];
                float dcTotal = dc[hb + k] + d * o * (1f - tc * tc);
                dGates[gb + k] = dcTotal * g * i * (1f - i);
                dGates[gb + hidden + k] = dcTotal * cPrev[hb + k] * f * (1f - f);
                dGates[gb + 2 * hidden + k] = dcTotal * i * (1f - g * g);
                dGates[gb + 3 * hidden + k] = d * tc * o * (1f - o);
                dc[hb + k] = dcTotal * f;
            }
        }
    }
}
