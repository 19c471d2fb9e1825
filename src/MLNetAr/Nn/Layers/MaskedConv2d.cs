using System.Numerics.Tensors;
using MLNetAr.Kernels;

namespace MLNetAr.Nn.Layers;

/// <summary>
/// 2-D convolution with a kernel mask, "same" zero padding and stride 1 (van den Oord et al. 2016, PixelCNN):
/// <c>y[b, o, i, j] = bias[o] + Σ_{c, u, v} (W ⊙ M)[o, c, u, v] · x[b, c, i + u - k/2, j + v - k/2]</c>,
/// <c>(B, C_in, H, W) -> (B, C_out, H, W)</c>, weights stored <c>(C_out, C_in·k·k)</c> row-major.
/// </summary>
/// <remarks>
/// Computed as im2col + GEMM: each image's k·k neighbourhoods become columns of a <c>(C_in·k·k, H·W)</c> matrix, so
/// the convolution is one <c>(C_out, C_in·k·k)·(C_in·k·k, H·W)</c> product on the SIMD GEMM. The mask is an argument,
/// as for <see cref="MaskedLinear"/>: <see cref="PixelCnnMask"/> builds PixelCNN's type A/B masks, and any other
/// kernel mask (e.g. the vertical/horizontal stacks of the gated PixelCNN) is just another array.
/// </remarks>
internal sealed class MaskedConv2d
{
    public MaskedConv2d(string name, int inputChannels, int outputChannels, int kernelSize, int height, int width)
    {
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), "The kernel size must be odd and positive.");
        (InputChannels, OutputChannels, KernelSize, Height, Width) = (inputChannels, outputChannels, kernelSize, height, width);
        Weight = new Parameter(name + ".Weight", outputChannels, inputChannels * kernelSize * kernelSize);
        Bias = new Parameter(name + ".Bias", outputChannels);
        _segments = Segments();
    }

    /// <summary>
    /// The im2col map as contiguous runs: <c>col[ColumnStart + t] = image[ImageStart + t]</c> for t &lt; Length; every
    /// other entry of col is 0 (padding). Depends on the shape only, so it is built once and serves both
    /// <see cref="Im2Col"/> and its adjoint <see cref="Col2Im"/>.
    /// </summary>
    private readonly (int ColumnStart, int ImageStart, int Length)[] _segments;

    private (int, int, int)[] Segments()
    {
        int k = KernelSize, half = k / 2;
        var segments = new List<(int, int, int)>();
        for (int c = 0; c < InputChannels; c++)
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++)
                {
                    int row = ((c * k + u) * k + v) * Pixels, shift = v - half;
                    int from = Math.Max(0, -shift), to = Math.Min(Width, Width - shift);
                    if (to <= from) continue;
                    for (int i = 0; i < Height; i++)
                    {
                        int si = i + u - half;
                        if (si >= 0 && si < Height) segments.Add((row + i * Width + from, c * Pixels + si * Width + from + shift, to - from));
                    }
                }
        return segments.ToArray();
    }

    public int InputChannels { get; }
    public int OutputChannels { get; }
    public int KernelSize { get; }
    public int Height { get; }
    public int Width { get; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }

    /// <summary>Rows of the im2col matrix: <c>C_in·k·k</c>.</summary>
    public int PatchSize => InputChannels * KernelSize * KernelSize;
    private int Pixels => Height * Width;

    /// <summary><c>destination = W ⊙ mask</c>, both <c>(C_out, C_in·k·k)</c>.</summary>
    public void ApplyMask(ReadOnlySpan<float> mask, Span<float> destination) => TensorPrimitives.Multiply(Weight.Value, mask, destination);

    /// <summary><c>(B, C_in, H, W) -> (B, C_out, H, W)</c>; <paramref name="columns"/> receives each image's im2col matrix (kept for Backward).</summary>
    /// <param name="x">Input images <c>(B, C_in, H, W)</c>.</param>
    /// <param name="batch">Images B.</param>
    /// <param name="maskedWeight"><c>W ⊙ M</c> (see <see cref="ApplyMask"/>).</param>
    /// <param name="y">Receives the output <c>(B, C_out, H, W)</c>.</param>
    /// <param name="columns">At least <c>B·C_in·k·k·H·W</c> floats.</param>
    public void Forward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> maskedWeight, Span<float> y, Span<float> columns)
    {
        int inSize = InputChannels * Pixels, outSize = OutputChannels * Pixels, colSize = PatchSize * Pixels;
        for (int b = 0; b < batch; b++)
        {
            Span<float> col = columns.Slice(b * colSize, colSize);
            Im2Col(x.Slice(b * inSize, inSize), col);
            Span<float> yb = y.Slice(b * outSize, outSize);
            // (C_out, C_in·k·k) · (C_in·k·k, H·W) -> (C_out, H·W)
            Kernels.Kernels.Gemm(Transpose.No, Transpose.No, OutputChannels, Pixels, PatchSize, maskedWeight, PatchSize, col, Pixels, yb, Pixels);
            for (int o = 0; o < OutputChannels; o++) TensorPrimitives.Add(yb.Slice(o * Pixels, Pixels), Bias.Value[o], yb.Slice(o * Pixels, Pixels));
        }
    }

    /// <summary>
    /// Given <c>dy</c> <c>(B, C_out, H, W)</c>: <c>∂W += (Σ_b dy_b · col_bᵀ) ⊙ M</c>, <c>∂bias += Σ dy</c>, and, when
    /// <paramref name="dx"/> is not empty, <c>dx = col2im((W ⊙ M)ᵀ · dy)</c>.
    /// </summary>
    /// <param name="columns">The im2col matrices of the forward pass.</param>
    /// <param name="batch">Images B.</param>
    /// <param name="dy">Gradient with respect to the output.</param>
    /// <param name="mask">The kernel mask of the forward pass.</param>
    /// <param name="maskedWeight"><c>W ⊙ M</c> of the forward pass.</param>
    /// <param name="dx">Receives the gradient with respect to the input; empty to skip it.</param>
    /// <param name="scratch">At least <c>max(C_out·C_in·k·k, C_in·k·k·H·W)</c> floats.</param>
    public void Backward(ReadOnlySpan<float> columns, int batch, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, ReadOnlySpan<float> maskedWeight,
        Span<float> dx, Span<float> scratch)
    {
        int inSize = InputChannels * Pixels, outSize = OutputChannels * Pixels, colSize = PatchSize * Pixels;
        Span<float> gradient = scratch[..Weight.Length];
        gradient.Clear();
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> dyb = dy.Slice(b * outSize, outSize);
            // (C_out, H·W) · (H·W, C_in·k·k) -> (C_out, C_in·k·k)
            Kernels.Kernels.Gemm(Transpose.No, Transpose.Yes, OutputChannels, PatchSize, Pixels, dyb, Pixels, columns.Slice(b * colSize, colSize), Pixels, gradient, PatchSize, accumulate: true);
            for (int o = 0; o < OutputChannels; o++) Bias.Gradient[o] += TensorPrimitives.Sum(dyb.Slice(o * Pixels, Pixels));
        }
        TensorPrimitives.MultiplyAdd(gradient, mask, Weight.Gradient, Weight.Gradient);
        if (dx.IsEmpty) return;
        Span<float> dcol = scratch[..colSize];
        for (int b = 0; b < batch; b++)
        {
            // (C_in·k·k, C_out) · (C_out, H·W) -> (C_in·k·k, H·W), then scattered back onto the image.
            Kernels.Kernels.Gemm(Transpose.Yes, Transpose.No, PatchSize, Pixels, OutputChannels, maskedWeight, PatchSize, dy.Slice(b * outSize, outSize), Pixels, dcol, Pixels);
            Col2Im(dcol, dx.Slice(b * inSize, inSize));
        }
    }

    /// <summary><c>(C_in, H, W) -> (C_in·k·k, H·W)</c>: row (c, u, v) holds x[c, i + u - k/2, j + v - k/2] (0 outside the image).</summary>
    private void Im2Col(ReadOnlySpan<float> image, Span<float> col)
    {
        col.Clear();
        foreach (var (columnStart, imageStart, length) in _segments)
            image.Slice(imageStart, length).CopyTo(col.Slice(columnStart, length));
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: <c>dx[c, i + u - k/2, j + v - k/2] = Σ dcol[(c, u, v), (i, j)]</c> (overwrites dx).</summary>
    private void Col2Im(ReadOnlySpan<float> dcol, Span<float> dx)
    {
        dx.Clear();
        foreach (var (columnStart, imageStart, length) in _segments)
        {
            Span<float> target = dx.Slice(imageStart, length);
            TensorPrimitives.Add(target, dcol.Slice(columnStart, length), target);
        }
    }
}

/// <summary>PixelCNN's kernel masks (van den Oord et al. 2016) for a raster order over a single channel.</summary>
internal static class PixelCnnMask
{
    /// <summary>
    /// Mask <c>(C_out, C_in·k·k)</c> allowing, for every channel pair, the kernel positions above the centre row and
    /// left of the centre in the centre row; type B (<paramref name="includeCentre"/>) also allows the centre itself.
    /// The first layer uses type A, so output (i, j) never sees input (i, j); later layers use type B.
    /// </summary>
    public static float[] Create(int outputChannels, int inputChannels, int kernelSize, bool includeCentre)
    {
        int k = kernelSize, half = k / 2;
        var kernel = new float[k * k];
        for (int u = 0; u < k; u++)
            for (int v = 0; v < k; v++)
                kernel[u * k + v] = u < half || (u == half && (v < half || (includeCentre && v == half))) ? 1f : 0f;
        var mask = new float[outputChannels * inputChannels * k * k];
        for (int o = 0; o < outputChannels; o++)
            for (int c = 0; c < inputChannels; c++) kernel.CopyTo(mask, (o * inputChannels + c) * k * k);
        return mask;
    }
}
