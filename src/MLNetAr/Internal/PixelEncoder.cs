using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MLNetAr.Kernels;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;

namespace MLNetAr.Internal;

/// <summary>How <see cref="PixelEncoder"/> binarises, stored in model files (the public <c>PixelBinarization</c>,
/// value for value).</summary>
internal enum BinarizationKind
{
    Threshold = 0,
    None = 1,
}

/// <summary>
/// Validates input values and turns them into the pixels the models describe: binary (2 levels, by
/// <see cref="Binarization"/>) or quantised to <c>round(v·(K - 1)) / (K - 1)</c> for K &gt; 2 levels.
/// </summary>
internal sealed class PixelEncoder(string columnName, BinarizationKind binarization, float threshold, int levels = 2)
{
    public int Levels { get; } = levels;

    public string ColumnName { get; } = columnName;

    /// <summary>Set when the input column is an image column: how its images become pixels.</summary>
    public ImageInput? Image { get; init; }

    /// <summary>
    /// Checks <paramref name="schema"/>'s input column against what this encoder reads: a Single vector of
    /// <paramref name="dimension"/> values, or an image column (of the fitted size unless images are resized).
    /// </summary>
    public void CheckInput(DataViewSchema schema, int dimension)
    {
        if (Image is not ImageInput image)
        {
            Guard.CheckInputColumn(schema, ColumnName, dimension);
            return;
        }
        var column = schema.GetColumnOrNull(ColumnName) ?? throw Guard.MissingColumn(ColumnName);
        string expected = image.Resize ? "an image"
            : $"an image of {ImageInput.Describe(image.Height, image.Width)} or of unknown size";
        if (column.Type is not ImageDataViewType type || !image.Resize && type.Height > 0
            && (type.Height != image.Height || type.Width != image.Width))
            throw Guard.SchemaMismatch(ColumnName, expected, Guard.Describe(column.Type));
    }

    /// <summary>
    /// A getter of the input column's values as a vector of D values, not yet encoded: the column's own getter for a
    /// vector column, the grey levels of each image for an image column.
    /// </summary>
    public ValueGetter<VBuffer<float>> CreateGetter(DataViewRow row, DataViewSchema.Column column)
    {
        if (Image is not ImageInput image) return row.GetGetter<VBuffer<float>>(column);
        ValueGetter<MLImage> images = row.GetGetter<MLImage>(column);
        MLImage? current = null; // owned upstream (LoadImages disposes the previous image itself)
        return (ref VBuffer<float> values) =>
        {
            images(ref current!);
            var editor = VBufferEditor.Create(ref values, image.Dimension);
            image.ToPixels(current, editor.Values, ColumnName, row.Position);
            values = editor.Commit();
        };
    }
    public BinarizationKind Binarization { get; } = binarization;
    public float Threshold { get; } = threshold;

    /// <summary>
    /// Dense copy of <paramref name="values"/>, validated and binarised into <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A value is NaN, infinite, outside [0, 1], or not 0/1 without
    /// binarisation.</exception>
    public void Encode(in VBuffer<float> values, Span<float> destination, long row)
    {
        if (values.Length != destination.Length)
            throw new InvalidOperationException($"Column '{ColumnName}' (row {row}): expected a vector of " +
                $"{destination.Length} values, got {values.Length}.");
        values.CopyTo(destination);
        Encode(destination, row);
    }

    /// <summary>Validates and binarises (or quantises) <paramref name="pixels"/> in place.</summary>
    public void Encode(Span<float> pixels, long row)
    {
        // The read-ahead cursor encodes every row on one thread before the batch is scored in parallel: a scalar loop
        // with a branch per pixel cost as much as a MADE pass. Vectorised kernels for valid rows; the scalar loop
        // finds the offender.
        if (!Kernel.AllPixelsValid(pixels, zeroOrOne: Levels == 2 && Binarization == BinarizationKind.None))
        {
            EncodeScalar(pixels, row);
            return;
        }
        if (Levels > 2)
        {
            TensorPrimitives.Multiply(pixels, Levels - 1, pixels);
            TensorPrimitives.Round(pixels, pixels); // half to even, as MathF.Round
            TensorPrimitives.Divide(pixels, Levels - 1, pixels);
        }
        // Valid values without binarisation are 0 or 1 (±0): thresholding at ½ keeps them, with −0 as +0.
        else Kernel.Threshold(pixels, Binarization == BinarizationKind.Threshold ? Threshold : 0.5f);
    }

    private void EncodeScalar(Span<float> pixels, long row)
    {
        for (int i = 0; i < pixels.Length; i++)
        {
            float v = pixels[i];
            if (!(v >= 0f && v <= 1f))
                throw new InvalidOperationException(
                    $"Column '{ColumnName}' (row {row}, index {i}): expected values in [0, 1], got " +
                        $"{v.ToString(CultureInfo.InvariantCulture)}. " +
                    "Scale pixels first, e.g. ExtractPixels(scaleImage: 1f / 255) or NormalizeMinMax.");
            if (Levels > 2)
                pixels[i] = MathF.Round(v * (Levels - 1)) / (Levels - 1);
            else if (Binarization == BinarizationKind.Threshold)
                pixels[i] = v > Threshold ? 1f : 0f;
            else if (v != 0f && v != 1f)
                throw new InvalidOperationException(
                    $"Column '{ColumnName}' (row {row}, index {i}): expected 0 or 1 because Binarization is " +
                        $"None, got {v.ToString(CultureInfo.InvariantCulture)}.");
            else
                pixels[i] = v == 0f ? 0f : 1f; // also turns -0 into +0
        }
    }

    /// <summary>
    /// The same encoding as ONNX nodes: <c>(N, D) -> (N, D)</c>. A graph cannot throw, so a value that
    /// <see cref="Encode(Span{float}, long)"/> rejects (NaN, outside [0, 1], not 0/1 without binarisation) becomes NaN,
    /// which makes every score of its row NaN instead of a plausible number.
    /// </summary>
    public string ExportOnnx(OnnxGraph graph, string values)
    {
        string zero = graph.Scalar(0f), one = graph.Scalar(1f);
        // NaN fails both comparisons, so it is invalid too.
        string valid = graph.Not(graph.Or(graph.Less(values, zero), graph.Greater(values, one)));
        valid = graph.And(valid, graph.Equal(values, values));
        string encoded;
        if (Levels > 2)
        {
            encoded = graph.Div(PixelDistribution.ExportLevelOf(graph, values, Levels), graph.Scalar(Levels - 1));
        }
        else if (Binarization == BinarizationKind.Threshold)
            encoded = graph.Cast(graph.Greater(values, graph.Scalar(Threshold)), OnnxType.Float);
        else
        {
            valid = graph.And(valid, graph.Or(graph.Equal(values, zero), graph.Equal(values, one)));
            encoded = graph.Add(values, zero); // -0 + 0 = +0
        }
        return graph.Where(valid, encoded, graph.Scalar(float.NaN));
    }

    /// <summary>
    /// Reads <paramref name="data"/>'s input column into a dense, validated, binarised <c>(N, D)</c> array.
    /// </summary>
    public float[] ReadRows(IDataView data, int dimension)
    {
        var column = data.Schema[ColumnName];
        var rows = new List<float>();
        var buffer = new float[dimension];
        VBuffer<float> values = default;
        using var cursor = data.GetRowCursor([column]);
        var getter = CreateGetter(cursor, column);
        long row = 0;
        while (cursor.MoveNext())
        {
            getter(ref values);
            Encode(values, buffer, row++);
            rows.AddRange(buffer);
        }
        return rows.ToArray();
    }
}
