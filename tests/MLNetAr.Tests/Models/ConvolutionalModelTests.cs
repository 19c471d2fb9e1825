using Microsoft.ML;
using MLNetAr.Models;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Models;

/// <summary>
/// PixelCNN and WaveNet, Bernoulli and categorical: the checks every model passes, plus their receptive fields.
/// </summary>
public class ConvolutionalModelTests
{
    /// <summary>Tiny models: name → (model, image height, width).</summary>
    internal static ConvolutionalDensityModel Create(string name, int seed = 1)
    {
        ConvolutionalDensityModel model = name switch
        {
            "pixelcnn" => new PixelCnn(3, 4, levels: 2, layers: 3, channels: 3, kernelSize: 3, headChannels: 4),
            "pixelcnn-k5" => new PixelCnn(3, 4, levels: 2, layers: 2, channels: 2, kernelSize: 5, headChannels: 3),
            "pixelcnn-levels4" => new PixelCnn(2, 2, levels: 4, layers: 2, channels: 3, kernelSize: 3, headChannels: 4),
            "wavenet" => new WaveNet(12, levels: 2, dilations: [1, 2, 4], channels: 3, skipChannels: 4,
                headChannels: 3),
            "wavenet-levels3" =>
                new WaveNet(5, levels: 3, dilations: [1, 2], channels: 3, skipChannels: 3, headChannels: 4),
            _ => throw new ArgumentException(name),
        };
        var random = new Random(seed);
        model.Initialize(random, TestData.RandomBinary(10, model.Dimension, seed));
        TestData.Perturb(model, seed, scale: 0.8f);
        return model;
    }

    public static TheoryData<string> All() =>
        ["pixelcnn", "pixelcnn-k5", "pixelcnn-levels4", "wavenet", "wavenet-levels3"];

    [Theory]
    [MemberData(nameof(All))]
    public void LogLikelihood_AllInputs_SumsToOne(string name) => ModelAssert.IsNormalized(Create(name));

    [Theory]
    [MemberData(nameof(All))]
    public void Forward_ChangingInput_NeverChangesEarlierLogits(string name) =>
        ModelAssert.IsAutoregressive(Create(name), seed: 3);

    [Fact]
    public void PixelCnn_Kernel5_OnAnImageWiderAndTallerThanItsReach_IsAutoregressive()
    {
        // The tiny 3×4 model cannot show a leak that needs more rows or columns than its kernel reaches.
        var model = new PixelCnn(7, 8, levels: 2, layers: 3, channels: 3, kernelSize: 5, headChannels: 4);
        model.Initialize(new Random(3), TestData.RandomBinary(5, 56, 3));
        TestData.Perturb(model, 3, scale: 0.5f);
        ModelAssert.IsAutoregressive(model, seed: 5);
    }

    [Fact]
    public void PixelCnn_HasNoBlindSpot_EveryEarlierPixelInfluencesEveryLaterOne()
    {
        // 4×5 with 4 layers of 3×3: the stacks reach 5 rows up, 4 columns either side and 4 pixels left, so every
        // earlier pixel is in range; a blind-spot model (stacked type-B masks) would miss those up and to the right.
        var model = new PixelCnn(4, 5, levels: 2, layers: 4, channels: 4, kernelSize: 3, headChannels: 6);
        model.Initialize(new Random(2), TestData.RandomBinary(5, 20, 2));
        TestData.Perturb(model, 2, scale: 0.3f);
        var influenced = new bool[20, 20];
        foreach (var (t, a, b) in ModelAssert.InfluenceTrials(model, seed: 4))
            for (int p = 0; p < 20; p++) influenced[t, p] |= !ModelAssert.SameLogits(model, a, b, p);
        for (int q = 0; q < 20; q++)
            for (int p = 0; p < 20; p++)
                Assert.True(influenced[q, p] == q < p,
                    $"pixel {q} {(q < p ? "does not influence" : "influences")} pixel {p}");
    }

