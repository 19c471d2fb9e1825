namespace MLNetAr.Kernels;

internal static partial class Kernel
{
    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over contiguous row ranges covering <c>[0, rows)</c>, in parallel when
    /// there is enough work. Ranges depend only on <paramref name="rows"/> and <paramref name="minRowsPerChunk"/>,
    /// never on timing, so per-row results are the same for any thread count.
    /// </summary>
    public static void ForRowRanges(int rows, int minRowsPerChunk, Action<int, int> body)
    {
        int threads = AvailableThreads;
        int chunks = Math.Min(threads * 4, Math.Max(1, rows / Math.Max(1, minRowsPerChunk)));
        if (chunks <= 1 || threads == 1)
        {
            body(0, rows);
            return;
        }
        ParallelFor(0, chunks, threads, chunk =>
        {
            int start = (int)((long)rows * chunk / chunks);
            int end = (int)((long)rows * (chunk + 1) / chunks);
            body(start, end);
        });
    }

    /// <summary>Work on one row of a batch with scratch state private to its thread.</summary>
    public delegate void RowAction<TScratch>(Span<float> row, int index, TScratch scratch);

    /// <summary>
    /// Runs <paramref name="body"/> on every row of <c>x</c> <c>(B, rowLength)</c>, in parallel over contiguous row
    /// ranges (each with one <paramref name="createScratch"/> result). Rows never share state, so results do not depend
    /// on the thread count.
    /// </summary>
    public static unsafe void ForEachRow<TScratch>(Span<float> x, int batch, int rowLength,
        Func<TScratch> createScratch, RowAction<TScratch> body)
    {
        fixed (float* px = x)
        {
            nint address = (nint)px;
            ForRowRanges(batch, 1, (start, end) =>
            {
                TScratch scratch = createScratch();
                for (int r = start; r < end; r++)
                    body(new Span<float>((float*)address + (long)r * rowLength, rowLength), r, scratch);
            });
        }
    }

    /// <summary>
    /// <paramref name="body"/>(i) for every i in <c>[from, to)</c> on up to <paramref name="threads"/> threads: the
    /// calling thread and the kernels' <see cref="WorkerTeam"/>, or the thread pool when the team is busy. Returns when
    /// every index is done; a body's exception is rethrown.
    /// </summary>
    public static void ParallelFor(int from, int to, int threads, Action<int> body)
    {
        if (threads <= 1 || to - from <= 1)
        {
            for (int i = from; i < to; i++) body(i);
            return;
        }
        if (WorkerTeam.Shared?.TryRun(from, to, threads, body) == true) return;
        try
        {
            Parallel.For(from, to, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The team rethrows a body's exception as it is; so does the fallback, whichever path a loop took.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    [ThreadStatic] private static bool t_insideParallelChunk;

    /// <summary>
    /// Threads a kernel called from this thread may use: 1 inside a <see cref="ForChunks"/> body (the caller has
    /// already spread the work over the cores; nesting would only add scheduling overhead).
    /// </summary>
    internal static int AvailableThreads =>
        t_insideParallelChunk ? 1 : Math.Max(1, Math.Min(MaxDegreeOfParallelism, s_threadLimit.Value ?? int.MaxValue));

    // A per-call limit (an estimator's NumberOfThreads): flows into the tasks the kernels start, unlike a static.
    private static readonly AsyncLocal<int?> s_threadLimit = new();

    /// <summary>
    /// Limits the threads of every kernel called from this logical flow to <paramref name="threads"/> (null: no
    /// limit) until the returned scope is disposed. Results do not depend on it (see <see cref="ForChunks"/>).
    /// </summary>
    internal static IDisposable LimitThreads(int? threads)
    {
        int? previous = s_threadLimit.Value;
        s_threadLimit.Value = threads;
        return new ThreadLimitScope(previous);
    }

    private sealed class ThreadLimitScope(int? previous) : IDisposable
    {
        public void Dispose() => s_threadLimit.Value = previous;
    }

    /// <summary>
    /// Runs <paramref name="body"/>(chunk) for every chunk in <c>[0, chunks)</c>, in parallel; kernels called inside
    /// run single-threaded. Callers fix the chunking by the problem size, never the thread count, so results are the
    /// same for any number of threads.
    /// </summary>
    public static void ForChunks(int chunks, Action<int> body)
    {
        int threads = AvailableThreads;
        if (chunks <= 1 || threads == 1)
        {
            for (int c = 0; c < chunks; c++) body(c);
            return;
        }
        ParallelFor(0, chunks, threads, chunk =>
        {
            bool outer = t_insideParallelChunk;
            t_insideParallelChunk = true;
            try { body(chunk); }
            finally { t_insideParallelChunk = outer; }
        });
    }
}
