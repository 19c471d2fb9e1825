using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Scoring;

/// <summary>A cursor over the transformed view that scores row by row, wrapping one source cursor.</summary>
internal sealed class DensityCursor(DensityBinding binding, DataViewRowCursor input, bool[] active) : DataViewRowCursor
{
    private readonly DensityColumns _columns = new(binding, input, active);

    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override DataViewSchema Schema => binding.OutputSchema;
    public override bool MoveNext() => input.MoveNext();
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
    public override bool IsColumnActive(DataViewSchema.Column column) => _columns.IsColumnActive(column);
    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _columns.GetGetter<TValue>(column);

    protected override void Dispose(bool disposing)
    {
        if (disposing) input.Dispose();
        base.Dispose(disposing);
    }
}
