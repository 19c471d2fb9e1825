using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetAr.Data;

/// <summary>Writes grayscale images as a PNG grid (8-bit grayscale, no dependencies beyond the BCL's zlib).</summary>
public static class ImageGrid
{
    /// <summary>
    /// Saves <paramref name="images"/> (each <c>height × width</c> values in [0, 1], row-major, 1 = white) as a grid
    /// with <paramref name="columns"/> images per row, a one-pixel gap, each pixel scaled up by
    /// <paramref name="scale"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An image has the wrong size, or sizes are not positive.</exception>
    public static void SavePng(string path, IReadOnlyList<float[]> images, int height, int width, int columns = 10,
        int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] png = EncodePng(images, height, width, columns, scale);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null) Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, png);
    }

    /// <summary>The PNG bytes of <see cref="SavePng"/>.</summary>
    public static byte[] EncodePng(IReadOnlyList<float[]> images, int height, int width, int columns = 10,
        int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (height < 1 || width < 1 || columns < 1 || scale < 1)
            throw new ArgumentException("Sizes, columns and scale must be positive.");
        int count = Math.Max(1, images.Count);
        int rows = (count + columns - 1) / columns;
        int cols = Math.Min(columns, count);
        int cellW = width * scale + 1, cellH = height * scale + 1;
        int imageW = cols * cellW + 1, imageH = rows * cellH + 1;
        var pixels = new byte[imageH * imageW];
        Array.Fill(pixels, (byte)96); // gaps: mid gray
        for (int n = 0; n < images.Count; n++)
        {
            float[] image = images[n];
            if (image.Length != height * width)
                throw new ArgumentException($"Image {n} has {image.Length} values, expected {height * width}.",
                    nameof(images));
            int top = (n / columns) * cellH + 1, left = (n % columns) * cellW + 1;
            for (int y = 0; y < height * scale; y++)
                for (int x = 0; x < width * scale; x++)
                {
                    float v = image[(y / scale) * width + x / scale];
                    pixels[(top + y) * imageW + left + x] = (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);
                }
        }
        return EncodeGray8(pixels, imageW, imageH);
    }

    /// <summary>PNG of an 8-bit grayscale raster (<c>height × width</c> bytes).</summary>
    public static byte[] EncodeGray8(byte[] pixels, int width, int height) =>
        Encode(pixels, width, height, channels: 1);

    /// <summary>PNG of an 8-bit RGB raster (<c>height × width × 3</c> bytes).</summary>
    public static byte[] EncodeRgb8(byte[] pixels, int width, int height) => Encode(pixels, width, height, channels: 3);

    /// <summary>
    /// Saves pairs side by side: each image (gray) next to a heat map of its per-pixel scores (black → red → yellow →
    /// white, scaled to the largest score shown), one pair per row.
    /// </summary>
    /// <exception cref="ArgumentException">Counts or sizes disagree.</exception>
    public static void SaveHeatMapPng(string path, IReadOnlyList<float[]> images, IReadOnlyList<float[]> scores,
        int height, int width, int scale = 4)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (images.Count != scores.Count || images.Count == 0)
            throw new ArgumentException("Give one score vector per image, and at least one image.", nameof(scores));
        float max = scores.Max(s => s.Length == 0 ? 0f : s.Max());
        if (!(max > 0f)) max = 1f;
        int cellW = width * scale, cellH = height * scale, imageW = 2 * cellW + 3, imageH = images.Count * (cellH + 1)
            + 1;
        var rgb = new byte[imageW * imageH * 3];
        Array.Fill(rgb, (byte)96);
        for (int n = 0; n < images.Count; n++)
        {
            if (images[n].Length != height * width || scores[n].Length != height * width)
                throw new ArgumentException($"Pair {n} does not hold {height}×{width} values.", nameof(images));
            int top = n * (cellH + 1) + 1;
            for (int y = 0; y < cellH; y++)
                for (int x = 0; x < cellW; x++)
                {
                    int source = (y / scale) * width + x / scale;
                    byte gray = (byte)Math.Clamp(MathF.Round(images[n][source] * 255f), 0f, 255f);
                    int left = ((top + y) * imageW + 1 + x) * 3;
                    rgb[left] = rgb[left + 1] = rgb[left + 2] = gray;
                    var (r, g, b) = HeatColor(scores[n][source] / max);
                    int right = ((top + y) * imageW + 2 + cellW + x) * 3;
                    (rgb[right], rgb[right + 1], rgb[right + 2]) = (r, g, b);
                }
        }
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null) Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, EncodeRgb8(rgb, imageW, imageH));
    }

    /// <summary>"Hot" colour map on [0, 1]: black, red, yellow, white.</summary>
    private static (byte R, byte G, byte B) HeatColor(float t)
    {
        t = Math.Clamp(t, 0f, 1f) * 3f;
        static byte Channel(float v) => (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);
        return (Channel(t), Channel(t - 1f), Channel(t - 2f));
    }

    private static byte[] Encode(byte[] pixels, int width, int height, int channels)
    {
        if (pixels.Length != width * height * channels)
            throw new ArgumentException($"{pixels.Length} bytes for a {width}×{height}×{channels} raster.",
                nameof(pixels));
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = channels == 1 ? (byte)0 : (byte)2; // grayscale or RGB
        WriteChunk(output, "IHDR", header);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0); // filter: none
                    z.Write(pixels, y * width * channels, width * channels);
                }
            WriteChunk(output, "IDAT", raw.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        output.Write(four);
        byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        uint crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(four, crc);
        output.Write(four);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(uint crc, byte[] data)
    {
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
