using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MLNetAr.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>
/// An ImageAnalytics image column read directly by the estimators and the detector: the same pixels as
/// ResizeImages → ConvertToGrayscale → ExtractPixels(Red, 1/255), bit for bit, saved and loaded with the model.
/// </summary>
public sealed class ImageColumnTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"mlnetar-image-column-{Guid.NewGuid():N}");
    private readonly MLContext _ml = new(1);

    public ImageColumnTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class ImageRow
    {
        [ImageType(28, 28)]
        public MLImage? Image { get; set; }
    }

    public sealed class Scored
    {
        public float LogLikelihood { get; set; }
    }

    /// <summary>Digits as 8-bit grey PNG files, and the data view that lists them.</summary>
    private IDataView DigitFiles(int start, int count, string prefix = "digit")
    {
        ImageSet images = TestData.Digits.Slice(start, count);
        var files = new List<ImageFile>();
        for (int i = 0; i < images.Count; i++)
        {
            byte[] grey = images.GetImage(i).Select(v => (byte)MathF.Round(v * 255f)).ToArray();
            string name = $"{prefix}{start + i}.png";
            File.WriteAllBytes(Path.Combine(_folder, name), ImageGrid.EncodeGray8(grey, 28, 28));
            files.Add(new ImageFile { ImagePath = name });
        }
        return _ml.Data.LoadFromEnumerable(files);
    }

    /// <summary>
    /// Random colour PNGs of <paramref name="height"/> × <paramref name="width"/>: grey conversion and resizing both
    /// matter.
    /// </summary>
    private IDataView ColourFiles(int count, int height, int width, int seed)
    {
        var random = new Random(seed);
        var files = new List<ImageFile>();
        for (int i = 0; i < count; i++)
        {
            // Smooth blobs, not noise, so that a density model has something to learn.
            int cy = random.Next(height), cx = random.Next(width);
            byte[] rgb = new byte[height * width * 3];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double near = Math.Exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 40.0);
                    for (int c = 0; c < 3; c++)
                        rgb[(y * width + x) * 3 + c] = (byte)Math.Clamp(near * (120 + 60 * c) + random.Next(30), 0,
                            255);
                }
            string name = $"colour{seed}-{i}.png";
            File.WriteAllBytes(Path.Combine(_folder, name), ImageGrid.EncodeRgb8(rgb, width, height));
            files.Add(new ImageFile { ImagePath = name });
        }
        return _ml.Data.LoadFromEnumerable(files);
    }

    private EstimatorChain<ImageLoadingTransformer> LoadImages() =>
        new EstimatorChain<ITransformer>().Append(_ml.Transforms.LoadImages("Image", _folder,
            nameof(ImageFile.ImagePath)));

    private float[] LogLikelihoods(ITransformer model, IDataView data) =>
        model.Transform(data).GetColumn<float>("LogLikelihood").ToArray();

    [Fact]
    public void LoadImagesThenFvsbn_IsACompletePipeline_EqualToExtractPixels()
    {
        IDataView train = DigitFiles(0, 150), test = DigitFiles(5000, 40);
        var direct = LoadImages().Append(_ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            InputColumnName = "Image", MaximumNumberOfEpochs = 2, Seed = 3
        }));
        var viaPixels = LoadImages()
            // ExtractPixels needs a known size (28×28 files: no change)
            .Append(_ml.Transforms.ResizeImages("Image", 28, 28))
            .Append(_ml.Transforms.ConvertToGrayscale("Image"))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Image", ImagePixelExtractingEstimator.ColorBits.Red,
                scaleImage: 1f / 255))
            .Append(_ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
            {
                MaximumNumberOfEpochs = 2,
                Seed = 3
            }));

        var a = direct.Fit(train);
        var b = viaPixels.Fit(train);

        Assert.Equal(LogLikelihoods(b, test), LogLikelihoods(a, test));
        Assert.Equal(784, ((AutoregressiveDensityTransformer)a.LastTransformer).Dimension);
        // And the pixels are the digits': the image model scores the files as the pixel model scores the digits
        // themselves.
        Assert.Equal(LogLikelihoods(b.LastTransformer, TestData.Digits.Slice(5000, 40).ToDataView(_ml)),
            LogLikelihoods(a, test));
    }

    [Theory]
    [InlineData(ImageResizingEstimator.ResizingKind.IsoCrop)]
    [InlineData(ImageResizingEstimator.ResizingKind.IsoPad)]
    [InlineData(ImageResizingEstimator.ResizingKind.Fill)]
    public void ColourImages_ResizedByTheModel_EqualResizeGreyscaleExtract(ImageResizingEstimator.ResizingKind resizing)
    {
        IDataView train = ColourFiles(60, 30, 40, seed: 1), test = ColourFiles(10, 36, 24, seed: 2);
        var options = new PixelCnnDensityEstimator.Options
        {
            InputColumnName = "Image", ImageHeight = 16, ImageWidth = 20, ImageResizing = resizing,
            ImageCropAnchor = ImageResizingEstimator.Anchor.Top,
            Levels = 8, Layers = 2, Channels = 4, HeadChannels = 4, MaximumNumberOfEpochs = 1, Seed = 2,
        };
        var direct = LoadImages().Append(_ml.Transforms.PixelCnnDensity(options));
        var viaPixels = LoadImages()
            .Append(_ml.Transforms.ResizeImages("Image", 20, 16, resizing: resizing,
                cropAnchor: ImageResizingEstimator.Anchor.Top))
            .Append(_ml.Transforms.ConvertToGrayscale("Image"))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Image", ImagePixelExtractingEstimator.ColorBits.Red,
                scaleImage: 1f / 255))
            .Append(_ml.Transforms.PixelCnnDensity(new PixelCnnDensityEstimator.Options
            {
                Height = 16, Width = 20, Levels = 8, Layers = 2, Channels = 4, HeadChannels = 4,
                MaximumNumberOfEpochs = 1, Seed = 2,
            }));

        float[] expected = LogLikelihoods(viaPixels.Fit(train), test), actual = LogLikelihoods(direct.Fit(train), test);

        Assert.Equal(expected, actual);
        Assert.Equal(10, actual.Distinct().Count()); // ten different images, not one repeated
    }

    [Fact]
    public void ImagesOfAnotherSize_WithoutResizing_FailNamingColumnRowAndSizes()
    {
        var ml = _ml;
        IDataView mixed = ml.Data.LoadFromEnumerable(
            ml.Data.CreateEnumerable<ImageFile>(DigitFiles(0, 3), reuseRowObject: false).Concat(
            ml.Data.CreateEnumerable<ImageFile>(ColourFiles(1, 30, 30, seed: 3), reuseRowObject: false)).ToList());
        var pipeline = LoadImages().Append(ml.Transforms.MadeDensity(new MadeDensityEstimator.Options
        {
            InputColumnName = "Image", HiddenSizes = [8], MaximumNumberOfEpochs = 1, Seed = 1
        }));

        var e = Assert.Throws<InvalidOperationException>(() => pipeline.Fit(mixed));

        Assert.Contains("Column 'Image' (row 3): expected a 28×28 image, got 30×30", e.Message);
        Assert.Contains("ImageHeight and ImageWidth", e.Message);
    }

    [Fact]
    public void SaveLoad_KeepsTheImageInput_AndPredictionEngineTakesAnImage()
    {
        IDataView train = DigitFiles(0, 100), test = DigitFiles(6000, 20);
        var model = LoadImages().Append(_ml.Transforms.NadeDensity(new NadeDensityEstimator.Options
        {
            InputColumnName = "Image", HiddenSize = 10, MaximumNumberOfEpochs = 1, Seed = 1
        })).Fit(train);
        float[] before = LogLikelihoods(model, test);
        string path = Path.Combine(_folder, "model.zip");
        _ml.Model.Save(model, train.Schema, path);

        var fresh = new MLContext();
        ITransformer loaded = fresh.Model.Load(path, out _);
        Assert.Equal(before, LogLikelihoods(loaded, test));

        // Without LoadImages: the loaded model alone, one MLImage at a time.
        var nade = (AutoregressiveDensityTransformer)((TransformerChain<ITransformer>)loaded).LastTransformer;
        var engine = fresh.Model.CreatePredictionEngine<ImageRow, Scored>(nade);
        using var image = MLImage.CreateFromFile(Path.Combine(_folder, "digit6000.png"));
        Assert.Equal(before[0], engine.Predict(new ImageRow { Image = image }).LogLikelihood);
    }

    [Fact]
    public void AnomalyDetector_OnAnImageColumn_ScoresAsOnPixels()
    {
        IDataView train = DigitFiles(0, 200), test = DigitFiles(7000, 20);
        AutoregressiveAnomalyDetector.Options Options(string column) => new()
        {
            DensityModel = new FvsbnDensityEstimator.Options
            {
                InputColumnName = column, MaximumNumberOfEpochs = 2,
                Seed = 1
            },
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            BackgroundModel = new PixelCnnDensityEstimator.Options
            {
                InputColumnName = column, Layers = 1, Channels = 4,
                HeadChannels = 4, MaximumNumberOfEpochs = 1, Seed = 1
            },
            PixelScoresColumnName = "PixelScores",
        };
        var direct = LoadImages().Append(_ml.AnomalyDetection.Trainers.AutoregressiveDensity(Options("Image")))
            .Fit(train);
        var viaPixels = LoadImages()
            // ExtractPixels needs a known size (28×28 files: no change)
            .Append(_ml.Transforms.ResizeImages("Image", 28, 28))
            .Append(_ml.Transforms.ConvertToGrayscale("Image"))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Image", ImagePixelExtractingEstimator.ColorBits.Red,
                scaleImage: 1f / 255))
            .Append(_ml.AnomalyDetection.Trainers.AutoregressiveDensity(Options("Pixels"))).Fit(train);

        Assert.Equal(viaPixels.Transform(test).GetColumn<float>("Score"),
            direct.Transform(test).GetColumn<float>("Score"));
        Assert.Equal(viaPixels.Transform(test).GetColumn<float[]>("PixelScores").SelectMany(v => v),
            direct.Transform(test).GetColumn<float[]>("PixelScores").SelectMany(v => v));
        Assert.Equal(viaPixels.LastTransformer.Threshold, direct.LastTransformer.Threshold);
    }

    [Fact]
    public void ConvertToOnnx_ImageInput_IsRefusedSayingHowToExport()
    {
        IDataView train = DigitFiles(0, 50);
        var model = LoadImages().Append(_ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            InputColumnName = "Image", MaximumNumberOfEpochs = 1, Seed = 1
        })).Fit(train);

        var e = Assert.Throws<NotSupportedException>(() =>
            _ml.Model.ConvertToOnnx(model.LastTransformer, model.Transform(train), Stream.Null));

        Assert.Contains("reads images from column 'Image'", e.Message);
        Assert.Contains("ExtractPixels", e.Message);
    }

    [Fact]
    public void ImageOptions_AreCheckedAgainstTheColumn()
    {
        var vectors = TestData.Digits.Slice(0, 20).ToDataView(_ml);
        var onVector = Assert.Throws<ArgumentOutOfRangeException>(() =>
            _ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
            {
                ImageHeight = 28,
                ImageWidth = 28
            }).Fit(vectors));
        Assert.Equal("ImageHeight", onVector.ParamName);
        Assert.Contains("applies to an image input column only, but column 'Pixels' is Vector<Single",
            onVector.Message);

        var half = Assert.Throws<ArgumentOutOfRangeException>(() =>
            _ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options { ImageHeight = 28 }));
        Assert.Equal("ImageWidth", half.ParamName);

        // A model fitted on images refuses a pixel vector, in ML.NET's words.
        var model = LoadImages().Append(_ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            InputColumnName = "Image", MaximumNumberOfEpochs = 1, Seed = 1
        })).Fit(DigitFiles(0, 20));
        var renamed = _ml.Transforms.CopyColumns("Image", "Pixels").Fit(vectors).Transform(vectors);
        var mismatch = Assert.Throws<ArgumentOutOfRangeException>(() => model.LastTransformer.Transform(renamed));
        Assert.Contains("Schema mismatch for input column 'Image': expected an image of 28×28 or of unknown size, " +
            "got Vector<Single", mismatch.Message);
    }
}
