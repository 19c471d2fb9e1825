using System.Numerics.Tensors;
using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;
using MLNetAr.Nn.Layers;
using MLNetAr.Nn.Masks;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>
/// Masked autoencoder for distribution estimation (Germain et al. 2015): ReLU layers
/// <c>h_l = relu(h_{l-1} · (W_l ⊙ M_l)ᵀ + b_l)</c> and logits <c>z = h_L · (V ⊙ M_V)ᵀ + c [+ x · (A ⊙ M_A)ᵀ]</c>, where
/// the masks (<see cref="MadeMasks"/>) make logit d depend only on inputs earlier in the order.
/// </summary>
/// <remarks>
/// Order- and connectivity-agnostic training cycles through <see cref="NumberOfMasks"/> connectivities, one per
/// minibatch (regenerated from seeds rather than stored). Scoring averages the probabilities of the first
/// <see cref="EnsembleSize"/> connectivities: <c>log p(x) = logsumexp_k log p_k(x) - log K</c>, a normalised mixture.
/// Once training ends the masked weights of the ensemble are cached (read-only, shared by all scoring threads).
/// </remarks>
internal sealed class Made : DensityModel, IIncrementalSampler, ITrainingHooks, IOnnxExportableModel
{
    public const string KindName = "MADE";

    /// <summary>This family in model files.</summary>
    public static readonly ModelKind Descriptor = new(KindName, ReadHyperparameters);

    private readonly int[] _hiddenSizes;
    private readonly MaskedLinear[] _hidden;
    private readonly MaskedLinear _output;
    private readonly MaskedLinear? _direct;
    private readonly int _levels;
    private int _currentMask;
    private Lazy<MaskSet>[]? _frozen;
    // Whether _frozen was built for the current validation pass only (dropped after it: training goes on).
    private bool _frozenForValidation;

