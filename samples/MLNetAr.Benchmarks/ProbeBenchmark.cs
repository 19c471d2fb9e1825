using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Benchmarks;

/// <summary>
/// Linear probe on the embedded digits: one ML.NET pipeline trains a density model on the first 8000 images (early
/// stopping on their last 10%) and feeds its <c>HiddenFeatures</c> to <c>LbfgsMaximumEntropy</c> trained on the same
/// 8000 labels; accuracy on the last 1000. Baselines: raw pixels, and PCA features of the same dimension.
/// </summary>
internal static class ProbeBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        int epochs = args.Count > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 30;
        var (trainImages, _, testImages) = BenchmarkData.Split(BenchmarkData.Digits());
        var ml = new MLContext(seed: 1);
        IDataView train = trainImages.ToDataView(ml), test = testImages.ToDataView(ml);

        var results = new Dictionary<string, object>();
        double Probe(string name, IEstimator<ITransformer> features, string featureColumn)
        {
            var pipeline = features
                // The same treatment for every feature set: standardise, then the linear classifier.
                .Append(ml.Transforms.NormalizeMeanVariance("ProbeFeatures", featureColumn))
                .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
                .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "ProbeFeatures"));
            var model = pipeline.Fit(train);
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test), "LabelKey");
            Console.WriteLine($"{name,-40} test accuracy {metrics.MicroAccuracy:F4}");
            results[name] = Math.Round(metrics.MicroAccuracy, 4);
            return metrics.MicroAccuracy;
        }

        Probe("raw pixels (784)", ml.Transforms.CopyColumns("Features", "Pixels"), "Features");
        // One pipeline each: the density estimator (early stopping on the last 10% of the training rows) feeds the
        // probe.
        Probe("FVSBN logits (784)", ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: epochs, seed: 1),
            "HiddenFeatures");
        Probe("NADE h_D (500)", ml.Transforms.NadeDensity(maximumNumberOfEpochs: epochs, seed: 1), "HiddenFeatures");
        Probe("MADE last hidden layer (500)", ml.Transforms.MadeDensity(maximumNumberOfEpochs: epochs, seed: 1),
            "HiddenFeatures");
        Probe("PCA (50)", ml.Transforms.ProjectToPrincipalComponents("Features", "Pixels", rank: 50, seed: 1),
            "Features");
        // Same dimension as the NADE/MADE features; ML.NET's randomized PCA gives poor components at this rank (≈
        // 45-48%).
        Probe("PCA (500)", ml.Transforms.ProjectToPrincipalComponents("Features", "Pixels", rank: 500, seed: 1),
            "Features");
        return new Dictionary<string, object>
        {
            ["protocol"] = "digits10k: features from rows 0-7999, LbfgsMaximumEntropy on the same rows, accuracy on " +
            "rows 9000-9999", ["epochs"] = epochs, ["accuracy"] = results
        };
    }
}
