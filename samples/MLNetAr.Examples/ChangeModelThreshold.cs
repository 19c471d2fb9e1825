using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Examples;

public static class ChangeModelThreshold
{
    /// <summary>
    /// Moves a fitted detector's threshold without refitting, as ML.NET's <c>ChangeModelThreshold</c> does for its own
    /// detectors: the result is a new transformer (saved and loaded like the first).
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 3000, digit: 7), test = Digits.Load(mlContext, 9000, 300);

        AutoregressiveAnomalyTransformer model = mlContext.AnomalyDetection.Trainers.AutoregressiveDensity(
            new AutoregressiveAnomalyDetector.Options
            {
                DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 3, Seed = 1 },
            }).Fit(train);
        AutoregressiveAnomalyTransformer stricter = mlContext.AnomalyDetection.ChangeModelThreshold(model,
            model.Threshold * 2);

        int Flagged(ITransformer detector) =>
            detector.Transform(test).GetColumn<bool>("PredictedLabel").Count(flagged => flagged);
        Console.WriteLine($"threshold {model.Threshold:F1}: {Flagged(model)} of 300 flagged; threshold " +
            $"{stricter.Threshold:F1}: {Flagged(stricter)} flagged");

        // Expected output (the numbers vary a little):
        //   threshold 120.5: 260 of 300 flagged; threshold 241.0: 72 flagged
    }
}