    public Made(int dimension, int[] hiddenSizes, bool naturalOrder, int maskSeed, int numberOfMasks, int ensembleSize,
        bool directConnections, int levels = 2, int mixtureComponents = 0)
        : base(dimension, mixtureComponents)
    {
        if (levels < 2 || levels > 256)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, "MADE models 2 to 256 pixel levels.");
        _levels = levels;
        if (hiddenSizes.Length == 0 || hiddenSizes.Any(h => h < 1))
            throw new ArgumentOutOfRangeException(nameof(hiddenSizes),
                "MADE needs one or more hidden layers of positive size.");
        if (numberOfMasks < 1)
            throw new ArgumentOutOfRangeException(nameof(numberOfMasks), "MADE needs at least one mask.");
        if (ensembleSize < 1 || ensembleSize > numberOfMasks)
            throw new ArgumentOutOfRangeException(nameof(ensembleSize),
                $"The ensemble must use 1 to {numberOfMasks} masks.");
        _hiddenSizes = hiddenSizes;
        NaturalOrder = naturalOrder;
        MaskSeed = maskSeed;
        NumberOfMasks = numberOfMasks;
        EnsembleSize = ensembleSize;
        _hidden = new MaskedLinear[hiddenSizes.Length];
        int inputs = dimension;
        for (int l = 0; l < hiddenSizes.Length; l++)
        {
            _hidden[l] = new MaskedLinear($"Hidden{l}", inputs, hiddenSizes[l]);
            inputs = hiddenSizes[l];
        }
        // L output units per pixel, logit k of pixel i at k·D + i: (B, L·D), spread to (L, B·D) when L > 1.
        _output = new MaskedLinear("Output", inputs, LogitsPerPixel * dimension);
        _direct = directConnections
            ? new MaskedLinear("Direct", dimension, LogitsPerPixel * dimension, hasBias: false) : null;
        var parameters = new List<Parameter>();
        foreach (var layer in _hidden.Append(_output)) { parameters.Add(layer.Weight); parameters.Add(layer.Bias!); }
        if (_direct != null) parameters.Add(_direct.Weight);
        Parameters = parameters;
    }

    public IReadOnlyList<int> HiddenSizes => _hiddenSizes;
    public bool NaturalOrder { get; }
    public int MaskSeed { get; }
    public int NumberOfMasks { get; }
    public int EnsembleSize { get; }
    public bool DirectConnections => _direct != null;
    public override string Kind => KindName;
    public override int Levels => _levels;
    public override int HiddenFeatureCount => _hiddenSizes[^1];
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The order of the first connectivity (the one <see cref="Forward"/> uses outside training).</summary>
    public override int[] Order => Masks(0).Order;

    /// <summary>Connectivity <paramref name="index"/> (deterministic in the mask seed).</summary>
    public MadeMasks Masks(int index) =>
        MadeMasks.Create(Dimension, _hiddenSizes, NaturalOrder, MaskSeed, index, LogitsPerPixel);

    /// <summary>
    /// PyTorch's default for linear layers: weights and biases ~ U(±1/√fan_in); binary pixels' output biases = the
    /// logits of <paramref name="pixelMeans"/>.
    /// </summary>
    public void Initialize(Random random, ReadOnlySpan<float> pixelMeans)
    {
        if (LogitsPerPixel != 1)
            throw new InvalidOperationException("Means describe binary pixels: initialise from level counts.");
        InitializeLayers(random);
        for (int d = 0; d < Dimension; d++)
        {
            float p = Math.Clamp(pixelMeans[d], 1e-3f, 1f - 1e-3f);
            _output.Bias!.Value[d] = MathF.Log(p / (1f - p));
        }
    }

    /// <summary>
    /// As <see cref="Initialize(Random, ReadOnlySpan{float})"/>, with each pixel's output biases at its smoothed
    /// marginal over the K levels, from <paramref name="pixelLevelCounts"/> <c>(D, K)</c>.
    /// </summary>
    public void Initialize(Random random, ReadOnlySpan<double> pixelLevelCounts)
    {
        InitializeLayers(random);
        SetMarginalBiases(_output.Bias!.Value, pixelLevelCounts);
    }

    private void InitializeLayers(Random random)
    {
        foreach (var layer in _hidden.Append(_output))
        {
            float bound = 1f / MathF.Sqrt(layer.Inputs);
            foreach (var p in new[] { layer.Weight, layer.Bias! })
                for (int i = 0; i < p.Length; i++) p.Value[i] = (random.NextSingle() * 2 - 1) * bound;
        }
    }

    /// <summary>A connectivity with the masked weights <c>W ⊙ M</c> of every layer.</summary>
    private sealed class MaskSet
    {
        public MaskSet(Made model, int index, bool keepMasks = true)
        {
            Hidden = model._hidden.Select((layer, l) => new float[layer.Weight.Length]).ToArray();
            Output = new float[model._output.Weight.Length];
            Direct = model._direct == null ? [] : new float[model._direct.Weight.Length];
            MadeMasks masks = Use(model, index);
            if (keepMasks) return;
            // Frozen for scoring: the layers that read the pixels keep their weights transposed (In, Out) instead,
            // for the sparse product; deeper hidden layers keep them packed for the GEMM (each scoring batch would
            // otherwise pack them again); the masks are dropped.
            FirstTransposed = new float[Hidden[0].Length];
            model._hidden[0].ApplyMaskTransposed(masks.Hidden[0], FirstTransposed);
            Hidden[0] = [];
            PackedHidden = new PackedMatrix?[Hidden.Length];
            for (int l = 1; l < Hidden.Length; l++)
            {
                PackedHidden[l] = model._hidden[l].Pack(Hidden[l]);
                Hidden[l] = [];
            }
            // The output layer stays unpacked too: sampling reads one row of it per pixel.
            PackedOutput = new Lazy<PackedMatrix>(() => model._output.Pack(Output));
            if (model._direct != null)
            {
                DirectTransposed = new float[Direct.Length];
                model._direct.ApplyMaskTransposed(masks.Direct, DirectTransposed);
                Direct = [];
            }
            Masks = null;
        }

        public int Index { get; private set; }
        public int[] Order { get; private set; }
        /// <summary>The connectivity's masks (kept while training: backward needs them).</summary>
        public MadeMasks? Masks { get; private set; }
        public float[][] Hidden { get; }
        public float[] Output { get; }
        public float[] Direct { get; private set; }
        /// <summary>Frozen sets: <c>(W₁ ⊙ M₁)ᵀ</c> <c>(D, H₁)</c>, in place of <c>Hidden[0]</c>.</summary>
        public float[]? FirstTransposed { get; }
        /// <summary>
        /// Frozen sets: the packed <c>W_l ⊙ M_l</c> of hidden layers l ≥ 1, in place of <c>Hidden[l]</c>.
        /// </summary>
        public PackedMatrix?[]? PackedHidden { get; }
        /// <summary>Frozen sets: the packed <c>Output</c>, for batches (made on first use).</summary>
        public Lazy<PackedMatrix>? PackedOutput { get; }
        /// <summary>
        /// Frozen sets with direct connections: <c>(W_d ⊙ M_d)ᵀ</c> <c>(D, D)</c>, in place of <c>Direct</c>.
        /// </summary>
        public float[]? DirectTransposed { get; }

        /// <summary>
        /// Turns this training set into connectivity <paramref name="index"/>, reusing its buffers (a new connectivity
        /// every minibatch would otherwise allocate every masked weight matrix again).
        /// </summary>
        public void Switch(Made model, int index)
        {
            if (Masks == null) throw new InvalidOperationException("The weights of a trained MADE are frozen.");
            Use(model, index);
        }

        /// <summary>Takes connectivity <paramref name="index"/> and computes its masked weights.</summary>
        [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(Order), nameof(Masks))]
        private MadeMasks Use(Made model, int index)
        {
            Index = index;
            Masks = model.Masks(index);
            Order = Masks.Order;
            Refresh(model);
            return Masks;
        }

        /// <summary>Recomputes the masked weights from the current weights.</summary>
        public void Refresh(Made model)
        {
            MadeMasks masks = Masks ?? throw new InvalidOperationException("The weights of a trained MADE are frozen.");
            for (int l = 0; l < Hidden.Length; l++) model._hidden[l].ApplyMask(masks.Hidden[l], Hidden[l]);
            model._output.ApplyMask(masks.Output, Output);
            model._direct?.ApplyMask(masks.Direct, Direct);
        }
    }

    private sealed class MadeWorkspace(int maxBatch) : ModelWorkspace(maxBatch)
    {
        public MaskSet? Set;                           // the connectivity of the last forward pass
        public float[][] Activations = [];             // per hidden layer (B, H_l), after ReLU
        public float[][] Gradients = [];               // per hidden layer (B, H_l)
        public float[] Scratch = [];                   // weight-gradient scratch
        public float[] Hidden = [];                    // (B, H_L) hidden features of the last Score
        public float[] ComponentLogLikelihoods = [];   // (B, K)
        public ActivationBuffer RowLogits { get; } = new();   // (B, L·D) with L > 1 logits per pixel

        public void Ensure(Made model, int batch)
        {
            if (Activations.Length == model._hiddenSizes.Length && Activations[0].Length >= batch
                * model._hiddenSizes[0]) return;
            int rows = Math.Max(batch, MaxBatch);
            Activations = model._hiddenSizes.Select(h => new float[rows * h]).ToArray();
            Gradients = model._hiddenSizes.Select(h => new float[rows * h]).ToArray();
            Scratch = new float[model.Parameters.Max(p => p.Length)];
            Hidden = new float[rows * model._hiddenSizes[^1]];
            ComponentLogLikelihoods = new float[model.EnsembleSize * rows];
        }
    }

    public override ModelWorkspace CreateWorkspace(int maxBatch) => new MadeWorkspace(maxBatch);

    /// <summary>
    /// The masked weights of connectivity <paramref name="index"/>: cached once the weights are final.
    /// </summary>
    private MaskSet GetMaskSet(int index, MadeWorkspace workspace)
    {
        if (_frozen != null && index < _frozen.Length) return _frozen[index].Value;
        // A frozen set left in the workspace by a validation pass has no masks to refresh from: build a new one.
        if (workspace.Set?.Masks == null) workspace.Set = new MaskSet(this, index);
        else if (workspace.Set.Index != index) workspace.Set.Switch(this, index);
        else workspace.Set.Refresh(this); // weights may have changed since (training)
        return workspace.Set;
    }

    public void BeginTrainingStep(int step) => _currentMask = step % NumberOfMasks;

    /// <summary>
    /// Weights are final (after training or loading): cache the ensemble's masked weights from now on.
    /// </summary>
    public void EndTraining()
    {
        _currentMask = 0;
        Freeze();
    }

    /// <summary>
    /// Validation scores the whole ensemble block after block: its masked weights are built once per pass, not once
    /// per block and connectivity.
    /// </summary>
    public void BeginValidation()
    {
        _frozenForValidation = _frozen == null;
        if (_frozenForValidation) Freeze();
    }

    public void EndValidation()
    {
        if (_frozenForValidation) _frozen = null;
        _frozenForValidation = false;
    }

    /// <summary>
    /// At least 512 rows: every block runs all <see cref="EnsembleSize"/> connectivities, each streaming its masked
    /// weights (16 MB for a 2000 × 2000 layer) from memory, so larger blocks use each weight read on more rows (a
    /// 32-mask 2 × 2000 ensemble validates about a quarter faster than in blocks of 100). Its workspace grows to fit.
    /// </summary>
    public int ValidationBlockRows(int batchSize) => Math.Max(batchSize, 512);

    private void Freeze() => _frozen = Enumerable.Range(0, EnsembleSize).Select(k =>
        new Lazy<MaskSet>(() => new MaskSet(this, k, keepMasks: false))).ToArray();

    public override void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace) =>
        ForwardMask(x, batch, logits, (MadeWorkspace)workspace, _currentMask);

    /// <summary>
    /// <c>(B, D) -> (B, D)</c> logits (K levels: <c>(K, B·D)</c>) under connectivity <paramref name="index"/>; keeps
    /// activations for Backward.
    /// </summary>
    private void ForwardMask(ReadOnlySpan<float> x, int batch, Span<float> logits, MadeWorkspace ws, int index)
    {
        ws.Ensure(this, batch);
        int levelLogits = LogitsPerPixel;
        // The output layer writes (B, L·D): straight into logits for binary pixels, spread to (L, B·D) otherwise.
        Span<float> rows = levelLogits == 1 ? logits : ws.RowLogits.Get(batch * levelLogits * Dimension);
        MaskSet set = GetMaskSet(index, ws);
        ws.Set = set;
        ReadOnlySpan<float> input = x;
        for (int l = 0; l < _hidden.Length; l++)
        {
            Span<float> h = ws.Activations[l].AsSpan(0, batch * _hiddenSizes[l]);
            HiddenLayer(set, l, input, batch, h); // (B, In) -> (B, H_l)
            input = h;
        }
        // (B, H_L) -> (B, L·D)
        if (set.PackedOutput != null && batch > Nn.Layers.MaskedLinear.UnpackedRows)
            _output.Forward(input, batch, set.PackedOutput.Value, rows);
        else _output.Forward(input, batch, set.Output, rows);
        if (set.DirectTransposed != null)
            _direct!.ForwardTransposed(x, batch, set.DirectTransposed, rows, accumulate: true);
        else _direct?.Forward(x, batch, set.Direct, rows, accumulate: true);
        if (levelLogits > 1) PixelDistribution.RowsToLevelPlanes(rows, batch, Dimension, levelLogits, logits);
    }

    /// <summary>
    /// Hidden layer l with ReLU, <c>(B, In) -> (B, H_l)</c>, in whichever form the set holds its weights.
    /// </summary>
    private void HiddenLayer(MaskSet set, int l, ReadOnlySpan<float> input, int batch, Span<float> h)
    {
        if (l == 0 && set.FirstTransposed != null) _hidden[0].ForwardTransposed(input, batch, set.FirstTransposed, h);
        else if (set.PackedHidden?[l] is { } packed) _hidden[l].Forward(input, batch, packed, h);
        else _hidden[l].Forward(input, batch, set.Hidden[l], h);
        Relu.Forward(h, h);
    }

    public override void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
        ModelWorkspace workspace)
    {
        var ws = (MadeWorkspace)workspace;
        MadeMasks masks = ws.Set?.Masks
            ?? throw new InvalidOperationException("Backward must follow a training Forward.");
        MaskSet set = ws.Set;
        int last = _hidden.Length - 1;
        if (LogitsPerPixel > 1)
        {
            // (L, B·D) -> (B, L·D), the output layer's layout (the forward pass's row logits are no longer needed).
            Span<float> rows = ws.RowLogits.Get(batch * LogitsPerPixel * Dimension);
            PixelDistribution.LevelPlanesToRows(dLogits, batch, Dimension, LogitsPerPixel, rows);
            dLogits = rows;
        }
        _direct?.Backward(x, batch, dLogits, masks.Direct, set.Direct, Span<float>.Empty, ws.Scratch);
        _output.Backward(ws.Activations[last].AsSpan(0, batch * _hiddenSizes[last]), batch, dLogits, masks.Output,
            set.Output,
            ws.Gradients[last].AsSpan(0, batch * _hiddenSizes[last]), ws.Scratch);
        for (int l = last; l >= 0; l--)
        {
            Span<float> grad = ws.Gradients[l].AsSpan(0, batch * _hiddenSizes[l]);
            Relu.Backward(ws.Activations[l].AsSpan(0, batch * _hiddenSizes[l]), grad, grad);
            ReadOnlySpan<float> input = l == 0 ? x : ws.Activations[l - 1].AsSpan(0, batch * _hiddenSizes[l - 1]);
            Span<float> dInput = l == 0 ? Span<float>.Empty
                : ws.Gradients[l - 1].AsSpan(0, batch * _hiddenSizes[l - 1]);
            _hidden[l].Backward(input, batch, grad, masks.Hidden[l], set.Hidden[l], dInput, ws.Scratch);
        }
    }

    public override void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
        ModelWorkspace workspace) =>
        ((MadeWorkspace)workspace).Activations[^1].AsSpan(0, batch * HiddenFeatureCount).CopyTo(features);

    /// <summary>
    /// The mixture over the first <see cref="EnsembleSize"/> connectivities; hidden features are their mean.
    /// </summary>
    public override void Score(ReadOnlySpan<float> x, int batch, Span<float> logLikelihoods, Span<float> hiddenFeatures,
        ModelWorkspace workspace)
    {
        var ws = (MadeWorkspace)workspace;
        int d = Dimension, k = EnsembleSize, h = HiddenFeatureCount;
        ws.Ensure(this, batch);
        Span<float> logits = ws.Logits(batch * d * LogitsPerPixel);
        Span<float> components = ws.ComponentLogLikelihoods.AsSpan(0, k * batch);
        Span<float> mean = ws.Hidden.AsSpan(0, batch * h);
        mean.Clear();
        for (int c = 0; c < k; c++)
        {
            ForwardMask(x, batch, logits, ws, c);
            for (int r = 0; r < batch; r++)
                components[r * k + c] = Distribution.SumLogProbabilities(logits, x, batch * d, r * d, d);
            if (!hiddenFeatures.IsEmpty) TensorPrimitives.Add(mean, ws.Activations[^1].AsSpan(0, batch * h), mean);
        }
        float logK = MathF.Log(k);
        for (int r = 0; r < batch; r++)
            logLikelihoods[r] = k == 1 ? components[r] : Kernel.LogSumExp(components.Slice(r * k, k)) - logK;
        if (!hiddenFeatures.IsEmpty)
        {
            if (k > 1) TensorPrimitives.Divide(mean, k, mean);
            mean.CopyTo(hiddenFeatures);
        }
    }

    /// <summary>
    /// The ensemble as ONNX: per connectivity, masks rebuilt in the graph from the degree vectors (a few KB instead of
    /// a copy of every weight matrix per mask), the masked layers, and its <c>log p_k(x)</c>; then
    /// <c>logsumexp_k - log K</c> and the mean hidden features, as <see cref="Score"/>. Per-pixel conditionals are the
    /// first connectivity's, as in <see cref="DensityModel.PixelLogProbabilities"/>.
    /// </summary>
    public OnnxScores ExportOnnx(OnnxGraph graph, string pixels, bool hiddenFeatures)
    {
        string[] weights = _hidden.Append(_output).Select(layer =>
            graph.Constant(layer.Weight.Value, layer.Outputs, layer.Inputs)).ToArray();
        string[] biases = _hidden.Append(_output).Select(layer =>
            graph.Constant(layer.Bias!.Value, layer.Outputs)).ToArray();
        int outputs = LogitsPerPixel * Dimension;
        string? direct = _direct == null ? null : graph.Constant(_direct.Weight.Value, outputs, Dimension);
        var logLikelihoods = new List<string>();
        var features = new List<string>();
        string firstPixelLogProbabilities = "";
        for (int c = 0; c < EnsembleSize; c++)
        {
            MadeMasks masks = Masks(c);
            string input = pixels;
            for (int l = 0; l < _hidden.Length; l++) // (N, In) -> (N, H_l)
                input = graph.Relu(MaskedLinear(graph, input, weights[l], biases[l], masks.Degrees[l + 1],
                    masks.Degrees[l], strict: false));
            // (N, H_L) -> (N, L·D), then (N, K, D) for K levels.
            string logits = MaskedLinear(graph, input, weights[^1], biases[^1], masks.OutputDegrees,
                masks.Degrees[^1], strict: true);
            if (direct != null)
                logits = graph.Add(logits,
                    MaskedLinear(graph, pixels, direct, null, masks.OutputDegrees, masks.Degrees[0], strict: true));
            if (LogitsPerPixel > 1) logits = graph.Reshape(logits, -1, LogitsPerPixel, Dimension);
            string pixelLogProbabilities = Distribution.ExportLogProbabilities(graph, logits, pixels);
            if (c == 0) firstPixelLogProbabilities = pixelLogProbabilities;
            logLikelihoods.Add(graph.SumRows(pixelLogProbabilities));
            features.Add(input);
        }
        int k = EnsembleSize;
        string logLikelihood = k == 1 ? logLikelihoods[0]
            : graph.Sub(graph.LogSumExp(graph.Concat(logLikelihoods, axis: 1), 1), graph.Scalar(MathF.Log(k)));
        string? hidden = !hiddenFeatures ? null : k == 1 ? features[0]
            : graph.Div(graph.Sum(features), graph.Scalar(k));
        return new OnnxScores(logLikelihood, hidden, firstPixelLogProbabilities);
    }

    /// <summary>
    /// <c>(N, In) -> (N, Out)</c>: <c>x · (W ⊙ M)ᵀ + b</c> with the mask of <see cref="MadeMasks"/> built from degrees:
    /// connection i → o iff <c>m_in(i) ≤ m_out(o)</c> (<paramref name="strict"/>: <c>&lt;</c>).
    /// </summary>
    private static string MaskedLinear(OnnxGraph graph, string x, string weight, string? bias, int[] outDegrees,
        int[] inDegrees, bool strict)
    {
        string outColumn = graph.Constant(outDegrees.Select(v => (float)v).ToArray(), outDegrees.Length, 1);
        string inRow = graph.Constant(inDegrees.Select(v => (float)v).ToArray(), 1, inDegrees.Length);
        // (Out, In)
        string connected = strict ? graph.Less(inRow, outColumn) : graph.Not(graph.Greater(inRow, outColumn));
        string masked = graph.Mul(weight, graph.Cast(connected, OnnxType.Float));
        return graph.Op("Gemm", bias == null ? [x, masked] : [x, masked, bias], n => n.AddAttribute("transB", 1L));
    }

    /// <summary>
    /// Samples the mixture: each image first draws its connectivity (uniformly, or — when pixels are given — from the
    /// posterior <c>p(k | x_known) ∝ p_k(x_known)</c>, which needs one order shared by all connectivities), then its
    /// pixels in that connectivity's order, D passes batched over the images. The first layer's pre-activation is
    /// updated incrementally (one row of <c>W₁ ⊙ M₁</c> per pixel that is 1), so with one hidden layer an image costs
    /// O(H·D).
    /// </summary>
    /// <exception cref="NotSupportedException">Completion with an ensemble whose connectivities have different
    /// orders.</exception>
    public void SampleRows(Span<float> x, int batch, int knownSteps, SamplingStream[] streams,
        ModelWorkspace? workspace = null)
    {
        int d = Dimension, k = EnsembleSize;
        if (knownSteps > 0 && k > 1 && !NaturalOrder)
            throw new NotSupportedException("Completing an image with a MADE mask ensemble needs one input order for " +
                "every mask: train with InputOrder = Natural, or use EnsembleSize = 1.");
        var component = new int[batch];
        if (k > 1)
        {
            var ws = (MadeWorkspace)CreateWorkspace(batch);
            var prefix = new double[k * batch];
            if (knownSteps > 0)
            {
                // log p_c(x_known): the order is natural (checked above), so the known pixels are each row's first.
                var logits = new float[batch * d * LogitsPerPixel];
                for (int c = 0; c < k; c++)
                {
                    ForwardMask(x, batch, logits, ws, c);
                    for (int r = 0; r < batch; r++)
                        prefix[c * batch + r] = Distribution.SumLogProbabilities(logits, x, batch * d, r * d,
                            knownSteps);
                }
            }
            for (int r = 0; r < batch; r++)
            {
                double max = double.NegativeInfinity;
                for (int c = 0; c < k; c++) max = Math.Max(max, prefix[c * batch + r]);
                double total = 0;
                for (int c = 0; c < k; c++) total += Math.Exp(prefix[c * batch + r] - max);
                double u = streams[r].NextDouble() * total, running = 0;
                component[r] = k - 1;
                for (int c = 0; c < k; c++)
                {
                    running += Math.Exp(prefix[c * batch + r] - max);
                    if (u < running) { component[r] = c; break; }
                }
            }
        }
        for (int c = 0; c < k; c++)
        {
            int[] rows = Enumerable.Range(0, batch).Where(r => component[r] == c).ToArray();
            if (rows.Length == 0) continue;
            var group = new float[rows.Length * d];
            for (int i = 0; i < rows.Length; i++) x.Slice(rows[i] * d, d).CopyTo(group.AsSpan(i * d, d));
            SampleComponent(c, group, rows.Select(r => streams[r]).ToArray(), knownSteps);
            for (int i = 0; i < rows.Length; i++) group.AsSpan(i * d, d).CopyTo(x.Slice(rows[i] * d, d));
        }
    }

    private void SampleComponent(int index, float[] x, SamplingStream[] streams, int knownSteps)
    {
        int d = Dimension, rows = streams.Length, h1 = _hiddenSizes[0], hl = HiddenFeatureCount;
        var ws = (MadeWorkspace)CreateWorkspace(rows);
        ws.Ensure(this, rows);
        MaskSet set = GetMaskSet(index, ws);
        int[] order = set.Order;
        for (int r = 0; r < rows; r++)
            for (int t = knownSteps; t < d; t++) x[r * d + order[t]] = 0f;
        // First-layer pre-activation of the known pixels, (B, D) -> (B, H₁); later pixels add one row of (W₁ ⊙ M₁)ᵀ
        // each.
        float[] firstT = set.FirstTransposed ?? new float[d * h1]; // (D, H₁) = (W₁ ⊙ M₁)ᵀ
        if (set.FirstTransposed == null) _hidden[0].ApplyMaskTransposed(set.Masks!.Hidden[0], firstT);
        var pre1 = new float[rows * h1];
        _hidden[0].ForwardTransposed(x, rows, firstT, pre1);
        float[] outputWeights = set.Output, outputBias = _output.Bias!.Value;
        var z = new float[LogitsPerPixel]; // one pixel's logits, (L, 1)
        for (int t = knownSteps; t < d; t++)
        {
            int pixel = order[t];
            Span<float> top = ws.Activations[0].AsSpan(0, rows * h1);
            Relu.Forward(pre1, top);
            ReadOnlySpan<float> input = top;
            for (int l = 1; l < _hidden.Length; l++)
            {
                Span<float> h = ws.Activations[l].AsSpan(0, rows * _hiddenSizes[l]);
                HiddenLayer(set, l, input, rows, h);
                input = h;
            }
            for (int r = 0; r < rows; r++)
            {
                for (int level = 0; level < z.Length; level++)
                {
                    int unit = level * d + pixel; // the output unit of this pixel's logit
                    z[level] = outputBias[unit]
                        + TensorPrimitives.Dot(input.Slice(r * hl, hl), outputWeights.AsSpan(unit * hl, hl));
                    if (_direct != null) z[level] += DirectLogit(set, x.AsSpan(r * d, d), unit);
                }
                float value = Distribution.Draw(streams[r], z, 1, 0);
                x[r * d + pixel] = value;
                if (value != 0f)
                {
                    Span<float> rowPre = pre1.AsSpan(r * h1, h1);
                    ReadOnlySpan<float> influence = firstT.AsSpan(pixel * h1, h1);
                    if (value == 1f) TensorPrimitives.Add(rowPre, influence, rowPre);
                    else TensorPrimitives.MultiplyAdd(influence, value, rowPre, rowPre);
                }
            }
        }
    }

    /// <summary>
    /// The direct connections' contribution <c>Σ_j (W_d ⊙ M_d)[unit, j] · x_j</c> to output unit
    /// <paramref name="unit"/> (logit k of pixel i is unit k·D + i).
    /// </summary>
    private float DirectLogit(MaskSet set, ReadOnlySpan<float> x, int unit)
    {
        if (set.DirectTransposed == null)
            return TensorPrimitives.Dot(x, set.Direct.AsSpan(unit * Dimension, Dimension));
        int units = LogitsPerPixel * Dimension;
        float sum = 0f;
        for (int j = 0; j < Dimension; j++)
            if (x[j] != 0f) sum += x[j] * set.DirectTransposed[j * units + unit];
        return sum;
    }

    public override void WriteHyperparameters(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(_hiddenSizes.Length);
        foreach (int h in _hiddenSizes) writer.Write(h);
        writer.Write(NaturalOrder);
        writer.Write(MaskSeed);
        writer.Write(NumberOfMasks);
        writer.Write(EnsembleSize);
        writer.Write(DirectConnections);
        writer.Write(Levels);
        writer.Write(MixtureComponents);
    }

    public static Made ReadHyperparameters(BinaryReader reader, int formatVersion)
    {
        int d = reader.ReadInt32(), layers = reader.ReadInt32();
        if (d < 1 || d > 1 << 24 || layers < 1 || layers > 64)
            throw new ArgumentOutOfRangeException(nameof(reader), $"MADE sizes D = {d}, {layers} layers are invalid.");
        var hidden = new int[layers];
        for (int l = 0; l < layers; l++)
        {
            hidden[l] = reader.ReadInt32();
            if (hidden[l] < 1 || hidden[l] > 1 << 24)
                throw new ArgumentOutOfRangeException(nameof(reader), $"MADE hidden size {hidden[l]} is invalid.");
        }
        bool natural = reader.ReadBoolean();
        int seed = reader.ReadInt32(), masks = reader.ReadInt32(), ensemble = reader.ReadInt32();
        bool direct = reader.ReadBoolean();
        // Weights format 1 held binary MADEs only.
        if (formatVersion < ModelSerializer.FormatWithLevels)
            return new Made(d, hidden, natural, seed, masks, ensemble, direct);
        int levels = reader.ReadInt32();
        return new Made(d, hidden, natural, seed, masks, ensemble, direct, levels, reader.ReadInt32());
    }
}
