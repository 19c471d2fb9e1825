using MLNetAr.Nn.Masks;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Nn;

public class DegreeMaskTests
{
    /// <summary>
    /// Apply and MultiplyAdd equal the 0/1 array the degrees define: scalar rows, a vector body with a tail, and a
    /// matrix split into several parallel row ranges.
    /// </summary>
    [Theory]
    [InlineData(3, 5, false)]
    [InlineData(9, 8, true)]
    [InlineData(130, 37, false)]
    [InlineData(600, 300, true)]
    public void ApplyAndMultiplyAdd_EqualTheMaterialisedMask(int outputs, int inputs, bool strict)
    {
        var random = new Random(outputs + inputs);
        int[] outDegrees = Enumerable.Range(0, outputs).Select(_ => random.Next(inputs)).ToArray();
        int[] inDegrees = Enumerable.Range(0, inputs).Select(_ => random.Next(inputs)).ToArray();
        var mask = new DegreeMask(outDegrees, inDegrees, strict);
        float[] dense = mask.ToArray();
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < inputs; i++)
                Assert.Equal(strict ? inDegrees[i] < outDegrees[o] : inDegrees[i] <= outDegrees[o],
                    dense[o * inputs + i] == 1f);
        float[] source = TestData.RandomVector(outputs * inputs, 1);

        var applied = Enumerable.Repeat(float.NaN, dense.Length).ToArray(); // every entry must be written
        mask.Apply(source, applied);
        Assert.Equal(source.Zip(dense, (s, m) => m == 1f ? s : 0f), applied);

        float[] accumulated = TestData.RandomVector(dense.Length, 2), before = accumulated.ToArray();
        mask.MultiplyAdd(source, accumulated);
        Assert.Equal(Enumerable.Range(0, dense.Length).Select(k => dense[k] == 1f ? before[k] + source[k] : before[k]),
            accumulated);
    }

    [Fact]
    public void Apply_ShortBuffer_IsRefused()
    {
        var mask = new DegreeMask([1, 2], [0, 1, 2], strict: false);
        var error = Assert.Throws<ArgumentException>(() => mask.Apply(new float[6], new float[5]));
        Assert.Contains("2×3", error.Message);
    }
}
