using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;
using MLNetAr.Pretrained;

namespace MLNetAr.Benchmarks;

/// <summary>
/// The published table on the standard binarized MNIST (Larochelle &amp; Murray split): trains each model with its
/// documented recipe on the 50,000 training images, early-stops on the 10,000 validation images, and writes
/// <c>paper.json</c> and <c>paper.md</c> (validation NLL, test NLL when <c>--test</c> is given, epochs, wall time,
/// seconds per epoch, parameters, the curve) next to the published test NLL.
/// </summary>
/// <remarks>
/// Usage: <c>paper [--model fvsbn,nade,...] [--budget-minutes N] [--test FILE] [--train FILE --valid FILE]
/// [--out-dir DIR] [--checkpoint-dir DIR] [--save-dir DIR] [--rows N] [--max-epochs N]</c>. With
/// <c>--checkpoint-dir</c> each model checkpoints every epoch and a later run with the same recipe resumes it (its
/// budget counts from the resume). With <c>--save-dir</c> each fitted model is saved there as <c>NAME.zip</c>
/// (<c>mlContext.Model.Save</c>) and its entry in the folder's <c>manifest.json</c> (see
/// <see cref="PretrainedModels"/>) is written anew: checksum, command, epochs, time, validation NLL, commit. Data
/// defaults to <c>../shared/data</c> (found from the working directory or the program's folder). <c>--rows</c> and
/// <c>--max-epochs</c> shrink a run for smoke tests.
/// </remarks>
internal static class PaperBenchmark
{
    /// <summary>One row of the table: how the model is trained, and what the papers report for it.</summary>
    /// <param name="Name">Name on the command line.</param>
    /// <param name="Title">Row title.</param>
    /// <param name="Published">Published test NLL (nats) and where.</param>
    /// <param name="Goal">The project's goal on the validation split.</param>
    /// <param name="BudgetMinutes">Default wall-clock budget.</param>
    /// <param name="Description">The documented recipe, in words.</param>
    /// <param name="Options">The estimator's options, given the epoch cap and time budget.</param>
    internal sealed record Recipe(string Name, string Title, string Published, string Goal, double BudgetMinutes,
        string Description, Func<int?, TimeSpan, AutoregressiveDensityOptions> Options);

