using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr;

namespace MLNetAr.PackageTests;

/// <summary>
/// fit → save → load → score through the public API of the packed MLNetAr, as a user's project gets it.
/// </summary>
public class PackageConsumerTests
{
    private sealed class Row
    {
        [VectorType(64)] public float[] Pixels { get; set; } = [];
    }

    /// <summary>
    /// 8×8 "images": a bar in a random row (normal) — simple structure an AR model learns in one epoch.
    /// </summary>
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
            Row[] test = [.. Bars(5, 3),
                .. Enumerable.Range(0, 5).Select(_ =>
                new Row { Pixels = Enumerable.Range(0, 64).Select(_ => (float)noise.Next(2)).ToArray() })];
            IDataView scored = loaded.Transform(ml.Data.LoadFromEnumerable(test));
            float[] logLikelihood = scored.GetColumn<float>("LogLikelihood").ToArray();
            float[] original = model.Transform(ml.Data.LoadFromEnumerable(test)).GetColumn<float>("LogLikelihood")
                .ToArray();

            Assert.Equal(original, logLikelihood); // the loaded model is the fitted one
            // bars beat noise
            Assert.True(logLikelihood.Take(5).Min() > logLikelihood.Skip(5).Max(), string.Join(", ", logLikelihood));
            Assert.Equal(64, ((VectorDataViewType)scored.Schema["HiddenFeatures"].Type).Size);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class ImageRow
    {
        [Microsoft.ML.Transforms.Image.ImageType(8, 8)] public MLImage? Image { get; set; }
    }

    /// <summary>An image column read through ML.NET's image operations, as the package's users get them.</summary>
    [Fact]
    public void ImageColumn_FromThePackage_ScoresAsItsPixels()
    {
        var ml = new MLContext(seed: 1);
        Row[] bars = Bars(200, 4);
        MLImage ToImage(Row row) => MLImage.CreateFromPixels(8, 8, MLPixelFormat.Bgra32,
            row.Pixels.SelectMany(v =>
                new[] { (byte)(v * 255), (byte)(v * 255), (byte)(v * 255), (byte)255 }).ToArray());
        IDataView images = ml.Data.LoadFromEnumerable(bars.Select(r => new ImageRow { Image = ToImage(r) }).ToArray());
        IDataView pixels = ml.Data.LoadFromEnumerable(bars);

        var fromImages = ml.Transforms.FvsbnDensity("Image", maximumNumberOfEpochs: 3, seed: 1).Fit(images);
        var fromPixels = ml.Transforms.FvsbnDensity("Pixels", maximumNumberOfEpochs: 3, seed: 1).Fit(pixels);

        Assert.Equal(fromPixels.Transform(pixels).GetColumn<float>("LogLikelihood"),
            fromImages.Transform(images).GetColumn<float>("LogLikelihood"));
    }
}
