using MLNetAr.Kernels;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Kernels;

public class ShiftKernelTests
{
    // Lengths around the vector width, shifts that reach past either end of the source.
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        foreach (int length in new[] { 1, 7, 8, 37, 100 })
            foreach (int shift in new[] { -length - 3, -29, -1, 0, 1, 5, 29, length + 2 })
                data.Add(length, shift);
        return data;
    }

    private static float[] Mask(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(3) == 0 ? 0f : Kernel.KeepMask).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CopyShiftedMasked_MatchesDefinition(int length, int shift)
    {
        // Infinities and NaN where the mask drops a value: a mask must drop them exactly (no 0·x).
        float[] source = TestData.RandomVector(length + 11, seed: 1);
        source[0] = float.PositiveInfinity;
        source[^1] = float.NaN;
        float[] mask = Mask(length, seed: 2);
        for (int i = 0; i < length; i++)
            if (i + shift == 0 || i + shift == source.Length - 1) mask[i] = 0f;
        float[] destination = Enumerable.Repeat(42f, length).ToArray();

        Kernel.CopyShiftedMasked(source, shift, mask, destination);

        for (int i = 0; i < length; i++)
        {
            bool inside = i + shift >= 0 && i + shift < source.Length;
            float expected = inside && BitConverter.SingleToInt32Bits(mask[i]) == -1 ? source[i + shift] : 0f;
            Assert.Equal(expected, destination[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AddShiftedMasked_IsTheAdjointOfTheCopy(int length, int shift)
    {
        // <copy(x), y> = <x, add(y)> for every x, y: the backward pass of im2col is its exact transpose.
        int sourceLength = length + 11;
        float[] x = TestData.RandomVector(sourceLength, seed: 3), y = TestData.RandomVector(length, seed: 4);
        float[] mask = Mask(length, seed: 5);
        float[] copied = new float[length], added = TestData.RandomVector(sourceLength, seed: 6);
        float[] before = added.ToArray();

        Kernel.CopyShiftedMasked(x, shift, mask, copied);
        Kernel.AddShiftedMasked(y, mask, shift, added);

        double left = 0, right = 0;
        for (int i = 0; i < length; i++) left += (double)copied[i] * y[i];
        for (int q = 0; q < sourceLength; q++)
        {
            int i = q - shift;
            bool kept = i >= 0 && i < length && BitConverter.SingleToInt32Bits(mask[i]) == -1;
            Assert.Equal(before[q] + (kept ? y[i] : 0f), added[q]);
            right += (double)x[q] * (added[q] - before[q]);
        }
        Assert.Equal(left, right, 4);
    }

    [Fact]
    public void ShortMask_IsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Kernel.CopyShiftedMasked(new float[10], 0, new float[3], new float[4]));
        Assert.Equal("mask", error.ParamName);
    }
}
