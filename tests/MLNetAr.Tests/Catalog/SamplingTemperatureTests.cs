using System.Security.Cryptography;
using Microsoft.ML;
using MLNetAr.Models;
using MLNetAr.Nn.Distributions;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>
/// <c>Sample</c>/<c>Complete</c>'s temperature τ for every model family: τ = 1 leaves the samples bit for bit as they
/// were before τ existed, every sampler tempers the same conditionals as the naive one, τ → 0 picks each pixel's most
/// likely level, and an invalid τ is refused naming the parameter.
/// </summary>
public class SamplingTemperatureTests
{
    /// <summary>
    /// The first 16 hex digits of the SHA-256 of <c>Sample(24, seed: 3)</c>'s floats for each case of
    /// <see cref="ModelFamilyTests.Models"/>, recorded with the code before temperature was added (commit d34af03).
    /// A change of training or initialisation changes them too; then re-record them only after checking that the
    /// change was meant to alter the models.
    /// </summary>
    private static readonly Dictionary<string, string> SamplesBeforeTemperature = new()
    {
        ["fvsbn"] = "9b1706fb259e7331",
        ["fvsbn-levels4"] = "5d49bb4f990f138f", // recorded when K-level FVSBN came (after temperature)
        ["nade"] = "da261b8c895815d4",
        ["nade-relu-random"] = "1172d7e92aff7dcb",
        ["nade-levels3"] = "bc590942090033b9", // recorded when K-level NADE came (after temperature)
        ["made"] = "8b3ee80a91f1b0f4",
        ["made-ensemble-random"] = "ce7ec6d62d066448",
        ["made-2layers-direct"] = "4394d24c1843f0ef",
        ["made-levels5-direct"] = "2a11389f01d6bfd5", // recorded when K-level MADE came (after temperature)
        ["pixelcnn"] = "daba6f07ab554187",
        ["pixelcnn-levels4"] = "810ac019eb03d1a2",
        ["pixelcnn-levels256-mixture3"] = "ebce15533c3630f8", // recorded when the mixture head came
        ["pixelrnn-levels16-mixture2"] = "eba7e65f96247ef4", // recorded when the mixture head came
        ["wavenet"] = "47fe5bc9556048d7",
        ["pixelrnn-lstm"] = "f029c47af52704a4",
        ["pixelrnn-gru-levels3"] = "2eaa22e305fd1074",
    };

    private static AutoregressiveDensityTransformer Fit(string model)
    {
        var ml = new MLContext(1);
        return ModelFamilyTests.Estimator(ml, model).Fit(TestData.Digits.Slice(0, 100).ToDataView(ml));
    }

