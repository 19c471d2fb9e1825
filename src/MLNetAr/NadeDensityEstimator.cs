using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>
/// Trains a NADE (Larochelle &amp; Murray 2011): <c>h_t = act(c + W_{:,&lt;t} x_&lt;t)</c>,
/// <c>p(x_t = 1 | x_&lt;t) = σ(b_t + V_t · h_t)</c>, one set of weights shared by every conditional, in O(H·D) per
/// image; with <see cref="AutoregressiveDensityOptions.Levels"/> = K &gt; 2, K logits <c>b_tk + V_tk · h_t</c> (a
/// softmax) per step.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Characteristic</term><description>Value</description></listheader>
/// <item><term>Does this estimator need to look at the data to train?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Known-size vector of <see cref="float"/> in [0,
/// 1]</description></item>
/// <item><term>Output columns</term><description><c>LogLikelihood</c> (<see cref="float"/>, nats),
/// <c>HiddenFeatures</c> (vector of H <see cref="float"/>: <c>h_D = act(c + W x)</c>, the hidden layer after every
/// pixel)</description></item>
/// <item><term>Parameters</term><description><c>2·H·D + H + D</c></description></item>
/// </list>
/// Sampling costs O(H·D) per image (the running pre-activation), not D full forward passes.
/// Create it with <c>mlContext.Transforms.NadeDensity(...)</c>.
/// </remarks>
public sealed class NadeDensityEstimator : AutoregressiveDensityEstimator<NadeDensityEstimator.Options>
{
    internal static readonly DensityModelFamily Family = new("nade", Nade.KindName, () => new Options());

    /// <summary>Options of <see cref="NadeDensityEstimator"/>.</summary>
    public sealed class Options : AutoregressiveDensityOptions
    {
        /// <summary>Number of hidden units H.</summary>
        public int HiddenSize = Defaults.HiddenSize;

        /// <summary>Hidden-unit nonlinearity.</summary>
        public HiddenActivation Activation = HiddenActivation.Sigmoid;

        /// <summary>
        /// Order in which pixels are modelled; <see cref="InputOrder.Random"/> draws it from the seed.
        /// </summary>
        public InputOrder InputOrder = InputOrder.Natural;

        internal override IDensityEstimator CreateEstimator(IHostEnvironment env) =>
            new NadeDensityEstimator(env, this);

        internal override void Validate()
        {
            base.Validate();
            if (HiddenSize < 1) throw Guard.BadOption(nameof(HiddenSize), "must be positive", HiddenSize);
            if (!Enum.IsDefined(Activation))
                throw Guard.BadOption(nameof(Activation), "must be Sigmoid or Relu", Activation);
            if (!Enum.IsDefined(InputOrder))
                throw Guard.BadOption(nameof(InputOrder), "must be Natural or Random", InputOrder);
            if (InputDropout != 0f)
                throw Guard.BadOption(nameof(InputDropout),
                    "must be 0 for NADE (its fused training pass reads each pixel as both input and target)",
                    InputDropout);
        }
    }

    internal static class Defaults
    {
        public const int HiddenSize = 500;
    }

    internal NadeDensityEstimator(IHostEnvironment env, Options options) : base(env, options, "NadeDensity")
    {
    }

    private protected override DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows,
        Random random)
    {
        int dimension = inputType.Size;
        var order = InputOrders.Create(dimension, shuffled: EstimatorOptions.InputOrder == InputOrder.Random,
            random.Next());
        int levels = EstimatorOptions.Levels;
        var model = new Nade(dimension, EstimatorOptions.HiddenSize, (NadeActivation)EstimatorOptions.Activation,
            order, levels, EstimatorOptions.MixtureComponents);
        if (levels == 2) model.Initialize(random, trainingRows.Means());
        else model.Initialize(random, trainingRows.PixelLevelCounts(levels));
        return model;
    }
}
