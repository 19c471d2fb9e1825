using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>
    /// The elementwise part of one LSTM step for one row, fused into one pass: given the gate pre-activations
    /// <c>[i | f | g | o]</c> <c>(4H)</c>, replaces them by <c>[σ(i) | σ(f) | tanh(g) | σ(o)]</c> and writes
    /// <c>c = σ(f) ⊙ c_prev + σ(i) ⊙ tanh(g)</c> and <c>h = σ(o) ⊙ tanh(c)</c> <c>(H)</c>, with
    /// <c>σ(x) = 1 / (1 + e^{-x})</c> and <c>tanh(x) = 2σ(2x) - 1</c>. One pass instead of eight span operations per
    /// row: a pixel RNN takes hundreds of steps on small H, where the per-call cost dominated.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void LstmCell(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h)
    {
        int hidden = h.Length;
        if (gates.Length < 4 * hidden || cPrev.Length < hidden || c.Length < hidden)
            throw new ArgumentException($"An LSTM cell of {hidden} units needs {4 * hidden} gate values and " +
                $"{hidden} cell values.");
        ref float gi = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(gates);
        ref float gf = ref Unsafe.Add(ref gi, hidden);
        ref float gg = ref Unsafe.Add(ref gi, 2 * hidden);
        ref float go = ref Unsafe.Add(ref gi, 3 * hidden);
        ref float cp = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(cPrev);
        ref float cc = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(c);
        ref float hh = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(h);
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; k <= hidden - Vector256<float>.Count; k += Vector256<float>.Count)
            {
                nuint at = (nuint)k;
                Vector256<float> i = Sigmoid(Vector256.LoadUnsafe(ref gi, at));
                Vector256<float> f = Sigmoid(Vector256.LoadUnsafe(ref gf, at));
                Vector256<float> g = Tanh(Vector256.LoadUnsafe(ref gg, at));
                Vector256<float> o = Sigmoid(Vector256.LoadUnsafe(ref go, at));
                Vector256<float> cell = Vector256.FusedMultiplyAdd(f, Vector256.LoadUnsafe(ref cp, at), i * g);
                i.StoreUnsafe(ref gi, at);
                f.StoreUnsafe(ref gf, at);
                g.StoreUnsafe(ref gg, at);
                o.StoreUnsafe(ref go, at);
                cell.StoreUnsafe(ref cc, at);
                (o * Tanh(cell)).StoreUnsafe(ref hh, at);
            }
        }
        for (; k < hidden; k++)
        {
            float i = Sigmoid(Unsafe.Add(ref gi, k)), f = Sigmoid(Unsafe.Add(ref gf, k));
            float g = 2f * Sigmoid(2f * Unsafe.Add(ref gg, k)) - 1f, o = Sigmoid(Unsafe.Add(ref go, k));
            float cell = MathF.FusedMultiplyAdd(f, Unsafe.Add(ref cp, k), i * g);
            (Unsafe.Add(ref gi, k), Unsafe.Add(ref gf, k), Unsafe.Add(ref gg, k), Unsafe.Add(ref go, k)) = (i, f, g, o);
            Unsafe.Add(ref cc, k) = cell;
            Unsafe.Add(ref hh, k) = o * (2f * Sigmoid(2f * cell) - 1f);
        }
    }

    /// <summary><c>σ(x) = 1 / (1 + e^{-x})</c> lane-wise, with the FMA <see cref="Exp(Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x) =>
        Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <summary><c>tanh(x) = 2σ(2x) - 1</c> lane-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh(Vector256<float> x) =>
        Vector256.Create(2f) * Sigmoid(x + x) - Vector256<float>.One;
}
