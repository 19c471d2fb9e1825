using Microsoft.ML;
using MLNetAr.Demo;

// The main job: trains an autoregressive density model on the embedded MNIST digits through an ML.NET pipeline,
// reports negative log-likelihoods and writes a grid of generated digits.
//   dotnet run -c Release --project samples/MLNetAr.Demo [-- --epochs N --out DIR]
int epochs = 30;
string outDir = "out";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(args[++i]); break;
        case "--out": outDir = args[++i]; break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: [--epochs N] [--out DIR]");
            return 2;
    }
}

TrainFvsbnOnDigits.Example(epochs, outDir);
return 0;
