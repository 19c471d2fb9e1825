using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;
using MLNetAr.Pretrained;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Samples;

/// <summary>
/// The pretrained models in <c>models/binarized-mnist</c>: each file matches its manifest entry, loads with the
/// ordinary <c>mlContext.Model.Load</c> and scores a plain 784-value <c>Pixels</c> column, and its NLL on the first
/// validation images of the standard split is the manifest's figure.
/// </summary>
public class ShippedModelsTests
{
    private static readonly string Folder = PretrainedModels.FindFolder()
        ?? throw new InvalidOperationException($"No {PretrainedModels.BinarizedMnistFolder} in this clone.");

    public static TheoryData<string> Names() => new(PretrainedModels.ReadManifest(
        PretrainedModels.FindFolder() ?? ".").Select(e => e.Name));

    /// <summary>A user's row: 784 pixel values in [0, 1], no image dimensions.</summary>
    private sealed class UserDigit
    {
        [VectorType(784)]
        public float[] Pixels { get; set; } = [];
    }

    private sealed class Scored
    {
        public float LogLikelihood { get; set; }
    }

    [Fact]
    public void Manifest_ListsModels_WithinTheSizeBudget()
    {
        var entries = PretrainedModels.ReadManifest(Folder);
        Assert.NotEmpty(entries);
        Assert.True(entries.Sum(e => e.Bytes) <= 30L << 20, $"{entries.Sum(e => e.Bytes)} bytes");
        Assert.All(entries, e =>
        {
            Assert.Equal(e.Name + ".zip", e.File);
            Assert.Contains($"--model {e.Name}", e.Reproduce, StringComparison.Ordinal);
            Assert.Matches("^[0-9a-f]{40}", e.Commit);
            Assert.True(e.Epochs >= 1 && e.BestEpoch >= 1 && e.BestEpoch <= e.Epochs, e.Name);
            Assert.InRange(e.ValidationNll, 60, 200);
            Assert.Equal(PretrainedModels.DefaultCheckImages, e.CheckImages);
        });
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ShippedModel_MatchesItsChecksum_AndLoadsWithModelLoad_ForAPlainPixelsColumn(string name)
    {
        PretrainedModels.Entry entry = PretrainedModels.Find(Folder, name);
        string path = PretrainedModels.Verify(Folder, entry);
        var ml = new MLContext(1);
        ITransformer model = ml.Model.Load(path, out _); // the ordinary ML.NET way, no MLNetAr helper
        var engine = ml.Model.CreatePredictionEngine<UserDigit, Scored>(model);
        float[] digit = TestData.Digits.Slice(9000, 1).BinarizeStochastic(seed: 1).Pixels;
        float ll = engine.Predict(new UserDigit { Pixels = digit }).LogLikelihood;
        Assert.InRange(ll, -400f, -20f);
        var density = Assert.IsType<AutoregressiveDensityTransformer>(model);
        Assert.Equal(784, density.Dimension);
        Assert.Equal(entry.Parameters, density.ParameterCount);
        Assert.Equal("Pixels", density.InputColumnName);
    }

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void ShippedModel_ScoresTheManifestsNll_OnTheFirstValidationImages(string name)
    {
        string? valid = SharedData("binarized-mnist-valid-idx3-ubyte.gz");
        Skip.If(valid == null, "../shared/data/binarized-mnist-valid-idx3-ubyte.gz is not beside the repository.");
        PretrainedModels.Entry entry = PretrainedModels.Find(Folder, name);
        var ml = new MLContext(1);
        ITransformer model = PretrainedModels.Load(ml, name, Folder, out _);
        ImageSet images = ImageSet.LoadIdx(valid!).Slice(0, entry.CheckImages);
        double nll = -model.Transform(images.ToDataView(ml)).GetColumn<float>("LogLikelihood")
            .Average(v => (double)v);
        Assert.Equal(entry.CheckNll, nll, 3);
    }

    private static string? SharedData(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "data", file);
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }
}
