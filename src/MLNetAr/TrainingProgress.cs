using System.Globalization;

namespace MLNetAr;

/// <summary>
/// How far a <c>Fit</c> has got within an epoch, reported through <see cref="AutoregressiveDensityOptions.Progress"/>
/// (at its start, at most every half second, and once at the end of each epoch's training pass) and, every 10 seconds
/// of a long epoch, as a line of <c>MLContext.Log</c> (<c>training epoch 3/100: …</c>).
/// </summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="MaximumNumberOfEpochs">The options' epoch limit (early stopping or the time budget may end
/// sooner).</param>
/// <param name="RowsDone">Training rows of this epoch done so far.</param>
/// <param name="RowsPerEpoch">Training rows in an epoch.</param>
/// <param name="EpochElapsed">Wall-clock time of this epoch's training pass so far.</param>
public readonly record struct TrainingProgress(int Epoch, int MaximumNumberOfEpochs, long RowsDone, long RowsPerEpoch,
    TimeSpan EpochElapsed)
{
    /// <summary>The share of this epoch's training rows done, in [0, 1].</summary>
    public double EpochFraction => RowsPerEpoch > 0 ? (double)RowsDone / RowsPerEpoch : 1;

    /// <summary>
    /// Training throughput of this epoch so far (rows, i.e. images, per second); 0 before the first row.
    /// </summary>
    public double RowsPerSecond => EpochElapsed > TimeSpan.Zero ? RowsDone / EpochElapsed.TotalSeconds : 0;

    /// <summary>
    /// The training pass's time left in this epoch at this epoch's throughput so far (the validation pass that follows
    /// is not included); null before the first row or without elapsed time to measure it by.
    /// </summary>
    public TimeSpan? EpochTimeLeft => RowsDone > 0 && EpochElapsed > TimeSpan.Zero
        ? TimeSpan.FromSeconds((RowsPerEpoch - RowsDone) / RowsPerSecond) : null;

    /// <summary>
    /// E.g. <c>epoch 3/100: 41 % (20,480/50,000 rows), 410 images/s, about 1 min 12 s left in the epoch</c>.
    /// </summary>
    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"epoch {Epoch}/{MaximumNumberOfEpochs}: {EpochFraction:P0} ({RowsDone:N0}/{RowsPerEpoch:N0} rows)");
        if (RowsDone == 0 || EpochElapsed <= TimeSpan.Zero) return text;
        text += string.Create(CultureInfo.InvariantCulture, $", {RowsPerSecond:F0} images/s");
        return RowsDone < RowsPerEpoch && EpochTimeLeft is TimeSpan left
            ? $"{text}, about {Describe(left)} left in the epoch" : text;
    }

    /// <summary>A duration as people say it: <c>42 s</c>, <c>3 min 5 s</c>, <c>2 h 7 min</c>.</summary>
    private static string Describe(TimeSpan time) => time.TotalSeconds < 60 ? $"{Math.Ceiling(time.TotalSeconds):F0} s"
        : time.TotalHours < 1 ? $"{(int)time.TotalMinutes} min {time.Seconds} s"
        : $"{(int)time.TotalHours} h {time.Minutes} min";
}
