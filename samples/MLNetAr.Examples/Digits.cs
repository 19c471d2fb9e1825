using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;

namespace MLNetAr.Examples;

/// <summary>The examples' data: MNIST digits as ML.NET rows, and a way to print an image.</summary>
internal static class Digits
{
    private static readonly Lazy<ImageSet> All = new(() => ImageSet.LoadDigits10k());

    /// <summary>One digit: 784 grey levels in [0, 1] and its label.</summary>
    public sealed class Row
    {
        [VectorType(784)]
        public float[] Pixels { get; set; } = [];

        public float Label { get; set; }
    }

    /// <summary>
    /// Digits <c>[start, start + count)</c> of the 10,000 shipped with MLNetAr (optionally of one class).
    /// </summary>
    public static Row[] Rows(int start, int count, int? digit = null)
    {
        ImageSet set = All.Value.Slice(start, count);
        return Enumerable.Range(0, set.Count)
            .Select(i => new Row { Pixels = set.GetImage(i), Label = set.Labels![i] })
            .Where(r => digit == null || r.Label == digit).ToArray();
    }

    public static IDataView Load(MLContext ml, int start, int count, int? digit = null) =>
        ml.Data.LoadFromEnumerable(Rows(start, count, digit));

    /// <summary>An image as text, one character per pixel (darker characters for more ink).</summary>
    public static void Print(float[] image, int width = 28)
    {
        const string shades = " .:-=+*#%@";
        for (int row = 0; row < image.Length / width; row++)
            Console.WriteLine(string.Concat(image.Skip(row * width).Take(width).Select(v =>
                shades[(int)Math.Round(v * (shades.Length - 1))])));
    }
}
