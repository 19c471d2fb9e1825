using MLNetAr.Nn.Layers;
using MLNetAr.Nn.Masks;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Nn;

public class ConvolutionLayerTests
{
    private const int Cin = 2, Cout = 3, H = 4, W = 5, B = 2, P = H * W;

    public static TheoryData<string> TapSets() =>
        ["typeA", "typeB", "vertical-first", "vertical", "horizontal-first", "horizontal", "dilated", "pointwise"];

    private static (int Dy, int Dx)[] Taps(string name) => name switch
    {
        "typeA" => ConvTaps.PixelCnn(3, includeCentre: false),
        "typeB" => ConvTaps.PixelCnn(5, includeCentre: true),
        "vertical-first" => ConvTaps.Vertical(3, first: true),
        "vertical" => ConvTaps.Vertical(5, first: false),
        "horizontal-first" => ConvTaps.Horizontal(3, first: true),
        "horizontal" => ConvTaps.Horizontal(5, first: false),
        "dilated" => ConvTaps.Dilated(3),
        "pointwise" => ConvTaps.Pointwise,
        _ => throw new ArgumentException(name),
    };

    private static CausalConv2d RandomLayer((int, int)[] taps, int seed)
    {
        var layer = new CausalConv2d("Conv", Cin, Cout, taps, H, W);
        TestData.RandomVector(layer.Weight.Length, seed).CopyTo(layer.Weight.Value, 0);
        TestData.RandomVector(Cout, seed + 1).CopyTo(layer.Bias.Value, 0);
        return layer;
    }

    /// <summary>The definition, in double: y[o, b, p] = bias[o] + Σ_{c,t} W[o, c·T + t] x[c, b, p + tap].</summary>
    private static double Direct(CausalConv2d layer, float[] x, int o, int b, int i, int j, int batch = B)
    {
        double sum = layer.Bias.Value[o];
        int taps = layer.Taps.Count, H = layer.Height, W = layer.Width, P = H * W, Cin = layer.InputChannels;
        for (int c = 0; c < Cin; c++)
            for (int t = 0; t < taps; t++)
            {
                var (dy, dx) = layer.Taps[t];
                int si = i + dy, sj = j + dx;
                if (si < 0 || si >= H || sj < 0 || sj >= W) continue;
                sum += (double)layer.Weight.Value[o * Cin * taps + c * taps + t]
                    * x[c * batch * P + b * P + si * W + sj];
            }
        return sum;
    }

    private static float[] Run(CausalConv2d layer, float[] x)
    {
        var y = new float[Cout * B * P];
        layer.Forward(x, B, y);
        return y;
    }

    [Theory]
    [MemberData(nameof(TapSets))]
    public void Forward_MatchesDirectConvolution(string taps)
    {
        var layer = RandomLayer(Taps(taps), 1);
        float[] x = TestData.RandomVector(Cin * B * P, 3);
        float[] y = Run(layer, x);
        for (int o = 0; o < Cout; o++)
            for (int b = 0; b < B; b++)
                for (int i = 0; i < H; i++)
                    for (int j = 0; j < W; j++)
                        Assert.True(Math.Abs(Direct(layer, x, o, b, i, j) - y[o * B * P + b * P + i * W + j]) < 1e-4);
    }

