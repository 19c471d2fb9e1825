using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Image;
using MLNetAr.Data;

namespace MLNetAr.OnnxSample;

/// <summary>
/// The path past one .NET process: fit an MLNetAr anomaly detector in ML.NET, export it with ML.NET's own
/// <c>ConvertToOnnx</c>, and score a folder of images with ONNX Runtime alone, in parallel batches. The same .onnx file
/// runs unchanged in ONNX Runtime's CUDA provider, SynapseML's ONNXModel on Spark or Triton (see the README).
/// </summary>
public static class ScoringAtScale
{
    /// <summary>The side of the (square, grey) images the detector reads.</summary>
    public const int Side = 28;

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];

    /// <summary>
    /// Trains the detector that detects best on the digits (FVSBN ÷ one-layer PixelCNN, a likelihood ratio) on the
    /// embedded digits of class <paramref name="normalDigit"/>.
    /// </summary>
    public static AutoregressiveAnomalyTransformer TrainDetector(MLContext ml, int normalDigit, int epochs)
    {
        ImageSet digits = ImageSet.LoadDigits10k();
        IDataView train = digits.Slice(0, 8000).Where(label => label == normalDigit).ToDataView(ml);
        return ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = 1 },
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            BackgroundModel = new PixelCnnDensityEstimator.Options
            {
                Layers = 1, Channels = 16,
                MaximumNumberOfEpochs = epochs, Seed = 2
            },
        }).Fit(train);
    }

    /// <summary>
    /// Exports <paramref name="detector"/> with ML.NET's converter. The converter turns every column of the data it is
    /// given into a graph input, so it gets a view with the pixel column alone: the graph then takes one float tensor
    /// <c>Pixels</c> of shape (N, 784) and returns <c>Score.output</c> (N, 1) and <c>PredictedLabel.output</c> (N, 1).
    /// </summary>
    public static void Export(MLContext ml, AutoregressiveAnomalyTransformer detector, string path)
    {
        IDataView pixelsOnly = ml.Data.LoadFromEnumerable(new[] { new PixelsRow { Pixels = new float[Side * Side] } });
        using var stream = File.Create(path);
        ml.Model.ConvertToOnnx(detector, pixelsOnly, stream);
    }

    /// <summary>
    /// Writes <paramref name="count"/> held-out digits as PNG files named <c>digitL-NNNN.png</c> (L = label).
    /// </summary>
    public static void WriteDigitImages(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        ImageSet test = ImageSet.LoadDigits10k().Slice(9000, count);
        for (int i = 0; i < count; i++)
        {
            byte[] gray = test.GetImage(i).Select(v => (byte)MathF.Round(v * 255)).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"digit{test.Labels![i]:0}-{i:D4}.png"),
                ImageGrid.EncodeGray8(gray, Side, Side));
        }
    }

    /// <summary>One scored image file.</summary>
    public sealed record ScoredImage(string File, float Score, bool Anomalous);

    /// <summary>
    /// Scores every image of <paramref name="folder"/> with the exported graph: ML.NET's image transforms decode,
    /// resize and grey the files lazily, batches of <paramref name="batchSize"/> images go to ONNX Runtime, one batch
    /// per core at a time (one session, which is thread-safe for Run).
    /// </summary>
    public static (IReadOnlyList<ScoredImage> Images, double ImagesPerSecond) ScoreFolder(string onnxPath,
        string folder, int batchSize)
    {
        var ml = new MLContext(seed: 1);
        string[] files = Directory.EnumerateFiles(folder).Where(f =>
            Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new ArgumentException($"No images ({string.Join(", ", Extensions)}) in '{folder}'.");
        IDataView paths = ml.Data.LoadFromEnumerable(files.Select(f =>
            new ImageFile { ImagePath = Path.GetFullPath(f) }));
        IDataView pixels = ml.Transforms.LoadImages("Image", imageFolder: null,
            inputColumnName: nameof(ImageFile.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", Side, Side))
            .Append(ml.Transforms.ConvertToGrayscale("Image"))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", ImagePixelExtractingEstimator.ColorBits.Red,
                scaleImage: 1f / 255))
            .Fit(paths).Transform(paths);

        using var options = new SessionOptions { IntraOpNumThreads = 1 }; // parallel over batches instead
        using var session = new InferenceSession(onnxPath, options);
        var results = new ConcurrentBag<(int Index, float Score, bool Anomalous)>();
        var clock = Stopwatch.StartNew();
        Parallel.ForEach(Batches(pixels, batchSize),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, batch =>
        {
            var (first, values, rows) = batch;
            var input = NamedOnnxValue.CreateFromTensor("Pixels",
                new DenseTensor<float>(values.AsMemory(0, rows * Side * Side), [rows, Side * Side]));
            using var outputs = session.Run([input], ["Score.output", "PredictedLabel.output"]);
            float[] scores = outputs[0].AsTensor<float>().ToArray();
            bool[] labels = outputs[1].AsTensor<bool>().ToArray();
            for (int r = 0; r < rows; r++) results.Add((first + r, scores[r], labels[r]));
        });
        double rate = files.Length / clock.Elapsed.TotalSeconds;
        return (results.OrderBy(r => r.Index).Select(r =>
            new ScoredImage(files[r.Index], r.Score, r.Anomalous)).ToArray(), rate);
    }

    /// <summary>Consecutive batches of the pixel column: (index of the first row, values (rows × 784), rows).</summary>
    private static IEnumerable<(int First, float[] Values, int Rows)> Batches(IDataView pixels, int batchSize)
    {
        DataViewSchema.Column column = pixels.Schema["Pixels"];
        using var cursor = pixels.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> row = default;
        int d = Side * Side, first = 0;
        var values = new float[batchSize * d];
        int rows = 0;
        while (cursor.MoveNext())
        {
            getter(ref row);
            row.CopyTo(values.AsSpan(rows * d, d));
            if (++rows < batchSize) continue;
            yield return (first, values, rows);
            (first, values, rows) = (first + rows, new float[batchSize * d], 0);
        }
        if (rows > 0) yield return (first, values, rows);
    }

    /// <summary>
    /// Area under the ROC curve of the scores for "anomalous = not <paramref name="normalDigit"/>", from file names
    /// <c>digitL-…</c>.
    /// </summary>
    public static double DigitAuc(IReadOnlyList<ScoredImage> images, int normalDigit)
    {
        var labelled = images.Select(i =>
            (i.Score, Anomalous: !Path.GetFileName(i.File).StartsWith($"digit{normalDigit}-",
            StringComparison.Ordinal))).ToArray();
        double[] normal = labelled.Where(l => !l.Anomalous).Select(l => (double)l.Score).ToArray();
        double[] anomalous = labelled.Where(l => l.Anomalous).Select(l => (double)l.Score).ToArray();
        double wins = anomalous.Sum(a => normal.Sum(n => a > n ? 1 : a == n ? 0.5 : 0));
        return wins / ((double)normal.Length * anomalous.Length);
    }

    private sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class PixelsRow
    {
        [VectorType(Side * Side)] public float[] Pixels { get; set; } = [];
    }
}
