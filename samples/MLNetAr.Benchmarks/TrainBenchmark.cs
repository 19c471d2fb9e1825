using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;
using MLNetAr.Kernels;
using MLNetAr.Models;

namespace MLNetAr.Benchmarks;

/// <summary>
/// Trains one model on one data set and measures it: train/validation/test NLL (nats, bits/dim), epochs, seconds per
/// epoch, scoring and sampling throughput, peak memory.
/// </summary>
/// <remarks>
/// Data: <c>digits10k</c> (default: the embedded digits, first 8000 train / next 1000 validation / last 1000 test,
/// binarised at 0.5), or files given with <c>--train</c>, <c>--valid</c>, <c>--test</c> (IDX, plain or .gz, or
/// Larochelle's <c>.amat</c>). Options: <c>--set Name=Value</c> for any public field of the model's Options class
/// (lists as 500,500); <c>--samples N</c> images to sample (timed), <c>--naive-samples N</c> also times the naive
/// D-pass sampler on N images, <c>--rows N</c> trains on the first N training images only, <c>--sample-grid FILE</c>
/// saves the first 64 samples as a PNG grid.
/// </remarks>
internal static class TrainBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        string model = "fvsbn", dataName = "digits10k";
        string? trainPath = null, validPath = null, testPath = null;
        var settings = new List<(string Name, string Value)>();
        int sampleCount = 1000, naiveSampleCount = 0, rows = int.MaxValue;
        string? sampleGrid = null, saveModel = null;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--model": model = args[++i].ToLowerInvariant(); break;
                case "--train": trainPath = args[++i]; dataName = Path.GetFileName(trainPath); break;
                case "--valid": validPath = args[++i]; break;
                case "--test": testPath = args[++i]; break;
                case "--samples": sampleCount = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--naive-samples": naiveSampleCount = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rows": rows = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--sample-grid": sampleGrid = args[++i]; break;
                case "--save-model": saveModel = args[++i]; break;
                case "--set": settings.Add(TrainBenchmark.ParseSetting(args[++i])); break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        var (train, valid, test) = LoadData(trainPath, validPath, testPath);
        if (rows < train.Count) train = train.Slice(0, rows);
        var ml = BenchmarkData.ContextWithTrainingLog();

        var (estimator, options) = CreateEstimator(ml, model, settings);
        var clock = Stopwatch.StartNew();
        AutoregressiveDensityTransformer fitted = estimator(train.ToDataView(ml), valid?.ToDataView(ml));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        if (saveModel != null) ml.Model.Save(fitted, train.ToDataView(ml).Schema, saveModel);
        var history = fitted.TrainingHistory;
        int best = history.Where(h => !double.IsNaN(h.ValidationNll)).DefaultIfEmpty(history[^1]).MinBy(h =>
            double.IsNaN(h.ValidationNll) ? h.TrainingNll : h.ValidationNll)!.Epoch;

        int d = train.Dimension;
        var report = new Dictionary<string, object>
        {
            ["model"] = fitted.ModelKind,
            ["options"] = options,
            ["parameters"] = fitted.ParameterCount,
            ["data"] = new Dictionary<string, object>
            {
                ["name"] = dataName, ["train"] = train.Count, ["validation"] = valid?.Count ?? 0,
                ["test"] = test?.Count ?? 0, ["pixels"] = d,
            },
            ["epochs"] = history.Count,
            ["best_epoch"] = best,
            ["training_seconds"] = Math.Round(trainSeconds, 2),
            ["seconds_per_epoch"] = Math.Round(history.Average(h => h.Seconds), 3),
            ["threads"] = Kernel.MaxDegreeOfParallelism,
        };
        if (fitted.Model is ConvolutionalDensityModel)
            report["convolution"] = ConvolutionEfficiency(fitted, train.Count);
        foreach (var (name, set) in new[] { ("train", train), ("validation", valid), ("test", test) })
        {
            if (set == null) continue;
            double nll = Nll(ml, fitted, set, out double imagesPerSecond);
            report[$"{name}_nll_nats"] = Math.Round(nll, 3);
            report[$"{name}_bits_per_dim"] = Math.Round(nll / d / Math.Log(2), 5);
            if (name == "test" || (name == "validation" && test == null))
                report["scoring_images_per_second"] = Math.Round(imagesPerSecond, 1);
        }

        clock.Restart();
        float[][] samples = fitted.Sample(sampleCount, seed: 1);
        double sampleSeconds = clock.Elapsed.TotalSeconds;
        if (sampleGrid != null)
            ImageGrid.SavePng(sampleGrid, samples.Take(64).ToArray(), train.Height, train.Width, columns: 8);
        report["sampling_images_per_second"] = Math.Round(sampleCount / sampleSeconds, 1);
        report["sampling_seconds_for_" + sampleCount] = Math.Round(sampleSeconds, 3);
        if (naiveSampleCount > 0)
        {
            // The reference every cached sampler must reproduce: one full forward pass of the batch per pixel.
            var images = new float[naiveSampleCount * d];
            clock.Restart();
            fitted.Model.SampleRowsNaive(images, naiveSampleCount, 0, Enumerable.Range(1, naiveSampleCount).ToArray());
            report["naive_sampling_images_per_second"] = Math.Round(naiveSampleCount / clock.Elapsed.TotalSeconds, 3);
        }
        report["peak_memory_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1);
        report["history"] = history.Select(h =>
            new[] { h.Epoch, Math.Round(h.TrainingNll, 3), Math.Round(h.ValidationNll, 3), Math.Round(h.Seconds, 3) })
            .ToArray();
        Console.WriteLine($"{fitted.ModelKind}: test NLL {report.GetValueOrDefault("test_nll_nats")} nats, " +
            $"{report["seconds_per_epoch"]} s/epoch, {report["sampling_images_per_second"]} samples/s, " +
            $"{report.GetValueOrDefault("scoring_images_per_second")} scored images/s");
        return report;
    }

    /// <summary>
    /// The convolutional training step's throughput against the GEMM peak: every weight matrix W (C_out × C_in·T) is
    /// applied at each of the D positions three times — forward, weight gradient, input gradient — at 2 flops per
    /// multiply-add, so an image costs <c>6·Σ|W|·D</c> flops. Everything else (im2col, gates, loss, optimiser) is in
    /// the measured time too, so this is the fraction of the GEMM peak the whole step reaches.
    /// </summary>
    private static Dictionary<string, object> ConvolutionEfficiency(AutoregressiveDensityTransformer fitted,
        int trainImages)
    {
        long weights = fitted.Model.Parameters.Where(p => p.Shape.Length >= 2).Sum(p => (long)p.Length);
        double flopsPerImage = 6.0 * weights * fitted.Model.Dimension;
        var history = fitted.TrainingHistory;
        double medianEpoch = history.Select(h => h.Seconds).Order().ElementAt(history.Count / 2);
        double gflops = flopsPerImage * trainImages / medianEpoch / 1e9;
        var (peakBest, peakMedian) = GemmBenchmark.Peak();
        Console.Error.WriteLine($"  convolution training step: {gflops:F1} GFLOP/s " +
            $"({6.0 * weights * fitted.Model.Dimension / 1e9:F2} GFLOP an image), GEMM peak median " +
            $"{peakMedian:F1} GFLOP/s: {gflops / peakMedian:P0}");
        return new Dictionary<string, object>
        {
            ["weight_count"] = weights,
            ["gflop_per_image"] = Math.Round(flopsPerImage / 1e9, 3),
            ["training_gflops"] = Math.Round(gflops, 1),
            ["gemm_peak_median_gflops"] = Math.Round(peakMedian, 1),
            ["gemm_peak_best_gflops"] = Math.Round(peakBest, 1),
            ["fraction_of_gemm_peak"] = Math.Round(gflops / peakMedian, 3),
        };
    }

    /// <summary>Mean NLL through the ML.NET transformer (the path users take), timing it.</summary>
    internal static double Nll(MLContext ml, AutoregressiveDensityTransformer model, ImageSet images,
        out double imagesPerSecond)
    {
        var clock = Stopwatch.StartNew();
        float[] ll = model.Transform(images.ToDataView(ml)).GetColumn<float>(model.LogLikelihoodColumnName).ToArray();
        imagesPerSecond = images.Count / clock.Elapsed.TotalSeconds;
        return -ll.Average(v => (double)v);
    }

    private static (ImageSet Train, ImageSet? Valid, ImageSet? Test) LoadData(string? trainPath, string? validPath,
        string? testPath)
    {
        if (trainPath == null) return BenchmarkData.Split(BenchmarkData.Digits());
        static ImageSet Load(string path) => path.EndsWith(".amat", StringComparison.OrdinalIgnoreCase)
            ? ImageSet.LoadAmat(path) : ImageSet.LoadIdx(path);
        return (Load(trainPath), validPath == null ? null : Load(validPath), testPath == null ? null : Load(testPath));
    }

    internal delegate AutoregressiveDensityTransformer FitFunction(IDataView train, IDataView? valid);

    internal static (FitFunction Fit, Dictionary<string, string> Options) CreateEstimator(MLContext ml, string model,
        List<(string Name, string Value)> settings)
    {
        AutoregressiveDensityOptions options = DensityModelFamily.Find(model).CreateOptions();
        options.Seed = 1;
        Configure(options, settings);
        return (Fitter(ml, options), Describe(options));
    }

    /// <summary>Fits the estimator <paramref name="options"/> describe, on training and validation data.</summary>
    internal static FitFunction Fitter(MLContext ml, AutoregressiveDensityOptions options)
    {
        options.Progress ??= LiveProgressLine.ForConsole();
        var environment = MLNetAr.Interop.MlNetInterop.GetEnvironment(ml.Transforms);
        IDensityEstimator estimator = options.CreateEstimator(environment);
        return (train, valid) => estimator.Fit(train, valid, out _);
    }

    /// <summary>One <c>--set Name=Value</c> argument.</summary>
    internal static (string Name, string Value) ParseSetting(string argument)
    {
        string[] kv = argument.Split('=', 2);
        if (kv.Length != 2) throw new ArgumentException($"--set expects Name=Value, got '{argument}'.");
        return (kv[0], kv[1]);
    }

    /// <summary>Sets public fields of an options object from Name=Value strings.</summary>
    private static T Configure<T>(T options, List<(string Name, string Value)> settings) where T : notnull
    {
        foreach (var (name, value) in settings)
        {
            FieldInfo field = options.GetType().GetField(name, BindingFlags.Public | BindingFlags.Instance)
                ?? throw new ArgumentException($"{options.GetType().DeclaringType?.Name}.Options has no option " +
                    $"'{name}'.");
            field.SetValue(options, Parse(field.FieldType, value));
        }
        return options;
    }

    private static object? Parse(Type type, string value)
    {
        Type underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying.IsEnum) return Enum.Parse(underlying, value, ignoreCase: true);
        if (underlying.IsArray)
        {
            Type element = underlying.GetElementType()!;
            string[] parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries);
            var array = Array.CreateInstance(element, parts.Length);
            for (int i = 0; i < parts.Length; i++) array.SetValue(Parse(element, parts[i]), i);
            return array;
        }
        return Convert.ChangeType(value, underlying, CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string> Describe(object options) =>
        options.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance)
            .Where(f => f.Name != nameof(AutoregressiveDensityOptions.Progress)).ToDictionary(
            f => f.Name,
            f => f.GetValue(options) switch
            {
                null => "null",
                Array a => string.Join(",", a.Cast<object>()),
                IFormattable v => v.ToString(null, CultureInfo.InvariantCulture),
                var v => v.ToString() ?? "",
            });
}
