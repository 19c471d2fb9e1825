using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Scoring;

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
        ValueGetter<TValue> read = _binding.OutputGetter<TValue>(column, index, _active, _scorer);
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
