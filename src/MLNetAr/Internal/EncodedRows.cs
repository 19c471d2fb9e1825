using System.Collections;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Nn.Distributions;

namespace MLNetAr.Internal;

/// <summary>
/// The rows of an input column, validated and encoded by a <see cref="PixelEncoder"/>, as training reads them: either
/// held in memory (<see cref="InMemory"/>) or read again from the <see cref="IDataView"/>'s cursor on every pass
/// (<see cref="Streamed"/>), which needs memory for one block of rows only.
/// </summary>
internal abstract class EncodedRows
{
    protected EncodedRows(int dimension) => Dimension = dimension;

    /// <summary>Values per row, D.</summary>
    public int Dimension { get; }

    /// <summary>Number of rows.</summary>
    public abstract long Count { get; }

    /// <summary>
    /// Visits rows <c>[start, end)</c> in data order as consecutive blocks of at most <paramref name="blockRows"/>
    /// rows: each item is a buffer holding <c>count</c> rows <c>(count, D)</c>, valid until the next item.
    /// </summary>
    public abstract IEnumerable<(float[] Rows, int Count)> Blocks(long start, long end, int blockRows);

    private float[]? _spareBuffer;

    /// <summary>
    /// A block buffer of at least <paramref name="length"/> values, the one the last pass kept when it is large enough:
    /// training makes a pass per epoch, and a fresh shuffle-pool-sized buffer each time would add up. A pass running
    /// while another holds the buffer gets its own.
    /// </summary>
    protected float[] TakeBuffer(int length) =>
        Interlocked.Exchange(ref _spareBuffer, null) is { } spare && spare.Length >= length ? spare : new float[length];

    /// <summary>Gives a pass's buffer back for the next pass.</summary>
    protected void KeepBuffer(float[] buffer) => _spareBuffer = buffer;

    /// <summary>Per-pixel mean of all rows (zeros when there are none).</summary>
    public float[] Means()
    {
        var sum = new double[Dimension];
        foreach (var (rows, count) in Blocks(0, Count, 4096))
            for (int r = 0; r < count; r++)
                for (int i = 0; i < Dimension; i++) sum[i] += rows[r * Dimension + i];
        return sum.Select(s => Count == 0 ? 0f : (float)(s / Count)).ToArray();
    }

    /// <summary>
    /// How often each of K levels occurs over all pixels of all rows (values are <c>level / (K - 1)</c>).
    /// </summary>
    public double[] LevelCounts(int levels)
    {
        double[] perPixel = PixelLevelCounts(levels);
        var counts = new double[levels];
        for (int i = 0; i < perPixel.Length; i++) counts[i % levels] += perPixel[i];
        return counts;
    }

    /// <summary>How often each pixel takes each of K levels over all rows: <c>(D, K)</c>.</summary>
    public double[] PixelLevelCounts(int levels)
    {
        var counts = new double[Dimension * levels];
        foreach (var (rows, count) in Blocks(0, Count, 4096))
            for (int r = 0; r < count; r++)
                for (int i = 0; i < Dimension; i++)
                    counts[i * levels + PixelDistribution.LevelOf(rows[r * Dimension + i], levels)]++;
        return counts;
    }

    /// <summary>Rows <c>[start, end)</c> of <paramref name="source"/> as a source of their own.</summary>
    public sealed class Slice(EncodedRows source, long start, long end) : EncodedRows(source.Dimension)
    {
        public override long Count => end - start;

        public override IEnumerable<(float[] Rows, int Count)> Blocks(long first, long last, int blockRows) =>
            source.Blocks(start + first, start + Math.Min(last, Count), blockRows);
    }

    /// <summary>
    /// The rows of <paramref name="source"/> whose bit in <paramref name="marked"/> equals <paramref name="selected"/>,
    /// in data order: one side of a validation holdout over streamed rows (each pass reads the whole source).
    /// </summary>
    public sealed class Subset(EncodedRows source, BitArray marked, bool selected) : EncodedRows(source.Dimension)
    {
        private readonly long _count = selected ? Holdout.CountMarked(marked) : marked.Length
            - Holdout.CountMarked(marked);