    [Fact]
    public void DefaultDepthAndDilations_LetTheLastPixelSeeTheFirst()
    {
        var ml = new MLContext(1);
        var images = new MLNetAr.Data.ImageSet(TestData.RandomBinary(30, 100, 1), 10, 10).ToDataView(ml);
        var cnn = (PixelCnn)ml.Transforms.PixelCnnDensity(new PixelCnnDensityEstimator.Options
        {
            Channels = 2, HeadChannels = 2, MaximumNumberOfEpochs = 1, Seed = 1,
        }).Fit(images).Model;
        Assert.Equal((5, 5), (cnn.Layers, cnn.KernelSize)); // 2·5 ≥ 9 columns across (and 2·5 + 1 ≥ 9 rows up)
        Assert.True(FirstPixelReachesLast(cnn));
        var oneLayerLess = new PixelCnn(10, 10, levels: 2, layers: 4, channels: 2, kernelSize: 5, headChannels: 2);
        oneLayerLess.Initialize(new Random(1), TestData.RandomBinary(5, 100, 1));
        Assert.False(FirstPixelReachesLast(oneLayerLess));

        var wave = (WaveNet)ml.Transforms.WaveNetDensity(channels: 2, maximumNumberOfEpochs: 1,
            seed: 1).Fit(images).Model;
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], wave.Dilations); // 2 + 127 ≥ 100; without 64 only 65
        Assert.True(FirstPixelReachesLast(wave));
    }

    private static bool FirstPixelReachesLast(DensityModel model)
    {
        int d = model.Dimension;
        var workspace = model.CreateWorkspace(1);
        for (int trial = 0; trial < 5; trial++)
        {
            float[] x = TestData.RandomBinary(1, d, 10 + trial), changed = x.ToArray();
            changed[0] = 1 - changed[0];
            float[] a = new float[d * model.LogitsPerPixel], b = new float[d * model.LogitsPerPixel];
            model.Forward(x, 1, a, workspace);
            model.Forward(changed, 1, b, workspace);
            if (!ModelAssert.SameLogits(model, a, b, d - 1)) return true;
        }
        return false;
    }

    [Fact]
    public void WaveNet_ReceptiveField_IsExactlyTwoPlusSumOfDilations()
    {
        var model = (WaveNet)Create("wavenet");
        Assert.Equal(9, model.ReceptiveField);
        var influenced = new bool[12, 12];
        foreach (var (t, a, b) in ModelAssert.InfluenceTrials(model, seed: 5))
            for (int p = 0; p < 12; p++) influenced[t, p] |= !ModelAssert.SameLogits(model, a, b, p);
        for (int q = 0; q < 12; q++)
            for (int p = 0; p < 12; p++)
                Assert.True(influenced[q, p] == (q < p && p - q <= 9), $"position {q} vs {p}");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void TrainingStep_MatchesFiniteDifferences(string name) =>
        ModelAssert.GradientsMatchFiniteDifferences(Create(name, seed: 4));

    [Theory]
    [MemberData(nameof(All))]
    public void Samples_MatchDensity(string name) =>
        ModelAssert.SamplesMatchDensity(Create(name), samples: 20000, seed: 7);

    [Theory]
    [InlineData("pixelcnn", 0)]
    [InlineData("pixelcnn", 5)]
    [InlineData("pixelcnn-levels4", 1)]
    [InlineData("wavenet", 0)]
    [InlineData("wavenet", 7)]
    [InlineData("wavenet-levels3", 2)]
    public void CachedSampling_EqualsNaiveSampling(string name, int knownSteps) =>
        ModelAssert.SamplesLikeNaiveSampler(Create(name, seed: 8), knownSteps);

    [Theory]
    [MemberData(nameof(All))]
    public void Sampling_ReusedWorkspace_EqualsFresh(string name) =>
        ModelAssert.SamplingWithReusedWorkspaceEqualsFresh(Create(name, seed: 9));

    [Fact]
    public void HiddenFeatures_PoolTheLastFeatureMapsOverAGrid()
    {
        var model = Create("pixelcnn");
        Assert.Equal(3 * 3 * 4, model.HiddenFeatureCount); // 3 channels × (3 × 4 cells on a 3×4 image)
        var wave = Create("wavenet");
        Assert.Equal(4 * 4, wave.HiddenFeatureCount); // 4 skip channels × 4 segments
        float[] x = TestData.RandomBinary(2, 12, 9);
        var ll = new float[2];
        var features = new float[2 * model.HiddenFeatureCount];
        model.Score(x, 2, ll, features, model.CreateWorkspace(2));
        Assert.All(features, v => Assert.True(float.IsFinite(v)));
        Assert.NotEqual(features[..model.HiddenFeatureCount], features[model.HiddenFeatureCount..]);

        // Pooled per cell (layout feature·cells + cell): flipping pixel 5 leaves the cells of positions up to 5 as they
        // were (a position's features see only earlier pixels) and changes a later one. A global pool would change all.
        AssertPooledPerCell(model, cells: 12, lastPositionOfCell: c => c);
        AssertPooledPerCell(wave, cells: 4, lastPositionOfCell: c => 3 * c + 2); // 4 segments of 3 positions
    }

    private static void AssertPooledPerCell(ConvolutionalDensityModel model, int cells,
        Func<int, int> lastPositionOfCell)
    {
        const int flipped = 5;
        float[] x = TestData.RandomBinary(1, model.Dimension, 4), y = x.ToArray();
        y[flipped] = 1f - y[flipped];
        float[] Features(float[] image)
        {
            var features = new float[model.HiddenFeatureCount];
            model.Score(image, 1, new float[1], features, model.CreateWorkspace(1));
            return features;
        }
        float[] before = Features(x), after = Features(y);
        int channels = model.HiddenFeatureCount / cells;
        bool laterChanged = false;
        for (int f = 0; f < channels; f++)
            for (int cell = 0; cell < cells; cell++)
            {
                float a = before[f * cells + cell], b = after[f * cells + cell];
                // every position of the cell precedes the flip or is it
                if (lastPositionOfCell(cell) <= flipped)
                    Assert.Equal(a, b);
                else laterChanged |= a != b;
            }
        Assert.True(laterChanged, "no pooled feature after the flipped pixel changed");
    }
}
