using MLNetAr.Models;
using MLNetAr.Nn.Layers;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Models;

public class PixelRnnTests
{
    internal static PixelRnn Create(string name, int seed = 1, int truncation = 0)
    {
        var model = name switch
        {
            "lstm" => new PixelRnn(12, width: 4, levels: 2, PixelRnnCell.Lstm, hidden: 5, layers: 1, pixelAbove: true,
                truncation),
            "lstm-2layers" => new PixelRnn(10, width: 5, levels: 2, PixelRnnCell.Lstm, hidden: 4, layers: 2,
                pixelAbove: true, truncation),
            "gru" => new PixelRnn(12, width: 3, levels: 2, PixelRnnCell.Gru, hidden: 5, layers: 2, pixelAbove: true,
                truncation),
            "gru-noabove" => new PixelRnn(9, width: 9, levels: 2, PixelRnnCell.Gru, hidden: 4, layers: 1,
                pixelAbove: false, truncation),
            "lstm-levels3" => new PixelRnn(5, width: 5, levels: 3, PixelRnnCell.Lstm, hidden: 4, layers: 1,
                pixelAbove: false, truncation),
            _ => throw new ArgumentException(name),
        };
        model.Initialize(new Random(seed), TestData.RandomBinary(10, model.Dimension, seed));
        TestData.Perturb(model, seed, scale: 0.8f);
        return model;
    }

    public static TheoryData<string> All() => ["lstm", "lstm-2layers", "gru", "gru-noabove", "lstm-levels3"];

    [Theory]
    [MemberData(nameof(All))]
    public void LogLikelihood_AllInputs_SumsToOne(string name) => ModelAssert.IsNormalized(Create(name));

    [Theory]
    [MemberData(nameof(All))]
    public void Forward_ChangingInput_NeverChangesEarlierLogits(string name) =>
        ModelAssert.IsAutoregressive(Create(name), seed: 3);

    [Theory]
    [MemberData(nameof(All))]
    public void TrainingStep_FullBptt_MatchesFiniteDifferences(string name) =>
        ModelAssert.GradientsMatchFiniteDifferences(Create(name, seed: 4));

