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

    public static TheoryData<int, float> LevelsAndTemperatures => new()
    {
        { 2, 1f }, { 3, 1f }, { 16, 1f }, { 2, 0.5f }, { 3, 0.5f }, { 16, 0.5f }, { 2, 2f }, { 16, 2f },
    };

    [Theory]
    [MemberData(nameof(LevelsAndTemperatures))]
    public void Draw_FollowsTheProbabilitiesOfTheLogitsDividedByTheTemperature(int levels, float temperature)
    {
        var distribution = PixelDistribution.For(levels);
        float[] logits = TestData.RandomVector(distribution.LogitsPerPixel, seed: 3, scale: 1.5f);
        var stream = new SamplingStream(11, temperature);
        const int draws = 40000;
        var counts = new int[levels];
        for (int i = 0; i < draws; i++) counts[distribution.LevelOf(distribution.Draw(stream, logits, 1, 0))]++;
        float[] tempered = logits.Select(z => z / temperature).ToArray();
        for (int k = 0; k < levels; k++)
        {
            var logP = new float[1];
            distribution.LogProbabilities(tempered, [Value(k, levels)], 1, logP);
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

    [Theory]
    [MemberData(nameof(LevelCounts))]
    public void Draw_AtTemperatureOne_IsBitIdenticalToTheUntemperedDraw(int levels)
    {
        // The draw as it was written before temperature existed: u < σ(z), or the first level whose cumulative
        // exp(z_k - max) exceeds u·Σ.
        static float Untempered(Random random, float[] logits, int levels)
        {
            float u = random.NextSingle();
            if (levels == 2) return u < 1f / (1f + MathF.Exp(-logits[0])) ? 1f : 0f;
            float max = logits.Max(), total = 0f, cumulative = 0f;
            foreach (float z in logits) total += MathF.Exp(z - max);
            float target = u * total;
            for (int k = 0; k < levels - 1; k++)
            {
                cumulative += MathF.Exp(logits[k] - max);
                if (target < cumulative) return k / (float)(levels - 1);
            }
            return 1f;
        }
        var distribution = PixelDistribution.For(levels);
        var stream = new SamplingStream(5, temperature: 1f);
        var reference = new Random(5);
        for (int i = 0; i < 5000; i++)
        {
            float[] logits = TestData.RandomVector(distribution.LogitsPerPixel, seed: i, scale: 4f);
            Assert.Equal(Untempered(reference, logits, levels), distribution.Draw(stream, logits, 1, 0));
        }
    }

    [Theory]
    [InlineData(2, 1e-3f)]
    [InlineData(16, 1e-3f)]
    [InlineData(2, 1e-44f)] // 1/τ overflows a float: capped, never NaN
    [InlineData(16, 1e-44f)]
    public void Draw_AtATinyTemperature_TakesTheMostLikelyLevel(int levels, float temperature)
    {
        var distribution = PixelDistribution.For(levels);
        var stream = new SamplingStream(23, temperature);
        for (int i = 0; i < 2000; i++)
        {
            float[] logits = TestData.RandomVector(distribution.LogitsPerPixel, seed: 1000 + i, scale: 3f);
            float[] sorted = logits.Append(0f).OrderDescending().ToArray(); // Bernoulli: z against the 0 of level 0
            if (sorted[0] - sorted[1] < 0.05f) continue; // a near tie stays random at τ = 1e-3 (exp(-50) is not)
            int mostLikely = levels == 2 ? (logits[0] > 0 ? 1 : 0)
                : Enumerable.Range(0, levels).MaxBy(k => logits[k]);
            Assert.Equal(mostLikely, distribution.LevelOf(distribution.Draw(stream, logits, 1, 0)));
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.5f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void SamplingStream_RefusesAnInvalidTemperature(float temperature) =>
        Assert.Equal("temperature",
            Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingStream(1, temperature)).ParamName);
}
