namespace MLNetAr.Benchmarks;

/// <summary>
/// A training run's progress as one live line on the terminal (stderr), rewritten in place and cleared when an epoch's
/// training pass ends so that the log's epoch line follows cleanly. Silent when stderr is redirected (a log file gets
/// the log's own progress lines, every 10 s of a long epoch).
/// </summary>
internal sealed class LiveProgressLine : IProgress<TrainingProgress>
{
    private int width;

    /// <summary>A live line when stderr is a terminal; null (no reporting at all) otherwise.</summary>
    public static IProgress<TrainingProgress>? ForConsole() =>
        Console.IsErrorRedirected ? null : new LiveProgressLine();

    public void Report(TrainingProgress value)
    {
        string line = value.RowsDone < value.RowsPerEpoch ? "  " + value : "";
        // Pad over what the last line left, then return to the start of the line (where an empty line leaves it).
        Console.Error.Write("\r" + line.PadRight(width) + "\r" + line);
        width = line.Length;
    }
}
