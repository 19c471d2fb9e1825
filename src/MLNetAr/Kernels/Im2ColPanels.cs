using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetAr.Kernels;

/// <summary>
/// The shape of a convolution's im2col matrix over a set of kernel offsets ("taps"), for images of
/// <see cref="Pixels"/> positions: row r = (c, t) reads input channel c shifted by tap <c>RowTaps[r]</c>, and
/// <c>Masks[t·P + p]</c> (all bits set, or 0) says whether tap t of pixel p lands inside the image.
/// </summary>
internal sealed class Im2ColGeometry(int pixels, int[] rowTaps, float[] masks)
{
    public int Pixels { get; } = pixels;
    public int[] RowTaps { get; } = rowTaps;
    public float[] Masks { get; } = masks;
    /// <summary>Rows of the im2col matrix: <c>C_in·T</c>.</summary>
    public int PatchSize => RowTaps.Length;
}

/// <summary>
/// Per im2col row (c, t), for inputs of n positions: <c>c·n + offset_t</c>, the index in x of col[(c, t), q] for
/// the first image's column q, minus q; and the least and greatest of these.
/// </summary>
internal sealed record Im2ColRowStarts(int N, long[] Starts, long Min, long Max);

/// <summary>
/// A group's im2col matrix <c>(C_in·T, G·P)</c> read straight from x, never stored:
/// <c>col[(c, t), q] = x[c, first + q + offset_t]</c> where the tap lands inside the image, else 0. Row r reads x
/// from <see cref="Start"/>(r) and its mask from <see cref="Mask"/>(r); a column q is pixel
/// <c>(first + q) mod P</c> of its image.
/// </summary>
internal sealed unsafe class Im2ColGroup(Im2ColGeometry geometry, Im2ColRowStarts starts, float* x, int xLength,
    int first, int width)
{
    public readonly int Width = width, Pixels = geometry.Pixels;

    /// <summary>Index in x of col[row, 0] (before masking; may lie outside x).</summary>
    public long Start(int row) => starts.Starts[row] + first;

    /// <summary>
    /// Whether columns <c>[q, q + count)</c> lie in one image and every row's reads of them inside x, so that
    /// <see cref="Load16"/> may read them.
    /// </summary>
    public bool Inside(int q, int pixel, int count) => pixel + count <= Pixels && ReadsInside(q, count);

    /// <summary>Whether every row's reads of columns <c>[q, q + count)</c> lie inside x.</summary>
    public bool ReadsInside(int q, int count) => q + count <= Width && starts.Min + first + q >= 0 &&
        starts.Max + first + q + count <= xLength;

    /// <summary>col[row, q..q+16), when <see cref="Inside"/>(q, pixel, 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load16(int row, float* masks, int q, int pixel, float* destination)
    {
        // Lanes the mask drops may read a neighbouring row or image: inside x, and cleared.
        float* from = x + starts.Starts[row] + first + q, mask = masks + geometry.RowTaps[row] * Pixels + pixel;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512.Store(Vector512.Load(from) & Vector512.Load(mask), destination);
            return;
        }
        Vector256.Store(Vector256.Load(from) & Vector256.Load(mask), destination);
        Vector256.Store(Vector256.Load(from + 8) & Vector256.Load(mask + 8), destination + 8);
    }

    /// <summary>The tap mask of a row, indexed by pixel.</summary>
    public float* Mask(float* masks, int row) => masks + (long)geometry.RowTaps[row] * Pixels;

    /// <summary>The pixel of column q in its image.</summary>
    public int Pixel(int q) => (first + q) % Pixels;

    /// <summary>
    /// col[row, q..q+8), given the row's start and mask and q's pixel, when those 8 pixels lie in one image and
    /// their reads inside x.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryLoad8(long start, float* mask, int q, int pixel, out Vector256<float> values)
    {
        long from = start + q;
        if (q + 8 > Width || pixel + 8 > Pixels || from < 0 || from + 8 > xLength)
        {
            values = default;
            return false;
        }
        // Lanes the mask drops may read a neighbouring row or image: inside x, and cleared.
        values = Vector256.Load(x + from) & Vector256.Load(mask + pixel);
        return true;
    }

    /// <summary>
    /// col[row, q..q+8), given the row's start and mask, when those 8 pixels (from <paramref name="pixel"/>) lie in
    /// one image and <see cref="ReadsInside"/> holds for them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load8(long start, float* mask, int q, int pixel) =>
        Vector256.Load(x + start + q) & Vector256.Load(mask + pixel);

    /// <summary>col[row, q] (0 past the group's width), given the row's start and mask.</summary>
    public float Element(long start, float* mask, int q) =>
        q < Width && BitConverter.SingleToInt32Bits(mask[Pixel(q)]) != 0 ? x[start + q] : 0f;
}

