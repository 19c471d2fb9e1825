using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;
using MLNetAr.Pretrained;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Samples;

/// <summary><see cref="PretrainedModels"/>: a model loads only when its file matches its manifest entry.</summary>
public class PretrainedModelsTests
{
    private static (string Folder, PretrainedModels.Entry Entry) SaveTinyModel(MLContext ml)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"mlnetar-pretrained-{Guid.NewGuid():N}");
        var data = TestData.Digits.Slice(0, 100).ToDataView(ml);
        var model = ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1, seed: 1).Fit(data);
        var entry = PretrainedModels.Save(ml, model, data.Schema, folder,
            new PretrainedModels.Entry { Name = "tiny", Reproduce = "the test's own fit" });
        return (folder, entry);
    }

    [Fact]
    public void Save_ThenLoad_RoundTripsThroughTheManifest()
    {
        var ml = new MLContext(1);
        var (folder, entry) = SaveTinyModel(ml);
        try
        {
            Assert.Equal("tiny.zip", entry.File);
            Assert.Equal(new FileInfo(Path.Combine(folder, "tiny.zip")).Length, entry.Bytes);
            ITransformer loaded = PretrainedModels.Load(ml, "tiny", folder, out var schema);
            Assert.NotNull(schema.GetColumnOrNull("Pixels"));
            float[] ll = loaded.Transform(TestData.Digits.Slice(200, 5).ToDataView(ml))
                .GetColumn<float>("LogLikelihood").ToArray();
            Assert.All(ll, v => Assert.True(float.IsFinite(v) && v < 0));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Load_AlteredMissingOrUnknownModel_SaysWhatIsWrong()
    {
        var ml = new MLContext(1);
        var (folder, _) = SaveTinyModel(ml);
        try
        {
            string path = Path.Combine(folder, "tiny.zip");
            byte[] bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(path, bytes);
            var altered = Assert.Throws<InvalidDataException>(() => PretrainedModels.Load(ml, "tiny", folder, out _));
            Assert.Contains("differs from its manifest entry", altered.Message, StringComparison.Ordinal);
            Assert.Contains("the test's own fit", altered.Message, StringComparison.Ordinal);

            File.Delete(path);
            var missing = Assert.Throws<FileNotFoundException>(() => PretrainedModels.Load(ml, "tiny", folder, out _));
            Assert.Contains("is missing", missing.Message, StringComparison.Ordinal);

            var unknown = Assert.Throws<ArgumentException>(() => PretrainedModels.Load(ml, "huge", folder, out _));
            Assert.Contains("it lists: tiny", unknown.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
