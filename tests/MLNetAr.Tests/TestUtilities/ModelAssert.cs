using MLNetAr.Models;

namespace MLNetAr.Tests.TestUtilities;

/// <summary>Checks every density model must pass, written once against <see cref="DensityModel"/>.</summary>
internal static class ModelAssert
{
    /// <summary>
    /// Exact log-likelihood of each row: <c>(N, D) -> (N)</c>, in nats, through the model's scoring path.
    /// </summary>
    public static float[] LogLikelihoods(DensityModel model, ReadOnlySpan<float> data, int maxBatch = 256)
    {
        int d = model.Dimension, rows = data.Length / d;
        var result = new float[rows];
        int batchSize = Math.Max(1, Math.Min(maxBatch, rows));
        var workspace = model.CreateWorkspace(batchSize);
        for (int start = 0; start < rows; start += batchSize)
        {
            int b = Math.Min(batchSize, rows - start);
            model.Score(data.Slice(start * d, b * d), b, result.AsSpan(start, b), Span<float>.Empty, workspace);
        }
        return result;
    }

    /// <summary>Σ_x p(x) over all K^D inputs equals 1 (exact enumeration, summed in double).</summary>
    public static void IsNormalized(DensityModel model, double tolerance = 1e-5)
    {
        float[] all = TestData.AllVectors(model.Dimension, model.Levels);
        float[] ll = ModelAssert.LogLikelihoods(model, all);
        double total = ll.Sum(v => Math.Exp(v));
        Assert.True(Math.Abs(total - 1) <= tolerance, $"Σ_x p(x) = {total:R} over {ll.Length} inputs");
    }

    /// <summary>
    /// TFP-style check: changing input at order step t never changes the logits of steps ≤ t, bit for bit, and does
    /// change some later logit for some input (so the test is not vacuous).
    /// </summary>
    public static void IsAutoregressive(DensityModel model, int seed)
    {
        int d = model.Dimension;
        int[] order = model.Order;
        bool anyLaterChange = false;
        foreach (var (t, baseLogits, logits) in InfluenceTrials(model, seed))
        {
            for (int s = 0; s <= t; s++)
                Assert.True(SameLogits(model, baseLogits, logits, order[s]),
                    $"Changing the input at step {t} (pixel {order[t]}) changed the logits at step {s} (pixel " +
                        $"{order[s]}).");
            for (int s = t + 1; s < d; s++) anyLaterChange |= !SameLogits(model, baseLogits, logits, order[s]);
        }
        Assert.True(anyLaterChange,
            "No input ever influenced a later logit: the check would pass for a constant model.");
    }

    /// <summary>
    /// For 5 random inputs and every step t: the logits <c>(K', D)</c> of the input and of the input with the pixel at
    /// step t changed (flipped, or moved to the next level).
    /// </summary>
    public static IEnumerable<(int Step, float[] Base, float[] Changed)> InfluenceTrials(DensityModel model, int seed)
    {
        int d = model.Dimension, k = model.Levels;
        int[] order = model.Order;
        var workspace = model.CreateWorkspace(1);
        var random = new Random(seed);
        for (int trial = 0; trial < 5; trial++)
        {
            float[] x = Enumerable.Range(0, d).Select(_ => random.Next(k) / (float)(k - 1)).ToArray();
            float[] baseLogits = new float[d * model.LogitsPerPixel];
            model.Forward(x, 1, baseLogits, workspace);
            for (int t = 0; t < d; t++)
            {
                float[] changed = x.ToArray();
                int level = (int)MathF.Round(changed[order[t]] * (k - 1));
                changed[order[t]] = (level + 1) % k / (float)(k - 1);
                float[] logits = new float[d * model.LogitsPerPixel];
                model.Forward(changed, 1, logits, workspace);
                yield return (t, baseLogits.ToArray(), logits);
            }
        }
    }

    /// <summary>
    /// Whether every logit of <paramref name="pixel"/> is bit-identical in two <c>(K', D)</c> logit arrays.
    /// </summary>
    public static bool SameLogits(DensityModel model, float[] a, float[] b, int pixel)
    {
        for (int k = 0; k < model.LogitsPerPixel; k++)
            if (a[k * model.Dimension + pixel] != b[k * model.Dimension + pixel]) return false;
        return true;
    }

