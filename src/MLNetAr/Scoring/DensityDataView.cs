using Microsoft.ML;
using MLNetAr.Interop;
using MLNetAr.Models;
using MLNetAr.Onnx;

namespace MLNetAr.Scoring;

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
