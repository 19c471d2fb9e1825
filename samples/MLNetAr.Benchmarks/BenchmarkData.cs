using MLNetAr.Data;

namespace MLNetAr.Benchmarks;

/// <summary>The embedded digits (copied next to the program) and their standard split.</summary>
internal static class BenchmarkData
{
    /// <summary>All 10,000 digits with labels, pixels in [0, 1].</summary>
    public static ImageSet Digits() => ImageSet.LoadDigits10k();

    /// <summary>First 8000 train / next 1000 validation / last 1000 test.</summary>
    public static (ImageSet Train, ImageSet Validation, ImageSet Test) Split(ImageSet digits) =>
        (digits.Slice(0, 8000), digits.Slice(8000, 1000), digits.Slice(9000, 1000));
}