        private const int SourceBlockRows = 256; // the source's buffer comes on top of this subset's own

        public override long Count => _count;

        public override IEnumerable<(float[] Rows, int Count)> Blocks(long first, long last, int blockRows)
        {
            last = Math.Min(last, _count);
            if (last <= first) yield break;
            int d = Dimension;
            int capacity = (int)Math.Min(blockRows, last - first);
            float[] buffer = TakeBuffer(capacity * d);
            try
            {
                long index = 0, seen = 0; // rows of the source, and of this subset, passed so far
                int count = 0;
                foreach (var (rows, n) in source.Blocks(0, source.Count, SourceBlockRows))
                {
                    for (int r = 0; r < n; r++, index++)
                    {
                        if (marked[(int)index] != selected || seen++ < first) continue;
                        rows.AsSpan(r * d, d).CopyTo(buffer.AsSpan(count * d, d));
                        bool done = seen == last;
                        if (++count == capacity || done)
                        {
                            yield return (buffer, count);
                            count = 0;
                        }
                        if (done) yield break;
                    }
                }
            }
            finally
            {
                KeepBuffer(buffer);
            }
        }
    }

    /// <summary>Rows held in one array <c>(N, D)</c>.</summary>
    public sealed class InMemory(float[] rows, int dimension) : EncodedRows(dimension)
    {
        public float[] Rows { get; } = rows;
        public override long Count => Rows.Length / Dimension;

        public override IEnumerable<(float[] Rows, int Count)> Blocks(long start, long end, int blockRows)
        {
            if (start == 0 && end <= blockRows)
            {
                // One block from the start: the array itself, no copy (training's in-memory epochs).
                if (end > 0) yield return (Rows, (int)end);
                yield break;
            }
            var buffer = new float[Math.Min(blockRows, Math.Max(0, end - start)) * Dimension];
            for (long first = start; first < end; first += blockRows)
            {
                int count = (int)Math.Min(blockRows, end - first);
                Rows.AsSpan((int)(first * Dimension), count * Dimension).CopyTo(buffer);
                yield return (buffer, count);
            }
        }
    }

    /// <summary>
    /// Rows read from <paramref name="data"/>'s input column by a fresh cursor on every pass; the row count comes
    /// from one counting pass (or the data view, when it knows it).
    /// </summary>
    public sealed class Streamed(IDataView data, PixelEncoder encoder, int dimension) : EncodedRows(dimension)
    {
        private long? _count;

        /// <summary>Cursors opened so far (a pass over the data each).</summary>
        public int Passes { get; private set; }

        public override long Count => _count ??= data.GetRowCount() ?? CountRows();

        private long CountRows()
        {
            long n = 0;
            Passes++;
            using var cursor = data.GetRowCursor([]);
            while (cursor.MoveNext()) n++;
            return n;
        }

        public override IEnumerable<(float[] Rows, int Count)> Blocks(long start, long end, int blockRows)
        {
            if (end <= start) yield break;
            var column = data.Schema[encoder.ColumnName];
            int capacity = (int)Math.Min(blockRows, end - start);
            float[] buffer = TakeBuffer(capacity * Dimension);
            try
            {
                VBuffer<float> values = default;
                Passes++;
                using var cursor = data.GetRowCursor([column]);
                var getter = encoder.CreateGetter(cursor, column);
                long row = 0;
                int count = 0;
                while (row < end && cursor.MoveNext())
                {
                    if (row++ < start) continue;
                    getter(ref values);
                    encoder.Encode(values, buffer.AsSpan(count * Dimension, Dimension), row - 1);
                    if (++count == capacity)
                    {
                        yield return (buffer, count);
                        count = 0;
                    }
                }
                if (count > 0) yield return (buffer, count);
            }
            finally
            {
                KeepBuffer(buffer);
            }
        }
    }
}
