using MLNetAr.Kernels;

namespace MLNetAr.Tests.Kernels;

public class SelectKernelTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(7, true)]
    [InlineData(8, false)]
    [InlineData(37, true)]
    [InlineData(100, false)]
    [InlineData(100, true)]
    public void SelectByDegree_MatchesTheScalarDefinition(int length, bool accumulate)
    {
        var random = new Random(length);
        int[] degrees = Enumerable.Range(0, length).Select(_ => random.Next(1, 20)).ToArray();
        float[] x = Enumerable.Range(0, length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] start = Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
        const int limit = 9;

        float[] y = (float[])start.Clone();
        Kernel.SelectByDegree(degrees, limit, x, y, accumulate);

        for (int i = 0; i < length; i++)
        {
            float expected = degrees[i] <= limit ? (accumulate ? start[i] + x[i] : x[i]) : (accumulate ? start[i] : 0f);
            Assert.Equal(expected, y[i]);
        }
    }

    [Fact]
    public void SelectByDegree_SpansOfDifferentLengths_AreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Kernel.SelectByDegree(new int[8], 1, new float[8], new float[7], accumulate: false));
        Assert.Contains("y 7", error.Message, StringComparison.Ordinal);
    }
}
