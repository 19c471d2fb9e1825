using System.CommandLine;
using System.Diagnostics;
using MLNetAr.Demo;

// The main job. Usage (--help prints it; an unknown or misspelt option is an error with this usage): dotnet run -c
// Release --project samples/MLNetAr.Demo [-- --out DIR] [--quick] trains the models on the embedded digits and textures
// and writes DIR/index.html (default out/report) dotnet run -c Release --project samples/MLNetAr.Demo -- --train-images
// DIR --model model.zip [--size 28] [--epochs 30] [--levels K] trains an anomaly detector on your own images
// (LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels); grey-level images keep K grey levels (default 16),
// binary ones use a binary model dotnet run -c Release --project samples/MLNetAr.Demo -- --score-images DIR --model
// model.zip scores new images with a saved model, most anomalous first
var outDir = new Option<string>("--out")
{
    Description = "Report folder.", DefaultValueFactory = _ =>
    Path.Combine("out", "report")
};
var quick = new Option<bool>("--quick") { Description = "A seconds-long report (small models, few epochs)." };
var trainImages = new Option<string?>("--train-images")
{
    Description = "Train an anomaly detector on the images of this folder (needs --model)."
};
var scoreImages = new Option<string?>("--score-images")
{
    Description = "Score the images of this folder with a saved detector (needs --model)."
};
var modelPath = new Option<string?>("--model")
{
    Description = "The detector's file (written by --train-images, read by --score-images)."
};
var size = new Option<int>("--size")
{
    Description = "Images are resized to size×size.", DefaultValueFactory = _ => 28
};
var epochs = new Option<int>("--epochs") { Description = "Training epochs at most.", DefaultValueFactory = _ => 30 };
var levels = new Option<int?>("--levels")
{
    Description = "Grey levels K kept (default: 2 for binary images, 16 otherwise)."
};

var root = new RootCommand("MLNetAr's main job: autoregressive density models on the embedded digits and textures, " +
    "or an anomaly detector on your images.")
{
    outDir, quick, trainImages, scoreImages, modelPath, size, epochs, levels,
};
root.SetAction(parsed =>
{
    string? train = parsed.GetValue(trainImages), score = parsed.GetValue(scoreImages),
        model = parsed.GetValue(modelPath);
    if (train != null || score != null)
    {
        if (model == null)
        {
            Console.Error.WriteLine("--train-images and --score-images need --model PATH.");
            return 2;
        }
        if (train != null)
            UserImages.Train(train, model, parsed.GetValue(size), parsed.GetValue(epochs), parsed.GetValue(levels));
        if (score != null) UserImages.Score(score, model);
        return 0;
    }
    var clock = Stopwatch.StartNew();
    string page = DigitsReport.Write(parsed.GetValue(outDir)!, parsed.GetValue(quick) ? ReportSettings.Quick
        : ReportSettings.Full, Console.WriteLine);
    Console.WriteLine($"Report written to {Path.GetFullPath(page)} in {clock.Elapsed.TotalSeconds:F0} s. Open it in " +
        $"a browser.");
    return 0;
});
return root.Parse(args).Invoke();
