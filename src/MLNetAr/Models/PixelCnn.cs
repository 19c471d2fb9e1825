using MLNetAr.Nn;
using MLNetAr.Nn.Layers;
using MLNetAr.Nn.Masks;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>
/// Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders") over one-channel
/// H×W images in raster order, with Bernoulli or K-level categorical pixels.
/// </summary>
/// <remarks>
/// <para>
/// L gated layers, each with a vertical stack (full-width kernel rows strictly above the pixel, see
/// <see cref="ConvTaps.Vertical"/>) and a horizontal stack (pixels to the left in the same row):
/// <code>
/// v_pre = vconv(v)                      (C or 1 -> 2C)     v' = tanh(v_pre[:C]) ⊙ σ(v_pre[C:])
/// h_pre = hconv(h) + link(v_pre)        (-> 2C, link 1×1)  h' = h + out(tanh(h_pre[:C]) ⊙ σ(h_pre[C:]))
/// </code>
/// (layer 0 reads the image for both stacks, with strictly causal taps, and has no residual). Because the vertical
/// stack never sees the current row, feeding it into the horizontal stack at the same position is causal without
/// the usual down-shift, and the receptive field has no blind spot: every pixel above and to the left within reach
/// of the kernels influences the prediction. The head (see <see cref="ConvolutionalDensityModel"/>) turns h into
/// logits.
/// </para>
/// <para>
/// Cached sampling: at the start of each row the vertical stack is computed for that row (it depends on earlier
/// rows only), then for each pixel only the horizontal stack and the head at that position.
/// </para>
/// </remarks>
internal sealed class PixelCnn : ConvolutionalDensityModel
{
    public const string KindName = "PixelCNN";

    /// <summary>This family in model files.</summary>
    public static readonly ModelKind Descriptor = new(KindName, ReadHyperparameters);

    private readonly CausalConv2d[] _vertical, _horizontal, _link, _out;
    private readonly IReadOnlyList<Parameter> _parameters;

    /// <summary>Activations of one gated layer, <c>(C or 2C, B·P)</c>, kept for Backward.</summary>
    private sealed class LayerBuffers
    {
        public readonly ActivationBuffer VerticalPre = new(), VerticalOut = new();
        public readonly ActivationBuffer HorizontalPre = new(), HorizontalGated = new(), HorizontalOut = new();
    }

    private sealed class Workspace(int maxBatch, int layers) : ConvolutionWorkspace(maxBatch)
    {
        public readonly LayerBuffers[] Layers = Enumerable.Range(0, layers).Select(_ => new LayerBuffers()).ToArray();
        /// <summary>
        /// Backward: <c>∂L/∂h'</c>, <c>∂L/∂v'</c>, <c>∂L/∂v_pre</c>, <c>∂L/∂h_pre</c>, <c>∂L/∂gate(h_pre)</c>.
        /// </summary>
        public readonly ActivationBuffer HorizontalGradient = new(), VerticalGradient = new(),
            VerticalPreGradient = new(), HorizontalPreGradient = new(), GatedGradient = new();
    }

    public PixelCnn(int height, int width, int levels, int layers, int channels, int kernelSize, int headChannels,
        int mixtureComponents = 0)
        : base(height, width, levels, channels, headChannels, mixtureComponents)
    {
        if (layers < 1)
            throw new ArgumentOutOfRangeException(nameof(layers), $"PixelCNN needs at least one layer, got {layers}.");
        if (kernelSize < 3 || kernelSize % 2 == 0)
            throw new ArgumentOutOfRangeException(nameof(kernelSize),
                $"The kernel size must be odd and at least 3, got {kernelSize}.");
        (Layers, Channels, KernelSize) = (layers, channels, kernelSize);
        _vertical = new CausalConv2d[layers];
        _horizontal = new CausalConv2d[layers];
        _link = new CausalConv2d[layers];
        _out = new CausalConv2d[layers];
        for (int l = 0; l < layers; l++)
        {
            int inputs = l == 0 ? 1 : channels;
            _vertical[l] = new CausalConv2d($"Layer{l}.Vertical", inputs, 2 * channels,
                ConvTaps.Vertical(kernelSize, first: l == 0), height, width);
            _horizontal[l] = new CausalConv2d($"Layer{l}.Horizontal", inputs, 2 * channels,
                ConvTaps.Horizontal(kernelSize, first: l == 0), height, width);
            _link[l] = new CausalConv2d($"Layer{l}.Link", 2 * channels, 2 * channels, ConvTaps.Pointwise, height,
                width);
            _out[l] = new CausalConv2d($"Layer{l}.Out", channels, channels, ConvTaps.Pointwise, height, width);
        }
        _parameters = WithHead(Enumerable.Range(0, layers).SelectMany(l =>
            new[] { _vertical[l], _horizontal[l], _link[l], _out[l] }));
    }

    public int Layers { get; }
    public int Channels { get; }
    public int KernelSize { get; }
    public override string Kind => KindName;
    public override IReadOnlyList<Parameter> Parameters => _parameters;

    public override ModelWorkspace CreateWorkspace(int maxBatch) => new Workspace(maxBatch, Layers);

    /// <summary>
    /// Vertical stack on whole rows: every v_pre at these positions (the last layer's v' is never read).
    /// </summary>
    protected override void PrepareRows(ConvolutionWorkspace workspace, int batch, int p0, int p1)
    {
        var ws = (Workspace)workspace;
        long n = (long)batch * Dimension;
        for (int l = 0; l < Layers; l++)
        {
            LayerBuffers layer = ws.Layers[l];
            ReadOnlySpan<float> input = l == 0 ? ws.Input.Get(n) : ws.Layers[l - 1].VerticalOut.Get(Channels * n);
            Span<float> pre = layer.VerticalPre.Get(2 * Channels * n);
            Conv(_vertical[l], ws, input, batch, p0, p1, pre);
            if (l < Layers - 1) Gate(pre, layer.VerticalOut.Get(Channels * n), Channels, batch, p0, p1);
        }
    }