    internal static readonly Recipe[] Recipes =
    [
        new("fvsbn", "FVSBN", "97.45 (Larochelle & Murray 2011)", "≤ 98.0", 10,
            "Adam 3e-3, batch 100, L1 1e-4 and L2 1e-4 on the weights, cosine decay over 60 epochs",
            (epochs, budget) => new FvsbnDensityEstimator.Options
            {
                LearningRate = 3e-3f, L1Regularization = 1e-4f, L2Regularization = 1e-4f,
                LearningRateSchedule = LearningRateSchedule.CosineDecay, MaximumNumberOfEpochs = epochs ?? 60,
                EarlyStoppingPatience = 5, MaximumTrainingTime = budget, Seed = 1,
            }),
        new("nade", "NADE, H = 500, sigmoid", "88.86 (Larochelle & Murray 2011); 88.35 (Uria et al. 2014)",
            "≤ 89.0 within 1 h", 60,
            "Adam 1e-3, batch 100, reduce-on-plateau ×0.5 after 3 epochs, look-ahead 8",
            (epochs, budget) => new NadeDensityEstimator.Options
            {
                HiddenSize = 500, Activation = HiddenActivation.Sigmoid, LearningRate = 1e-3f,
                LearningRateSchedule = LearningRateSchedule.ReduceOnPlateau, PlateauPatience = 3,
                    MaximumNumberOfEpochs = epochs ?? 300,
                EarlyStoppingPatience = 8, MaximumTrainingTime = budget, Seed = 1,
            }),
        new("made", "MADE, 1 × 8000, one mask", "88.40 (Germain et al. 2015)", "≤ 89.5", 60,
            "Adam 1e-3, batch 100, L2 1e-5, reduce-on-plateau ×0.3 after 1 epoch, look-ahead 3",
            (epochs, budget) => OneMaskMade(8000, epochs, budget)),
        new("made-ensemble", "MADE, 2 × 2000, direct connections, 32 masks, ensemble of 32",
            "86.64 (Germain et al. 2015)", "≤ 88.0", 120,
            "connectivity-agnostic training over 32 masks in the natural order, Adam 1e-3, batch 100, look-ahead 10 " +
                "on the ensemble; scored as the mean probability of the 32 masks",
            (epochs, budget) => MadeEnsemble(epochs, budget)),
        // The next steps for the ensemble, whose curve flattened into over-fitting at a constant rate (issue 29).
        new("made-ensemble-plateau", "MADE ensemble as above, learning rate reduced on plateaus",
            "86.64 (Germain et al. 2015)", "≤ 88.0", 120,
            "as made-ensemble, with the learning rate ×0.5 after 2 epochs without improvement on the ensemble, " +
                "look-ahead 10",
            (epochs, budget) => MadeEnsemble(epochs, budget, o =>
            {
                o.LearningRateSchedule = LearningRateSchedule.ReduceOnPlateau;
                o.LearningRateDecayFactor = 0.5f;
                o.PlateauPatience = 2;
            })),
        new("made-ensemble-adagrad", "MADE ensemble as above, trained with Adagrad as published",
            "86.64 (Germain et al. 2015)", "≤ 88.0", 120,
            "as made-ensemble, with the paper's optimiser: Adagrad 1e-2 (the paper chose its rate on validation; " +
                "this is the first value to try), look-ahead 30 as the paper",
            (epochs, budget) => MadeEnsemble(epochs, budget, o =>
            {
                o.Optimizer = TrainingOptimizer.Adagrad;
                o.LearningRate = 1e-2f;
                o.EarlyStoppingPatience = 30;
            })),
        new("made-1x1000", "MADE, 1 × 1000, one mask (the pretrained size)", "88.40 (1 × 8000; Germain et al. 2015)",
            "stated", 30, "as MADE 1 × 8000, with 1000 hidden units so that the model file stays small",
            (epochs, budget) => OneMaskMade(1000, epochs, budget)),
        new("pixelcnn", "Gated PixelCNN, 14 layers × 32, 5×5 (the default for 28×28)",
            "81.30 (van den Oord et al. 2016)", "as low as 2 h allow", 120,
            "Adam 1e-3, batch 32, look-ahead 3",
            (epochs, budget) => new PixelCnnDensityEstimator.Options
            {
                BatchSize = 32, LearningRate = 1e-3f, MaximumNumberOfEpochs = epochs ?? 100, EarlyStoppingPatience = 3,
                MaximumTrainingTime = budget, Seed = 1,
            }),
        new("wavenet", "WaveNet, 32 channels, dilations covering 784 pixels (the default)",
            "none on this split", "stated", 60, "Adam 1e-3, batch 32, look-ahead 3",
            (epochs, budget) => new WaveNetDensityEstimator.Options
            {
                BatchSize = 32, LearningRate = 1e-3f, MaximumNumberOfEpochs = epochs ?? 100, EarlyStoppingPatience = 3,
                MaximumTrainingTime = budget, Seed = 1,
            }),
        new("pixellstm", "Pixel LSTM, 2 layers × 64", "79.20 (Diagonal BiLSTM, van den Oord et al. 2016)", "stated", 60,
            "Adam 1e-3, batch 100, gradient clipping 1, look-ahead 3",
            (epochs, budget) => new PixelRnnDensityEstimator.Options
            {
                Layers = 2, HiddenSize = 64, LearningRate = 1e-3f, MaximumNumberOfEpochs = epochs ?? 100,
                EarlyStoppingPatience = 3, MaximumTrainingTime = budget, Seed = 1,
            }),
    ];

    // The commit the run started from: a long run's tree may change while it trains.
    private static string startCommit = "unknown";

    /// <summary>The one-mask MADE recipe (Germain et al.'s 1 × 8000 row) at <paramref name="hidden"/> units.</summary>
    /// <summary>
    /// The 32-mask ensemble of <c>made-ensemble</c> (2 × 2000, direct connections, natural order, Adam 1e-3, look-ahead
    /// 10), with <paramref name="change"/> applied for the recipes that try its next steps.
    /// </summary>
    private static MadeDensityEstimator.Options MadeEnsemble(int? epochs, TimeSpan budget,
        Action<MadeDensityEstimator.Options>? change = null)
    {
        var options = new MadeDensityEstimator.Options
        {
            HiddenSizes = [2000, 2000], DirectConnections = true, InputOrder = InputOrder.Natural,
            NumberOfMasks = 32, EnsembleSize = 32, LearningRate = 1e-3f, MaximumNumberOfEpochs = epochs ?? 1000,
            EarlyStoppingPatience = 10, MaximumTrainingTime = budget, Seed = 1,
        };
        change?.Invoke(options);
        return options;
    }

