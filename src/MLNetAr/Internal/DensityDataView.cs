using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Interop;
using MLNetAr.Models;
using MLNetAr.Onnx;

namespace MLNetAr.Internal;

/// <summary>A transformer whose output columns are computed from one density model scoring one input column.</summary>
internal interface IRowScoringTransformer
{
    DensityModel Model { get; }
    /// <summary>
    /// Further models that score the same pixels, whose results the output columns combine with the first's (e.g. an
    /// anomaly detector's likelihood-ratio background); none by default.
    /// </summary>
    IReadOnlyList<DensityModel> OtherModels => [];
    PixelEncoder Encoder { get; }
    /// <summary>The columns added to the input schema, in order.</summary>
    IReadOnlyList<ScoredColumn> OutputColumns { get; }

    /// <summary>
    /// The ONNX tensors of <see cref="OutputColumns"/>, in order, computed from the encoded pixels <c>(N, D)</c>.
    /// Throws <see cref="NotSupportedException"/> naming the option when some part cannot be expressed in ONNX.
    /// </summary>
    IReadOnlyList<string> ExportOnnx(OnnxGraph graph, string pixels);
}

/// <summary>An output column: its name, type, and a getter reading a scored row.</summary>
internal sealed class ScoredColumn(string name, DataViewType type, bool needsPixelScores,
    Func<RowScorer, Delegate> createGetter,
    DataViewSchema.Annotations? annotations = null)
{
    public string Name { get; } = name;
    public DataViewType Type { get; } = type;
    /// <summary>The column's annotations in the output schema (ML.NET's score kinds, slot names), or null.</summary>
    public DataViewSchema.Annotations? Annotations { get; } = annotations;

    /// <summary>This column with <paramref name="annotations"/>.</summary>
    public ScoredColumn WithAnnotations(DataViewSchema.Annotations annotations) =>
        new(Name, Type, NeedsPixelScores, CreateGetter, annotations);

    /// <summary>Text annotations, e.g. ML.NET's <c>ScoreColumnKind</c> and <c>ScoreValueKind</c>.</summary>
    public static DataViewSchema.Annotations TextAnnotations(params (string Kind, string Value)[] values)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        foreach (var (kind, value) in values)
            builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = value.AsMemory());
        return builder.ToAnnotations();
    }

    /// <summary>Slot names <c>Pixel0 … Pixel{D-1}</c> (raster order) for a per-pixel vector column.</summary>
    public static DataViewSchema.Annotations PixelSlotNames(int dimension)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        // ML.NET's AddSlotNames helper is internal: this is what it adds.
        builder.Add(AnnotationUtils.Kinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, dimension),
            (ref VBuffer<ReadOnlyMemory<char>> names) =>
        {
            var editor = VBufferEditor.Create(ref names, dimension);
            for (int i = 0; i < dimension; i++)
                editor.Values[i] = ("Pixel" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).AsMemory();
            names = editor.Commit();
        });
        return builder.ToAnnotations();
    }
    /// <summary>Whether the column needs the per-pixel conditionals (computed only then).</summary>
    public bool NeedsPixelScores { get; } = needsPixelScores;
    /// <summary>
    /// Creates a <c>ValueGetter&lt;T&gt;</c> over the scorer's current row (the scorer is scored before each call).
    /// </summary>
    public Func<RowScorer, Delegate> CreateGetter { get; } = createGetter;

    public static ScoredColumn Scalar(string name, Func<RowScorer, float> value) =>
        new(name, NumberDataViewType.Single, false, scorer => (ValueGetter<float>)((ref float v) => v = value(scorer)));

    public static ScoredColumn Boolean(string name, Func<RowScorer, bool> value) =>
        new(name, BooleanDataViewType.Instance, false, scorer =>
            (ValueGetter<bool>)((ref bool v) => v = value(scorer)));

    /// <summary>
    /// A vector column of <paramref name="size"/> values that <paramref name="write"/> fills from the scored row.
    /// </summary>
    public static ScoredColumn Vector(string name, int size, bool needsPixelScores,
        Action<RowScorer, Span<float>> write) =>
        new(name, new VectorDataViewType(NumberDataViewType.Single, size), needsPixelScores, scorer =>
            (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
        {
            var editor = VBufferEditor.Create(ref v, size);
            write(scorer, editor.Values);
            v = editor.Commit();
        }));
}

/// <summary>
/// Scores one row at a time with its own scratch state; one per cursor or mapped row, so parallel cursors never share
/// it. Results are computed once per input position, and only when an output column is read.
/// </summary>
internal sealed class RowScorer
{
    private readonly IRowScoringTransformer _transformer;
    private readonly ModelWorkspace _workspace;
    private readonly ModelWorkspace[] _otherWorkspaces;
    private readonly float[] _logLikelihood = new float[1];
    private readonly float[] _otherLogLikelihoods;
    private readonly float[][] _otherPixelLogProbabilities;
    private readonly bool _pixelScores;
    private VBuffer<float> _input;
    private long _scoredPosition = -1;

