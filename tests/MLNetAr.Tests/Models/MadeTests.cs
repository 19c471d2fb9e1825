using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Models;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Models;

public class MadeTests
{
    internal static Made RandomModel(int d, int[] hidden, bool natural, int masks = 1, int ensemble = 1,
        bool direct = false, int seed = 1)
    {
        var model = new Made(d, hidden, natural, maskSeed: seed, masks, ensemble, direct);
        model.Initialize(new Random(seed), Enumerable.Repeat(0.3f, d).ToArray());
        TestData.Perturb(model, seed, scale: 0.8f);
        return model;
    }

    [Theory]
    [InlineData(new[] { 16 }, true, 1, 1, false)]
    [InlineData(new[] { 16 }, false, 1, 1, true)]
    [InlineData(new[] { 12, 10 }, true, 1, 1, false)]
    [InlineData(new[] { 12, 10 }, false, 4, 4, false)]
    [InlineData(new[] { 14 }, true, 3, 3, true)]
    [InlineData(new[] { 6 }, false, 2, 1, false)] // hidden layer smaller than D - 1
    public void LogLikelihood_AllBinaryInputs_SumsToOne(int[] hidden, bool natural, int masks, int ensemble,
        bool direct) =>
        ModelAssert.IsNormalized(RandomModel(10, hidden, natural, masks, ensemble, direct));

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Forward_FlippingInput_NeverChangesEarlierLogits(bool natural, bool direct) =>
        ModelAssert.IsAutoregressive(RandomModel(12, [15, 13], natural, direct: direct), seed: 2);

