using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>
/// Trains a pixel RNN: stacked LSTM (or GRU) layers over the pixels in raster order, reading the previous pixel and the
/// pixel above at each step, with a Bernoulli logit (or a softmax over
/// <see cref="AutoregressiveDensityOptions.Levels"/> levels) per pixel from the top layer's state.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Characteristic</term><description>Value</description></listheader>
/// <item><term>Does this estimator need to look at the data to train?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Known-size vector of <see cref="float"/> in [0, 1]; the image
/// width (for the pixel above) comes from the column's dimensions or <c>Width</c></description></item>
/// <item><term>Output columns</term><description><c>LogLikelihood</c> (<see cref="float"/>, nats),
/// <c>HiddenFeatures</c> (the top layer's final state followed by its mean over all steps: 2·H
/// values)</description></item>
/// <item><term>Parameters</term><description>per layer <c>G·H·(In + H + 1)</c> (G = 4 for LSTM, 3 for GRU, which adds
/// G·H recurrent biases), plus <c>K'·(H + 1)</c></description></item>
/// </list>
/// Training is backpropagation through time over the whole image, or truncated to <c>TruncationLength</c> steps.
/// Sampling carries the states: one forward pass per image. Create it with
/// <c>mlContext.Transforms.PixelRnnDensity(...)</c>.
/// </remarks>
public sealed class PixelRnnDensityEstimator : AutoregressiveDensityEstimator<PixelRnnDensityEstimator.Options>
{
    internal static readonly DensityModelFamily Family = new("pixelrnn", PixelRnn.KindName, () => new Options());

    /// <summary>Options of <see cref="PixelRnnDensityEstimator"/>.</summary>
    public sealed class Options : AutoregressiveDensityOptions
    {
        /// <summary>
        /// Creates options with gradient clipping on (norm 1), which recurrent models over hundreds of steps need to
        /// train stably.
        /// </summary>
        public Options() => GradientClipNorm = Defaults.GradientClipNorm;

        /// <summary>LSTM or GRU.</summary>
        public RecurrentCell Cell = RecurrentCell.Lstm;

        /// <summary>Hidden units H per layer.</summary>
        public int HiddenSize = Defaults.HiddenSize;

        /// <summary>Stacked recurrent layers.</summary>
        public int Layers = 1;

        /// <summary>Also feed the pixel above (a cheap 2-D context; needs the image width).</summary>
        public bool UsePixelAbove = true;

        /// <summary>
        /// Image width for the pixel above; null takes it from the column's dimensions (<c>[H, W]</c> or
        /// <c>[1, H, W]</c>).
        /// </summary>
        public int? Width;

        /// <summary>
        /// Truncated BPTT: gradients flow back at most to the start of their block of this many steps; 0 = full BPTT.
        /// </summary>
        public int TruncationLength;

        internal override IDensityEstimator CreateEstimator(IHostEnvironment env) =>
            new PixelRnnDensityEstimator(env, this);

        internal override void Validate()
        {
            base.Validate();
            if (!Enum.IsDefined(Cell)) throw Guard.BadOption(nameof(Cell), "must be Lstm or Gru", Cell);
            if (HiddenSize < 1) throw Guard.BadOption(nameof(HiddenSize), "must be positive", HiddenSize);
            if (Layers < 1) throw Guard.BadOption(nameof(Layers), "must be positive", Layers);
            if (Width is < 1) throw Guard.BadOption(nameof(Width), "must be positive or null", Width);
            if (TruncationLength < 0)
                throw Guard.BadOption(nameof(TruncationLength), "must be 0 (full BPTT) or positive", TruncationLength);
        }
    }

    internal static class Defaults
    {
        public const int HiddenSize = 64;
        public const float GradientClipNorm = 1f;
    }

    internal PixelRnnDensityEstimator(IHostEnvironment env, Options options) : base(env, options, "PixelRnnDensity")
    {
    }


    private protected override void CheckInputType(VectorDataViewType inputType) => RowWidth(inputType, log: null);

    /// <summary>
    /// The image width (for the pixel above): the option, the column's dimensions, or a square's side.
    /// </summary>
    private int RowWidth(VectorDataViewType inputType, Action<string>? log)
    {
        var o = EstimatorOptions;
        if (!o.UsePixelAbove) return inputType.Size;
        if (o.Width is int w)
        {
            if (inputType.Size % w != 0)
                throw Guard.BadOption(nameof(Options.Width),
                    $"must divide the size of column '{o.InputColumnName}' ({inputType.Size})", w);
            return w;
        }
        return PixelCnnDensityEstimator.ImageShape(inputType, null, null, o.InputColumnName,
            widthOption: "`Width` (or `UsePixelAbove = false`)", log: log, optionName: nameof(Options.Width)).Width;
    }

    private protected override DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows,
        Random random)
    {
        var o = EstimatorOptions;
        int width = RowWidth(inputType, LogInfo);
        var model = new PixelRnn(inputType.Size, width, o.Levels, (PixelRnnCell)o.Cell, o.HiddenSize, o.Layers,
            o.UsePixelAbove, o.TruncationLength, o.MixtureComponents);
        model.Initialize(random, trainingRows.LevelCounts(o.Levels));
        return model;
    }
}
