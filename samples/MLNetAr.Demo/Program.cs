using System.Diagnostics;
using MLNetAr.Demo;

// The main job. Usage:
//   dotnet run -c Release --project samples/MLNetAr.Demo [-- --out DIR] [--quick]
//       trains FVSBN, NADE and MADE on the embedded digits and writes DIR/index.html (default out/report)
//   dotnet run -c Release --project samples/MLNetAr.Demo -- --train-images DIR --model model.zip [--size 28] [--epochs 30] [--levels K]
//       trains an anomaly detector on your own images (LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels);
//       grey-level images keep K grey levels (default 16), binary ones use a binary model
//   dotnet run -c Release --project samples/MLNetAr.Demo -- --score-images DIR --model model.zip
//       scores new images with a saved model, most anomalous first
string outDir = Path.Combine("out", "report");
string? trainImages = null, scoreImages = null, modelPath = null;
bool quick = false;
int size = 28, epochs = 30;
int? levels = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out": outDir = args[++i]; break;
        case "--quick": quick = true; break;
        case "--train-images": trainImages = args[++i]; break;
        case "--score-images": scoreImages = args[++i]; break;
        case "--model": modelPath = args[++i]; break;
        case "--size": size = int.Parse(args[++i]); break;
        case "--epochs": epochs = int.Parse(args[++i]); break;
        case "--levels": levels = int.Parse(args[++i]); break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. See the usage at the top of samples/MLNetAr.Demo/Program.cs.");
            return 2;
    }
}

if (trainImages != null || scoreImages != null)
{
    if (modelPath == null)
    {
        Console.Error.WriteLine("--train-images and --score-images need --model PATH.");
        return 2;
    }
    if (trainImages != null) UserImages.Train(trainImages, modelPath, size, epochs, levels);
    if (scoreImages != null) UserImages.Score(scoreImages, modelPath);
    return 0;
}

var clock = Stopwatch.StartNew();
string page = DigitsReport.Write(outDir, quick ? ReportSettings.Quick : ReportSettings.Full, Console.WriteLine);
Console.WriteLine($"Report written to {Path.GetFullPath(page)} in {clock.Elapsed.TotalSeconds:F0} s. Open it in a browser.");
return 0;
