using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>
    /// The L1 penalty's subgradient, added in place: <c>g += λ·sign(w)</c> with <c>sign(0) = 0</c>, so weights that
    /// are exactly zero (e.g. FVSBN's structural zeros) get no push.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void AddL1Subgradient(ReadOnlySpan<float> weights, float lambda, Span<float> gradient)
    {
        if (gradient.Length != weights.Length)
            throw new ArgumentException("L1: weights and gradient must have the same length.", nameof(gradient));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float w = ref MemoryMarshal.GetReference(weights);
            ref float g = ref MemoryMarshal.GetReference(gradient);
            var plus = Vector256.Create(lambda);
            var minus = Vector256.Create(-lambda);
            for (; i <= weights.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                nuint o = (nuint)i;
                Vector256<float> wi = Vector256.LoadUnsafe(ref w, o);
                Vector256<float> push = (Vector256.GreaterThan(wi, Vector256<float>.Zero) & plus)
                    | (Vector256.LessThan(wi, Vector256<float>.Zero) & minus);
                (Vector256.LoadUnsafe(ref g, o) + push).StoreUnsafe(ref g, o);
            }
        }
        for (; i < weights.Length; i++)
            gradient[i] += weights[i] > 0f ? lambda : weights[i] < 0f ? -lambda : 0f;
    }

    /// <summary>
    /// One Adam step (Kingma &amp; Ba 2015) with bias correction, in place:
    /// <c>m = β₁m + (1-β₁)g; v = β₂v + (1-β₂)g²; w -= lr · (m / (1-β₁ᵗ)) / (sqrt(v / (1-β₂ᵗ)) + ε)</c>.
    /// </summary>
    /// <param name="weights">Parameters, updated in place.</param>
    /// <param name="gradient">Gradient of the loss with respect to <paramref name="weights"/>.</param>
    /// <param name="m">First-moment estimate, updated in place.</param>
    /// <param name="v">Second-moment estimate, updated in place.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="step">Step number t, starting at 1.</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is below 1.</exception>
    public static void AdamStep(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v,
        float learningRate, float beta1, float beta2, float epsilon, int step)
    {
        if (gradient.Length != weights.Length || m.Length != weights.Length || v.Length != weights.Length)
            throw new ArgumentException("Adam: weights, gradient and moment buffers must have the same length.",
                nameof(gradient));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), "Adam step numbers start at 1.");

        // Fold both bias corrections into the step size and epsilon (the form PyTorch uses).
        float correction1 = 1f - MathF.Pow(beta1, step);
        float correction2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        float stepSize = learningRate / correction1;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float w = ref MemoryMarshal.GetReference(weights);
            ref float g = ref MemoryMarshal.GetReference(gradient);
            ref float mm = ref MemoryMarshal.GetReference(m);
            ref float vv = ref MemoryMarshal.GetReference(v);
            var b1 = Vector256.Create(beta1); var b1c = Vector256.Create(1f - beta1);
            var b2 = Vector256.Create(beta2); var b2c = Vector256.Create(1f - beta2);
            var c2 = Vector256.Create(correction2Sqrt); var eps = Vector256.Create(epsilon);
            var lr = Vector256.Create(stepSize);
            for (; i <= weights.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                nuint o = (nuint)i;
                Vector256<float> gi = Vector256.LoadUnsafe(ref g, o);
                Vector256<float> mi = b1 * Vector256.LoadUnsafe(ref mm, o) + b1c * gi;
                Vector256<float> vi = b2 * Vector256.LoadUnsafe(ref vv, o) + b2c * gi * gi;
                mi.StoreUnsafe(ref mm, o);
                vi.StoreUnsafe(ref vv, o);
                (Vector256.LoadUnsafe(ref w, o) - lr * mi / (Vector256.Sqrt(vi) / c2 + eps)).StoreUnsafe(ref w, o);
            }
        }
        for (; i < weights.Length; i++)
        {
            float gi = gradient[i];
            m[i] = beta1 * m[i] + (1f - beta1) * gi;
            v[i] = beta2 * v[i] + (1f - beta2) * gi * gi;
            weights[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / correction2Sqrt + epsilon);
        }
    }

    /// <summary>
    /// One Adagrad step (Duchi et al. 2011), in place: <c>s += g²; w -= lr · g / (sqrt(s) + ε)</c>.
    /// </summary>
    /// <param name="weights">Parameters, updated in place.</param>
    /// <param name="gradient">Gradient of the loss with respect to <paramref name="weights"/>.</param>
    /// <param name="squares">Running sum of squared gradients, updated in place.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="epsilon">ε.</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void AdagradStep(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> squares,
        float learningRate, float epsilon)
    {
        if (gradient.Length != weights.Length || squares.Length != weights.Length)
            throw new ArgumentException("Adagrad: weights, gradient and squared-gradient sums must have the same " +
                "length.", nameof(gradient));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float w = ref MemoryMarshal.GetReference(weights);
            ref float g = ref MemoryMarshal.GetReference(gradient);
            ref float ss = ref MemoryMarshal.GetReference(squares);
            var lr = Vector256.Create(learningRate); var eps = Vector256.Create(epsilon);
            for (; i <= weights.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                nuint o = (nuint)i;
                Vector256<float> gi = Vector256.LoadUnsafe(ref g, o);
                Vector256<float> si = Vector256.LoadUnsafe(ref ss, o) + gi * gi;
                si.StoreUnsafe(ref ss, o);
                (Vector256.LoadUnsafe(ref w, o) - lr * gi / (Vector256.Sqrt(si) + eps)).StoreUnsafe(ref w, o);
            }
        }
        for (; i < weights.Length; i++)
        {
            float gi = gradient[i];
            squares[i] += gi * gi;
            weights[i] -= learningRate * gi / (MathF.Sqrt(squares[i]) + epsilon);
        }
    }

    /// <summary>
    /// One step of SGD with (heavy-ball) momentum, in the form PyTorch uses, in place:
    /// <c>u = μ·u + g; w -= lr · u</c> (μ = 0 is plain SGD).
    /// </summary>
    /// <param name="weights">Parameters, updated in place.</param>
    /// <param name="gradient">Gradient of the loss with respect to <paramref name="weights"/>.</param>
    /// <param name="velocity">Momentum buffer u, updated in place.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="momentum">μ in [0, 1).</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void MomentumStep(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> velocity,
        float learningRate, float momentum)
    {
        if (gradient.Length != weights.Length || velocity.Length != weights.Length)
            throw new ArgumentException("SGD: weights, gradient and velocity must have the same length.",
                nameof(gradient));
        // u = μu + g, then w = w - lr·u: two fused vector passes.
        TensorPrimitives.MultiplyAdd(velocity, momentum, gradient, velocity);
        TensorPrimitives.MultiplyAdd(velocity, -learningRate, weights, weights);
    }
}
