using System.CommandLine;
using System.Text.Json;
using MLNetAr.Benchmarks;
using MLNetAr.Kernels;

// MLNetAr benchmarks (--help lists them; an unknown command or option is an error with the usage). Each runs as
//   dotnet run -c Release --project samples/MLNetAr.Benchmarks -- <benchmark> [options] [--threads N] [--out file.json]
// with <benchmark> one of: gemm [m n k]; conv [--batch B] [--rounds R] ...; train --model M [--set Name=Value ...];
// anomaly [epochs] [--only name,name] [--seed s]; anomaly-textures [--normal brick,grass,gravel] [--set ...];
// paper [--model fvsbn,nade,...] [--budget-minutes N] [--test FILE]; probe [epochs]; score [--only name,name | --model
// M --set Name=Value ...] [--images N] [--repeats R]. The table below gives each one's full options.
var outPath = new Option<string?>("--out")
{
    Description = "Also write the JSON report to this file.",
    Recursive = true
};
var threads = new Option<int?>("--threads")
{
    Description = "Threads the kernels may use (default: every core).",
    Recursive = true
};
var root = new RootCommand("MLNetAr benchmarks: each prints a JSON report.") { outPath, threads };

// Each benchmark parses its own options (and rejects unknown ones, naming those it knows); these are its descriptions.
var benchmarks = new (string Name, string Description, Func<IReadOnlyList<string>, Dictionary<string, object>> Run)[]
{
    ("gemm", "GEMM throughput in the three transposition cases: gemm [m n k].", args =>
        GemmBenchmark.Run(Size(args, 0, 512), Size(args, 1, 784), Size(args, 2, 784), repeats: 100)),
    ("conv", "The convolutional training step against the GEMM peak, interleaved: [--batch B] [--rounds R] " +
        "[--steps S] [--layers L] [--channels C] [--kernel K].", ConvolutionBenchmark.Run),
    ("train", "Train and evaluate one model: --model M [--set Name=Value ...] [--train FILE --valid FILE [--test " +
        "FILE]] [--samples N] [--naive-samples N] [--rows N] [--sample-grid FILE] [--save-model FILE].",
        TrainBenchmark.Run),
    ("anomaly", "One-class anomaly detection on the digits: [epochs] [--only name,name] [--seed s].",
        AnomalyBenchmark.Run),
    ("anomaly-textures",
        "Texture anomaly detection and localisation: [--normal brick,grass,gravel] [--set Name=Value ...] [--report].",
        TextureBenchmark.Run),
    ("paper", "The published table on the standard binarized MNIST: [--model " +
        "fvsbn,nade,made,made-1x1000,made-ensemble,pixelcnn,wavenet,pixellstm] [--budget-minutes N] [--test FILE] " +
        "[--out-dir DIR] [--checkpoint-dir DIR] [--save-dir DIR] [--max-epochs N].",
        PaperBenchmark.Run),
    ("probe", "Linear probe on HiddenFeatures: [epochs].", ProbeBenchmark.Run),
    ("judge", "Train the digit judge on the embedded digits and write it to models/digit-judge: [--epochs N] " +
        "[--rows N] [--out-dir DIR].", JudgeBenchmark.Run),
    ("pretrained", "Check the shipped pretrained models against their manifest (checksum, NLL on the first " +
        "validation images): [--dir DIR] [--valid FILE] [--record].", PretrainedBenchmark.Run),
    ("generation", "How digit-like a saved model's samples are, by the digit judge: --model FILE|NAME [--samples N] " +
        "[--temperature T] [--seed S] [--real bernoulli|threshold] [--grid FILE.png] [--diagnose] " +
        "[--also-judge FILE.idx].", GenerationBenchmark.Run),
    ("fashion", "Grey levels on Fashion-MNIST: out-of-distribution against MNIST, density in bits/dim, one-class: " +
        "[--part ood,density,oneclass] [--rows N] [--epochs N] [--budget-minutes M] [--layers L] [--channels C] " +
        "[--mixture M] [--mu 0.1,0.2,0.3] [--models fvsbn,nade,...] [--save-dir DIR] [--data FILE].",
        FashionBenchmark.Run),
    ("score", "Scoring throughput of every path: [--only name,name | --model M --set Name=Value ...] [--images N] " +
        "[--repeats R].", ScoreBenchmark.Run),
};
foreach (var (name, description, run) in benchmarks)
{
    var command = new Command(name, description) { TreatUnmatchedTokensAsErrors = false };
    command.SetAction(parsed =>
    {
        if (parsed.GetValue(threads) is int n) Kernel.MaxDegreeOfParallelism = n;
        Dictionary<string, object> report;
        try
        {
            report = run(parsed.UnmatchedTokens);
        }
        catch (ArgumentException e) // an unknown or malformed option of this benchmark
        {
            Console.Error.WriteLine($"{name}: {e.Message}\nUsage: {name} {description}");
            return 2;
        }
        report["benchmark"] = name;
        report["machine"] = $"{Environment.ProcessorCount} cores, " +
            $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
        string json = JsonSerializer.Serialize(report, BenchmarkData.Json);
        Console.WriteLine(json);
        if (parsed.GetValue(outPath) is string path) File.WriteAllText(path, json);
        return 0;
    });
    root.Subcommands.Add(command);
}
return root.Parse(args).Invoke();

// The i-th size argument of gemm, or its default; an ArgumentException (shown with the usage) when malformed.
static int Size(IReadOnlyList<string> args, int i, int fallback) =>
    args.Count <= i ? fallback
    : int.TryParse(args[i], System.Globalization.CultureInfo.InvariantCulture, out int size) && size > 0 ? size
    : throw new ArgumentException($"Size '{args[i]}' is not a positive integer.");
