using MLNetAr.Kernels;
using MLNetAr.Models;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Models;

public class NadeTests
{
    internal static Nade RandomModel(int d, int h, HiddenActivation activation, InputOrder order, int seed)
    {
        var model = new Nade(d, h, (NadeActivation)activation, InputOrders.Create(d, order == InputOrder.Random, seed));
        model.Initialize(new Random(seed), Enumerable.Repeat(0.3f, d).ToArray());
        TestData.Perturb(model, seed, scale: 1.2f);
        return model;
    }

    [Theory]
    [InlineData(HiddenActivation.Sigmoid, InputOrder.Natural, 12)]
    [InlineData(HiddenActivation.Sigmoid, InputOrder.Random, 11)]
    [InlineData(HiddenActivation.Relu, InputOrder.Natural, 10)]
    [InlineData(HiddenActivation.Relu, InputOrder.Random, 12)]
    public void LogLikelihood_AllBinaryInputs_SumsToOne(HiddenActivation activation, InputOrder order, int d) =>
        ModelAssert.IsNormalized(RandomModel(d, 7, activation, order, seed: d));

    [Theory]
    [InlineData(InputOrder.Natural)]
    [InlineData(InputOrder.Random)]
    public void Forward_FlippingInput_NeverChangesEarlierLogits(InputOrder order) =>
        ModelAssert.IsAutoregressive(RandomModel(14, 9, HiddenActivation.Sigmoid, order, seed: 5), seed: 6);

    [Theory]
    [InlineData(HiddenActivation.Sigmoid, InputOrder.Random)]
    [InlineData(HiddenActivation.Relu, InputOrder.Natural)]
    public void TrainingStep_RandomBatch_MatchesFiniteDifferencesInDouble(HiddenActivation activation,
        InputOrder inputOrder)
    {
        const int d = 6, h = 5, batch = 4;
        var model = RandomModel(d, h, activation, inputOrder, seed: 13);
        float[] x = TestData.RandomBinary(batch, d, seed: 14, p: 0.5);
        float[] w = model.Parameters[0].Value, c = model.Parameters[1].Value, v = model.Parameters[2].Value,
            b = model.Parameters[3].Value;
        int[] order = model.Order;

        // NADE written out in double: a_t = c + Σ_{s<t} W_s x_π(s), h_t = act(a_t), z_t = b_t + V_t·h_t.
        double Loss()
        {
            double total = 0;
            for (int r = 0; r < batch; r++)
            {
                var a = c.Select(q => (double)q).ToArray();
                for (int t = 0; t < d; t++)
                {
                    double z = b[t];
                    for (int k = 0; k < h; k++)
                    {
                        double hk = activation == HiddenActivation.Sigmoid ? 1 / (1 + Math.Exp(-a[k]))
                            : Math.Max(0, a[k]);
                        z += v[t * h + k] * hk;
                    }
                    double xt = x[r * d + order[t]];
                    total += Math.Log(1 + Math.Exp(z)) - xt * z;
                    for (int k = 0; k < h; k++) a[k] += w[t * h + k] * xt;
                }
            }
            return total / batch;
        }

        GradientCheck.Check(model, x, batch, Loss);
    }

    [Fact]
    public void SampleRows_TwentyThousandDraws_MatchDensity() =>
        ModelAssert.SamplesMatchDensity(RandomModel(6, 5, HiddenActivation.Sigmoid, InputOrder.Random, seed: 21),
            samples: 20000, seed: 2);

