using MLNetAr.Models;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Models;

public class FvsbnTests
{
    /// <summary>A small FVSBN with non-trivial random weights and biases.</summary>
    internal static Fvsbn RandomModel(int d, int seed, float scale = 1.5f)
    {
        var model = new Fvsbn(d);
        model.Initialize(new Random(seed), scale);
        var bias = TestData.RandomVector(d, seed + 1, scale: 2f);
        bias.CopyTo(model.Parameters[1].Value, 0);
        return model;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(12)]
    public void LogLikelihood_AllBinaryInputs_SumsToOne(int d) => ModelAssert.IsNormalized(RandomModel(d, seed: d));

    [Fact]
    public void Forward_FlippingInput_NeverChangesEarlierLogits() =>
        ModelAssert.IsAutoregressive(RandomModel(16, seed: 3), seed: 4);

    [Fact]
    public void Backward_RandomBatch_MatchesFiniteDifferencesInDouble()
    {
        const int d = 7, batch = 5;
        var model = RandomModel(d, seed: 11, scale: 0.8f);
        float[] x = TestData.RandomBinary(batch, d, seed: 12, p: 0.5);
        float[] wT = model.Parameters[0].Value, bias = model.Parameters[1].Value;

        // The FVSBN loss written out in double: mean over rows of Σ_i softplus(z_i) - x_i z_i, z_i = b_i +
        // Σ_{j<i} W_ij x_j.
        double Loss()
        {
            double total = 0;
            for (int r = 0; r < batch; r++)
                for (int i = 0; i < d; i++)
                {
                    double z = bias[i];
                    for (int j = 0; j < i; j++) z += (double)wT[j * d + i] * x[r * d + j];
                    total += Math.Log(1 + Math.Exp(z)) - x[r * d + i] * z;
                }
            return total / batch;
        }

        GradientCheck.Check(model, x, batch, Loss);
        // Structural zeros (i ≤ j) get no gradient, so Adam never moves them.
        for (int j = 0; j < d; j++)
            for (int i = 0; i <= j; i++)
                Assert.Equal(0f, model.Parameters[0].Gradient[j * d + i]);
    }

    [Fact]
    public void SampleRows_TwentyThousandDraws_MatchDensity() =>
        ModelAssert.SamplesMatchDensity(RandomModel(6, seed: 21), samples: 20000, seed: 5);

    [Fact]
    public void SampleRows_Incremental_EqualsNaiveFullForwardSampling()
    {
        const int d = 30, rows = 50;
        var model = RandomModel(d, seed: 31, scale: 0.7f);
        int[] seeds = Enumerable.Range(100, rows).ToArray();
        float[] fast = new float[rows * d], naive = new float[rows * d];
        model.SampleRows(fast, rows, 0, seeds);
        model.SampleRowsNaive(naive, rows, 0, seeds);
        Assert.Equal(naive, fast);
    }

    [Fact]
    public void SampleRows_KnownPrefix_IsKept()
    {
        const int d = 20;
        var model = RandomModel(d, seed: 41);
        float[] x = TestData.RandomBinary(3, d, seed: 42);
        float[] original = x.ToArray();
        model.SampleRows(x, 3, 8, [1, 2, 3]);
        for (int r = 0; r < 3; r++)
            Assert.Equal(original.AsSpan(r * d, 8).ToArray(), x.AsSpan(r * d, 8).ToArray());
    }

    [Fact]
    public void ParameterCount_IsDSquaredPlusD()
    {
        // Stored as a dense D×D matrix (half structurally zero) plus D biases.
        Assert.Equal(10 * 10 + 10, new Fvsbn(10).ParameterCount);
    }

    // ---- K levels: a softmax regression per pixel ------------------------------------------------------------------

    /// <summary>A small K-level FVSBN with non-trivial random weights and biases.</summary>
    internal static Fvsbn RandomLevelsModel(int d, int levels, int seed, float scale = 1.5f)
    {
        var model = new Fvsbn(d, levels);
        model.Initialize(new Random(seed), scale);
        TestData.RandomVector(levels * d, seed + 1, scale: 2f).CopyTo(model.Parameters[1].Value, 0);
        return model;
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(4, 3)]
    [InlineData(3, 5)]
    [InlineData(2, 16)]
    public void LogLikelihood_KLevels_AllInputsSumToOne(int d, int levels) =>
        ModelAssert.IsNormalized(RandomLevelsModel(d, levels, seed: d + levels));

