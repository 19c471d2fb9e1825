using Microsoft.ML;
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
                        _ => throw new ArgumentException($"Unknown texture setting '{name}'. Known: PatchSize, Levels, TrainStride, Epochs, Layers, Channels."),
                    };
                    break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'. Known: --normal a,b, --set Name=Value, --report.");
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
                experiment.Evaluate("PixelCNN", TextureAnomalies.FromModel(ml, experiment.FitPixelCnn(ml, localBackground: false), pixelScores: true)),
                experiment.Evaluate("PixelCNN ÷ local PixelCNN", TextureAnomalies.FromModel(ml, experiment.FitPixelCnn(ml, localBackground: true), pixelScores: true)),
                experiment.Evaluate("RandomizedPca (rank 20)", TextureAnomalies.FromModel(ml,
                    ml.AnomalyDetection.Trainers.RandomizedPca("Pixels", rank: 20, seed: 1).Fit(experiment.Train.ToDataView(ml)), pixelScores: false)),
                experiment.Evaluate("per-pixel Gaussian", experiment.PerPixelGaussian()),
            };
            foreach (var r in detectors)
                Console.Error.WriteLine($"{normal}: {r.Detector}: " + string.Join(", ", r.Auc.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:F3}"))) +
                                        FormattableString.Invariant($", pixel AUROC {r.PixelAuc:F3}, pointing {r.Pointing:P1}"));
            results.Add(new Dictionary<string, object>
            {
                ["normal"] = normal, ["train_patches"] = experiment.Train.Count, ["normal_test"] = experiment.NormalTest.Count,
                ["other_test"] = experiment.OtherTest.Count, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                ["detectors"] = detectors.Select(r => new Dictionary<string, object>
                {
                    ["detector"] = r.Detector, ["auc"] = r.Auc.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4)),
                    ["pixel_auroc"] = double.IsNaN(r.PixelAuc) ? "n/a" : Math.Round(r.PixelAuc, 4),
                    ["pointing"] = double.IsNaN(r.Pointing) ? "n/a" : Math.Round(r.Pointing, 4),
                }).ToList(),
            });
        }
        return new Dictionary<string, object> { ["settings"] = settings, ["results"] = results };
    }
}
