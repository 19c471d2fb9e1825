using MLNetAr.Kernels;
using MLNetAr.Models;

namespace MLNetAr.Scoring;

/// <summary>
/// Scores B encoded rows in batched model passes (one GEMM instead of B matrix-vector products, one convolution over
/// several images; B = the model's <see cref="DensityModel.ScoringBatchRows"/>) and hands out each row's results. The
/// batch is cut into <see cref="ChunksPerBatch"/> chunks scored in parallel, one workspace per chunk, rented from the
/// model's <see cref="ScoringWorkspacePool"/> so that consecutive cursors reuse them. Chunks depend only on the row
/// count, so results do not depend on the number of threads.
/// </summary>
internal sealed class BatchScorer : IDisposable
{
    private readonly IRowScoringTransformer _transformer;
    private readonly DensityModel[] _models; // the transformer's model, then its other models
    private readonly bool _pixelScores;
    private readonly int _d, _h;
    private readonly float[] _pixels, _hidden;
    private readonly float[][] _logLikelihoods, _pixelLogProbabilities; // per model
    private readonly ModelWorkspace?[][] _workspaces; // per model, per chunk
    private bool _disposed;

    private static System.Buffers.ArrayPool<float> Pool => System.Buffers.ArrayPool<float>.Shared;

    /// <summary>
    /// Chunks per full batch (enough to balance two to four cores). Whole chunks per core, with single-threaded kernels
    /// inside, beat parallel kernels at these sizes: no barrier per layer (per step, for the pixel RNN), and the
    /// elementwise work is spread as well.
    /// </summary>
    public const int ChunksPerBatch = 4;

    /// <summary>Rows of a batch that one thread scores in one pass.</summary>
    public static int ChunkRowsOf(DensityModel model) => Math.Max(1, model.ScoringBatchRows / ChunksPerBatch);

    private readonly ScoringWorkspacePool[] _pools; // per model

    public BatchScorer(IRowScoringTransformer transformer, bool pixelScores)
    {
        _transformer = transformer;
        _pixelScores = pixelScores;
        _models = [transformer.Model, .. transformer.OtherModels];
        (_d, _h) = (transformer.Model.Dimension, transformer.Model.HiddenFeatureCount);
        // Every model scores the same batches: the smallest batch and chunk of them all.
        Capacity = _models.Min(m => m.ScoringBatchRows);
        ChunkRows = _models.Min(ChunkRowsOf);
        _pools = _models.Select(ScoringWorkspacePool.For).ToArray();
        int chunks = (Capacity + ChunkRows - 1) / ChunkRows;
        _workspaces = _models.Select(_ => new ModelWorkspace?[chunks]).ToArray();
        // The large buffers come from the shared pool: a cursor per GetColumn call would otherwise put megabytes on the
        // large-object heap every time (and the gen-2 collections that come with it).
        _pixels = Pool.Rent(Capacity * _d);
        _hidden = Pool.Rent(Capacity * _h);
        _logLikelihoods = _models.Select(_ => new float[Capacity]).ToArray();
        _pixelLogProbabilities = _models.Select(_ => pixelScores ? Pool.Rent(Capacity * _d) : []).ToArray();
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
        int rows = end - start;
        ReadOnlySpan<float> pixels = _pixels.AsSpan(start * _d, rows * _d);
        for (int k = 0; k < _models.Length; k++)
        {
            DensityModel model = _models[k];
            ModelWorkspace workspace = _workspaces[k][chunk] ??= _pools[k].Rent();
            // Hidden features are the first model's only.
            model.Score(pixels, rows, _logLikelihoods[k].AsSpan(start, rows), k == 0
                ? _hidden.AsSpan(start * _h, rows * _h) : Span<float>.Empty, workspace);
            if (_pixelScores)
                model.PixelLogProbabilities(pixels, rows, _pixelLogProbabilities[k].AsSpan(start * _d, rows * _d),
                    workspace);
        }
    }

    /// <summary>
    /// Loads the results of row <paramref name="r"/> of the last batch into <paramref name="target"/>.
    /// </summary>
    public void Load(int r, RowScorer target)
    {
        ReadOnlySpan<float> PixelLogProbabilities(int k) =>
            _pixelScores ? _pixelLogProbabilities[k].AsSpan(r * _d, _d) : [];
        target.Load(_pixels.AsSpan(r * _d, _d), _logLikelihoods[0][r], _hidden.AsSpan(r * _h, _h),
            PixelLogProbabilities(0));
        for (int k = 1; k < _models.Length; k++)
            target.LoadOther(k - 1, _logLikelihoods[k][r], PixelLogProbabilities(k));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int k = 0; k < _models.Length; k++)
            for (int c = 0; c < _workspaces[k].Length; c++)
            {
                if (_workspaces[k][c] is { } workspace) _pools[k].Return(workspace);
                _workspaces[k][c] = null;
            }
        foreach (float[] buffer in _pixelLogProbabilities.Append(_pixels).Append(_hidden))
            if (buffer.Length > 0) Pool.Return(buffer);
    }
}
