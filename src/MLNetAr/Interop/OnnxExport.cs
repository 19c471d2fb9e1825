// ML.NET's ONNX converter (ConvertToOnnx) walks a transformed data view back step by step, asking each one that
// implements its internal ITransformCanSaveOnnx to write nodes into its internal OnnxContext. MLNetAr's views are
// wrapped in OnnxExportableView to answer it, and the models' recorded graphs (Onnx/OnnxGraph.cs) are written into the
// context by OnnxContextWriter.
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using MLNetAr.Onnx;

namespace MLNetAr.Interop;

/// <summary>A step of a pipeline that can write itself into an ONNX graph, in MLNetAr's own terms.</summary>
internal interface IOnnxExportableStep
{
    /// <summary>The step's name in messages, e.g. "MLNetAr PixelCnn".</summary>
    string StepName { get; }

    /// <summary>The ML.NET column the step reads.</summary>
    string InputColumnName { get; }

    /// <summary>Throws a <c>NotSupportedException</c>, saying what to do, when the step cannot be exported.</summary>
    void CheckExportable();

    /// <summary>The error when the graph cannot compute the step's input column.</summary>
    NotSupportedException InputNotInGraph();

    /// <summary>Records the step: reads its input column and binds every output column.</summary>
    void RecordOnnx(OnnxGraph graph);
}

/// <summary>
/// The data view a scoring transformer's <c>Transform</c> returns: <paramref name="scored"/> for reading, and the step
/// ML.NET's <c>ConvertToOnnx</c> walks back through (an <see cref="ITransformCanSaveOnnx"/>, as ML.NET's own
/// transforms' views are).
/// </summary>
internal sealed class OnnxExportableView(IDataView scored, IDataView source, IOnnxExportableStep step)
    : IDataView, ITransformCanSaveOnnx
{
    public IDataView Source => source;
    public bool CanShuffle => scored.CanShuffle;
    public DataViewSchema Schema => scored.Schema;
    public long? GetRowCount() => scored.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        scored.GetRowCursor(columnsNeeded, rand);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n,
        Random? rand = null) => scored.GetRowCursorSet(columnsNeeded, n, rand);

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("Save the fitted transformer (mlContext.Model.Save), not the data view it " +
            "returned.");

    /// <summary>
    /// True, or an exception: returning false would make ML.NET's converter stop walking back silently and export this
    /// step's outputs as graph inputs, a graph that computes nothing.
    /// </summary>
    public bool CanSaveOnnx(OnnxContext ctx)
    {
        ctx.CheckOpSetVersion(OnnxGraph.MinimumOpSet, step.StepName);
        step.CheckExportable();
        CheckInputReachesGraph(ctx);
        return true;
    }

    /// <summary>
    /// ML.NET's converter stops at the first step before this one that cannot be exported and feeds the graph from the
    /// original data's columns. If a step it skipped computed or replaced the input column, the graph would silently
    /// read another column of the same name: refuse that.
    /// </summary>
    private void CheckInputReachesGraph(OnnxContext ctx)
    {
        string column = step.InputColumnName;
        IDataView view = source;
        while (view is IDataTransform earlier && earlier is ITransformCanSaveOnnx exportable
            && exportable.CanSaveOnnx(ctx))
            view = earlier.Source;
        for (; view is IDataTransform skipped; view = skipped.Source)
        {
            DataViewSchema.Column? produced = skipped.Schema.GetColumnOrNull(column),
                consumed = skipped.Source.Schema.GetColumnOrNull(column);
            if (produced is not { } output || consumed is not { } input || input.Index != output.Index
                || !input.Type.Equals(output.Type))
                throw step.InputNotInGraph();
        }
    }

    public void SaveAsOnnx(OnnxContext ctx)
    {
        if (!ctx.ContainsColumn(step.InputColumnName)) throw step.InputNotInGraph();
        var graph = new OnnxGraph();
        step.RecordOnnx(graph);
        OnnxContextWriter.Write(graph, ctx);
    }
}

/// <summary>Writes a recorded <see cref="OnnxGraph"/> into ML.NET's converter context.</summary>
internal static class OnnxContextWriter
{
    private const string Prefix = "MLNetAr_";

    /// <summary>
    /// Replays <paramref name="graph"/>'s steps in order, giving every tensor a name unique in the whole model (the
    /// context's), so that two MLNetAr steps in one pipeline never collide.
    /// </summary>
    public static void Write(OnnxGraph graph, OnnxContext context)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        string NameOf(string tensor) => names.TryGetValue(tensor, out string? name) ? name
            : throw new InvalidOperationException($"ONNX tensor '{tensor}' is used before a step made it.");
        foreach (OnnxGraphStep step in graph.Steps)
        {
            switch (step)
            {
                case OnnxColumnInput input:
                    names[input.Tensor] = context.GetVariableName(input.ColumnName);
                    break;
                case OnnxInitializer constant:
                    names[constant.Tensor] = AddInitializer(context, constant);
                    break;
                case OnnxNodeStep node:
                    string[] outputs = node.Outputs.Select(output => names[output] =
                        context.AddIntermediateVariable(null, Prefix + node.OpType, skip: true)).ToArray();
                    OnnxNode written = context.CreateNode(node.OpType, node.Inputs.Select(NameOf), outputs,
                        context.GetNodeName(Prefix + node.OpType), "");
                    foreach (OnnxAttribute attribute in node.Attributes)
                    {
                        if (attribute.Int is { } value) written.AddAttribute(attribute.Name, value);
                        else written.AddAttribute(attribute.Name, attribute.Ints!);
                    }
                    break;
                case OnnxColumnOutput output:
                    string variable = context.AddIntermediateVariable(output.Type, output.ColumnName);
                    context.CreateNode("Identity", NameOf(output.Tensor), variable,
                        context.GetNodeName(Prefix + "Identity"), "");
                    break;
                default:
                    throw new InvalidOperationException($"Unknown ONNX graph step {step.GetType().Name}.");
            }
        }
    }

    private static string AddInitializer(OnnxContext context, OnnxInitializer constant)
    {
        string name = Prefix + constant.Hint;
        return (constant.Floats, constant.Int64s, constant.Dims) switch
        {
            ({ } floats, null, null) => context.AddInitializer(floats[0], name),
            ({ } floats, null, { } dims) => context.AddInitializer(floats, dims, name),
            (null, { } longs, null) => context.AddInitializer(longs[0], name),
            (null, { } longs, { } dims) => context.AddInitializer(longs, dims, name),
            _ => throw new InvalidOperationException($"ONNX constant '{constant.Tensor}' has no values."),
        };
    }
}