    protected override void BodyForward(ConvolutionWorkspace workspace, int batch, int p0, int p1)
    {
        var ws = (Workspace)workspace;
        long n = (long)batch * Dimension;
        for (int l = 0; l < Layers; l++)
        {
            LayerBuffers layer = ws.Layers[l];
            ReadOnlySpan<float> input = l == 0 ? ws.Input.Get(n) : ws.Layers[l - 1].HorizontalOut.Get(Channels * n);
            Span<float> pre = layer.HorizontalPre.Get(2 * Channels * n);
            Span<float> gated = layer.HorizontalGated.Get(Channels * n);
            Span<float> output = l == Layers - 1 ? ws.Features.Get(Channels * n)
                : layer.HorizontalOut.Get(Channels * n);
            Conv(_horizontal[l], ws, input, batch, p0, p1, pre);
            Conv(_link[l], ws, layer.VerticalPre.Get(2 * Channels * n), batch, p0, p1, pre, accumulate: true);
            Gate(pre, gated, Channels, batch, p0, p1);
            Conv(_out[l], ws, gated, batch, p0, p1, output);
            if (l > 0) AddInPlace(input, output, Channels, batch, p0, p1);
        }
    }

    protected override void BodyBackward(ConvolutionWorkspace workspace, int batch, ReadOnlySpan<float> dFeatures)
    {
        var ws = (Workspace)workspace;
        long n = (long)batch * Dimension;
        // dH holds ∂L/∂h' of the current layer; dV ∂L/∂v' (written by the layer above's vertical conv).
        Span<float> dH = ws.HorizontalGradient.Get(Channels * n);
        Span<float> dV = ws.VerticalGradient.Get(Channels * n);
        Span<float> dVPre = ws.VerticalPreGradient.Get(2 * Channels * n);
        Span<float> dHPre = ws.HorizontalPreGradient.Get(2 * Channels * n);
        Span<float> dGated = ws.GatedGradient.Get(Channels * n);
        Span<float> columnGradients = ws.ColumnGradientScratch.Get(_vertical.Concat(_horizontal).Max(c =>
            c.ColumnsLength(batch)));
        dFeatures.CopyTo(dH);
        for (int l = Layers - 1; l >= 0; l--)
        {
            LayerBuffers layer = ws.Layers[l];
            ReadOnlySpan<float> hInput = l == 0 ? ws.Input.Get(n) : ws.Layers[l - 1].HorizontalOut.Get(Channels * n);
            ReadOnlySpan<float> vInput = l == 0 ? ws.Input.Get(n) : ws.Layers[l - 1].VerticalOut.Get(Channels * n);
            ReadOnlySpan<float> vPre = layer.VerticalPre.Get(2 * Channels * n);

            // Horizontal: h' = [h +] out(gate(h_pre)); the residual's gradient stays in dH.
            _out[l].Backward(layer.HorizontalGated.Get(Channels * n), batch, dH, dGated, []);
            GateBackward(layer.HorizontalPre.Get(2 * Channels * n), dGated, dHPre);
            _horizontal[l].Backward(hInput, batch, dHPre, l == 0 ? [] : dH, columnGradients,
                accumulateDx: true);

            // Vertical: v_pre feeds the link and (below the last layer) v' = gate(v_pre).
            if (l < Layers - 1) GateBackward(vPre, dV, dVPre);
            else dVPre.Clear();
            _link[l].Backward(vPre, batch, dHPre, dVPre, [], accumulateDx: true);
            _vertical[l].Backward(vInput, batch, dVPre, l == 0 ? [] : dV, columnGradients);
        }
    }

    /// <summary><see cref="PrepareRows"/> and <see cref="BodyForward"/> as ONNX nodes over whole images.</summary>
    protected override string ExportBody(OnnxGraph graph, string image)
    {
        string vertical = image, horizontal = image;
        for (int l = 0; l < Layers; l++)
        {
            // (N, 2C, H, W)
            string verticalPre = _vertical[l].ExportOnnx(graph, vertical);
            string pre = graph.Add(_horizontal[l].ExportOnnx(graph, horizontal),
                _link[l].ExportOnnx(graph, verticalPre));
            // (N, C, H, W)
            string output = _out[l].ExportOnnx(graph, GatedActivation.ExportOnnx(graph, pre, Channels));
            horizontal = l > 0 ? graph.Add(output, horizontal) : output;
            if (l < Layers - 1) vertical = GatedActivation.ExportOnnx(graph, verticalPre, Channels);
        }
        return horizontal;
    }

    public override void WriteHyperparameters(BinaryWriter writer)
    {
        WriteShape(writer);
        writer.Write(Layers);
        writer.Write(KernelSize);
        writer.Write(MixtureComponents);
    }

    public static DensityModel ReadHyperparameters(BinaryReader reader, int formatVersion)
    {
        int height = reader.ReadInt32(), width = reader.ReadInt32(), levels = reader.ReadInt32(),
            channels = reader.ReadInt32(), head = reader.ReadInt32();
        int layers = reader.ReadInt32(), kernel = reader.ReadInt32();
        if (height < 1 || width < 1 || (long)height * width > 1 << 24)
            throw new ArgumentOutOfRangeException(nameof(height), $"Invalid image size {height}×{width}.");
        // Weights format 1 had no mixture head.
        int components = formatVersion >= ModelSerializer.FormatWithLevels ? reader.ReadInt32() : 0;
        return new PixelCnn(height, width, levels, layers, channels, kernel, head, components);
    }
}
