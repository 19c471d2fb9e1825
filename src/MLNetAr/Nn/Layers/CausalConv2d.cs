using System.Numerics.Tensors;
using MLNetAr.Kernels;
using MLNetAr.Nn.Masks;
using MLNetAr.Onnx;

namespace MLNetAr.Nn.Layers;

/// <summary>
/// 2-D convolution over an explicit set of kernel offsets ("taps"), stride 1, zero outside the image:
/// <c>y[o, b, p] = bias[o] + Σ_{c, t} W[o, c·T + t] · x[c, b, p + taps[t]]</c>, <c>(C_in, B·H·W) -> (C_out, B·H·W)</c>.
/// </summary>
/// <remarks>
/// <para>
/// Causality is structural: a masked k×k kernel (PixelCNN type A/B, the vertical and horizontal stacks of the gated
/// PixelCNN, WaveNet's dilated causal kernels) is just the list of offsets it keeps (see <see cref="ConvTaps"/>), so
/// no multiply-adds are spent on masked-out weights and no mask can be forgotten in the backward pass.
/// </para>
/// <para>
/// Layout is channel-major over the whole batch: channel c of image b is the contiguous run
/// <c>[c·B·P + b·P, +P)</c> with P = H·W, so a batch of flat images <c>(B, P)</c> is already a one-channel input, and
/// the convolution is one im2col + one GEMM <c>(C_out, C_in·T)·(C_in·T, B·P)</c> with a wide N for the SIMD kernel.
/// <see cref="ForwardRange"/> computes only positions <c>[p0, p1)</c> of every image, for cached sampling.
/// </para>
/// </remarks>
internal sealed class CausalConv2d
{
    private readonly (int Dy, int Dx)[] _taps;
    // Per tap, its offset in a flat image (dy·W + dx) and, per pixel p, whether p + offset is the tap's pixel inside
    // the image (Kernel.KeepMask) or falls outside it (0): (T, P). The im2col row of tap t is x shifted by the offset,
    // masked.
    private readonly int[] _offsets;
    private readonly float[] _masks;
    // Per im2col row (c, t) = (row / T, row mod T): its channel and tap, so packing never divides.
    private readonly int[] _rowChannels, _rowTaps;
    // Per im2col row, for the last batch length n seen: where it starts in x relative to the column's pixel.
    private Im2ColRowStarts? _rowStarts;
    // What the im2col panel sources (Kernels) read of the above.
    private readonly Im2ColGeometry _geometry;

    public CausalConv2d(string name, int inputChannels, int outputChannels, (int Dy, int Dx)[] taps, int height,
        int width)
    {
        if (taps.Length == 0) throw new ArgumentException("A convolution needs at least one tap.", nameof(taps));
        (InputChannels, OutputChannels, Height, Width, _taps) = (inputChannels, outputChannels, height, width,
            taps.ToArray());
        Weight = new Parameter(name + ".Weight", outputChannels, inputChannels * taps.Length);
        Bias = new Parameter(name + ".Bias", outputChannels);
        IsPointwise = taps is [(0, 0)];
        _offsets = taps.Select(t => t.Dy * width + t.Dx).ToArray();
        _rowChannels = Enumerable.Range(0, PatchSize).Select(row => row / taps.Length).ToArray();
        _rowTaps = Enumerable.Range(0, PatchSize).Select(row => row % taps.Length).ToArray();
        _masks = new float[taps.Length * height * width];
        for (int t = 0; t < taps.Length; t++)
            for (int i = 0; i < height; i++)
                for (int j = 0; j < width; j++)
                {
                    int y = i + taps[t].Dy, x = j + taps[t].Dx;
                    if (y >= 0 && y < height && x >= 0 && x < width)
                        _masks[(t * height + i) * width + j] = Kernel.KeepMask;
                }
        _geometry = new Im2ColGeometry(height * width, _rowTaps, _masks);
    }

