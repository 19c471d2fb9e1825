using MLNetAr.Nn;
using MLNetAr.Nn.Layers;
using MLNetAr.Nn.Masks;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>
/// WaveNet (van den Oord et al. 2016) over a sequence of D values (an image in raster order, or any fixed-length
/// vector): stacks of dilated causal convolutions with gated activations, residual and skip connections, and
/// Bernoulli or K-level categorical outputs.
/// </summary>
/// <remarks>
/// <code>
/// r_0 = causal(x)                    (1 -> C, taps t-2, t-1: never sees x_t)
/// z_l = tanh(a) ⊙ σ(g), [a; g] = dconv_l(r_l)      (C -> 2C, taps t - d_l, t)
/// r_{l+1} = r_l + res_l(z_l)         (1×1, absent after the last block, whose output nobody reads)
/// s = Σ_l skip_l(z_l)                (1×1, C -> S)  -> head (see ConvolutionalDensityModel)
/// </code>
/// The receptive field is <c>2 + Σ d_l</c> positions. Cached sampling ("Fast WaveNet", Paine et al. 2016): every
/// layer is computed once per position; the activations a layer reads at t − d are already in its buffer, which
/// plays the role of the paper's queues.
/// </remarks>
internal sealed class WaveNet : ConvolutionalDensityModel
{
    public const string KindName = "WaveNet";

    /// <summary>This family in model files.</summary>
    public static readonly ModelKind Descriptor = new(KindName, ReadHyperparameters);

    private readonly int[] _dilations;
    private readonly CausalConv2d _causal;
    private readonly CausalConv2d[] _dilated, _skip;
    private readonly CausalConv2d?[] _residual;
    private readonly IReadOnlyList<Parameter> _parameters;

    /// <summary>Activations of one block, kept for Backward: its input r_l <c>(C, B·P)</c>, the dilated
    /// convolution's output <c>(2C, B·P)</c> and the gated activation <c>(C, B·P)</c>.</summary>
    private sealed class BlockBuffers
    {
        public readonly ActivationBuffer Residual = new(), DilatedPre = new(), Gated = new();
    }

    private sealed class Workspace(int maxBatch, int blocks) : ConvolutionWorkspace(maxBatch)
    {
        public readonly BlockBuffers[] Blocks = Enumerable.Range(0, blocks).Select(_ => new BlockBuffers()).ToArray();
        /// <summary>Backward: <c>∂L/∂r</c>, <c>∂L/∂pre</c>, <c>∂L/∂z</c>.</summary>
        public readonly ActivationBuffer ResidualGradient = new(), PreGradient = new(), GatedGradient = new();
    }

    public WaveNet(int length, int levels, int[] dilations, int channels, int skipChannels, int headChannels,
        int mixtureComponents = 0)
        : base(1, length, levels, skipChannels, headChannels, mixtureComponents)
    {
        if (dilations.Length == 0 || dilations.Any(d => d < 1))
            throw new ArgumentOutOfRangeException(nameof(dilations),
                "WaveNet needs at least one block, with positive dilations.");
        if (channels < 1)
            throw new ArgumentOutOfRangeException(nameof(channels), $"Channels must be positive, got {channels}.");
        _dilations = dilations.ToArray();
        Channels = channels;
        _causal = new CausalConv2d("Causal", 1, channels, ConvTaps.Causal(2), 1, length);
        int blocks = dilations.Length;
        _dilated = new CausalConv2d[blocks];
        _skip = new CausalConv2d[blocks];
        _residual = new CausalConv2d?[blocks];
        for (int l = 0; l < blocks; l++)
        {
            _dilated[l] = new CausalConv2d($"Block{l}.Dilated", channels, 2 * channels, ConvTaps.Dilated(dilations[l]),
                1, length);
            _skip[l] = new CausalConv2d($"Block{l}.Skip", channels, skipChannels, ConvTaps.Pointwise, 1, length);
            if (l < blocks - 1)
                _residual[l] = new CausalConv2d($"Block{l}.Residual", channels, channels, ConvTaps.Pointwise, 1,
                    length);
        }
        _parameters = WithHead(new[] { _causal }.Concat(Enumerable.Range(0, blocks).SelectMany(l =>
            _residual[l] is { } r ? new[] { _dilated[l], r, _skip[l] } : new[] { _dilated[l], _skip[l] })));
    }

    public IReadOnlyList<int> Dilations => _dilations;
    public int Channels { get; }
    public override string Kind => KindName;
    public override IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Positions a logit can depend on: <c>2 + Σ d_l</c>.</summary>
    public int ReceptiveField => 2 + _dilations.Sum();