/// <summary>The group's im2col matrix as the GEMM's B <c>(C_in·T, G·P)</c>: the forward product.</summary>
internal sealed unsafe class Im2ColPanels(Im2ColGeometry geometry, Im2ColGroup columns) : IPanelSource
{
    public void Pack(float* destination, int p0, int kc, int j0)
    {
        const int panel = Kernel.PanelWidth;
        int pixel0 = columns.Pixel(j0), pixel1 = columns.Pixel(j0 + 8);
        fixed (float* masks = geometry.Masks)
        {
            if (columns.Inside(j0, pixel0, panel))
            {
                // The usual panel (a P that is a multiple of 16 puts every panel in one image): no checks per row.
                for (int r = 0; r < kc; r++) columns.Load16(p0 + r, masks, j0, pixel0, destination + r * panel);
                return;
            }
            for (int r = 0; r < kc; r++)
            {
                long start = columns.Start(p0 + r);
                float* mask = columns.Mask(masks, p0 + r), target = destination + (long)r * panel;
                if (columns.TryLoad8(start, mask, j0, pixel0, out var low) &&
                    columns.TryLoad8(start, mask, j0 + 8, pixel1, out var high))
                {
                    Vector256.Store(low, target);
                    Vector256.Store(high, target + 8);
                    continue;
                }
                for (int j = 0; j < panel; j++) target[j] = columns.Element(start, mask, j0 + j);
            }
        }
    }
}

/// <summary>
/// The transposed im2col matrix as the GEMM's B <c>(G·P, C_in·T)</c>: the weight gradient's product, each 8×8
/// block loaded row by row from x and transposed in registers.
/// </summary>
internal sealed unsafe class TransposedIm2ColPanels(Im2ColGeometry geometry, Im2ColGroup columns) : IPanelSource
{
    public void Pack(float* destination, int p0, int kc, int j0)
    {
        const int panel = Kernel.PanelWidth;
        int patch = geometry.PatchSize;
        float* block = stackalloc float[64];
        long* starts = stackalloc long[panel];
        float** rowMasks = stackalloc float*[panel];
        fixed (float* masks = geometry.Masks)
        {
            for (int j = 0; j < panel && j0 + j < patch; j++)
            {
                starts[j] = columns.Start(j0 + j);
                rowMasks[j] = columns.Mask(masks, j0 + j);
            }
            if (Avx.IsSupported && j0 + panel <= patch && columns.ReadsInside(p0, kc))
            {
                PackInside(destination, p0, kc, starts, rowMasks);
                return;
            }
            int pixel = columns.Pixel(p0);
            for (int r = 0; r < kc; r += 8, pixel = (pixel + 8) % columns.Pixels)
                for (int j = 0; j < panel; j += 8)
                {
                    // Rows j0+j..+8 of col (this panel's columns), pixels p0+r..+8 (the panel's rows).
                    bool loaded = Avx.IsSupported && r + 8 <= kc && j0 + j + 8 <= patch;
                    for (int i = 0; loaded && i < 8; i++)
                    {
                        loaded = columns.TryLoad8(starts[j + i], rowMasks[j + i], p0 + r, pixel, out var values);
                        Vector256.Store(values, block + 8 * i);
                    }
                    if (loaded)
                    {
                        Kernel.Transpose8x8(block, 8, destination + (long)r * panel + j, panel);
                        continue;
                    }
                    for (int rr = r; rr < Math.Min(r + 8, kc); rr++)
                        for (int i = j; i < j + 8; i++)
                            destination[(long)rr * panel + i] = j0 + i < patch
                                ? columns.Element(starts[i], rowMasks[i], p0 + rr) : 0f;
                }
        }
    }

    /// <summary>
    /// <see cref="Pack"/> when all 16 columns are im2col rows (starting at <paramref name="starts"/>, masked by
    /// <paramref name="rowMasks"/>) whose reads of pixels p0..p0+kc lie inside x: each 8×8 block goes from x
    /// through registers, masked and transposed, straight into the panel (a block that straddles two images, and a
    /// last part shorter than 8, element by element).
    /// </summary>
    private void PackInside(float* destination, int p0, int kc, long* starts, float** rowMasks)
    {
        const int panel = Kernel.PanelWidth;
        int pixel = columns.Pixel(p0), r = 0;
        for (; r + 8 <= kc; r += 8, pixel = pixel + 8 < columns.Pixels ? pixel + 8 : pixel + 8 - columns.Pixels)
        {
            int q = p0 + r;
            for (int j = 0; j < panel; j += 8)
            {
                float* target = destination + (long)r * panel + j;
                if (pixel + 8 > columns.Pixels)
                {
                    for (int rr = 0; rr < 8; rr++)
                        for (int i = 0; i < 8; i++)
                            target[rr * panel + i] = columns.Element(starts[j + i], rowMasks[j + i], q + rr);
                    continue;
                }
                long* s = starts + j;
                float** m = rowMasks + j;
                Kernel.Transpose8x8(columns.Load8(s[0], m[0], q, pixel), columns.Load8(s[1], m[1], q, pixel),
                    columns.Load8(s[2], m[2], q, pixel), columns.Load8(s[3], m[3], q, pixel),
                    columns.Load8(s[4], m[4], q, pixel), columns.Load8(s[5], m[5], q, pixel),
                    columns.Load8(s[6], m[6], q, pixel), columns.Load8(s[7], m[7], q, pixel), target, panel);
            }
        }
        for (; r < kc; r++)
            for (int j = 0; j < panel; j++)
                destination[(long)r * panel + j] = columns.Element(starts[j], rowMasks[j], p0 + r);
    }
}
