using System.Numerics.Tensors;
using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;
using MLNetAr.Nn.Layers;
using MLNetAr.Nn.Masks;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>
/// The activation buffers every convolutional model has (input, body features, head, scratch); each body adds its own
/// in a subclass. Activations are channel-major, <c>(C, B·P)</c>.
/// </summary>
internal class ConvolutionWorkspace(int maxBatch) : ModelWorkspace(maxBatch)
{
    /// <summary>The images <c>(1, B·P)</c>.</summary>
    public readonly ActivationBuffer Input = new();
    /// <summary>The body's output, F feature maps <c>(F, B·P)</c>.</summary>
    public readonly ActivationBuffer Features = new();
    /// <summary>Scratch of a ranged (sampling) convolution.</summary>
    public readonly ActivationBuffer RangeScratch = new();
    /// <summary>Backward's scratch: the gradient of a layer's im2col matrix.</summary>
    public readonly ActivationBuffer ColumnGradientScratch = new();
    /// <summary>
    /// The head: ReLU of the features <c>(F, B·P)</c>, its hidden layer and that layer's ReLU <c>(F_head, B·P)</c>.
    /// </summary>
    public readonly ActivationBuffer HeadInput = new(), HeadHidden = new(), HeadActivation = new();
    /// <summary>
    /// The head's gradients: <c>∂L/∂HeadInput</c>, <c>∂L/∂HeadActivation</c> and <c>∂L/∂Features</c>.
    /// </summary>
    public readonly ActivationBuffer HeadGradient = new(), HeadHiddenGradient = new(), FeatureGradient = new();
}

/// <summary>
/// Shared machinery of the convolutional AR models (PixelCNN, WaveNet): a causal body producing F feature maps per
/// position, then the output head <c>ReLU → 1×1 conv (F → F_head) → ReLU → 1×1 conv (F_head → logits)</c>, with
/// Bernoulli or K-level categorical pixels. Activations are channel-major over the batch, <c>(C, B·P)</c> (see
/// <see cref="CausalConv2d"/>), so a batch of images <c>(B, P)</c> is the one-channel input as it is.
/// </summary>
/// <remarks>
/// <para>
/// Cached sampling rests on one fact every body guarantees: the activation of any layer at position p depends only
/// on pixels before p. Once those are drawn it never changes, so generation computes each layer once per position,
/// in order (<see cref="BodyForward"/> on a one-position range, after <see cref="PrepareRows"/> for the rows that
/// start there): one forward pass in all, instead of one per pixel.
/// </para>
/// <para>
/// Hidden features: the body's last feature maps averaged over a grid of up to 4×4 cells, <c>F·cells</c> per row
/// (so a downstream model sees where in the image a feature fired).
/// </para>
/// </remarks>
internal abstract class ConvolutionalDensityModel : DensityModel, IIncrementalSampler, IOnnxExportableModel
{
    private const int PoolCells = 4;
    private readonly int _levels;
    private readonly int _poolRows, _poolColumns;

    private IReadOnlyList<CausalConv2d> _layers = [];

    protected ConvolutionalDensityModel(int height, int width, int levels, int featureChannels, int headChannels,
        int mixtureComponents = 0)
        : base(checked(height * width), mixtureComponents)
    {
        if (levels < 2 || levels > 256)
            throw new ArgumentOutOfRangeException(nameof(levels), $"Pixel levels must be in [2, 256], got {levels}.");
        if (featureChannels < 1 || headChannels < 1)
            throw new ArgumentOutOfRangeException(nameof(featureChannels), "Channel counts must be positive.");
        (Height, Width, _levels, FeatureChannels, HeadChannels) = (height, width, levels, featureChannels,
            headChannels);
        _poolRows = Math.Min(PoolCells, height);
        _poolColumns = Math.Min(PoolCells, width);
        HeadHidden = new CausalConv2d("Head.Hidden", featureChannels, headChannels, ConvTaps.Pointwise, height, width);
        HeadOutput = new CausalConv2d("Head.Output", headChannels, LogitsPerPixel, ConvTaps.Pointwise, height, width);
    }

    public int Height { get; }
    public int Width { get; }
    public override int Levels => _levels;

