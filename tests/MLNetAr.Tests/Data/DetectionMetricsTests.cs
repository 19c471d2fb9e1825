using MLNetAr.Data;

namespace MLNetAr.Tests.Data;

public class DetectionMetricsTests
{
    [Fact]
    public void Auroc_IsTheMannWhitneyStatistic_WithTiesCountingHalf()
    {
        // Pairs (outlier, inlier): 3 > 1, 3 > 2, 2 = 2 (half), 2 > 1 -> 3.5 of 4.
        Assert.Equal(3.5 / 4, DetectionMetrics.Auroc([1f, 2f], [3f, 2f]), 12);
        Assert.Equal(1.0, DetectionMetrics.Auroc([0f, 0.1f], [0.5f, 0.7f]));
        Assert.Equal(0.0, DetectionMetrics.Auroc([0.5f, 0.7f], [0f, 0.1f]));
    }

    [Fact]
    public void Auroc_MatchesMlNetsEvaluate()
    {
        var random = new Random(3);
        float[] inliers = Enumerable.Range(0, 300).Select(_ => (float)random.NextDouble()).ToArray();
        float[] outliers = Enumerable.Range(0, 200).Select(_ => (float)(random.NextDouble() + 0.3)).ToArray();
        var ml = new Microsoft.ML.MLContext(1);
        var rows = inliers.Select(s => new ScoredRow { Score = s, Label = 0f })
            .Concat(outliers.Select(s => new ScoredRow { Score = s, Label = 1f })).ToArray();
        var metrics = ml.AnomalyDetection.Evaluate(ml.Data.LoadFromEnumerable(rows));
        Assert.Equal(metrics.AreaUnderRocCurve, DetectionMetrics.Auroc(inliers, outliers), 6);
    }

    private sealed class ScoredRow
    {
        public float Score { get; set; }
        public float Label { get; set; }
        public bool PredictedLabel { get; set; }
    }

    [Fact]
    public void Auprc_IsAveragePrecision()
    {
        // Descending: 0.9 outlier (P 1), 0.8 inlier, 0.7 outlier (P 2/3), 0.1 inlier -> (1 + 2/3) / 2.
        Assert.Equal((1 + 2.0 / 3) / 2, DetectionMetrics.Auprc([0.8f, 0.1f], [0.9f, 0.7f]), 12);
        Assert.Equal(1.0, DetectionMetrics.Auprc([0f], [1f, 2f]), 12);
    }

    [Fact]
    public void FprAtTpr_IsTheInliersFlaggedWhenEightyPercentOfOutliersAre()
    {
        float[] outliers = [10f, 9f, 8f, 7f, 1f]; // 80 % of them: scores ≥ 7
        float[] inliers = [7.5f, 7f, 6f, 0f];
        Assert.Equal(0.5, DetectionMetrics.FprAtTpr(inliers, outliers));
        Assert.Equal(0.75, DetectionMetrics.FprAtTpr(inliers, outliers, tpr: 1.0)); // scores ≥ 1
    }

    [Fact]
    public void Metrics_RefuseNaNOrEmptyScores()
    {
        Assert.Throws<ArgumentException>(() => DetectionMetrics.Auroc([float.NaN], [1f]));
        Assert.Throws<ArgumentException>(() => DetectionMetrics.Auprc([], [1f]));
    }
}
