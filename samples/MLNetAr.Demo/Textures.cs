using Microsoft.ML.Data;
using MLNetAr.Data;

namespace MLNetAr.Demo;

/// <summary>A synthetic defect pasted on a texture patch (its true mask is known).</summary>
public enum DefectKind
{
    /// <summary>A thin bright or dark line, 10–20 pixels long, at a random angle.</summary>
    Scratch,
    /// <summary>A disk (radius 4–6) of another texture.</summary>
    Blob,
    /// <summary>A small bright or dark disk (radius 2–3).</summary>
    Spot,
}

/// <summary>
/// Grey-level patches of the embedded texture photographs (<c>data/textures</c>: brick, grass, gravel; CC0), and pasted
/// synthetic defects with their masks: the data of the texture anomaly benchmark, the main job's texture section and
/// the localisation tests.
/// </summary>
public static class Textures
{
    /// <summary>The embedded textures.</summary>
    public static IReadOnlyList<string> Names { get; } = ["brick", "grass", "gravel"];

    /// <summary>
    /// A texture as grey values in [0, 1], <c>(H, W)</c> row-major, reduced by averaging <paramref name="reduction"/>²
    /// blocks (a 32×32 patch of the 2× reduced 512×512 photograph shows a whole brick).
    /// </summary>
    public static (float[] Pixels, int Height, int Width) Load(string name, int reduction = 2)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "data", "textures", name + ".png");
        if (!File.Exists(path))
            throw new FileNotFoundException($"Texture '{name}' is not embedded (looked for {path}).", path);
        using MLImage image = MLImage.CreateFromFile(path);
        byte[] bgr = image.GetBGRPixels; // grey PNG: B = G = R
        int height = image.Height / reduction, width = image.Width / reduction;
        var pixels = new float[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int sum = 0;
                for (int dy = 0; dy < reduction; dy++)
                    for (int dx = 0; dx < reduction; dx++)
                        sum += bgr[3 * ((y * reduction + dy) * image.Width + x * reduction + dx)];
                pixels[y * width + x] = sum / (255f * reduction * reduction);
            }
        return (pixels, height, width);
    }

    /// <summary>
    /// Every <paramref name="size"/>×<paramref name="size"/> patch of rows <c>[fromRow, toRow)</c> (fractions of the
    /// height) of texture <paramref name="name"/>, taken every <paramref name="stride"/> pixels.
    /// </summary>
    public static ImageSet Patches(string name, int size, double fromRow, double toRow, int stride)
    {
        var (texture, height, width) = Load(name);
        int top = (int)(fromRow * height), bottom = (int)(toRow * height);
        var patches = new List<float>();
        int count = 0;
        for (int y = top; y + size <= bottom; y += stride)
            for (int x = 0; x + size <= width; x += stride)
            {
                for (int r = 0; r < size; r++) patches.AddRange(texture.AsSpan((y + r) * width + x, size).ToArray());
                count++;
            }
        return new ImageSet(patches.ToArray(), size, size, new float[count]);
    }

    /// <summary>
    /// A copy of <paramref name="patch"/> (<c>size × size</c>) with a defect of <paramref name="kind"/> pasted at a
    /// random place, and the defect's mask. <paramref name="other"/>: a patch of another texture (the blob's content).
    /// </summary>
    public static (float[] Image, bool[] Mask) PasteDefect(float[] patch, int size, DefectKind kind, float[] other,
        Random random)
    {
        var image = (float[])patch.Clone();
        var mask = new bool[size * size];
        double cy = 6 + random.NextDouble() * (size - 12), cx = 6 + random.NextDouble() * (size - 12);
        float value = random.Next(2) == 0 ? 0.02f : 0.98f;
        switch (kind)
        {
            case DefectKind.Scratch:
                double angle = random.NextDouble() * Math.PI, half = 5 + random.NextDouble() * 5;
                for (double t = -half; t <= half; t += 0.25)
                {
                    int y = (int)Math.Round(cy + t * Math.Sin(angle)), x = (int)Math.Round(cx + t * Math.Cos(angle));
                    if (y >= 0 && y < size && x >= 0 && x < size)
                        (image[y * size + x], mask[y * size + x]) = (value, true);
                }
                break;
            case DefectKind.Blob or DefectKind.Spot:
                double radius = kind == DefectKind.Blob ? 4 + random.NextDouble() * 2 : 2 + random.NextDouble();
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                        if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= radius * radius)
                            (image[y * size + x], mask[y * size + x]) = (kind == DefectKind.Blob ? other[y * size + x]
                                : value, true);
                break;
        }
        return (image, mask);
    }

    /// <summary>
    /// Whether the highest of <paramref name="pixelScores"/> lies inside <paramref name="mask"/> (the pointing game).
    /// </summary>
    public static bool PointsInside(ReadOnlySpan<float> pixelScores, bool[] mask)
    {
        int best = 0;
        for (int i = 1; i < pixelScores.Length; i++) if (pixelScores[i] > pixelScores[best]) best = i;
        return mask[best];
    }

    /// <summary>
    /// Area under the ROC curve of scores (higher = more anomalous) against labels (true = anomalous); ties count half.
    /// </summary>
    public static double Auc(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        int[] order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        long positives = labels.Count(l => l), negatives = labels.Count - positives;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j < order.Length && scores[order[j]] == scores[order[i]]) j++;
            double rank = (i + j + 1) / 2.0; // mean 1-based rank of the tie group
            for (int t = i; t < j; t++) if (labels[order[t]]) rankSum += rank;
            i = j;
        }
        return positives == 0 || negatives == 0 ? double.NaN
            : (rankSum - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }
}