    [Fact]
    public void TruncatedBptt_EqualsFullBpttWhenLongEnough_AndDropsLongRangeTermsOtherwise()
    {
        float[] x = TestData.RandomBinary(4, 12, seed: 5, p: 0.5);
        float[] Gradient(int truncation)
        {
            var model = Create("lstm", seed: 2, truncation);
            foreach (var p in model.Parameters) Array.Clear(p.Gradient);
            model.TrainingStep(x, 4, model.CreateWorkspace(4));
            return model.Parameters.SelectMany(p => p.Gradient).ToArray();
        }
        float[] full = Gradient(0);
        Assert.Equal(full, Gradient(12)); // one block covers every step: no boundary, same arithmetic
        float[] truncated = Gradient(3);
        Assert.NotEqual(full, truncated);
        // The output layer's gradient does not go through time, so truncation leaves it alone.
        Assert.Equal(full[^6..], truncated[^6..]);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Samples_MatchDensity(string name) =>
        ModelAssert.SamplesMatchDensity(Create(name), samples: 20000, seed: 7);

    [Theory]
    [InlineData("lstm", 0)]
    [InlineData("lstm-2layers", 4)]
    [InlineData("gru", 0)]
    [InlineData("gru", 6)]
    [InlineData("lstm-levels3", 2)]
    public void IncrementalSampling_EqualsNaiveSampling(string name, int knownSteps) =>
        ModelAssert.SamplesLikeNaiveSampler(Create(name, seed: 8), knownSteps);

    [Fact]
    public void HiddenFeatures_AreTheFinalAndMeanTopState()
    {
        var model = Create("gru");
        Assert.Equal(10, model.HiddenFeatureCount);
        float[] x = TestData.RandomBinary(2, 12, 9);
        var features = new float[20];
        model.Score(x, 2, new float[2], features, model.CreateWorkspace(2));
        Assert.All(features, v => Assert.InRange(v, -1f, 1f)); // GRU states are convex combinations of tanh values
        Assert.NotEqual(features[..10], features[10..]);

        // The output layer is linear in the top state, logit_t = w·h_t + b (h_t: the state that predicts pixel t), so
        // the final state must give the last pixel's logit and the mean state the mean logit.
        var logits = new float[2 * 12];
        model.Forward(x, 2, logits, model.CreateWorkspace(2));
        float[] w = model.Parameters.Single(p => p.Name == "Output.Weight").Value;
        float b = model.Parameters.Single(p => p.Name == "Output.Bias").Value[0];
        for (int r = 0; r < 2; r++)
        {
            ReadOnlySpan<float> final = features.AsSpan(r * 10, 5), mean = features.AsSpan(r * 10 + 5, 5);
            Assert.Equal(logits[r * 12 + 11], System.Numerics.Tensors.TensorPrimitives.Dot(w, final) + b, 1e-5f);
            Assert.Equal(logits.Skip(r * 12).Take(12).Average(), System.Numerics.Tensors.TensorPrimitives.Dot(w, mean)
                + b, 1e-5f);
        }
    }

    [Fact]
    public void LstmCell_BackwardMatchesFiniteDifferences()
    {
        const int b = 2, h = 3;
        float[] pre = TestData.RandomVector(b * 4 * h, 1, 2f), cPrev = TestData.RandomVector(b * h, 2),
            dhOut = TestData.RandomVector(b * h, 3), dcOut = TestData.RandomVector(b * h, 4);
        // L = Σ dhOut·h + Σ dcOut·c, as a function of the pre-activations and c_{t-1}.
        double Loss(float[] p, float[] cp)
        {
            float[] gates = p.ToArray(), c = new float[b * h], hh = new float[b * h];
            LstmCell.Forward(gates, cp, c, hh, b, h);
            return hh.Zip(dhOut, (u, v) => (double)u * v).Sum() + c.Zip(dcOut, (u, v) => (double)u * v).Sum();
        }
        float[] g = pre.ToArray(), cNow = new float[b * h], hNow = new float[b * h];
        LstmCell.Forward(g, cPrev, cNow, hNow, b, h);
        float[] dc = dcOut.ToArray(), dPre = new float[pre.Length];
        LstmCell.Backward(g, cPrev, cNow, dhOut, dc, dPre, b, h);
        AssertGradient(pre, dPre, p => Loss(p, cPrev));
        AssertGradient(cPrev, dc, cp => Loss(pre, cp));
    }

    [Fact]
    public void GruCell_BackwardMatchesFiniteDifferences()
    {
        const int b = 2, h = 3;
        float[] xp = TestData.RandomVector(b * 3 * h, 1, 2f), hp = TestData.RandomVector(b * 3 * h, 2, 2f),
            hPrev = TestData.RandomVector(b * h, 3), dhOut = TestData.RandomVector(b * h, 4);
        double Loss(float[] input, float[] recurrent, float[] previous)
        {
            float[] gates = input.ToArray(), hh = new float[b * h];
            GruCell.Forward(gates, recurrent, previous, hh, b, h);
            return hh.Zip(dhOut, (u, v) => (double)u * v).Sum();
        }
        float[] g = xp.ToArray(), hNow = new float[b * h];
        GruCell.Forward(g, hp, hPrev, hNow, b, h);
        float[] dInput = new float[xp.Length], dRecurrent = new float[hp.Length], dhPrev = new float[b * h];
        GruCell.Backward(g, hp, hPrev, dhOut, dInput, dRecurrent, dhPrev, b, h);
        AssertGradient(xp, dInput, p => Loss(p, hp, hPrev));
        AssertGradient(hp, dRecurrent, p => Loss(xp, p, hPrev));
        // the direct path only: h_{t-1} enters U·h outside the cell
        AssertGradient(hPrev, dhPrev, p => Loss(xp, hp, p));
    }

    private static void AssertGradient(float[] values, float[] gradient, Func<float[], double> loss)
    {
        const float step = 1e-3f;
        for (int i = 0; i < values.Length; i++)
        {
            float[] plus = values.ToArray(), minus = values.ToArray();
            plus[i] += step;
            minus[i] -= step;
            double numeric = (loss(plus) - loss(minus)) / (2 * step);
            Assert.True(Math.Abs(numeric - gradient[i]) < 2e-3,
                $"[{i}]: analytic {gradient[i]}, finite difference {numeric}");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Sampling_ReusedWorkspace_EqualsFresh(string name) =>
        ModelAssert.SamplingWithReusedWorkspaceEqualsFresh(Create(name, seed: 9));
}
