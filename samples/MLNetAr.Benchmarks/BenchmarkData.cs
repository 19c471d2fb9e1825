using MLNetAr.Data;

namespace MLNetAr.Benchmarks;

/// <summary>The embedded digits (copied next to the program) and their standard split.</summary>
internal static class BenchmarkData
{
    /// <summary>All 10,000 digits with labels, pixels in [0, 1].</summary>
    public static ImageSet Digits() => ImageSet.LoadDigits10k();

    /// <summary>
    /// How every benchmark writes its JSON report: indented, non-ASCII names (×, ÷, …) kept as they are.
    /// </summary>
    public static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// An <c>MLContext</c> (seed 1) that echoes the density estimators' training log (one line per epoch) to stderr.
    /// </summary>
    public static Microsoft.ML.MLContext ContextWithTrainingLog()
    {
        var ml = new Microsoft.ML.MLContext(seed: 1);
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info
                && e.Source.Contains("Density", StringComparison.Ordinal))
                Console.Error.WriteLine("  " + e.RawMessage);
        };
        return ml;
    }

    /// <summary>First 8000 train / next 1000 validation / last 1000 test.</summary>
    public static (ImageSet Train, ImageSet Validation, ImageSet Test) Split(ImageSet digits) =>
        (digits.Slice(0, 8000), digits.Slice(8000, 1000), digits.Slice(9000, 1000));
}
