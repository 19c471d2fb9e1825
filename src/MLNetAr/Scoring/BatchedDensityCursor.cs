using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Scoring;

/// <summary>
/// A cursor that reads its source B rows ahead, scores them in one model pass (<see cref="BatchScorer"/>) and serves
/// the rows one by one: the pass-through columns from copies taken while reading ahead, the scored columns from the
/// batch. The source is read once, whatever upstream computes (an image decoder runs once per row).
/// </summary>
internal sealed class BatchedDensityCursor : DataViewRowCursor
{
    private readonly DensityBinding _binding;
    private readonly DataViewRowCursor _input;
    private readonly bool[] _active;
    private readonly ColumnBuffer?[] _passThrough; // by input column index
    private readonly BatchScorer _scorer;
    private readonly RowScorer _row;
    private readonly ValueGetter<VBuffer<float>> _pixelsGetter;
    private readonly ValueGetter<DataViewRowId> _idGetter;
    private readonly DataViewRowId[] _ids;
    private VBuffer<float> _values;
    private int _count, _index = -1;
    private long _position = -1, _loadedPosition = -1;
    private bool _sourceEnded;

    private BatchedDensityCursor(DensityBinding binding, DataViewRowCursor input, bool[] active,
        ColumnBuffer?[] passThrough)
    {
        (_binding, _input, _active, _passThrough) = (binding, input, active, passThrough);
        bool pixelScores = binding.NeedsPixelScores(active);
        _scorer = new BatchScorer(binding.Transformer, pixelScores);
        _row = new RowScorer(binding.Transformer, pixelScores);
        _pixelsGetter = binding.Transformer.Encoder.CreateGetter(input, binding.InputColumn);
        _idGetter = input.GetIdGetter();
        _ids = new DataViewRowId[_scorer.Capacity];
    }

    /// <summary>
    /// A batched cursor over <paramref name="source"/> serving <paramref name="columnsNeeded"/>, or null when a
    /// pass-through column has a type whose values cannot be copied safely (e.g. an image object), so rows must be
    /// scored one by one.
    /// </summary>
    public static BatchedDensityCursor? TryCreate(DensityBinding binding, IDataView source,
        IEnumerable<DataViewSchema.Column> columnsNeeded, bool[] active, Random? rand)
    {
        var passThrough = columnsNeeded.Where(c => binding.OutputIndex(c) < 0).Select(c =>
            source.Schema[c.Index]).ToArray();
        if (passThrough.Any(c => !ColumnBuffer.CanCopy(c.Type))) return null;
        DataViewRowCursor input = source.GetRowCursor(passThrough.Append(binding.InputColumn), rand);
        var buffers = new ColumnBuffer?[source.Schema.Count];
        var cursor = new BatchedDensityCursor(binding, input, active, buffers);
        foreach (var column in passThrough)
            buffers[column.Index] = ColumnBuffer.Create(input, column, cursor._ids.Length, () => cursor._index);
        return cursor;
    }

    public override long Position => _position;
    public override long Batch => _input.Batch;
    public override DataViewSchema Schema => _binding.OutputSchema;

    public override bool MoveNext()
    {
        if (_index + 1 >= _count)
        {
            if (_sourceEnded || !ReadBatch()) return false;
            _index = -1;
        }
        _index++;
        _position++;
        return true;
    }

    /// <summary>Reads and scores the next rows of the source; false when it has none left.</summary>
    private bool ReadBatch()
    {
        _count = 0;
        while (_count < _ids.Length && _input.MoveNext())
        {
            foreach (var buffer in _passThrough) buffer?.Store(_count);
            _idGetter(ref _ids[_count]);
            _pixelsGetter(ref _values);
            _binding.Transformer.Encoder.Encode(_values, _scorer.Pixels(_count), _input.Position);
            _count++;
        }
        _sourceEnded = _count < _ids.Length;
        if (_count == 0) return false;
        _scorer.Score(_count);
        return true;
    }

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = _ids[_index];

    public override bool IsColumnActive(DataViewSchema.Column column)
    {
        int index = _binding.OutputIndex(column);
        return index >= 0 ? _active[index] : _passThrough[column.Index] != null;
    }

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        int index = _binding.OutputIndex(column);
        if (index < 0)
            return (_passThrough[column.Index] as ColumnBuffer<TValue>)?.Getter
                ?? throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor, or is " +
                    $"not of type '{typeof(TValue)}'.");
        ValueGetter<TValue> read = _binding.OutputGetter<TValue>(column, index, _active, _row);
        return (ref TValue value) =>
        {
            if (_loadedPosition != _position)
            {
                _scorer.Load(_index, _row);
                _loadedPosition = _position;
            }
            read(ref value);
        };
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
            _scorer.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>Copies of one pass-through column's values for the rows of a batch.</summary>
