using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>
/// Trains a gated PixelCNN (van den Oord et al. 2016): masked convolutions over the image grid with separate
/// vertical and horizontal stacks (no blind spot), gated residual layers and a 1×1 convolutional head giving a
/// Bernoulli logit, or a softmax over <see cref="AutoregressiveDensityOptions.Levels"/> levels, per pixel.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Characteristic</term><description>Value</description></listheader>
/// <item><term>Does this estimator need to look at the data to train?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Known-size vector of <see cref="float"/> in [0, 1] holding one
/// H×W image (the shape comes from the column's dimensions, e.g. from <c>ExtractPixels</c>, or from
/// <c>Height</c>/<c>Width</c>)</description></item>
/// <item><term>Output columns</term><description><c>LogLikelihood</c> (<see cref="float"/>, nats; with K levels, of the
/// quantised image), <c>HiddenFeatures</c> (the last layer's C feature maps averaged over a 4×4 grid of cells: 16·C
/// values)</description></item>
/// <item><term>Parameters</term><description>per layer <c>2C·C_in·(k/2+1)·(k+1) + 8C² + C² + O(C)</c>, plus the
/// head</description></item>
/// </list>
/// Generation is cached: the vertical stack runs once per row and the horizontal stack once per pixel, about one
/// forward pass per image instead of H·W of them. Create it with <c>mlContext.Transforms.PixelCnnDensity(...)</c>.
/// </remarks>
public sealed class PixelCnnDensityEstimator : AutoregressiveDensityEstimator<PixelCnnDensityEstimator.Options>
{
    internal static readonly DensityModelFamily Family = new("pixelcnn", PixelCnn.KindName, () => new Options());

    /// <summary>Options of <see cref="PixelCnnDensityEstimator"/>.</summary>
    public sealed class Options : AutoregressiveDensityOptions
    {
        /// <summary>
        /// Image height; null takes it from the input column's dimensions (<c>[H, W]</c> or <c>[1, H, W]</c>).
        /// </summary>
        public int? Height;

        /// <summary>Image width; null takes it from the input column's dimensions.</summary>
        public int? Width;

        /// <summary>
        /// Number of gated layers L; null (default) takes the fewest whose receptive field spans the image, so the last
        /// pixel still sees the first: <c>(k/2)·L + 1 ≥ H - 1</c> rows up and <c>(k/2)·L ≥ W - 1</c> columns across (14
        /// layers for 28×28 with k = 5). Cost grows linearly with L; set a smaller value to trade likelihood for speed.
        /// </summary>
        public int? Layers;

        /// <summary>Feature maps C per stack.</summary>
        public int Channels = Defaults.Channels;

        /// <summary>
        /// Kernel size k (odd, at least 3): the vertical stack covers k/2 + 1 rows × k columns, the horizontal k/2 + 1
        /// pixels, so each layer widens the receptive field by k/2 rows and k/2 columns on each side.
        /// </summary>
        public int KernelSize = Defaults.KernelSize;

        /// <summary>Channels of the head's hidden 1×1 layer.</summary>
        public int HeadChannels = Defaults.HeadChannels;

        internal override IDensityEstimator CreateEstimator(IHostEnvironment env) =>
            new PixelCnnDensityEstimator(env, this);

        internal override void Validate()
        {
            base.Validate();
            if (Height is < 1) throw Guard.BadOption(nameof(Height), "must be positive or null", Height);
            if (Width is < 1) throw Guard.BadOption(nameof(Width), "must be positive or null", Width);
            if (Height.HasValue != Width.HasValue)
                throw Guard.BadOption(Height.HasValue ? nameof(Width) : nameof(Height),
                    "must be set together with the other image dimension", null);
            if (Layers is < 1) throw Guard.BadOption(nameof(Layers), "must be positive", Layers);
            if (Channels < 1) throw Guard.BadOption(nameof(Channels), "must be positive", Channels);
            if (KernelSize < 3 || KernelSize % 2 == 0)
                throw Guard.BadOption(nameof(KernelSize), "must be odd and at least 3", KernelSize);
            if (HeadChannels < 1) throw Guard.BadOption(nameof(HeadChannels), "must be positive", HeadChannels);
        }
    }

