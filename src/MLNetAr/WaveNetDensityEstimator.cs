using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>
/// Trains a WaveNet (van den Oord et al. 2016) over the values of a known-size vector in order (an image in raster
/// order, or any fixed-length sequence): dilated causal convolutions with gated activations, residual and skip
/// connections, and a Bernoulli logit or a softmax over <see cref="Options.Levels"/> levels per position.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Characteristic</term><description>Value</description></listheader>
/// <item><term>Does this estimator need to look at the data to train?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Known-size vector of <see cref="float"/> in [0, 1]</description></item>
/// <item><term>Output columns</term><description><c>LogLikelihood</c> (<see cref="float"/>, nats), <c>HiddenFeatures</c> (the summed skip connections averaged over 4 equal segments of the sequence: 4·S values)</description></item>
/// <item><term>Receptive field</term><description><c>2 + Σ Dilations</c> positions (the default reaches 128 back: four and a half rows of a 28-pixel-wide image)</description></item>
/// </list>
/// Generation is cached ("Fast WaveNet"): each layer runs once per position, reusing the activations at t − d.
/// Create it with <c>mlContext.Transforms.WaveNetDensity(...)</c>.
/// </remarks>
public sealed class WaveNetDensityEstimator : AutoregressiveDensityEstimator<WaveNetDensityEstimator.Options>
{
    /// <summary>Options of <see cref="WaveNetDensityEstimator"/>.</summary>
    public sealed class Options : AutoregressiveDensityOptions
    {
        /// <summary>Dilation of each residual block, in order (e.g. two stacks of 1, 2, 4, …, 32).</summary>
        public int[] Dilations = [1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 32];

        /// <summary>Pixel levels K: 2 for binary values, up to 256 for a K-way softmax over <c>round(v·(K - 1))</c>.</summary>
        public int Levels = 2;

        internal override int PixelLevels => Levels;

        /// <summary>Residual channels C.</summary>
        public int Channels = Defaults.Channels;

        /// <summary>Skip channels S (the features the head reads).</summary>
        public int SkipChannels = Defaults.Channels;

        /// <summary>Channels of the head's hidden 1×1 layer.</summary>
        public int HeadChannels = Defaults.Channels;

        internal override IDensityEstimator CreateEstimator(IHostEnvironment env) => new WaveNetDensityEstimator(env, this);

        internal override void Validate()
        {
            base.Validate();
            if (Dilations == null || Dilations.Length == 0) throw Guard.BadOption(nameof(Dilations), "must be non-empty", "[]");
            if (Dilations.Any(d => d < 1)) throw Guard.BadOption(nameof(Dilations), "must hold positive dilations", $"[{string.Join(", ", Dilations)}]");
            if (Channels < 1) throw Guard.BadOption(nameof(Channels), "must be positive", Channels);
            if (SkipChannels < 1) throw Guard.BadOption(nameof(SkipChannels), "must be positive", SkipChannels);
            if (HeadChannels < 1) throw Guard.BadOption(nameof(HeadChannels), "must be positive", HeadChannels);
        }
    }

    internal static class Defaults
    {
        public const int Channels = 32;
    }

    internal WaveNetDensityEstimator(IHostEnvironment env, Options options) : base(env, options, "WaveNetDensity")
    {
    }


    private protected override DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows, Random random)
    {
        var o = EstimatorOptions;
        var model = new WaveNet(inputType.Size, o.Levels, o.Dilations.ToArray(), o.Channels, o.SkipChannels, o.HeadChannels);
        model.Initialize(random, trainingRows.LevelCounts(o.Levels));
        return model;
    }
}
