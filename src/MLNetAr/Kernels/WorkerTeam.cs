using System.Runtime.ExceptionServices;

namespace MLNetAr.Kernels;

/// <summary>
/// The kernels' own threads: a fixed team of background workers, one fewer than the cores, that run the indices of
/// one parallel loop beside the calling thread (see <see cref="Kernel.ParallelFor"/>).
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> alone: a training step is hundreds of
/// short loops, and between them idle thread-pool workers spin looking for work. With more pool threads than cores
/// the spinning takes cycles from the threads that compute: on 2 cores the PixelCNN step ran 7 % faster with the
/// pool's spinning turned off. A team of cores − 1 workers never outnumbers the cores, so its brief spin between
/// loops costs the computing threads nothing.
/// </para>
/// <para>
/// One loop at a time: a caller that finds the team busy (another thread's loop, or a loop started from inside a loop
/// body) gets false and falls back to <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>. The caller's
/// execution context (its <see cref="AsyncLocal{T}"/> values) flows into the workers, as it does into tasks.
/// </para>
/// </remarks>
internal sealed class WorkerTeam
{
    // How long a worker spins for the next loop before it blocks (iterations of Thread.SpinWait(SpinPause); 0.75–0.86
    // ms on the project's VM): longer than the gap between two loops of a training step, short enough to leave an idle
    // process quiet.
    private const int SpinIterations = 1000, SpinPause = 20;
    // _state's sign bit: the current loop takes no more workers; its low bits: workers inside the current loop.
    private const int Closed = int.MinValue;

    private static readonly Lazy<WorkerTeam?> s_shared = new(() =>
        Environment.ProcessorCount > 1 ? new WorkerTeam(Environment.ProcessorCount - 1) : null);

    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private int _busy;
    private int _state = Closed;
    private int _generation;

    // The current loop, written before it is opened (_state) and read only by workers that joined it.
    private Action<int>? _body;
    private int _next, _end, _helpers;
    private ExecutionContext? _context;
    private Exception? _error;

    private WorkerTeam(int workers)
    {
        _wake = Enumerable.Range(0, workers).Select(_ => new SemaphoreSlim(0)).ToArray();
        _sleeping = new int[workers];
        for (int i = 0; i < workers; i++)
        {
            int index = i;
            new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = "MLNetAr kernel worker" }.Start();
        }
    }

    /// <summary>The process's team (null on one core).</summary>
    public static WorkerTeam? Shared => s_shared.Value;

    /// <summary>Workers in the team (cores − 1).</summary>
    public int Workers => _wake.Length;

    /// <summary>
    /// Runs <paramref name="body"/>(i) for every i in <c>[from, to)</c> on the calling thread and up to
    /// <paramref name="threads"/> − 1 workers, and returns when all are done (rethrowing the first exception a body
    /// threw); false, having run nothing, when the team is busy.
    /// </summary>
    public bool TryRun(int from, int to, int threads, Action<int> body)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            _body = body;
            _next = from;
            _end = to;
            _helpers = Math.Min(Math.Min(threads, to - from) - 1, Workers);
            _error = null;
            _context = ExecutionContext.Capture();
            Volatile.Write(ref _state, 0); // open: workers may join from here on
            Interlocked.Increment(ref _generation);
            for (int i = 0; i < _helpers; i++)
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1) _wake[i].Release();

            RunIndices();

            // Every index is taken: let no more workers in, and wait for those inside to finish theirs.
            int state;
            do state = Volatile.Read(ref _state);
            while (Interlocked.CompareExchange(ref _state, state | Closed, state) != state);
            var spin = new SpinWait();
            while ((Volatile.Read(ref _state) & ~Closed) != 0) spin.SpinOnce(sleep1Threshold: -1);

            Exception? error = _error;
            _body = null;
            _context = null;
            _error = null;
            if (error != null) ExceptionDispatchInfo.Throw(error);
            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Takes indices of the current loop until none is left; the first exception stops the loop.</summary>
    private void RunIndices()
    {
        Action<int> body = _body!;
        int end = _end, i;
        while ((i = Interlocked.Increment(ref _next) - 1) < end)
        {
            try
            {
                body(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
                Volatile.Write(ref _next, end);
            }
        }
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            // Wait for the next loop: spin a while, then block until TryRun wakes this worker.
            for (int spin = 0; Volatile.Read(ref _generation) == seen; spin++)
            {
                if (spin < SpinIterations)
                {
                    Thread.SpinWait(SpinPause);
                    continue;
                }
                Interlocked.Exchange(ref _sleeping[index], 1); // a full fence: TryRun sees it, or this sees the loop
                if (Volatile.Read(ref _generation) == seen) _wake[index].Wait();
                // Woken, or a loop began as it was going to sleep (a Release it may still get only wakes it early).
                Volatile.Write(ref _sleeping[index], 0);
                spin = 0;
            }
            seen = Volatile.Read(ref _generation);
            if (!TryJoin(index)) continue;
            if (_context != null) ExecutionContext.Run(_context, static team => ((WorkerTeam)team!).RunIndices(), this);
            else RunIndices();
            Interlocked.Decrement(ref _state);
        }
    }

    /// <summary>
    /// Enters the open loop if it still wants this worker (the first <c>_helpers</c> workers serve it).
    /// </summary>
    private bool TryJoin(int index)
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state < 0 || index >= _helpers || state >= _helpers) return false;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state) return true;
        }
    }
}
