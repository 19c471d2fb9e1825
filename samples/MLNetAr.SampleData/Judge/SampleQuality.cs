using MathNet.Numerics.LinearAlgebra;

namespace MLNetAr.Data.Judge;

/// <summary>
/// How much a set of generated digits looks like real ones, through the eyes of a <see cref="DigitJudge"/>.
/// </summary>
/// <param name="Count">Images scored.</param>
/// <param name="Confident">Share whose most probable class has p ≥ <see cref="ConfidenceThreshold"/>.</param>
/// <param name="InceptionScore">exp(E_x KL(p(y|x) ‖ p(y))): 1 for images the judge cannot tell apart, at most 10 for
/// confidently classified images spread evenly over the classes.</param>
/// <param name="ClassesCovered">Classes that hold at least <see cref="CoverageShare"/> of the images (by the judge's
/// most probable class): 10 when every digit is generated.</param>
/// <param name="FrechetDistance">Fréchet distance between Gaussians fitted to the judge's features of these images
/// and of the reference real digits; 0 for identical statistics. Comparable only between sets of the same size
/// (its estimate is biased upwards for small sets).</param>
/// <param name="ClassShares">Share of the images in each class (by most probable class).</param>
public sealed record SampleQuality(int Count, double Confident, double InceptionScore, int ClassesCovered,
    double FrechetDistance, double[] ClassShares)
{
    /// <summary>The top-class probability from which an image counts as confidently classified.</summary>
    public const double ConfidenceThreshold = 0.9;
    /// <summary>The share of the images a class must hold to count as covered.</summary>
    public const double CoverageShare = 0.03;

    /// <summary>Mean and covariance of the judge's features of a reference set (real digits).</summary>
    public sealed record FeatureStatistics(double[] Mean, double[,] Covariance, int Count);

    /// <summary>The feature statistics of <paramref name="images"/> <c>(N, 784)</c>.</summary>
    public static FeatureStatistics Statistics(DigitJudge judge, ReadOnlySpan<float> images)
    {
        ArgumentNullException.ThrowIfNull(judge);
        return Statistics(judge.Predict(images).Features, images.Length / DigitJudge.Dimension);
    }

    /// <summary>
    /// Scores <paramref name="images"/> <c>(N, 784)</c>, values in [0, 1], against the reference statistics.
    /// </summary>
    /// <exception cref="ArgumentException">No images, or not whole 28×28 images.</exception>
    public static SampleQuality Score(DigitJudge judge, ReadOnlySpan<float> images, FeatureStatistics reference)
    {
        ArgumentNullException.ThrowIfNull(judge);
        ArgumentNullException.ThrowIfNull(reference);
        int n = images.Length / DigitJudge.Dimension;
        if (n < 2) throw new ArgumentException("Scoring samples needs at least 2 images.", nameof(images));
        var (probabilities, features) = judge.Predict(images);
        const int k = DigitJudge.Classes;
        var marginal = new double[k];
        var counts = new int[k];
        int confident = 0;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> p = probabilities.AsSpan(i * k, k);
            int top = DigitJudge.ArgMax(p);
            counts[top]++;
            if (p[top] >= ConfidenceThreshold) confident++;
            for (int c = 0; c < k; c++) marginal[c] += p[c] / n;
        }
        double klSum = 0;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++)
            {
                double p = probabilities[i * k + c];
                if (p > 0) klSum += p * (Math.Log(p) - Math.Log(marginal[c]));
            }
        double[] shares = counts.Select(c => c / (double)n).ToArray();
        return new SampleQuality(n, confident / (double)n, Math.Exp(klSum / n),
            shares.Count(s => s >= CoverageShare), Frechet(Statistics(features, n), reference), shares);
    }

    private static FeatureStatistics Statistics(float[] features, int n)
    {
        const int f = DigitJudge.FeatureCount;
        if (n < 2) throw new ArgumentException("Feature statistics need at least 2 images.");
        var mean = new double[f];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < f; j++) mean[j] += features[i * f + j] / (double)n;
        var covariance = new double[f, f];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < f; a++)
            {
                double da = features[i * f + a] - mean[a];
                if (da == 0) continue;
                for (int b = a; b < f; b++) covariance[a, b] += da * (features[i * f + b] - mean[b]);
            }
        for (int a = 0; a < f; a++)
            for (int b = a; b < f; b++) covariance[b, a] = covariance[a, b] /= n - 1;
        return new FeatureStatistics(mean, covariance, n);
    }

    /// <summary>
    /// <c>‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½)</c>, with <c>Tr (Σ₁Σ₂)^½ = Σ √λ</c> over the eigenvalues λ of the
    /// symmetric <c>Σ₁^½ Σ₂ Σ₁^½</c> (which has the same eigenvalues as Σ₁Σ₂, and real ones).
    /// </summary>
    public static double Frechet(FeatureStatistics a, FeatureStatistics b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var m = Matrix<double>.Build;
        Matrix<double> s1 = m.DenseOfArray(a.Covariance), s2 = m.DenseOfArray(b.Covariance);
        double meanTerm = a.Mean.Zip(b.Mean, (x, y) => (x - y) * (x - y)).Sum();
        Matrix<double> root1 = SymmetricSquareRoot(s1);
        Matrix<double> inner = root1 * s2 * root1;
        inner = (inner + inner.Transpose()) / 2; // symmetric up to rounding
        double traceRoot = inner.Evd(Symmetricity.Symmetric).EigenValues.Sum(l => Math.Sqrt(Math.Max(l.Real, 0)));
        return Math.Max(0, meanTerm + s1.Trace() + s2.Trace() - 2 * traceRoot);
    }

    private static Matrix<double> SymmetricSquareRoot(Matrix<double> s)
    {
        var evd = s.Evd(Symmetricity.Symmetric);
        Vector<double> roots = evd.EigenValues.Map(l => Math.Sqrt(Math.Max(l.Real, 0)));
        return evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(roots) * evd.EigenVectors.Transpose();
    }
}
