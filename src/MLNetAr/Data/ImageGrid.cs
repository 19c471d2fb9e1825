using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetAr.Data;

/// <summary>Writes grayscale images as a PNG grid (8-bit grayscale, no dependencies beyond the BCL's zlib).</summary>
public static class ImageGrid
{
    /// <summary>
    /// Saves <paramref name="images"/> (each <c>height × width</c> values in [0, 1], row-major, 1 = white) as a grid with
    /// <paramref name="columns"/> images per row, a one-pixel gap, each pixel scaled up by <paramref name="scale"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An image has the wrong size, or sizes are not positive.</exception>
    public static void SavePng(string path, IReadOnlyList<float[]> images, int height, int width, int columns = 10, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] png = EncodePng(images, height, width, columns, scale);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null) Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, png);
    }

    /// <summary>The PNG bytes of <see cref="SavePng"/>.</summary>
    public static byte[] EncodePng(IReadOnlyList<float[]> images, int height, int width, int columns = 10, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (height < 1 || width < 1 || columns < 1 || scale < 1) throw new ArgumentException("Sizes, columns and scale must be positive.");
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
            if (image.Length != height * width) throw new ArgumentException($"Image {n} has {image.Length} values, expected {height * width}.", nameof(images));
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
    public static byte[] EncodeGray8(byte[] pixels, int width, int height)
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 0; // grayscale
        WriteChunk(output, "IHDR", header);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0); // filter: none
                    z.Write(pixels, y * width, width);
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
