using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Examples;

/// <summary>
/// 8×8 images holding one horizontal bar in a random row, of a random grey level (1/3, 2/3 or 1) or black: a
/// structure an AR model learns in seconds, so that its samples and completions can be checked by eye.
/// </summary>
internal static class Bars
{
    public const int Size = 8;

    public sealed class Row
    {
        [VectorType(Size, Size)]
        public float[] Pixels { get; set; } = [];
    }

    public static IDataView Load(MLContext ml, int count, int seed, bool grey = true)
    {
        var random = new Random(seed);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(_ =>
        {
            var pixels = new float[Size * Size];
            int row = random.Next(Size);
            float level = grey ? random.Next(1, 4) / 3f : 1f;
            for (int x = 0; x < Size; x++) pixels[row * Size + x] = level;
            return new Row { Pixels = pixels };
        }).ToList());
    }

    /// <summary>Whether <paramref name="image"/> is one full bar of one grey level, and nothing else.</summary>
    public static bool IsBar(float[] image)
    {
        var inked = Enumerable.Range(0, Size).Where(r => image.Skip(r * Size).Take(Size).Any(v => v > 0)).ToArray();
        return inked.Length == 1 && image.Skip(inked[0] * Size).Take(Size).Distinct().Count() == 1;
    }
}
