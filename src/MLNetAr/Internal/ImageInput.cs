using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MLNetAr.Interop;

namespace MLNetAr.Internal;

/// <summary>
/// How an ImageAnalytics image column (<see cref="MLImage"/>) becomes the model's pixels, exactly as
/// <c>ResizeImages → ConvertToGrayscale → ExtractPixels(colorsToExtract: Red, scaleImage: 1f / 255)</c> would make
/// them: the same ML.NET image operations, then <c>v = byte · (1f / 255)</c>, row-major <c>(H, W)</c>.
/// </summary>
/// <param name="Height">Image height in pixels, H.</param>
/// <param name="Width">Image width in pixels, W.</param>
/// <param name="Resize">Whether images of another size are resized (else they are refused).</param>
/// <param name="Resizing">How they are resized, as <c>ResizeImages</c>' parameter of that name.</param>
/// <param name="CropAnchor">Where <see cref="ImageResizingEstimator.ResizingKind.IsoCrop"/> crops.</param>
internal sealed record ImageInput(int Height, int Width, bool Resize,
    ImageResizingEstimator.ResizingKind Resizing = ImageResizingEstimator.ResizingKind.IsoCrop,
    ImageResizingEstimator.Anchor CropAnchor = ImageResizingEstimator.Anchor.Center)
{
    private const float Scale = 1f / 255; // ExtractPixels' scaleImage, as the float it stores

    public int Dimension => Height * Width;

    /// <summary>The pixels the model reads, a Single vector with image dimensions (H, W).</summary>
    public VectorDataViewType PixelType => new(NumberDataViewType.Single, Height, Width);

    /// <summary>
    /// Writes <paramref name="image"/>'s grey levels in [0, 1] into <paramref name="destination"/> (H·W values).
    /// </summary>
    /// <exception cref="InvalidOperationException">The image is missing, or of another size and <see cref="Resize"/> is
    /// off.</exception>
    public void ToPixels(MLImage? image, Span<float> destination, string column, long row)
    {
        if (image == null || image.Width <= 0 || image.Height <= 0)
            throw new InvalidOperationException($"Column '{column}' (row {row}): the image is missing (a file that " +
                $"could not be loaded?).");
        if (!Resize && (image.Width != Width || image.Height != Height))
            throw new InvalidOperationException(
                $"Column '{column}' (row {row}): expected a {Describe(Height, Width)} image, got " +
                    $"{Describe(image.Height, image.Width)}. " +
                "Set the options' ImageHeight and ImageWidth to resize every image.");
        MLImage sized = MlNetInterop.Resize(image, Width, Height, Resizing, CropAnchor);
        try
        {
            using MLImage grey = MlNetInterop.Grayscale(sized);
            ReadOnlySpan<byte> bytes = grey.Pixels; // 4 bytes a pixel, R = G = B after the grey conversion
            int red = grey.PixelFormat == MLPixelFormat.Rgba32 ? 0 : 2;
            for (int i = 0; i < destination.Length; i++) destination[i] = bytes[4 * i + red] * Scale;
        }
        finally
        {
            if (!ReferenceEquals(sized, image)) sized.Dispose();
        }
    }

    public static string Describe(int height, int width) =>
        $"{height.ToString(CultureInfo.InvariantCulture)}×{width.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The model entry's image block: a flag, then the shape and resize settings.</summary>
    public static void Write(BinaryWriter writer, ImageInput? image)
    {
        writer.Write(image != null);
        if (image == null) return;
        writer.Write(image.Height);
        writer.Write(image.Width);
        writer.Write(image.Resize);
        writer.Write((int)image.Resizing);
        writer.Write((int)image.CropAnchor);
    }

    public static ImageInput? Read(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) return null;
        var image = new ImageInput(reader.ReadInt32(), reader.ReadInt32(), reader.ReadBoolean(),
            (ImageResizingEstimator.ResizingKind)reader.ReadInt32(), (ImageResizingEstimator.Anchor)reader.ReadInt32());
        if (image.Height <= 0 || image.Width <= 0 || !Enum.IsDefined(image.Resizing)
            || !Enum.IsDefined(image.CropAnchor))
            throw new InvalidDataException($"Corrupt MLNetAr model: invalid image input settings ({image}).");
        return image;
    }
}
