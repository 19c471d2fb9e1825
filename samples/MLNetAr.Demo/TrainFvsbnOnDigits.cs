using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr;
using MLNetAr.Data;

namespace MLNetAr.Demo;

/// <summary>
/// Trains FVSBN on the embedded digits (first 8000 train / next 1000 validation / last 1000 test, binarised at 0.5),
/// prints NLL in nats and bits per pixel next to the independent-pixel baseline, and writes generated digits as PNG.
/// </summary>
public static class TrainFvsbnOnDigits
{
    public static void Example(int epochs, string outDir)
    {
        var mlContext = new MLContext(seed: 1);
        // Progress: MLNetAr logs one line per epoch through ML.NET's channel.
        mlContext.Log += (_, e) =>
        {
            if (e.Source.StartsWith("FvsbnDensity", StringComparison.Ordinal) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info)
                Console.WriteLine("  " + e.RawMessage);
        };

        ImageSet digits = EmbeddedDigits.Load();
        ImageSet train = digits.Slice(0, 8000), validation = digits.Slice(8000, 1000), test = digits.Slice(9000, 1000);
        Console.WriteLine($"Embedded MNIST digits: {digits.Count} images of {digits.Height}×{digits.Width}; train 8000 / validation 1000 / test 1000.");

        var estimator = mlContext.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            InputColumnName = "Pixels",
            MaximumNumberOfEpochs = epochs,
            Seed = 1,
        });
        var clock = Stopwatch.StartNew();
        AutoregressiveDensityTransformer model = estimator.Fit(train.ToDataView(mlContext), validation.ToDataView(mlContext));
        double seconds = clock.Elapsed.TotalSeconds;
        var history = model.TrainingHistory;
        Console.WriteLine($"Trained {model.ModelKind} ({model.ParameterCount:N0} parameters) for {history.Count} epochs in {seconds:F1} s " +
                          $"({history.Average(h => h.Seconds):F2} s per epoch).");

        double trainNll = MeanNll(mlContext, model, train), testNll = MeanNll(mlContext, model, test);
        double baseline = IndependentPixelNll(train.BinarizeThreshold(), test.BinarizeThreshold());
        int d = digits.Dimension;
        Console.WriteLine();
        Console.WriteLine("                         NLL (nats)   bits/pixel");
        Console.WriteLine($"  FVSBN, train            {trainNll,9:F2}   {trainNll / d / Math.Log(2),10:F4}");
        Console.WriteLine($"  FVSBN, test             {testNll,9:F2}   {testNll / d / Math.Log(2),10:F4}");
        Console.WriteLine($"  independent pixels, test{baseline,9:F2}   {baseline / d / Math.Log(2),10:F4}");

        Directory.CreateDirectory(outDir);
        string samplesPath = Path.Combine(outDir, "fvsbn-samples.png");
        ImageGrid.SavePng(samplesPath, model.Sample(100, seed: 7), digits.Height, digits.Width, columns: 10, scale: 2);
        var completions = new List<float[]>();
        for (int i = 0; i < 10; i++)
        {
            float[] original = test.BinarizeThreshold().GetImage(i);
            completions.Add(original);
            for (int s = 0; s < 4; s++) completions.Add(model.Complete(original, knownPixels: d / 2, seed: 100 * i + s));
        }
        string completionsPath = Path.Combine(outDir, "fvsbn-completions.png");
        ImageGrid.SavePng(completionsPath, completions, digits.Height, digits.Width, columns: 5, scale: 2);
        string modelPath = Path.Combine(outDir, "fvsbn.zip");
        mlContext.Model.Save(model, null, modelPath);
        Console.WriteLine();
        Console.WriteLine($"Wrote {samplesPath} (100 samples), {completionsPath} (test digit, then 4 completions of its bottom half) and {modelPath}.");
    }

    /// <summary>Mean −log p(x) over a set, read from the transformer's LogLikelihood column.</summary>
    private static double MeanNll(MLContext mlContext, ITransformer model, ImageSet images) =>
        -model.Transform(images.ToDataView(mlContext)).GetColumn<float>("LogLikelihood").Average(v => (double)v);

    /// <summary>NLL of the independent-Bernoulli model fitted to the training pixel means (Laplace-smoothed).</summary>
    private static double IndependentPixelNll(ImageSet train, ImageSet test)
    {
        int d = train.Dimension;
        var p = new double[d];
        for (int r = 0; r < train.Count; r++)
            for (int i = 0; i < d; i++) p[i] += train.Pixels[r * d + i];
        for (int i = 0; i < d; i++) p[i] = (p[i] + 1) / (train.Count + 2);
        double nll = 0;
        for (int r = 0; r < test.Count; r++)
            for (int i = 0; i < d; i++)
                nll -= test.Pixels[r * d + i] > 0 ? Math.Log(p[i]) : Math.Log(1 - p[i]);
        return nll / test.Count;
    }
}

/// <summary>The MNIST digits embedded in the repository (data/digits10k, copied next to the program).</summary>
public static class EmbeddedDigits
{
    public static ImageSet Load()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "data", "digits10k");
        return ImageSet.LoadIdx(Path.Combine(folder, "digits10k-images-idx3-ubyte.gz"), Path.Combine(folder, "digits10k-labels-idx1-ubyte.gz"));
    }
}
