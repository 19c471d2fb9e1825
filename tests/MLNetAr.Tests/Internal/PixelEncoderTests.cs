using MLNetAr.Internal;

namespace MLNetAr.Tests.Internal;

public class PixelEncoderTests
{
    /// <summary>The encoding written out one value at a time, as the class documents it.</summary>
    private static float Expected(float v, PixelBinarization binarization, float threshold, int levels) =>
        levels > 2 ? MathF.Round(v * (levels - 1)) / (levels - 1)
        : binarization == PixelBinarization.Threshold ? (v > threshold ? 1f : 0f)
        : v == 0f ? 0f : 1f;

    [Theory]
    [InlineData(PixelBinarization.Threshold, 0.5f, 2)]
    [InlineData(PixelBinarization.Threshold, 0.3f, 2)]
    [InlineData(PixelBinarization.None, 0.5f, 2)]
    [InlineData(PixelBinarization.Threshold, 0.5f, 4)]
    [InlineData(PixelBinarization.Threshold, 0.5f, 256)]
    public void Encode_VectorisedPath_EqualsTheScalarDefinition(PixelBinarization binarization, float threshold,
        int levels)
    {
        var random = new Random(3);
        foreach (int length in new[] { 1, 7, 8, 37, 784 }) // below, at and past the vector width, with tails
        {
            float[] values = Enumerable.Range(0, length).Select(_ => binarization == PixelBinarization.None
                ? random.Next(2) == 0 ? -0f : 1f
                : random.Next(4) switch { 0 => 0f, 1 => 1f, 2 => threshold, _ => random.NextSingle() }).ToArray();
            float[] encoded = values.ToArray();

            new PixelEncoder("Pixels", (BinarizationKind)binarization, threshold, levels).Encode(encoded, row: 0);

            for (int i = 0; i < length; i++)
            {
                float expected = Expected(values[i], binarization, threshold, levels);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(encoded[i]),
                    $"length {length}, index {i}: {values[i]} encoded as {encoded[i]}, expected {expected}");
            }
        }
    }

    [Theory]
    [InlineData(3, float.NaN, 2)]     // inside the first vector
    [InlineData(35, -0.5f, 2)]        // in the scalar tail
    [InlineData(20, 1.5f, 16)]        // K levels
    [InlineData(36, float.PositiveInfinity, 16)]
    public void Encode_InvalidValue_NamesColumnRowAndIndex(int index, float bad, int levels)
    {
        float[] values = new float[37];
        values[index] = bad;

        var error = Assert.Throws<InvalidOperationException>(() =>
            new PixelEncoder("Pixels", BinarizationKind.Threshold, 0.5f, levels).Encode(values, row: 12));

        Assert.Contains("Column 'Pixels' (row 12, index " + index + ")", error.Message);
        Assert.Contains("expected values in [0, 1]", error.Message);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(36)]
    public void Encode_NotBinaryWithoutBinarization_NamesIndex(int index)
    {
        float[] values = new float[37];
        values[index] = 0.25f;

        var error = Assert.Throws<InvalidOperationException>(() =>
            new PixelEncoder("Pixels", BinarizationKind.None, 0.5f).Encode(values, row: 2));

        Assert.Contains("(row 2, index " + index + "): expected 0 or 1 because Binarization is None", error.Message);
    }
}
