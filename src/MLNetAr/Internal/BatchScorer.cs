using MLNetAr.Kernels;
using MLNetAr.Models;

namespace MLNetAr.Internal;

/// <summary>
/// Scores B encoded rows in batched model passes (one GEMM instead of B matrix-vector products, one convolution over
/// several images; B = the model's <see cref="DensityModel.ScoringBatchRows"/>) and hands out each row's results. The
/// batch is cut into chunks of <see cref="DensityModel.ScoringChunkRows"/> rows scored in parallel, one workspace per
/// chunk, rented from the models so that consecutive cursors reuse them. Chunks depend only on the row count, so
/// results do not depend on the number of threads.
/// </summary>
internal sealed class BatchScorer : IDisposable
{
    private readonly IRowScoringTransformer _transformer;
    private readonly bool _pixelScores;
    private readonly int _d, _h;
    private readonly float[] _pixels, _logLikelihoods, _backgroundLogLikelihoods, _hidden, _pixelLogProbabilities, _backgroundPixelLogProbabilities;
    private readonly ModelWorkspace?[] _workspaces, _backgroundWorkspaces;
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
        ChunkRows = Math.Min(model.ScoringChunkRows, transformer.BackgroundModel?.ScoringChunkRows ?? int.MaxValue);
        int chunks = (Capacity + ChunkRows - 1) / ChunkRows;
        _workspaces = new ModelWorkspace?[chunks];
        _backgroundWorkspaces = new ModelWorkspace?[chunks];
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

    /// <summary>Rows per parallel chunk.</summary>
    private int ChunkRows { get; }

    /// <summary>Where row <paramref name="r"/> of the next batch is encoded.</summary>
    public Span<float> Pixels(int r) => _pixels.AsSpan(r * _d, _d);

    /// <summary>Scores the first <paramref name="count"/> rows.</summary>
    public void Score(int count)
    {
        int chunks = (count + ChunkRows - 1) / ChunkRows;
        Kernel.ForChunks(chunks, c => ScoreChunk(c, c * ChunkRows, Math.Min(count, (c + 1) * ChunkRows)));
    }

    /// <summary>Rows <c>[start, end)</c> with chunk <paramref name="chunk"/>'s workspaces.</summary>
    private void ScoreChunk(int chunk, int start, int end)
    {
        DensityModel model = _transformer.Model;
        int rows = end - start;
        ReadOnlySpan<float> pixels = _pixels.AsSpan(start * _d, rows * _d);
        ModelWorkspace workspace = _workspaces[chunk] ??= model.RentScoringWorkspace();
        model.Score(pixels, rows, _logLikelihoods.AsSpan(start, rows), _hidden.AsSpan(start * _h, rows * _h), workspace);
        if (_pixelScores) model.PixelLogProbabilities(pixels, rows, _pixelLogProbabilities.AsSpan(start * _d, rows * _d), workspace);
        if (_transformer.BackgroundModel is DensityModel background)
        {
            ModelWorkspace backgroundWorkspace = _backgroundWorkspaces[chunk] ??= background.RentScoringWorkspace();
            background.Score(pixels, rows, _backgroundLogLikelihoods.AsSpan(start, rows), Span<float>.Empty, backgroundWorkspace);
            if (_pixelScores)
                background.PixelLogProbabilities(pixels, rows, _backgroundPixelLogProbabilities.AsSpan(start * _d, rows * _d), backgroundWorkspace);
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
        for (int c = 0; c < _workspaces.Length; c++)
        {
            if (_workspaces[c] is { } workspace) _transformer.Model.ReturnScoringWorkspace(workspace);
            if (_backgroundWorkspaces[c] is { } background) _transformer.BackgroundModel!.ReturnScoringWorkspace(background);
            _workspaces[c] = _backgroundWorkspaces[c] = null;
        }
        foreach (float[] buffer in new[] { _pixels, _hidden, _pixelLogProbabilities, _backgroundPixelLogProbabilities })
            if (buffer.Length > 0) Pool.Return(buffer);
    }
}
