using System.Numerics.Tensors;
using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;
using MLNetAr.Nn.Layers;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>The pixel RNN's recurrent cell, stored in model files (the public <c>RecurrentCell</c>, value for
/// value).</summary>
internal enum PixelRnnCell
{
    Lstm = 0,
    Gru = 1,
}

/// <summary>
/// A pixel RNN: stacked LSTM or GRU layers over the pixels in raster order (Theis &amp; Bethge 2015; van den Oord et
/// al. 2016's PixelRNN without the diagonal/row convolutions). Step t reads <c>u_t = [x_{t-1}, x_{t-W}]</c> (the
/// previous pixel and, optionally, the pixel above; 0 outside the image), so the logits of pixel t, <c>V·h_t + b</c>
/// from the top layer's state, depend only on earlier pixels.
/// </summary>
/// <remarks>
/// <para>
/// Activations are time-major, <c>(D, B, ·)</c>, so a step is one contiguous <c>(B, ·)</c> block: the input projections
/// and the output layer are single GEMMs over all steps, leaving one <c>(B, H)·(H, G·H)</c> product per step for the
/// recurrence. Backward is BPTT layer by layer; with a truncation length T the gradient does not flow from step t into
/// step t − 1 when t is a multiple of T (the forward pass always carries the state through).
/// </para>
/// <para>
/// Sampling is naturally incremental: one step of every layer per pixel, carrying the states, i.e. one forward pass.
/// Hidden features: the top layer's final state <c>h_D</c> and its mean over all steps, <c>2H</c> values.
/// </para>
/// </remarks>
internal sealed class PixelRnn : DensityModel, IIncrementalSampler, IOnnxExportableModel
{
    public const string KindName = "PixelRNN";

    /// <summary>This family in model files.</summary>
    public static readonly ModelKind Descriptor = new(KindName, ReadHyperparameters);

    private readonly int _levels;
    private readonly Parameter[] _inputWeight, _inputBias, _recurrentWeight;
    private readonly Parameter?[] _recurrentBias;
    private readonly Parameter _outputWeight, _outputBias;
    private readonly IReadOnlyList<Parameter> _parameters;

    public PixelRnn(int dimension, int width, int levels, PixelRnnCell cell, int hidden, int layers, bool pixelAbove,
        int truncation, int mixtureComponents = 0) : base(dimension, mixtureComponents)
    {
        if (levels < 2 || levels > 256)
            throw new ArgumentOutOfRangeException(nameof(levels), $"Pixel levels must be in [2, 256], got {levels}.");
        if (hidden < 1 || layers < 1)
            throw new ArgumentOutOfRangeException(nameof(hidden), "Hidden size and layer count must be positive.");
        if (width < 1 || dimension % width != 0)
            throw new ArgumentOutOfRangeException(nameof(width),
                $"Width {width} does not divide the {dimension} pixels.");
        if (truncation < 0)
            throw new ArgumentOutOfRangeException(nameof(truncation),
                "The truncation length must be 0 (full BPTT) or positive.");
        (_levels, Cell, Hidden, Layers, Width, PixelAbove, Truncation) = (levels, cell, hidden, layers, width,
            pixelAbove, truncation);
        int g = GateCount;
        _inputWeight = new Parameter[layers];
        _inputBias = new Parameter[layers];
        _recurrentWeight = new Parameter[layers];
        _recurrentBias = new Parameter?[layers];
        var all = new List<Parameter>();
        for (int l = 0; l < layers; l++)
        {
            int inputs = l == 0 ? InputSize : hidden;
            all.Add(_inputWeight[l] = new Parameter($"Layer{l}.InputWeight", g * hidden, inputs));
            all.Add(_inputBias[l] = new Parameter($"Layer{l}.InputBias", g * hidden));
            all.Add(_recurrentWeight[l] = new Parameter($"Layer{l}.RecurrentWeight", g * hidden, hidden));
            if (cell == PixelRnnCell.Gru)
                all.Add((_recurrentBias[l] = new Parameter($"Layer{l}.RecurrentBias", g * hidden))!);
        }
        all.Add(_outputWeight = new Parameter("Output.Weight", LogitsPerPixel, hidden));
        all.Add(_outputBias = new Parameter("Output.Bias", LogitsPerPixel));
        _parameters = all;
    }

