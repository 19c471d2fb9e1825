using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNetAr.Tests.TestUtilities;

/// <summary>
/// Exports a fitted pipeline with ML.NET's own <c>ConvertToOnnx</c>, runs the graph in ONNX Runtime (directly, as one
/// batch) and through ML.NET's <c>ApplyOnnxModel</c>, and compares every column with MLNetAr's own.
/// </summary>
internal static class OnnxAssert
{
    /// <summary>
    /// Largest |ONNX - MLNetAr| of a log-likelihood or score seen by any test in this run (for the report).
    /// </summary>
    public static double LargestScoreDifference { get; private set; }

    /// <summary>Exports <paramref name="model"/> as ML.NET's converter does and returns the file's path.</summary>
    public static string Export(MLContext ml, ITransformer model, IDataView data)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-{Guid.NewGuid():N}.onnx");
        using (var stream = File.Create(path)) ml.Model.ConvertToOnnx(model, data, stream);
        return path;
    }

    /// <summary>
    /// Scores <paramref name="data"/> with <paramref name="model"/> and with its ONNX export; scalar columns in
    /// <paramref name="scoreColumns"/> must agree within 1e-3 absolute (nats), vectors in
    /// <paramref name="vectorColumns"/> within 1e-4 relative (to max(1, |value|)), Boolean columns exactly.
    /// </summary>
    public static void MatchesOnnxRuntime(MLContext ml, ITransformer model, IDataView data,
        string[] scoreColumns, string[] vectorColumns, string[]? booleanColumns = null,
            bool throughApplyOnnxModel = true)
    {
        booleanColumns ??= [];
        IDataView expected = model.Transform(data);
        string path = Export(ml, model, data);
        try
        {
            using var session = new InferenceSession(path);
            // Outputs are the converter's "<column>.output" tensors; the graph never takes them as inputs.
            foreach (string column in scoreColumns.Concat(vectorColumns).Concat(booleanColumns))
            {
                Assert.DoesNotContain(column, session.InputMetadata.Keys);
                Assert.Contains(column + ".output", session.OutputMetadata.Keys);
            }
            using var results = session.Run(Inputs(session, data));
            var outputs = results.ToDictionary(r => r.Name);

            foreach (string column in scoreColumns)
            {
                float[] want = expected.GetColumn<float>(column).ToArray();
                float[] got = outputs[column + ".output"].AsTensor<float>().ToArray();
                AssertClose(column, want, got);
                if (throughApplyOnnxModel)
                    AssertClose(column + " (ApplyOnnxModel)", want,
                        ApplyOnnxModel(ml, path, data, column).Select(v => v[0]).ToArray());
            }
            foreach (string column in vectorColumns)
            {
                float[][] want = expected.GetColumn<float[]>(column).ToArray();
                float[] got = outputs[column + ".output"].AsTensor<float>().ToArray();
                int size = want[0].Length;
                Assert.Equal(want.Length * size, got.Length);
                for (int r = 0; r < want.Length; r++)
                    for (int i = 0; i < size; i++)
                        Assert.True(Math.Abs(got[r * size + i] - want[r][i]) <= 1e-4
                            * Math.Max(1, Math.Abs(want[r][i])),
                            $"{column}[{r}, {i}]: ONNX {got[r * size + i]}, MLNetAr {want[r][i]}");
                if (throughApplyOnnxModel)
                {
                    float[][] applied = ApplyOnnxModel(ml, path, data, column);
                    for (int r = 0; r < want.Length; r++)
                        for (int i = 0; i < size; i++)
                            Assert.True(Math.Abs(applied[r][i] - want[r][i]) <= 1e-4
                                * Math.Max(1, Math.Abs(want[r][i])), $"{column}[{r}, {i}] (ApplyOnnxModel)");
                }
            }
            foreach (string column in booleanColumns)
                Assert.Equal(expected.GetColumn<bool>(column).ToArray(),
                    outputs[column + ".output"].AsTensor<bool>().ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertClose(string column, float[] want, float[] got)
    {
        Assert.Equal(want.Length, got.Length);
        for (int r = 0; r < want.Length; r++)
        {
            Assert.True(float.IsFinite(want[r]), $"{column}[{r}] is not finite in MLNetAr: {want[r]}");
            double difference = Math.Abs(got[r] - want[r]);
            LargestScoreDifference = Math.Max(LargestScoreDifference, difference);
            Assert.True(difference <= 1e-3,
                $"{column}[{r}]: ONNX {got[r]}, MLNetAr {want[r]} (difference {difference})");
        }
    }

    /// <summary>
    /// One batch holding every row of <paramref name="data"/>, one tensor per graph input (float columns). The
    /// converter makes one input per column of the data, hidden ones included (renamed "Pixels0" and so on), in schema
    /// order.
    /// </summary>
    public static List<NamedOnnxValue> Inputs(InferenceSession session, IDataView data)
    {
        var inputs = new List<NamedOnnxValue>();
        Assert.Equal(data.Schema.Count, session.InputNames.Count);
        for (int index = 0; index < session.InputNames.Count; index++)
        {
            string name = session.InputNames[index];
            NodeMetadata metadata = session.InputMetadata[name];
            DataViewSchema.Column column = data.Schema[index];
            float[] values = column.Type is VectorDataViewType
                ? data.GetColumn<float[]>(column).SelectMany(v => v).ToArray()
                : data.GetColumn<float>(column).ToArray();
            int[] dims = metadata.Dimensions.ToArray();
            int perRow = dims.Skip(1).Aggregate(1, (a, b) => a * b);
            dims[0] = values.Length / perRow;
            inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values, dims)));
        }
        return inputs;
    }

    /// <summary>
    /// The column as ML.NET's OnnxTransformer (Microsoft.ML.OnnxTransformer) computes it from the exported file; it
    /// names the output "&lt;column&gt;.output" back to "&lt;column&gt;", replacing MLNetAr's column.
    /// </summary>
    private static float[][] ApplyOnnxModel(MLContext ml, string path, IDataView data, string column)
    {
        var apply = ml.Transforms.ApplyOnnxModel([column + ".output"], InputNames(path), path);
        using var fitted = apply.Fit(data);
        IDataView scored = fitted.Transform(data);
        Assert.IsType<VectorDataViewType>(scored.Schema[column].Type);
        return scored.GetColumn<float[]>(column).ToArray();
    }

    private static string[] InputNames(string path)
    {
        using var session = new InferenceSession(path);
        return session.InputMetadata.Keys.ToArray();
    }
}