    /// <summary>Feature maps F of the body's output.</summary>
    public int FeatureChannels { get; }

    /// <summary>Channels of the head's hidden 1×1 layer.</summary>
    public int HeadChannels { get; }

    protected CausalConv2d HeadHidden { get; }
    protected CausalConv2d HeadOutput { get; }

    public override int HiddenFeatureCount => FeatureChannels * _poolRows * _poolColumns;

    /// <summary>
    /// A workspace of the body's type (a <see cref="ConvolutionWorkspace"/> with the body's buffers).
    /// </summary>
    public abstract override ModelWorkspace CreateWorkspace(int maxBatch);

    /// <summary>Each image's activations take megabytes: 8 images per read-ahead batch, 2 per parallel chunk.</summary>
    public override int ScoringBatchRows => 8;

    /// <summary>
    /// Sampling keeps every layer's activations of every row: about 2·(layers·maps + head)·D floats per row.
    /// </summary>
    public int SamplingBatchRows => 32;

    /// <summary>Layers of the body followed by the head, in the order of the weights stream.</summary>
    protected IReadOnlyList<Parameter> WithHead(IEnumerable<CausalConv2d> body)
    {
        _layers = body.Append(HeadHidden).Append(HeadOutput).ToArray();
        return _layers.SelectMany(l => new[] { l.Weight, l.Bias }).ToArray();
    }

    /// <summary>
    /// Computes the rows-only part of the body (PixelCNN's vertical stack) at positions <c>[p0, p1)</c>, which cover
    /// whole rows; it may depend on earlier rows only. Default: nothing.
    /// </summary>
    protected virtual void PrepareRows(ConvolutionWorkspace workspace, int batch, int p0, int p1)
    {
    }

    /// <summary>
    /// The body at positions <c>[p0, p1)</c> of every image: reads the input (<see cref="ConvolutionWorkspace.Input"/>)
    /// and writes the F feature maps <c>(F, B·P)</c> (<see cref="ConvolutionWorkspace.Features"/>) there. The full
    /// range also keeps what <see cref="BodyBackward"/> needs.
    /// </summary>
    protected abstract void BodyForward(ConvolutionWorkspace workspace, int batch, int p0, int p1);

    /// <summary>
    /// Adds the body's parameter gradients, given <c>∂L/∂features</c> <c>(F, B·P)</c> of the last full forward pass.
    /// </summary>
    protected abstract void BodyBackward(ConvolutionWorkspace workspace, int batch, ReadOnlySpan<float> dFeatures);

    /// <summary>
    /// Initialises every weight and bias U(−1/√fan_in, 1/√fan_in) and the output bias at the data's marginals.
    /// </summary>
    public void Initialize(Random random, ReadOnlySpan<float> trainingRows) =>
        Initialize(random, LevelCounts(trainingRows));

    /// <summary>As above, from the number of pixels at each level in the training rows.</summary>
    public void Initialize(Random random, double[] counts)
    {
        // In the order of the weights stream: each layer's weight, then its bias, both bounded by the weight's fan-in.
        foreach (CausalConv2d layer in _layers)
        {
            float bound = 1f / MathF.Sqrt(layer.Weight.Shape[1]);
            foreach (Parameter p in new[] { layer.Weight, layer.Bias })
                for (int i = 0; i < p.Length; i++) p.Value[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        }
        Distribution.MarginalLogits(counts).CopyTo(HeadOutput.Bias.Value, 0);
    }


    public override void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace)
    {
        var ws = (ConvolutionWorkspace)workspace;
        x[..(batch * Dimension)].CopyTo(ws.Input.Get(batch * Dimension));
        PrepareRows(ws, batch, 0, Dimension);
        BodyForward(ws, batch, 0, Dimension);
        HeadForward(ws, batch, 0, Dimension, logits);
    }

