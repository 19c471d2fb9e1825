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
}
