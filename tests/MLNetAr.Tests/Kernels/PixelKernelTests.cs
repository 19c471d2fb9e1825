using MLNetAr.Kernels;

namespace MLNetAr.Tests.Kernels;

public class PixelKernelTests
{
    public static TheoryData<int> Lengths() => [1, 7, 8, 9, 37, 784];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Threshold_MatchesTheScalarDefinition_AndNeverWritesMinusZero(int length)
    {
        var random = new Random(length);
        float[] values = Enumerable.Range(0, length).Select(i => i % 5 == 0 ? -0f : (float)random.NextDouble())
            .ToArray();
        float[] expected = values.Select(v => v > 0.3f ? 1f : 0f).ToArray();
        Kernel.Threshold(values, 0.3f);
        Assert.Equal(expected, values);
        Assert.All(values, v => Assert.False(float.IsNegative(v)));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void AllPixelsValid_FindsAnInvalidValueAnywhere(int length)
    {
        var random = new Random(length);
        float[] unit = Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
        float[] binary = unit.Select(v => v > 0.5f ? 1f : -0f).ToArray();
        Assert.True(Kernel.AllPixelsValid(unit, zeroOrOne: false));
        Assert.True(Kernel.AllPixelsValid(binary, zeroOrOne: true));
        Assert.Equal(unit.All(v => v == 0f || v == 1f), Kernel.AllPixelsValid(unit, zeroOrOne: true));
        foreach (float bad in new[] { float.NaN, -0.01f, 1.01f, float.PositiveInfinity })
            for (int at = 0; at < length; at += Math.Max(1, length / 5))
            {
                float[] copy = (float[])unit.Clone();
                copy[at] = bad;
                Assert.False(Kernel.AllPixelsValid(copy, zeroOrOne: false), $"{bad} at {at}");
            }
        float[] half = (float[])binary.Clone();
        half[length - 1] = 0.5f;
        Assert.False(Kernel.AllPixelsValid(half, zeroOrOne: true));
    }
}
