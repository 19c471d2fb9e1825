using System.Numerics.Tensors;

namespace MLNetAr.Internal;

internal static class PixelStatistics
{
    /// <summary>Per-pixel mean of <c>(N, D)</c> rows (zeros when there are none).</summary>
    public static float[] Means(float[] rows, int dimension)
    {
        var means = new float[dimension];
        int count = rows.Length / dimension;
        for (int r = 0; r < count; r++) TensorPrimitives.Add(means, rows.AsSpan(r * dimension, dimension), means);
        if (count > 0) TensorPrimitives.Divide(means, count, means);
        return means;
    }
}
