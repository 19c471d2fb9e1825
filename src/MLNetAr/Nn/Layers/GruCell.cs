using System.Numerics.Tensors;

namespace MLNetAr.Nn.Layers;

/// <summary>
/// One time step of a GRU (Cho et al. 2014, PyTorch's formulation) for a batch, given the input projection
/// <c>[x_r | x_z | x_n] = W·u_t + b_W</c> and the recurrent projection <c>[h_r | h_z | h_n] = U·h_{t-1} + b_U</c>, both
/// <c>(B, 3H)</c>: <c>r = σ(x_r + h_r)</c>, <c>z = σ(x_z + h_z)</c>, <c>n = tanh(x_n + r ⊙ h_n)</c>,
/// <c>h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}</c>.
/// </summary>
internal static class GruCell
{
    /// <summary>Gate blocks per hidden unit.</summary>
    public const int Gates = 3;

    /// <summary>
    /// <c>(B, 3H) -> (B, H)</c>: replaces the input projection in <paramref name="gates"/> by <c>[r | z | n]</c> (kept,
    /// with the recurrent projection, for <see cref="Backward"/>) and writes h_t.
    /// </summary>
    public static void Forward(Span<float> gates, ReadOnlySpan<float> recurrent, ReadOnlySpan<float> hPrev,
        Span<float> h, int batch, int hidden)
    {
        for (int r = 0; r < batch; r++)
        {
            Span<float> row = gates.Slice(r * 3 * hidden, 3 * hidden);
            ReadOnlySpan<float> rec = recurrent.Slice(r * 3 * hidden, 3 * hidden);
            Span<float> rz = row[..(2 * hidden)], n = row.Slice(2 * hidden, hidden);
            TensorPrimitives.Add(rz, rec[..(2 * hidden)], rz);
            TensorPrimitives.Sigmoid(rz, rz);
            // n = tanh(x_n + r ⊙ h_n)
            TensorPrimitives.MultiplyAdd(row[..hidden], rec.Slice(2 * hidden, hidden), n, n);
            TensorPrimitives.Tanh(n, n);
            ReadOnlySpan<float> z = row.Slice(hidden, hidden), hp = hPrev.Slice(r * hidden, hidden);
            Span<float> hr = h.Slice(r * hidden, hidden);
            // h = n + z ⊙ (h_prev - n)
            TensorPrimitives.Subtract(hp, n, hr);
            TensorPrimitives.MultiplyAdd(z, hr, n, hr);
        }
    }

    /// <summary>
    /// Given <c>∂L/∂h_t</c>: the gradients of the input projection <c>(B, 3H)</c>, of the recurrent projection
    /// <c>(B, 3H)</c> and the direct part of <c>∂L/∂h_{t-1}</c> (<c>dh ⊙ z</c>; the caller adds <c>dRecurrent·U</c>).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> gates, ReadOnlySpan<float> recurrent, ReadOnlySpan<float> hPrev,
        ReadOnlySpan<float> dh,
        Span<float> dInput, Span<float> dRecurrent, Span<float> dhPrev, int batch, int hidden)
    {
        for (int row = 0; row < batch; row++)
        {
            int gb = row * 3 * hidden, hb = row * hidden;
            for (int k = 0; k < hidden; k++)
            {
                float r = gates[gb + k], z = gates[gb + hidden + k], n = gates[gb + 2 * hidden + k], d = dh[hb + k];
                float dnPre = d * (1f - z) * (1f - n * n);
                float drPre = dnPre * recurrent[gb + 2 * hidden + k] * r * (1f - r);
                float dzPre = d * (hPrev[hb + k] - n) * z * (1f - z);
                dInput[gb + k] = dRecurrent[gb + k] = drPre;
                dInput[gb + hidden + k] = dRecurrent[gb + hidden + k] = dzPre;
                dInput[gb + 2 * hidden + k] = dnPre;
                dRecurrent[gb + 2 * hidden + k] = dnPre * r;
                dhPrev[hb + k] = d * z;
            }
        }
    }
}
