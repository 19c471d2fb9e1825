using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>
/// Trains a WaveNet (van den Oord et al. 2016) over the values of a known-size vector in order (an image in raster
/// order, or any fixed-length sequence): dilated causal convolutions with gated activations, residual and skip
/// connections, and a Bernoulli logit or a softmax over <see cref="AutoregressiveDensityOptions.Levels"/> levels per
/// position.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Characteristic</term><description>Value</description></listheader>
/// <item><term>Does this estimator need to look at the data to train?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Known-size vector of <see cref="float"/> in [0,
/// 1]</description></item>
/// <item><term>Output columns</term><description><c>LogLikelihood</c> (<see cref="float"/>, nats),
/// <c>HiddenFeatures</c> (the summed skip connections averaged over 4 equal segments of the sequence: 4·S
/// values)</description></item>
/// <item><term>Receptive field</term><description><c>2 + Σ Dilations</c> positions (the default, 1, 2, …, 512 for 784
/// values, spans a whole 28×28 image)</description></item>
/// </list>
/// Generation is cached ("Fast WaveNet"): each layer runs once per position, reusing the activations at t − d.
/// Create it with <c>mlContext.Transforms.WaveNetDensity(...)</c>.
/// </remarks>
public sealed class WaveNetDensityEstimator : AutoregressiveDensityEstimator<WaveNetDensityEstimator.Options>
{
    internal static readonly DensityModelFamily Family = new("wavenet", WaveNet.KindName, () => new Options());

    /// <summary>Options of <see cref="WaveNetDensityEstimator"/>.</summary>
    public sealed class Options : AutoregressiveDensityOptions
    {
        /// <summary>
        /// Dilation of each residual block, in order (e.g. two stacks of 1, 2, 4, …, 32). Null (default) doubles from 1
        /// until the receptive field, <c>2 + Σ dilations</c>, spans the whole row: 1, 2, …, 512 for 784 values.
        /// </summary>
        public int[]? Dilations;

        /// <summary>Residual channels C.</summary>
        public int Channels = Defaults.Channels;

        /// <summary>Skip channels S (the features the head reads).</summary>
        public int SkipChannels = Defaults.Channels;

        /// <summary>Channels of the head's hidden 1×1 layer.</summary>
        public int HeadChannels = Defaults.Channels;

        internal override IDensityEstimator CreateEstimator(IHostEnvironment env) =>
            new WaveNetDensityEstimator(env, this);

        internal override void Validate()
        {
            base.Validate();
            if (Dilations is { Length: 0 }) throw Guard.BadOption(nameof(Dilations), "must be non-empty or null", "[]");
            if (Dilations != null && Dilations.Any(d => d < 1))
                throw Guard.BadOption(nameof(Dilations), "must hold positive dilations",
                    $"[{string.Join(", ", Dilations)}]");
            if (Channels < 1) throw Guard.BadOption(nameof(Channels), "must be positive", Channels);
            if (SkipChannels < 1) throw Guard.BadOption(nameof(SkipChannels), "must be positive", SkipChannels);
            if (HeadChannels < 1) throw Guard.BadOption(nameof(HeadChannels), "must be positive", HeadChannels);
        }
    }

    internal static class Defaults
    {
        public const int Channels = 32;

        /// <summary>1, 2, 4, … until <c>2 + Σ dilations ≥ length</c>: the last value sees the first.</summary>
        public static int[] DilationsCovering(int length)
        {
            var dilations = new List<int> { 1 };
            while (2 + dilations.Sum() < length) dilations.Add(dilations[^1] * 2);
            return dilations.ToArray();
        }
    }

    internal WaveNetDensityEstimator(IHostEnvironment env, Options options) : base(env, options, "WaveNetDensity")
    {
    }


    private protected override DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows,
        Random random)
    {
        var o = EstimatorOptions;
        int[] dilations = o.Dilations?.ToArray() ?? Defaults.DilationsCovering(inputType.Size);
        if (o.Dilations == null)
            LogInfo($"Dilations [{string.Join(", ", dilations)}]: a receptive field of {2 + dilations.Sum()} values " +
                $"spans all {inputType.Size} (set Dilations to change).");
        var model = new WaveNet(inputType.Size, o.Levels, dilations, o.Channels, o.SkipChannels, o.HeadChannels,
            o.MixtureComponents);
        model.Initialize(random, trainingRows.LevelCounts(o.Levels));
        return model;
    }
}
