using MLNetAr.Kernels;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Kernels;

public class OptimizerKernelTests
{
    [Fact]
    public void AddL1Subgradient_AddsLambdaTimesSign_AndNothingAtZero()
    {
        foreach (int n in new[] { 1, 8, 37, 100 }) // scalar only, one vector, vector body and tail
        {
            float[] w = TestData.RandomVector(n, n);
            for (int i = 0; i < n; i += 5) w[i] = i % 10 == 0 ? 0f : -0f;
            float[] g = TestData.RandomVector(n, n + 1), expected = g.ToArray();
            for (int i = 0; i < n; i++) expected[i] += w[i] > 0 ? 0.25f : w[i] < 0 ? -0.25f : 0f;

            Kernel.AddL1Subgradient(w, 0.25f, g);

            Assert.Equal(expected, g);
        }
        Assert.Throws<ArgumentException>(() => Kernel.AddL1Subgradient(new float[3], 1f, new float[4]));
    }

    [Fact]
    public void AdamStep_ThreeSteps_MatchesScalarReference()
    {
        const int n = 37; // vector body and scalar tail
        float[] w = TestData.RandomVector(n, 1), m = new float[n], v = new float[n];
        double[] rw = w.Select(x => (double)x).ToArray(), rm = new double[n], rv = new double[n];
        for (int t = 1; t <= 3; t++)
        {
            float[] g = TestData.RandomVector(n, 10 + t);
            Kernel.AdamStep(w, g, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, t);
            for (int i = 0; i < n; i++)
            {
                rm[i] = 0.9 * rm[i] + 0.1 * g[i];
                rv[i] = 0.999 * rv[i] + 0.001 * g[i] * g[i];
                double mHat = rm[i] / (1 - Math.Pow(0.9, t)), vHat = rv[i] / (1 - Math.Pow(0.999, t));
                rw[i] -= 0.01 * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
        }
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(w[i] - rw[i]) < 1e-5, $"w[{i}] = {w[i]}, expected {rw[i]}");
    }

    [Fact]
    public void AdamStep_ZeroGradient_LeavesWeightsUnchanged()
    {
        float[] w = TestData.RandomVector(20, 2), before = w.ToArray();
        Kernel.AdamStep(w, new float[20], new float[20], new float[20], 0.1f, 0.9f, 0.999f, 1e-8f, 1);
        Assert.Equal(before, w);
    }

    [Fact]
    public void AdamStep_MismatchedLengths_Throws()
    {
        Assert.Throws<ArgumentException>(() =>
            Kernel.AdamStep(new float[3], new float[2], new float[3], new float[3], 0.1f, 0.9f, 0.999f, 1e-8f, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernel.AdamStep(new float[3], new float[3], new float[3], new float[3], 0.1f, 0.9f, 0.999f, 1e-8f, 0));
    }

    [Fact]
    public void AdagradStep_ThreeSteps_MatchesScalarReference()
    {
        const int n = 37;
        float[] w = TestData.RandomVector(n, 3), s = new float[n];
        double[] rw = w.Select(x => (double)x).ToArray(), rs = new double[n];
        for (int t = 1; t <= 3; t++)
        {
            float[] g = TestData.RandomVector(n, 20 + t);
            Kernel.AdagradStep(w, g, s, 0.05f, 1e-6f);
            for (int i = 0; i < n; i++)
            {
                rs[i] += (double)g[i] * g[i];
                rw[i] -= 0.05 * g[i] / (Math.Sqrt(rs[i]) + 1e-6);
            }
        }
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(w[i] - rw[i]) < 1e-5, $"w[{i}] = {w[i]}, expected {rw[i]}");
    }

    [Fact]
    public void MomentumStep_ThreeSteps_MatchesScalarReference()
    {
        const int n = 37;
        float[] w = TestData.RandomVector(n, 4), u = new float[n];
        double[] rw = w.Select(x => (double)x).ToArray(), ru = new double[n];
        for (int t = 1; t <= 3; t++)
        {
            float[] g = TestData.RandomVector(n, 30 + t);
            Kernel.MomentumStep(w, g, u, 0.1f, 0.9f);
            for (int i = 0; i < n; i++)
            {
                ru[i] = 0.9 * ru[i] + g[i];
                rw[i] -= 0.1 * ru[i];
            }
        }
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(w[i] - rw[i]) < 1e-5, $"w[{i}] = {w[i]}, expected {rw[i]}");
    }

    [Fact]
    public void AdagradAndMomentum_MismatchedLengths_Throw()
    {
        Assert.Throws<ArgumentException>(() =>
            Kernel.AdagradStep(new float[3], new float[3], new float[2], 0.1f, 1e-6f));
        Assert.Throws<ArgumentException>(() =>
            Kernel.MomentumStep(new float[3], new float[2], new float[3], 0.1f, 0.9f));
    }
}