    private static MadeDensityEstimator.Options OneMaskMade(int hidden, int? epochs, TimeSpan budget) => new()
    {
        HiddenSizes = [hidden], LearningRate = 1e-3f, L2Regularization = 1e-5f,
        LearningRateSchedule = LearningRateSchedule.ReduceOnPlateau, LearningRateDecayFactor = 0.3f,
        PlateauPatience = 1,
        MaximumNumberOfEpochs = epochs ?? 100, EarlyStoppingPatience = 3, MaximumTrainingTime = budget, Seed = 1,
    };

    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        startCommit = GitCommit();
        var models = Recipes.Select(r => r.Name).ToList();
        double? budgetMinutes = null;
        int? rows = null, maxEpochs = null;
        string? trainPath = null, validPath = null, testPath = null;
        string outDir = Path.Combine("artifacts", "paper");
        string? checkpointDir = null, saveDir = null;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--model":
                    models = Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(m =>
                        m.ToLowerInvariant()).ToList();
                    foreach (string m in models.Where(m => Recipes.All(r => r.Name != m)))
                        throw new ArgumentException($"Unknown model '{m}'. Known: " +
                            $"{string.Join(", ", Recipes.Select(r => r.Name))}.");
                    break;
                case "--budget-minutes": budgetMinutes = PositiveNumber(Value(), "--budget-minutes"); break;
                case "--test": testPath = Value(); break;
                case "--train": trainPath = Value(); break;
                case "--valid": validPath = Value(); break;
                case "--out-dir": outDir = Value(); break;
                case "--checkpoint-dir": checkpointDir = Directory.CreateDirectory(Value()).FullName; break;
                case "--save-dir": saveDir = Directory.CreateDirectory(Value()).FullName; break;
                case "--rows": rows = (int)PositiveNumber(Value(), "--rows"); break;
                case "--max-epochs": maxEpochs = (int)PositiveNumber(Value(), "--max-epochs"); break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        trainPath ??= SharedData("binarized-mnist-train-idx3-ubyte.gz");
        validPath ??= SharedData("binarized-mnist-valid-idx3-ubyte.gz");
        ImageSet train = ImageSet.LoadIdx(trainPath), valid = ImageSet.LoadIdx(validPath);
        ImageSet? test = testPath == null ? null : ImageSet.LoadIdx(testPath);
        if (rows is int n)
        {
            train = train.Slice(0, Math.Min(n, train.Count));
            valid = valid.Slice(0, Math.Min(Math.Max(1, n / 5), valid.Count));
        }

