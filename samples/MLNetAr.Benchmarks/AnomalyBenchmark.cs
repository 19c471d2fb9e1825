using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;

namespace MLNetAr.Benchmarks;

/// <summary>
/// MNIST one-class protocol on the embedded digits (Ruff et al. 2018): for each digit c, train on the class-c images of
/// the first 8000 (early stopping on the class-c images of the next 1000), test on the last 1000 images with c normal
/// and every other digit anomalous; AUC from <c>mlContext.AnomalyDetection.Evaluate</c>. Compares MLNetAr's density
/// models with ML.NET's <c>RandomizedPca</c> on the same pixels.
/// </summary>
internal static class AnomalyBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        int epochs = args.Count > 0 && !args[0].StartsWith("--", StringComparison.Ordinal)
            ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 30;
        // --only a,b: run just the methods whose names contain one of these (case-insensitive).
        int only = args.ToList().IndexOf("--only");
        string[]? filter = only >= 0 && only + 1 < args.Count ? args[only + 1].Split(',') : null;
        // --seed s: every model's seed (background models s + 1), to see how much the AUCs move between runs.
        int seedAt = args.ToList().IndexOf("--seed");
        int seed = seedAt >= 0 && seedAt + 1 < args.Count
            ? int.Parse(args[seedAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 1;
        var (train, valid, test) = BenchmarkData.Split(BenchmarkData.Digits());
        var ml = new MLContext(seed: seed);

        var methods = new (string Name, Func<IDataView, IDataView, ITransformer> Fit)[]
        {
            ("FVSBN", (t, v) => Detector(ml,
                new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed }).Fit(t, v)),
            ("FVSBN + input complexity", (t, v) =>
                Detector(ml, new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed },
                AnomalyScoreCorrection.InputComplexity).Fit(t, v)),
            ("FVSBN + background ratio", (t, v) =>
                Detector(ml, new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed },
                AnomalyScoreCorrection.BackgroundLikelihoodRatio).Fit(t, v)),
            ("NADE", (t, v) => Detector(ml,
                new NadeDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed }).Fit(t, v)),
            ("MADE", (t, v) => Detector(ml,
                new MadeDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed }).Fit(t, v)),
            ("FVSBN / local PixelCNN ratio", (t, v) =>
                Ratio(ml, new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed },
                LocalPixelCnn(epochs, seed + 1)).Fit(t, v)),
            ("FVSBN / 2-layer PixelCNN ratio", (t, v) =>
                Ratio(ml, new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed },
                LocalPixelCnn(epochs, seed + 1, layers: 2)).Fit(t, v)),
            ("MADE / local PixelCNN ratio", (t, v) =>
                Ratio(ml, new MadeDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed },
                LocalPixelCnn(epochs, seed + 1)).Fit(t, v)),
            ("PixelCNN / local PixelCNN ratio", (t, v) =>
                Ratio(ml, PixelCnn(epochs, seed), LocalPixelCnn(epochs, seed + 1)).Fit(t, v)),
            ("MADE + input complexity", (t, v) =>
                Detector(ml, new MadeDensityEstimator.Options { MaximumNumberOfEpochs = epochs, Seed = seed },
                AnomalyScoreCorrection.InputComplexity).Fit(t, v)),
            ("PixelCNN", (t, v) => Detector(ml, PixelCnn(epochs, seed)).Fit(t, v)),
            ("PixelCNN + input complexity", (t, v) =>
                Detector(ml, PixelCnn(epochs, seed), AnomalyScoreCorrection.InputComplexity).Fit(t, v)),
            ("WaveNet", (t, v) =>
                Detector(ml, new WaveNetDensityEstimator.Options { Channels = 16, SkipChannels = 16,
                MaximumNumberOfEpochs = epochs, Seed = seed }).Fit(t, v)),
            ("pixel LSTM", (t, v) =>
                Detector(ml, new PixelRnnDensityEstimator.Options { HiddenSize = 64, MaximumNumberOfEpochs = epochs,
                Seed = seed }).Fit(t, v)),
            ("RandomizedPca(rank 20)", (t, _) =>
                ml.AnomalyDetection.Trainers.RandomizedPca("Pixels", rank: 20, seed: seed).Fit(t)),
        };
        if (filter != null)
            methods = methods.Where(m =>
                filter.Any(f => m.Name.Contains(f, StringComparison.OrdinalIgnoreCase))).ToArray();
        var auc = methods.ToDictionary(m => m.Name, _ => new double[10]);
        // Evaluate's other metric: the fraction of anomalies ranked above the 10th highest-scoring normal digit.
        var detection = methods.ToDictionary(m => m.Name, _ => new double[10]);
        var seconds = methods.ToDictionary(m => m.Name, _ => 0.0);
        for (int digit = 0; digit < 10; digit++)
        {
            int normal = digit;
            IDataView trainView = train.Where(l => l == normal).ToDataView(ml),
                validView = valid.Where(l => l == normal).ToDataView(ml);
            var labelled = new ImageSet(test.Pixels, test.Height, test.Width,
                test.Labels!.Select(l => l == normal ? 0f : 1f).ToArray());
            IDataView testView = labelled.ToDataView(ml);
            foreach (var (name, fit) in methods)
            {
                var clock = Stopwatch.StartNew();
                ITransformer model = fit(trainView, validView);
                seconds[name] += clock.Elapsed.TotalSeconds;
                var metrics = ml.AnomalyDetection.Evaluate(model.Transform(testView), "Label", "Score",
                    "PredictedLabel", falsePositiveCount: 10);
                auc[name][digit] = Math.Round(metrics.AreaUnderRocCurve, 4);
                detection[name][digit] = Math.Round(metrics.DetectionRateAtFalsePositiveCount, 4);
                Console.Error.WriteLine($"digit {digit}: {name,-24} AUC {metrics.AreaUnderRocCurve:F4}");
            }
        }
        foreach (var (name, _) in methods)
            Console.WriteLine($"{name,-26} mean AUC {auc[name].Average():F4}   detection rate at 10 false positives " +
                $"{detection[name].Average():F3}   per class " +
                $"{string.Join(" ", auc[name].Select(a => a.ToString("F3")))}   {seconds[name]:F0} s");
        return new Dictionary<string, object>
        {
            ["protocol"] = "one-class digits10k: train class c of rows 0-7999 (validation: class c of rows " +
                "8000-8999), test rows 9000-9999, other classes anomalous",
            ["epochs"] = epochs,
            ["seed"] = seed,
            ["mean_auc"] = auc.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value.Average(), 4)),
            ["mean_detection_rate_at_10_false_positives"] = detection.ToDictionary(kv => kv.Key, kv =>
                Math.Round(kv.Value.Average(), 4)),
            ["auc_per_class"] = auc,
            ["training_seconds_all_classes"] = seconds.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 1)),
        };
    }

    private static PixelCnnDensityEstimator.Options PixelCnn(int epochs, int seed) =>
        new() { Channels = 16, Layers = 5, MaximumNumberOfEpochs = epochs, Seed = seed };

    /// <summary>
    /// A shallow PixelCNN: with one layer each pixel sees only the 2×3 pixels above and the one to its left; each layer
    /// adds a pixel in every direction.
    /// </summary>
    private static PixelCnnDensityEstimator.Options LocalPixelCnn(int epochs, int seed, int layers = 1) =>
        new() { Channels = 16, Layers = layers, MaximumNumberOfEpochs = epochs, Seed = seed };

    private static AutoregressiveAnomalyDetector Ratio(MLContext ml, AutoregressiveDensityOptions density,
        AutoregressiveDensityOptions background) =>
        ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = density,
            ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            BackgroundModel = background,
        });

    private static AutoregressiveAnomalyDetector Detector(MLContext ml, AutoregressiveDensityOptions density,
        AnomalyScoreCorrection correction = AnomalyScoreCorrection.None) =>
        ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = density, ScoreCorrection = correction
        });
}