    public RowScorer(IRowScoringTransformer transformer, bool pixelScores)
    {
        _transformer = transformer;
        _pixelScores = pixelScores;
        DensityModel model = transformer.Model;
        _workspace = model.CreateWorkspace(1);
        _otherWorkspaces = transformer.OtherModels.Select(m => m.CreateWorkspace(1)).ToArray();
        _otherLogLikelihoods = new float[_otherWorkspaces.Length];
        _otherPixelLogProbabilities = _otherWorkspaces.Select(_ =>
            pixelScores ? new float[model.Dimension] : []).ToArray();
        Pixels = new float[model.Dimension];
        HiddenFeatures = new float[model.HiddenFeatureCount];
        PixelScores = pixelScores ? new float[model.Dimension] : [];
    }

    /// <summary>The current row's encoded pixels.</summary>
    public float[] Pixels { get; }
    /// <summary><c>log p(x)</c> of the current row, in nats.</summary>
    public float LogLikelihood => _logLikelihood[0];
    public float[] HiddenFeatures { get; }
    /// <summary>Per-pixel <c>-log p(x_i | x_&lt;i)</c> of the current row (when requested).</summary>
    public float[] PixelScores { get; }
    /// <summary>
    /// <c>log p_k(x)</c> of the current row under <see cref="IRowScoringTransformer.OtherModels"/>[k].
    /// </summary>
    public float OtherLogLikelihood(int k) => _otherLogLikelihoods[k];
    /// <summary>
    /// Per-pixel <c>log p_k(x_i | x_&lt;i)</c> of the current row under other model k (when requested).
    /// </summary>
    public ReadOnlySpan<float> OtherPixelLogProbabilities(int k) => _otherPixelLogProbabilities[k];

    /// <summary>Scores the current row of <paramref name="row"/> unless its position was already scored.</summary>
    public void EnsureScored(DataViewRow row, ValueGetter<VBuffer<float>> inputGetter)
    {
        if (row.Position == _scoredPosition) return;
        inputGetter(ref _input);
        _transformer.Encoder.Encode(_input, Pixels, row.Position);
        DensityModel model = _transformer.Model;
        model.Score(Pixels, 1, _logLikelihood, HiddenFeatures, _workspace);
        if (_pixelScores)
        {
            model.PixelLogProbabilities(Pixels, 1, PixelScores, _workspace);
            System.Numerics.Tensors.TensorPrimitives.Negate(PixelScores, PixelScores);
        }
        for (int k = 0; k < _otherWorkspaces.Length; k++)
        {
            DensityModel other = _transformer.OtherModels[k];
            other.Score(Pixels, 1, _otherLogLikelihoods.AsSpan(k, 1), Span<float>.Empty, _otherWorkspaces[k]);
            if (_pixelScores)
                other.PixelLogProbabilities(Pixels, 1, _otherPixelLogProbabilities[k], _otherWorkspaces[k]);
        }
        _scoredPosition = row.Position;
    }

    /// <summary>
    /// Sets the current row's results from a batch the row was scored in (see <see cref="BatchScorer"/>).
    /// </summary>
    public void Load(ReadOnlySpan<float> pixels, float logLikelihood, ReadOnlySpan<float> hiddenFeatures,
        ReadOnlySpan<float> pixelLogProbabilities)
    {
        pixels.CopyTo(Pixels);
        _logLikelihood[0] = logLikelihood;
        hiddenFeatures.CopyTo(HiddenFeatures);
        if (_pixelScores) System.Numerics.Tensors.TensorPrimitives.Negate(pixelLogProbabilities, PixelScores);
    }

    /// <summary>Sets other model k's results for the current row (after <see cref="Load"/>).</summary>
    public void LoadOther(int k, float logLikelihood, ReadOnlySpan<float> pixelLogProbabilities)
    {
        _otherLogLikelihoods[k] = logLikelihood;
        if (_pixelScores) pixelLogProbabilities.CopyTo(_otherPixelLogProbabilities[k]);
    }
}

