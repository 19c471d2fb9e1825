using System.Numerics.Tensors;
using MLNetAr;
using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>NADE's hidden nonlinearity, stored in model files (the public <c>HiddenActivation</c>, value for
/// value).</summary>
internal enum NadeActivation
{
    Sigmoid = 0,
    Relu = 1,
}

/// <summary>
/// Neural autoregressive distribution estimator (Larochelle &amp; Murray 2011): with pixels taken in an order π,
/// <c>h_t = act(c + Σ_{s&lt;t} W_s x_π(s))</c> and <c>p(x_π(t) = 1 | x_π(&lt;t)) = σ(b_t + V_t · h_t)</c>; the weights
/// W are shared by every conditional. With K &gt; 2 levels step t has K logits <c>z_tk = b_tk + V_tk · h_t</c> (a
/// softmax), and the inputs are read as values <c>level / (K - 1)</c>.
/// </summary>
/// <remarks>
/// Everything runs in O(H·D) per image through the running pre-activation <c>a_{t+1} = a_t + W_t x_π(t)</c>, and an
/// input that is 0 costs nothing there (binary images are mostly 0). Training fuses forward and backward per image:
/// the forward pass keeps the D hidden vectors in per-chunk scratch, the backward pass walks t = D-1 … 0 carrying
/// <c>Σ_{t'&gt;t} ∂L/∂a_t'</c>, which is exactly the gradient of <c>W_t</c> (times x_π(t)) and, at the end, of c.
/// Rows of a minibatch are split into a fixed number of chunks with their own gradient buffers, summed in chunk
/// order: results do not depend on the number of threads.
/// </remarks>
internal sealed class Nade : DensityModel, IIncrementalSampler, IOnnxExportableModel
{
    public const string KindName = "NADE";

    /// <summary>This family in model files.</summary>
    public static readonly ModelKind Descriptor = new(KindName, ReadHyperparameters);
    private const int GradientChunks = 4;

    private readonly Parameter _w;    // (D, H): row t = input weights of the pixel at step t
    private readonly Parameter _c;    // (H)
    private readonly Parameter _v;    // (L·D, H): row k·D + t = output weights of logit k of step t
    private readonly Parameter _b;    // (L·D): output bias of logit k of step t at k·D + t
    private readonly int[] _order;
    private readonly int _levels;

