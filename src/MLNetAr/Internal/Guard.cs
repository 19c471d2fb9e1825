using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MLNetAr.Internal;

/// <summary>Errors in ML.NET's own wording, so MLNetAr's messages read like the rest of a pipeline's.</summary>
internal static class Guard
{
    /// <summary><c>Could not find input column 'X'</c>, as ML.NET's <c>ExceptSchemaMismatch</c>.</summary>
    public static ArgumentOutOfRangeException MissingColumn(string column) =>
        new("inputSchema", $"Could not find input column '{column}'");

    /// <summary><c>Schema mismatch for input column 'X': expected E, got G</c>.</summary>
    public static ArgumentOutOfRangeException SchemaMismatch(string column, string expected, string got) =>
        new("inputSchema", $"Schema mismatch for input column '{column}': expected {expected}, got {got}");

    /// <summary>
    /// An option outside its valid range, named TFP-style: <c>`BatchSize` must be positive, got 0.</c>, with the
    /// option as <see cref="ArgumentException.ParamName"/> (as ML.NET's own option checks).
    /// </summary>
    public static ArgumentOutOfRangeException BadOption(string option, string requirement, object? value) =>
        new(option, value, $"`{option}` {requirement}, got " +
            $"{Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "null"}.");

    private const string VectorOrImage = "known-size vector of Single or an image";

    /// <summary>Checks that <paramref name="column"/> exists and is a known-size vector of Single (of size
    /// <paramref name="expectedSize"/> when given) or, when <paramref name="allowImage"/>, an image; returns its
    /// index.</summary>
    public static int CheckInputColumn(DataViewSchema schema, string column, int? expectedSize, bool allowImage = false)
    {
        var col = schema.GetColumnOrNull(column) ?? throw MissingColumn(column);
        if (allowImage && col.Type is ImageDataViewType) return col.Index;
        string expected = expectedSize is int n ? $"known-size vector of Single of size {n}" : allowImage
            ? VectorOrImage : "known-size vector of Single";
        if (col.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single
            || !vector.IsKnownSize)
            throw SchemaMismatch(column, expected, Describe(col.Type));
        if (expectedSize is int size && vector.Size != size)
            throw SchemaMismatch(column, expected, Describe(col.Type));
        return col.Index;
    }

    public static string Describe(DataViewType? type) => type?.ToString() ?? "an unknown type";

    /// <summary>
    /// The estimator-time version of <see cref="CheckInputColumn(DataViewSchema, string, int?, bool)"/> (sizes are not
    /// known in a SchemaShape).
    /// </summary>
    public static void CheckInputColumn(SchemaShape shape, string column)
    {
        // SchemaShape.TryFindColumn is internal to ML.NET; the shape is a public list of its columns.
        if (shape.Where(c => c.Name == column).Select(c => (SchemaShape.Column?)c).LastOrDefault() is not { } col)
            throw MissingColumn(column);
        if (col.Kind == SchemaShape.Column.VectorKind.Scalar && col.ItemType is ImageDataViewType) return;
        if (col.Kind != SchemaShape.Column.VectorKind.Vector || col.ItemType != NumberDataViewType.Single)
        {
            string got = col.Kind switch
            {
                SchemaShape.Column.VectorKind.Scalar => Describe(col.ItemType),
                SchemaShape.Column.VectorKind.VariableVector => $"variable-size vector of {Describe(col.ItemType)}",
                _ => $"vector of {Describe(col.ItemType)}",
            };
            throw SchemaMismatch(column, VectorOrImage, got);
        }
    }
}
