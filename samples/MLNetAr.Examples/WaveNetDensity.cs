using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Examples;

public static class WaveNetDensity
{
    /// <summary>
    /// WaveNet-style dilated causal convolutions over the pixel sequence. By default the dilations double until the
    /// receptive field covers the image (1, 2, …, 512 for 784 pixels); here a shorter stack keeps the example quick.
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 500), test = Digits.Load(mlContext, 9000, 200);

        var model = mlContext.Transforms.WaveNetDensity(new WaveNetDensityEstimator.Options
        {
            Dilations = [1, 2, 4, 8, 16], Channels = 8, MaximumNumberOfEpochs = 1, Seed = 1,
        }).Fit(train);

        double nll = -model.Transform(test).GetColumn<float>("LogLikelihood").Average(v => (double)v);
        Console.WriteLine(
            $"{model.ModelKind}: mean test NLL {nll:F1} nats, {model.HiddenFeatureCount} hidden features");

        // Expected output (the number varies a little):
        //   WaveNet: mean test NLL 150.3 nats, 64 hidden features
    }
}