    [Theory]
    [InlineData("vertical-first", 5)]
    [InlineData("vertical", 5)]
    [InlineData("typeB", 9)]
    public void Forward_OnWholePanelsOfManyImages_MatchesDirectConvolution(string taps, int batch)
    {
        // 7×16 images: every 16-pixel panel lies in one image, so the packing reads whole vectors and its mask drops
        // the lanes that wrap into the neighbouring row or image; several image groups, the last one partial.
        var layer = new CausalConv2d("Conv", 3, 5, Taps(taps), 7, 16);
        TestData.RandomVector(layer.Weight.Length, seed: 8).CopyTo(layer.Weight.Value, 0);
        TestData.RandomVector(5, seed: 9).CopyTo(layer.Bias.Value, 0);
        float[] x = TestData.RandomVector(3 * batch * 112, seed: 10);
        float[] y = new float[5 * batch * 112];
        layer.Forward(x, batch, y);
        for (int o = 0; o < 5; o++)
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < 112; p++)
                    Assert.True(Math.Abs(Direct(layer, x, o, b, p / 16, p % 16, batch) - y[(o * batch + b) * 112 + p])
                        < 1e-4, $"y[{o}, {b}, {p}]");
    }

    [Theory]
    [InlineData("vertical", 5, 7, 16)]
    [InlineData("typeB", 9, 7, 16)]
    [InlineData("horizontal", 6, 7, 16)]
    [InlineData("vertical", 9, 5, 13)] // 8-pixel blocks that straddle two images; K blocks not a multiple of 8
    public void Backward_OnWholePanelsOfManyImages_MatchesDefinition(string taps, int batch, int height, int width)
    {
        // The weight gradient ∂W[o, (c, t)] = Σ_{b,p} dy[o, b, p]·x[c, b, p + tap] (inside the image) and the input
        // gradient, in double, on images whose 8-pixel blocks the packing reads as whole vectors.
        const int inputs = 3, outputs = 5;
        int pixels = height * width;
        var layer = new CausalConv2d("Conv", inputs, outputs, Taps(taps), height, width);
        TestData.RandomVector(layer.Weight.Length, seed: 11).CopyTo(layer.Weight.Value, 0);
        float[] x = TestData.RandomVector(inputs * batch * pixels, seed: 12);
        float[] dy = TestData.RandomVector(outputs * batch * pixels, seed: 13);
        float[] dx = new float[x.Length];
        layer.Backward(x, batch, dy, dx, new float[layer.ColumnsLength(batch)]);

        int t = layer.Taps.Count;
        var expectedW = new double[layer.Weight.Length];
        var expectedX = new double[x.Length];
        for (int o = 0; o < outputs; o++)
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < pixels; p++)
                    for (int c = 0; c < inputs; c++)
                        for (int k = 0; k < t; k++)
                        {
                            int i = p / width + layer.Taps[k].Dy, j = p % width + layer.Taps[k].Dx;
                            if (i < 0 || i >= height || j < 0 || j >= width) continue;
                            int source = (c * batch + b) * pixels + i * width + j;
                            double g = dy[(o * batch + b) * pixels + p];
                            expectedW[o * inputs * t + c * t + k] += g * x[source];
                            expectedX[source] += g * layer.Weight.Value[o * inputs * t + c * t + k];
                        }
        for (int e = 0; e < expectedW.Length; e++)
            Assert.True(Math.Abs(expectedW[e] - layer.Weight.Gradient[e]) < 1e-3, $"dW[{e}]");
        for (int e = 0; e < expectedX.Length; e++)
            Assert.True(Math.Abs(expectedX[e] - dx[e]) < 1e-4, $"dx[{e}]");
    }

    [Theory]
    [MemberData(nameof(TapSets))]
    public void ForwardRange_EqualsForwardOnTheRangeAndLeavesTheRestAlone(string taps)
    {
        var layer = RandomLayer(Taps(taps), 2);
        float[] x = TestData.RandomVector(Cin * B * P, 4);
        float[] full = Run(layer, x);
        foreach (var (p0, p1) in new[] { (0, 1), (7, 8), (W, 2 * W), (P - 3, P) })
        {
            float[] y = Enumerable.Repeat(-99f, Cout * B * P).ToArray();
            layer.ForwardRange(x, B, p0, p1, y, new float[layer.RangeScratchLength(B, p1 - p0)]);
            for (int e = 0; e < y.Length; e++)
            {
                int p = e % P;
                // Equal up to rounding: with few output channels the two paths may sum in different orders.
                if (p >= p0 && p < p1) Assert.True(Math.Abs(full[e] - y[e]) <= 1e-5f * (1 + Math.Abs(full[e])));
                else Assert.Equal(-99f, y[e]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TapSets))]
    public void Backward_MatchesFiniteDifferences(string taps)
    {
        var layer = RandomLayer(Taps(taps), 5);
        float[] x = TestData.RandomVector(Cin * B * P, 6);
        float[] g = TestData.RandomVector(Cout * B * P, 7);
        double Loss() => Run(layer, x).Zip(g, (p, q) => (double)p * q).Sum();

        float[] dx = Enumerable.Repeat(0.5f, x.Length).ToArray(); // accumulateDx adds to what is there
        layer.Backward(x, B, g, dx, new float[layer.ColumnsLength(B)],
            accumulateDx: true);
        for (int i = 0; i < dx.Length; i++) dx[i] -= 0.5f;
        const float h = 1e-2f; // the loss is linear in every parameter and input
        foreach (var (values, gradient, name) in new[] { (layer.Weight.Value, layer.Weight.Gradient, "W"),
            (layer.Bias.Value, layer.Bias.Gradient, "b"), (x, dx, "x") })
            for (int i = 0; i < values.Length; i++)
            {
                float saved = values[i];
                values[i] = saved + h; double plus = Loss();
                values[i] = saved - h; double minus = Loss();
                values[i] = saved;
                Assert.True(Math.Abs((plus - minus) / (2 * h) - gradient[i]) < 2e-3,
                    $"{name}[{i}]: {gradient[i]} vs {(plus - minus) / (2 * h)}");
            }
    }

    [Fact]
    public void TapSets_AreCausalInRasterOrder()
    {
        static bool Before((int Dy, int Dx) t) => t.Dy < 0 || (t.Dy == 0 && t.Dx < 0);
        Assert.All(ConvTaps.PixelCnn(5, includeCentre: false), t => Assert.True(Before(t)));
        Assert.Contains((0, 0), ConvTaps.PixelCnn(5, includeCentre: true));
        Assert.Equal(12, ConvTaps.PixelCnn(5, includeCentre: false).Length);
        // Vertical: first layer strictly above (k/2 + 1 rows), later layers down to the current row; full width.
        Assert.All(ConvTaps.Vertical(5, first: true), t => Assert.InRange(t.Dy, -3, -1));
        Assert.Equal(15, ConvTaps.Vertical(5, first: true).Length);
        Assert.All(ConvTaps.Vertical(5, first: false), t => Assert.InRange(t.Dy, -2, 0));
        // Horizontal: same row, strictly left in the first layer.
        Assert.Equal([(0, -2), (0, -1)], ConvTaps.Horizontal(5, first: true));
        Assert.Equal([(0, -2), (0, -1), (0, 0)], ConvTaps.Horizontal(5, first: false));
        Assert.Equal([(0, -2), (0, -1)], ConvTaps.Causal(2));
    }

    [Fact]
    public void GatedActivation_BackwardMatchesFiniteDifferences()
    {
        float[] a = TestData.RandomVector(37, 1, scale: 2f), g = TestData.RandomVector(37, 2, scale: 2f),
            dy = TestData.RandomVector(37, 3);
        var y = new float[37];
        GatedActivation.Forward(a, g, y);
        for (int i = 0; i < 37; i++) Assert.Equal(Math.Tanh(a[i]) / (1 + Math.Exp(-g[i])), y[i], 5);
        float[] da = new float[37], dg = new float[37];
        GatedActivation.Backward(a, g, dy, da, dg);
        const double h = 1e-4;
        static double F(double u, double v) => Math.Tanh(u) / (1 + Math.Exp(-v));
        for (int i = 0; i < 37; i++)
        {
            Assert.Equal(dy[i] * (F(a[i] + h, g[i]) - F(a[i] - h, g[i])) / (2 * h), da[i], 4);
            Assert.Equal(dy[i] * (F(a[i], g[i] + h) - F(a[i], g[i] - h)) / (2 * h), dg[i], 4);
        }
    }
}