    public PixelRnnCell Cell { get; }
    public int Hidden { get; }
    public int Layers { get; }
    public int Width { get; }
    public bool PixelAbove { get; }
    public int Truncation { get; }
    public override int Levels => _levels;
    public override string Kind => KindName;
    public override IReadOnlyList<Parameter> Parameters => _parameters;
    public override int HiddenFeatureCount => 2 * Hidden;

    private int GateCount => Cell == PixelRnnCell.Lstm ? LstmCell.Gates : GruCell.Gates;
    private int InputSize => PixelAbove ? 2 : 1;

    public override ModelWorkspace CreateWorkspace(int maxBatch) => new Workspace(maxBatch, Layers);

    /// <summary>
    /// Every step's gates and states are kept: about (G + 2)·H·D floats per row. Chunks of 36 rows fill the GEMM's
    /// register tiles (6 and 12 rows) in each step's small product.
    /// </summary>
    public override int ScoringBatchRows => 144;

    /// <summary>Sampling keeps the same per-step buffers as scoring.</summary>
    public int SamplingBatchRows => ScoringBatchRows;

    /// <summary>One layer's activations over every step, kept for Backward: gate pre-activations <c>(B·D, G·H)</c>,
    /// states and (LSTM) cells <c>(D + 1, B, H)</c> with the zero initial state first, and (GRU) the recurrent
    /// term.</summary>
    private sealed class LayerBuffers
    {
        public readonly ActivationBuffer Gates = new(), States = new(), Cells = new(), Recurrent = new();
    }

    private sealed class Workspace(int maxBatch, int layers) : ModelWorkspace(maxBatch)
    {
        public readonly LayerBuffers[] Layers = Enumerable.Range(0, layers).Select(_ => new LayerBuffers()).ToArray();
        /// <summary>The first layer's inputs: every step <c>(B·D, InputSize)</c>, or one step while sampling.</summary>
        public readonly ActivationBuffer Inputs = new(), StepInput = new();
        /// <summary>Output-layer logits by step, then their gradient.</summary>
        public readonly ActivationBuffer Output = new();
        /// <summary>
        /// Backward through time: <c>∂L/∂states</c>, <c>∂L/∂gates</c>, the GRU's recurrent gradient, and per-step
        /// buffers.
        /// </summary>
        public readonly ActivationBuffer StateGradient = new(), GateGradient = new(), RecurrentGradient = new(),
            Carry = new(), CellGradient = new(), Direct = new();
    }

    /// <summary>
    /// Initialises U(−1/√H, 1/√H) like PyTorch's RNNs; the output bias at the pixels' marginal levels.
    /// </summary>
    public void Initialize(Random random, ReadOnlySpan<float> trainingRows) =>
        Initialize(random, LevelCounts(trainingRows));

    /// <summary>As above, from the number of pixels at each level in the training rows.</summary>
    public void Initialize(Random random, double[] counts)
    {
        float bound = 1f / MathF.Sqrt(Hidden);
        foreach (Parameter p in _parameters)
            for (int i = 0; i < p.Length; i++) p.Value[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        Distribution.MarginalLogits(counts).CopyTo(_outputBias.Value, 0);
    }


    /// <summary>
    /// Step inputs <c>u_t = [x_{t-1}, x_{t-W}]</c> of the pixels in <c>[t0, t1)</c>, time-major
    /// <c>(t1 - t0, B, In)</c>.
    /// </summary>
    private void BuildInputs(ReadOnlySpan<float> x, int batch, int t0, int t1, Span<float> u)
    {
        int d = Dimension, inputs = InputSize;
        for (int t = t0; t < t1; t++)
            for (int r = 0; r < batch; r++)
            {
                int at = ((t - t0) * batch + r) * inputs;
                u[at] = t >= 1 ? x[r * d + t - 1] : 0f;
                if (PixelAbove) u[at + 1] = t >= Width ? x[r * d + t - Width] : 0f;
            }
    }

    public override void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace)
    {
        var ws = (Workspace)workspace;
        int d = Dimension, h = Hidden, m = d * batch;
        BuildInputs(x, batch, 0, d, ws.Inputs.Get((long)m * InputSize));
        for (int l = 0; l < Layers; l++)
        {
            ReadOnlySpan<float> input = l == 0 ? ws.Inputs.Get((long)m * InputSize)
                : ws.Layers[l - 1].States.Get((long)(d + 1) * batch * h)[(batch * h)..];
            Span<float> gates = ws.Layers[l].Gates.Get((long)m * GateCount * h);
            // (D·B, In) · (In, G·H) -> (D·B, G·H), for every step at once.
            InputProjection(l, input, m, gates);
            Span<float> states = ws.Layers[l].States.Get((long)(d + 1) * batch * h);
            states[..(batch * h)].Clear();
            Span<float> cells = Cell == PixelRnnCell.Lstm ? ws.Layers[l].Cells.Get((long)(d + 1) * batch * h) : [];
            if (!cells.IsEmpty) cells[..(batch * h)].Clear();
            Span<float> recurrent = Cell == PixelRnnCell.Gru ? ws.Layers[l].Recurrent.Get((long)m * GateCount * h)
                : [];
            PackedMatrix recurrentWeight = PackRecurrentWeight(l);
            for (int t = 0; t < d; t++) Step(l, t, batch, recurrentWeight, gates, recurrent, states, cells);
        }
        OutputLayer(ws, batch, 0, d, logits);
    }

