// Builds ONNX nodes into ML.NET's own converter context (OnnxContext is internal to Microsoft.ML.Data; reached through
// the publicized reference like the save/load contract, see Internal/MlNetInterop.cs). Every op used here exists in
// opset 11, and the graphs are valid at opset 12, the version ML.NET 5.0.1's ConvertToOnnx writes.
using Microsoft.ML.Model.OnnxConverter;

namespace MLNetAr.Onnx;

/// <summary>
/// A small, typed front end over ML.NET's <see cref="OnnxContext"/>: one method per op, each returning the name of the
/// new tensor, so that a model's export reads like its forward pass. Shapes in the comments are ONNX shapes with the
/// batch N first.
/// </summary>
internal sealed class OnnxGraph(OnnxContext context)
{
    /// <summary>The lowest opset whose ops this builder emits.</summary>
    public const int MinimumOpSet = 11;

    private const string Prefix = "MLNetAr_";

    /// <summary>
    /// A node of <paramref name="opType"/> with one output; <paramref name="attributes"/> sets its attributes.
    /// </summary>
    public string Op(string opType, IEnumerable<string> inputs, Action<OnnxNode>? attributes = null)
    {
        string output = NewName(opType);
        OnnxNode node = context.CreateNode(opType, inputs, [output], context.GetNodeName(Prefix + opType), "");
        attributes?.Invoke(node);
        return output;
    }

    /// <summary>A node with several outputs (e.g. LSTM's Y and final states); returns their names.</summary>
    public string[] OpMany(string opType, IEnumerable<string> inputs, int outputs, Action<OnnxNode>? attributes = null)
    {
        string[] names = Enumerable.Range(0, outputs).Select(_ => NewName(opType)).ToArray();
        OnnxNode node = context.CreateNode(opType, inputs, names, context.GetNodeName(Prefix + opType), "");
        attributes?.Invoke(node);
        return names;
    }

    /// <summary>
    /// Binds <paramref name="tensor"/> to the ML.NET column <paramref name="columnName"/> (its declared type and
    /// shape).
    /// </summary>
    public void BindColumn(string tensor, string columnName, Microsoft.ML.Data.DataViewType type)
    {
        string variable = context.AddIntermediateVariable(type, columnName);
        context.CreateNode("Identity", tensor, variable, context.GetNodeName(Prefix + "Identity"), "");
    }

    private string NewName(string opType) => context.AddIntermediateVariable(null, Prefix + opType, skip: true);

    // ---- Constants (initializers) -----------------------------------------------------------------------------------

    /// <summary>A float tensor of shape <paramref name="dims"/> (row-major).</summary>
    public string Constant(ReadOnlySpan<float> values, params long[] dims)
    {
        if (values.Length != dims.Aggregate(1L, (a, b) => a * b))
            throw new ArgumentException($"{values.Length} values do not fill shape ({string.Join(", ", dims)}).",
                nameof(values));
        return context.AddInitializer(values.ToArray(), dims, Prefix + "Const");
    }

    /// <summary>A float scalar.</summary>
    public string Scalar(float value) => context.AddInitializer(value, Prefix + "Scalar");

    /// <summary>A 1-D int64 tensor (shapes, axes, indices).</summary>
    public string Int64s(params long[] values) => context.AddInitializer(values, [values.Length], Prefix + "Int64s");

    /// <summary>An int64 scalar.</summary>
    public string Int64(long value) => context.AddInitializer(value, Prefix + "Int64");

    // ---- Element-wise
    // -------------------------------------------------------------------------------------------------

    public string Add(string a, string b) => Op("Add", [a, b]);
    public string Sub(string a, string b) => Op("Sub", [a, b]);
    public string Mul(string a, string b) => Op("Mul", [a, b]);
    public string Div(string a, string b) => Op("Div", [a, b]);
    public string Neg(string x) => Op("Neg", [x]);
    public string Abs(string x) => Op("Abs", [x]);
    public string Exp(string x) => Op("Exp", [x]);
    public string Log(string x) => Op("Log", [x]);
    public string Relu(string x) => Op("Relu", [x]);
    public string Sigmoid(string x) => Op("Sigmoid", [x]);
    public string Tanh(string x) => Op("Tanh", [x]);
    public string Round(string x) => Op("Round", [x]);
    public string Greater(string a, string b) => Op("Greater", [a, b]);
    public string Less(string a, string b) => Op("Less", [a, b]);
    public string Equal(string a, string b) => Op("Equal", [a, b]);
    public string And(string a, string b) => Op("And", [a, b]);
    public string Or(string a, string b) => Op("Or", [a, b]);
    public string Not(string x) => Op("Not", [x]);
    public string Where(string condition, string a, string b) => Op("Where", [condition, a, b]);

    /// <summary>Element-wise sum of any number of tensors of one shape.</summary>
    public string Sum(IEnumerable<string> terms)
    {
        string[] all = terms.ToArray();
        return all.Length == 1 ? all[0] : Op("Sum", all);
    }