    /// <summary>
    /// Empirical frequencies of <paramref name="samples"/> draws match the model's p(x): a chi-square goodness-of-fit
    /// test (cells with expected count below 5 pooled) must not reject at p = 1e-4, and the total-variation distance
    /// must stay below a bound that holds with overwhelming probability for a correct sampler (E[TV] ≈ √(2^D / (2πN))).
    /// </summary>
    public static void SamplesMatchDensity(DensityModel model, int samples, int seed)
    {
        int d = model.Dimension, levels = model.Levels;
        float[] all = TestData.AllVectors(d, levels);
        float[] ll = ModelAssert.LogLikelihoods(model, all);
        var x = new float[samples * d];
        var seeds = Enumerable.Range(0, samples).Select(i => seed * 7919 + i).ToArray();
        model.SampleRows(x, samples, 0, seeds);
        var counts = new int[ll.Length];
        for (int r = 0; r < samples; r++)
        {
            int index = 0;
            for (int j = d - 1; j >= 0; j--) index = index * levels + (int)MathF.Round(x[r * d + j] * (levels - 1));
            counts[index]++;
        }
        double chiSquare = 0, pooledObserved = 0, pooledExpected = 0;
        int cells = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            double expected = samples * Math.Exp(ll[i]);
            if (expected < 5) { pooledObserved += counts[i]; pooledExpected += expected; continue; }
            chiSquare += (counts[i] - expected) * (counts[i] - expected) / expected;
            cells++;
        }
        if (pooledExpected > 0)
        {
            chiSquare += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
            cells++;
        }
        double pValue = 1 - MathNet.Numerics.Distributions.ChiSquared.CDF(cells - 1, chiSquare);
        Assert.True(pValue > 1e-4, $"Chi-square {chiSquare:F1} on {cells - 1} degrees of freedom: p = {pValue:G3}.");

        double tv = 0;
        for (int i = 0; i < counts.Length; i++) tv += Math.Abs(counts[i] / (double)samples - Math.Exp(ll[i]));
        tv /= 2;
        double bound = 3 * Math.Sqrt(counts.Length / (2 * Math.PI * samples)) + 0.01;
        Assert.True(tv < bound, $"Total variation between samples and p(x) is {tv:F4} (bound {bound:F4}).");
    }

    /// <summary>
    /// The model's own sampler (its cached or incremental <see cref="IIncrementalSampler"/>) draws exactly the
    /// images of the naive one-pass-per-pixel sampler for the same seeds, completing <paramref name="knownSteps"/>
    /// given pixels.
    /// </summary>
    public static void SamplesLikeNaiveSampler(DensityModel model, int knownSteps)
    {
        const int batch = 40; // above the GEMM's few-rows path, so both samplers run the same kernels
        int d = model.Dimension, k = model.Levels;
        float[] start = Enumerable.Range(0, batch * d).Select(i =>
            i % d < knownSteps ? (i / d + i) % k / (float)(k - 1) : 0.5f).ToArray();
        int[] seeds = Enumerable.Range(100, batch).ToArray();
        float[] fast = start.ToArray(), naive = start.ToArray();
        model.SampleRows(fast, batch, knownSteps, seeds);
        model.SampleRowsNaive(naive, batch, knownSteps, seeds);
        Assert.Equal(naive, fast);
        for (int r = 0; r < batch; r++)
            for (int i = 0; i < knownSteps; i++) Assert.Equal(start[r * d + i], fast[r * d + i]);
        Assert.Contains(fast, v => v != 0f); // not all-zero images
    }

    /// <summary>
    /// A sampling workspace reused for a second block of rows (as <c>Sample</c> does for large requests) leaves nothing
    /// of the first block in the second: the same images as with a fresh workspace.
    /// </summary>
    public static void SamplingWithReusedWorkspaceEqualsFresh(DensityModel model)
    {
        const int block = 13;
        int d = model.Dimension;
        int[] first = Enumerable.Range(1, block).ToArray(), second = Enumerable.Range(500, block).ToArray();
        ModelWorkspace reused = model.CreateWorkspace(block);
        model.SampleRows(new float[block * d], block, 0, first, reused);
        float[] afterReuse = new float[block * d], fresh = new float[block * d];

        model.SampleRows(afterReuse, block, 0, second, reused);
        model.SampleRows(fresh, block, 0, second, model.CreateWorkspace(block));

        Assert.Equal(fresh, afterReuse);
        Assert.Contains(fresh, v => v != 0f);
    }

    /// <summary>
    /// <see cref="GradientCheck"/> on 3 random rows at the model's levels, against the model's own float scoring
    /// (exact by the normalisation tests) — hence a looser tolerance than the double references of the fully
    /// connected models, and retries at smaller steps for the ReLU kinks tiny perturbed models have near some inputs.
    /// </summary>
    public static void GradientsMatchFiniteDifferences(DensityModel model)
    {
        const int batch = 3;
        var random = new Random(6);
        float[] x = Enumerable.Range(0, batch * model.Dimension).Select(_ =>
            random.Next(model.Levels) / (float)(model.Levels - 1)).ToArray();
        double Loss() => -ModelAssert.LogLikelihoods(model, x).Sum(v => (double)v) / batch;
        GradientCheck.Check(model, x, batch, Loss, h: 1e-3, tolerance: 5e-3, retriesAtSmallerSteps: 2);
    }
}
