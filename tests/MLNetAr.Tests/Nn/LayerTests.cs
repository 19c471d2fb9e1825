using MLNetAr.Kernels;
using MLNetAr.Nn.Layers;
using MLNetAr.Nn.Masks;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Nn;

public class LayerTests
{
    /// <summary>Scalar loss L = Σ g ⊙ y for a fixed random g, so ∂L/∂y = g.</summary>
    private static double Dot(float[] a, float[] b) => a.Zip(b, (p, q) => (double)p * q).Sum();

    [Fact]
    public void MaskedLinear_Backward_MatchesFiniteDifferences()
    {
        const int batch = 3, inputs = 5, outputs = 4;
        var layer = new MaskedLinear("L", inputs, outputs);
        TestData.RandomVector(layer.Weight.Length, 1).CopyTo(layer.Weight.Value, 0);
        TestData.RandomVector(outputs, 2).CopyTo(layer.Bias!.Value, 0);
        var degrees = new Random(3);
        var maskDegrees = new DegreeMask(Enumerable.Range(0, outputs).Select(_ => degrees.Next(5)).ToArray(),
            Enumerable.Range(0, inputs).Select(_ => degrees.Next(5)).ToArray(), strict: false);
        float[] mask = maskDegrees.ToArray();
        Assert.Contains(0f, mask);
        Assert.Contains(1f, mask);
        float[] x = TestData.RandomVector(batch * inputs, 4);
        float[] g = TestData.RandomVector(batch * outputs, 5);
        float[] masked = new float[layer.Weight.Length];

        double Loss(float[] input)
        {
            layer.ApplyMask(maskDegrees, masked);
            var y = new float[batch * outputs];
            layer.Forward(input, batch, masked, y);
            return Dot(y, g);
        }

        layer.ApplyMask(maskDegrees, masked);
        var dx = new float[batch * inputs];
        layer.Backward(x, batch, g, maskDegrees, masked, dx, new float[layer.Weight.Length]);
        const float h = 1e-2f; // the loss is linear in every parameter: central differences are exact up to rounding
        foreach (var (values, gradient, name) in new[] { (layer.Weight.Value, layer.Weight.Gradient, "W"),
            (layer.Bias.Value, layer.Bias.Gradient, "b"), (x, dx, "x") })
            for (int i = 0; i < values.Length; i++)
            {
                float saved = values[i];
                values[i] = saved + h; double plus = Loss(x);
                values[i] = saved - h; double minus = Loss(x);
                values[i] = saved;
                Assert.True(Math.Abs((plus - minus) / (2 * h) - gradient[i]) < 1e-3,
                    $"{name}[{i}]: {gradient[i]} vs {(plus - minus) / (2 * h)}");
            }
        // Masked-out weights get exactly zero gradient.
        for (int i = 0; i < mask.Length; i++) if (mask[i] == 0f) Assert.Equal(0f, layer.Weight.Gradient[i]);
    }

    [Fact]
    public void Relu_Backward_MatchesFiniteDifferences()
    {
        // away from the kink
        float[] x = TestData.RandomVector(40, 6).Select(v => MathF.Abs(v) < 0.05f ? v + 0.1f : v).ToArray();
        float[] g = TestData.RandomVector(40, 7);
        var y = new float[40];
        Relu.Forward(x, y);
        var dx = new float[40];
        Relu.Backward(y, g, dx);
        for (int i = 0; i < x.Length; i++)
        {
            double plus = Math.Max(x[i] + 1e-3, 0), minus = Math.Max(x[i] - 1e-3, 0);
            Assert.Equal((plus - minus) / 2e-3 * g[i], dx[i], 4);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MadeMasks_Degrees_GiveAutoregressiveConnectivity(bool natural)
    {
        const int d = 9;
        var masks = MadeMasks.Create(d, [7, 6], natural, seed: 3, index: 2);
        float[] hidden0 = masks.Hidden[0].ToArray(), hidden1 = masks.Hidden[1].ToArray();
        float[] output = masks.Output.ToArray(), direct = masks.Direct.ToArray();
        // Path counting: output d is reachable from input j only when j comes earlier in the order.
        int[] position = new int[d];
        for (int t = 0; t < d; t++) position[masks.Order[t]] = t;
        double[,] reach = new double[7, d];
        for (int k = 0; k < 7; k++) for (int j = 0; j < d; j++) reach[k, j] = hidden0[k * d + j];
        double[,] reach2 = new double[6, d];
        for (int k = 0; k < 6; k++)
            for (int j = 0; j < d; j++)
                for (int m = 0; m < 7; m++)
                    reach2[k, j] += hidden1[k * 7 + m] * reach[m, j];
        for (int o = 0; o < d; o++)
            for (int j = 0; j < d; j++)
            {
                double paths = 0;
                for (int k = 0; k < 6; k++) paths += output[o * 6 + k] * reach2[k, j];
                if (position[j] >= position[o]) Assert.Equal(0, paths);
                Assert.Equal(position[j] < position[o] ? 1f : 0f, direct[o * d + j]);
            }
        if (natural) Assert.Equal(Enumerable.Range(0, d), masks.Order);
        Assert.Equal(masks.Order, MadeMasks.Create(d, [7, 6], natural, seed: 3, index: 2).Order); // deterministic
    }

    [Fact]
    public void LogSumExp_ExtremeValues_IsStable()
    {
        Assert.Equal(1000f + MathF.Log(2), Kernel.LogSumExp([1000f, 1000f]), 3);
        Assert.Equal(-1000f + MathF.Log(3), Kernel.LogSumExp([-1000f, -1000f, -1000f]), 3);
        Assert.Equal(5f, Kernel.LogSumExp([5f, -1e30f]), 5);
        Assert.Equal(float.NegativeInfinity, Kernel.LogSumExp([]));
    }
}
