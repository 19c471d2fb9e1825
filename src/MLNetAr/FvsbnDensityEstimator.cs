using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>
/// Trains a fully visible sigmoid belief network (FVSBN): <c>p(x_i = 1 | x_&lt;i) = σ(b_i + Σ_{j&lt;i} W_ij x_j)</c>,
/// one logistic regression per pixel in raster order (a softmax regression over
/// <see cref="AutoregressiveDensityOptions.Levels"/> levels for grey images), fitted jointly by minibatch Adam on the
/// exact negative log-likelihood.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Characteristic</term><description>Value</description></listheader>
/// <item><term>Does this estimator need to look at the data to train?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Known-size vector of <see cref="float"/> in [0,
/// 1]</description></item>
/// <item><term>Output columns</term><description><c>LogLikelihood</c> (<see cref="float"/>, nats),
/// <c>HiddenFeatures</c> (vector of D <see cref="float"/>: the pre-activation logits
/// <c>b_i + Σ_{j&lt;i} W_ij x_j</c>; K·D of them, level-major, with K levels)</description></item>
/// <item><term>Parameters</term><description><c>D(D-1)/2</c> weights and D biases (K times as many with K
/// levels)</description></item>
/// </list>
/// Create it with <c>mlContext.Transforms.FvsbnDensity(...)</c>.
/// </remarks>
public sealed class FvsbnDensityEstimator : AutoregressiveDensityEstimator<FvsbnDensityEstimator.Options>
{
    internal static readonly DensityModelFamily Family = new("fvsbn", Fvsbn.KindName, () => new Options());

    /// <summary>Options of <see cref="FvsbnDensityEstimator"/>.</summary>
    public sealed class Options : AutoregressiveDensityOptions
    {
        /// <summary>Creates options with FVSBN's defaults (learning rate 3e-3).</summary>
        public Options() => LearningRate = Defaults.LearningRate;

        internal override IDensityEstimator CreateEstimator(IHostEnvironment env) =>
            new FvsbnDensityEstimator(env, this);
    }

    internal static class Defaults
    {
        public const float LearningRate = 3e-3f;
    }

    internal FvsbnDensityEstimator(IHostEnvironment env, Options options) : base(env, options, "FvsbnDensity")
    {
    }

    private protected override DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows,
        Random random)
    {
        var model = new Fvsbn(inputType.Size, EstimatorOptions.Levels, EstimatorOptions.MixtureComponents);
        model.Initialize(random, scale: 0.01f);
        if (EstimatorOptions.Levels == 2) model.InitializeBiasFromMeans(trainingRows.Means());
        else model.InitializeBiasFromLevelCounts(trainingRows.PixelLevelCounts(EstimatorOptions.Levels));
        return model;
    }
}
