namespace MLNetAr.Nn.Masks;

/// <summary>The tap sets of the causal convolutions, for a raster order over one channel.</summary>
internal static class ConvTaps
{
    /// <summary>A 1×1 convolution.</summary>
    public static (int Dy, int Dx)[] Pointwise => [(0, 0)];

    /// <summary>
    /// PixelCNN's masked k×k kernel (van den Oord et al. 2016): offsets above the centre row, and left of the centre in
    /// it; type B (<paramref name="includeCentre"/>) also keeps the centre. Stacking these has a blind spot; the gated
    /// model uses <see cref="Vertical"/> and <see cref="Horizontal"/> instead.
    /// </summary>
    public static (int Dy, int Dx)[] PixelCnn(int kernelSize, bool includeCentre)
    {
        int half = kernelSize / 2;
        var taps = new List<(int, int)>();
        for (int dy = -half; dy <= 0; dy++)
            for (int dx = -half; dx <= half; dx++)
                if (dy < 0 || dx < 0 || (includeCentre && dx == 0)) taps.Add((dy, dx));
        return taps.ToArray();
    }

    /// <summary>
    /// The gated PixelCNN's vertical stack: the full width of k rows ending above the current row (first layer) or at
    /// it (later layers). Every vertical feature at row i then depends on image rows &lt; i only, so it can feed the
    /// horizontal stack at the same position without the usual down-shift.
    /// </summary>
    public static (int Dy, int Dx)[] Vertical(int kernelSize, bool first)
    {
        int half = kernelSize / 2;
        var taps = new List<(int, int)>();
        for (int dy = first ? -half - 1 : -half; dy <= (first ? -1 : 0); dy++)
            for (int dx = -half; dx <= half; dx++) taps.Add((dy, dx));
        return taps.ToArray();
    }

    /// <summary>
    /// The gated PixelCNN's horizontal stack: the k/2 pixels to the left, plus the centre after the first layer.
    /// </summary>
    public static (int Dy, int Dx)[] Horizontal(int kernelSize, bool first)
    {
        int half = kernelSize / 2;
        return Enumerable.Range(-half, first ? half : half + 1).Select(dx => (0, dx)).ToArray();
    }

    /// <summary>
    /// WaveNet's causal kernel of size 2 with dilation d over a sequence (one image row): offsets −d and 0.
    /// </summary>
    public static (int Dy, int Dx)[] Dilated(int dilation) => [(0, -dilation), (0, 0)];

    /// <summary>WaveNet's first, strictly causal kernel: the <paramref name="size"/> previous positions.</summary>
    public static (int Dy, int Dx)[] Causal(int size) =>
        Enumerable.Range(1, size).Select(d => (0, -d)).Reverse().ToArray();
}