    private static string Hash(float[][] images) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(
            images.SelectMany(i => i).ToArray().AsSpan())))[..16];

    /// <summary>
    /// The cases whose model is one conditional per pixel. A MADE mask ensemble (EnsembleSize &gt; 1) draws a
    /// connectivity first and tempers that connectivity's conditionals, so neither its naive sampler (which reads the
    /// mixture) nor the mixture's mode is the reference there; MadeTests covers its sampler.
    /// </summary>
    public static TheoryData<string> SingleConditionalModels() =>
        new(ModelFamilyTests.Models().Cast<object[]>().Select(row => (string)row[0]).Except(EnsembleCases));

    private static readonly string[] EnsembleCases = ["made-ensemble-random", "made-2layers-direct"];

    [Fact]
    public void EnsembleCases_AreExactlyTheMaskEnsembles()
    {
        foreach (string model in ModelFamilyTests.Models().Cast<object[]>().Select(row => (string)row[0]))
            Assert.Equal(EnsembleCases.Contains(model), Fit(model).Model is Made { EnsembleSize: > 1 });
    }

    [Fact]
    public void EveryCase_HasARecordedSampleHash() =>
        Assert.Equal(ModelFamilyTests.Models().Cast<object[]>().Select(row => (string)row[0]).Order(),
            SamplesBeforeTemperature.Keys.Order());

    [Theory]
    [MemberData(nameof(ModelFamilyTests.Models), MemberType = typeof(ModelFamilyTests))]
    public void Sample_AtTemperatureOne_IsBitIdenticalToTheSamplesBeforeTemperature(string model)
    {
        AutoregressiveDensityTransformer fitted = Fit(model);
        float[][] byDefault = fitted.Sample(24, seed: 3), explicitOne = fitted.Sample(24, seed: 3, temperature: 1f);
        Assert.Equal(SamplesBeforeTemperature[model], Hash(byDefault));
        Assert.Equal(Hash(byDefault), Hash(explicitOne));
        Assert.NotEqual(Hash(byDefault), Hash(fitted.Sample(24, seed: 3, temperature: 0.5f)));
    }

    [Theory]
    [MemberData(nameof(SingleConditionalModels))]
    public void TemperedSampler_EqualsTheNaiveSamplerAtTheSameTemperature(string model)
    {
        DensityModel density = Fit(model).Model;
        const int batch = 12, known = 30;
        int d = density.Dimension;
        float[] start = TestData.Digits.Slice(500, batch).Pixels.Select(v => v >= 0.5f ? 1f : 0f).ToArray();
        float[] fast = start.ToArray(), naive = start.ToArray();
        int[] seeds = Enumerable.Range(40, batch).ToArray();
        density.SampleRows(fast, batch, known, SamplingStream.ForRows(seeds, 0.6f));
        density.SampleRowsNaive(naive, batch, known, SamplingStream.ForRows(seeds, 0.6f));
        Assert.Equal(naive, fast);
        Assert.Contains(fast.Skip(known), v => v != 0f);
        Assert.Equal(d * batch, fast.Length);
    }

    [Theory]
    [MemberData(nameof(SingleConditionalModels))]
    public void Sample_AsTemperatureGoesToZero_TakesEachPixelsMostLikelyLevel(string model)
    {
        AutoregressiveDensityTransformer fitted = Fit(model);
        DensityModel density = fitted.Model;
        float[][] images = fitted.Sample(4, seed: 9, temperature: 1e-6f);
        Assert.Equal(Hash(images), Hash(fitted.Sample(4, seed: 10, temperature: 1e-6f))); // no randomness left
        int d = density.Dimension, k = density.Levels;
        var logits = new float[d * density.LogitsPerPixel];
        foreach (float[] image in images)
        {
            // The conditionals of an autoregressive model at pixel i depend only on the pixels before it, so one
            // forward pass over the finished image gives the ones the sampler drew from.
            density.Forward(image, 1, logits, density.CreateWorkspace(1));
            for (int i = 0; i < d; i++)
                Assert.Equal(ZeroTemperatureLevel(density, logits, i) / (float)(k - 1), image[i]);
        }
    }

    /// <summary>
    /// The level a draw takes as τ → 0: the sign of a Bernoulli logit, the largest softmax logit, or, for a mixture
    /// (weights π/τ, scales τ·e^s), the bin holding the mean of the component with the largest weight.
    /// </summary>
    private static int ZeroTemperatureLevel(DensityModel density, float[] logits, int pixel)
    {
        int d = density.Dimension, k = density.Levels;
        if (density.Distribution is MLNetAr.Nn.Distributions.DiscretizedLogisticMixture mixture)
        {
            int m = mixture.Components;
            int top = Enumerable.Range(0, m).MaxBy(j => logits[j * d + pixel]);
            float mean = logits[(m + top) * d + pixel];
            return Math.Clamp((int)MathF.Round((mean + 1) / 2 * (k - 1)), 0, k - 1);
        }
        return k == 2 ? (logits[pixel] > 0 ? 1 : 0) : Enumerable.Range(0, k).MaxBy(level => logits[level * d + pixel]);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void SampleAndComplete_RefuseAnInvalidTemperature_NamingIt(float temperature)
    {
        AutoregressiveDensityTransformer fitted = Fit("fvsbn");
        var sample = Assert.Throws<ArgumentOutOfRangeException>(() => fitted.Sample(2, seed: 1, temperature));
        Assert.Equal("temperature", sample.ParamName);
        Assert.Contains("positive and finite", sample.Message, StringComparison.Ordinal);
        var complete = Assert.Throws<ArgumentOutOfRangeException>(() =>
            fitted.Complete(new float[fitted.Dimension], 10, seed: 1, temperature));
        Assert.Equal("temperature", complete.ParamName);
    }

    [Fact]
    public void Complete_KeepsTheKnownPixels_AtAnyTemperature()
    {
        AutoregressiveDensityTransformer fitted = Fit("nade");
        float[] digit = TestData.Digits.Slice(700, 1).Pixels.Select(v => v >= 0.5f ? 1f : 0f).ToArray();
        int[] order = fitted.Model.Order;
        foreach (float temperature in new[] { 0.3f, 1f, 2f })
        {
            float[] completed = fitted.Complete(digit, 392, seed: 4, temperature);
            for (int t = 0; t < 392; t++) Assert.Equal(digit[order[t]], completed[order[t]]);
        }
    }
}
