using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Anomaly;
using MLNetAr.Data;

namespace MLNetAr.Benchmarks;

/// <summary>
/// Grey levels on Fashion-MNIST (<c>../shared/data/fashion-mnist</c>: the 60,000 official training images; the official
/// test split is held out): images 0–47,999 train, 48,000–49,999 validate (early stopping, and the choice of μ),
/// 50,000–59,999 are the in-distribution test images. Three parts:
/// <list type="bullet">
/// <item><c>ood</c>: a 256-level PixelCNN trained on Fashion-MNIST scores the Fashion test images against the 10,000
/// MNIST digits (<c>digits10k</c> at 256 levels) by raw likelihood, input complexity (Serrà et al. 2020), the
/// likelihood ratio against a background trained on perturbed inputs (Ren et al. 2019; μ chosen on the validation
/// images against their inverted, upside-down copies, never on MNIST), and against a local one-layer PixelCNN. AUROC,
/// AUPRC and FPR at 80 % TPR, outliers positive.</item>
/// <item><c>density</c>: validation NLL in nats and bits per dimension of the families given by <c>--models</c>
/// beside independent pixels.</item>
/// <item><c>oneclass</c>: each class normal in turn (trained on its training images), the other nine anomalous, on the
/// test images; the mean AUROC of MLNetAr's detectors (16 grey levels) against ML.NET's <c>RandomizedPca</c>.</item>
/// </list>
/// Usage: <c>fashion [--part ood,density,oneclass] [--rows N] [--epochs N] [--budget-minutes M] [--layers L]
/// [--channels C] [--mixture M] [--mu 0.1,0.2,0.3] [--models fvsbn,nade,made,pixelcnn,wavenet,pixelrnn]
/// [--save-dir DIR] [--data FILE]</c>. With <c>--save-dir</c> each fitted model is saved there (NAME.zip, with a
/// checkpoint while it trains) and a later run loads it instead of training again.
/// </summary>
internal static class FashionBenchmark
{
    private const int TrainEnd = 48_000, ValidationEnd = 50_000, TestEnd = 60_000, Levels = 256;