    private Im2ColRowStarts StartsFor(int n)
    {
        // Replaced whole, never mutated: a scorer on another thread with another batch length sees one or the other.
        if (_rowStarts is { } cached && cached.N == n) return cached;
        long[] starts = Enumerable.Range(0, PatchSize).Select(row =>
            (long)_rowChannels[row] * n + _offsets[_rowTaps[row]]).ToArray();
        return _rowStarts = new Im2ColRowStarts(n, starts, starts.Min(), starts.Max());
    }

    public int InputChannels { get; }
    public int OutputChannels { get; }
    public int Height { get; }
    public int Width { get; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }
    public IReadOnlyList<(int Dy, int Dx)> Taps => _taps;

    /// <summary>A 1×1 convolution: the input is its own im2col matrix.</summary>
    public bool IsPointwise { get; }

    /// <summary>Rows of the im2col matrix: <c>C_in·T</c>.</summary>
    public int PatchSize => InputChannels * _taps.Length;

    private int Pixels => Height * Width;

    /// <summary>
    /// Floats of the scratch <see cref="Backward"/> needs for <paramref name="batch"/> images: one band of the im2col
    /// matrix's gradient per image group (0 for 1×1).
    /// </summary>
    public long ColumnsLength(int batch) => IsPointwise ? 0 : (long)PatchSize * Groups(batch) * BandLength;

    // Pixels of an image whose im2col gradient is computed and scattered at a time: C_in·T × 256 floats (480 KB for
    // the 28×28 default) stay in L2 between the product that writes them and the scatter that reads them.
    private int BandLength => Math.Min(Pixels, 256);

    /// <summary>
    /// <c>(C_in, B·P) -> (C_out, B·P)</c> on every position. The im2col matrix is never stored: the product packs
    /// its panels straight from x (see <see cref="Im2ColPanels"/>).
    /// </summary>
    /// <remarks>
    /// Works on groups of <see cref="ImagesPerGroup"/> consecutive images in parallel: a group's im2col columns are
    /// contiguous (channel-major layout), so one product <c>(C_out, C_in·T)·(C_in·T, G·P)</c> covers the group and
    /// the weights are packed once per group rather than per image. Each output element is the same sum in the same
    /// order whatever the grouping. <paramref name="accumulate"/>: add to y instead of overwriting it (bias included).
    /// </remarks>
    public unsafe void Forward(ReadOnlySpan<float> x, int batch, Span<float> y, bool accumulate = false)
    {
        int n = batch * Pixels, pixels = Pixels, rows = OutputChannels, patch = PatchSize;
        bool pointwise = IsPointwise;
        float[] weight = Weight.Value, bias = Bias.Value;
        fixed (float* px = x, py = y)
        {
            nint xAddress = (nint)px, yAddress = (nint)py;
            int inputLength = InputChannels * n;
            Im2ColRowStarts starts = StartsFor(n);
            Kernel.ForChunks(Groups(batch), g =>
            {
                var (first, count) = Group(batch, g);
                int width = count * pixels;
                var yG = new Span<float>((float*)yAddress + (long)first * pixels, (rows - 1) * n + width);
                if (pointwise)
                {
                    // (C_out, C_in) · (C_in, G·P) -> (C_out, G·P): x is its own im2col matrix (row stride n).
                    var xG = new ReadOnlySpan<float>((float*)xAddress + (long)first * pixels, (patch - 1) * n + width);
                    Kernel.Gemm(Transpose.No, Transpose.No, rows, width, patch, weight, patch, xG, n, yG, n,
                        accumulate);
                }
                else
                {
                    // (C_out, C_in·T) · (C_in·T, G·P) -> (C_out, G·P), the columns packed from x.
                    var columns = new Im2ColGroup(_geometry, starts, (float*)xAddress, inputLength, first * pixels,
                        width);
                    Kernel.Gemm(rows, width, patch, weight, patch, new Im2ColPanels(_geometry, columns), yG, n,
                        accumulate);
                }
                for (int o = 0; o < rows; o++)
                    TensorPrimitives.Add(yG.Slice(o * n, width), bias[o], yG.Slice(o * n, width));
            });
        }
    }

