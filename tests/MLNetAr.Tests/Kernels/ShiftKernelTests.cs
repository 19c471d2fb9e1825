using MLNetAr.Kernels;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Kernels;

public class ShiftKernelTests
{
    // Lengths around the vector width, shifts that reach past either end of the destination.
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        foreach (int length in new[] { 1, 7, 8, 37, 100 })
            foreach (int shift in new[] { -length - 3, -29, -1, 0, 1, 5, 29, length + 2 })
                data.Add(length, shift);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AddShiftedMasked_MatchesDefinition(int length, int shift)
    {
        // Infinities and NaN where the mask drops a value: a mask must drop them exactly (no 0·x).
        var random = new Random(length + shift);
        float[] source = TestData.RandomVector(length, seed: 1);
        float[] mask = Enumerable.Range(0, length).Select(_ => random.Next(3) == 0 ? 0f : Kernel.KeepMask).ToArray();
        for (int i = 0; i < length; i++)
            if (mask[i] == 0f && i % 2 == 0) source[i] = i % 4 == 0 ? float.NaN : float.PositiveInfinity;
        int destinationLength = length + 11;
        float[] destination = TestData.RandomVector(destinationLength, seed: 2), before = destination.ToArray();

        Kernel.AddShiftedMasked(source, mask, shift, destination);

        for (int q = 0; q < destinationLength; q++)
        {
            int i = q - shift;
            bool kept = i >= 0 && i < length && BitConverter.SingleToInt32Bits(mask[i]) == -1;
            Assert.Equal(before[q] + (kept ? source[i] : 0f), destination[q]);
        }
    }

    [Fact]
    public void ShortMask_IsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Kernel.AddShiftedMasked(new float[4], new float[3], 0, new float[10]));
        Assert.Equal("mask", error.ParamName);
    }
}
