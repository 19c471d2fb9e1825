namespace MLNetAr.Data;

/// <summary>
/// The out-of-distribution benchmarks' metrics (Hendrycks &amp; Gimpel 2017; Ren et al. 2019), with the outliers as the
/// positive class and a higher score meaning more anomalous.
/// </summary>
public static class DetectionMetrics
{
    /// <summary>
    /// Area under the ROC curve: the probability that a random outlier scores above a random inlier, ties counting
    /// half (the Mann–Whitney statistic).
    /// </summary>
    public static double Auroc(IReadOnlyList<float> inlierScores, IReadOnlyList<float> outlierScores)
    {
        CheckScores(inlierScores, outlierScores);
        var all = inlierScores.Select(s => (Score: s, Outlier: false))
            .Concat(outlierScores.Select(s => (Score: s, Outlier: true))).OrderBy(p => p.Score).ToArray();
        // Sum of the outliers' mid-ranks (1-based), ties sharing their average rank.
        double rankSum = 0;
        for (int start = 0; start < all.Length;)
        {
            int end = start;
            while (end < all.Length && all[end].Score == all[start].Score) end++;
            double midRank = (start + 1 + end) / 2.0;
            for (int i = start; i < end; i++) if (all[i].Outlier) rankSum += midRank;
            start = end;
        }
        double n = outlierScores.Count, m = inlierScores.Count;
        return (rankSum - n * (n + 1) / 2) / (n * m);
    }

    /// <summary>
    /// Area under the precision–recall curve with the outliers positive, as average precision: the mean over outliers
    /// of the precision at the threshold that admits them (tied scores admitted together).
    /// </summary>
    public static double Auprc(IReadOnlyList<float> inlierScores, IReadOnlyList<float> outlierScores)
    {
        CheckScores(inlierScores, outlierScores);
        var all = inlierScores.Select(s => (Score: s, Outlier: false))
            .Concat(outlierScores.Select(s => (Score: s, Outlier: true))).OrderByDescending(p => p.Score).ToArray();
        double sum = 0;
        int truePositives = 0;
        for (int start = 0; start < all.Length;)
        {
            int end = start, outliers = 0;
            while (end < all.Length && all[end].Score == all[start].Score)
            {
                if (all[end].Outlier) outliers++;
                end++;
            }
            truePositives += outliers;
            sum += outliers * (truePositives / (double)end);
            start = end;
        }
        return sum / outlierScores.Count;
    }

    /// <summary>
    /// The fraction of inliers flagged at the highest threshold that flags at least <paramref name="tpr"/> of the
    /// outliers (FPR at 80 % TPR by default).
    /// </summary>
    public static double FprAtTpr(IReadOnlyList<float> inlierScores, IReadOnlyList<float> outlierScores,
        double tpr = 0.8)
    {
        CheckScores(inlierScores, outlierScores);
        if (!(tpr > 0 && tpr <= 1)) throw new ArgumentOutOfRangeException(nameof(tpr), tpr, "Must be in (0, 1].");
        float[] outliers = outlierScores.OrderByDescending(s => s).ToArray();
        // Flag scores ≥ t: the k-th highest outlier score admits at least k outliers.
        int needed = (int)Math.Ceiling(tpr * outliers.Length);
        float threshold = outliers[needed - 1];
        return inlierScores.Count(s => s >= threshold) / (double)inlierScores.Count;
    }

    private static void CheckScores(IReadOnlyList<float> inliers, IReadOnlyList<float> outliers)
    {
        if (inliers.Count == 0 || outliers.Count == 0)
            throw new ArgumentException("Both inlier and outlier scores are needed.");
        if (inliers.Concat(outliers).Any(float.IsNaN))
            throw new ArgumentException("A score is NaN: the ranking would be meaningless.");
    }
}
