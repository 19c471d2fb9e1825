using System.Numerics.Tensors;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>
    /// Stable <c>log Σ_i exp(x[i]) = m + log Σ_i exp(x[i] - m)</c> with <c>m = max_i x[i]</c>: finite for any finite
    /// inputs, however large or small. Returns -∞ for an empty span or when every input is -∞.
    /// </summary>
    public static float LogSumExp(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return float.NegativeInfinity;
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max) || float.IsNaN(max)) return max;
        double sum = 0;
        foreach (float v in x) sum += Math.Exp(v - max);
        return max + (float)Math.Log(sum);
    }
}
