using MLNetAr.Nn.Distributions;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Nn;

public class PixelDistributionTests
{
    public static TheoryData<int> LevelCounts => [2, 3, 16];

    private static float Value(int level, int levels) => level / (float)(levels - 1);

    [Theory]
    [MemberData(nameof(LevelCounts))]
    public void LogProbabilities_OfEveryLevel_SumToOne(int levels)
    {
        var distribution = PixelDistribution.For(levels);
        const int n = 5;
        float[] logits = TestData.RandomVector(n * distribution.LogitsPerPixel, seed: levels, scale: 3f);
        var total = new double[n];
        for (int k = 0; k < levels; k++)
        {
            float[] x = Enumerable.Repeat(Value(k, levels), n).ToArray(), logP = new float[n];
            distribution.LogProbabilities(logits, x, n, logP);
            for (int i = 0; i < n; i++) total[i] += Math.Exp(logP[i]);
            Assert.Equal(logP.Sum(v => (double)v), distribution.SumLogProbabilities(logits, x, n, 0, n), 4);
        }
        Assert.All(total, t => Assert.Equal(1.0, t, 5));
    }

    [Theory]
    [MemberData(nameof(LevelCounts))]
    public void NllGradient_MatchesFiniteDifferences(int levels)
    {
        var distribution = PixelDistribution.For(levels);
        const int n = 4;
        const float scale = 0.5f;
        float[] logits = TestData.RandomVector(n * distribution.LogitsPerPixel, seed: 7, scale: 2f);
        var random = new Random(levels);
        float[] x = Enumerable.Range(0, n).Select(_ => Value(random.Next(levels), levels)).ToArray();
        var gradient = new float[logits.Length];
        distribution.NllGradient(logits, x, n, scale, gradient);
        for (int j = 0; j < logits.Length; j++)
        {
            double Loss(float delta)
            {
                float[] shifted = logits.ToArray();
                shifted[j] += delta;
                return -scale * distribution.SumLogProbabilities(shifted, x, n, 0, n);
            }
            const float h = 1e-2f;
            Assert.Equal((Loss(h) - Loss(-h)) / (2 * h), gradient[j], 2);
        }
    }

    [Theory]
    [MemberData(nameof(LevelCounts))]
    public void Draw_FollowsTheProbabilities(int levels)
    {
        var distribution = PixelDistribution.For(levels);
        float[] logits = TestData.RandomVector(distribution.LogitsPerPixel, seed: 3, scale: 1.5f);
        var stream = new Random(11);
        const int draws = 40000;
        var counts = new int[levels];
        for (int i = 0; i < draws; i++) counts[distribution.LevelOf(distribution.Draw(stream, logits, 1, 0))]++;
        for (int k = 0; k < levels; k++)
        {
            var logP = new float[1];
            distribution.LogProbabilities(logits, [Value(k, levels)], 1, logP);
            double p = Math.Exp(logP[0]), sd = Math.Sqrt(p * (1 - p) / draws);
            Assert.InRange(counts[k] / (double)draws, p - 5 * sd - 1e-4, p + 5 * sd + 1e-4);
        }
    }

    [Theory]
    [MemberData(nameof(LevelCounts))]
    public void MarginalLogits_GiveTheSmoothedFrequencies(int levels)
    {
        var distribution = PixelDistribution.For(levels);
        double[] counts = Enumerable.Range(0, levels).Select(k => (double)(3 * k + 1)).ToArray();
        float[] logits = distribution.MarginalLogits(counts);
        double total = counts.Sum() + levels;
        for (int k = 0; k < levels; k++)
        {
            var logP = new float[1];
            distribution.LogProbabilities(logits, [Value(k, levels)], 1, logP);
            Assert.Equal((counts[k] + 1) / total, Math.Exp(logP[0]), 5);
        }
    }
}
