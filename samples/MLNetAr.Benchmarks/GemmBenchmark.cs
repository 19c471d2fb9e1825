using System.Diagnostics;
using MLNetAr.Kernels;

namespace MLNetAr.Benchmarks;

/// <summary>Throughput of <see cref="Kernel.Gemm"/> in the three transposition cases training uses.</summary>
internal static class GemmBenchmark
{
    public static Dictionary<string, object> Run(int m, int n, int k, int repeats)
    {
        var random = new Random(1);
        float[] a = Enumerable.Range(0, m * k).Select(_ => random.NextSingle()).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => random.NextSingle()).ToArray();
        float[] c = new float[m * n];
        var result = new Dictionary<string, object>
        {
            ["m"] = m, ["n"] = n, ["k"] = k,
            ["threads"] = Kernel.MaxDegreeOfParallelism
        };
        foreach (var (name, ta, tb) in new[] { ("A·B", Transpose.No, Transpose.No),
            ("A·Bᵀ", Transpose.No, Transpose.Yes), ("Aᵀ·B", Transpose.Yes, Transpose.No) })
        {
            var (best, median) = Measure(ta, tb, m, n, k, a, b, c, repeats);
            result[name] = new Dictionary<string, double>
            {
                ["best_gflops"] = Math.Round(best, 1),
                ["median_gflops"] = Math.Round(median, 1)
            };
            Console.WriteLine($"GEMM {name} {m}×{k} · {k}×{n}: best {best:F1}, median {median:F1} GFLOP/s " +
                $"({repeats} runs)");
        }
        return result;
    }

    /// <summary>
    /// Best and median GFLOP/s of A·B (m×k · k×n) on random data: the peak other measurements are compared with.
    /// </summary>
    public static (double Best, double Median) Peak(int m = 512, int n = 784, int k = 784, int repeats = 20)
    {
        var random = new Random(1);
        float[] a = Enumerable.Range(0, m * k).Select(_ => random.NextSingle()).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => random.NextSingle()).ToArray();
        return Measure(Transpose.No, Transpose.No, m, n, k, a, b, new float[m * n], repeats);
    }

    private static (double Best, double Median) Measure(Transpose ta, Transpose tb, int m, int n, int k, float[] a,
        float[] b, float[] c, int repeats)
    {
        int lda = ta == Transpose.No ? k : m, ldb = tb == Transpose.No ? n : k;
        for (int w = 0; w < 3; w++) Kernel.Gemm(ta, tb, m, n, k, a, lda, b, ldb, c, n);
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            Kernel.Gemm(ta, tb, m, n, k, a, lda, b, ldb, c, n);
            times[r] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        double flop = 2.0 * m * n * k;
        return (flop / times[0] / 1e9, flop / times[repeats / 2] / 1e9);
    }
}
