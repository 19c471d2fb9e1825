using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;

namespace MLNetAr.Examples;

public static class ImageColumn
{
    public sealed class ImageFile
    {
        public string Path { get; set; } = "";
    }

    /// <summary>
    /// Image files straight into a model: <c>LoadImages → FvsbnDensity</c> reads each image in grey levels, resized to
    /// 28×28, exactly as <c>ResizeImages → ConvertToGrayscale → ExtractPixels</c> would.
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        string folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"mlnetar-example-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            // 300 digits as 28×28 PNG files, for the example.
            var files = Digits.Rows(0, 300).Select((row, i) =>
            {
                string path = System.IO.Path.Combine(folder, $"digit{i}.png");
                File.WriteAllBytes(path,
                    ImageGrid.EncodeGray8(row.Pixels.Select(v => (byte)MathF.Round(v * 255)).ToArray(), 28, 28));
                return new ImageFile { Path = path };
            }).ToArray();
            IDataView images = mlContext.Data.LoadFromEnumerable(files);

            var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: "",
                inputColumnName: nameof(ImageFile.Path))
                .Append(mlContext.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
                {
                    InputColumnName = "Image", ImageHeight = 28, ImageWidth = 28, MaximumNumberOfEpochs = 2, Seed = 1,
                }));
            var model = pipeline.Fit(images);

            float[] logLikelihoods = model.Transform(images).GetColumn<float>("LogLikelihood").Take(3).ToArray();
            Console.WriteLine($"log p(x) of the first three files: " +
                $"{string.Join(", ", logLikelihoods.Select(v => v.ToString("F1")))} nats");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        // Expected output (the numbers vary a little):
        //   log p(x) of the first three files: -111.2, -96.4, -78.9 nats
    }
}
