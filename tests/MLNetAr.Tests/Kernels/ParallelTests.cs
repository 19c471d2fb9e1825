using MLNetAr.Kernels;

namespace MLNetAr.Tests.Kernels;

public class ParallelTests
{
    [Theory]
    [InlineData(0, 1, 2)]
    [InlineData(0, 2, 2)]
    [InlineData(3, 200, 2)]
    [InlineData(0, 1000, 8)] // more threads than the machine has: the team serves what it can
    [InlineData(5, 40, 1)]
    public void ParallelFor_RunsEveryIndexExactlyOnce(int from, int to, int threads)
    {
        int[] counts = new int[to];
        for (int round = 0; round < 20; round++) // back-to-back loops, as in a training step
            Kernel.ParallelFor(from, to, threads, i => Interlocked.Increment(ref counts[i]));
        for (int i = 0; i < to; i++) Assert.Equal(i < from ? 0 : 20, counts[i]);
    }

    [SkippableFact]
    public void ParallelFor_RunsOnAWorkerBesideTheCaller()
    {
        Skip.If(Environment.ProcessorCount < 2, "One core: the kernels have no worker team to run beside the caller.");
        // Index 0 waits until another thread has entered a body: it can only return if a second thread runs.
        using var entered = new CountdownEvent(2);
        var threadIds = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        Kernel.ParallelFor(0, 2, 2, i =>
        {
            threadIds[Environment.CurrentManagedThreadId] = true;
            entered.Signal();
            Assert.True(entered.Wait(TimeSpan.FromSeconds(20)), "no second thread ran a body");
        });
        Assert.Equal(2, threadIds.Count);
    }

    [Fact]
    public void ParallelFor_RethrowsTheBodysExceptionAndStaysUsable()
    {
        var thrown = Assert.Throws<InvalidOperationException>(() => Kernel.ParallelFor(0, 100, 2, i =>
        {
            if (i == 37) throw new InvalidOperationException("index 37");
        }));
        Assert.Equal("index 37", thrown.Message);
        ParallelFor_RunsEveryIndexExactlyOnce(0, 64, 2);
    }

    [Fact]
    public void ParallelFor_InsideABody_RethrowsTheBodysExceptionUnwrapped()
    {
        // A loop inside a body finds the team busy and runs on the thread pool, which wraps exceptions in an
        // AggregateException: the caller must get the same exception whichever path a loop took.
        var thrown = Assert.Throws<InvalidOperationException>(() => Kernel.ParallelFor(0, 2, 2, outer =>
            Kernel.ParallelFor(0, 50, 2, i =>
            {
                if (i == 7) throw new InvalidOperationException("inner index 7");
            })));
        Assert.Equal("inner index 7", thrown.Message);
    }

    [Fact]
    public void ParallelFor_FromManyThreadsAndFromInsideABody_RunsEveryIndexOnce()
    {
        // Only one loop holds the team at a time; the others (and nested loops) fall back to the thread pool.
        int[] counts = new int[16 * 50];
        Parallel.For(0, 16, outer => Kernel.ParallelFor(0, 10, 2, middle =>
            Kernel.ParallelFor(0, 5, 2, inner => Interlocked.Increment(ref counts[outer * 50 + middle * 5 + inner]))));
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void ParallelFor_FlowsTheCallersAsyncLocalsIntoTheWorkers()
    {
        // The GEMM reads its kernel choice from an AsyncLocal: a body on a worker must see the caller's value.
        var seen = new System.Collections.Concurrent.ConcurrentBag<bool>();
        Kernel.ForcePortableGemm = true;
        try
        {
            for (int round = 0; round < 10; round++)
                Kernel.ParallelFor(0, 64, 2, i =>
                {
                    Thread.SpinWait(2000); // long enough for a worker to take some indices
                    seen.Add(Kernel.ForcePortableGemm);
                });
        }
        finally
        {
            Kernel.ForcePortableGemm = false;
        }
        Assert.Equal(640, seen.Count);
        Assert.All(seen, Assert.True);
    }
}