    public Nade(int dimension, int hiddenSize, NadeActivation activation, int[] order, int levels = 2,
        int mixtureComponents = 0)
        : base(dimension, mixtureComponents)
    {
        if (levels < 2 || levels > 256)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, "NADE models 2 to 256 pixel levels.");
        _levels = levels;
        if (hiddenSize < 1)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), "NADE needs at least one hidden unit.");
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation));
        InputOrders.Validate(order, dimension);
        HiddenSize = hiddenSize;
        Activation = activation;
        _order = order;
        _w = new Parameter("W", dimension, hiddenSize);
        _c = new Parameter("c", hiddenSize);
        _v = new Parameter("V", LogitsPerPixel * dimension, hiddenSize);
        _b = new Parameter("b", LogitsPerPixel * dimension);
        Parameters = [_w, _c, _v, _b];
    }

    public int HiddenSize { get; }
    public NadeActivation Activation { get; }
    public override string Kind => KindName;
    public override int Levels => _levels;
    public override int HiddenFeatureCount => HiddenSize;
    public override IReadOnlyList<Parameter> Parameters { get; }
    public override int[] Order => _order;

    /// <summary>W ~ U(±1/√D), V ~ U(±1/√H), c = 0, b = logit of each pixel's training mean (binary pixels).</summary>
    public void Initialize(Random random, ReadOnlySpan<float> pixelMeans)
    {
        if (LogitsPerPixel != 1)
            throw new InvalidOperationException("Means describe binary pixels: initialise from level counts.");
        InitializeWeights(random);
        for (int t = 0; t < Dimension; t++)
        {
            float p = Math.Clamp(pixelMeans[_order[t]], 1e-3f, 1f - 1e-3f);
            _b.Value[t] = MathF.Log(p / (1f - p));
        }
    }

    /// <summary>
    /// As <see cref="Initialize(Random, ReadOnlySpan{float})"/>, with each step's biases at its pixel's smoothed
    /// marginal over the K levels, from <paramref name="pixelLevelCounts"/> <c>(D, K)</c> (by pixel).
    /// </summary>
    public void Initialize(Random random, ReadOnlySpan<double> pixelLevelCounts)
    {
        InitializeWeights(random);
        SetMarginalBiases(_b.Value, pixelLevelCounts, _order); // NADE's outputs are by step
    }

    private void InitializeWeights(Random random)
    {
        float sw = 1f / MathF.Sqrt(Dimension), sv = 1f / MathF.Sqrt(HiddenSize);
        for (int i = 0; i < _w.Length; i++) _w.Value[i] = (random.NextSingle() * 2 - 1) * sw;
        for (int i = 0; i < _v.Length; i++) _v.Value[i] = (random.NextSingle() * 2 - 1) * sv;
    }

    public override ModelWorkspace CreateWorkspace(int maxBatch) =>
        new NadeWorkspace(maxBatch, Dimension, HiddenSize, LogitsPerPixel);

    private sealed class NadeWorkspace(int maxBatch, int d, int h, int l) : ModelWorkspace(maxBatch)
    {
        public readonly Chunk[] Chunks =
            Enumerable.Range(0, GradientChunks).Select(_ => new Chunk(d, h, l)).ToArray();
        // (B, H) final hidden vectors of the last Forward
        public readonly float[] Hidden = new float[Math.Max(1, maxBatch) * h];
    }

    /// <summary>
    /// Scratch of one chunk of rows: running state, the D stored hidden vectors and private gradients.
    /// </summary>
    private sealed class Chunk(int d, int h, int l)
    {
        public readonly float[] A = new float[h];          // running pre-activation a_t
        public readonly float[] Hidden = new float[d * h]; // (D, H) h_t of the current image, for the backward pass
        public readonly float[] Z = new float[l * d];      // logits by step, (L, D): logit k of step t at k·D + t
        public readonly float[] DZ = l > 1 ? new float[l * d] : []; // ∂L/∂Z with K levels
        public readonly float[] X = new float[d];          // inputs by step
        public readonly float[] Carry = new float[h];      // Σ_{t'>t} ∂L/∂a_t'
        public readonly float[] GradW = new float[d * h], GradV = new float[l * d * h], GradB = new float[l * d],
            GradC = new float[h];
    }

    /// <summary>
    /// Rows <c>[first, last)</c> of chunk k out of <see cref="GradientChunks"/>: depends on the batch size only.
    /// </summary>
    private static (int First, int Last) ChunkRows(int batch, int k) =>
        (batch * k / GradientChunks, batch * (k + 1) / GradientChunks);

    private static void ForChunks(int batch, Action<int> body)
    {
        int threads = Kernel.AvailableThreads;
        if (threads == 1 || batch < 2) for (int k = 0; k < GradientChunks; k++) body(k);
        else Kernel.ParallelFor(0, GradientChunks, threads, body);
    }

    public override void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace)
    {
        var ws = (NadeWorkspace)workspace;
        int d = Dimension, h = HiddenSize;
        unsafe
        {
            fixed (float* px = x, pz = logits)
            {
                nint xAddress = (nint)px, zAddress = (nint)pz;
                ForChunks(batch, k =>
                {
                    Chunk chunk = ws.Chunks[k];
                    var (first, last) = ChunkRows(batch, k);
                    for (int r = first; r < last; r++)
                    {
                        var image = new ReadOnlySpan<float>((float*)xAddress + (long)r * d, d);
                        GatherInOrder(image, chunk.X);
                        RunForward(chunk, storeHidden: false, sampling: null);
                        // (L, D) by step -> row r of the (L, B·D) logits, by pixel
                        for (int level = 0; level < LogitsPerPixel; level++)
                        {
                            var rowLogits = new Span<float>((float*)zAddress + ((long)level * batch + r) * d, d);
                            for (int t = 0; t < d; t++) rowLogits[_order[t]] = chunk.Z[level * d + t];
                        }
                        FinalHidden(chunk.A, ws.Hidden.AsSpan(r * h, h));
                    }
                });
            }
        }
    }

    /// <summary>
    /// <c>(D) -> (L, D)</c> logits by step, in O(L·H·D): for each step t, <c>h_t = act(a_t)</c>,
    /// <c>z_t = b_t + V_t·h_t</c> (L of them),
    /// then <c>a_{t+1} = a_t + W_t x_t</c> (skipped when x_t = 0). When <paramref name="sampling"/> is given, x_t is
    /// drawn from z_t first (steps at or after <c>sampling.KnownSteps</c>).
    /// </summary>
    private void RunForward(Chunk chunk, bool storeHidden, (SamplingStream Stream, int KnownSteps)? sampling)
    {
        int d = Dimension, h = HiddenSize;
        float[] w = _w.Value, v = _v.Value, b = _b.Value;
        Span<float> a = chunk.A;
        _c.Value.CopyTo(a);
        Span<float> hidden = storeHidden ? chunk.Hidden : chunk.Hidden.AsSpan(0, h);
        for (int t = 0; t < d; t++)
        {
            Span<float> ht = storeHidden ? hidden.Slice(t * h, h) : hidden;
            Activate(a, ht);
            for (int k = 0; k < LogitsPerPixel; k++)
            {
                int unit = k * d + t;
                chunk.Z[unit] = b[unit] + TensorPrimitives.Dot(v.AsSpan(unit * h, h), ht);
            }
            if (sampling is { } s && t >= s.KnownSteps) chunk.X[t] = Distribution.Draw(s.Stream, chunk.Z, d, t);
            float xt = chunk.X[t];
            if (xt != 0f)
            {
                ReadOnlySpan<float> wt = w.AsSpan(t * h, h);
                if (xt == 1f) TensorPrimitives.Add(a, wt, a);
                else TensorPrimitives.MultiplyAdd(wt, xt, a, a);
            }
        }
    }

    private void Activate(ReadOnlySpan<float> a, Span<float> h)
    {
        if (Activation == NadeActivation.Sigmoid) TensorPrimitives.Sigmoid(a, h);
        else TensorPrimitives.Max(a, 0f, h);
    }

    /// <summary>Hidden features: <c>h_D = act(c + Σ_t W_t x_t)</c>, the hidden vector after every pixel.</summary>
    private void FinalHidden(ReadOnlySpan<float> a, Span<float> destination) => Activate(a, destination);

    /// <inheritdoc/>
    public OnnxScores ExportOnnx(OnnxGraph graph, string pixels, bool hiddenFeatures)
    {
        var (logits, features) = ExportForward(graph, pixels, hiddenFeatures);
        return this.ScoresFromLogits(graph, pixels, logits, features);
    }

    /// <summary>
    /// The running pre-activation as one exclusive cumulative sum over steps, <c>a_t = c + Σ_{s&lt;t} W_s x_π(s)</c>:
    /// <c>(N, D) -> (N, D, H)</c> activations, O(N·D·H) like the incremental pass, then <c>z_t = b_t + V_t · h_t</c>.
    /// </summary>
    private (string Logits, string? HiddenFeatures) ExportForward(OnnxGraph graph, string pixels,
        bool hiddenFeatures)
    {
        int d = Dimension, h = HiddenSize;
        var inverse = new long[d];
        for (int t = 0; t < d; t++) inverse[_order[t]] = t;
        // (N, D), by step
        string byStep = graph.Gather(pixels, _order.Select(i => (long)i).ToArray(), axis: 1);
        // (N, D, H)
        string contributions = graph.Mul(graph.Unsqueeze(byStep, 2), graph.Constant(_w.Value, d, h));
        string c = graph.Constant(_c.Value, h);
        // (N, D, H)
        string hidden = Activate(graph, graph.Add(graph.CumSum(contributions, axis: 1, exclusive: true), c));
        string logits;
        if (LogitsPerPixel == 1)
        {
            string zByStep = graph.Add(graph.ReduceSum(graph.Mul(hidden, graph.Constant(_v.Value, d, h)), 2,
                keepDims: false),
                graph.Constant(_b.Value, d));  // (N, D)
            logits = graph.Gather(zByStep, inverse, axis: 1); // by pixel
        }
        else
        {
            int l = LogitsPerPixel;
            // (N, 1, D, H) ⊙ (L, D, H) summed over H -> (N, L, D), by step, then by pixel.
            string zByStep = graph.Add(graph.ReduceSum(graph.Mul(graph.Unsqueeze(hidden, 1),
                graph.Constant(_v.Value, l, d, h)), 3, keepDims: false), graph.Constant(_b.Value, l, d));
            logits = graph.Gather(zByStep, inverse, axis: 2);
        }
        string? features = hiddenFeatures
            ? Activate(graph, graph.Add(graph.ReduceSum(contributions, 1, keepDims: false), c)) : null;
        return (logits, features);
    }

    private string Activate(OnnxGraph graph, string a) =>
        Activation == NadeActivation.Sigmoid ? graph.Sigmoid(a) : graph.Relu(a);

    private void GatherInOrder(ReadOnlySpan<float> image, Span<float> byStep)
    {
        for (int t = 0; t < _order.Length; t++) byStep[t] = image[_order[t]];
    }

    public override double TrainingStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch,
        ModelWorkspace workspace)
    {
        if (inputs != targets)
            throw new NotSupportedException("NADE's fused training pass reads each pixel as both input and target.");
        ReadOnlySpan<float> x = targets;
        var ws = (NadeWorkspace)workspace;
        int d = Dimension;
        var nll = new double[GradientChunks];
        float scale = 1f / batch;
        unsafe
        {
            fixed (float* px = x)
            {
                nint xAddress = (nint)px;
                ForChunks(batch, k =>
                {
                    Chunk chunk = ws.Chunks[k];
                    var (first, last) = ChunkRows(batch, k);
                    for (int r = first; r < last; r++)
                    {
                        GatherInOrder(new ReadOnlySpan<float>((float*)xAddress + (long)r * d, d), chunk.X);
                        RunForward(chunk, storeHidden: true, sampling: null);
                        nll[k] -= Distribution.SumLogProbabilities(chunk.Z, chunk.X, d, 0, d);
                        RunBackward(chunk, scale);
                    }
                });
            }
        }
        // Sum the chunks' gradients in chunk order (deterministic), clearing them for the next step.
        foreach (Chunk chunk in ws.Chunks)
        {
            AddAndClear(_w.Gradient, chunk.GradW);
            AddAndClear(_v.Gradient, chunk.GradV);
            AddAndClear(_b.Gradient, chunk.GradB);
            AddAndClear(_c.Gradient, chunk.GradC);
        }
        return nll.Sum();
    }

    private static void AddAndClear(float[] target, float[] source)
    {
        TensorPrimitives.Add(target, source, target);
        Array.Clear(source);
    }

    /// <summary>
    /// Reverse pass of one image, after <see cref="RunForward"/> stored its hidden vectors. With
    /// <c>δ_t = scale·(σ(z_t) - x_t)</c> (K levels: <c>δ_tk = scale·(softmax(z_t)_k - [k = level(x_t)])</c>):
    /// <c>∂b_t = δ_t</c>, <c>∂V_t = δ_t h_t</c>, <c>∂W_t = x_t Σ_{t'&gt;t} g_t'</c> and <c>∂c = Σ_t g_t</c>, where
    /// <c>g_t = ∂L/∂a_t = Σ_k δ_tk V_tk ⊙ act'(a_t)</c>.
    /// </summary>
    private void RunBackward(Chunk chunk, float scale)
    {
        int d = Dimension, h = HiddenSize, l = LogitsPerPixel;
        float[] v = _v.Value;
        Span<float> carry = chunk.Carry;
        carry.Clear();
        if (l > 1) Distribution.NllGradient(chunk.Z, chunk.X, d, scale, chunk.DZ);
        for (int t = d - 1; t >= 0; t--)
        {
            ReadOnlySpan<float> ht = chunk.Hidden.AsSpan(t * h, h);
            for (int k = 0; k < l; k++)
            {
                int unit = k * d + t;
                float delta = l == 1 ? scale * (Kernel.Sigmoid(chunk.Z[t]) - chunk.X[t]) : chunk.DZ[unit];
                chunk.GradB[unit] += delta;
                Span<float> gradV = chunk.GradV.AsSpan(unit * h, h);
                TensorPrimitives.MultiplyAdd(ht, delta, gradV, gradV);
            }
            float xt = chunk.X[t];
            if (xt != 0f)
            {
                Span<float> gradWt = chunk.GradW.AsSpan(t * h, h);
                if (xt == 1f) TensorPrimitives.Add(gradWt, carry, gradWt);
                else TensorPrimitives.MultiplyAdd(carry, xt, gradWt, gradWt);
            }
            // carry += Σ_k δ_tk · V_tk ⊙ act'(a_t), act' from the stored activations
            for (int k = 0; k < l; k++)
            {
                int unit = k * d + t;
                float delta = l == 1 ? scale * (Kernel.Sigmoid(chunk.Z[t]) - chunk.X[t]) : chunk.DZ[unit];
                Kernel.AccumulateThroughActivation(delta, v.AsSpan(unit * h, h), ht, carry,
                    sigmoid: Activation == NadeActivation.Sigmoid);
            }
        }
        TensorPrimitives.Add(chunk.GradC, carry, chunk.GradC);
    }

    public override void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
        ModelWorkspace workspace) =>
        throw new NotSupportedException("NADE trains through its fused TrainingStep.");

    public override void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
        ModelWorkspace workspace) =>
        ((NadeWorkspace)workspace).Hidden.AsSpan(0, batch * HiddenSize).CopyTo(features);

    /// <summary>O(H·D) per image: the forward recurrence, drawing each pixel as soon as its logit is known.</summary>
    public void SampleRows(Span<float> x, int batch, int knownSteps, SamplingStream[] streams,
        ModelWorkspace? workspace = null)
    {
        int d = Dimension;
        Kernel.ForEachRow(x, batch, d, () => new Chunk(d, HiddenSize, LogitsPerPixel), (image, r, chunk) =>
        {
            GatherInOrder(image, chunk.X);
            RunForward(chunk, storeHidden: false, sampling: (streams[r], knownSteps));
            for (int t = 0; t < d; t++) image[_order[t]] = chunk.X[t];
        });
    }

    public override void WriteHyperparameters(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(HiddenSize);
        writer.Write((int)Activation);
        foreach (int pixel in _order) writer.Write(pixel);
        writer.Write(Levels);
        writer.Write(MixtureComponents);
    }

    public static Nade ReadHyperparameters(BinaryReader reader, int formatVersion)
    {
        int d = reader.ReadInt32(), h = reader.ReadInt32();
        var activation = (NadeActivation)reader.ReadInt32();
        if (d < 1 || h < 1 || d > 1 << 24 || h > 1 << 24)
            throw new ArgumentOutOfRangeException(nameof(reader), $"NADE sizes D = {d}, H = {h} are invalid.");
        var order = new int[d];
        for (int t = 0; t < d; t++) order[t] = reader.ReadInt32();
        // Weights format 1 held binary NADEs only.
        if (formatVersion < ModelSerializer.FormatWithLevels) return new Nade(d, h, activation, order);
        int levels = reader.ReadInt32();
        return new Nade(d, h, activation, order, levels, reader.ReadInt32());
    }
}
