using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>A mask entry that keeps a value (all 32 bits set); 0 drops it.</summary>
    public static readonly float KeepMask = BitConverter.Int32BitsToSingle(-1);

    /// <summary>
    /// A masked, shifted accumulation (an im2col row added back onto its image, for one kernel offset):
    /// <c>destination[i + shift] += source[i] &amp; mask[i]</c> bitwise for every i with <c>i + shift</c> inside
    /// <paramref name="destination"/>, so a mask entry of <see cref="KeepMask"/> adds the value and 0 adds nothing.
    /// Nothing else is read or written.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="mask"/> is shorter than
    /// <paramref name="source"/>.</exception>
    public static void AddShiftedMasked(ReadOnlySpan<float> source, ReadOnlySpan<float> mask, int shift,
        Span<float> destination)
    {
        CheckMask(mask.Length, source.Length);
        var (lo, hi) = ShiftedRange(destination.Length, shift, source.Length);
        ref float src = ref MemoryMarshal.GetReference(source);
        ref float keep = ref MemoryMarshal.GetReference(mask);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        int i = lo;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= hi - Vector512<float>.Count; i += Vector512<float>.Count)
                (Vector512.LoadUnsafe(ref dst, (nuint)(i + shift)) +
                    (Vector512.LoadUnsafe(ref src, (nuint)i) & Vector512.LoadUnsafe(ref keep, (nuint)i)))
                    .StoreUnsafe(ref dst, (nuint)(i + shift));
        if (Vector256.IsHardwareAccelerated)
            for (; i <= hi - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.LoadUnsafe(ref dst, (nuint)(i + shift)) +
                    (Vector256.LoadUnsafe(ref src, (nuint)i) & Vector256.LoadUnsafe(ref keep, (nuint)i)))
                    .StoreUnsafe(ref dst, (nuint)(i + shift));
        for (; i < hi; i++) Unsafe.Add(ref dst, i + shift) += And(Unsafe.Add(ref src, i), Unsafe.Add(ref keep, i));
    }

    /// <summary>The indices i &lt; <paramref name="length"/> with <c>0 ≤ i + shift &lt; shiftedLength</c>.</summary>
    private static (int Lo, int Hi) ShiftedRange(int shiftedLength, int shift, int length)
    {
        int lo = (int)Math.Clamp(-(long)shift, 0, length);
        return (lo, (int)Math.Clamp((long)shiftedLength - shift, lo, length));
    }

    private static void CheckMask(int length, int needed)
    {
        if (length < needed)
            throw new ArgumentException($"'mask' holds {length} values; {needed} needed.", "mask");
    }

    private static float And(float value, float mask) =>
        BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value) & BitConverter.SingleToInt32Bits(mask));
}
