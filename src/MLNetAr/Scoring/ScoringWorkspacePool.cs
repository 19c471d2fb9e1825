using MLNetAr.Models;

namespace MLNetAr.Scoring;

/// <summary>
/// Scoring workspaces of one model, reused from cursor to cursor: allocating (and faulting in) a convolutional model's
/// activations for every cursor costs more than scoring a short data view. One pool per model, as long as it lives.
/// </summary>
internal sealed class ScoringWorkspacePool
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DensityModel, ScoringWorkspacePool>
        s_pools = [];

    private readonly DensityModel _model;
    private readonly System.Collections.Concurrent.ConcurrentBag<ModelWorkspace> _workspaces = [];

    private ScoringWorkspacePool(DensityModel model) => _model = model;

    /// <summary>The pool of <paramref name="model"/>.</summary>
    public static ScoringWorkspacePool For(DensityModel model) =>
        s_pools.GetValue(model, m => new ScoringWorkspacePool(m));

    /// <summary>A workspace for one chunk of a batch (<see cref="BatchScorer.ChunkRowsOf"/> rows).</summary>
    public ModelWorkspace Rent() => _workspaces.TryTake(out ModelWorkspace? workspace) ? workspace
        : _model.CreateWorkspace(BatchScorer.ChunkRowsOf(_model));

    /// <summary>Gives back a workspace of <see cref="Rent"/>; one batch's worth is kept for the next cursor.</summary>
    public void Return(ModelWorkspace workspace)
    {
        if (_workspaces.Count < BatchScorer.ChunksPerBatch) _workspaces.Add(workspace);
    }
}