    /// <summary><c>gates = input · Wᵀ + b</c> for <paramref name="rows"/> rows.</summary>
    private void InputProjection(int layer, ReadOnlySpan<float> input, int rows, Span<float> gates)
    {
        int inputs = _inputWeight[layer].Shape[1], width = GateCount * Hidden;
        Kernel.Gemm(Transpose.No, Transpose.Yes, rows, width, inputs, input, inputs, _inputWeight[layer].Value, inputs,
            gates, width);
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Add(gates.Slice(r * width, width), _inputBias[layer].Value, gates.Slice(r * width, width));
    }

    /// <summary>
    /// Step t of layer l: the recurrent product and the cell. <paramref name="gates"/> (from step-block t) holds the
    /// input projection and receives the activated gates; states/cells are <c>(D + 1, B, H)</c>, block t being
    /// the state before step t.
    /// </summary>
    private void Step(int layer, int t, int batch, PackedMatrix u, Span<float> gates, Span<float> recurrent,
        Span<float> states, Span<float> cells)
    {
        int h = Hidden, width = GateCount * h, block = batch * h;
        Span<float> g = gates.Slice(t * batch * width, batch * width);
        ReadOnlySpan<float> hPrev = states.Slice(t * block, block);
        if (Cell == PixelRnnCell.Lstm)
        {
            // (B, H) · (H, 4H) added to the input projection.
            Kernel.Gemm(Transpose.No, batch, hPrev, h, u, g, width, accumulate: true);
            LstmCell.Forward(g, cells.Slice(t * block, block), cells.Slice((t + 1) * block, block),
                states.Slice((t + 1) * block, block), batch, h);
            return;
        }
        Span<float> rec = recurrent.Slice(t * batch * width, batch * width);
        Kernel.Gemm(Transpose.No, batch, hPrev, h, u, rec, width);
        for (int r = 0; r < batch; r++)
            TensorPrimitives.Add(rec.Slice(r * width, width), _recurrentBias[layer]!.Value,
                rec.Slice(r * width, width));
        GruCell.Forward(g, rec, hPrev, states.Slice((t + 1) * block, block), batch, h);
    }

    /// <summary>
    /// <c>Uᵀ</c> <c>(H, G·H)</c> of layer <paramref name="layer"/>, packed once for the D steps that multiply by it (a
    /// step's product is too small to repay packing it every time).
    /// </summary>
    private PackedMatrix PackRecurrentWeight(int layer) =>
        Kernel.Pack(Transpose.Yes, Hidden, GateCount * Hidden, _recurrentWeight[layer].Value, Hidden);

    /// <summary>
    /// Logits of steps <c>[t0, t1)</c> from the top layer's states, written in the model's logits layout.
    /// </summary>
    private void OutputLayer(Workspace ws, int batch, int t0, int t1, Span<float> logits)
    {
        int d = Dimension, h = Hidden, k = LogitsPerPixel, steps = t1 - t0, n = batch * d;
        ReadOnlySpan<float> states = ws.Layers[Layers - 1].States.Get((long)(d + 1) * batch * h).Slice((t0 + 1) * batch
            * h, steps * batch * h);
        Span<float> output = ws.Output.Get((long)steps * batch * k);
        // (steps·B, H) · (H, K') -> (steps·B, K')
        Kernel.Gemm(Transpose.No, Transpose.Yes, steps * batch, k, h, states, h, _outputWeight.Value, h, output, k);
        for (int t = t0; t < t1; t++)
            for (int r = 0; r < batch; r++)
                for (int c = 0; c < k; c++)
                    logits[c * n + r * d + t] = output[((t - t0) * batch + r) * k + c] + _outputBias.Value[c];
    }

