using System.Text.Json;
using MLNetAr.Benchmarks;

// MLNetAr benchmarks. Usage:
//   dotnet run -c Release --project samples/MLNetAr.Benchmarks -- gemm [m n k] [--threads N] [--out file.json]
//   dotnet run -c Release --project samples/MLNetAr.Benchmarks -- train --model fvsbn|nade|made|pixelcnn|wavenet|pixelrnn [--set Name=Value ...]
//       [--train FILE --valid FILE [--test FILE]] [--samples N] [--threads N] [--out file.json]
//   dotnet run -c Release --project samples/MLNetAr.Benchmarks -- anomaly [epochs] [--only name,name] [--seed s] [--out file.json]
//   dotnet run -c Release --project samples/MLNetAr.Benchmarks -- anomaly-textures [--normal brick,grass,gravel] [--set Name=Value ...] [--report] [--out file.json]
//   dotnet run -c Release --project samples/MLNetAr.Benchmarks -- probe [epochs] [--out file.json]
//   dotnet run -c Release --project samples/MLNetAr.Benchmarks -- score [--only name,name | --model M --set Name=Value ...] [--images N] [--repeats R] [--out file.json]
string command = args.Length > 0 ? args[0] : "gemm";
string? outPath = null;
var rest = new List<string>();
for (int i = 1; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length) outPath = args[++i];
    else if (args[i] == "--threads" && i + 1 < args.Length) MLNetAr.Kernels.Kernels.MaxDegreeOfParallelism = int.Parse(args[++i]);
    else rest.Add(args[i]);
}

Dictionary<string, object> report = command switch
{
    "gemm" => GemmBenchmark.Run(
        rest.Count > 0 ? int.Parse(rest[0]) : 512, rest.Count > 1 ? int.Parse(rest[1]) : 784, rest.Count > 2 ? int.Parse(rest[2]) : 784, repeats: 100),
    "train" => TrainBenchmark.Run(rest),
    "anomaly" => AnomalyBenchmark.Run(rest),
    "anomaly-textures" => TextureBenchmark.Run(rest),
    "probe" => ProbeBenchmark.Run(rest),
    "score" => ScoreBenchmark.Run(rest),
    _ => throw new ArgumentException($"Unknown benchmark '{command}'. Known: gemm, train, anomaly, anomaly-textures, probe, score."),
};
report["benchmark"] = command;
report["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
string json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
Console.WriteLine(json);
if (outPath != null) File.WriteAllText(outPath, json);
