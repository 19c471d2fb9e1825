// Records a model's ONNX nodes in MLNetAr's own terms (the steps at the end of this file). Interop's OnnxContextWriter
// writes them into ML.NET's converter context, which is internal to Microsoft.ML.Data, so that no model or layer
// depends on ML.NET's internals. Every op used here exists in opset 11, and the graphs are valid at opset 12, the
// version ML.NET 5.0.1's ConvertToOnnx writes.
using Microsoft.ML.Data;

namespace MLNetAr.Onnx;

/// <summary>
/// A small, typed ONNX graph builder: one method per op, each returning the name of the new tensor, so that a model's
/// export reads like its forward pass. Shapes in the comments are ONNX shapes with the batch N first. Tensor names are
/// local to this graph; the writer gives them names unique in the whole exported model.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The lowest opset whose ops this builder emits.</summary>
    public const int MinimumOpSet = 11;

    private readonly List<OnnxGraphStep> _steps = [];
    private int _tensors;

    /// <summary>What was recorded, in order: the writer replays it.</summary>
    public IReadOnlyList<OnnxGraphStep> Steps => _steps;

    /// <summary>The tensor holding ML.NET column <paramref name="columnName"/> where the graph reads it.</summary>
    public string ColumnInput(string columnName) => Record(new OnnxColumnInput(NewName("Input"), columnName)).Tensor;

    /// <summary>
    /// A node of <paramref name="opType"/> with one output; <paramref name="attributes"/> sets its attributes.
    /// </summary>
    public string Op(string opType, IEnumerable<string> inputs, Action<OnnxAttributes>? attributes = null) =>
        OpMany(opType, inputs, 1, attributes)[0];

    /// <summary>A node with several outputs (e.g. LSTM's Y and final states); returns their names.</summary>
    public string[] OpMany(string opType, IEnumerable<string> inputs, int outputs,
        Action<OnnxAttributes>? attributes = null)
    {
        string[] names = Enumerable.Range(0, outputs).Select(_ => NewName(opType)).ToArray();
        var collected = new OnnxAttributes();
        attributes?.Invoke(collected);
        return Record(new OnnxNodeStep(opType, inputs.ToArray(), names, collected.Values)).Outputs;
    }

    /// <summary>
    /// Binds <paramref name="tensor"/> to the ML.NET column <paramref name="columnName"/> (its declared type and
    /// shape).
    /// </summary>
    public void BindColumn(string tensor, string columnName, DataViewType type) =>
        Record(new OnnxColumnOutput(tensor, columnName, type));

    private string NewName(string hint) => $"{hint}#{_tensors++}";

    private T Record<T>(T step) where T : OnnxGraphStep
    {
        _steps.Add(step);
        return step;
    }

    // ---- Constants (initializers) -----------------------------------------------------------------------------------

    /// <summary>A float tensor of shape <paramref name="dims"/> (row-major).</summary>
    public string Constant(ReadOnlySpan<float> values, params long[] dims)
    {
        if (values.Length != dims.Aggregate(1L, (a, b) => a * b))
            throw new ArgumentException($"{values.Length} values do not fill shape ({string.Join(", ", dims)}).",
                nameof(values));
        return Record(new OnnxInitializer(NewName("Const"), "Const", values.ToArray(), null, dims)).Tensor;
    }

    /// <summary>A float scalar.</summary>
    public string Scalar(float value) => Record(new OnnxInitializer(NewName("Scalar"), "Scalar", [value], null,
        null)).Tensor;

    /// <summary>A 1-D int64 tensor (shapes, axes, indices).</summary>
    public string Int64s(params long[] values) =>
        Record(new OnnxInitializer(NewName("Int64s"), "Int64s", null, values, [values.Length])).Tensor;

    /// <summary>An int64 scalar.</summary>
    public string Int64(long value) => Record(new OnnxInitializer(NewName("Int64"), "Int64", null, [value],
        null)).Tensor;

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
    public string Softplus(string z) => Softplus(z, Scalar(1f));

    /// <summary>
    /// <see cref="Softplus(string)"/> of a tensor of another element type than float, given the constant 1 in it.
    /// </summary>
    public string Softplus(string z, string one) => Add(Relu(z), Log(Add(one, Exp(Neg(Abs(z))))));

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

/// <summary>A node's attributes: integers and integer lists, the only kinds MLNetAr's graphs use.</summary>
internal sealed class OnnxAttributes
{
    private readonly List<OnnxAttribute> _values = [];

    public IReadOnlyList<OnnxAttribute> Values => _values;

    public void AddAttribute(string name, long value) => _values.Add(new OnnxAttribute(name, value, null));
    public void AddAttribute(string name, long[] values) => _values.Add(new OnnxAttribute(name, null, values));
}

/// <summary>An attribute: an integer or a list of integers.</summary>
internal sealed record OnnxAttribute(string Name, long? Int, long[]? Ints);

/// <summary>One recorded step of an <see cref="OnnxGraph"/>.</summary>
internal abstract record OnnxGraphStep;

/// <summary>Tensor <paramref name="Tensor"/> holds ML.NET column <paramref name="ColumnName"/>.</summary>
internal sealed record OnnxColumnInput(string Tensor, string ColumnName) : OnnxGraphStep;

/// <summary>
/// A constant: float values or int64 values, of shape <paramref name="Dims"/>, or a scalar when it is null;
/// <paramref name="Hint"/> names it in the exported model.
/// </summary>
internal sealed record OnnxInitializer(string Tensor, string Hint, float[]? Floats, long[]? Int64s, long[]? Dims)
    : OnnxGraphStep;

/// <summary>A node: its op, input and output tensors, and attributes.</summary>
internal sealed record OnnxNodeStep(string OpType, string[] Inputs, string[] Outputs,
    IReadOnlyList<OnnxAttribute> Attributes) : OnnxGraphStep;

/// <summary>Tensor <paramref name="Tensor"/> becomes ML.NET output column <paramref name="ColumnName"/>.</summary>
internal sealed record OnnxColumnOutput(string Tensor, string ColumnName, DataViewType Type) : OnnxGraphStep;

/// <summary>The ONNX tensor element types MLNetAr's graphs cast to (TensorProto.DataType).</summary>
internal enum OnnxType
{
    Float = 1,
    Int64 = 7,
    Bool = 9,
    Double = 11,
}