    public override void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
        ModelWorkspace workspace)
    {
        var ws = (Workspace)workspace;
        int d = Dimension, h = Hidden, k = LogitsPerPixel, m = d * batch, n = batch * d, width = GateCount * h,
            block = batch * h;
        // Output layer: dOut (D·B, K') time-major; ∂V += dOutᵀ·H; ∂h_t = dOut·V.
        Span<float> dOut = ws.Output.Get((long)m * k);
        for (int t = 0; t < d; t++)
            for (int r = 0; r < batch; r++)
                for (int c = 0; c < k; c++) dOut[(t * batch + r) * k + c] = dLogits[c * n + r * d + t];
        Span<float> topStates = ws.Layers[Layers - 1].States.Get((long)(d + 1) * batch * h);
        Kernel.Gemm(Transpose.Yes, Transpose.No, k, h, m, dOut, k, topStates[block..], h, _outputWeight.Gradient, h,
            accumulate: true);
        AddColumnSums(dOut, m, k, _outputBias.Gradient);
        Span<float> dStates = ws.StateGradient.Get((long)m * h);
        Kernel.Gemm(Transpose.No, Transpose.No, m, h, k, dOut, k, _outputWeight.Value, h, dStates, h);

        Span<float> carry = ws.Carry.Get(block), dCell = ws.CellGradient.Get(block), direct = ws.Direct.Get(block);
        for (int l = Layers - 1; l >= 0; l--)
        {
            Span<float> gates = ws.Layers[l].Gates.Get((long)m * width);
            Span<float> states = ws.Layers[l].States.Get((long)(d + 1) * block);
            Span<float> dGates = ws.GateGradient.Get((long)m * width);
            Span<float> dRecurrent = Cell == PixelRnnCell.Gru ? ws.RecurrentGradient.Get((long)m * width) : dGates;
            carry.Clear();
            dCell.Clear();
            for (int t = d - 1; t >= 0; t--)
            {
                Span<float> dh = dStates.Slice(t * block, block);
                TensorPrimitives.Add(dh, carry, dh);
                Span<float> dg = dGates.Slice(t * batch * width, batch * width);
                if (Cell == PixelRnnCell.Lstm)
                {
                    Span<float> cells = ws.Layers[l].Cells.Get((long)(d + 1) * block);
                    LstmCell.Backward(gates.Slice(t * batch * width, batch * width), cells.Slice(t * block, block),
                        cells.Slice((t + 1) * block, block), dh, dCell, dg, batch, h);
                }
                else
                {
                    Span<float> recurrent = ws.Layers[l].Recurrent.Get((long)m * width);
                    GruCell.Backward(gates.Slice(t * batch * width, batch * width),
                        recurrent.Slice(t * batch * width, batch * width), states.Slice(t * block, block), dh,
                        dg, dRecurrent.Slice(t * batch * width, batch * width), direct, batch, h);
                }
                if (Truncation > 0 && t % Truncation == 0)
                {
                    // Truncated BPTT: nothing flows from step t into step t - 1.
                    carry.Clear();
                    dCell.Clear();
                    continue;
                }
                // ∂h_{t-1} = [direct +] dRecurrent_t · U: (B, G·H) · (G·H, H)
                Kernel.Gemm(Transpose.No, Transpose.No, batch, h, width,
                    dRecurrent.Slice(t * batch * width, batch * width), width,
                    _recurrentWeight[l].Value, h, carry, h);
                if (Cell == PixelRnnCell.Gru) TensorPrimitives.Add(carry, direct, carry);
                Kernel.FlushTinyToZero(carry);
                Kernel.FlushTinyToZero(dCell);
            }
            // Weight gradients over all steps at once: ∂U += dRecᵀ · H_prev, ∂W += dGatesᵀ · input.
            Kernel.Gemm(Transpose.Yes, Transpose.No, width, h, m, dRecurrent, width, states[..(m * h)], h,
                _recurrentWeight[l].Gradient, h, accumulate: true);
            if (_recurrentBias[l] is { } recurrentBias) AddColumnSums(dRecurrent, m, width, recurrentBias.Gradient);
            int inputs = _inputWeight[l].Shape[1];
            ReadOnlySpan<float> input = l == 0 ? ws.Inputs.Get((long)m * InputSize)
                : ws.Layers[l - 1].States.Get((long)(d + 1) * block)[block..];
            Kernel.Gemm(Transpose.Yes, Transpose.No, width, inputs, m, dGates, width, input, inputs,
                _inputWeight[l].Gradient, inputs, accumulate: true);
            AddColumnSums(dGates, m, width, _inputBias[l].Gradient);
            // ∂(layer below's states) = dGates · W: (D·B, G·H) · (G·H, H)
            if (l > 0)
                Kernel.Gemm(Transpose.No, Transpose.No, m, h, width, dGates, width, _inputWeight[l].Value, h, dStates,
                    h);
        }
    }

    /// <summary><c>sums[j] += Σ_r matrix[r, j]</c> for a <c>(rows, columns)</c> matrix.</summary>
    private static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums, matrix.Slice(r * columns, columns), sums);
    }

    public override void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
        ModelWorkspace workspace)
    {
        var ws = (Workspace)workspace;
        int d = Dimension, h = Hidden, block = batch * h;
        ReadOnlySpan<float> states = ws.Layers[Layers - 1].States.Get((long)(d + 1) * block);
        for (int r = 0; r < batch; r++)
        {
            Span<float> last = features.Slice(r * 2 * h, h), mean = features.Slice(r * 2 * h + h, h);
            states.Slice(d * block + r * h, h).CopyTo(last);
            mean.Clear();
            for (int t = 1; t <= d; t++) TensorPrimitives.Add(mean, states.Slice(t * block + r * h, h), mean);
            TensorPrimitives.Multiply(mean, 1f / d, mean);
        }
    }

    /// <inheritdoc/>
    public OnnxScores ExportOnnx(OnnxGraph graph, string pixels, bool hiddenFeatures)
    {
        var (logits, features) = ExportForward(graph, pixels, hiddenFeatures);
        return this.ScoresFromLogits(graph, pixels, logits, features);
    }

    /// <summary>
    /// The stack as ONNX's own LSTM / GRU operators over the whole sequence (teacher forcing: every step input is
    /// known), one node per layer, time-major <c>(D, N, ·)</c> as in <see cref="Forward"/>; then the output layer and
    /// the hidden features (final state, mean state).
    /// </summary>
    private (string Logits, string? HiddenFeatures) ExportForward(OnnxGraph graph, string pixels,
        bool hiddenFeatures)
    {
        int d = Dimension, h = Hidden, k = LogitsPerPixel;
        // u_t = [x_{t-1}, x_{t-W}], 0 before the image: shifted copies, (N, D) -> (D, N, In).
        var shifted = new List<string> { graph.Slice(graph.Pad(pixels, 0, 1, 0, 0), 0, d, axis: 1) };
        if (PixelAbove) shifted.Add(graph.Slice(graph.Pad(pixels, 0, Width, 0, 0), 0, d, axis: 1));
        string sequence = graph.Transpose(graph.Concat(shifted.Select(x => graph.Unsqueeze(x, 2)), axis: 2), 1, 0, 2);
        string lastState = "";
        for (int l = 0; l < Layers; l++)
        {
            string[] outputs = graph.OpMany(Cell == PixelRnnCell.Lstm ? "LSTM" : "GRU",
                [sequence, .. RecurrentWeightsOnnx(graph, l)], 2, node =>
            {
                node.AddAttribute("hidden_size", (long)h);
                // PyTorch's (and GruCell's) n = tanh(x_n + r ⊙ (U_n h + b))
                if (Cell == PixelRnnCell.Gru)
                    node.AddAttribute("linear_before_reset", 1L);
            });
            sequence = graph.Squeeze(outputs[0], 1);                   // (D, 1, N, H) -> (D, N, H)
            lastState = graph.Squeeze(outputs[1], 0);                  // (1, N, H) -> (N, H)
        }
        string outputWeight = graph.Constant(_outputWeight.Value, k, h);
        // (D, N, K')
        string logits = graph.Add(graph.MatMul(sequence, graph.Transpose(outputWeight, 1, 0)),
            graph.Constant(_outputBias.Value, k));
        logits = k == 1 ? graph.Transpose(graph.Squeeze(logits, 2), 1, 0) : graph.Transpose(logits, 1, 2, 0);
        string? features = hiddenFeatures
            ? graph.Concat([lastState, graph.ReduceMean(sequence, [0], keepDims: false)], axis: 1) : null;
        return (logits, features);
    }

    /// <summary>
    /// Layer l's W, R and B inputs of ONNX's LSTM (gates i, o, f, c) or GRU (z, r, h), reordered from this model's
    /// [i | f | g | o] and [r | z | n] blocks; the LSTM's recurrent bias is zero.
    /// </summary>
    private string[] RecurrentWeightsOnnx(OnnxGraph graph, int layer)
    {
        int h = Hidden, g = GateCount;
        int[] order = Cell == PixelRnnCell.Lstm ? [0, 3, 1, 2] : [1, 0, 2];
        float[] Reorder(float[] blocks, int columns) =>
            order.SelectMany(gate => blocks.AsSpan(gate * h * columns, h * columns).ToArray()).ToArray();
        int inputs = _inputWeight[layer].Shape[1];
        float[] recurrentBias = _recurrentBias[layer] is { } b ? Reorder(b.Value, 1) : new float[g * h];
        return
        [
            graph.Constant(Reorder(_inputWeight[layer].Value, inputs), 1, g * h, inputs),
            graph.Constant(Reorder(_recurrentWeight[layer].Value, h), 1, g * h, h),
            graph.Constant([.. Reorder(_inputBias[layer].Value, 1), .. recurrentBias], 1, 2 * g * h),
        ];
    }

    /// <summary>One step of every layer per pixel, carrying the states: a single forward pass per image.</summary>
    public void SampleRows(Span<float> x, int batch, int knownSteps, SamplingStream[] streams,
        ModelWorkspace? workspace = null)
    {
        int d = Dimension, h = Hidden, width = GateCount * h, n = batch * d;
        var ws = (Workspace)(workspace ?? CreateWorkspace(batch));
        var logits = new float[(long)LogitsPerPixel * n];
        for (int l = 0; l < Layers; l++)
        {
            ws.Layers[l].States.Get((long)(d + 1) * batch * h)[..(batch * h)].Clear();
            if (Cell == PixelRnnCell.Lstm) ws.Layers[l].Cells.Get((long)(d + 1) * batch * h)[..(batch * h)].Clear();
        }
        PackedMatrix[] recurrentWeights = Enumerable.Range(0, Layers).Select(PackRecurrentWeight).ToArray();
        for (int t = 0; t < d; t++)
        {
            // Layer inputs of step t only; the gate buffers are indexed by step as in Forward.
            BuildInputs(x, batch, t, t + 1, ws.StepInput.Get(batch * InputSize));
            for (int l = 0; l < Layers; l++)
            {
                Span<float> gates = ws.Layers[l].Gates.Get((long)n * width);
                ReadOnlySpan<float> input = l == 0 ? ws.StepInput.Get(batch * InputSize)
                    : ws.Layers[l - 1].States.Get((long)(d + 1) * batch * h).Slice((t + 1) * batch * h, batch * h);
                InputProjection(l, input, batch, gates.Slice(t * batch * width, batch * width));
                Span<float> cells = Cell == PixelRnnCell.Lstm ? ws.Layers[l].Cells.Get((long)(d + 1) * batch * h) : [];
                Span<float> recurrent = Cell == PixelRnnCell.Gru ? ws.Layers[l].Recurrent.Get((long)n * width) : [];
                Step(l, t, batch, recurrentWeights[l], gates, recurrent,
                    ws.Layers[l].States.Get((long)(d + 1) * batch * h), cells);
            }
            OutputLayer(ws, batch, t, t + 1, logits);
            if (t < knownSteps) continue; // known pixels only advance the state
            for (int r = 0; r < batch; r++) x[r * d + t] = Distribution.Draw(streams[r], logits, n, r * d + t);
        }
    }

    public override void WriteHyperparameters(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(Width);
        writer.Write(Levels);
        writer.Write((int)Cell);
        writer.Write(Hidden);
        writer.Write(Layers);
        writer.Write(PixelAbove);
        writer.Write(Truncation);
        writer.Write(MixtureComponents);
    }

    public static DensityModel ReadHyperparameters(BinaryReader reader, int formatVersion)
    {
        int dimension = reader.ReadInt32(), width = reader.ReadInt32(), levels = reader.ReadInt32();
        var cell = (PixelRnnCell)reader.ReadInt32();
        if (!Enum.IsDefined(cell))
            throw new ArgumentOutOfRangeException(nameof(cell), $"Unknown recurrent cell {(int)cell}.");
        int hidden = reader.ReadInt32(), layers = reader.ReadInt32();
        bool above = reader.ReadBoolean();
        int truncation = reader.ReadInt32();
        // Weights format 1 had no mixture head.
        int components = formatVersion >= ModelSerializer.FormatWithLevels ? reader.ReadInt32() : 0;
        return new PixelRnn(dimension, width, levels, cell, hidden, layers, above, truncation, components);
    }
}
