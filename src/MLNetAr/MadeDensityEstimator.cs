using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Interop;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>
/// Trains a MADE (Germain et al. 2015): a masked fully connected autoencoder whose masks make output d depend only
/// on inputs earlier in the order, with optional order- and connectivity-agnostic training and mask ensembles. With
/// <see cref="AutoregressiveDensityOptions.Levels"/> = K &gt; 2 each pixel has K output units (a softmax), all with
/// the pixel's degree.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Characteristic</term><description>Value</description></listheader>
/// <item><term>Does this estimator need to look at the data to train?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Known-size vector of <see cref="float"/> in [0,
/// 1]</description></item>
/// <item><term>Output columns</term><description><c>LogLikelihood</c> (<see cref="float"/>, nats; with
/// <c>EnsembleSize</c> &gt; 1 the log of the mean probability over masks), <c>HiddenFeatures</c> (the last hidden
/// layer; with an ensemble its mean over masks)</description></item>
/// <item><term>Parameters</term><description><c>Σ_l (H_{l-1}·H_l + H_l) + H_L·D + D</c>, plus <c>D²</c> with direct
/// connections</description></item>
/// </list>
/// Every hidden layer should have at least D-1 units so that every degree 1…D-1 can occur; smaller layers are
/// allowed (the model stays exactly normalised, but some conditionals then see fewer inputs) and are reported in
/// the training log. Create it with <c>mlContext.Transforms.MadeDensity(...)</c>.
/// </remarks>
public sealed class MadeDensityEstimator : AutoregressiveDensityEstimator<MadeDensityEstimator.Options>
{
    internal static readonly DensityModelFamily Family = new("made", Made.KindName, () => new Options());

    /// <summary>Options of <see cref="MadeDensityEstimator"/>.</summary>
    public sealed class Options : AutoregressiveDensityOptions
    {
        /// <summary>Sizes of the hidden layers (ReLU), one entry per layer.</summary>
        public int[] HiddenSizes = [Defaults.HiddenSize];

        /// <summary>
        /// Order of the pixels. <see cref="InputOrder.Random"/> with <see cref="NumberOfMasks"/> &gt; 1 gives
        /// order-agnostic training (every mask its own order); <see cref="InputOrder.Natural"/> keeps raster order for
        /// every mask.
        /// </summary>
        public InputOrder InputOrder = InputOrder.Natural;

        /// <summary>
        /// Number of connectivities cycled through during training, one per minibatch (1 = a fixed mask).
        /// </summary>
        public int NumberOfMasks = 1;

        /// <summary>
        /// Number of connectivities averaged when scoring (1 to <see cref="NumberOfMasks"/>). Early stopping watches
        /// the same mixture, so a larger ensemble makes each epoch's validation pass that many times longer.
        /// </summary>
        public int EnsembleSize = 1;

        /// <summary>Adds direct, autoregressively masked input → output connections.</summary>
        public bool DirectConnections;

        internal override IDensityEstimator CreateEstimator(IHostEnvironment env) =>
            new MadeDensityEstimator(env, this);

        internal override void Validate()
        {
            base.Validate();
            if (HiddenSizes == null || HiddenSizes.Length == 0)
                throw Guard.BadOption(nameof(HiddenSizes), "must be non-empty", "[]");
            if (HiddenSizes.Any(h => h < 1))
                throw Guard.BadOption(nameof(HiddenSizes), "must hold positive sizes",
                    $"[{string.Join(", ", HiddenSizes)}]");
            if (!Enum.IsDefined(InputOrder))
                throw Guard.BadOption(nameof(InputOrder), "must be Natural or Random", InputOrder);
            if (NumberOfMasks < 1) throw Guard.BadOption(nameof(NumberOfMasks), "must be at least 1", NumberOfMasks);
            if (EnsembleSize < 1 || EnsembleSize > NumberOfMasks)
                throw Guard.BadOption(nameof(EnsembleSize), $"must be between 1 and `NumberOfMasks` ({NumberOfMasks})",
                    EnsembleSize);
        }
    }

    internal static class Defaults
    {
        public const int HiddenSize = 500;
    }

    internal MadeDensityEstimator(IHostEnvironment env, Options options) : base(env, options, "MadeDensity")
    {
    }

    private protected override DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows,
        Random random)
    {
        int dimension = inputType.Size;
        var o = EstimatorOptions;
        if (o.HiddenSizes.Any(h => h < dimension - 1))
        {
            using var channel = Host.Start("Training");
            channel.LogWarning($"MADE hidden sizes [{string.Join(", ", o.HiddenSizes)}] are below D - 1 = " +
                $"{dimension - 1}: some degrees cannot occur, so some conditionals see fewer inputs.");
        }
        var model = new Made(dimension, o.HiddenSizes.ToArray(), o.InputOrder == InputOrder.Natural, random.Next(),
            o.NumberOfMasks, o.EnsembleSize, o.DirectConnections, o.Levels, o.MixtureComponents);
        if (o.Levels == 2) model.Initialize(random, trainingRows.Means());
        else model.Initialize(random, trainingRows.PixelLevelCounts(o.Levels));
        return model;
    }
}
