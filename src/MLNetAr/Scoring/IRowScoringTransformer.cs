using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Internal;
using MLNetAr.Interop;
using MLNetAr.Models;
using MLNetAr.Onnx;

namespace MLNetAr.Scoring;

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
