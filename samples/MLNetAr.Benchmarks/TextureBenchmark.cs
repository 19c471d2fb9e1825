using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;
using MLNetAr.Demo;

namespace MLNetAr.Benchmarks;

/// <summary>
/// Texture anomaly detection at real grey levels (<see cref="TextureAnomalies"/>): for each normal texture, the
/// K-level PixelCNN detector with and without a local (one-layer) background model, ML.NET's RandomizedPca and a
/// per-pixel Gaussian: AUC per anomaly kind, and on pasted defects the pixel AUROC and the pointing game.
/// </summary>
/// <remarks>
/// <c>--normal brick,grass,gravel</c> (default all), <c>--set Name=Value</c> for the <see cref="TextureSettings"/>
/// fields (PatchSize, Levels, TrainStride, Epochs, Layers, Channels; defaults <see cref="TextureSettings.Benchmark"/>),
/// <c>--report</c> for the main job's settings.
/// </remarks>
internal static class TextureBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        TextureSettings settings = TextureSettings.Benchmark;
        IReadOnlyList<string> normals = Textures.Names;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--normal": normals = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--report": settings = TextureSettings.Report; break;
                case "--set":
                    var (name, value) = TrainBenchmark.ParseSetting(args[++i]);
                    int v = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    settings = name switch
                    {
                        nameof(TextureSettings.PatchSize) => settings with { PatchSize = v },
                        nameof(TextureSettings.Levels) => settings with { Levels = v },
                        nameof(TextureSettings.TrainStride) => settings with { TrainStride = v },
                        nameof(TextureSettings.Epochs) => settings with { Epochs = v },
                        nameof(TextureSettings.Layers) => settings with { Layers = v },
                        nameof(TextureSettings.Channels) => settings with { Channels = v },
                        _ => throw new ArgumentException($"Unknown texture setting '{name}'. Known: PatchSize, " +
                            $"Levels, TrainStride, Epochs, Layers, Channels."),
                    };
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Known: --normal a,b, --set " +
                    $"Name=Value, --report.");
            }
        }
        var results = new List<object>();
        foreach (string normal in normals)
        {
            var ml = new MLContext(seed: 1);
            var experiment = TextureAnomalies.Create(normal, settings);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var detectors = new List<TextureResult>
            {
                experiment.Evaluate("PixelCNN",
                    TextureAnomalies.FromModel(ml, experiment.FitPixelCnn(ml, localBackground: false),
                    pixelScores: true)),
                experiment.Evaluate("PixelCNN ÷ local PixelCNN",
                    TextureAnomalies.FromModel(ml, experiment.FitPixelCnn(ml, localBackground: true),
                    pixelScores: true)),
                experiment.Evaluate("PixelCNN + input complexity",
                    TextureAnomalies.FromModel(ml,
                    experiment.FitPixelCnn(ml, localBackground: false, inputComplexity: true), pixelScores: true)),
                experiment.Evaluate("RandomizedPca (rank 20)", TextureAnomalies.FromModel(ml,
                    ml.AnomalyDetection.Trainers.RandomizedPca("Pixels", rank: 20,
                        seed: 1).Fit(experiment.Train.ToDataView(ml)), pixelScores: false)),
                experiment.Evaluate("per-pixel Gaussian", experiment.PerPixelGaussian()),
            };
            foreach (var r in detectors)
                Console.Error.WriteLine($"{normal}: {r.Detector}: "
                    + string.Join(", ", r.Auc.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:F3}"))) +
                    FormattableString.Invariant($", pixel AUROC {r.PixelAuc:F3}, pointing {r.Pointing:P1}") +
                    (r.PointingByKind.Count == 0 ? "" : " (" + PointingByKind(r.PointingByKind) + ")"));
            results.Add(new Dictionary<string, object>
            {
                ["normal"] = normal, ["train_patches"] = experiment.Train.Count,
                ["normal_test"] = experiment.NormalTest.Count,
                ["other_test"] = experiment.OtherTest.Count, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                ["detectors"] = detectors.Select(r => new Dictionary<string, object>
                {
                    ["detector"] = r.Detector,
                    ["auc"] = r.Auc.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4)),
                    ["pixel_auroc"] = double.IsNaN(r.PixelAuc) ? "n/a" : Math.Round(r.PixelAuc, 4),
                    ["pointing"] = double.IsNaN(r.Pointing) ? "n/a" : Math.Round(r.Pointing, 4),
                    ["pointing_by_kind"] = r.PointingByKind.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4)),
                }).ToList(),
            });
        }
        return new Dictionary<string, object>
        {
            ["settings"] = settings, ["results"] = results,
            ["digits"] = DigitLocalisation()
        };
    }

    private static string PointingByKind(IReadOnlyDictionary<string, double> pointing) =>
        string.Join(", ", pointing.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:P0}")));

    /// <summary>
    /// Localisation on digits: for each class, a detector trained on its digits scores the normal test digits of that
    /// class with a defect pasted on (binarised; the mask is the pixels the defect changed). Pixel AUROC and pointing
    /// over all classes and defect kinds.
    /// </summary>
    private static Dictionary<string, object> DigitLocalisation()
    {
        var ml = new MLContext(seed: 1);
        var (train, _, test) = BenchmarkData.Split(BenchmarkData.Digits());
        var random = new Random(5);
        var detectors = new (string Name, AutoregressiveAnomalyDetector.Options Options)[]
        {
            ("FVSBN", new() { DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 30, Seed = 1 },
                PixelScoresColumnName = "PixelScores" }),
            ("FVSBN ÷ local PixelCNN", new()
            {
                DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 30, Seed = 1 },
                    PixelScoresColumnName = "PixelScores",
                ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
                BackgroundModel = new PixelCnnDensityEstimator.Options { Layers = 1, Channels = 16, BatchSize = 32,
                    MaximumNumberOfEpochs = 5, Seed = 2 },
            }),
        };
        var located = detectors.ToDictionary(d => d.Name,
            _ => new List<(float[] Scores, bool[] Mask, DefectKind Kind)>());
        for (int digit = 0; digit < 10; digit++)
        {
            var normal = test.Where(l => l == digit).BinarizeThreshold();
            var others = test.Where(l => l != digit).BinarizeThreshold();
            var pasted = new List<(float[] Image, bool[] Mask, DefectKind Kind)>();
            for (int i = 0; i < normal.Count; i++)
            {
                float[] original = normal.GetImage(i);
                var kind = (DefectKind)(i % 3);
                var (image, mask) = Textures.PasteDefect(original, 28, kind, others.GetImage(random.Next(others.Count)),
                    random);
                for (int p = 0; p < image.Length; p++)
                {
                    image[p] = image[p] > 0.5f ? 1f : 0f;
                    mask[p] &= image[p] != original[p]; // only what the defect changed
                }
                if (mask.Any(m => m)) pasted.Add((image, mask, kind));
            }
            var images = new ImageSet(pasted.SelectMany(p => p.Image).ToArray(), 28, 28);
            foreach (var (name, options) in detectors)
            {
                var model = ml.AnomalyDetection.Trainers.AutoregressiveDensity(options).Fit(train.Where(l =>
                    l == digit).ToDataView(ml));
                float[][] scores = model.Transform(images.ToDataView(ml)).GetColumn<float[]>("PixelScores").ToArray();
                located[name].AddRange(scores.Select((p, i) => (p, pasted[i].Mask, pasted[i].Kind)));
            }
        }
        return located.ToDictionary(kv => kv.Key, kv =>
        {
            var (pixelAuc, pointing) = TextureAnomalies.Localisation([.. kv.Value.Select(v => (v.Scores, v.Mask))]);
            var kinds = kv.Value.GroupBy(v => TextureAnomalies.KindName(v.Kind)).ToList();
            var byKind = kinds.ToDictionary(g => g.Key,
                g => TextureAnomalies.Pointing([.. g.Select(v => (v.Scores, v.Mask))]));
            Console.Error.WriteLine(
                FormattableString.Invariant($"digits: {kv.Key}: pixel AUROC {pixelAuc:F3}, pointing {pointing:P1} ") +
                FormattableString.Invariant($"({PointingByKind(byKind)}) of {kv.Value.Count} pasted defects"));
            return (object)new Dictionary<string, object>
            {
                ["pixel_auroc"] = Math.Round(pixelAuc, 4),
                ["pointing"] = Math.Round(pointing, 4), ["images"] = kv.Value.Count,
                ["pointing_by_kind"] = byKind.ToDictionary(b => b.Key, b => Math.Round(b.Value, 4)),
                ["images_by_kind"] = kinds.ToDictionary(g => g.Key, g => g.Count()),
            };
        });
    }
}