    [Fact]
    public void SampleRows_RunningPreActivation_EqualsNaiveFullForwardSampling()
    {
        const int d = 25, rows = 40;
        var model = RandomModel(d, 8, HiddenActivation.Relu, InputOrder.Random, seed: 31);
        int[] seeds = Enumerable.Range(7, rows).ToArray();
        float[] fast = new float[rows * d], naive = new float[rows * d];
        model.SampleRows(fast, rows, 0, seeds);
        model.SampleRowsNaive(naive, rows, 0, seeds);
        Assert.Equal(naive, fast);

        // Completion: known steps kept, the rest equal to naive completion.
        float[] known = TestData.RandomBinary(rows, d, seed: 32);
        float[] a = known.ToArray(), b2 = known.ToArray();
        model.SampleRows(a, rows, 10, seeds);
        model.SampleRowsNaive(b2, rows, 10, seeds);
        Assert.Equal(b2, a);
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < 10; t++)
                Assert.Equal(known[r * d + model.Order[t]], a[r * d + model.Order[t]]);
    }

    [Fact]
    public void HiddenFeatures_AreActivationOfFullPreActivation()
    {
        const int d = 9, h = 4;
        var model = RandomModel(d, h, HiddenActivation.Sigmoid, InputOrder.Random, seed: 41);
        float[] x = TestData.RandomBinary(3, d, seed: 42, p: 0.5);
        var ll = new float[3];
        var features = new float[3 * h];
        model.Score(x, 3, ll, features, model.CreateWorkspace(3));
        float[] w = model.Parameters[0].Value, c = model.Parameters[1].Value;
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < h; k++)
            {
                double a = c[k];
                for (int t = 0; t < d; t++) a += w[t * h + k] * x[r * d + model.Order[t]];
                Assert.Equal(1 / (1 + Math.Exp(-a)), features[r * h + k], 5);
            }
    }

    [Fact]
    public void TrainingStep_ThreadCount_DoesNotChangeGradients()
    {
        var model = RandomModel(20, 6, HiddenActivation.Sigmoid, InputOrder.Natural, seed: 51);
        float[] x = TestData.RandomBinary(13, 20, seed: 52);
        float[] Run(int threads)
        {
            int saved = Kernel.MaxDegreeOfParallelism;
            Kernel.MaxDegreeOfParallelism = threads;
            try
            {
                foreach (var p in model.Parameters) Array.Clear(p.Gradient);
                model.TrainingStep(x, 13, model.CreateWorkspace(13));
                return model.Parameters.SelectMany(p => p.Gradient).ToArray();
            }
            finally
            {
                Kernel.MaxDegreeOfParallelism = saved;
            }
        }
        Assert.Equal(Run(1), Run(2));
    }

    [Fact]
    public void ParameterCount_IsTwoHDPlusHPlusD() =>
        Assert.Equal(2 * 10 * 7 + 7 + 10,
            new Nade(10, 7, NadeActivation.Sigmoid, InputOrders.Create(10, shuffled: false, 0)).ParameterCount);

    // ---- K levels: K logits per step from the shared hidden vector ------------------------------------------------

    internal static Nade RandomLevelsModel(int d, int h, int levels, HiddenActivation activation, InputOrder order,
        int seed)
    {
        var model = new Nade(d, h, (NadeActivation)activation, InputOrders.Create(d, order == InputOrder.Random, seed),
            levels);
        model.Initialize(new Random(seed), Enumerable.Range(0, d * levels).Select(i => (double)(i % 3 + 1)).ToArray());
        TestData.Perturb(model, seed, scale: 1.2f);
        return model;
    }

    [Theory]
    [InlineData(HiddenActivation.Sigmoid, InputOrder.Natural, 4, 3)]
    [InlineData(HiddenActivation.Relu, InputOrder.Random, 3, 5)]
    [InlineData(HiddenActivation.Sigmoid, InputOrder.Random, 2, 16)]
    public void LogLikelihood_KLevels_AllInputsSumToOne(HiddenActivation activation, InputOrder order, int d,
        int levels) =>
        ModelAssert.IsNormalized(RandomLevelsModel(d, 6, levels, activation, order, seed: d + levels));

    [Theory]
    [InlineData(InputOrder.Natural)]
    [InlineData(InputOrder.Random)]
    public void Forward_KLevels_ChangingInput_NeverChangesEarlierLogits(InputOrder order) =>
        ModelAssert.IsAutoregressive(RandomLevelsModel(10, 7, 4, HiddenActivation.Relu, order, seed: 5), seed: 6);

    [Theory]
    [InlineData(HiddenActivation.Sigmoid)]
    [InlineData(HiddenActivation.Relu)]
    public void TrainingStep_KLevels_MatchesFiniteDifferences(HiddenActivation activation) =>
        ModelAssert.GradientsMatchFiniteDifferences(RandomLevelsModel(5, 4, 4, activation, InputOrder.Random,
            seed: 7));

    [Fact]
    public void SampleRows_KLevels_MatchDensity() =>
        ModelAssert.SamplesMatchDensity(RandomLevelsModel(3, 5, 4, HiddenActivation.Sigmoid, InputOrder.Random,
            seed: 8), samples: 20000, seed: 9);

    [Theory]
    [InlineData(0, InputOrder.Random)]
    [InlineData(5, InputOrder.Natural)] // completion keeps the first pixels of the order: natural, the first five
    public void SampleRows_KLevels_IncrementalEqualsNaive(int knownSteps, InputOrder order) =>
        ModelAssert.SamplesLikeNaiveSampler(RandomLevelsModel(14, 8, 5, HiddenActivation.Sigmoid, order, seed: 10),
            knownSteps);

    [Fact]
    public void WeightsFormat_KLevels_RoundTripsScoresExactly()
    {
        var model = RandomLevelsModel(6, 5, 7, HiddenActivation.Relu, InputOrder.Random, seed: 11);
        using var stream = new MemoryStream();
        ModelSerializer.Write(model, stream);
        stream.Position = 0;
        var loaded = Assert.IsType<Nade>(ModelSerializer.Read(stream));
        Assert.Equal(7, loaded.Levels);
        float[] x = Enumerable.Range(0, 4 * 6).Select(i => i * 5 % 7 / 6f).ToArray();
        Assert.Equal(ModelAssert.LogLikelihoods(model, x), ModelAssert.LogLikelihoods(loaded, x));
    }
}