    /// <summary>Head at positions <c>[p0, p1)</c>: features <c>(F, B·P)</c> -> logits <c>(K', B·P)</c>.</summary>
    private void HeadForward(ConvolutionWorkspace ws, int batch, int p0, int p1, Span<float> logits)
    {
        int n = batch * Dimension;
        Span<float> features = ws.Features.Get((long)FeatureChannels * n);
        Span<float> input = ws.HeadInput.Get((long)FeatureChannels * n);
        Span<float> hidden = ws.HeadHidden.Get((long)HeadChannels * n);
        Span<float> activation = ws.HeadActivation.Get((long)HeadChannels * n);
        ReluRange(features, input, FeatureChannels, batch, p0, p1);
        Conv(HeadHidden, ws, input, batch, p0, p1, hidden);
        ReluRange(hidden, activation, HeadChannels, batch, p0, p1);
        Conv(HeadOutput, ws, activation, batch, p0, p1, logits);
    }

    public override void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
        ModelWorkspace workspace)
    {
        var ws = (ConvolutionWorkspace)workspace;
        int n = batch * Dimension;
        Span<float> input = ws.HeadInput.Get((long)FeatureChannels * n);
        Span<float> activation = ws.HeadActivation.Get((long)HeadChannels * n);
        Span<float> dActivation = ws.HeadHiddenGradient.Get((long)HeadChannels * n);
        Span<float> dInput = ws.HeadGradient.Get((long)FeatureChannels * n);
        Span<float> dFeatures = ws.FeatureGradient.Get((long)FeatureChannels * n);
        // (K', N) -> (F_head, N) -> (F, N), through both ReLUs.
        HeadOutput.Backward(activation, batch, dLogits, dActivation, []);
        ReluBackward(activation, dActivation, dActivation);
        HeadHidden.Backward(input, batch, dActivation, dInput, []);
        ReluBackward(input, dInput, dFeatures);
        BodyBackward(ws, batch, dFeatures);
    }

    public override void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
        ModelWorkspace workspace)
    {
        var ws = (ConvolutionWorkspace)workspace;
        int n = batch * Dimension, cells = _poolRows * _poolColumns;
        ReadOnlySpan<float> maps = ws.Features.Get((long)FeatureChannels * n);
        features[..(batch * HiddenFeatureCount)].Clear();
        var counts = new int[cells];
        for (int i = 0; i < Height; i++)
            for (int j = 0; j < Width; j++) counts[Cell(i, j)]++;
        for (int c = 0; c < FeatureChannels; c++)
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<float> map = maps.Slice(c * n + b * Dimension, Dimension);
                Span<float> target = features.Slice(b * HiddenFeatureCount + c * cells, cells);
                for (int i = 0; i < Height; i++)
                {
                    int cellRow = i * _poolRows / Height * _poolColumns;
                    for (int j = 0; j < Width; j++) target[cellRow + j * _poolColumns / Width] += map[i * Width + j];
                }
                for (int k = 0; k < cells; k++) target[k] /= counts[k];
            }
    }

    /// <summary>
    /// The body as ONNX nodes: the image <c>(N, 1, H, W)</c> to the F feature maps <c>(N, F, H, W)</c>.
    /// </summary>
    protected abstract string ExportBody(OnnxGraph graph, string image);

    /// <summary>Body, head and pooled hidden features as ONNX: logits <c>(N, D)</c> or <c>(N, K, D)</c>.</summary>
    public OnnxScores ExportOnnx(OnnxGraph graph, string pixels, bool hiddenFeatures)
    {
        string features = ExportBody(graph, graph.Reshape(pixels, -1, 1, Height, Width));
        string hidden = graph.Relu(HeadHidden.ExportOnnx(graph, graph.Relu(features)));
        string logits = HeadOutput.ExportOnnx(graph, hidden); // (N, K', H, W)
        logits = LogitsPerPixel == 1 ? graph.Reshape(logits, -1, Dimension)
            : graph.Reshape(logits, -1, LogitsPerPixel, Dimension);
        return this.ScoresFromLogits(graph, pixels, logits,
            hiddenFeatures ? ExportPooledFeatures(graph, features) : null);
    }

    /// <summary>
    /// <see cref="GetHiddenFeatures"/> as one product: <c>(N, F, P) · (P, cells) -> (N, F·cells)</c>, where column k of
    /// the pooling matrix holds <c>1 / count_k</c> at the positions of grid cell k.
    /// </summary>
    private string ExportPooledFeatures(OnnxGraph graph, string features)
    {
        int cells = _poolRows * _poolColumns;
        var pool = new float[Dimension * cells];
        var counts = new int[cells];
        for (int i = 0; i < Height; i++)
            for (int j = 0; j < Width; j++) counts[Cell(i, j)]++;
        for (int i = 0; i < Height; i++)
            for (int j = 0; j < Width; j++) pool[(i * Width + j) * cells + Cell(i, j)] = 1f / counts[Cell(i, j)];
        string pooled = graph.MatMul(graph.Reshape(features, -1, FeatureChannels, Dimension),
            graph.Constant(pool, Dimension, cells));
        return graph.Reshape(pooled, -1, HiddenFeatureCount);
    }

    /// <summary>The pooling grid cell of pixel (i, j).</summary>
    private int Cell(int i, int j) => i * _poolRows / Height * _poolColumns + j * _poolColumns / Width;

    /// <summary>
    /// Cached generation: every layer is computed once per position, in raster order, from activations already final
    /// (see the class remarks). Produces the same conditionals as
    /// <see cref="ModelCapabilities.SampleRowsNaive(DensityModel, Span{float}, int, int, SamplingStream[])"/>.
    /// </summary>
    public void SampleRows(Span<float> x, int batch, int knownSteps, SamplingStream[] streams,
        ModelWorkspace? workspace = null)
    {
        int d = Dimension, n = batch * d;
        var ws = (ConvolutionWorkspace)(workspace ?? CreateWorkspace(batch));
        Span<float> input = ws.Input.Get(n);
        x[..n].CopyTo(input);
        // Activations up to the first unknown pixel come from the known ones (positions after it are recomputed below).
        if (knownSteps > 0)
        {
            PrepareRows(ws, batch, 0, d);
            BodyForward(ws, batch, 0, d);
        }
        float[] logits = new float[(long)LogitsPerPixel * n];
        for (int p = knownSteps; p < d; p++)
        {
            if (p % Width == 0) PrepareRows(ws, batch, p, p + Width);
            BodyForward(ws, batch, p, p + 1);
            HeadForward(ws, batch, p, p + 1, logits);
            for (int r = 0; r < batch; r++)
                x[r * d + p] = input[r * d + p] = Distribution.Draw(streams[r], logits, n, r * d + p);
        }
    }

    /// <summary>
    /// Runs <paramref name="layer"/> on positions <c>[p0, p1)</c>: the full-batch path when the range is every
    /// position, else the ranged path.
    /// </summary>
    protected void Conv(CausalConv2d layer, ConvolutionWorkspace ws, ReadOnlySpan<float> x, int batch, int p0, int p1,
        Span<float> y, bool accumulate = false)
    {
        if (p0 == 0 && p1 == Dimension)
            layer.Forward(x, batch, y, accumulate);
        else
            layer.ForwardRange(x, batch, p0, p1, y, ws.RangeScratch.Get(layer.RangeScratchLength(batch, p1 - p0)),
                accumulate);
    }

    /// <summary>
    /// The runs of positions <c>[p0, p1)</c> over every channel and image of a <c>(C, B·P)</c> tensor: run s starts at
    /// <c>First + s·P</c> and has <c>Length</c> floats; the full range is a single run.
    /// </summary>
    protected (int Count, int First, int Length) Runs(int channels, int batch, int p0, int p1) =>
        p0 == 0 && p1 == Dimension ? (1, 0, channels * batch * Dimension) : (channels * batch, p0, p1 - p0);

    /// <summary><c>y = max(x, 0)</c> on positions <c>[p0, p1)</c> of a <c>(C, B·P)</c> tensor.</summary>
    protected unsafe void ReluRange(ReadOnlySpan<float> x, Span<float> y, int channels, int batch, int p0, int p1)
    {
        var (count, first, length) = Runs(channels, batch, p0, p1);
        if (count == 1)
        {
            fixed (float* px = x, py = y)
            {
                nint xAddress = (nint)px, yAddress = (nint)py;
                ForElementChunks(length, (start, n) =>
                    Relu.Forward(new ReadOnlySpan<float>((float*)xAddress + start, n),
                    new Span<float>((float*)yAddress + start, n)));
            }
            return;
        }
        for (int s = 0, o = first; s < count; s++, o += Dimension) Relu.Forward(x.Slice(o, length), y.Slice(o, length));
    }

    /// <summary><see cref="Relu.Backward"/> over the whole tensor, split over the cores.</summary>
    private static unsafe void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        fixed (float* py = y, pdy = dy, pdx = dx)
        {
            nint yAddress = (nint)py, dyAddress = (nint)pdy, dxAddress = (nint)pdx;
            ForElementChunks(y.Length, (start, n) => Relu.Backward(new ReadOnlySpan<float>((float*)yAddress + start, n),
                new ReadOnlySpan<float>((float*)dyAddress + start, n), new Span<float>((float*)dxAddress + start, n)));
        }
    }

    /// <summary>
    /// Gated activation on a range: <c>y[c] = tanh(pre[c]) ⊙ σ(pre[C + c])</c> for c &lt; C, pre <c>(2C, B·P)</c>,
    /// y <c>(C, B·P)</c>.
    /// </summary>
    protected unsafe void Gate(ReadOnlySpan<float> pre, Span<float> y, int channels, int batch, int p0, int p1)
    {
        int half = channels * batch * Dimension;
        var (count, first, length) = Runs(channels, batch, p0, p1);
        if (count == 1)
        {
            // The full range: one long run, split over the cores.
            fixed (float* pPre = pre, pY = y)
            {
                nint preAddress = (nint)pPre, yAddress = (nint)pY;
                ForElementChunks(half, (start, n) => GatedActivation.Forward(
                    new ReadOnlySpan<float>((float*)preAddress + start, n),
                        new ReadOnlySpan<float>((float*)preAddress + half + start, n),
                    new Span<float>((float*)yAddress + start, n)));
            }
            return;
        }
        ReadOnlySpan<float> a = pre[..half], g = pre.Slice(half, half);
        for (int s = 0, o = first; s < count; s++, o += Dimension)
            GatedActivation.Forward(a.Slice(o, length), g.Slice(o, length), y.Slice(o, length));
    }

    /// <summary>
    /// <c>∂pre</c> <c>(2C, B·P)</c> of <see cref="Gate"/> on every position, given <c>∂y</c> <c>(C, B·P)</c>.
    /// </summary>
    protected static unsafe void GateBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> dy, Span<float> dPre)
    {
        int half = dy.Length;
        fixed (float* pPre = pre, pDy = dy, pDPre = dPre)
        {
            nint preAddress = (nint)pPre, dyAddress = (nint)pDy, dPreAddress = (nint)pDPre;
            ForElementChunks(half, (start, n) => GatedActivation.Backward(
                new ReadOnlySpan<float>((float*)preAddress + start, n),
                    new ReadOnlySpan<float>((float*)preAddress + half + start, n),
                new ReadOnlySpan<float>((float*)dyAddress + start, n),
                new Span<float>((float*)dPreAddress + start, n),
                    new Span<float>((float*)dPreAddress + half + start, n)));
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, count) over fixed-size chunks of <c>[0, length)</c> in parallel: the
    /// elementwise passes over <c>(C, B·P)</c> tensors are memory-bound and would otherwise leave a core idle.
    /// </summary>
    protected static void ForElementChunks(int length, Action<int, int> body)
    {
        const int chunk = 1 << 15;
        Kernel.ForChunks((length + chunk - 1) / chunk, c => body(c * chunk, Math.Min(chunk, length - c * chunk)));
    }

    /// <summary>
    /// <c>y += x</c> on positions <c>[p0, p1)</c> of a <c>(C, B·P)</c> tensor (a residual connection).
    /// </summary>
    protected void AddInPlace(ReadOnlySpan<float> x, Span<float> y, int channels, int batch, int p0, int p1)
    {
        var (count, first, length) = Runs(channels, batch, p0, p1);
        for (int s = 0, o = first; s < count; s++, o += Dimension)
            TensorPrimitives.Add(y.Slice(o, length), x.Slice(o, length), y.Slice(o, length));
    }

    /// <summary>Writes the shared shape: height, width, levels, feature and head channels.</summary>
    protected void WriteShape(BinaryWriter writer)
    {
        writer.Write(Height);
        writer.Write(Width);
        writer.Write(Levels);
        writer.Write(FeatureChannels);
        writer.Write(HeadChannels);
    }
}
