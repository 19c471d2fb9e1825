using MLNetAr.Kernels;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Kernels;

public class ActivationTests
{
    private static readonly float[] Extremes = [-1000f, -150f, -100f, -88.7f, -30f, -17f, -1f, -1e-7f, 0f, -0f, 1e-7f,
        1f, 17f, 30f, 88.7f, 100f, 150f, 1000f];

    private static float[] Inputs() => [.. Extremes, .. TestData.RandomVector(203, seed: 7, scale: 20f)];

    [Fact]
    public void Softplus_WideRange_MatchesReferenceAndStaysFinite()
    {
        float[] x = Inputs(), y = new float[x.Length];
        Kernel.Softplus(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(float.IsFinite(y[i]), $"softplus({x[i]}) = {y[i]}");
            double expected = ReferenceKernels.Softplus(x[i]);
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 + 1e-6 * Math.Abs(expected),
                $"softplus({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void LogSigmoid_WideRange_EqualsMinusSoftplusOfMinusX()
    {
        float[] x = Inputs(), y = new float[x.Length];
        Kernel.LogSigmoid(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = -ReferenceKernels.Softplus(-(double)x[i]);
            Assert.True(float.IsFinite(y[i]) && y[i] <= 0f, $"log σ({x[i]}) = {y[i]}");
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 + 1e-6 * Math.Abs(expected),
                $"log σ({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void Sigmoid_WideRange_MatchesReference()
    {
        float[] x = Inputs(), y = new float[x.Length];
        Kernel.Sigmoid(x, y);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(y[i] - ReferenceKernels.Sigmoid(x[i])) <= 1e-6, $"σ({x[i]}) = {y[i]}");
    }

    [Fact]
    public void BernoulliLogLikelihood_ExtremeLogits_MatchesReference()
    {
        float[] z = Inputs();
        float[] x = TestData.RandomBinary(1, z.Length, seed: 9);
        double expected = 0;
        for (int i = 0; i < z.Length; i++) expected += x[i] * z[i] - ReferenceKernels.Softplus(z[i]);
        float actual = Kernel.BernoulliLogLikelihood(z, x);
        Assert.True(float.IsFinite(actual));
        Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Abs(expected) + 1e-3, $"{actual} vs {expected}");
    }

    [Fact]
    public void BernoulliNllGradient_MatchesSigmoidMinusTarget()
    {
        float[] z = Inputs(), x = TestData.RandomBinary(1, z.Length, seed: 10), g = new float[z.Length];
        Kernel.BernoulliNllGradient(z, x, 0.5f, g);
        for (int i = 0; i < z.Length; i++)
            Assert.True(Math.Abs(g[i] - 0.5 * (ReferenceKernels.Sigmoid(z[i]) - x[i])) <= 1e-6);
    }

    [Fact]
    public void Softplus_ShortDestination_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Kernel.Softplus(new float[4], new float[3]));
        Assert.Equal("destination", e.ParamName);
    }

    [Fact]
    public void Exp_MatchesDoublePrecisionAcrossTheClampedRange()
    {
        for (float x = -87f; x <= 87f; x += 0.0137f)
        {
            float e = Kernel.Exp(System.Runtime.Intrinsics.Vector256.Create(x))[3];
            double exact = Math.Exp(x);
            Assert.True(Math.Abs(e - exact) <= 4e-7 * exact, $"exp({x}) = {e}, expected {exact}");
            Assert.Equal(e, Kernel.Exp(System.Runtime.Intrinsics.Vector512.Create(x))[11]); // 16 wide: same bits
        }
        // Clamped, never infinite or denormal.
        Assert.Equal(MathF.Exp(87f), Kernel.Exp(System.Runtime.Intrinsics.Vector256.Create(1000f))[0], 1e32f);
        Assert.True(Kernel.Exp(System.Runtime.Intrinsics.Vector256.Create(-1000f))[0] > 0f);
    }

    [Fact]
    public void GatedActivation_GivesTheSameBitsWhereverAValueSits()
    {
        // The span pass (16-wide vectors where AVX-512 is, 8-wide ones, a padded tail) and one value at a time must
        // agree exactly: cached sampling relies on it. 45 = 2·16 + 8 + 5.
        const int n = 45;
        float[] a = TestData.RandomVector(n, 1, scale: 4f), g = TestData.RandomVector(n, 2, scale: 4f),
            dy = TestData.RandomVector(n, 3);
        float[] y = new float[n], da = new float[n], dg = new float[n];
        MLNetAr.Nn.Layers.GatedActivation.Forward(a, g, y);
        MLNetAr.Nn.Layers.GatedActivation.Backward(a, g, dy, da, dg);
        for (int i = 0; i < n; i++)
        {
            float[] one = new float[1], oneDa = new float[1], oneDg = new float[1];
            MLNetAr.Nn.Layers.GatedActivation.Forward(a.AsSpan(i, 1), g.AsSpan(i, 1), one);
            MLNetAr.Nn.Layers.GatedActivation.Backward(a.AsSpan(i, 1), g.AsSpan(i, 1), dy.AsSpan(i, 1), oneDa, oneDg);
            Assert.Equal(y[i], one[0]);
            Assert.Equal(da[i], oneDa[0]);
            Assert.Equal(dg[i], oneDg[0]);
            Assert.True(Math.Abs(Math.Tanh(a[i]) / (1 + Math.Exp(-g[i])) - y[i]) < 3e-7);
        }
    }

