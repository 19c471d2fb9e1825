using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Models;

namespace MLNetAr.Internal;

/// <summary>
/// Batched scoring for a cursor: a second cursor over the same data reads the input column ahead, and B rows are
/// scored in one model pass (one GEMM instead of B matrix-vector products, one
/// convolution over B images; B = the model's <see cref="DensityModel.ScoringBatchRows"/>). The main cursor keeps serving the pass-through columns; each row's results are copied
/// out of the batch when it is read.
/// </summary>
/// <remarks>
/// Both cursors are unshuffled cursors over the same view, so they see the same rows in the same order; the row ids
/// are compared on every row all the same, and a mismatch is an error rather than a score for another row.
/// </remarks>
internal sealed class LookaheadScorer : IDisposable
{
    private readonly IRowScoringTransformer _transformer;
    private readonly DataViewRowCursor _ahead;
    private readonly ValueGetter<VBuffer<float>> _input;
    private readonly ValueGetter<DataViewRowId> _id;
    private readonly bool _pixelScores;
    private readonly int _d, _h;
    private readonly float[] _pixels, _logLikelihoods, _backgroundLogLikelihoods, _hidden, _pixelLogProbabilities, _backgroundPixelLogProbabilities;
    private readonly int _rowsPerBatch;
    private readonly DataViewRowId[] _ids;
    private ModelWorkspace? _workspace, _backgroundWorkspace;
    private VBuffer<float> _values;
    private long _first;
    private int _count;

    public LookaheadScorer(IRowScoringTransformer transformer, IDataView source, DataViewSchema.Column inputColumn, bool pixelScores)
    {
        _transformer = transformer;
        _ahead = source.GetRowCursor([inputColumn]);
        _input = _ahead.GetGetter<VBuffer<float>>(inputColumn);
        _id = _ahead.GetIdGetter();
        _pixelScores = pixelScores;
        DensityModel model = transformer.Model;
        (_d, _h) = (model.Dimension, model.HiddenFeatureCount);
        // The background model (if any) scores the same batches.
        _rowsPerBatch = Math.Min(model.ScoringBatchRows, transformer.BackgroundModel?.ScoringBatchRows ?? int.MaxValue);
        _ids = new DataViewRowId[_rowsPerBatch];
        _pixels = new float[_rowsPerBatch * _d];
        _logLikelihoods = new float[_rowsPerBatch];
        _backgroundLogLikelihoods = new float[_rowsPerBatch];
        _hidden = new float[_rowsPerBatch * _h];
        bool background = transformer.BackgroundModel != null;
        _pixelLogProbabilities = pixelScores ? new float[_rowsPerBatch * _d] : [];
        _backgroundPixelLogProbabilities = pixelScores && background ? new float[_rowsPerBatch * _d] : [];
        if (!background) Array.Fill(_backgroundLogLikelihoods, float.NaN);
    }

    /// <summary>Loads the results of the row at <paramref name="position"/> (whose id is <paramref name="id"/>) into <paramref name="target"/>.</summary>
    public void Load(long position, DataViewRowId id, RowScorer target)
    {
        if (position < _first || position >= _first + _count) ScoreBatchFrom(position);
        int r = (int)(position - _first);
        if (!_ids[r].Equals(id))
            throw new InvalidOperationException($"Column '{_transformer.Encoder.ColumnName}': the read-ahead cursor is at another row than the cursor it serves (position {position}).");
        target.Load(_pixels.AsSpan(r * _d, _d), _logLikelihoods[r], _backgroundLogLikelihoods[r], _hidden.AsSpan(r * _h, _h),
            _pixelScores ? _pixelLogProbabilities.AsSpan(r * _d, _d) : [], _backgroundPixelLogProbabilities.Length > 0 ? _backgroundPixelLogProbabilities.AsSpan(r * _d, _d) : []);
    }

    /// <summary>Reads up to <see cref="_rowsPerBatch"/> rows starting at <paramref name="position"/> and scores them.</summary>
    private void ScoreBatchFrom(long position)
    {
        if (position < _ahead.Position)
            throw new InvalidOperationException($"Column '{_transformer.Encoder.ColumnName}': rows must be read in order (position {position} after {_ahead.Position}).");
        _count = 0;
        _first = position;
        while (_ahead.Position < position)
            if (!_ahead.MoveNext()) throw new InvalidOperationException($"Column '{_transformer.Encoder.ColumnName}': the read-ahead cursor ended before row {position}.");
        do
        {
            _input(ref _values);
            _transformer.Encoder.Encode(_values, _pixels.AsSpan(_count * _d, _d), _ahead.Position);
            _id(ref _ids[_count]);
            _count++;
        }
        while (_count < _rowsPerBatch && _ahead.MoveNext());

        DensityModel model = _transformer.Model;
        ReadOnlySpan<float> pixels = _pixels.AsSpan(0, _count * _d);
        _workspace ??= model.RentScoringWorkspace();
        model.Score(pixels, _count, _logLikelihoods.AsSpan(0, _count), _hidden.AsSpan(0, _count * _h), _workspace);
        if (_pixelScores) model.PixelLogProbabilities(pixels, _count, _pixelLogProbabilities, _workspace);
        if (_transformer.BackgroundModel is DensityModel background)
        {
            _backgroundWorkspace ??= background.RentScoringWorkspace();
            background.Score(pixels, _count, _backgroundLogLikelihoods.AsSpan(0, _count), Span<float>.Empty, _backgroundWorkspace);
            if (_pixelScores) background.PixelLogProbabilities(pixels, _count, _backgroundPixelLogProbabilities, _backgroundWorkspace);
        }
    }

    public void Dispose()
    {
        _ahead.Dispose();
        if (_workspace != null) _transformer.Model.ReturnScoringWorkspace(_workspace);
        if (_backgroundWorkspace != null) _transformer.BackgroundModel!.ReturnScoringWorkspace(_backgroundWorkspace);
        _workspace = _backgroundWorkspace = null;
    }
}
