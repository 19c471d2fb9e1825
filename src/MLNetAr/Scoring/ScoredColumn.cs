using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Scoring;

/// <summary>An output column: its name, type, and a getter reading a scored row.</summary>
internal sealed class ScoredColumn(string name, DataViewType type, bool needsPixelScores,
    Func<RowScorer, Delegate> createGetter,
    DataViewSchema.Annotations? annotations = null)
{
    public string Name { get; } = name;
    public DataViewType Type { get; } = type;
    /// <summary>The column's annotations in the output schema (ML.NET's score kinds, slot names), or null.</summary>
    public DataViewSchema.Annotations? Annotations { get; } = annotations;

    /// <summary>This column with <paramref name="annotations"/>.</summary>
    public ScoredColumn WithAnnotations(DataViewSchema.Annotations annotations) =>
        new(Name, Type, NeedsPixelScores, CreateGetter, annotations);

    /// <summary>Text annotations, e.g. ML.NET's <c>ScoreColumnKind</c> and <c>ScoreValueKind</c>.</summary>
    public static DataViewSchema.Annotations TextAnnotations(params (string Kind, string Value)[] values)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        foreach (var (kind, value) in values)
            builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = value.AsMemory());
        return builder.ToAnnotations();
    }

    /// <summary>Slot names <c>Pixel0 … Pixel{D-1}</c> (raster order) for a per-pixel vector column.</summary>
    public static DataViewSchema.Annotations PixelSlotNames(int dimension)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        // ML.NET's AddSlotNames helper is internal: this is what it adds.
        builder.Add(AnnotationUtils.Kinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, dimension),
            (ref VBuffer<ReadOnlyMemory<char>> names) =>
        {
            var editor = VBufferEditor.Create(ref names, dimension);
            for (int i = 0; i < dimension; i++)
                editor.Values[i] = ("Pixel" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).AsMemory();
            names = editor.Commit();
        });
        return builder.ToAnnotations();
    }
    /// <summary>Whether the column needs the per-pixel conditionals (computed only then).</summary>
    public bool NeedsPixelScores { get; } = needsPixelScores;
    /// <summary>
    /// Creates a <c>ValueGetter&lt;T&gt;</c> over the scorer's current row (the scorer is scored before each call).
    /// </summary>
    public Func<RowScorer, Delegate> CreateGetter { get; } = createGetter;

    public static ScoredColumn Scalar(string name, Func<RowScorer, float> value) =>
        new(name, NumberDataViewType.Single, false, scorer => (ValueGetter<float>)((ref float v) => v = value(scorer)));

    public static ScoredColumn Boolean(string name, Func<RowScorer, bool> value) =>
        new(name, BooleanDataViewType.Instance, false, scorer =>
            (ValueGetter<bool>)((ref bool v) => v = value(scorer)));

    /// <summary>
    /// A vector column of <paramref name="size"/> values that <paramref name="write"/> fills from the scored row.
    /// </summary>
    public static ScoredColumn Vector(string name, int size, bool needsPixelScores,
        Action<RowScorer, Span<float>> write) =>
        new(name, new VectorDataViewType(NumberDataViewType.Single, size), needsPixelScores, scorer =>
            (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
        {
            var editor = VBufferEditor.Create(ref v, size);
            write(scorer, editor.Values);
            v = editor.Commit();
        }));
}
