using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Data;

/// <summary>
/// A set of equally sized grayscale images as floats in [0, 1] (row-major <c>(N, H·W)</c>), with optional labels:
/// what MNIST-style IDX files hold, ready for an ML.NET pipeline.
/// </summary>
public sealed class ImageSet
{
    /// <summary>Creates an image set from row-major pixel values in [0, 1].</summary>
    /// <exception cref="ArgumentException">Sizes disagree.</exception>
    public ImageSet(float[] pixels, int height, int width, float[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (height < 1 || width < 1) throw new ArgumentException("Images need a positive height and width.");
        if (pixels.Length % (height * width) != 0)
            throw new ArgumentException($"{pixels.Length} pixel values do not make whole {height}×{width} images.",
                nameof(pixels));
        Pixels = pixels;
        Height = height;
        Width = width;
        Count = pixels.Length / (height * width);
        if (labels != null && labels.Length != Count)
            throw new ArgumentException($"{labels.Length} labels for {Count} images.", nameof(labels));
        Labels = labels;
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }
    /// <summary>Image height in pixels.</summary>
    public int Height { get; }
    /// <summary>Image width in pixels.</summary>
    public int Width { get; }
    /// <summary>Pixels per image (H·W).</summary>
    public int Dimension => Height * Width;
    /// <summary>All pixels, image after image, row-major, in [0, 1].</summary>
    public float[] Pixels { get; }
    /// <summary>One label per image, or null.</summary>
    public float[]? Labels { get; }

    /// <summary>
    /// Loads MNIST-style IDX files: images (<c>N × H × W</c> bytes) and optional labels. Bytes are scaled by
    /// <paramref name="scale"/>; by default 1/255, or 1 when every byte is 0 or 1 (already binarised files such as
    /// the standard binarized MNIST).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is not valid IDX or the counts disagree.</exception>
    public static ImageSet LoadIdx(string imagesPath, string? labelsPath = null, float? scale = null)
    {
        var (dims, bytes) = IdxFile.Read(imagesPath);
        if (dims.Length != 3)
            throw new InvalidDataException($"'{imagesPath}': expected a 3-dimensional IDX file (N × H × W), got " +
                $"{dims.Length} dimensions.");
        bool binary = bytes.AsSpan().IndexOfAnyExcept((byte)0, (byte)1) < 0;
        var pixels = new float[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            pixels[i] = scale is float s ? bytes[i] * s : binary ? bytes[i] : bytes[i] / 255f;
        float[]? labels = null;
        if (labelsPath != null)
        {
            var (labelDims, labelBytes) = IdxFile.Read(labelsPath);
            if (labelDims.Length != 1 || labelDims[0] != dims[0])
                throw new InvalidDataException($"'{labelsPath}': expected {dims[0]} labels in a 1-dimensional IDX " +
                    $"file, got dimensions [{string.Join(", ", labelDims)}].");
            labels = labelBytes.Select(b => (float)b).ToArray();
        }
        return new ImageSet(pixels, dims[1], dims[2], labels);
    }

    /// <summary>
    /// Loads the 10,000 MNIST digits shipped with MLNetAr's repository (<c>data/digits10k</c>: the IDX files
    /// <c>digits10k-images-idx3-ubyte.gz</c> and <c>digits10k-labels-idx1-ubyte.gz</c>), by default from
    /// <c>data/digits10k</c> next to the running program.
    /// </summary>
    public static ImageSet LoadDigits10k(string? folder = null)
    {
        folder ??= Path.Combine(AppContext.BaseDirectory, "data", "digits10k");
        return LoadIdx(Path.Combine(folder, "digits10k-images-idx3-ubyte.gz"),
            Path.Combine(folder, "digits10k-labels-idx1-ubyte.gz"));
    }

    /// <summary>
    /// Loads Larochelle's binarized MNIST text format (<c>.amat</c>): one image per line, D space-separated 0/1 values.
    /// Images are taken as square.
    /// </summary>
    /// <exception cref="InvalidDataException">A line is malformed or the lines differ in length.</exception>
    public static ImageSet LoadAmat(string path)
    {
        var values = new List<float>();
        int dimension = -1, line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            string[] parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (dimension < 0) dimension = parts.Length;
            else if (parts.Length != dimension)
                throw new InvalidDataException($"'{path}' line {line}: {parts.Length} values, expected {dimension}.");
            foreach (string part in parts)
            {
                if (!float.TryParse(part, System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out float v) || !(v >= 0f && v <= 1f))
                    throw new InvalidDataException($"'{path}' line {line}: '{part}' is not a value in [0, 1].");
                values.Add(v);
            }
        }
        if (dimension < 0) throw new InvalidDataException($"'{path}' holds no images.");
        int side = (int)Math.Round(Math.Sqrt(dimension));
        return side * side == dimension ? new ImageSet(values.ToArray(), side, side)
            : new ImageSet(values.ToArray(), 1, dimension);
    }

    /// <summary>Images <c>[start, start + count)</c> as a new set.</summary>
    public ImageSet Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count),
                $"[{start}, {start + count}) is outside [0, {Count}).");
        return new ImageSet(Pixels.AsSpan(start * Dimension, count * Dimension).ToArray(), Height, Width,
            Labels?.AsSpan(start, count).ToArray());
    }

    /// <summary>Images whose label satisfies <paramref name="predicate"/>.</summary>
    public ImageSet Where(Func<float, bool> predicate)
    {
        if (Labels == null) throw new InvalidOperationException("This image set has no labels.");
        var keep = Enumerable.Range(0, Count).Where(i => predicate(Labels[i])).ToArray();
        var pixels = new float[keep.Length * Dimension];
        for (int k = 0; k < keep.Length; k++)
            Pixels.AsSpan(keep[k] * Dimension, Dimension).CopyTo(pixels.AsSpan(k * Dimension));
        return new ImageSet(pixels, Height, Width, keep.Select(i => Labels[i]).ToArray());
    }

    /// <summary>Image <paramref name="index"/> as a new array of D values.</summary>
    public float[] GetImage(int index) => Pixels.AsSpan(index * Dimension, Dimension).ToArray();

    /// <summary>Pixels binarised at a threshold: <c>x &gt; threshold ? 1 : 0</c>.</summary>
    public ImageSet BinarizeThreshold(float threshold = 0.5f) =>
        new(Pixels.Select(v => v > threshold ? 1f : 0f).ToArray(), Height, Width, Labels);

    /// <summary>
    /// Stochastic binarisation (as for the standard binarized MNIST): each pixel is 1 with probability equal to its
    /// value.
    /// </summary>
    public ImageSet BinarizeStochastic(int seed)
    {
        var random = new Random(seed);
        return new(Pixels.Select(v => random.NextSingle() < v ? 1f : 0f).ToArray(), Height, Width, Labels);
    }

    /// <summary>
    /// An <see cref="IDataView"/> with a <c>Pixels</c> column (vector of Single with dimensions H, W) and, with labels,
    /// a <c>Label</c> column (Single).
    /// </summary>
    public IDataView ToDataView(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var rows = Enumerable.Range(0, Count).Select(i =>
            new ImageRow { Pixels = GetImage(i), Label = Labels?[i] ?? 0f });
        var schema = SchemaDefinition.Create(typeof(ImageRow));
        schema[nameof(ImageRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Height, Width);
        IDataView view = mlContext.Data.LoadFromEnumerable(rows, schema);
        return Labels == null ? mlContext.Transforms.DropColumns(nameof(ImageRow.Label)).Fit(view).Transform(view)
            : view;
    }

    /// <summary>One row of <see cref="ToDataView"/>.</summary>
    public sealed class ImageRow
    {
        /// <summary>Pixels in [0, 1], row-major.</summary>
        public float[] Pixels { get; set; } = [];
        /// <summary>The image's label (0 when the set has none).</summary>
        public float Label { get; set; }
    }
}