    /// <summary>
    /// <c>Σ_i x[:, i]</c> <c>(N, D) -> (N, 1)</c> accumulated in double: a log-likelihood sums hundreds of terms, and a
    /// float sum of an image's ~1000 nats would already be off by ~1e-3 nats.
    /// </summary>
    public string SumRows(string x) => Cast(ReduceSum(Cast(x, OnnxType.Double), 1), OnnxType.Float);

    /// <summary>Casts to float (1), int64 (7), bool (9) or double (11): ONNX's TensorProto data types.</summary>
    public string Cast(string x, OnnxType to) => Op("Cast", [x], n => n.AddAttribute("to", (long)to));

    /// <summary>
    /// <c>softplus(z) = max(z, 0) + log(1 + exp(-|z|))</c>: stable for any z (a plain Softplus op overflows in some
    /// runtimes).
    /// </summary>
    public string Softplus(string z) => Add(Relu(z), Log(Add(Scalar(1f), Exp(Neg(Abs(z))))));

    // ---- Linear algebra and shapes
    // ------------------------------------------------------------------------------------

    public string MatMul(string a, string b) => Op("MatMul", [a, b]);

    /// <summary><c>x · W + b</c> for x <c>(N, In)</c>, W <c>(In, Out)</c> and b <c>(Out)</c>.</summary>
    public string Linear(string x, string weight, string? bias) =>
        bias == null ? MatMul(x, weight) : Add(MatMul(x, weight), bias);

    public string Reshape(string x, params long[] shape) => Op("Reshape", [x, Int64s(shape)]);
    public string Transpose(string x, params long[] permutation) =>
        Op("Transpose", [x], n => n.AddAttribute("perm", permutation));
    public string Concat(IEnumerable<string> parts, long axis) =>
        Op("Concat", parts, n => n.AddAttribute("axis", axis));
    public string Unsqueeze(string x, params long[] axes) => Op("Unsqueeze", [x], n => n.AddAttribute("axes", axes));
    public string Squeeze(string x, params long[] axes) => Op("Squeeze", [x], n => n.AddAttribute("axes", axes));

    /// <summary>Elements of <paramref name="x"/> at <paramref name="indices"/> along <paramref name="axis"/>.</summary>
    public string Gather(string x, long[] indices, long axis) =>
        Op("Gather", [x, Int64s(indices)], n => n.AddAttribute("axis", axis));

    /// <summary><c>x[..., start:end, ...]</c> along one axis.</summary>
    public string Slice(string x, long start, long end, long axis) =>
        Op("Slice", [x, Int64s(start), Int64s(end), Int64s(axis)]);

    /// <summary>Zero padding: <paramref name="pads"/> holds the begin pads of every axis, then the end pads.</summary>
    public string Pad(string x, params long[] pads) => Op("Pad", [x, Int64s(pads)]);

    /// <summary>Sums along one axis.</summary>
    public string ReduceSum(string x, long axis, bool keepDims = true) => Reduce("ReduceSum", x, [axis], keepDims);
    public string ReduceMax(string x, long axis, bool keepDims = true) => Reduce("ReduceMax", x, [axis], keepDims);
    public string ReduceMean(string x, long[] axes, bool keepDims = true) => Reduce("ReduceMean", x, axes, keepDims);

    /// <summary>A reduction in the opset-11/12 form (axes as an attribute; opset 13 moved them to an input).</summary>
    private string Reduce(string opType, string x, long[] axes, bool keepDims) =>
        Op(opType, [x], n => { n.AddAttribute("axes", axes); n.AddAttribute("keepdims", keepDims ? 1L : 0L); });

    /// <summary>
    /// <c>log Σ exp(x)</c> along <paramref name="axis"/> (kept, size 1), shifted by the maximum so it cannot overflow.
    /// </summary>
    public string LogSumExp(string x, long axis)
    {
        string max = ReduceMax(x, axis);
        return Add(Log(ReduceSum(Exp(Sub(x, max)), axis)), max);
    }

    /// <summary>
    /// <c>log softmax(x)</c> along <paramref name="axis"/> of any rank (opset 11's LogSoftmax flattens to 2-D instead).
    /// </summary>
    public string LogSoftmax(string x, long axis) => Sub(x, LogSumExp(x, axis));

    /// <summary>
    /// Running sum along <paramref name="axis"/>; <paramref name="exclusive"/> leaves out the element itself.
    /// </summary>
    public string CumSum(string x, long axis, bool exclusive) =>
        Op("CumSum", [x, Int64(axis)], n => n.AddAttribute("exclusive", exclusive ? 1L : 0L));

    /// <summary>A 2-D convolution, NCHW, no bias unless given.</summary>
    public string Conv(string x, string weight, string? bias, long[] kernel, long[] pads, long[] dilations) =>
        Op("Conv", bias == null ? [x, weight] : [x, weight, bias], n =>
        {
            n.AddAttribute("kernel_shape", kernel);
            n.AddAttribute("pads", pads);
            n.AddAttribute("dilations", dilations);
        });
}

/// <summary>The ONNX tensor element types MLNetAr's graphs cast to (TensorProto.DataType).</summary>
internal enum OnnxType
{
    Float = 1,
    Int64 = 7,
    Bool = 9,
    Double = 11,
}
