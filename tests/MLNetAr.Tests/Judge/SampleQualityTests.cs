using MLNetAr.Data.Judge;

namespace MLNetAr.Tests.Judge;

public class SampleQualityTests
{
    private static SampleQuality.FeatureStatistics Diagonal(double[] mean, double[] variance)
    {
        var covariance = new double[mean.Length, mean.Length];
        for (int i = 0; i < mean.Length; i++) covariance[i, i] = variance[i];
        return new SampleQuality.FeatureStatistics(mean, covariance, 100);
    }

    [Fact]
    public void Frechet_OfIdenticalStatistics_IsZero()
    {
        var random = new Random(1);
        const int n = 6;
        // A full covariance: A·Aᵀ of a random A.
        var a = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) a[i, j] = random.NextDouble() - 0.5;
        var covariance = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++) covariance[i, j] += a[i, k] * a[j, k];
        var s = new SampleQuality.FeatureStatistics([1, 2, 3, 4, 5, 6], covariance, 100);
        Assert.Equal(0, SampleQuality.Frechet(s, s), 8);
    }

    [Fact]
    public void Frechet_OfDiagonalGaussians_IsTheClosedForm()
    {
        // For commuting covariances: ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)².
        double[] m1 = [0, 1, 2], m2 = [1, 1, 0], v1 = [1, 4, 9], v2 = [4, 4, 1];
        double expected = 1 + 0 + 4 + (1 - 2) * (1 - 2) + 0 + (3 - 1) * (3 - 1);
        Assert.Equal(expected, SampleQuality.Frechet(Diagonal(m1, v1), Diagonal(m2, v2)), 8);
        Assert.Equal(expected, SampleQuality.Frechet(Diagonal(m2, v2), Diagonal(m1, v1)), 8);
    }
}