    internal static class Defaults
    {
        public const int Channels = 32, KernelSize = 5, HeadChannels = 32;

        /// <summary>
        /// The fewest gated layers whose receptive field — <c>(k/2)·L + 1</c> rows above, <c>(k/2)·L</c> columns either
        /// side — reaches pixel (0, 0) from pixel (H - 1, W - 1).
        /// </summary>
        public static int LayersCovering(int height, int width, int kernelSize)
        {
            int half = kernelSize / 2;
            int forRows = (height - 2 + half - 1) / half, forColumns = (width - 1 + half - 1) / half;
            return Math.Max(1, Math.Max(forRows, forColumns));
        }
    }

    internal PixelCnnDensityEstimator(IHostEnvironment env, Options options) : base(env, options, "PixelCnnDensity")
    {
    }


    private protected override void CheckInputType(VectorDataViewType inputType) =>
        ImageShape(inputType, EstimatorOptions.Height, EstimatorOptions.Width, EstimatorOptions.InputColumnName);

    private protected override DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows,
        Random random)
    {
        var o = EstimatorOptions;
        var (height, width) = ImageShape(inputType, o.Height, o.Width, o.InputColumnName, log: LogInfo);
        int layers = o.Layers ?? Defaults.LayersCovering(height, width, o.KernelSize);
        if (o.Layers == null)
            LogInfo($"{layers} gated layers: the fewest whose receptive field spans the {height}×{width} image with " +
                $"{o.KernelSize}×{o.KernelSize} kernels (set Layers to change).");
        var model = new PixelCnn(height, width, o.Levels, layers, o.Channels, o.KernelSize, o.HeadChannels,
            o.MixtureComponents);
        model.Initialize(random, trainingRows.LevelCounts(o.Levels));
        return model;
    }

    /// <summary>
    /// The image shape: the options' when given (checked against the column's size), else the column's dimensions
    /// <c>[H, W]</c> or <c>[1, H, W]</c>, else — for a plain vector whose length is a perfect square, the usual way
    /// MNIST reaches ML.NET (<c>[VectorType(784)]</c>, a text file) — a square image, said through
    /// <paramref name="log"/>.
    /// </summary>
    internal static (int Height, int Width) ImageShape(VectorDataViewType type, int? height, int? width, string column,
        string widthOption = "`Height` and `Width`", Action<string>? log = null,
            string optionName = nameof(Options.Height))
    {
        if (height is int h && width is int w)
        {
            if ((long)h * w != type.Size)
                throw Guard.BadOption(nameof(Options.Height),
                    $"× `Width` ({h}×{w} = {(long)h * w}) must equal the size of column '{column}' ({type.Size})", h);
            return (h, w);
        }
        var dims = type.Dimensions;
        if (dims.Length == 2) return (dims[0], dims[1]);
        if (dims.Length == 3 && dims[0] == 1) return (dims[1], dims[2]);
        if (dims.Length == 3)
            throw Guard.SchemaMismatch(column, "one image channel (dimensions [1, H, W] or [H, W])",
                $"{dims[0]} channels; use ConvertToGrayscale before ExtractPixels");
        int side = (int)Math.Round(Math.Sqrt(type.Size));
        if (dims.Length == 1 && side * side == type.Size)
        {
            log?.Invoke($"Column '{column}' ({type}) carries no image dimensions: read as a square " +
                $"{side}×{side} image (set {widthOption} otherwise).");
            return (side, side);
        }
        throw new ArgumentOutOfRangeException(optionName,
            $"{widthOption} must be set: column '{column}' ({type}) does not carry image dimensions and its length " +
            $"is not a perfect square.");
    }
}