    [Fact]
    public void GatedActivation_SaturatedPreActivations_StayFiniteAndExact()
    {
        // The saturating exp keeps tanh, σ and their derivatives finite and exact far outside the trained range.
        float[] a = [-100f, 100f, 0f, -0.5f, 30f, -1e-3f, 9f, -9f];
        float[] g = [-1000f, 1000f, -90f, 88f, -88f, 0f, -200f, 50f];
        float[] dy = Enumerable.Repeat(1f, a.Length).ToArray(), y = new float[a.Length];
        float[] da = new float[a.Length], dg = new float[a.Length];
        MLNetAr.Nn.Layers.GatedActivation.Forward(a, g, y);
        MLNetAr.Nn.Layers.GatedActivation.Backward(a, g, dy, da, dg);
        for (int i = 0; i < a.Length; i++)
        {
            double t = Math.Tanh(a[i]), s = 1 / (1 + Math.Exp(-g[i]));
            Assert.True(Math.Abs(t * s - y[i]) < 3e-7, $"y({a[i]}, {g[i]}) = {y[i]}, expected {t * s}");
            Assert.True(Math.Abs(s * (1 - t * t) - da[i]) < 3e-7, $"da({a[i]}, {g[i]}) = {da[i]}");
            Assert.True(Math.Abs(t * s * (1 - s) - dg[i]) < 3e-7, $"dg({a[i]}, {g[i]}) = {dg[i]}");
        }
    }

    [Fact]
    public void FlushTinyToZero_ZeroesOnlySubnormalScaleValues()
    {
        float[] x = [1e-31f, -1e-31f, 1e-40f, -0f, 1e-29f, -2e-30f, 3f, float.Epsilon, -1e-30f, 1e-30f, float.NaN];
        Kernel.FlushTinyToZero(x);
        Assert.Equal([0f, 0f, 0f, 0f, 1e-29f, -2e-30f, 3f, 0f, -1e-30f, 1e-30f], x[..10]);
        Assert.True(float.IsNaN(x[10])); // never hides a NaN (divergence detection relies on it)
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(37)] // vectors and a scalar tail
    public void LstmCell_MatchesTheGateFormulas(int hidden)
    {
        float[] gates = TestData.RandomVector(4 * hidden, seed: 11, scale: 6f),
            cPrev = TestData.RandomVector(hidden, seed: 12, scale: 3f);
        gates[0] = 100f; // saturated gates stay finite
        if (hidden > 1) gates[2 * hidden + 1] = -100f;
        float[] pre = gates.ToArray(), c = new float[hidden], h = new float[hidden];

        Kernel.LstmCell(gates, cPrev, c, h);

        static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
        for (int k = 0; k < hidden; k++)
        {
            double i = Sigmoid(pre[k]), f = Sigmoid(pre[hidden + k]), g = Math.Tanh(pre[2 * hidden + k]),
                o = Sigmoid(pre[3 * hidden + k]);
            double cell = f * cPrev[k] + i * g;
            Assert.Equal(i, gates[k], 1e-6);
            Assert.Equal(f, gates[hidden + k], 1e-6);
            Assert.Equal(g, gates[2 * hidden + k], 1e-6);
            Assert.Equal(o, gates[3 * hidden + k], 1e-6);
            Assert.Equal(cell, c[k], 1e-5);
            Assert.Equal(o * Math.Tanh(cell), h[k], 1e-6);
        }
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(8, false)]
    [InlineData(13, true)]
    [InlineData(100, false)]
    [InlineData(500, true)]
    public void AccumulateThroughActivation_MatchesTheScalarDefinition(int n, bool sigmoid)
    {
        var random = new Random(n);
        float[] w = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        // sigmoid outputs in (0, 1); ReLU outputs ≥ 0 with exact zeros
        float[] h = Enumerable.Range(0, n).Select(_ => sigmoid ? (float)random.NextDouble()
            : Math.Max(0f, (float)random.NextDouble() - 0.4f)).ToArray();
        float[] start = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
        float[] carry = (float[])start.Clone();
        const float delta = -0.37f;
        Kernel.AccumulateThroughActivation(delta, w, h, carry, sigmoid);
        for (int i = 0; i < n; i++)
        {
            double slope = sigmoid ? h[i] * (1.0 - h[i]) : h[i] > 0 ? 1 : 0;
            Assert.Equal(start[i] + delta * w[i] * slope, carry[i], 1e-6);
        }
    }
}
