using MLNetAr.Models;

namespace MLNetAr.Internal;

/// <summary>
/// Scores B encoded rows in one model pass (one GEMM instead of B matrix-vector products, one convolution over B
/// images; B = the model's <see cref="DensityModel.ScoringBatchRows"/>) and hands out each row's results. The
/// workspaces are rented from the models, so consecutive cursors reuse them.
/// </summary>
internal sealed class BatchScorer : IDisposable
{
    private readonly IRowScoringTransformer _transformer;
    private readonly bool _pixelScores;
    private readonly int _d, _h;
    private readonly float[] _pixels, _logLikelihoods, _backgroundLogLikelihoods, _hidden, _pixelLogProbabilities, _backgroundPixelLogProbabilities;
    private ModelWorkspace? _workspace, _backgroundWorkspace;
    private bool _disposed;

    private static System.Buffers.ArrayPool<float> Pool => System.Buffers.ArrayPool<float>.Shared;

    public BatchScorer(IRowScoringTransformer transformer, bool pixelScores)
    {
        _transformer = transformer;
        _pixelScores = pixelScores;
        DensityModel model = transformer.Model;
        (_d, _h) = (model.Dimension, model.HiddenFeatureCount);
        // The background model (if any) scores the same batches.
        Capacity = Math.Min(model.ScoringBatchRows, transformer.BackgroundModel?.ScoringBatchRows ?? int.MaxValue);
        // The large buffers come from the shared pool: a cursor per GetColumn call would otherwise put megabytes on the
        // large-object heap every time (and the gen-2 collections that come with it).
        _pixels = Pool.Rent(Capacity * _d);
        _logLikelihoods = new float[Capacity];
        _backgroundLogLikelihoods = new float[Capacity];
        _hidden = Pool.Rent(Capacity * _h);
        bool background = transformer.BackgroundModel != null;
        _pixelLogProbabilities = pixelScores ? Pool.Rent(Capacity * _d) : [];
        _backgroundPixelLogProbabilities = pixelScores && background ? Pool.Rent(Capacity * _d) : [];
        if (!background) Array.Fill(_backgroundLogLikelihoods, float.NaN);
    }

    /// <summary>Rows per batch.</summary>
    public int Capacity { get; }

    /// <summary>Where row <paramref name="r"/> of the next batch is encoded.</summary>
    public Span<float> Pixels(int r) => _pixels.AsSpan(r * _d, _d);

    /// <summary>Scores the first <paramref name="count"/> rows.</summary>
    public void Score(int count)
    {
        DensityModel model = _transformer.Model;
        ReadOnlySpan<float> pixels = _pixels.AsSpan(0, count * _d);
        _workspace ??= model.RentScoringWorkspace();
        model.Score(pixels, count, _logLikelihoods.AsSpan(0, count), _hidden.AsSpan(0, count * _h), _workspace);
        if (_pixelScores) model.PixelLogProbabilities(pixels, count, _pixelLogProbabilities, _workspace);
        if (_transformer.BackgroundModel is DensityModel background)
        {
            _backgroundWorkspace ??= background.RentScoringWorkspace();
            background.Score(pixels, count, _backgroundLogLikelihoods.AsSpan(0, count), Span<float>.Empty, _backgroundWorkspace);
            if (_pixelScores) background.PixelLogProbabilities(pixels, count, _backgroundPixelLogProbabilities, _backgroundWorkspace);
        }
    }

    /// <summary>Loads the results of row <paramref name="r"/> of the last batch into <paramref name="target"/>.</summary>
    public void Load(int r, RowScorer target) =>
        target.Load(_pixels.AsSpan(r * _d, _d), _logLikelihoods[r], _backgroundLogLikelihoods[r], _hidden.AsSpan(r * _h, _h),
            _pixelScores ? _pixelLogProbabilities.AsSpan(r * _d, _d) : [],
            _backgroundPixelLogProbabilities.Length > 0 ? _backgroundPixelLogProbabilities.AsSpan(r * _d, _d) : []);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_workspace != null) _transformer.Model.ReturnScoringWorkspace(_workspace);
        if (_backgroundWorkspace != null) _transformer.BackgroundModel!.ReturnScoringWorkspace(_backgroundWorkspace);
        _workspace = _backgroundWorkspace = null;
        foreach (float[] buffer in new[] { _pixels, _hidden, _pixelLogProbabilities, _backgroundPixelLogProbabilities })
            if (buffer.Length > 0) Pool.Return(buffer);
    }
}
