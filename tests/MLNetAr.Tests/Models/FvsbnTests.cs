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
}
