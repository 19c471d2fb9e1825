using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>
/// The shared ML.NET layer works unchanged for every model: fit, save/load, PredictionEngine, sampling.
/// </summary>
public class ModelFamilyTests
{
    public static TheoryData<string> Models() =>
        ["fvsbn", "fvsbn-levels4", "nade", "nade-relu-random", "nade-levels3", "made", "made-ensemble-random",
        "made-2layers-direct", "made-levels5-direct", "pixelcnn", "pixelcnn-levels4", "pixelcnn-levels256-mixture3",
        "wavenet", "pixelrnn-lstm", "pixelrnn-gru-levels3", "pixelrnn-levels16-mixture2"];

    internal static IEstimator<AutoregressiveDensityTransformer> Estimator(MLContext ml, string model) => model switch
    {
        "fvsbn" => ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1, seed: 2),
        "fvsbn-levels4" => ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            Levels = 4, MaximumNumberOfEpochs = 1, Seed = 2
        }),
        "nade" => ml.Transforms.NadeDensity(hiddenSize: 20, maximumNumberOfEpochs: 1, seed: 2),
        "nade-relu-random" =>
            ml.Transforms.NadeDensity(new NadeDensityEstimator.Options
            {
                HiddenSize = 16,
                Activation = HiddenActivation.Relu, InputOrder = InputOrder.Random, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        "nade-levels3" => ml.Transforms.NadeDensity(new NadeDensityEstimator.Options
        {
            HiddenSize = 12, Levels = 3, MaximumNumberOfEpochs = 1, Seed = 2
        }),
        "made" => ml.Transforms.MadeDensity(hiddenSizes: [30], maximumNumberOfEpochs: 1, seed: 2),
        "made-ensemble-random" =>
            ml.Transforms.MadeDensity(new MadeDensityEstimator.Options
            {
                HiddenSizes = [24],
                InputOrder = InputOrder.Random, NumberOfMasks = 3, EnsembleSize = 3, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        "made-2layers-direct" =>
            ml.Transforms.MadeDensity(new MadeDensityEstimator.Options
            {
                HiddenSizes = [20, 16],
                DirectConnections = true, NumberOfMasks = 2, EnsembleSize = 2, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        "made-levels5-direct" =>
            ml.Transforms.MadeDensity(new MadeDensityEstimator.Options
            {
                HiddenSizes = [24],
                DirectConnections = true, Levels = 5, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        // Height and Width given so the PredictionEngine input (no image dimensions) fits too.
        "pixelcnn" => ml.Transforms.PixelCnnDensity(new PixelCnnDensityEstimator.Options
        {
            Height = 28, Width = 28,
            Layers = 2, Channels = 4, HeadChannels = 4, MaximumNumberOfEpochs = 1, Seed = 2
        }),
        "pixelcnn-levels4" =>
            ml.Transforms.PixelCnnDensity(new PixelCnnDensityEstimator.Options
            {
                Height = 28, Width = 28, Levels = 4,
                Layers = 2, Channels = 3, KernelSize = 5, HeadChannels = 4, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        "pixelcnn-levels256-mixture3" =>
            ml.Transforms.PixelCnnDensity(new PixelCnnDensityEstimator.Options
            {
                Height = 28, Width = 28, Levels = 256, MixtureComponents = 3,
                Layers = 2, Channels = 4, HeadChannels = 6, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        "wavenet" => ml.Transforms.WaveNetDensity(dilations: [1, 2, 4, 28], channels: 4, maximumNumberOfEpochs: 1,
            seed: 2),
        "pixelrnn-lstm" => ml.Transforms.PixelRnnDensity(new PixelRnnDensityEstimator.Options
        {
            Width = 28,
            HiddenSize = 6, MaximumNumberOfEpochs = 1, Seed = 2
        }),
        "pixelrnn-gru-levels3" =>
            ml.Transforms.PixelRnnDensity(new PixelRnnDensityEstimator.Options
            {
                Cell = RecurrentCell.Gru, Width = 28,
                HiddenSize = 5, Layers = 2, TruncationLength = 100, Levels = 3, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        "pixelrnn-levels16-mixture2" =>
            ml.Transforms.PixelRnnDensity(new PixelRnnDensityEstimator.Options
            {
                Width = 28,
                HiddenSize = 5, Levels = 16, MixtureComponents = 2, MaximumNumberOfEpochs = 1, Seed = 2
            }),
        _ => throw new ArgumentException(model),
    };

    [Fact]
    public void EveryModelFamily_HasCasesHere_AndAModelKindItsFilesLoadAs()
    {
        // A new model family is listed (its estimator's Family, its model's Descriptor): it must also get cases in
        // this file's list, which every shared ML.NET test runs.
        string[] cases = Models().Cast<object[]>().Select(row => (string)row[0]).ToArray();
        Assert.NotEmpty(DensityModelFamily.All);
        foreach (DensityModelFamily family in DensityModelFamily.All)
        {
            Assert.Contains(cases, c => c == family.Name || c.StartsWith(family.Name + "-", StringComparison.Ordinal));
            Assert.True(MLNetAr.Models.ModelKind.All.ContainsKey(family.Kind),
                $"{family.Name}: no model kind '{family.Kind}'");
            Assert.Equal(family.Name,
                family.CreateOptions().GetType().DeclaringType!.Name.Replace("DensityEstimator", "",
                StringComparison.Ordinal).ToLowerInvariant());
        }
        Assert.Equal(MLNetAr.Models.ModelKind.All.Keys.Order(), DensityModelFamily.All.Select(f => f.Kind).Order());
    }

    [Fact]
    public void TheExplicitFamilyLists_HoldEveryConcreteEstimatorAndModel()
    {
        // The lists are written out so that the compiler sees them; this finds a class left out of them.
        Type[] types = typeof(DensityModelFamily).Assembly.GetTypes();
        string[] estimators = types.Where(t => !t.IsAbstract && t.BaseType is { IsGenericType: true } b
                && b.GetGenericTypeDefinition() == typeof(AutoregressiveDensityEstimator<>))
            .Select(t => t.Name).Order().ToArray();
        Assert.Equal(estimators, DensityModelFamily.All.Select(f => f.CreateOptions().GetType().DeclaringType!.Name)
            .Order());
        string[] models = types.Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(MLNetAr.Models.DensityModel)))
            .Select(t => t.Name).Order().ToArray();
        Assert.Equal(models.Length, MLNetAr.Models.ModelKind.All.Count);
        Assert.All(types.Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(MLNetAr.Models.DensityModel))), t =>
            Assert.Contains(t.GetField("Descriptor")!.GetValue(null), MLNetAr.Models.ModelKind.All.Values));
    }

    [Fact]
    public void EveryModelFamily_HasItsModelFile_EstimatorFile_CatalogOverloadsAndExample()
    {
        // What adding a family takes (README, "Layout"): a test names the part that is missing.
        string root = MLNetAr.Tests.Repository.LineLengthTests.RepositoryRoot();
        var modelTypes = typeof(DensityModelFamily).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(MLNetAr.Models.DensityModel))).ToArray();
        var catalog = typeof(AutoregressiveCatalog).GetMethods(System.Reflection.BindingFlags.Public
            | System.Reflection.BindingFlags.Static);
        foreach (DensityModelFamily family in DensityModelFamily.All)
        {
            Type options = family.CreateOptions().GetType();
            string estimator = options.DeclaringType!.Name; // e.g. FvsbnDensityEstimator
            string api = estimator.Replace("Estimator", "", StringComparison.Ordinal); // e.g. FvsbnDensity
            Assert.True(File.Exists(Path.Combine(root, "src", "MLNetAr", estimator + ".cs")), $"{estimator}.cs");

            Type model = modelTypes.Single(t =>
                ((MLNetAr.Models.ModelKind)t.GetField("Descriptor")!.GetValue(null)!).Name == family.Kind);
            Assert.True(File.Exists(Path.Combine(root, "src", "MLNetAr", "Models", model.Name + ".cs")),
                $"{family.Name}: Models/{model.Name}.cs");

            var overloads = catalog.Where(m => m.Name == api).ToArray();
            Assert.True(overloads.Any(m => m.GetParameters().Any(p => p.ParameterType == options)),
                $"{family.Name}: no AutoregressiveCatalog.{api}(…, {estimator}.Options)");
            Assert.True(overloads.Any(m => m.GetParameters().All(p => p.ParameterType != options)),
                $"{family.Name}: no AutoregressiveCatalog.{api} with flat parameters");

            Assert.True(MLNetAr.Examples.Program.All.ContainsKey(api), $"{family.Name}: no example '{api}'");
            Assert.True(File.Exists(Path.Combine(root, "samples", "MLNetAr.Examples", api + ".cs")),
                $"samples/MLNetAr.Examples/{api}.cs");
        }
    }

    [Fact]
    public void EveryModelFamily_FitsAndLoadsAsItsKind()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 100).ToDataView(ml);
        foreach (string model in Models().Cast<object[]>().Select(row => (string)row[0]))
        {
            DensityModelFamily family = DensityModelFamily.All.Single(f =>
                model == f.Name || model.StartsWith(f.Name + "-", StringComparison.Ordinal));
            Assert.Equal(family.Kind, Estimator(ml, model).Fit(data).ModelKind);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SaveLoad_FreshContext_RoundTripsScoresAndFeaturesBitExactly(string model)
    {
        var ml = new MLContext(1);
        var train = TestData.Digits.Slice(0, 200).ToDataView(ml);
        var data = TestData.Digits.Slice(2000, 30).ToDataView(ml);
        // Chained after one of ML.NET's own transforms (NormalizeMinMax is covered in FvsbnCatalogTests; fitted on 200
        // rows it would scale unseen pixels above 1, which the model rejects).
        var pipeline = ml.Transforms.CopyColumns("Raw", "Pixels").Append(Estimator(ml, model));
        var fitted = pipeline.Fit(train);
        var before = fitted.Transform(data);
        float[] ll = before.GetColumn<float>("LogLikelihood").ToArray();
        float[][] features = before.GetColumn<float[]>("HiddenFeatures").ToArray();
        Assert.All(ll, v => Assert.True(float.IsFinite(v) && v < 0));

        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-{model}-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(fitted, train.Schema, path);
            var fresh = new MLContext(7);
            var loaded = fresh.Model.Load(path, out _);
            var after = loaded.Transform(TestData.Digits.Slice(2000, 30).ToDataView(fresh));
            Assert.Equal(ll, after.GetColumn<float>("LogLikelihood").ToArray());
            Assert.Equal(features, after.GetColumn<float[]>("HiddenFeatures").ToArray());

            var density = (AutoregressiveDensityTransformer)((TransformerChain<ITransformer>)loaded).LastTransformer;
            var original = fitted.LastTransformer;
            Assert.Equal(original.ModelKind, density.ModelKind);
            Assert.Equal(original.Sample(3, seed: 4), density.Sample(3, seed: 4));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public sealed class Input
    {
        [VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    public sealed class Output
    {
        public float LogLikelihood { get; set; }
        public float[] HiddenFeatures { get; set; } = [];
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PredictionEngine_MatchesTransformAndModelKindSamples(string model)
    {
        var ml = new MLContext(1);
        var fitted = Estimator(ml, model).Fit(TestData.Digits.Slice(0, 200).ToDataView(ml));
        var images = TestData.Digits.Slice(3000, 5);
        float[] ll = fitted.Transform(images.ToDataView(ml)).GetColumn<float>("LogLikelihood").ToArray();
        using var engine = ml.Model.CreatePredictionEngine<Input, Output>(fitted);
        for (int i = 0; i < images.Count; i++)
        {
            var output = engine.Predict(new Input { Pixels = images.GetImage(i) });
            // Transform scores rows in batches, the engine one at a time: a GEMM over 5 rows and over 1 row sum in
            // different orders, so the two agree to float rounding, not bit for bit.
            Assert.Equal(ll[i], output.LogLikelihood, 1e-5 * Math.Abs(ll[i]));
            Assert.Equal(fitted.HiddenFeatureCount, output.HiddenFeatures.Length);
        }
        float[][] samples = fitted.Sample(4, seed: 9);
        int levels = fitted.PixelLevels;
        Assert.All(samples, s =>
            Assert.All(s, v => Assert.True(v >= 0f && v <= 1f && v * (levels - 1) == MathF.Round(v * (levels - 1)),
            $"{v} is not one of {levels} levels")));
        Assert.Equal(samples, fitted.Sample(4, seed: 9));
    }

    public static TheoryData<string, Action<MadeDensityEstimator.Options>> BadMadeOptions() => new()
    {
        { "HiddenSizes", o => o.HiddenSizes = [] },
        { "HiddenSizes", o => o.HiddenSizes = [10, 0] },
        { "NumberOfMasks", o => o.NumberOfMasks = 0 },
        { "EnsembleSize", o => o.EnsembleSize = 0 },
        { "EnsembleSize", o => { o.NumberOfMasks = 2; o.EnsembleSize = 3; } },
        { "InputOrder", o => o.InputOrder = (InputOrder)5 },
    };

    [Theory]
    [MemberData(nameof(BadMadeOptions))]
    public void MadeDensity_InvalidOption_ThrowsNamingIt(string option, Action<MadeDensityEstimator.Options> spoil)
    {
        var options = new MadeDensityEstimator.Options();
        spoil(options);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.MadeDensity(options));
        Assert.Contains($"`{option}`", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void NadeDensity_InvalidHiddenSize_ThrowsNamingIt(int hidden)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new MLContext().Transforms.NadeDensity(hiddenSize: hidden));
        Assert.Contains("`HiddenSize` must be positive", e.Message);
        var options = new NadeDensityEstimator.Options { Activation = (HiddenActivation)9 };
        Assert.Contains("`Activation`",
            Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.NadeDensity(options)).Message);
    }

    [Fact]
    public void MadeDensity_SmallHiddenLayer_WarnsInLog()
    {
        var ml = new MLContext(1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        ml.Transforms.MadeDensity(hiddenSizes: [50], maximumNumberOfEpochs: 1,
            seed: 1).Fit(TestData.Digits.Slice(0, 50).ToDataView(ml));
        Assert.Contains(messages, m => m.Contains("below D - 1 = 783", StringComparison.Ordinal));
    }

    [Fact]
    public void PixelCnn_TakesTheImageShapeFromTheColumnOrTheOptions()
    {
        var ml = new MLContext(1);
        var digits = TestData.Digits.Slice(0, 20).ToDataView(ml); // Pixels: Vector<Single, 28, 28>
        var options = new PixelCnnDensityEstimator.Options
        {
            Layers = 1, Channels = 2, HeadChannels = 2,
            MaximumNumberOfEpochs = 1, Seed = 1
        };
        Assert.Equal(20, ml.Transforms.PixelCnnDensity(options).Fit(digits).Transform(digits)
            .GetColumn<float>("LogLikelihood").Count());

        // A flat column carries no shape: 784 values are read as a 28×28 image (a non-square length is an error, see
        // ImageShapeTests); given options must match the column's size.
        var flat = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 20).Select(i =>
            new Input { Pixels = TestData.Digits.GetImage(i) }));
        Assert.Equal(20, ml.Transforms.PixelCnnDensity(options).Fit(flat).Transform(flat)
            .GetColumn<float>("LogLikelihood").Count());

        options.Height = 20;
        options.Width = 30;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.PixelCnnDensity(options).Fit(flat));
        Assert.Contains("(20×30 = 600) must equal the size of column 'Pixels' (784)", e.Message);
    }

    public static TheoryData<string, Action<PixelCnnDensityEstimator.Options>> BadPixelCnnOptions() => new()
    {
        { "Levels", o => o.Levels = 1 },
        { "Levels", o => o.Levels = 257 },
        { "Layers", o => o.Layers = 0 },
        { "Channels", o => o.Channels = 0 },
        { "KernelSize", o => o.KernelSize = 4 },
        { "KernelSize", o => o.KernelSize = 1 },
        { "HeadChannels", o => o.HeadChannels = -1 },
        { "Height", o => o.Height = 0 },
        { "Width", o => o.Height = 28 },
    };

    [Theory]
    [MemberData(nameof(BadPixelCnnOptions))]
    public void PixelCnnDensity_InvalidOption_ThrowsNamingIt(string option,
        Action<PixelCnnDensityEstimator.Options> spoil)
    {
        var options = new PixelCnnDensityEstimator.Options();
        spoil(options);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.PixelCnnDensity(options));
        Assert.Contains($"`{option}`", e.Message);
    }

    [Theory]
    [InlineData("Dilations")]
    [InlineData("Levels")]
    [InlineData("Channels")]
    [InlineData("SkipChannels")]
    public void WaveNetDensity_InvalidOption_ThrowsNamingIt(string option)
    {
        var options = new WaveNetDensityEstimator.Options();
        switch (option)
        {
            case "Dilations": options.Dilations = [1, 0]; break;
            case "Levels": options.Levels = 0; break;
            case "Channels": options.Channels = 0; break;
            default: options.SkipChannels = 0; break;
        }
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.WaveNetDensity(options));
        Assert.Contains($"`{option}`", e.Message);
    }

    [Theory]
    [InlineData("Cell")]
    [InlineData("HiddenSize")]
    [InlineData("Layers")]
    [InlineData("Width")]
    [InlineData("TruncationLength")]
    [InlineData("Levels")]
    public void PixelRnnDensity_InvalidOption_ThrowsNamingIt(string option)
    {
        var options = new PixelRnnDensityEstimator.Options();
        switch (option)
        {
            case "Cell": options.Cell = (RecurrentCell)4; break;
            case "HiddenSize": options.HiddenSize = 0; break;
            case "Layers": options.Layers = 0; break;
            case "Width": options.Width = 0; break;
            case "TruncationLength": options.TruncationLength = -1; break;
            default: options.Levels = 300; break;
        }
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.PixelRnnDensity(options));
        Assert.Contains($"`{option}`", e.Message);
    }

    [Fact]
    public void PixelRnn_NeedsTheWidthForThePixelAbove()
    {
        var ml = new MLContext(1);
        var flat = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(i =>
            new Input { Pixels = TestData.Digits.GetImage(i) }));
        var options = new PixelRnnDensityEstimator.Options { HiddenSize = 3, MaximumNumberOfEpochs = 1, Seed = 1 };
        // read as 28×28
        Assert.Equal(10, ml.Transforms.PixelRnnDensity(options).Fit(flat).Transform(flat)
            .GetColumn<float>("LogLikelihood").Count());
        options.Width = 30;
        Assert.Contains("`Width` must divide the size of column 'Pixels' (784)",
            Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.PixelRnnDensity(options).Fit(flat)).Message);
        options.UsePixelAbove = false;
        Assert.Equal(10, ml.Transforms.PixelRnnDensity(options).Fit(flat).Transform(flat)
            .GetColumn<float>("LogLikelihood").Count());
    }
}
