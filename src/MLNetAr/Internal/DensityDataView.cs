using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Models;

namespace MLNetAr.Internal;

/// <summary>
/// Scores one row at a time with its own scratch state; one per cursor or mapped row, so parallel cursors never share it.
/// Results are computed once per input position, and only when an output column is read.
/// </summary>
internal sealed class RowScorer
{
    private readonly AutoregressiveDensityTransformer _transformer;
    private readonly ModelWorkspace _workspace;
    private readonly float[] _pixels;
    private readonly float[] _logLikelihood = new float[1];
    private VBuffer<float> _input;
    private long _scoredPosition = -1;

    public RowScorer(AutoregressiveDensityTransformer transformer)
    {
        _transformer = transformer;
        DensityModel model = transformer.Model;
        _workspace = model.CreateWorkspace(1);
        _pixels = new float[model.Dimension];
        HiddenFeatures = new float[model.HiddenFeatureCount];
    }

    public float LogLikelihood => _logLikelihood[0];
    public float[] HiddenFeatures { get; }

    /// <summary>Scores the current row of <paramref name="row"/> unless its position was already scored.</summary>
    public void EnsureScored(DataViewRow row, ValueGetter<VBuffer<float>> inputGetter)
    {
        if (row.Position == _scoredPosition) return;
        inputGetter(ref _input);
        _transformer.Encoder.Encode(_input, _pixels, row.Position);
        _transformer.Model.Score(_pixels, 1, _logLikelihood, HiddenFeatures, _workspace);
        _scoredPosition = row.Position;
    }
}

/// <summary>Column bookkeeping shared by the data view, its cursors and the row mapper.</summary>
internal sealed class DensityBinding(AutoregressiveDensityTransformer transformer, DataViewSchema inputSchema, DataViewSchema outputSchema)
{
    public AutoregressiveDensityTransformer Transformer { get; } = transformer;
    public DataViewSchema InputSchema { get; } = inputSchema;
    public DataViewSchema OutputSchema { get; } = outputSchema;
    public int LogLikelihoodIndex => InputSchema.Count;
    public int HiddenFeaturesIndex => InputSchema.Count + 1;
    public DataViewSchema.Column InputColumn => InputSchema[Transformer.InputColumnName];

    /// <summary>The input columns needed to serve <paramref name="outputColumns"/>.</summary>
    public IEnumerable<DataViewSchema.Column> Dependencies(IEnumerable<DataViewSchema.Column> outputColumns, out bool logLikelihoodActive, out bool hiddenActive)
    {
        var needed = new List<DataViewSchema.Column>();
        logLikelihoodActive = hiddenActive = false;
        foreach (var column in outputColumns)
        {
            if (column.Index == LogLikelihoodIndex) logLikelihoodActive = true;
            else if (column.Index == HiddenFeaturesIndex) hiddenActive = true;
            else needed.Add(InputSchema[column.Index]);
        }
        if ((logLikelihoodActive || hiddenActive) && !needed.Any(c => c.Index == InputColumn.Index)) needed.Add(InputColumn);
        return needed;
    }
}

/// <summary>The lazily scored view <see cref="AutoregressiveDensityTransformer.Transform"/> returns.</summary>
internal sealed class DensityDataView(AutoregressiveDensityTransformer transformer, IDataView source, DataViewSchema outputSchema) : IDataView
{
    private readonly DensityBinding _binding = new(transformer, source.Schema, outputSchema);

    public bool CanShuffle => source.CanShuffle;
    public DataViewSchema Schema => _binding.OutputSchema;
    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = _binding.Dependencies(columnsNeeded, out bool ll, out bool hidden);
        return new DensityCursor(_binding, source.GetRowCursor(needed, rand), ll, hidden);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var needed = _binding.Dependencies(columnsNeeded, out bool ll, out bool hidden);
        return source.GetRowCursorSet(needed, n, rand).Select(c => (DataViewRowCursor)new DensityCursor(_binding, c, ll, hidden)).ToArray();
    }
}

/// <summary>What <c>PredictionEngine</c> uses: maps one input row to an output row.</summary>
internal sealed class DensityRowMapper(AutoregressiveDensityTransformer transformer, DataViewSchema inputSchema, DataViewSchema outputSchema) : IRowToRowMapper
{
    private readonly DensityBinding _binding = new(transformer, inputSchema, outputSchema);