    [Fact]
    public void LogLikelihood_KLevels_IsTheSoftmaxRegressionWrittenOut()
    {
        const int d = 4, levels = 3;
        var model = RandomLevelsModel(d, levels, seed: 5);
        float[] x = [0.5f, 1f, 0f, 0.5f];
        float[] wT = model.Parameters[0].Value, bias = model.Parameters[1].Value;
        double expected = 0;
        for (int i = 0; i < d; i++)
        {
            var z = new double[levels];
            for (int k = 0; k < levels; k++)
            {
                z[k] = bias[k * d + i];
                for (int j = 0; j < i; j++) z[k] += (double)wT[j * levels * d + k * d + i] * x[j];
            }
            double max = z.Max(), logSum = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
            expected += z[(int)Math.Round(x[i] * (levels - 1))] - logSum;
        }
        Assert.Equal(expected, ModelAssert.LogLikelihoods(model, x)[0], 4);
    }

    [Fact]
    public void Forward_KLevels_ChangingInput_NeverChangesEarlierLogits() =>
        ModelAssert.IsAutoregressive(RandomLevelsModel(9, 4, seed: 3), seed: 4);

    [Fact]
    public void Backward_KLevels_MatchesFiniteDifferences_AndKeepsStructuralZeros()
    {
        const int d = 5, levels = 4;
        var model = RandomLevelsModel(d, levels, seed: 13, scale: 0.8f);
        ModelAssert.GradientsMatchFiniteDifferences(model);
        for (int j = 0; j < d; j++)
            for (int k = 0; k < levels; k++)
                for (int i = 0; i <= j; i++)
                    Assert.Equal(0f, model.Parameters[0].Gradient[j * levels * d + k * d + i]);
    }

    [Fact]
    public void SampleRows_KLevels_MatchDensity() =>
        ModelAssert.SamplesMatchDensity(RandomLevelsModel(3, 4, seed: 22), samples: 20000, seed: 6);

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void SampleRows_KLevels_IncrementalEqualsNaive(int knownSteps) =>
        ModelAssert.SamplesLikeNaiveSampler(RandomLevelsModel(20, 5, seed: 32, scale: 0.7f), knownSteps);

    [Fact]
    public void HiddenFeatures_KLevels_AreEachRowsLogitsLevelMajor()
    {
        const int d = 6, levels = 3, batch = 4;
        var model = RandomLevelsModel(d, levels, seed: 51);
        Assert.Equal(levels * d, model.HiddenFeatureCount);
        float[] x = Enumerable.Range(0, batch * d).Select(i => i * 7 % levels / (float)(levels - 1)).ToArray();
        var features = new float[batch * model.HiddenFeatureCount];
        model.Score(x, batch, new float[batch], features, model.CreateWorkspace(batch));
        for (int r = 0; r < batch; r++)
        {
            var single = new float[model.HiddenFeatureCount];
            model.Score(x.AsSpan(r * d, d), 1, new float[1], single, model.CreateWorkspace(1));
            Assert.Equal(single, features.AsSpan(r * single.Length, single.Length).ToArray());
        }
    }

    [Fact]
    public void WeightsFormat_KLevels_RoundTrips_AndFormat1FilesLoadAsBinary()
    {
        var model = RandomLevelsModel(5, 7, seed: 61);
        using var stream = new MemoryStream();
        ModelSerializer.Write(model, stream);
        stream.Position = 0;
        var loaded = Assert.IsType<Fvsbn>(ModelSerializer.Read(stream));
        Assert.Equal(7, loaded.Levels);
        Assert.Equal(model.Parameters[0].Value, loaded.Parameters[0].Value);

        // A format-1 stream (before FVSBN wrote its levels): Dimension only, binary.
        var binary = RandomModel(4, seed: 62);
        var loadedBinary = Assert.IsType<Fvsbn>(ModelSerializer.Read(new MemoryStream(
            TestData.WeightsStreamInFormat1(binary))));
        Assert.Equal(2, loadedBinary.Levels);
        Assert.Equal(binary.Parameters[1].Value, loadedBinary.Parameters[1].Value);
    }
}