/// <summary>Column bookkeeping shared by the data view, its cursors and the row mapper.</summary>
internal sealed class DensityBinding(IRowScoringTransformer transformer, DataViewSchema inputSchema,
    DataViewSchema outputSchema)
{
    public IRowScoringTransformer Transformer { get; } = transformer;
    public DataViewSchema InputSchema { get; } = inputSchema;
    public DataViewSchema OutputSchema { get; } = outputSchema;
    public DataViewSchema.Column InputColumn => InputSchema[Transformer.Encoder.ColumnName];

    /// <summary>
    /// Index among <see cref="IRowScoringTransformer.OutputColumns"/> of an output-schema column, or -1 for a
    /// passed-through input column.
    /// </summary>
    public int OutputIndex(DataViewSchema.Column column) =>
        column.Index >= InputSchema.Count ? column.Index - InputSchema.Count : -1;

    /// <summary>Whether any active added column needs the per-pixel conditionals.</summary>
    public bool NeedsPixelScores(bool[] active) =>
        Enumerable.Range(0, active.Length).Any(i => active[i] && Transformer.OutputColumns[i].NeedsPixelScores);

    /// <summary>
    /// The input columns needed to serve <paramref name="outputColumns"/>, and which added columns are active.
    /// </summary>
    public IEnumerable<DataViewSchema.Column> Dependencies(IEnumerable<DataViewSchema.Column> outputColumns,
        out bool[] active)
    {
        var needed = new List<DataViewSchema.Column>();
        active = new bool[Transformer.OutputColumns.Count];
        foreach (var column in outputColumns)
        {
            int index = OutputIndex(column);
            if (index >= 0) active[index] = true;
            else needed.Add(InputSchema[column.Index]);
        }
        if (active.Any(a => a) && !needed.Any(c => c.Index == InputColumn.Index)) needed.Add(InputColumn);
        return needed;
    }
}

/// <summary>
/// The lazily scored view <c>Transform</c> returns (inside an <see cref="OnnxExportableView"/>), which also records
/// the encoding and the model's scoring graph when ML.NET's <c>ConvertToOnnx</c> walks back through it.
/// </summary>
internal sealed class DensityDataView(IRowScoringTransformer transformer, IDataView source,
    DataViewSchema outputSchema) : IDataView, IOnnxExportableStep
{
    private readonly DensityBinding _binding = new(transformer, source.Schema, outputSchema);

    public string StepName => "MLNetAr " + transformer.Model.Kind;
    public string InputColumnName => transformer.Encoder.ColumnName;

    public void CheckExportable()
    {
        if (transformer.Encoder.Image != null)
            throw new NotSupportedException(
                $"The MLNetAr {transformer.Model.Kind} step reads images from column " +
                    $"'{transformer.Encoder.ColumnName}', and ONNX has no image type " +
                "(ML.NET cannot export LoadImages, ResizeImages or ConvertToGrayscale either). To export, fit the " +
                    "model on pixels instead: " +
                "ResizeImages → ConvertToGrayscale → ExtractPixels(colorsToExtract: Red, scaleImage: 1f / 255) give " +
                    "the same values.");
    }

    public NotSupportedException InputNotInGraph() => new(
        $"Column '{InputColumnName}' is computed by a step that ML.NET cannot export to ONNX (image loading and " +
        $"resizing, a custom mapping, for example), so the graph would not compute the input of the MLNetAr " +
        $"{transformer.Model.Kind} step. Export the MLNetAr transformer on its own, from the data the earlier steps " +
        "produce, cached so that the converter starts there: mlContext.Model.ConvertToOnnx(mlnetArTransformer, " +
        $"mlContext.Data.Cache(earlierSteps.Transform(data)), stream); the graph then takes '{InputColumnName}' as " +
        "its input.");

    public void RecordOnnx(OnnxGraph graph)
    {
        string input = graph.ColumnInput(InputColumnName);
        // ExtractPixels' columns carry image dimensions, (N, C, H, W) in ONNX: the models read (N, D).
        string pixels = transformer.Encoder.ExportOnnx(graph, graph.Reshape(input, -1, transformer.Model.Dimension));
        IReadOnlyList<string> tensors = transformer.ExportOnnx(graph, pixels);
        for (int i = 0; i < tensors.Count; i++)
            graph.BindColumn(tensors[i], transformer.OutputColumns[i].Name, transformer.OutputColumns[i].Type);
    }

    public bool CanShuffle => source.CanShuffle;
    public DataViewSchema Schema => _binding.OutputSchema;
    public long? GetRowCount() => source.GetRowCount();

    /// <summary>
    /// A cursor that reads any scored column scores rows in batches (<see cref="BatchedDensityCursor"/>); one whose
    /// pass-through columns cannot be copied (image objects) scores row by row.
    /// </summary>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        columnsNeeded = columnsNeeded.ToArray();
        var needed = _binding.Dependencies(columnsNeeded, out bool[] active);
        if (active.Any(a => a)
            && BatchedDensityCursor.TryCreate(_binding, source, columnsNeeded, active,
            rand) is { } batched) return batched;
        return new DensityCursor(_binding, source.GetRowCursor(needed, rand), active);
    }

    /// <summary>Batched scoring already runs every core on one batch, so such a set is one batched cursor.</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n,
        Random? rand = null)
    {
        columnsNeeded = columnsNeeded.ToArray();
        var needed = _binding.Dependencies(columnsNeeded, out bool[] active);
        if (active.Any(a => a)
            && BatchedDensityCursor.TryCreate(_binding, source, columnsNeeded, active,
            rand) is { } batched) return [batched];
        return source.GetRowCursorSet(needed, n, rand).Select(c =>
            (DataViewRowCursor)new DensityCursor(_binding, c, active)).ToArray();
    }
}