    private sealed record Settings(string[] Parts, int Rows, int Epochs, double BudgetMinutes, int Layers,
        int Channels, float[] Mus, string[] Models, string? SaveDir, string? Data, int Mixture);

    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        Settings s = Parse(args);
        var fashion = ImageSet.LoadIdx(s.Data ?? PaperBenchmark.SharedData(
            Path.Combine("fashion-mnist", "fashion-train-images-idx3-ubyte.gz")), (s.Data == null
            ? PaperBenchmark.SharedData(Path.Combine("fashion-mnist", "fashion-train-labels-idx1-ubyte.gz"))
            : null), scale: 1f / 255);
        if (fashion.Count < TestEnd)
            throw new ArgumentException($"Expected the 60,000 Fashion-MNIST training images, got {fashion.Count}.");
        ImageSet train = fashion.Slice(0, Math.Min(s.Rows, TrainEnd)), valid = fashion.Slice(TrainEnd,
            ValidationEnd - TrainEnd), test = fashion.Slice(ValidationEnd, TestEnd - ValidationEnd);
        var report = new Dictionary<string, object>
        {
            ["data"] = $"Fashion-MNIST training set: {train.Count} train, {valid.Count} validation, {test.Count} " +
                "test (images 50,000–59,999); MNIST digits10k as outliers",
        };
        var ml = BenchmarkData.ContextWithTrainingLog();
        if (s.Parts.Contains("density")) report["density"] = Density(ml, s, train, valid);
        if (s.Parts.Contains("ood")) report["ood"] = OutOfDistribution(ml, s, train, valid, test);
        if (s.Parts.Contains("oneclass")) report["oneclass"] = OneClass(ml, s, fashion);
        return report;
    }

    // ---- Out of distribution ---------------------------------------------------------------------------------------

    private static Dictionary<string, object> OutOfDistribution(MLContext ml, Settings s, ImageSet train,
        ImageSet valid, ImageSet test)
    {
        ImageSet mnist = BenchmarkData.Digits();
        var foreground = Fit(ml, s, "ood-pixelcnn", PixelCnn(s, s.Layers, s.Channels), train, valid);
        float[] inTest = LogLikelihoods(ml, foreground, test), outTest = LogLikelihoods(ml, foreground, mnist);
        var rows = new List<Dictionary<string, object>>();
        void Add(string method, Func<float[], ImageSet, float[]> score, string note = "")
        {
            float[] inlier = score(inTest, test), outlier = score(outTest, mnist);
            rows.Add(new Dictionary<string, object>
            {
                ["method"] = method,
                ["auroc"] = Math.Round(DetectionMetrics.Auroc(inlier, outlier), 4),
                ["auprc"] = Math.Round(DetectionMetrics.Auprc(inlier, outlier), 4),
                ["fpr80"] = Math.Round(DetectionMetrics.FprAtTpr(inlier, outlier), 4),
                ["note"] = note,
            });
            Console.Error.WriteLine($"  {method}: AUROC {rows[^1]["auroc"]}, AUPRC {rows[^1]["auprc"]}, " +
                $"FPR80 {rows[^1]["fpr80"]} {note}");
        }
        Add("raw likelihood, -log p(x)", (ll, _) => ll.Select(v => -v).ToArray(),
            $"mean log p: Fashion {inTest.Average():F1}, MNIST {outTest.Average():F1} nats");
        Add("input complexity, -log p(x) - L(x)·ln 2", (ll, images) => ll.Select((v, i) =>
            -v - ScoreCorrector.CompressedBits(images.GetImage(i), Levels) * MathF.Log(2f)).ToArray());

        // μ is chosen on the validation images against their inverted, upside-down copies: never on MNIST.
        ImageSet validOutliers = InvertedUpsideDown(valid);
        float[] inValid = LogLikelihoods(ml, foreground, valid), outValid = LogLikelihoods(ml, foreground,
            validOutliers);
        var byMu = new List<Dictionary<string, object>>();
        (float Mu, double ValidationAuroc, AutoregressiveDensityTransformer Model)? best = null;
        foreach (float mu in s.Mus)
        {
            var options = PixelCnn(s, s.Layers, s.Channels).WithTrainingPerturbation(mu);
            var background = Fit(ml, s, $"ood-background-mu{mu.ToString(CultureInfo.InvariantCulture)}", options,
                train, valid);
            double auroc = DetectionMetrics.Auroc(Ratio(inValid, LogLikelihoods(ml, background, valid)),
                Ratio(outValid, LogLikelihoods(ml, background, validOutliers)));
            byMu.Add(new() { ["mu"] = mu, ["validation_auroc"] = Math.Round(auroc, 4) });
            Console.Error.WriteLine($"  μ = {mu}: validation AUROC (inverted, upside-down Fashion) {auroc:F4}");
            if (best == null || auroc > best.Value.ValidationAuroc) best = (mu, auroc, background);
        }
        if (best is { } chosen)
        {
            float[] bgIn = LogLikelihoods(ml, chosen.Model, test), bgOut = LogLikelihoods(ml, chosen.Model, mnist);
            Add($"likelihood ratio, background on perturbed inputs (μ = {chosen.Mu})",
                (ll, images) => Ratio(ll, images == mnist ? bgOut : bgIn),
                $"μ chosen on inverted upside-down Fashion validation images (AUROC {chosen.ValidationAuroc:F4})");
        }
        var local = Fit(ml, s, "ood-local-pixelcnn", PixelCnn(s, layers: 1, channels: 16), train, valid);
        float[] localIn = LogLikelihoods(ml, local, test), localOut = LogLikelihoods(ml, local, mnist);
        Add("likelihood ratio, local one-layer PixelCNN background",
            (ll, images) => Ratio(ll, images == mnist ? localOut : localIn));
        return new Dictionary<string, object>
        {
            ["model"] = $"PixelCNN, {Levels} levels ({PixelHead(s)}), {s.Layers} layers × {s.Channels} channels",
            ["validation_nll_bits_per_dim"] = Math.Round(-inValid.Average() / (784 * Math.Log(2)), 4),
            ["methods"] = rows,
            ["perturbation_choice"] = byMu,
        };
    }

    /// <summary>The likelihood ratio's score: <c>-log p(x) + log p_bg(x)</c>.</summary>
    private static float[] Ratio(float[] logLikelihoods, float[] backgroundLogLikelihoods) =>
        logLikelihoods.Select((v, i) => -v + backgroundLogLikelihoods[i]).ToArray();

    /// <summary>Each image inverted (1 - x) and turned upside down: a validation set of outliers.</summary>
    private static ImageSet InvertedUpsideDown(ImageSet images)
    {
        int h = images.Height, w = images.Width, d = images.Dimension;
        var pixels = new float[images.Pixels.Length];
        for (int n = 0; n < images.Count; n++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                    pixels[n * d + (h - 1 - i) * w + j] = 1f - images.Pixels[n * d + i * w + j];
        return new ImageSet(pixels, h, w, images.Labels);
    }

    // ---- Density ---------------------------------------------------------------------------------------------------

    private static List<Dictionary<string, object>> Density(MLContext ml, Settings s, ImageSet train, ImageSet valid)
    {
        var rows = new List<Dictionary<string, object>>
        {
            Row("independent pixels (Laplace-smoothed)", IndependentNll(train, valid), 0),
        };
        foreach (string name in s.Models)
        {
            var clock = Stopwatch.StartNew();
            var model = Fit(ml, s, $"density-{name}", FamilyOptions(s, name), train, valid);
            rows.Add(Row(name, -LogLikelihoods(ml, model, valid).Average(), clock.Elapsed.TotalMinutes));
        }
        return rows;

        static Dictionary<string, object> Row(string model, double nll, double minutes) => new()
        {
            ["model"] = model,
            ["validation_nll_nats"] = Math.Round(nll, 2),
            ["bits_per_dim"] = Math.Round(nll / (784 * Math.Log(2)), 4),
            ["minutes"] = Math.Round(minutes, 1),
        };
    }

    /// <summary>Mean NLL of the validation images under independent pixels fitted to the training images.</summary>
    private static double IndependentNll(ImageSet train, ImageSet valid)
    {
        int d = train.Dimension;
        var counts = new double[d * Levels];
        for (int n = 0; n < train.Count; n++)
            for (int i = 0; i < d; i++) counts[i * Levels + Level(train.Pixels[n * d + i])]++;
        double sum = 0;
        for (int n = 0; n < valid.Count; n++)
            for (int i = 0; i < d; i++)
                sum -= Math.Log((counts[i * Levels + Level(valid.Pixels[n * d + i])] + 1) / (train.Count + Levels));
        return sum / valid.Count;

        static int Level(float v) => (int)MathF.Round(v * (Levels - 1));
    }

    private static AutoregressiveDensityOptions FamilyOptions(Settings s, string name)
    {
        AutoregressiveDensityOptions o = name switch
        {
            "fvsbn" => new FvsbnDensityEstimator.Options(),
            "nade" => new NadeDensityEstimator.Options(),
            "made" => new MadeDensityEstimator.Options { HiddenSizes = [1000] },
            "pixelcnn" => PixelCnn(s, s.Layers, s.Channels),
            "wavenet" => new WaveNetDensityEstimator.Options(),
            "pixelrnn" => new PixelRnnDensityEstimator.Options { HiddenSize = 64 },
            _ => throw new ArgumentException($"Unknown model '{name}' for --models."),
        };
        o.Levels = Levels;
        o.MaximumNumberOfEpochs = s.Epochs;
        o.MaximumTrainingTime = TimeSpan.FromMinutes(s.BudgetMinutes);
        o.Seed = 1;
        return o;
    }

    // ---- One class -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Each class normal in turn: every detector is fitted on that class's training images (early stopping on its
    /// validation images) through the public detector API, and scores the 10,000 test images, the other nine classes
    /// anomalous. Detectors model <see cref="OneClassLevels"/> grey levels: a linear FVSBN at 256 levels would hold
    /// 157 M weights, and one class is a few thousand images.
    /// </summary>
    private static Dictionary<string, object> OneClass(MLContext ml, Settings s, ImageSet fashion)
    {
        if (fashion.Labels == null)
            throw new ArgumentException("--part oneclass needs the class labels: run it on the shared data, without " +
                "--data.");
        ImageSet test = fashion.Slice(ValidationEnd, TestEnd - ValidationEnd);
        var methods = new (string Name, Func<IDataView, IDataView, ITransformer> Fit)[]
        {
            ("FVSBN ÷ one-layer PixelCNN (likelihood ratio)", (t, v) => Detector(ml,
                Grey(new FvsbnDensityEstimator.Options(), s), AnomalyScoreCorrection.BackgroundLikelihoodRatio,
                Grey(new PixelCnnDensityEstimator.Options { Layers = 1, Channels = 16 }, s)).Fit(t, v)),
            ("FVSBN, raw", (t, v) => Detector(ml, Grey(new FvsbnDensityEstimator.Options(), s)).Fit(t, v)),
            ("FVSBN + input complexity", (t, v) => Detector(ml, Grey(new FvsbnDensityEstimator.Options(), s),
                AnomalyScoreCorrection.InputComplexity).Fit(t, v)),
            ("PixelCNN, raw", (t, v) => Detector(ml,
                Grey(new PixelCnnDensityEstimator.Options { Layers = s.Layers, Channels = s.Channels }, s)).Fit(t, v)),
            ("RandomizedPca (rank 20)", (t, _) =>
                ml.AnomalyDetection.Trainers.RandomizedPca("Pixels", rank: 20, seed: 1).Fit(t)),
        };
        var auroc = methods.ToDictionary(m => m.Name, _ => new double[10]);
        IDataView testView = test.ToDataView(ml);
        for (int c = 0; c < 10; c++)
        {
            int normal = c;
            IDataView train = fashion.Slice(0, Math.Min(s.Rows, TrainEnd)).Where(l => l == normal).ToDataView(ml),
                valid = fashion.Slice(TrainEnd, ValidationEnd - TrainEnd).Where(l => l == normal).ToDataView(ml);
            bool[] isNormal = test.Labels!.Select(l => l == normal).ToArray();
            foreach (var (name, fit) in methods)
            {
                float[] scores = fit(train, valid).Transform(testView).GetColumn<float>("Score").ToArray();
                auroc[name][c] = DetectionMetrics.Auroc(Pick(scores, isNormal, true), Pick(scores, isNormal, false));
                Console.Error.WriteLine($"  class {c}, {name}: AUROC {auroc[name][c]:F4}");
            }
        }
        return new Dictionary<string, object>
        {
            ["levels"] = OneClassLevels,
            ["mean_auroc"] = auroc.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value.Average(), 4)),
            ["auroc_per_class"] = auroc.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => Math.Round(v, 4))),
            ["published_geom_mean_auroc"] = 0.935,
        };

        static float[] Pick(float[] values, bool[] isNormal, bool normal) =>
            values.Where((_, i) => isNormal[i] == normal).ToArray();
    }

    /// <summary>Grey levels of the one-class detectors.</summary>
    private const int OneClassLevels = 16;

    private static AutoregressiveDensityOptions Grey(AutoregressiveDensityOptions o, Settings s)
    {
        o.Levels = OneClassLevels;
        o.MaximumNumberOfEpochs = s.Epochs;
        o.MaximumTrainingTime = TimeSpan.FromMinutes(s.BudgetMinutes);
        o.Seed = 1;
        return o;
    }

    private static AutoregressiveAnomalyDetector Detector(MLContext ml, AutoregressiveDensityOptions density,
        AnomalyScoreCorrection correction = AnomalyScoreCorrection.None,
        AutoregressiveDensityOptions? background = null) =>
        ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = density, ScoreCorrection = correction, BackgroundModel = background,
        });

    // ---- Shared ----------------------------------------------------------------------------------------------------

    private static string PixelHead(Settings s) =>
        s.Mixture > 0 ? $"mixture of {s.Mixture} logistics" : "softmax";

    /// <summary>A 256-level PixelCNN: a softmax per pixel, or <c>--mixture</c> M discretised logistics.</summary>
    private static PixelCnnDensityEstimator.Options PixelCnn(Settings s, int layers, int channels) => new()
    {
        Levels = Levels, MixtureComponents = s.Mixture, Layers = layers, Channels = channels,
        HeadChannels = 2 * channels, MaximumNumberOfEpochs = s.Epochs,
        MaximumTrainingTime = TimeSpan.FromMinutes(s.BudgetMinutes), Seed = 1,
    };

    /// <summary>
    /// Fits <paramref name="options"/> on the images, or loads <c>NAME.zip</c> from <c>--save-dir</c> when an earlier
    /// run saved it (and checkpoints there while training, so an interrupted run resumes).
    /// </summary>
    private static AutoregressiveDensityTransformer Fit(MLContext ml, Settings s, string name,
        AutoregressiveDensityOptions options, ImageSet train, ImageSet valid)
    {
        string? path = s.SaveDir == null ? null : Path.Combine(s.SaveDir, name + ".zip");
        if (path != null && File.Exists(path))
        {
            Console.Error.WriteLine($"{name}: loaded {path}");
            return (AutoregressiveDensityTransformer)ml.Model.Load(path, out _);
        }
        if (s.SaveDir != null)
        {
            Directory.CreateDirectory(s.SaveDir);
            options.CheckpointPath = Path.Combine(s.SaveDir, name + ".checkpoint");
        }
        Console.Error.WriteLine($"{name}: training on {train.Count} images");
        var model = (AutoregressiveDensityTransformer)options.CreateEstimator(
            MLNetAr.Interop.MlNetInterop.GetEnvironment(ml.Transforms)).Fit(train.ToDataView(ml), valid.ToDataView(ml),
            out _);
        if (path != null) ml.Model.Save(model, null, path);
        return model;
    }

    private static float[] LogLikelihoods(MLContext ml, AutoregressiveDensityTransformer model, ImageSet images) =>
        model.Transform(images.ToDataView(ml)).GetColumn<float>("LogLikelihood").ToArray();

    private static Settings Parse(IReadOnlyList<string> args)
    {
        var s = new Settings(["ood"], TrainEnd, 20, 20, 5, 32, [0.1f, 0.2f, 0.3f],
            ["fvsbn", "nade", "made", "pixelcnn", "wavenet", "pixelrnn"], null, null, 0);
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            static string[] List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries);
            s = args[i] switch
            {
                "--part" => s with { Parts = List(Value()) },
                "--rows" => s with { Rows = JudgeBenchmark.PositiveInt(Value(), "--rows") },
                "--epochs" => s with { Epochs = JudgeBenchmark.PositiveInt(Value(), "--epochs") },
                "--budget-minutes" => s with
                {
                    BudgetMinutes = PaperBenchmark.PositiveNumber(Value(),
                    "--budget-minutes")
                },
                "--layers" => s with { Layers = JudgeBenchmark.PositiveInt(Value(), "--layers") },
                "--channels" => s with { Channels = JudgeBenchmark.PositiveInt(Value(), "--channels") },
                "--mu" => s with
                {
                    Mus = List(Value()).Select(v => float.Parse(v, CultureInfo.InvariantCulture))
                    .ToArray()
                },
                "--models" => s with { Models = List(Value()) },
                "--save-dir" => s with { SaveDir = Value() },
                "--data" => s with { Data = Value() },
                "--mixture" => s with { Mixture = int.Parse(Value(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'."),
            };
        }
        string[] unknown = s.Parts.Except(["ood", "density", "oneclass"]).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"--part takes ood, density and oneclass, not {string.Join(", ", unknown)}.");
        if (s.Mus.Any(mu => !(mu > 0 && mu < 1))) throw new ArgumentException("--mu values must be in (0, 1).");
        return s;
    }
}
