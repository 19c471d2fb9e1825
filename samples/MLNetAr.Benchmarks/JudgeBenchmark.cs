using System.Diagnostics;
using MLNetAr.Data;
using MLNetAr.Data.Judge;

namespace MLNetAr.Benchmarks;

/// <summary>
/// Trains the digit judge (<see cref="DigitJudge"/>) on the first 8,000 embedded digits and writes it, with its
/// held-out accuracies, to <c>models/digit-judge/</c> (or <c>--out-dir</c>).
/// </summary>
/// <remarks>Usage: <c>judge [--epochs N] [--rows N] [--out-dir DIR]</c>. <c>--rows</c> shrinks the run for smoke
/// tests.</remarks>
internal static class JudgeBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        var options = new DigitJudge.TrainingOptions();
        string outDir = ShippedJudge.Folder;
        int? rows = null;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--epochs": options = options with { Epochs = PositiveInt(Value(), "--epochs") }; break;
                case "--rows": rows = PositiveInt(Value(), "--rows"); break;
                case "--out-dir": outDir = Value(); break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        var (train, _, heldOut) = ShippedJudge.Split(BenchmarkData.Digits());
        if (rows is int n) train = train.Slice(0, Math.Min(n, train.Count));
        var clock = Stopwatch.StartNew();
        DigitJudge judge = DigitJudge.Train(train, options, (epoch, loss) =>
            Console.Error.WriteLine($"  epoch {epoch}/{options.Epochs}: training loss {loss:F4}, " +
                $"{clock.Elapsed.TotalSeconds:F0} s"));
        double seconds = clock.Elapsed.TotalSeconds;
        double threshold = judge.Accuracy(heldOut.BinarizeThreshold().Pixels, heldOut.Labels);
        double bernoulli = judge.Accuracy(heldOut.BinarizeStochastic(seed: 1).Pixels, heldOut.Labels);
        var record = new ShippedJudge.Record
        {
            Command = ("dotnet run -c Release --project samples/MLNetAr.Benchmarks -- judge " + string.Join(' ', args))
                .TrimEnd(),
            Epochs = options.Epochs, TrainingImages = train.Count, HeldOutImages = heldOut.Count,
            ThresholdAccuracy = Math.Round(threshold, 4), BernoulliAccuracy = Math.Round(bernoulli, 4),
            TrainingSeconds = Math.Round(seconds, 1), Parameters = DigitJudge.ParameterCount,
        };
        ShippedJudge.Save(judge, outDir, record);
        Console.Error.WriteLine($"judge: held-out accuracy {threshold:P2} thresholded, {bernoulli:P2} " +
            $"Bernoulli-binarised, after {seconds:F0} s; written to {outDir}");
        return new Dictionary<string, object>
        {
            ["out_dir"] = outDir, ["sha256"] = record.Sha256, ["threshold_accuracy"] = record.ThresholdAccuracy,
            ["bernoulli_accuracy"] = record.BernoulliAccuracy, ["training_seconds"] = record.TrainingSeconds,
            ["epochs"] = record.Epochs, ["training_images"] = record.TrainingImages,
        };
    }

    internal static int PositiveInt(string text, string option) =>
        int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out int v) && v > 0 ? v
            : throw new ArgumentException($"{option} must be a positive integer, got '{text}'.");
}
