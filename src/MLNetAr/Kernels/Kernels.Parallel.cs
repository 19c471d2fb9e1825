namespace MLNetAr.Kernels;

internal static partial class Kernels
{
    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over contiguous row ranges covering <c>[0, rows)</c>, in parallel when
    /// there is enough work. Ranges depend only on <paramref name="rows"/> and <paramref name="minRowsPerChunk"/>, never
    /// on timing, so per-row results are the same for any thread count.
    /// </summary>
    public static void ForRowRanges(int rows, int minRowsPerChunk, Action<int, int> body)
    {
        int threads = Math.Max(1, MaxDegreeOfParallelism);
        int chunks = Math.Min(threads * 4, Math.Max(1, rows / Math.Max(1, minRowsPerChunk)));
        if (chunks <= 1 || threads == 1)
        {
            body(0, rows);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
        {
            int start = (int)((long)rows * chunk / chunks);
            int end = (int)((long)rows * (chunk + 1) / chunks);
            body(start, end);
        });
    }
}
