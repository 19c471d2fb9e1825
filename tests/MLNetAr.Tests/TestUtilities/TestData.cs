using MLNetAr.Data;

namespace MLNetAr.Tests.TestUtilities;

/// <summary>The embedded digits (copied next to the test assembly) and small synthetic data.</summary>
internal static class TestData
{
    private static readonly Lazy<ImageSet> DigitsLazy = new(() => ImageSet.LoadDigits10k());

    /// <summary>All 10,000 embedded MNIST digits, pixels in [0, 1].</summary>
    public static ImageSet Digits => DigitsLazy.Value;

    /// <summary>Every binary vector of length <paramref name="d"/> (2^d rows), bit j of row r = pixel j.</summary>
    public static float[] AllBinaryVectors(int d) => AllVectors(d, 2);

    /// <summary>
    /// Every vector of length <paramref name="d"/> over K = <paramref name="levels"/> levels (K^d rows, values
    /// <c>level / (K - 1)</c>): digit j of row r in base K is the level of pixel j.
    /// </summary>
    public static float[] AllVectors(int d, int levels)
    {
        int count = (int)Math.Pow(levels, d);
        var x = new float[count * d];
        for (int r = 0; r < count; r++)
            for (int j = 0, rest = r; j < d; j++, rest /= levels)
                x[r * d + j] = rest % levels / (float)(levels - 1);
        return x;
    }

    /// <summary>Uniform random values in [-scale, scale].</summary>
    public static float[] RandomVector(int length, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    /// <summary>
    /// Adds uniform noise in [-scale, scale] to every parameter (seeded per tensor by <c>seed + length</c>): larger,
    /// non-uniform weights than an initialisation, so every term of a model matters in a test.
    /// </summary>
    public static void Perturb(MLNetAr.Models.DensityModel model, int seed, float scale)
    {
        foreach (var p in model.Parameters)
        {
            float[] noise = RandomVector(p.Length, seed + p.Length, scale);
            for (int i = 0; i < p.Length; i++) p.Value[i] += noise[i];
        }
    }

    /// <summary>Random binary rows with per-pixel probability <paramref name="p"/>.</summary>
    public static float[] RandomBinary(int rows, int d, int seed, double p = 0.3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows * d).Select(_ => random.NextDouble() < p ? 1f : 0f).ToArray();
    }

    /// <summary>
    /// A binary FVSBN's weights stream as format 1 wrote it (hyperparameters: the dimension only), for the
    /// backward-compatibility tests.
    /// </summary>
    public static byte[] WeightsStreamInFormat1(MLNetAr.Models.Fvsbn model)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("MLNARW");
            writer.Write(1);
            writer.Write(model.Kind);
            writer.Write(model.Dimension);
            writer.Write(model.Parameters.Count);
            foreach (var p in model.Parameters)
            {
                writer.Write(p.Name);
                writer.Write(p.Length);
                foreach (float v in p.Value) writer.Write(v);
            }
        }
        byte[] payload = buffer.ToArray();
        return [.. payload, .. System.Security.Cryptography.SHA256.HashData(payload)];
    }
}

