using MLNetAr.Nn.Distributions;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Nn;

/// <summary>The discretised logistic mixture head (PixelCNN++) against references written out in double.</summary>
public class DiscretizedLogisticMixtureTests
{
    private static float Value(int level, int levels) => level / (float)(levels - 1);

    /// <summary>Logits (3M, n) with mixture logits, means in (-1.2, 1.2) and log scales in (-5, 1).</summary>
    private static float[] Logits(int components, int n, int seed, float[]? logScales = null)
    {
        var random = new Random(seed);
        var logits = new float[3 * components * n];
        for (int j = 0; j < components; j++)
            for (int i = 0; i < n; i++)
            {
                logits[j * n + i] = (float)(random.NextDouble() * 4 - 2);
                logits[(components + j) * n + i] = (float)(random.NextDouble() * 2.4 - 1.2);
                logits[(2 * components + j) * n + i] = logScales?[(j * n + i) % logScales.Length]
                    ?? (float)(random.NextDouble() * 6 - 5);
            }
        return logits;
    }

    /// <summary><c>p(k) = Σ_m w_m (σ((c_k + h - μ)/e^s) - σ((c_k - h - μ)/e^s))</c>, tails at the edges.</summary>
    private static double Reference(float[] logits, int components, int n, int index, int level, int levels)
    {
        double[] pi = Enumerable.Range(0, components).Select(j => (double)logits[j * n + index]).ToArray();
        double max = pi.Max(), total = pi.Sum(v => Math.Exp(v - max)), p = 0;
        for (int j = 0; j < components; j++)
        {
            double mean = logits[(components + j) * n + index];
            double scale = Math.Exp(Math.Clamp(logits[(2 * components + j) * n + index], -7f, 7f));
            double c = 2.0 * level / (levels - 1) - 1, h = 1.0 / (levels - 1);
            double upper = level == levels - 1 ? 1 : Sigmoid((c + h - mean) / scale);
            double lower = level == 0 ? 0 : Sigmoid((c - h - mean) / scale);
            p += Math.Exp(pi[j] - max) / total * (upper - lower);
        }
        return p;

        static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
    }

    [Theory]
    [InlineData(256, 1)]
    [InlineData(256, 5)]
    [InlineData(5, 3)]
    [InlineData(3, 2)]
    public void LogProbabilities_OfEveryLevel_SumToOne_AndMatchTheCdfDifferences(int levels, int components)
    {
        var mixture = new DiscretizedLogisticMixture(levels, components);
        const int n = 6;
        // Scales from tiny (all mass in one bin) to flat, and log scales beyond both clamps.
        float[] logits = Logits(components, n, seed: levels + components, logScales: [-9f, -7f, -3f, 0f, 6f, 8f]);
        var total = new double[n];
        for (int k = 0; k < levels; k++)
        {
            float[] x = Enumerable.Repeat(Value(k, levels), n).ToArray(), logP = new float[n];
            mixture.LogProbabilities(logits, x, n, logP);
            for (int i = 0; i < n; i++)
            {
                total[i] += Math.Exp(logP[i]);
                double reference = Reference(logits, components, n, i, k, levels);
                if (reference > 1e-9) // the reference's σ differences lose precision below
                    Assert.True(Math.Abs(Math.Log(reference) - logP[i]) < 1e-4 * (1 + Math.Abs(logP[i])),
                        $"level {k}, pixel {i}: {logP[i]} against {Math.Log(reference)}");
            }
        }
        Assert.All(total, t => Assert.Equal(1.0, t, 5));
    }

