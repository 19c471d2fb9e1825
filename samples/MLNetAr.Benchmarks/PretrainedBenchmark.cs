using System.Globalization;
using Microsoft.ML;
using MLNetAr.Data;
using MLNetAr.Pretrained;

namespace MLNetAr.Benchmarks;

/// <summary>
/// Checks the shipped pretrained models: each file against its manifest entry (size, SHA-256), then its NLL on the
/// first validation images against the entry's <c>check_nll</c>. With <c>--record</c> it writes that NLL into the
/// manifest instead (for entries saved before the field existed).
/// </summary>
/// <remarks>Usage: <c>pretrained [--dir DIR] [--valid FILE] [--record]</c>; the folder defaults to
/// <c>models/binarized-mnist</c>, the data to the standard split in <c>../shared/data</c>.</remarks>
internal static class PretrainedBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        string? folder = null, validPath = null;
        bool record = false;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--dir": folder = Value(); break;
                case "--valid": validPath = Value(); break;
                case "--record": record = true; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        folder ??= PretrainedModels.FindFolder()
            ?? throw new ArgumentException($"No {PretrainedModels.BinarizedMnistFolder} found; pass --dir.");
        ImageSet valid = ImageSet.LoadIdx(validPath
            ?? PaperBenchmark.SharedData("binarized-mnist-valid-idx3-ubyte.gz"));
        var ml = new MLContext(seed: 1);
        var rows = new List<Dictionary<string, object>>();
        foreach (PretrainedModels.Entry entry in PretrainedModels.ReadManifest(folder))
        {
            double nll = CheckNll(ml, folder, entry, valid, record);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{entry.Name}: checksum ok, NLL {nll:F3} on the first {entry.CheckImages} validation images " +
                $"(manifest {entry.CheckNll:F3}); validation NLL {entry.ValidationNll:F3} on " +
                $"{entry.ValidationImages}"));
            rows.Add(new Dictionary<string, object>
            {
                ["name"] = entry.Name, ["check_nll"] = Math.Round(nll, 3), ["manifest_check_nll"] = entry.CheckNll,
                ["check_images"] = entry.CheckImages, ["validation_nll"] = entry.ValidationNll,
            });
        }
        return new Dictionary<string, object> { ["dir"] = folder, ["models"] = rows };
    }

    /// <summary>
    /// Loads <paramref name="entry"/>'s file (checked against the manifest) and returns its mean NLL on the first
    /// <see cref="PretrainedModels.DefaultCheckImages"/> images of <paramref name="valid"/>; with
    /// <paramref name="record"/>, writes it into the manifest entry.
    /// </summary>
    internal static double CheckNll(MLContext ml, string folder, PretrainedModels.Entry entry, ImageSet valid,
        bool record)
    {
        var model = (AutoregressiveDensityTransformer)PretrainedModels.Load(ml, entry.Name, folder, out _);
        int images = record ? Math.Min(PretrainedModels.DefaultCheckImages, valid.Count) : entry.CheckImages;
        if (images < 1)
            throw new InvalidDataException($"The manifest entry '{entry.Name}' has no check_nll; run `pretrained " +
                "--record` once.");
        double nll = Math.Round(TrainBenchmark.Nll(ml, model, valid.Slice(0, images), out _), 3);
        if (record)
        {
            entry.CheckNll = nll;
            entry.CheckImages = images;
            PretrainedModels.WriteEntry(folder, entry);
        }
        return nll;
    }
}
