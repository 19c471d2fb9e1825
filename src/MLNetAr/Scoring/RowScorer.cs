using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Models;

namespace MLNetAr.Scoring;

/// <summary>
/// Scores one row at a time with its own scratch state; one per cursor or mapped row, so parallel cursors never share
/// it. Results are computed once per input position, and only when an output column is read.
/// </summary>
internal sealed class RowScorer
{
    private readonly IRowScoringTransformer _transformer;
    private readonly ModelWorkspace _workspace;
    private readonly ModelWorkspace[] _otherWorkspaces;
    private readonly float[] _logLikelihood = new float[1];
    private readonly float[] _otherLogLikelihoods;
    private readonly float[][] _otherPixelLogProbabilities;
    private readonly bool _pixelScores;
    private VBuffer<float> _input;
    private long _scoredPosition = -1;

    public RowScorer(IRowScoringTransformer transformer, bool pixelScores)
    {
        _transformer = transformer;
        _pixelScores = pixelScores;
        DensityModel model = transformer.Model;
        _workspace = model.CreateWorkspace(1);
        _otherWorkspaces = transformer.OtherModels.Select(m => m.CreateWorkspace(1)).ToArray();
        _otherLogLikelihoods = new float[_otherWorkspaces.Length];
        _otherPixelLogProbabilities = _otherWorkspaces.Select(_ =>
            pixelScores ? new float[model.Dimension] : []).ToArray();
        Pixels = new float[model.Dimension];
        HiddenFeatures = new float[model.HiddenFeatureCount];
        PixelScores = pixelScores ? new float[model.Dimension] : [];
    }

    /// <summary>The current row's encoded pixels.</summary>
    public float[] Pixels { get; }
    /// <summary><c>log p(x)</c> of the current row, in nats.</summary>
    public float LogLikelihood => _logLikelihood[0];
    public float[] HiddenFeatures { get; }
    /// <summary>Per-pixel <c>-log p(x_i | x_&lt;i)</c> of the current row (when requested).</summary>
    public float[] PixelScores { get; }
    /// <summary>
    /// <c>log p_k(x)</c> of the current row under <see cref="IRowScoringTransformer.OtherModels"/>[k].
    /// </summary>
    public float OtherLogLikelihood(int k) => _otherLogLikelihoods[k];
    /// <summary>
    /// Per-pixel <c>log p_k(x_i | x_&lt;i)</c> of the current row under other model k (when requested).
    /// </summary>
    public ReadOnlySpan<float> OtherPixelLogProbabilities(int k) => _otherPixelLogProbabilities[k];

    /// <summary>Scores the current row of <paramref name="row"/> unless its position was already scored.</summary>
    public void EnsureScored(DataViewRow row, ValueGetter<VBuffer<float>> inputGetter)
    {
        if (row.Position == _scoredPosition) return;
        inputGetter(ref _input);
        _transformer.Encoder.Encode(_input, Pixels, row.Position);
        DensityModel model = _transformer.Model;
        model.Score(Pixels, 1, _logLikelihood, HiddenFeatures, _workspace);
        if (_pixelScores)
        {
            model.PixelLogProbabilities(Pixels, 1, PixelScores, _workspace);
            System.Numerics.Tensors.TensorPrimitives.Negate(PixelScores, PixelScores);
        }
        for (int k = 0; k < _otherWorkspaces.Length; k++)
        {
            DensityModel other = _transformer.OtherModels[k];
            other.Score(Pixels, 1, _otherLogLikelihoods.AsSpan(k, 1), Span<float>.Empty, _otherWorkspaces[k]);
            if (_pixelScores)
                other.PixelLogProbabilities(Pixels, 1, _otherPixelLogProbabilities[k], _otherWorkspaces[k]);
        }
        _scoredPosition = row.Position;
    }

    /// <summary>
    /// Sets the current row's results from a batch the row was scored in (see <see cref="BatchScorer"/>).
    /// </summary>
    public void Load(ReadOnlySpan<float> pixels, float logLikelihood, ReadOnlySpan<float> hiddenFeatures,
        ReadOnlySpan<float> pixelLogProbabilities)
    {
        pixels.CopyTo(Pixels);
        _logLikelihood[0] = logLikelihood;
        hiddenFeatures.CopyTo(HiddenFeatures);
        if (_pixelScores) System.Numerics.Tensors.TensorPrimitives.Negate(pixelLogProbabilities, PixelScores);
    }

    /// <summary>Sets other model k's results for the current row (after <see cref="Load"/>).</summary>
    public void LoadOther(int k, float logLikelihood, ReadOnlySpan<float> pixelLogProbabilities)
    {
        _otherLogLikelihoods[k] = logLikelihood;
        if (_pixelScores) pixelLogProbabilities.CopyTo(_otherPixelLogProbabilities[k]);
    }
}
