using System.Text.Json;
using MLNetAr.Pretrained;

namespace MLNetAr.Data.Judge;

/// <summary>
/// The judge shipped in <c>models/digit-judge/</c> (<c>judge.bin</c> and its record <c>judge.json</c>: SHA-256,
/// the command that reproduces it, its held-out accuracies), and the split of the embedded digits it was made with.
/// </summary>
public static class ShippedJudge
{
    /// <summary>The judge's folder, relative to the repository's root.</summary>
    public const string Folder = "models/digit-judge";
    /// <summary>The weights' file name.</summary>
    public const string WeightsFile = "judge.bin";
    /// <summary>The record's file name.</summary>
    public const string RecordFile = "judge.json";

    private static JsonSerializerOptions Json => PretrainedModels.JsonOptions;

    /// <summary>Where the shipped judge came from and how well it classifies held-out real digits.</summary>
    public sealed class Record
    {
        /// <summary>SHA-256 of <c>judge.bin</c>, lower-case hex.</summary>
        public string Sha256 { get; set; } = "";
        /// <summary>The command that wrote (and reproduces) it.</summary>
        public string Command { get; set; } = "";
        /// <summary>Training epochs.</summary>
        public int Epochs { get; set; }
        /// <summary>Training digits (each seen thresholded and Bernoulli-binarised every epoch).</summary>
        public int TrainingImages { get; set; }
        /// <summary>Held-out real digits the accuracies are measured on.</summary>
        public int HeldOutImages { get; set; }
        /// <summary>Accuracy on the held-out digits thresholded at ½.</summary>
        public double ThresholdAccuracy { get; set; }
        /// <summary>Accuracy on the held-out digits Bernoulli-binarised (seed 1).</summary>
        public double BernoulliAccuracy { get; set; }
        /// <summary>Wall-clock training time.</summary>
        public double TrainingSeconds { get; set; }
        /// <summary>Trainable parameters.</summary>
        public int Parameters { get; set; }
    }

    /// <summary>
    /// The embedded digits' split for judging: the judge trains on the first 8,000, the reference statistics of the
    /// Fréchet distance come from the next 1,000, and the last 1,000 are the held-out real digits scored as the
    /// ceiling (the main job's test split). The judge never sees the last 2,000.
    /// </summary>
    public static (ImageSet Train, ImageSet Reference, ImageSet HeldOut) Split(ImageSet digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        return (digits.Slice(0, 8000), digits.Slice(8000, 1000), digits.Slice(9000, 1000));
    }

    /// <summary>
    /// Loads the shipped judge after checking its SHA-256 against its record.
    /// </summary>
    /// <exception cref="FileNotFoundException">No <c>models/digit-judge</c> above the working directory or the
    /// program, or its weights are missing.</exception>
    /// <exception cref="InvalidDataException">The weights differ from the record.</exception>
    public static DigitJudge Load(out Record record)
    {
        string folder = PretrainedModels.FindFolder(Folder, RecordFile)
            ?? throw new FileNotFoundException($"No '{Folder}/{RecordFile}' above " +
                $"'{Directory.GetCurrentDirectory()}' or '{AppContext.BaseDirectory}': run from a clone of the " +
                "repository, or reproduce the judge with " +
                "`dotnet run -c Release --project samples/MLNetAr.Benchmarks -- judge`.");
        record = JsonSerializer.Deserialize<Record>(File.ReadAllText(Path.Combine(folder, RecordFile)), Json)
            ?? throw new InvalidDataException($"'{Path.Combine(folder, RecordFile)}' is empty.");
        return DigitJudge.Load(Path.Combine(folder, WeightsFile), record.Sha256);
    }

    /// <summary>
    /// Writes <paramref name="judge"/> and its record (the SHA-256 filled in) into <paramref name="folder"/>.
    /// </summary>
    public static void Save(DigitJudge judge, string folder, Record record)
    {
        ArgumentNullException.ThrowIfNull(judge);
        ArgumentNullException.ThrowIfNull(record);
        Directory.CreateDirectory(folder);
        string weights = Path.Combine(folder, WeightsFile);
        judge.Save(weights);
        record.Sha256 = PretrainedModels.Sha256(weights);
        File.WriteAllText(Path.Combine(folder, RecordFile), JsonSerializer.Serialize(record, Json) + "\n");
    }
}