internal abstract class ColumnBuffer
{
    /// <summary>Copies the source's current value into slot <paramref name="slot"/>.</summary>
    public abstract void Store(int slot);

    /// <summary>
    /// Whether values of <paramref name="type"/> can be copied safely: plain value types, text (copied into new
    /// strings) and vectors of those (deep copies). Reference types (images) are not: the source may dispose them.
    /// </summary>
    public static bool CanCopy(DataViewType type)
    {
        Type raw = type.RawType;
        if (raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>))
            // not text vectors
            return raw.GetGenericArguments()[0] is { IsValueType: true } item && !ContainsReferences(item);
        return raw == typeof(ReadOnlyMemory<char>) || raw.IsValueType && !ContainsReferences(raw);
    }

    private static bool ContainsReferences(Type type) =>
        (bool)typeof(RuntimeHelpers).GetMethod(nameof(
            RuntimeHelpers.IsReferenceOrContainsReferences))!.MakeGenericMethod(type).Invoke(null, null)!;

    /// <summary>
    /// A buffer of <paramref name="capacity"/> values of <paramref name="column"/>; getters read slot
    /// <paramref name="slot"/>().
    /// </summary>
    public static ColumnBuffer Create(DataViewRowCursor cursor, DataViewSchema.Column column, int capacity,
        Func<int> slot)
    {
        Type raw = column.Type.RawType;
        Type buffer = raw == typeof(ReadOnlyMemory<char>) ? typeof(TextBuffer)
            : raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>)
                ? typeof(VectorBuffer<>).MakeGenericType(raw.GetGenericArguments()[0])
            : typeof(ValueBuffer<>).MakeGenericType(raw);
        return (ColumnBuffer)Activator.CreateInstance(buffer, cursor, column, capacity, slot)!;
    }
}

/// <summary>A buffer whose getter serves values of type <typeparamref name="T"/>.</summary>
internal abstract class ColumnBuffer<T> : ColumnBuffer
{
    public abstract ValueGetter<T> Getter { get; }
}

internal sealed class ValueBuffer<T>(DataViewRowCursor cursor, DataViewSchema.Column column, int capacity,
    Func<int> slot) : ColumnBuffer<T>
{
    private readonly ValueGetter<T> _source = cursor.GetGetter<T>(column);
    private readonly T[] _values = new T[capacity];
    public override void Store(int index) => _source(ref _values[index]);
    public override ValueGetter<T> Getter => (ref T value) => value = _values[slot()];
}

internal sealed class TextBuffer(DataViewRowCursor cursor, DataViewSchema.Column column, int capacity, Func<int> slot)
    : ColumnBuffer<ReadOnlyMemory<char>>
{
    private readonly ValueGetter<ReadOnlyMemory<char>> _source = cursor.GetGetter<ReadOnlyMemory<char>>(column);
    private readonly ReadOnlyMemory<char>[] _values = new ReadOnlyMemory<char>[capacity];
    private ReadOnlyMemory<char> _current;

    // The source may reuse the characters' memory for its next row: keep a copy.
    public override void Store(int index)
    {
        _source(ref _current);
        _values[index] = _current.ToString().AsMemory();
    }

    public override ValueGetter<ReadOnlyMemory<char>> Getter => (ref ReadOnlyMemory<char> value) =>
        value = _values[slot()];
}

internal sealed class VectorBuffer<T>(DataViewRowCursor cursor, DataViewSchema.Column column, int capacity,
    Func<int> slot) : ColumnBuffer<VBuffer<T>>
{
    private readonly ValueGetter<VBuffer<T>> _source = cursor.GetGetter<VBuffer<T>>(column);
    private readonly VBuffer<T>[] _values = new VBuffer<T>[capacity];
    private VBuffer<T> _current;

    // A getter may hand out memory it reuses: deep copies only.
    public override void Store(int index)
    {
        _source(ref _current);
        _current.CopyTo(ref _values[index]);
    }

    public override ValueGetter<VBuffer<T>> Getter => (ref VBuffer<T> value) => _values[slot()].CopyTo(ref value);
}
