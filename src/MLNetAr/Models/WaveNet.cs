using MLNetAr.Nn;
using MLNetAr.Nn.Layers;
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

    private readonly int[] _dilations;
    private readonly CausalConv2d _causal;
    private readonly CausalConv2d[] _dilated, _skip;
    private readonly CausalConv2d?[] _residual;
    private readonly IReadOnlyList<Parameter> _parameters;

    private const int SlotsPerBlock = 4;
    private const int Residual = 0, DilatedColumns = 1, DilatedPre = 2, Gated = 3;
    private const int CausalColumns = BodySlot - 1;
    private const int ResidualGradient = 1000, PreGradient = 1001, GatedGradient = 1002;

    public WaveNet(int length, int levels, int[] dilations, int channels, int skipChannels, int headChannels)
        : base(1, length, levels, skipChannels, headChannels)
    {
        if (dilations.Length == 0 || dilations.Any(d => d < 1))
            throw new ArgumentOutOfRangeException(nameof(dilations), "WaveNet needs at least one block, with positive dilations.");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), $"Channels must be positive, got {channels}.");
        _dilations = dilations.ToArray();
        Channels = channels;
        _causal = new CausalConv2d("Causal", 1, channels, ConvTaps.Causal(2), 1, length);
        int blocks = dilations.Length;
        _dilated = new CausalConv2d[blocks];
        _skip = new CausalConv2d[blocks];
        _residual = new CausalConv2d?[blocks];
        for (int l = 0; l < blocks; l++)
        {
            _dilated[l] = new CausalConv2d($"Block{l}.Dilated", channels, 2 * channels, ConvTaps.Dilated(dilations[l]), 1, length);
            _skip[l] = new CausalConv2d($"Block{l}.Skip", channels, skipChannels, ConvTaps.Pointwise, 1, length);
            if (l < blocks - 1) _residual[l] = new CausalConv2d($"Block{l}.Residual", channels, channels, ConvTaps.Pointwise, 1, length);
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

    private static int Slot(int block, int kind) => BodySlot + block * SlotsPerBlock + kind;

    protected override void BodyForward(ConvolutionWorkspace ws, int batch, int p0, int p1)
    {
        long n = (long)batch * Dimension;
        Span<float> skip = ws.Get(FeaturesSlot, FeatureChannels * n);
        Conv(_causal, ws, ws.Get(InputSlot, n), batch, p0, p1, ws.Get(Slot(0, Residual), Channels * n), CausalColumns);
        for (int l = 0; l < _dilations.Length; l++)
        {
            Span<float> r = ws.Get(Slot(l, Residual), Channels * n);
            Span<float> pre = ws.Get(Slot(l, DilatedPre), 2 * Channels * n);
            Span<float> z = ws.Get(Slot(l, Gated), Channels * n);
            Conv(_dilated[l], ws, r, batch, p0, p1, pre, Slot(l, DilatedColumns));
            Gate(pre, z, Channels, batch, p0, p1);
            Conv(_skip[l], ws, z, batch, p0, p1, skip, accumulate: l > 0);
            if (_residual[l] is { } residual)
            {
                Span<float> next = ws.Get(Slot(l + 1, Residual), Channels * n);
                Conv(residual, ws, z, batch, p0, p1, next);
                AddInPlace(r, next, Channels, batch, p0, p1);
            }
        }
    }

    protected override void BodyBackward(ConvolutionWorkspace ws, int batch, ReadOnlySpan<float> dFeatures)
    {
        long n = (long)batch * Dimension;
        // dR holds ∂L/∂r_{l+1} while block l is processed, ∂L/∂r_l after it (the residual path is the identity).
        Span<float> dR = ws.Get(ResidualGradient, Channels * n);
        Span<float> dPre = ws.Get(PreGradient, 2 * Channels * n);
        Span<float> dZ = ws.Get(GatedGradient, Channels * n);
        Span<float> scratch = ws.Get(ColumnsScratchSlot, _dilated[0].ColumnsLength(batch));
        dR.Clear();
        for (int l = _dilations.Length - 1; l >= 0; l--)
        {
            ReadOnlySpan<float> z = ws.Get(Slot(l, Gated), Channels * n);
            _skip[l].Backward(z, [], batch, dFeatures, dZ, []);
            _residual[l]?.Backward(z, [], batch, dR, dZ, [], accumulateDx: true);
            GateBackward(ws.Get(Slot(l, DilatedPre), 2 * Channels * n), dZ, dPre);
            _dilated[l].Backward(ws.Get(Slot(l, Residual), Channels * n), ws.Get(Slot(l, DilatedColumns), _dilated[l].ColumnsLength(batch)),
                batch, dPre, dR, scratch, accumulateDx: true);
        }
        _causal.Backward(ws.Get(InputSlot, n), ws.Get(CausalColumns, _causal.ColumnsLength(batch)), batch, dR, [], []);
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
    }

    public static DensityModel ReadHyperparameters(BinaryReader reader)
    {
        int length = reader.ReadInt32(), levels = reader.ReadInt32(), channels = reader.ReadInt32(), skip = reader.ReadInt32(), head = reader.ReadInt32();
        int blocks = reader.ReadInt32();
        if (blocks < 1 || blocks > 1024) throw new ArgumentOutOfRangeException(nameof(blocks), $"Invalid block count {blocks}.");
        var dilations = new int[blocks];
        for (int l = 0; l < blocks; l++) dilations[l] = reader.ReadInt32();
        return new WaveNet(length, levels, dilations, channels, skip, head);
    }
}
