using Microsoft.ML;

namespace MLNetAr.Scoring;

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

    /// <summary>
    /// The getter of added column <paramref name="index"/> over <paramref name="scorer"/>'s current row, checked as
    /// ML.NET's cursors check theirs: the column must be active and read as its own type.
    /// </summary>
    public ValueGetter<TValue> OutputGetter<TValue>(DataViewSchema.Column column, int index, bool[] active,
        RowScorer scorer)
    {
        if (!active[index])
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
        ScoredColumn output = Transformer.OutputColumns[index];
        return output.CreateGetter(scorer) as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': " +
                $"'{typeof(TValue)}', expected type: '{output.Type.RawType}'.");
    }
}
