using Microsoft.ML;

namespace MLNetAr.Examples;

public static class AutoregressiveDensity
{
    /// <summary>
    /// Anomaly detection: a detector trained on digits 1 only flags other digits, evaluated with ML.NET's
    /// <c>AnomalyDetection.Evaluate</c>; <c>PixelScores</c> say which pixels made a row anomalous.
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 3000, digit: 1);
        // Label: 1 for anything but a 1 (the anomalies), 0 for the normal digits.
        var testRows = Digits.Rows(9000, 500).Select(r =>
            new Digits.Row { Pixels = r.Pixels, Label = r.Label == 1 ? 0 : 1 }).ToArray();
        IDataView test = mlContext.Data.LoadFromEnumerable(testRows);

        var detector = mlContext.AnomalyDetection.Trainers.AutoregressiveDensity(
            new AutoregressiveAnomalyDetector.Options
            {
                DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 5, Seed = 1 },
                ThresholdQuantile = 0.99,
                PixelScoresColumnName = "PixelScores",
            });
        AutoregressiveAnomalyTransformer model = detector.Fit(train);

        IDataView scored = model.Transform(test);
        var metrics = mlContext.AnomalyDetection.Evaluate(scored);
        Console.WriteLine($"threshold {model.Threshold:F1} nats: AUC {metrics.AreaUnderRocCurve:F3}, detection rate " +
            $"at 1 % false positives {metrics.DetectionRateAtFalsePositiveCount:P0}");

        // Expected output (the numbers vary a little):
        //   threshold 81.1 nats: AUC 0.990, detection rate at 1 % false positives 95 %
    }
}