    /// <summary>
    /// Images per product: enough to pack the weights once for several images, few enough to keep both cores busy on
    /// small batches.
    /// </summary>
    private const int ImagesPerGroup = 4;

    private static int Groups(int batch) => (batch + ImagesPerGroup - 1) / ImagesPerGroup;

    private static (int First, int Count) Group(int batch, int g) =>
        (g * ImagesPerGroup, Math.Min(ImagesPerGroup, batch - g * ImagesPerGroup));

    /// <summary>
    /// Given <c>dy</c> <c>(C_out, B·P)</c>: <c>∂W += dy · colᵀ</c>, <c>∂bias += Σ dy</c>, and, when
    /// <paramref name="dx"/> is not empty, <c>dx (+)= col2im(Wᵀ · dy)</c>.
    /// </summary>
    /// <remarks>
    /// Group by group in parallel, like <see cref="Forward"/>; the per-group weight and bias gradients are summed in
    /// group order afterwards, so the result does not depend on the thread count. <paramref name="x"/>: the forward
    /// input. <paramref name="columnGradients"/>: scratch of at least <see cref="ColumnsLength"/> floats for the
    /// gradient of the im2col matrix (unused for 1×1, or when dx is empty). <paramref name="accumulateDx"/>: add to
    /// dx (e.g. a residual branch) instead of overwriting it.
    /// </remarks>
    public unsafe void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dy, Span<float> dx,
        Span<float> columnGradients, bool accumulateDx = false)
    {
        int n = batch * Pixels, pixels = Pixels, rows = OutputChannels, patch = PatchSize, inputs = InputChannels;
        int size = Weight.Length, stride = size + rows, groups = Groups(batch);
        bool pointwise = IsPointwise, wantDx = !dx.IsEmpty;
        float[] weight = Weight.Value;
        // Per group: ∂W (C_out·C_in·T) then ∂bias (C_out).
        float[] partial = System.Buffers.ArrayPool<float>.Shared.Rent(groups * stride);
        // Wᵀ (C_in·T, C_out), packed once for every band's im2col gradient.
        float[]? packedWeightT = null;
        if (wantDx && !pointwise)
        {
            packedWeightT = System.Buffers.ArrayPool<float>.Shared.Rent(Kernel.PackedLeftLength(patch, rows));
            Kernel.PackLeft(Transpose.Yes, patch, rows, weight, patch, packedWeightT);
        }
        try
        {
            fixed (float* px = x, pdy = dy, pdx = dx, pdcol = columnGradients)
            {
                nint xAddress = (nint)px, dyAddress = (nint)pdy, dxAddress = (nint)pdx, dcolAddress = (nint)pdcol;
                Im2ColRowStarts starts = StartsFor(n);
                Kernel.ForChunks(groups, g =>
                {
                    var (first, count) = Group(batch, g);
                    int width = count * pixels;
                    var dyG = new ReadOnlySpan<float>((float*)dyAddress + (long)first * pixels, (rows - 1) * n + width);
                    Span<float> gradient = partial.AsSpan(g * stride, stride);
                    // (C_out, G·P) · (G·P, C_in·T) -> (C_out, C_in·T); im2col read from x as it is packed.
                    if (pointwise)
                    {
                        var xG = new ReadOnlySpan<float>((float*)xAddress + (long)first * pixels, (patch - 1) * n
                            + width);
                        Kernel.Gemm(Transpose.No, Transpose.Yes, rows, patch, width, dyG, n, xG, n, gradient, patch);
                    }
                    else
                    {
                        var columns = new Im2ColGroup(_geometry, starts, (float*)xAddress, inputs * n, first * pixels,
                            width);
                        Kernel.Gemm(rows, patch, width, dyG, n, new TransposedIm2ColPanels(_geometry, columns),
                            gradient, patch);
                    }
                    for (int o = 0; o < rows; o++) gradient[size + o] = TensorPrimitives.Sum(dyG.Slice(o * n, width));
                    if (!wantDx) return;
                    var dxAll = new Span<float>((float*)dxAddress, inputs * n);
                    if (pointwise)
                    {
                        // (C_in, C_out) · (C_out, G·P) -> (C_in, G·P)
                        var dxG = new Span<float>((float*)dxAddress + (long)first * pixels, (inputs - 1) * n + width);
                        Kernel.Gemm(Transpose.Yes, Transpose.No, inputs, width, rows, weight, patch, dyG, n, dxG, n,
                            accumulateDx);
                        return;
                    }
                    // Band by band of each image: (C_in·T, C_out) · (C_out, band) -> (C_in·T, band), scattered back
                    // onto the image at once, while it is in L2. The band is dense (row stride = its length), away
                    // from the whole batch's power-of-two strides.
                    int bandLength = BandLength;
                    var dcol = new Span<float>((float*)dcolAddress + (long)g * patch * bandLength, patch * bandLength);
                    for (int b = first; b < first + count; b++)
                    {
                        if (!accumulateDx)
                            for (int c = 0; c < inputs; c++) dxAll.Slice(c * n + b * pixels, pixels).Clear();
                        for (int p0 = 0; p0 < pixels; p0 += bandLength)
                        {
                            int length = Math.Min(bandLength, pixels - p0);
                            var dyBand = new ReadOnlySpan<float>((float*)dyAddress + (long)b * pixels + p0,
                                (rows - 1) * n + length);
                            Kernel.Gemm(patch, length, rows, packedWeightT, Transpose.No, dyBand, n, dcol, length);
                            Col2ImAdd(dcol, length, p0, n, b, dxAll);
                        }
                    }
                });
            }
            for (int g = 0; g < groups; g++)
            {
                TensorPrimitives.Add(Weight.Gradient, partial.AsSpan(g * stride, size), Weight.Gradient);
                TensorPrimitives.Add(Bias.Gradient, partial.AsSpan(g * stride + size, rows), Bias.Gradient);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(partial);
            if (packedWeightT != null) System.Buffers.ArrayPool<float>.Shared.Return(packedWeightT);
        }
    }

    /// <summary>
    /// Computes y only at positions <c>[p0, p1)</c> of every image (other entries untouched), reading x wherever the
    /// taps reach: <c>(C_in, B·P) -> (C_out, B·P)</c> restricted to the range. Used by cached sampling, where x is
    /// final at every position the taps can reach.
    /// </summary>
    /// <remarks><paramref name="scratch"/>: At least <c>(C_in·T + C_out)·B·(p1 - p0)</c> floats.
    /// <paramref name="accumulate"/>: Add to y (bias included).</remarks>
    public void ForwardRange(ReadOnlySpan<float> x, int batch, int p0, int p1, Span<float> y, Span<float> scratch,
        bool accumulate = false)
    {
        int n = batch * Pixels, len = p1 - p0, m = batch * len;
        Span<float> col = scratch[..(PatchSize * m)], result = scratch.Slice(PatchSize * m, OutputChannels * m);
        // (C_in·T, B·len): col[(c, t), b·len + s] = x[c, b, p0 + s + tap] or 0 outside the image.
        for (int t = 0; t < _taps.Length; t++)
        {
            var (dy, dx) = _taps[t];
            for (int s = 0; s < len; s++)
            {
                int p = p0 + s, i = p / Width + dy, j = p % Width + dx;
                bool inside = i >= 0 && i < Height && j >= 0 && j < Width;
                int source = i * Width + j;
                for (int c = 0; c < InputChannels; c++)
                {
                    int row = (c * _taps.Length + t) * m + s;
                    for (int b = 0; b < batch; b++)
                        col[row + b * len] = inside ? x[c * n + b * Pixels + source] : 0f;
                }
            }
        }
        Kernel.Gemm(Transpose.No, Transpose.No, OutputChannels, m, PatchSize, Weight.Value, PatchSize, col, m, result,
            m);
        for (int o = 0; o < OutputChannels; o++)
            for (int b = 0; b < batch; b++)
            {
                Span<float> target = y.Slice(o * n + b * Pixels + p0, len);
                ReadOnlySpan<float> computed = result.Slice(o * m + b * len, len);
                for (int s = 0; s < len; s++) target[s] = (accumulate ? target[s] : 0f) + computed[s] + Bias.Value[o];
            }
    }

    /// <summary>
    /// The layer as one ONNX Conv, <c>(N, C_in, H, W) -> (N, C_out, H, W)</c>: the taps laid into a dense kernel over
    /// their bounding box (widened to hold the centre, so every pad is ≥ 0), with ONNX dilations where the offsets
    /// share a common step (WaveNet's <c>t - d, t</c> is a 2-wide kernel of dilation d, not a (d+1)-wide one). Kernel
    /// cells that are no tap hold 0, so the zero padding and the masked positions add exactly nothing.
    /// </summary>
    public string ExportOnnx(OnnxGraph graph, string x)
    {
        var (minY, maxY, stepY) = Extent(_taps.Select(t => t.Dy));
        var (minX, maxX, stepX) = Extent(_taps.Select(t => t.Dx));
        int kh = (maxY - minY) / stepY + 1, kw = (maxX - minX) / stepX + 1, taps = _taps.Length;
        var kernel = new float[OutputChannels * InputChannels * kh * kw]; // (C_out, C_in, kh, kw)
        for (int o = 0; o < OutputChannels; o++)
            for (int c = 0; c < InputChannels; c++)
                for (int t = 0; t < taps; t++)
                {
                    int ky = (_taps[t].Dy - minY) / stepY, kx = (_taps[t].Dx - minX) / stepX;
                    kernel[((o * InputChannels + c) * kh + ky) * kw + kx] = Weight.Value[o * PatchSize + c * taps + t];
                }
        return graph.Conv(x, graph.Constant(kernel, OutputChannels, InputChannels, kh, kw),
            graph.Constant(Bias.Value, OutputChannels),
            kernel: [kh, kw], pads: [-minY, -minX, maxY, maxX], dilations: [stepY, stepX]);
    }

    /// <summary>
    /// The range of offsets, widened to include 0, and their greatest common step (1 when all are 0).
    /// </summary>
    private static (int Min, int Max, int Step) Extent(IEnumerable<int> offsets)
    {
        int[] all = offsets.Append(0).ToArray();
        int step = 0;
        foreach (int offset in all)
            for (int a = Math.Abs(offset); a != 0;) (step, a) = (a, step % a); // Euclid: gcd(step, |offset|)
        return (all.Min(), all.Max(), Math.Max(step, 1));
    }

    /// <summary>
    /// Scratch floats <see cref="ForwardRange"/> needs for <paramref name="positions"/> positions of
    /// <paramref name="batch"/> images.
    /// </summary>
    public int RangeScratchLength(int batch, int positions) => (PatchSize + OutputChannels) * batch * positions;

    /// <summary>
    /// The adjoint of the im2col matrix for pixels <c>[p0, p0 + length)</c> of image b, added to dx:
    /// <c>dx[c, b·P + p + taps[t]] += dcol[(c, t), p - p0]</c> where the tap lands inside the image; dcol has row
    /// stride <paramref name="length"/>.
    /// </summary>
    private void Col2ImAdd(ReadOnlySpan<float> dcol, int length, int p0, int n, int b, Span<float> dx)
    {
        int taps = _taps.Length, pixels = Pixels;
        for (int c = 0; c < InputChannels; c++)
        {
            Span<float> image = dx.Slice(c * n + b * pixels, pixels);
            for (int t = 0; t < taps; t++)
                Kernel.AddShiftedMasked(dcol.Slice((c * taps + t) * length, length),
                    _masks.AsSpan(t * pixels + p0, length), p0 + _offsets[t], image);
        }
    }
}