    public DataViewSchema InputSchema => _binding.InputSchema;
    public DataViewSchema OutputSchema => _binding.OutputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        _binding.Dependencies(dependingColumns, out _, out _);

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        _binding.Dependencies(activeColumns, out bool ll, out bool hidden);
        return new DensityRow(_binding, input, ll, hidden);
    }
}

/// <summary>Getters for the two output columns on top of an input row; the input's own columns pass through.</summary>
internal sealed class DensityColumns
{
    private readonly DensityBinding _binding;
    private readonly DataViewRow _input;
    private readonly bool _logLikelihoodActive, _hiddenActive;
    private readonly RowScorer _scorer;
    private readonly ValueGetter<VBuffer<float>>? _inputGetter;

    public DensityColumns(DensityBinding binding, DataViewRow input, bool logLikelihoodActive, bool hiddenActive)
    {
        (_binding, _input, _logLikelihoodActive, _hiddenActive) = (binding, input, logLikelihoodActive, hiddenActive);
        _scorer = new RowScorer(binding.Transformer);
        if (logLikelihoodActive || hiddenActive) _inputGetter = input.GetGetter<VBuffer<float>>(binding.InputColumn);
    }

    public bool IsColumnActive(DataViewSchema.Column column)
    {
        if (column.Index == _binding.LogLikelihoodIndex) return _logLikelihoodActive;
        if (column.Index == _binding.HiddenFeaturesIndex) return _hiddenActive;
        return _input.IsColumnActive(_input.Schema[column.Index]);
    }

    public ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (column.Index == _binding.LogLikelihoodIndex)
        {
            if (!_logLikelihoodActive) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            if (typeof(TValue) != typeof(float)) throw BadGetterType<TValue>(column, "Single");
            ValueGetter<float> getter = (ref float value) =>
            {
                _scorer.EnsureScored(_input, _inputGetter!);
                value = _scorer.LogLikelihood;
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }
        if (column.Index == _binding.HiddenFeaturesIndex)
        {
            if (!_hiddenActive) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            if (typeof(TValue) != typeof(VBuffer<float>)) throw BadGetterType<TValue>(column, "VBuffer<Single>");
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                _scorer.EnsureScored(_input, _inputGetter!);
                float[] features = _scorer.HiddenFeatures;
                var editor = VBufferEditor.Create(ref value, features.Length);
                features.CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }
        return _input.GetGetter<TValue>(_input.Schema[column.Index]);
    }

    private static InvalidOperationException BadGetterType<TValue>(DataViewSchema.Column column, string expected) =>
        new($"Invalid TValue in GetGetter for column '{column.Name}': '{typeof(TValue)}', expected type: '{expected}'.");
}

/// <summary>A mapped row (PredictionEngine): positions follow the input row.</summary>
internal sealed class DensityRow(DensityBinding binding, DataViewRow input, bool logLikelihoodActive, bool hiddenActive) : DataViewRow
{
    private readonly DensityColumns _columns = new(binding, input, logLikelihoodActive, hiddenActive);

    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override DataViewSchema Schema => binding.OutputSchema;
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
    public override bool IsColumnActive(DataViewSchema.Column column) => _columns.IsColumnActive(column);
    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _columns.GetGetter<TValue>(column);
}

/// <summary>A cursor over the transformed view, wrapping one source cursor.</summary>
internal sealed class DensityCursor(DensityBinding binding, DataViewRowCursor input, bool logLikelihoodActive, bool hiddenActive) : DataViewRowCursor
{
    private readonly DensityColumns _columns = new(binding, input, logLikelihoodActive, hiddenActive);

    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override DataViewSchema Schema => binding.OutputSchema;
    public override bool MoveNext() => input.MoveNext();
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
    public override bool IsColumnActive(DataViewSchema.Column column) => _columns.IsColumnActive(column);
    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _columns.GetGetter<TValue>(column);

    protected override void Dispose(bool disposing)
    {
        if (disposing) input.Dispose();
        base.Dispose(disposing);
    }
}