    [Fact]
    public void EveryTrainingMask_IsAutoregressiveInItsOwnOrder()
    {
        var model = RandomModel(8, [9], natural: false, masks: 3);
        for (int step = 0; step < 3; step++)
        {
            model.BeginTrainingStep(step);
            var workspace = model.CreateWorkspace(1);
            int[] order = model.Masks(step).Order;
            float[] x = TestData.RandomBinary(1, 8, seed: step), baseLogits = new float[8];
            model.Forward(x, 1, baseLogits, workspace);
            for (int t = 0; t < 8; t++)
            {
                float[] changed = x.ToArray();
                changed[order[t]] = 1 - changed[order[t]];
                float[] logits = new float[8];
                model.Forward(changed, 1, logits, workspace);
                for (int s = 0; s <= t; s++) Assert.Equal(baseLogits[order[s]], logits[order[s]]);
            }
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 2)] // a later mask of an order/connectivity-agnostic model, as selected for a training step
    public void TrainingStep_RandomBatch_MatchesFiniteDifferencesInDouble(bool direct, int maskIndex)
    {
        const int d = 5, batch = 3;
        int[] hidden = [6, 4];
        var model = RandomModel(d, hidden, natural: false, masks: 3, direct: direct, seed: 7);
        model.BeginTrainingStep(maskIndex);
        float[] x = TestData.RandomBinary(batch, d, seed: 8, p: 0.5);
        var masks = model.Masks(maskIndex);
        float[][] hiddenMasks = masks.Hidden.Select(m => m.ToArray()).ToArray();
        float[] outputMask = masks.Output.ToArray(), directMask = masks.Direct.ToArray();
        var p = model.Parameters;

        // MADE written out in double from the same masks.
        double Loss()
        {
            double total = 0;
            for (int r = 0; r < batch; r++)
            {
                double[] input = Enumerable.Range(0, d).Select(j => (double)x[r * d + j]).ToArray();
                double[] h = input;
                for (int l = 0; l < hidden.Length; l++)
                {
                    float[] w = p[2 * l].Value, bias = p[2 * l + 1].Value;
                    var next = new double[hidden[l]];
                    for (int k = 0; k < hidden[l]; k++)
                    {
                        double a = bias[k];
                        for (int j = 0; j < h.Length; j++)
                            a += w[k * h.Length + j] * hiddenMasks[l][k * h.Length + j] * h[j];
                        next[k] = Math.Max(0, a);
                    }
                    h = next;
                }
                float[] v = p[2 * hidden.Length].Value, c = p[2 * hidden.Length + 1].Value;
                for (int o = 0; o < d; o++)
                {
                    double z = c[o];
                    for (int k = 0; k < h.Length; k++) z += v[o * h.Length + k] * outputMask[o * h.Length + k] * h[k];
                    if (direct)
                        for (int j = 0; j < d; j++)
                            z += p[^1].Value[o * d + j] * directMask[o * d + j] * input[j];
                    total += Math.Log(1 + Math.Exp(z)) - input[o] * z;
                }
            }
            return total / batch;
        }

        GradientCheck.Check(model, x, batch, Loss);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 3)]
    public void SampleRows_TwentyThousandDraws_MatchDensity(bool natural, int ensemble) =>
        ModelAssert.SamplesMatchDensity(RandomModel(6, [8], natural, masks: ensemble, ensemble: ensemble, direct: true),
            samples: 20000, seed: 3);

    [Fact]
    public void SampleRows_TwoLayersWithKnownPrefix_MatchConditionalDensity()
    {
        // Complete the last 3 of 6 pixels given a fixed prefix, ensemble of 2 natural-order masks: the empirical
        // distribution of the completions must match p(x_rest | x_known) ∝ p(x_known, x_rest).
        const int d = 6, known = 3, samples = 20000;
        var model = RandomModel(d, [7, 5], natural: true, masks: 2, ensemble: 2);
        float[] prefix = [1, 0, 1];
        float[] all = TestData.AllBinaryVectors(d);
        float[] ll = ModelAssert.LogLikelihoods(model, all);
        var x = new float[samples * d];
        for (int r = 0; r < samples; r++) prefix.CopyTo(x, r * d);
        model.SampleRows(x, samples, known, Enumerable.Range(0, samples).ToArray());
        var counts = new int[1 << (d - known)];
        for (int r = 0; r < samples; r++)
        {
            for (int j = 0; j < known; j++) Assert.Equal(prefix[j], x[r * d + j]);
            int index = 0;
            for (int j = known; j < d; j++) if (x[r * d + j] != 0f) index |= 1 << (j - known);
            counts[index]++;
        }
        int prefixBits = 0b101;
        double norm = Enumerable.Range(0, counts.Length).Sum(i => Math.Exp(ll[prefixBits | (i << known)]));
        double tv = Enumerable.Range(0, counts.Length).Sum(i =>
            Math.Abs(counts[i] / (double)samples - Math.Exp(ll[prefixBits | (i << known)]) / norm)) / 2;
        Assert.True(tv < 0.02, $"TV {tv:F4}");
    }

    [Fact]
    public void SampleRows_EnsembleWithRandomOrdersAndKnownPixels_ThrowsClearly()
    {
        var model = RandomModel(6, [8], natural: false, masks: 2, ensemble: 2);
        var e = Assert.Throws<NotSupportedException>(() => model.SampleRows(new float[6], 1, 2, [1]));
        Assert.Contains("InputOrder = Natural", e.Message);
    }

    [Fact]
    public void Score_AfterFreezing_EqualsUnfrozenScores()
    {
        var model = RandomModel(9, [10], natural: false, masks: 3, ensemble: 3);
        float[] x = TestData.RandomBinary(20, 9, seed: 4);
        float[] before = ModelAssert.LogLikelihoods(model, x);
        model.EndTraining();
        Assert.Equal(before, ModelAssert.LogLikelihoods(model, x));
    }

    [Fact]
    public void EarlyStopping_WatchesTheEnsembleThatIsScored()
    {
        // Connectivity-agnostic training: the history's validation NLL is the 4-connectivity mixture's, so the fitted
        // (best) model scores the validation rows at the best epoch's NLL, not at one connectivity's. 600 validation
        // rows: validation runs them in blocks of 512 and 88, scoring in batches of 256.
        var ml = new MLContext(1);
        var train = TestData.Digits.Slice(0, 300);
        var validation = TestData.Digits.Slice(300, 600);
        var model = ml.Transforms.MadeDensity(new MadeDensityEstimator.Options
        {
            HiddenSizes = [40], NumberOfMasks = 4, EnsembleSize = 4, LearningRate = 1e-2f, MaximumNumberOfEpochs = 4,
            Seed = 1,
        }).Fit(train.ToDataView(ml), validation.ToDataView(ml));

        double scored = -model.Transform(validation.ToDataView(ml)).GetColumn<float>("LogLikelihood")
            .Average(v => (double)v);
        double best = model.TrainingHistory.Min(h => h.ValidationNll);
        Assert.True(Math.Abs(scored - best) < 1e-5 * best, $"scored {scored:F4}, best validation {best:F4} nats");
    }

    [Fact]
    public void ParameterCount_IsExact()
    {
        Assert.Equal(10 * 7 + 7 + 7 * 5 + 5 + 5 * 10 + 10, new Made(10, [7, 5], true, 1, 1, 1, false).ParameterCount);
        Assert.Equal(10 * 7 + 7 + 7 * 10 + 10 + 10 * 10, new Made(10, [7], true, 1, 1, 1, true).ParameterCount);
    }

    // ---- K levels: L = K output units per pixel, each with the pixel's degree --------------------------------------

    internal static Made RandomLevelsModel(int d, int levels, int[] hidden, bool natural, int masks = 1,
        int ensemble = 1, bool direct = false, int seed = 1)
    {
        var model = new Made(d, hidden, natural, maskSeed: seed, masks, ensemble, direct, levels);
        var counts = Enumerable.Range(0, d * levels).Select(i => (double)(i * 7 % 5 + 1)).ToArray();
        model.Initialize(new Random(seed), counts);
        TestData.Perturb(model, seed, scale: 0.8f);
        return model;
    }

    [Theory]
    [InlineData(4, 3, new[] { 8 }, true, 1, 1, false)]
    [InlineData(4, 3, new[] { 8 }, false, 1, 1, true)]
    [InlineData(3, 5, new[] { 6, 5 }, false, 3, 3, true)]
    [InlineData(2, 16, new[] { 4 }, true, 1, 1, false)]
    public void LogLikelihood_KLevels_AllInputsSumToOne(int d, int levels, int[] hidden, bool natural, int masks,
        int ensemble, bool direct) =>
        ModelAssert.IsNormalized(RandomLevelsModel(d, levels, hidden, natural, masks, ensemble, direct));

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Forward_KLevels_ChangingInput_NeverChangesEarlierLogits(bool natural, bool direct) =>
        ModelAssert.IsAutoregressive(RandomLevelsModel(9, 4, [12, 10], natural, direct: direct), seed: 2);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_KLevels_MatchesFiniteDifferences(bool direct) =>
        ModelAssert.GradientsMatchFiniteDifferences(RandomLevelsModel(5, 4, [7, 6], natural: false, direct: direct));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    public void SampleRows_KLevels_MatchDensity(int masks, int ensemble) =>
        ModelAssert.SamplesMatchDensity(RandomLevelsModel(3, 4, [6], natural: true, masks, ensemble, direct: true),
            samples: 20000, seed: 8);

    [Theory]
    [InlineData(0, false)]
    [InlineData(6, true)] // completion keeps the first pixels of the order: natural, so that they are the first six
    public void SampleRows_KLevels_IncrementalEqualsNaive(int knownSteps, bool natural) =>
        ModelAssert.SamplesLikeNaiveSampler(RandomLevelsModel(16, 5, [20], natural, direct: true), knownSteps);

    [Fact]
    public void WeightsFormat_KLevels_RoundTripsScoresExactly()
    {
        var model = RandomLevelsModel(6, 7, [9], natural: false, masks: 2, ensemble: 2, direct: true);
        using var stream = new MemoryStream();
        ModelSerializer.Write(model, stream);
        stream.Position = 0;
        var loaded = Assert.IsType<Made>(ModelSerializer.Read(stream));
        Assert.Equal(7, loaded.Levels);
        model.EndTraining(); // a loaded model's weights are final (frozen masked weights), so compare it frozen too
        float[] x = Enumerable.Range(0, 4 * 6).Select(i => i * 5 % 7 / 6f).ToArray();
        Assert.Equal(ModelAssert.LogLikelihoods(model, x), ModelAssert.LogLikelihoods(loaded, x));
    }
}
