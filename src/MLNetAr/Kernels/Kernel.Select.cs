using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>
    /// Keeps the entries whose degree is at most <paramref name="limit"/> (a row of a MADE degree mask applied to a
    /// weight row or its gradient): <c>y_i = degrees_i ≤ limit ? x_i : 0</c>, or with <paramref name="accumulate"/>
    /// <c>y_i += x_i</c> where <c>degrees_i ≤ limit</c> and <c>y_i</c> unchanged elsewhere.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void SelectByDegree(ReadOnlySpan<int> degrees, int limit, ReadOnlySpan<float> x, Span<float> y,
        bool accumulate)
    {
        if (degrees.Length != x.Length || y.Length != x.Length)
            throw new ArgumentException($"SelectByDegree needs spans of one length; got degrees {degrees.Length}, " +
                $"x {x.Length}, y {y.Length}.");
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref int deg = ref MemoryMarshal.GetReference(degrees);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            var limits = Vector256.Create(limit);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                nuint at = (nuint)i;
                Vector256<float> keep = Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref deg, at), limits)
                    .AsSingle();
                Vector256<float> value = Vector256.LoadUnsafe(ref xs, at);
                if (accumulate)
                {
                    Vector256<float> current = Vector256.LoadUnsafe(ref ys, at);
                    Vector256.ConditionalSelect(keep, current + value, current).StoreUnsafe(ref ys, at);
                }
                else (value & keep).StoreUnsafe(ref ys, at);
            }
        }
        for (; i < x.Length; i++)
        {
            if (degrees[i] <= limit) y[i] = accumulate ? y[i] + x[i] : x[i];
            else if (!accumulate) y[i] = 0f;
        }
    }
}
