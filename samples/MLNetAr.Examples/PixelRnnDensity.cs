using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Examples;

public static class PixelRnnDensity
{
    /// <summary>
    /// A recurrent pixel model (LSTM, or GRU with <c>Cell = RecurrentCell.Gru</c>) over the raster sequence, reading
    /// the previous pixel and the pixel above: exact log-likelihoods, and the hidden features (the top layer's final
    /// state and its mean over the steps).
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 500), test = Digits.Load(mlContext, 9000, 100);

        var model = mlContext.Transforms.PixelRnnDensity("Pixels", hiddenSize: 16, maximumNumberOfEpochs: 2,
            seed: 1).Fit(train);

        IDataView scored = model.Transform(test);
        double nll = -scored.GetColumn<float>("LogLikelihood").Average(v => (double)v);
        int features = scored.GetColumn<float[]>("HiddenFeatures").First().Length;
        Console.WriteLine($"{model.ModelKind}: mean test NLL {nll:F1} nats, {features} hidden features per image");

        // Expected output (the number varies a little):
        //   PixelRNN: mean test NLL 190.0 nats, 32 hidden features per image
    }
}
