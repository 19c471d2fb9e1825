using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>
    /// Numerically stable softplus: <c>destination[i] = log(1 + exp(x[i])) = max(x[i], 0) + log(1 + exp(-|x[i]|))</c>.
    /// Finite for every finite input (no overflow for large |x|).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than
    /// <paramref name="x"/>.</exception>
    public static void Softplus(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckDestination(x.Length, destination.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float src = ref MemoryMarshal.GetReference(x);
            ref float dst = ref MemoryMarshal.GetReference(destination);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                Softplus(Vector256.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
        }
        for (; i < x.Length; i++) destination[i] = Softplus(x[i]);
    }

    /// <summary>Stable log-sigmoid: <c>destination[i] = log σ(x[i]) = -softplus(-x[i])</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than
    /// <paramref name="x"/>.</exception>
    public static void LogSigmoid(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckDestination(x.Length, destination.Length);
        TensorPrimitives.Negate(x, destination[..x.Length]);
        Softplus(destination[..x.Length], destination);
        TensorPrimitives.Negate(destination[..x.Length], destination);
    }

    /// <summary>Logistic sigmoid: <c>destination[i] = 1 / (1 + exp(-x[i]))</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than
    /// <paramref name="x"/>.</exception>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckDestination(x.Length, destination.Length);
        TensorPrimitives.Sigmoid(x, destination[..x.Length]);
    }

    /// <summary>
    /// Bernoulli log-likelihood of binary targets under logits:
    /// <c>Σ_i x[i]·log σ(z[i]) + (1 - x[i])·log σ(-z[i]) = Σ_i x[i]·z[i] - softplus(z[i])</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static float BernoulliLogLikelihood(ReadOnlySpan<float> logits, ReadOnlySpan<float> x)
    {
        if (logits.Length != x.Length)
            throw new ArgumentException($"'{nameof(logits)}' has {logits.Length} values but '{nameof(x)}' has " +
                $"{x.Length}.", nameof(x));
        int i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && logits.Length >= Vector256<float>.Count)
        {
            ref float z = ref MemoryMarshal.GetReference(logits);
            ref float t = ref MemoryMarshal.GetReference(x);
            // Terms in float, running sums in double: a float sum of an image's ~1000 nats drifts by ~1e-3 nats.
            Vector256<double> low = Vector256<double>.Zero, high = Vector256<double>.Zero;
            for (; i <= logits.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> zi = Vector256.LoadUnsafe(ref z, (nuint)i);
                var (termsLow, termsHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref t, (nuint)i) * zi - Softplus(zi));
                low += termsLow;
                high += termsHigh;
            }
            sum = Vector256.Sum(low + high);
        }
        for (; i < logits.Length; i++) sum += x[i] * logits[i] - Softplus(logits[i]);
        return (float)sum;
    }

    /// <summary>
    /// Gradient of the Bernoulli negative log-likelihood with respect to the logits:
    /// <c>destination[i] = scale · (σ(z[i]) - x[i])</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length or <paramref name="destination"/> is too
    /// short.</exception>
    public static void BernoulliNllGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, float scale,
        Span<float> destination)
    {
        if (logits.Length != x.Length)
            throw new ArgumentException($"'{nameof(logits)}' has {logits.Length} values but '{nameof(x)}' has " +
                $"{x.Length}.", nameof(x));
        CheckDestination(logits.Length, destination.Length);
        Span<float> d = destination[..logits.Length];
        TensorPrimitives.Sigmoid(logits, d);
        TensorPrimitives.Subtract(d, x, d);
        if (scale != 1f) TensorPrimitives.Multiply(d, scale, d);
    }

    /// <summary>Scalar stable softplus, <c>max(x, 0) + log(1 + exp(-|x|))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Softplus(float x) => MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));

    /// <summary>Scalar logistic sigmoid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Softplus(Vector256<float> x) =>
        // exp(-|x|) ∈ (0, 1] from the FMA kernel below (several times faster than Vector256.Exp here, relative error
        // ≈ 2e-7, and clamped so it never produces the subnormals that stall the following add).
        Vector256.Max(x, Vector256<float>.Zero) + Vector256.Log(Vector256<float>.One + Exp(-Vector256.Abs(x)));

    /// <summary>
    /// <c>exp(x)</c> lane-wise for x clamped to [-87, 87] (no overflow, no denormals): range reduction
    /// <c>x = n·ln 2 + r</c>, |r| ≤ ln 2 / 2, then Cephes' degree-6 polynomial for <c>exp(r)</c> and <c>2ⁿ</c> built in
    /// the exponent bits. Relative error ≈ 2e-7. Fused multiply-adds throughout, so every caller gets the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-87f)), Vector256.Create(87f));
        Vector256<float> n = Vector256.Floor(Vector256.FusedMultiplyAdd(x, Vector256.Create(1.44269504088896341f),
            Vector256.Create(0.5f)));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        Vector256<float> p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        Vector256<float> scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127),
            23).AsSingle();
        return p * scale;
    }

    /// <summary><see cref="Exp(Vector256{float})"/> 16 wide: the same lane arithmetic, so the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-87f)), Vector512.Create(87f));
        Vector512<float> n = Vector512.Floor(Vector512.FusedMultiplyAdd(x, Vector512.Create(1.44269504088896341f),
            Vector512.Create(0.5f)));
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        Vector512<float> p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        Vector512<float> scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127),
            23).AsSingle();
        return p * scale;
    }

    /// <summary>
    /// Sets every value with <c>|x| &lt; 1e-30</c> to 0. Gradients carried back through hundreds of recurrent steps
    /// shrink geometrically into the subnormal range, where every multiply costs a microcode assist; values that small
    /// cannot change any weight update.
    /// </summary>
    public static void FlushTinyToZero(Span<float> x)
    {
        int i = 0;
        ref float start = ref MemoryMarshal.GetReference(x);
        Vector256<float> limit = Vector256.Create(1e-30f);
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> v = Vector256.LoadUnsafe(ref start, (nuint)i);
            Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(v), limit), Vector256<float>.Zero,
                v).StoreUnsafe(ref start, (nuint)i);
        }
        for (; i < x.Length; i++) if (MathF.Abs(x[i]) < 1e-30f) x[i] = 0f;
    }

    private static void CheckDestination(int needed, int available)
    {
        if (available < needed)
            throw new ArgumentException($"Destination is too short: {available} values for {needed} inputs.",
                "destination");
    }

    /// <summary>
    /// Back-propagates a scalar through a weight row and an activation whose slope is read from its output:
    /// <c>carry_i += δ · w_i · act'(h_i)</c>, with <c>act' = h(1 − h)</c> for the sigmoid and <c>[h &gt; 0]</c> for
    /// ReLU (NADE's hidden-layer gradient, one pixel at a time).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void AccumulateThroughActivation(float delta, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> activations, Span<float> carry, bool sigmoid)
    {
        int i = 0, h = activations.Length;
        if (weights.Length != h || carry.Length != h)
            throw new ArgumentException($"AccumulateThroughActivation needs spans of one length; got weights " +
                $"{weights.Length}, activations {h}, carry {carry.Length}.");
        if (Vector256.IsHardwareAccelerated)
        {
            ref float rw = ref MemoryMarshal.GetReference(weights);
            ref float rh = ref MemoryMarshal.GetReference(activations);
            ref float rc = ref MemoryMarshal.GetReference(carry);
            var d8 = Vector256.Create(delta);
            for (; i <= h - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                nuint o = (nuint)i;
                Vector256<float> hv = Vector256.LoadUnsafe(ref rh, o);
                Vector256<float> slope = sigmoid
                    ? hv * (Vector256<float>.One - hv)
                    : Vector256.ConditionalSelect(Vector256.GreaterThan(hv, Vector256<float>.Zero),
                        Vector256<float>.One, Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref rc, o) + d8 * Vector256.LoadUnsafe(ref rw, o) * slope).StoreUnsafe(ref rc, o);
            }
        }
        for (; i < h; i++)
        {
            float slope = sigmoid ? activations[i] * (1f - activations[i]) : activations[i] > 0f ? 1f : 0f;
            carry[i] += delta * weights[i] * slope;
        }
    }
}
