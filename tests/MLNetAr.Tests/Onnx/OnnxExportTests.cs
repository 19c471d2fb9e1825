using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLNetAr.Data;
using MLNetAr.Tests.Catalog;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Onnx;

/// <summary>
/// <c>mlContext.Model.ConvertToOnnx</c> exports every MLNetAr transformer as a graph that computes its columns: ONNX
/// Runtime (directly and through ML.NET's ApplyOnnxModel) reproduces them on real, random, all-0 and all-1 images.
/// </summary>
public class OnnxExportTests
{
    public static TheoryData<string> Models() => ModelFamilyTests.Models();

    /// <summary>
    /// Real digits, uniform random grey images, an all-0 and an all-1 image: 16 rows, scored as one batch.
    /// </summary>
    internal static ImageSet Images()
    {
        var digits = TestData.Digits.Slice(2000, 12);
        var random = new Random(5);
        var pixels = digits.Pixels
            .Concat(Enumerable.Range(0, 2 * 784).Select(_ => random.NextSingle()))
            .Concat(new float[784])
            .Concat(Enumerable.Repeat(1f, 784)).ToArray();
        return new ImageSet(pixels, 28, 28, new float[16]);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ConvertToOnnx_DensityModel_OnnxRuntimeMatchesTransform(string model)
    {
        var ml = new MLContext(1);
        var fitted = ModelFamilyTests.Estimator(ml, model).Fit(TestData.Digits.Slice(0, 200).ToDataView(ml));
        OnnxAssert.MatchesOnnxRuntime(ml, fitted, Images().ToDataView(ml), ["LogLikelihood"], ["HiddenFeatures"]);
    }

    [Fact]
    public void ConvertToOnnx_AfterMlNetTransformsAndLoadedFromZip_ExportsTheWholePipeline()
    {
        var ml = new MLContext(1);
        var train = TestData.Digits.Slice(0, 200).ToDataView(ml);
        // An ML.NET step before MLNetAr's: the graph must compute it too (the converter walks back through both).
        var pipeline = ml.Transforms.CopyColumns("Raw", "Pixels")
            .Append(ml.Transforms.Conversion.ConvertType("Pixels", "Raw"))
            .Append(ml.Transforms.MadeDensity(hiddenSizes: [20], maximumNumberOfEpochs: 1, seed: 2));
        var fitted = pipeline.Fit(train);
        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-onnx-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(fitted, train.Schema, path);
            var fresh = new MLContext(3);
            var loaded = fresh.Model.Load(path, out _);
            OnnxAssert.MatchesOnnxRuntime(fresh, loaded, Images().ToDataView(fresh), ["LogLikelihood"],
                ["HiddenFeatures"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ConvertToOnnx_InvalidPixels_GiveNaNScoresNotPlausibleOnes()
    {
        var ml = new MLContext(1);
        var fitted = ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1,
            seed: 2).Fit(TestData.Digits.Slice(0, 100).ToDataView(ml));
        var images = TestData.Digits.Slice(2000, 4);
        images.Pixels[3] = 1.5f;           // row 0: out of range
        images.Pixels[784 + 10] = float.NaN; // row 1: NaN
        images.Pixels[2 * 784 + 7] = -0.2f;  // row 2: negative
        var data = images.ToDataView(ml);
        string path = OnnxAssert.Export(ml, fitted, data);
        try
        {
            using var session = new InferenceSession(path);
            using var results = session.Run(OnnxAssert.Inputs(session, data));
            float[] ll = results.Single(r => r.Name == "LogLikelihood.output").AsTensor<float>().ToArray();
            Assert.True(float.IsNaN(ll[0]) && float.IsNaN(ll[1]) && float.IsNaN(ll[2]), string.Join(", ", ll));
            Assert.True(float.IsFinite(ll[3]) && ll[3] < 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ConvertToOnnx_OpsetBelowEleven_FailsNamingTheOpset()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 50).ToDataView(ml);
        var fitted = ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1, seed: 2).Fit(data);
        var e = Assert.ThrowsAny<Exception>(() => ml.Model.ConvertToOnnx(fitted, data, 10, Stream.Null));
        Assert.Contains("11", e.GetBaseException().Message);
    }

    public static TheoryData<string> Detectors() =>
        ["fvsbn-raw", "nade-independent", "fvsbn-ratio-local-pixelcnn", "pixelcnn-levels4-independent",
        "made-ensemble-ratio-wavenet", "pixelcnn-levels256-mixture-perturbed-ratio"];

    private static AutoregressiveAnomalyDetector.Options DetectorOptions(string detector) => detector switch
    {
        "fvsbn-raw" => new()
        {
            DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 1, Seed = 1 },
            PixelScoresColumnName = "PixelScores"
        },
        "nade-independent" => new()
        {
            DensityModel = new NadeDensityEstimator.Options { HiddenSize = 12, MaximumNumberOfEpochs = 1, Seed = 1 },
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            PixelScoresColumnName = "PixelScores",
        },
        "fvsbn-ratio-local-pixelcnn" => new()
        {
            DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 1, Seed = 1 },
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            BackgroundModel = new PixelCnnDensityEstimator.Options
            {
                Height = 28, Width = 28, Layers = 1, Channels = 4,
                HeadChannels = 4, MaximumNumberOfEpochs = 1, Seed = 1
            },
            PixelScoresColumnName = "PixelScores",
        },
        "pixelcnn-levels4-independent" => new()
        {
            DensityModel = new PixelCnnDensityEstimator.Options
            {
                Height = 28, Width = 28, Levels = 4, Layers = 2,
                Channels = 4, HeadChannels = 4, MaximumNumberOfEpochs = 1, Seed = 1
            },
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            PixelScoresColumnName = "PixelScores",
        },
        "made-ensemble-ratio-wavenet" => new()
        {
            DensityModel = new MadeDensityEstimator.Options
            {
                HiddenSizes = [16], NumberOfMasks = 2, EnsembleSize = 2,
                MaximumNumberOfEpochs = 1, Seed = 1
            },
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            BackgroundModel = new WaveNetDensityEstimator.Options
            {
                Dilations = [1, 2], Channels = 4,
                MaximumNumberOfEpochs = 1, Seed = 1
            },
        },
        "pixelcnn-levels256-mixture-perturbed-ratio" => new()
        {
            DensityModel = new PixelCnnDensityEstimator.Options
            {
                Height = 28, Width = 28, Levels = 256, MixtureComponents = 3, Layers = 2,
                Channels = 4, HeadChannels = 6, MaximumNumberOfEpochs = 1, Seed = 1
            },
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            BackgroundPerturbation = 0.2f,
            PixelScoresColumnName = "PixelScores",
        },
        _ => throw new ArgumentException(detector),
    };

    [Theory]
    [MemberData(nameof(Detectors))]
    public void ConvertToOnnx_AnomalyDetector_OnnxRuntimeMatchesScoreLabelAndPixelScores(string detector)
    {
        var ml = new MLContext(1);
        var options = DetectorOptions(detector);
        var train = TestData.Digits.Slice(0, 300).ToDataView(ml);
        var fitted = ml.AnomalyDetection.Trainers.AutoregressiveDensity(options).Fit(train);
        var images = Images();
        // The threshold between two of these rows' scores, so PredictedLabel takes both values, and no row's score sits
        // on it (where the last-bit differences between ONNX Runtime and .NET would decide the label).
        float[] sorted = fitted.Transform(images.ToDataView(ml)).GetColumn<float>("Score").OrderBy(v => v).ToArray();
        options.Threshold = (sorted[8] + sorted[9]) / 2;
        fitted = ml.AnomalyDetection.Trainers.AutoregressiveDensity(options).Fit(train);
        string[] vectors = options.PixelScoresColumnName == null ? [] : ["PixelScores"];
        OnnxAssert.MatchesOnnxRuntime(ml, fitted, images.ToDataView(ml), ["Score"], vectors, ["PredictedLabel"]);
        Assert.Contains(true, fitted.Transform(images.ToDataView(ml)).GetColumn<bool>("PredictedLabel"));
        Assert.Contains(false, fitted.Transform(images.ToDataView(ml)).GetColumn<bool>("PredictedLabel"));
    }

    [Fact]
    public void ConvertToOnnx_InputComplexityDetector_RefusesNamingTheOption()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 100).ToDataView(ml);
        var fitted = ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 1, Seed = 1 },
            ScoreCorrection = AnomalyScoreCorrection.InputComplexity,
        }).Fit(data);
        var e = Assert.Throws<NotSupportedException>(() => ml.Model.ConvertToOnnx(fitted, data, Stream.Null));
        Assert.Contains("`ScoreCorrection` = InputComplexity cannot be converted to ONNX", e.Message);
    }

    [Fact]
    public void ConvertToOnnx_PixelCnnWith256Levels_MatchesOnRealGreyImages()
    {
        var ml = new MLContext(1);
        var fitted = ml.Transforms.PixelCnnDensity(new PixelCnnDensityEstimator.Options
        {
            Height = 28, Width = 28,
            Levels = 256, Layers = 2, Channels = 4, HeadChannels = 8, MaximumNumberOfEpochs = 1, Seed = 3
        })
            .Fit(TestData.Digits.Slice(0, 100).ToDataView(ml));
        OnnxAssert.MatchesOnnxRuntime(ml, fitted, Images().ToDataView(ml), ["LogLikelihood"], ["HiddenFeatures"]);
    }

    [Fact]
    public void ConvertToOnnx_InputFromAStepMlNetCannotExport_FailsSayingWhatToExport()
    {
        var ml = new MLContext(1);
        var images = TestData.Digits.Slice(0, 60);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, images.Count).Select(i =>
            new ModelFamilyTests.Input { Pixels = images.GetImage(i) }));
        // CustomMapping has no ONNX form: the converter stops there, and MLNetAr's input column is not in the graph.
        var earlier = ml.Transforms.CustomMapping((ModelFamilyTests.Input input, ModelFamilyTests.Input output) =>
            output.Pixels = input.Pixels, contractName: null)
            .Fit(data);
        var density = ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1, seed: 2).Fit(earlier.Transform(data));
        var pipeline = new TransformerChain<ITransformer>(earlier, density);
        var e = Assert.Throws<NotSupportedException>(() => ml.Model.ConvertToOnnx(pipeline, data, Stream.Null));
        Assert.Contains("Column 'Pixels' is computed by a step that ML.NET cannot export to ONNX", e.Message);
        // The advice works: the MLNetAr step alone, from the (cached) data the earlier steps produce.
        // (ApplyOnnxModel cannot feed the graph input of the hidden original column, "Pixels0".)
        OnnxAssert.MatchesOnnxRuntime(ml, density, ml.Data.Cache(earlier.Transform(data)), ["LogLikelihood"],
            ["HiddenFeatures"], throughApplyOnnxModel: false);
    }
}
