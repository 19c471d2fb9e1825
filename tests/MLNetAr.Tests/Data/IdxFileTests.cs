using System.IO.Compression;
using MLNetAr.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Data;

public class IdxFileTests
{
    private static byte[] Idx(byte[] values, params int[] dims)
    {
        var bytes = new List<byte> { 0, 0, 0x08, (byte)dims.Length };
        foreach (int d in dims)
            bytes.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(d)));
        bytes.AddRange(values);
        return bytes.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return output.ToArray();
    }

    [Fact]
    public void Read_PlainAndGzip_GiveSameDimensionsAndValues()
    {
        byte[] values = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 10)).ToArray();
        byte[] file = Idx(values, 2, 3, 4);
        var (dims, read) = IdxFile.Read(new MemoryStream(file));
        var (gzDims, gzRead) = IdxFile.Read(new MemoryStream(Gzip(file)));
        Assert.Equal([2, 3, 4], dims);
        Assert.Equal(values, read);
        Assert.Equal(dims, gzDims);
        Assert.Equal(values, gzRead);
    }

    [Fact]
    public void Read_Truncated_ThrowsInvalidData()
    {
        byte[] file = Idx(new byte[10], 2, 3, 4);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(new MemoryStream(file)));
        Assert.Contains("truncated", e.Message);
        Assert.Throws<InvalidDataException>(() => IdxFile.Read(new MemoryStream(Gzip(file))));
    }

    [Fact]
    public void Read_BadMagicOrElementType_ThrowsInvalidData()
    {
        Assert.Contains("Not an IDX file",
            Assert.Throws<InvalidDataException>(() =>
            IdxFile.Read(new MemoryStream([1, 2, 8, 1, 0, 0, 0, 0]))).Message);
        Assert.Contains("element type 0x0D",
            Assert.Throws<InvalidDataException>(() =>
            IdxFile.Read(new MemoryStream([0, 0, 0x0D, 1, 0, 0, 0, 0]))).Message);
    }

    [Fact]
    public void LoadIdx_EmbeddedDigits_HasTenThousandLabelledDigits()
    {
        ImageSet digits = TestData.Digits;
        Assert.Equal(10000, digits.Count);
        Assert.Equal((28, 28), (digits.Height, digits.Width));
        Assert.Equal(1001, digits.Labels!.Count(l => l == 0)); // per-class counts from the data README
        Assert.Equal(1127, digits.Labels!.Count(l => l == 1));
        Assert.InRange(digits.Pixels.Average(), 0.1, 0.16);
        Assert.All(digits.Pixels.Take(5000), v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void LoadIdx_LabelCountMismatch_Throws()
    {
        string images = Path.GetTempFileName(), labels = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(images, Idx(new byte[2 * 4], 2, 2, 2));
            File.WriteAllBytes(labels, Idx(new byte[3], 3));
            var e = Assert.Throws<InvalidDataException>(() => ImageSet.LoadIdx(images, labels));
            Assert.Contains("expected 2 labels", e.Message);
        }
        finally
        {
            File.Delete(images);
            File.Delete(labels);
        }
    }

    [Fact]
    public void LoadAmat_BinaryLines_ParsesAndRejectsMalformedLines()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["0 1 1 0", "1 0 0 1"]);
            ImageSet set = ImageSet.LoadAmat(path);
            Assert.Equal(2, set.Count);
            Assert.Equal((2, 2), (set.Height, set.Width));
            Assert.Equal([0f, 1, 1, 0, 1, 0, 0, 1], set.Pixels);
            File.WriteAllLines(path, ["0 1 1 0", "1 0 1"]);
            Assert.Contains("line 2", Assert.Throws<InvalidDataException>(() => ImageSet.LoadAmat(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Binarize_ThresholdAndStochastic_BehaveAsDocumented()
    {
        var set = new ImageSet([0f, 0.5f, 0.51f, 1f], 2, 2);
        Assert.Equal([0f, 0, 1, 1], set.BinarizeThreshold().Pixels);
        var many = new ImageSet(Enumerable.Repeat(0.25f, 40000).ToArray(), 200, 200);
        float[] first = many.BinarizeStochastic(seed: 3).Pixels;
        Assert.Equal(first, many.BinarizeStochastic(seed: 3).Pixels);
        Assert.InRange(first.Average(), 0.24, 0.26);
        Assert.All(first, v => Assert.True(v == 0f || v == 1f));
    }

    [Fact]
    public void ImageGrid_EncodePng_WritesValidSignatureAndSize()
    {
        byte[] png = ImageGrid.EncodePng([new float[4], [1, 1, 1, 1]], 2, 2, columns: 2, scale: 1);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Take(4).ToArray());
        // IHDR width/height: 2 cells of (2 + 1 gap) + 1 border = 7 wide, 4 high.
        Assert.Equal(7, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(4, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}

public class BinaryIdxTests
{
    [Fact]
    public void LoadIdx_BytesZeroOrOne_AreTakenAsBinaryPixels()
    {
        string path = Path.GetTempFileName();
        try
        {
            byte[] header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
            File.WriteAllBytes(path, [.. header, 0, 1, 1, 0]);
            Assert.Equal([0f, 1, 1, 0], MLNetAr.Data.ImageSet.LoadIdx(path).Pixels);
            File.WriteAllBytes(path, [.. header, 0, 255, 51, 1]);
            Assert.Equal([0f, 1, 0.2f, 1f / 255], MLNetAr.Data.ImageSet.LoadIdx(path).Pixels);
            Assert.Equal([0f, 255, 51, 1], MLNetAr.Data.ImageSet.LoadIdx(path, scale: 1f).Pixels);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
