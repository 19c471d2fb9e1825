using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetAr.Data;

/// <summary>
/// Reader for IDX files, the format MNIST ships in: big-endian magic <c>0x0000TTNN</c> (TT = 0x08 for unsigned bytes,
/// NN = number of dimensions), NN big-endian int32 sizes, then the values in row-major order. Gzip-compressed files
/// (<c>.gz</c>) are recognised by their content, not their name.
/// </summary>
public static class IdxFile
{
    /// <summary>Reads an unsigned-byte IDX file (plain or gzip).</summary>
    /// <param name="path">Path to the file.</param>
    /// <returns>The dimensions (e.g. [N, 28, 28]) and the values.</returns>
    /// <exception cref="InvalidDataException">The file is not an unsigned-byte IDX file or is truncated.</exception>
    public static (int[] Dimensions, byte[] Values) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenRead(path);
        try
        {
            return Read(file);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
    }

    /// <summary>Reads an unsigned-byte IDX stream (plain or gzip).</summary>
    /// <exception cref="InvalidDataException">The stream is not an unsigned-byte IDX stream or is
    /// truncated.</exception>
    public static (int[] Dimensions, byte[] Values) Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffered = new BufferedStream(stream);
        Span<byte> head = stackalloc byte[4];
        ReadExactly(buffered, head);
        Stream body = buffered;
        if (head[0] == 0x1f && head[1] == 0x8b)
        {
            // Gzip: restart the read through a decompressor over the bytes already taken plus the rest.
            var prefix = new MemoryStream(head.ToArray());
            body = new GZipStream(new ConcatenatedStream(prefix, buffered), CompressionMode.Decompress);
            ReadExactly(body, head);
        }
        if (head[0] != 0 || head[1] != 0)
            throw new InvalidDataException("Not an IDX file: the first two bytes of the magic number must be 0.");
        if (head[2] != 0x08)
            throw new InvalidDataException($"Unsupported IDX element type 0x{head[2]:X2}; only unsigned bytes (0x08) " +
                $"are supported.");
        int rank = head[3];
        if (rank < 1) throw new InvalidDataException("IDX file with no dimensions.");
        var dims = new int[rank];
        long total = 1;
        Span<byte> four = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(body, four);
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(four);
            if (dims[i] < 0) throw new InvalidDataException($"IDX dimension {i} is negative ({dims[i]}).");
            total *= dims[i];
        }
        if (total > Array.MaxLength) throw new InvalidDataException($"IDX file too large ({total} values).");
        var values = new byte[total];
        ReadExactly(body, values);
        return (dims, values);
    }

    private static void ReadExactly(Stream stream, Span<byte> destination)
    {
        try
        {
            stream.ReadExactly(destination);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The IDX file is truncated.", e);
        }
    }

    /// <summary>Reads one stream after another (lets the gzip reader see the magic bytes already consumed).</summary>
    private sealed class ConcatenatedStream(Stream first, Stream second) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position
        {
            get => throw new NotSupportedException(); set =>
            throw new NotSupportedException();
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = first.Read(buffer, offset, count);
            return n > 0 ? n : second.Read(buffer, offset, count);
        }
    }
}
