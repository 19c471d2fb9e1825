using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Examples;

public static class FvsbnDensity
{
    /// <summary>
    /// Fits FVSBN (one logistic regression per pixel) on 1,500 digits and scores new ones: each row gets its exact
    /// log-likelihood in nats. A digit scores higher than a shuffled copy of itself.
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 1500);

        var model = mlContext.Transforms.FvsbnDensity("Pixels", maximumNumberOfEpochs: 3, seed: 1).Fit(train);

        Digits.Row digit = Digits.Rows(9000, 1)[0];
        var shuffled = new Digits.Row
        {
            Pixels = digit.Pixels.OrderBy(_ => Random.Shared.Next()).ToArray(),
            Label = digit.Label
        };
        IDataView scored = model.Transform(mlContext.Data.LoadFromEnumerable(new[] { digit, shuffled }));
        float[] logLikelihoods = scored.GetColumn<float>("LogLikelihood").ToArray();
        Console.WriteLine($"log p(digit {digit.Label}) = {logLikelihoods[0]:F1} nats, log p(its pixels shuffled) = " +
            $"{logLikelihoods[1]:F1} nats");

        // Expected output (the numbers vary a little):
        //   log p(digit 6) = -92.3 nats, log p(its pixels shuffled) = -640.5 nats
    }
}
