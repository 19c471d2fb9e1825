using System.Collections;

namespace MLNetAr.Internal;

/// <summary>
/// The validation holdout of <c>Fit(IDataView)</c>: a seeded random set of exactly <c>held</c> of the <c>count</c>
/// rows, so that data sorted by class or time does not validate on its last class only.
/// </summary>
internal static class Holdout
{
    /// <summary>
    /// Marks exactly <paramref name="held"/> of <paramref name="count"/> rows, every such set equally likely
    /// (selection sampling, Knuth's Algorithm S: row r is taken with probability
    /// <c>(held - taken) / (count - r)</c>), the same set for the same <paramref name="seed"/>.
    /// </summary>
    public static BitArray Draw(long count, long held, int seed)
    {
        if (count > int.MaxValue)
            throw new NotSupportedException($"A random validation holdout covers at most {int.MaxValue} rows, but " +
                $"the data has {count}: pass validation data to Fit(trainData, validationData).");
        var random = new Random(seed);
        var marked = new BitArray((int)count);
        long taken = 0;
        for (int r = 0; r < count && taken < held; r++)
        {
            if (random.NextDouble() * (count - r) < held - taken)
            {
                marked[r] = true;
                taken++;
            }
        }
        return marked;
    }

    /// <summary>
    /// Rearranges <paramref name="rows"/> <c>(N, D)</c> in place: the unmarked (training) rows first, then the marked
    /// ones, each part in data order; needs extra memory for the marked rows only.
    /// </summary>
    public static void MoveMarkedRowsLast(float[] rows, int dimension, BitArray marked)
    {
        int count = marked.Length, d = dimension;
        var markedRows = new float[CountMarked(marked) * d];
        int kept = 0, moved = 0;
        for (int r = 0; r < count; r++)
        {
            var row = rows.AsSpan(r * d, d);
            if (marked[r]) row.CopyTo(markedRows.AsSpan(moved++ * d, d));
            else if (kept++ != r) row.CopyTo(rows.AsSpan((kept - 1) * d, d));
        }
        markedRows.CopyTo(rows.AsSpan(kept * d));
    }

    /// <summary>The number of marked rows.</summary>
    public static int CountMarked(BitArray marked)
    {
        int n = 0;
        for (int i = 0; i < marked.Length; i++) if (marked[i]) n++;
        return n;
    }
}
