using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Examples;

public static class MadeDensity
{
    /// <summary>
    /// MADE with several connectivity masks, scored as the ensemble of its masks (the mean of their probabilities);
    /// the mean test log-likelihood shows what the ensemble gains over one mask.
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 1500), test = Digits.Load(mlContext, 9000, 300);

        double MeanLogLikelihood(int ensembleSize)
        {
            var model = mlContext.Transforms.MadeDensity(new MadeDensityEstimator.Options
            {
                HiddenSizes = [100], NumberOfMasks = 4, EnsembleSize = ensembleSize, MaximumNumberOfEpochs = 3,
                Seed = 1,
            }).Fit(train);
            return model.Transform(test).GetColumn<float>("LogLikelihood").Average(v => (double)v);
        }

        Console.WriteLine($"mean log p(x): one mask {MeanLogLikelihood(1):F1} nats, ensemble of 4 masks " +
            $"{MeanLogLikelihood(4):F1} nats");

        // Expected output (the numbers vary a little):
        //   mean log p(x): one mask -130.2 nats, ensemble of 4 masks -126.9 nats
    }
}