    public override ModelWorkspace CreateWorkspace(int maxBatch) => new Workspace(maxBatch, _dilations.Length);

    protected override void BodyForward(ConvolutionWorkspace workspace, int batch, int p0, int p1)
    {
        var ws = (Workspace)workspace;
        long n = (long)batch * Dimension;
        Span<float> skip = ws.Features.Get(FeatureChannels * n);
        Conv(_causal, ws, ws.Input.Get(n), batch, p0, p1, ws.Blocks[0].Residual.Get(Channels * n));
        for (int l = 0; l < _dilations.Length; l++)
        {
            BlockBuffers block = ws.Blocks[l];
            Span<float> r = block.Residual.Get(Channels * n);
            Span<float> pre = block.DilatedPre.Get(2 * Channels * n);
            Span<float> z = block.Gated.Get(Channels * n);
            Conv(_dilated[l], ws, r, batch, p0, p1, pre);
            Gate(pre, z, Channels, batch, p0, p1);
            Conv(_skip[l], ws, z, batch, p0, p1, skip, accumulate: l > 0);
            if (_residual[l] is { } residual)
            {
                Span<float> next = ws.Blocks[l + 1].Residual.Get(Channels * n);
                Conv(residual, ws, z, batch, p0, p1, next);
                AddInPlace(r, next, Channels, batch, p0, p1);
            }
        }
    }

    protected override void BodyBackward(ConvolutionWorkspace workspace, int batch, ReadOnlySpan<float> dFeatures)
    {
        var ws = (Workspace)workspace;
        long n = (long)batch * Dimension;
        // dR holds ∂L/∂r_{l+1} while block l is processed, ∂L/∂r_l after it (the residual path is the identity).
        Span<float> dR = ws.ResidualGradient.Get(Channels * n);
        Span<float> dPre = ws.PreGradient.Get(2 * Channels * n);
        Span<float> dZ = ws.GatedGradient.Get(Channels * n);
        Span<float> columnGradients = ws.ColumnGradientScratch.Get(_dilated.Max(c => c.ColumnsLength(batch)));
        dR.Clear();
        for (int l = _dilations.Length - 1; l >= 0; l--)
        {
            BlockBuffers block = ws.Blocks[l];
            ReadOnlySpan<float> z = block.Gated.Get(Channels * n);
            _skip[l].Backward(z, batch, dFeatures, dZ, []);
            _residual[l]?.Backward(z, batch, dR, dZ, [], accumulateDx: true);
            GateBackward(block.DilatedPre.Get(2 * Channels * n), dZ, dPre);
            _dilated[l].Backward(block.Residual.Get(Channels * n), batch, dPre, dR, columnGradients,
                accumulateDx: true);
        }
        _causal.Backward(ws.Input.Get(n), batch, dR, [], []);
    }

    /// <summary><see cref="BodyForward"/> as ONNX nodes over the whole sequence, a <c>(N, 1, 1, D)</c> image.</summary>
    protected override string ExportBody(OnnxGraph graph, string image)
    {
        string residual = _causal.ExportOnnx(graph, image);
        var skips = new List<string>();
        for (int l = 0; l < _dilations.Length; l++)
        {
            string gated = GatedActivation.ExportOnnx(graph, _dilated[l].ExportOnnx(graph, residual), Channels);
            skips.Add(_skip[l].ExportOnnx(graph, gated));
            if (_residual[l] is { } next) residual = graph.Add(next.ExportOnnx(graph, gated), residual);
        }
        return graph.Sum(skips);
    }

    public override void WriteHyperparameters(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(Levels);
        writer.Write(Channels);
        writer.Write(FeatureChannels);
        writer.Write(HeadChannels);
        writer.Write(_dilations.Length);
        foreach (int d in _dilations) writer.Write(d);
        writer.Write(MixtureComponents);
    }

    public static DensityModel ReadHyperparameters(BinaryReader reader, int formatVersion)
    {
        int length = reader.ReadInt32(), levels = reader.ReadInt32(), channels = reader.ReadInt32(),
            skip = reader.ReadInt32(), head = reader.ReadInt32();
        int blocks = reader.ReadInt32();
        if (blocks < 1 || blocks > 1024)
            throw new ArgumentOutOfRangeException(nameof(blocks), $"Invalid block count {blocks}.");
        var dilations = new int[blocks];
        for (int l = 0; l < blocks; l++) dilations[l] = reader.ReadInt32();
        // Weights format 1 had no mixture head.
        int components = formatVersion >= ModelSerializer.FormatWithLevels ? reader.ReadInt32() : 0;
        return new WaveNet(length, levels, dilations, channels, skip, head, components);
    }
}
