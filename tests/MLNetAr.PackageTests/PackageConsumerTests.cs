using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr;

namespace MLNetAr.PackageTests;

/// <summary>fit → save → load → score through the public API of the packed MLNetAr, as a user's project gets it.</summary>
public class PackageConsumerTests
{
    private sealed class Row
    {
        [VectorType(64)] public float[] Pixels { get; set; } = [];
    }

    /// <summary>8×8 "images": a bar in a random row (normal) — simple structure an AR model learns in one epoch.</summary>
    private static Row[] Bars(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var pixels = new float[64];
            int row = random.Next(8);
            for (int x = 0; x < 8; x++) pixels[row * 8 + x] = 1f;
            return new Row { Pixels = pixels };
        }).ToArray();
    }

    [Fact]
    public void FitSaveLoadScore_FromThePackage()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Bars(400, 1));
        var model = ml.Transforms.FvsbnDensity("Pixels", maximumNumberOfEpochs: 20, seed: 1).Fit(train);
        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-package-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, train.Schema, path);
            ITransformer loaded = new MLContext().Model.Load(path, out _);

            var noise = new Random(2);
            Row[] test = [.. Bars(5, 3), .. Enumerable.Range(0, 5).Select(_ => new Row { Pixels = Enumerable.Range(0, 64).Select(_ => (float)noise.Next(2)).ToArray() })];
            IDataView scored = loaded.Transform(ml.Data.LoadFromEnumerable(test));
            float[] logLikelihood = scored.GetColumn<float>("LogLikelihood").ToArray();
            float[] original = model.Transform(ml.Data.LoadFromEnumerable(test)).GetColumn<float>("LogLikelihood").ToArray();

            Assert.Equal(original, logLikelihood); // the loaded model is the fitted one
            Assert.True(logLikelihood.Take(5).Min() > logLikelihood.Skip(5).Max(), string.Join(", ", logLikelihood)); // bars beat noise
            Assert.Equal(64, ((VectorDataViewType)scored.Schema["HiddenFeatures"].Type).Size);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
