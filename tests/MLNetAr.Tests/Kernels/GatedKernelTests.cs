using MLNetAr.Kernels;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Kernels;

public class GatedKernelTests
{
    // The fused pass computes tanh and σ from a polynomial exp (absolute error ≈ 1e-7) in single precision.
    private const double Tolerance = 1e-6;

    public static TheoryData<int> Lengths() => [1, 7, 8, 15, 16, 17, 33, 100];

    private static float[] Values(Random random, int n, double scale) =>
        Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() - 0.5) * scale)).ToArray();

    [Theory]
    [MemberData(nameof(Lengths))]
    public void GatedTanhSigmoid_MatchesTheScalarDefinition(int n)
    {
        var random = new Random(n);
        float[] a = Values(random, n, 12), g = Values(random, n, 12), y = new float[n];
        Kernel.GatedTanhSigmoid(a, g, y);
        for (int i = 0; i < n; i++)
            Assert.Equal(Math.Tanh(a[i]) * ReferenceKernels.Sigmoid(g[i]), y[i], Tolerance);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void GatedTanhSigmoidBackward_MatchesTheScalarDefinition(int n)
    {
        var random = new Random(100 + n);
        float[] a = Values(random, n, 8), g = Values(random, n, 8), dy = Values(random, n, 2);
        float[] da = new float[n], dg = new float[n];
        Kernel.GatedTanhSigmoidBackward(a, g, dy, da, dg);
        for (int i = 0; i < n; i++)
        {
            double t = Math.Tanh(a[i]), s = ReferenceKernels.Sigmoid(g[i]);
            Assert.Equal(dy[i] * s * (1 - t * t), da[i], Tolerance);
            Assert.Equal(dy[i] * t * s * (1 - s), dg[i], Tolerance);
        }
    }

    [Fact]
    public void GatedTanhSigmoid_GivesAValueTheSameBitsWhereverItSits()
    {
        // Cached sampling gates one position at a time: a value alone must come out as in a full pass.
        var random = new Random(5);
        float[] a = Values(random, 37, 10), g = Values(random, 37, 10), full = new float[37];
        Kernel.GatedTanhSigmoid(a, g, full);
        for (int i = 0; i < 37; i++)
        {
            float[] one = new float[1];
            Kernel.GatedTanhSigmoid(a.AsSpan(i, 1), g.AsSpan(i, 1), one);
            Assert.Equal(full[i], one[0]);
        }
    }
}
