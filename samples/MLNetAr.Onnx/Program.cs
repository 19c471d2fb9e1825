using System.Diagnostics;
using Microsoft.ML;
using MLNetAr.OnnxSample;

// Scoring at scale with ONNX. Usage:
//   dotnet run -c Release --project samples/MLNetAr.Onnx [-- --images DIR] [--out DIR] [--batch 256] [--epochs 10]
// Fits an MLNetAr anomaly detector on the embedded digit 0s, exports it with mlContext.Model.ConvertToOnnx to
// DIR/detector.onnx (default out/onnx) and scores every image of --images (default: 1000 held-out digits it writes to
// DIR/images) with ONNX Runtime in parallel batches, most anomalous first.
string outDir = Path.Combine("out", "onnx");
string? images = null;
int batch = 256, epochs = 10;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--images": images = args[++i]; break;
        case "--out": outDir = args[++i]; break;
        case "--batch": batch = int.Parse(args[++i]); break;
        case "--epochs": epochs = int.Parse(args[++i]); break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. See the usage at the top of " +
                $"samples/MLNetAr.Onnx/Program.cs.");
            return 2;
    }
}

Directory.CreateDirectory(outDir);
var clock = Stopwatch.StartNew();
var ml = new MLContext(seed: 1);
var detector = ScoringAtScale.TrainDetector(ml, normalDigit: 0, epochs);
string onnxPath = Path.Combine(outDir, "detector.onnx");
ScoringAtScale.Export(ml, detector, onnxPath);
Console.WriteLine($"Detector (FVSBN ÷ one-layer PixelCNN, normal = digit 0) trained in " +
    $"{clock.Elapsed.TotalSeconds:F0} s and exported to {onnxPath} " +
    $"({new FileInfo(onnxPath).Length / 1024.0:F0} KB); threshold {detector.Threshold:F2} nats.");
if (images == null)
{
    images = Path.Combine(outDir, "images");
    ScoringAtScale.WriteDigitImages(images, 1000);
}

var (scored, rate) = ScoringAtScale.ScoreFolder(onnxPath, images, batch);
Console.WriteLine($"Scored {scored.Count} images from {images} with ONNX Runtime: {rate:F0} images/s (decoding " +
    $"included), {scored.Count(s => s.Anomalous)} flagged anomalous.");
if (scored.All(s => Path.GetFileName(s.File).StartsWith("digit", StringComparison.Ordinal)))
    Console.WriteLine($"AUC (digit 0 normal, other digits anomalous): {ScoringAtScale.DigitAuc(scored, 0):F3}");
Console.WriteLine("score (nats)  anomalous  image   (10 most anomalous)");
foreach (var s in scored.OrderByDescending(s => s.Score).Take(10))
    Console.WriteLine($"{s.Score,12:F2}  {(s.Anomalous ? "yes" : "no"),9}  {Path.GetFileName(s.File)}");
return 0;
