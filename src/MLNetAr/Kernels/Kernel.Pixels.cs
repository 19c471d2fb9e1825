using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>
    /// Whether every value is in [0, 1], or with <paramref name="zeroOrOne"/> exactly 0 or 1 (−0 counts as 0); false
    /// when any is NaN. The check every input row passes before it is encoded, on the read-ahead thread.
    /// </summary>
    public static bool AllPixelsValid(ReadOnlySpan<float> values, bool zeroOrOne)
    {
        int i = 0;
        Vector256<float> valid = Vector256<float>.AllBitsSet;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float start = ref MemoryMarshal.GetReference(values);
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref start, (nuint)i);
                valid &= zeroOrOne
                    ? Vector256.Equals(v, Vector256<float>.Zero) | Vector256.Equals(v, Vector256<float>.One)
                    : Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero)
                        & Vector256.LessThanOrEqual(v, Vector256<float>.One);
            }
        }
        for (; i < values.Length; i++)
            if (zeroOrOne ? values[i] != 0f && values[i] != 1f : !(values[i] >= 0f && values[i] <= 1f)) return false;
        // Lane by lane as bits: AllBitsSet is a NaN as a float, so a float comparison with it is never equal.
        return Vector256.ExtractMostSignificantBits(valid) == (1u << Vector256<float>.Count) - 1;
    }

    /// <summary>
    /// <c>values_i = values_i &gt; threshold ? 1 : 0</c> in place (+0, never −0): binarisation at a threshold, and with
    /// ½ the canonical form of values already known to be 0 or 1.
    /// </summary>
    public static void Threshold(Span<float> values, float threshold)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float start = ref MemoryMarshal.GetReference(values);
            Vector256<float> limit = Vector256.Create(threshold);
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref start, (nuint)i);
                (Vector256.GreaterThan(v, limit) & Vector256<float>.One).StoreUnsafe(ref start, (nuint)i);
            }
        }
        for (; i < values.Length; i++) values[i] = values[i] > threshold ? 1f : 0f;
    }
}