    [Theory]
    [InlineData(256, 3)]
    [InlineData(7, 2)]
    public void NllGradient_MatchesFiniteDifferences_AndIsZeroForClampedScales(int levels, int components)
    {
        var mixture = new DiscretizedLogisticMixture(levels, components);
        const int n = 5;
        const float scale = 0.5f;
        float[] logits = Logits(components, n, seed: 4, logScales: [-2f, -1f, -8f, 0.5f, -3f]);
        var random = new Random(levels);
        float[] x = Enumerable.Range(0, n).Select(i => Value(i == 0 ? 0 : i == 1 ? levels - 1
            : random.Next(levels), levels)).ToArray(); // both edges and interior levels
        var gradient = new float[logits.Length];
        mixture.NllGradient(logits, x, n, scale, gradient);
        for (int j = 0; j < logits.Length; j++)
        {
            double Loss(double delta)
            {
                float[] shifted = logits.ToArray();
                shifted[j] += (float)delta;
                return -scale * Enumerable.Range(0, n).Sum(i =>
                    Math.Log(Reference(shifted, components, n, i, (int)Math.Round(x[i] * (levels - 1)), levels)));
            }
            const double h = 1e-3;
            double numeric = (Loss(h) - Loss(-h)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[j]) < 2e-3 + 2e-3 * Math.Abs(numeric),
                $"logit {j}: analytic {gradient[j]}, numeric {numeric}");
        }
        // Log scale -8 is below the clamp: no gradient moves it.
        int clampedIndex = Enumerable.Range(0, components * n).First(k => logits[2 * components * n + k] < -7f);
        Assert.Equal(0f, gradient[2 * components * n + clampedIndex]);
    }

    [Theory]
    [InlineData(5, 2, 1f)]
    [InlineData(16, 3, 1f)]
    [InlineData(16, 3, 0.5f)]
    public void Draw_FollowsTheMixture_WithTheTemperatureOnWeightsAndScales(int levels, int components,
        float temperature)
    {
        var mixture = new DiscretizedLogisticMixture(levels, components);
        float[] logits = Logits(components, 1, seed: 9);
        var stream = new SamplingStream(13, temperature);
        const int draws = 40000;
        var counts = new int[levels];
        for (int i = 0; i < draws; i++) counts[mixture.LevelOf(mixture.Draw(stream, logits, 1, 0))]++;
        // τ divides the mixture logits and multiplies the scales (adds ln τ to the log scales).
        float[] tempered = logits.ToArray();
        for (int j = 0; j < components; j++)
        {
            tempered[j] /= temperature;
            tempered[2 * components + j] += MathF.Log(temperature);
        }
        for (int k = 0; k < levels; k++)
        {
            double p = Reference(tempered, components, 1, 0, k, levels), sd = Math.Sqrt(p * (1 - p) / draws);
            Assert.InRange(counts[k] / (double)draws, p - 5 * sd - 1e-4, p + 5 * sd + 1e-4);
        }
    }

    [Fact]
    public void MarginalLogits_PutTheMeansAtTheQuantiles()
    {
        var mixture = new DiscretizedLogisticMixture(256, 4);
        var counts = new double[256];
        counts[0] = 600; // 60 % black, the rest spread from 128 up
        for (int k = 128; k < 256; k++) counts[k] = 400.0 / 128;
        float[] logits = mixture.MarginalLogits(counts);
        Assert.Equal(12, logits.Length);
        Assert.All(logits.Take(4), v => Assert.Equal(0f, v));
        Assert.Equal(-1f, logits[4]); // quantiles 1/8 and 3/8: black
        Assert.Equal(-1f, logits[5]);
        // 5/8 and 7/8: 25 and 275 of the 400 spread over levels 128–255, i.e. levels 136 and 216.
        Assert.InRange(logits[6], 2 * 134.5f / 255 - 1, 2 * 136.5f / 255 - 1);
        Assert.InRange(logits[7], 2 * 214.5f / 255 - 1, 2 * 216.5f / 255 - 1);
    }

    [Fact]
    public void Constructor_RefusesBinaryPixelsAndBadComponentCounts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscretizedLogisticMixture(2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscretizedLogisticMixture(256, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscretizedLogisticMixture(256, 33));
    }
}