/// <summary>What <c>PredictionEngine</c> uses: maps one input row to an output row.</summary>
internal sealed class DensityRowMapper(IRowScoringTransformer transformer, DataViewSchema inputSchema,
    DataViewSchema outputSchema) : IRowToRowMapper
{
    private readonly DensityBinding _binding = new(transformer, inputSchema, outputSchema);

    public DataViewSchema InputSchema => _binding.InputSchema;
    public DataViewSchema OutputSchema => _binding.OutputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        _binding.Dependencies(dependingColumns, out _);

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        _binding.Dependencies(activeColumns, out bool[] active);
        return new DensityRow(_binding, input, active);
    }
}

/// <summary>Getters for the added columns on top of an input row; the input's own columns pass through.</summary>
internal sealed class DensityColumns
{
    private readonly DensityBinding _binding;
    private readonly DataViewRow _input;
    private readonly bool[] _active;
    private readonly RowScorer _scorer;
    private readonly ValueGetter<VBuffer<float>>? _inputGetter;

    public DensityColumns(DensityBinding binding, DataViewRow input, bool[] active)
    {
        (_binding, _input, _active) = (binding, input, active);
        _scorer = new RowScorer(binding.Transformer, binding.NeedsPixelScores(active));
        if (active.Any(a => a)) _inputGetter = binding.Transformer.Encoder.CreateGetter(input, binding.InputColumn);
    }

    public bool IsColumnActive(DataViewSchema.Column column)
    {
        int index = _binding.OutputIndex(column);
        return index >= 0 ? _active[index] : _input.IsColumnActive(_input.Schema[column.Index]);
    }

    public ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        int index = _binding.OutputIndex(column);
        if (index < 0) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
        if (!_active[index])
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
        ScoredColumn output = _binding.Transformer.OutputColumns[index];
        if (output.CreateGetter(_scorer) is not ValueGetter<TValue> read)
            throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': " +
                $"'{typeof(TValue)}', expected type: '{output.Type.RawType}'.");
        return (ref TValue value) =>
        {
            _scorer.EnsureScored(_input, _inputGetter!);
            read(ref value);
        };
    }
}

/// <summary>A mapped row (PredictionEngine): positions follow the input row.</summary>
internal sealed class DensityRow(DensityBinding binding, DataViewRow input, bool[] active) : DataViewRow
{
    private readonly DensityColumns _columns = new(binding, input, active);

    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override DataViewSchema Schema => binding.OutputSchema;
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
    public override bool IsColumnActive(DataViewSchema.Column column) => _columns.IsColumnActive(column);
    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _columns.GetGetter<TValue>(column);
}

/// <summary>A cursor over the transformed view that scores row by row, wrapping one source cursor.</summary>
internal sealed class DensityCursor(DensityBinding binding, DataViewRowCursor input, bool[] active) : DataViewRowCursor
{
    private readonly DensityColumns _columns = new(binding, input, active);

    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override DataViewSchema Schema => binding.OutputSchema;
    public override bool MoveNext() => input.MoveNext();
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
    public override bool IsColumnActive(DataViewSchema.Column column) => _columns.IsColumnActive(column);
    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _columns.GetGetter<TValue>(column);

    protected override void Dispose(bool disposing)
    {
        if (disposing) input.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// Schema, transform and mapper plumbing shared by the transformers built on <see cref="DensityDataView"/>.
/// </summary>
internal static class RowScoringTransformers
{
    /// <summary>The input columns plus the transformer's added columns; checks the input column first.</summary>
    public static DataViewSchema OutputSchema(IRowScoringTransformer transformer, DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        transformer.Encoder.CheckInput(inputSchema, transformer.Model.Dimension);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (ScoredColumn column in transformer.OutputColumns)
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        return builder.ToSchema();
    }

    public static IDataView Transform(IRowScoringTransformer transformer, IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var scored = new DensityDataView(transformer, input, OutputSchema(transformer, input.Schema));
        return new OnnxExportableView(scored, input, scored);
    }

    public static IRowToRowMapper Mapper(IRowScoringTransformer transformer, DataViewSchema inputSchema) =>
        new DensityRowMapper(transformer, inputSchema, OutputSchema(transformer, inputSchema));
}
