using MLNetAr.Nn.Layers;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Nn;

public class MaskedConv2dTests
{
    private const int Cin = 2, Cout = 3, K = 3, H = 4, W = 5, B = 2;

    private static MaskedConv2d RandomLayer(int seed, int cin = Cin, int cout = Cout)
    {
        var layer = new MaskedConv2d("Conv", cin, cout, K, H, W);
        TestData.RandomVector(layer.Weight.Length, seed).CopyTo(layer.Weight.Value, 0);
        TestData.RandomVector(cout, seed + 1).CopyTo(layer.Bias.Value, 0);
        return layer;
    }

    private static float[] Run(MaskedConv2d layer, float[] mask, float[] x, int batch, out float[] columns)
    {
        var masked = new float[layer.Weight.Length];
        layer.ApplyMask(mask, masked);
        var y = new float[batch * layer.OutputChannels * H * W];
        columns = new float[batch * layer.PatchSize * H * W];
        layer.Forward(x, batch, masked, y, columns);
        return y;
    }

    [Fact]
    public void Forward_MatchesDirectConvolution()
    {
        var layer = RandomLayer(1);
        float[] mask = TestData.RandomBinary(1, layer.Weight.Length, seed: 2, p: 0.7);
        float[] x = TestData.RandomVector(B * Cin * H * W, 3);
        float[] y = Run(layer, mask, x, B, out _);
        for (int b = 0; b < B; b++)
            for (int o = 0; o < Cout; o++)
                for (int i = 0; i < H; i++)
                    for (int j = 0; j < W; j++)
                    {
                        double sum = layer.Bias.Value[o];
                        for (int c = 0; c < Cin; c++)
                            for (int u = 0; u < K; u++)
                                for (int v = 0; v < K; v++)
                                {
                                    int si = i + u - K / 2, sj = j + v - K / 2;
                                    if (si < 0 || si >= H || sj < 0 || sj >= W) continue;
                                    int w = o * Cin * K * K + (c * K + u) * K + v;
                                    sum += layer.Weight.Value[w] * mask[w] * x[((b * Cin + c) * H + si) * W + sj];
                                }
                        Assert.Equal(sum, y[((b * Cout + o) * H + i) * W + j], 4);
                    }
    }

    [Fact]
    public void Backward_MatchesFiniteDifferences()
    {
        var layer = RandomLayer(4);
        float[] mask = PixelCnnMask.Create(Cout, Cin, K, includeCentre: true);
        float[] x = TestData.RandomVector(B * Cin * H * W, 5);
        float[] g = TestData.RandomVector(B * Cout * H * W, 6);
        double Loss() => Run(layer, mask, x, B, out _).Zip(g, (p, q) => (double)p * q).Sum();

        float[] y = Run(layer, mask, x, B, out float[] columns);
        var masked = new float[layer.Weight.Length];
        layer.ApplyMask(mask, masked);
        var dx = new float[x.Length];
        layer.Backward(columns, B, g, mask, masked, dx, new float[Math.Max(layer.Weight.Length, layer.PatchSize * H * W)]);
        const float h = 1e-2f; // the loss is linear in every parameter and input
        foreach (var (values, gradient, name) in new[] { (layer.Weight.Value, layer.Weight.Gradient, "W"), (layer.Bias.Value, layer.Bias.Gradient, "b"), (x, dx, "x") })
            for (int i = 0; i < values.Length; i++)
            {
                float saved = values[i];
                values[i] = saved + h; double plus = Loss();
                values[i] = saved - h; double minus = Loss();
                values[i] = saved;
                Assert.True(Math.Abs((plus - minus) / (2 * h) - gradient[i]) < 2e-3, $"{name}[{i}]: {gradient[i]} vs {(plus - minus) / (2 * h)}");
            }
        for (int i = 0; i < mask.Length; i++) if (mask[i] == 0f) Assert.Equal(0f, layer.Weight.Gradient[i]);
        Assert.NotNull(y);
    }

    [Fact]
    public void TypeAThenTypeB_OutputSeesOnlyEarlierPixelsInRasterOrder()
    {
        // Two stacked layers on one channel: A (centre excluded) then B (centre included).
        var first = RandomLayer(7, cin: 1, cout: 2);
        var second = RandomLayer(8, cin: 2, cout: 1);
        float[] maskA = PixelCnnMask.Create(2, 1, K, includeCentre: false), maskB = PixelCnnMask.Create(1, 2, K, includeCentre: true);
        float[] Net(float[] image) => Run(second, maskB, Run(first, maskA, image, 1, out _), 1, out _);

        float[] x = TestData.RandomVector(H * W, 9);
        float[] baseline = Net(x);
        bool sawEarlier = false;
        for (int p = 0; p < H * W; p++)
        {
            float[] changed = x.ToArray();
            changed[p] += 1f;
            float[] y = Net(changed);
            for (int q = 0; q < H * W; q++)
            {
                if (q <= p) Assert.True(baseline[q] == y[q], $"output {q} changed when input {p} did");
                else sawEarlier |= baseline[q] != y[q];
            }
        }
        Assert.True(sawEarlier, "no output depended on any earlier pixel");
    }
}
