using Microsoft.ML;

namespace MLNetAr.Examples;

public static class NadeDensity
{
    /// <summary>
    /// Representation learning: NADE's hidden features (its hidden layer after the last pixel) feed an ML.NET
    /// classifier, trained on 1,500 digits and evaluated on 500 others.
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 1500), test = Digits.Load(mlContext, 9000, 500);

        var pipeline = mlContext.Transforms.NadeDensity("Pixels", hiddenSize: 50, maximumNumberOfEpochs: 3, seed: 1)
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
            .Append(mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy(
                featureColumnName: "HiddenFeatures"));
        var model = pipeline.Fit(train);

        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        Console.WriteLine($"digit classification from NADE's 50 hidden features: accuracy {metrics.MacroAccuracy:P1}");

        // Expected output (the number varies a little):
        //   digit classification from NADE's 50 hidden features: accuracy 85.0 %
    }
}