        var results = new List<Dictionary<string, object>>();
        Directory.CreateDirectory(outDir);
        foreach (Recipe recipe in Recipes.Where(r => models.Contains(r.Name)))
        {
            results.Add(Train(recipe, train, valid, test, maxEpochs,
                TimeSpan.FromMinutes(budgetMinutes ?? recipe.BudgetMinutes), checkpointDir, saveDir, args));
            // after every model, so a long run's finished rows are never lost
            Write(outDir, train, valid, test, results);
        }
        return new Dictionary<string, object>
        {
            ["data"] = DataDescription(train, valid, test), ["results"] = results,
            ["out_dir"] = outDir
        };
    }

    private static Dictionary<string, object> Train(Recipe recipe, ImageSet train, ImageSet valid, ImageSet? test,
        int? maxEpochs, TimeSpan budget, string? checkpointDir, string? saveDir, IReadOnlyList<string> args)
    {
        Console.Error.WriteLine($"== {recipe.Title}: {recipe.Description}; budget {budget.TotalMinutes:F0} min");
        var ml = BenchmarkData.ContextWithTrainingLog();
        var clock = Stopwatch.StartNew();
        AutoregressiveDensityOptions options = recipe.Options(maxEpochs, budget);
        // A checkpoint lets a budget-bound run go on where it stopped: the next run with the same recipe resumes it.
        if (checkpointDir != null) options.CheckpointPath = Path.Combine(checkpointDir, recipe.Name + ".checkpoint");
        AutoregressiveDensityTransformer fitted =
            TrainBenchmark.Fitter(ml, options)(train.ToDataView(ml), valid.ToDataView(ml));
        double seconds = clock.Elapsed.TotalSeconds;
        var history = fitted.TrainingHistory;
        var best = history.Where(h => double.IsFinite(h.ValidationNll)).MinBy(h => h.ValidationNll) ?? history[^1];
        var row = new Dictionary<string, object>
        {
            ["model"] = recipe.Name,
            ["title"] = recipe.Title,
            ["recipe"] = recipe.Description,
            ["published_test_nll"] = recipe.Published,
            ["goal_validation_nll"] = recipe.Goal,
            ["validation_nll"] = Math.Round(TrainBenchmark.Nll(ml, fitted, valid, out _), 3),
            ["epochs"] = history.Count,
            ["best_epoch"] = best.Epoch,
            ["wall_seconds"] = Math.Round(seconds, 1),
            ["seconds_per_epoch"] = Math.Round(history.Average(h => h.Seconds), 2),
            ["parameters"] = fitted.ParameterCount,
            ["budget_minutes"] = budget.TotalMinutes,
            ["curve"] = history.Select(h =>
                new[] { h.Epoch, Math.Round(h.TrainingNll, 3), Math.Round(h.ValidationNll, 3),
                Math.Round(h.LearningRate, 6) }).ToArray(),
        };
        if (test != null) row["test_nll"] = Math.Round(TrainBenchmark.Nll(ml, fitted, test, out _), 3);
        if (saveDir != null)
        {
            PretrainedModels.Entry saved = PretrainedModels.Save(ml, fitted, train.ToDataView(ml).Schema, saveDir,
                new PretrainedModels.Entry
                {
                    Name = recipe.Name, Title = recipe.Title, Recipe = recipe.Description,
                    Command = "dotnet run -c Release --project samples/MLNetAr.Benchmarks -- paper " +
                        string.Join(' ', args),
                    Reproduce = "dotnet run -c Release --project samples/MLNetAr.Benchmarks -- paper --model " +
                        $"{recipe.Name} --max-epochs {history.Count} --save-dir DIR",
                    Epochs = history.Count, BestEpoch = best.Epoch,
                    TrainingMinutes = Math.Round(history.Sum(h => h.Seconds) / 60, 1),
                    ValidationNll = (double)row["validation_nll"],
                    ValidationImages = valid.Count, TrainingImages = train.Count,
                    Parameters = fitted.ParameterCount, Commit = startCommit,
                });
            // Scored again from the saved file: the figure the tests recompute from what ships.
            row["check_nll"] = PretrainedBenchmark.CheckNll(ml, saveDir, saved, valid, record: true);
            row["saved"] = saved.File;
        }
        Console.Error.WriteLine($"== {recipe.Title}: validation NLL {row["validation_nll"]} after " +
            $"{history.Count} epochs (best {best.Epoch}), {seconds / 60:F1} min");
        return row;
    }

    private static void Write(string outDir, ImageSet train, ImageSet valid, ImageSet? test,
        List<Dictionary<string, object>> results)
    {
        var report = new Dictionary<string, object>
        {
            ["data"] = DataDescription(train, valid, test),
            ["results"] = results
        };
        File.WriteAllText(Path.Combine(outDir, "paper.json"), JsonSerializer.Serialize(report, BenchmarkData.Json));
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Standard binarized MNIST: {train.Count} training / " +
            $"{valid.Count} validation{(test != null ? $" / {test.Count} test" : "")} images; NLL in nats.");
        md.AppendLine();
        md.AppendLine($"| model | validation NLL |{(test != null ? " test NLL |" : "")} published test NLL | goal " +
            $"(validation) | epochs (best) | wall time | s/epoch | parameters |");
        md.AppendLine($"|---|---|{(test != null ? "---|" : "")}---|---|---|---|---|---|");
        foreach (var r in results)
        {
            string testCell = test != null ? $" {r["test_nll"]} |" : "";
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r["title"]} | {r["validation_nll"]} |{testCell} {r["published_test_nll"]} | " +
                    $"{r["goal_validation_nll"]} | {r["epochs"]} ({r["best_epoch"]}) | " +
                    $"{(double)r["wall_seconds"] / 60:F1} min | {r["seconds_per_epoch"]} | {r["parameters"]:N0} |");
        }
        md.AppendLine();
        foreach (var r in results) md.AppendLine(CultureInfo.InvariantCulture, $"- {r["title"]}: {r["recipe"]}.");
        File.WriteAllText(Path.Combine(outDir, "paper.md"), md.ToString());
    }

    private static Dictionary<string, object> DataDescription(ImageSet train, ImageSet valid, ImageSet? test) =>
        new()
        {
            ["train"] = train.Count, ["validation"] = valid.Count, ["test"] = test?.Count ?? 0,
            ["pixels"] = train.Dimension
        };

    /// <summary>
    /// The commit the program runs from, with "+dirty" when the work tree has changes; "unknown" outside git.
    /// </summary>
    private static string GitCommit()
    {
        static string Git(string arguments)
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
            string output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : throw new InvalidOperationException(output);
        }
        try
        {
            string head = Git("rev-parse HEAD");
            return Git("status --porcelain --untracked-files=no").Length == 0 ? head : head + "+dirty";
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    internal static double PositiveNumber(string text, string option) =>
        double.TryParse(text, CultureInfo.InvariantCulture, out double v) && v > 0 ? v
            : throw new ArgumentException($"{option} must be a positive number, got '{text}'.");

    /// <summary>
    /// A file of <c>../shared/data</c>, looked for beside the working directory and the program's folders.
    /// </summary>
    internal static string SharedData(string file)
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", "data", file);
                if (File.Exists(candidate)) return Path.GetFullPath(candidate);
            }
        throw new ArgumentException($"'{file}' not found in ../shared/data; pass --train and --valid.");
    }
}
