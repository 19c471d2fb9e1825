using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>A mask entry that keeps a value under <see cref="CopyShiftedMasked"/>: all 32 bits set.</summary>
    public static readonly float KeepMask = BitConverter.Int32BitsToSingle(-1);

    /// <summary>
    /// A masked, shifted copy (one row of an im2col matrix, for one kernel offset):
    /// <c>destination[i] = source[i + shift] &amp; mask[i]</c> bitwise, so a mask entry of <see cref="KeepMask"/>
    /// copies the value and 0 writes 0. Entries whose <c>i + shift</c> falls outside <paramref name="source"/> are 0
    /// and read nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="mask"/> is shorter than
    /// <paramref name="destination"/>.</exception>
    public static void CopyShiftedMasked(ReadOnlySpan<float> source, int shift, ReadOnlySpan<float> mask,
        Span<float> destination)
    {
        CheckMask(mask.Length, destination.Length);
        var (lo, hi) = ShiftedRange(source.Length, shift, destination.Length);
        destination[..lo].Clear();
        destination[hi..].Clear();
        // Indices stay inside every span: i + shift ∈ [0, source.Length) for i ∈ [lo, hi).
        ref float src = ref MemoryMarshal.GetReference(source);
        ref float keep = ref MemoryMarshal.GetReference(mask);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        int i = lo;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= hi - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.LoadUnsafe(ref src, (nuint)(i + shift)) & Vector256.LoadUnsafe(ref keep, (nuint)i))
                    .StoreUnsafe(ref dst, (nuint)i);
        for (; i < hi; i++) Unsafe.Add(ref dst, i) = And(Unsafe.Add(ref src, i + shift), Unsafe.Add(ref keep, i));
    }

    /// <summary>
    /// The adjoint of <see cref="CopyShiftedMasked"/>: <c>destination[i + shift] += source[i] &amp; mask[i]</c> for
    /// every i with <c>i + shift</c> inside <paramref name="destination"/>; nothing else is read or written.
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
