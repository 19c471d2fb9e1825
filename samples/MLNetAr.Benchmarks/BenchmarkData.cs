using MLNetAr.Data;

namespace MLNetAr.Benchmarks;

/// <summary>The embedded digits (copied next to the program) and their standard split.</summary>
internal static class BenchmarkData
{
    /// <summary>All 10,000 digits with labels, pixels in [0, 1].</summary>
    public static ImageSet Digits()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "data", "digits10k");
        return ImageSet.LoadIdx(Path.Combine(folder, "digits10k-images-idx3-ubyte.gz"), Path.Combine(folder, "digits10k-labels-idx1-ubyte.gz"));
    }

    /// <summary>First 8000 train / next 1000 validation / last 1000 test.</summary>
    public static (ImageSet Train, ImageSet Validation, ImageSet Test) Split(ImageSet digits) =>
        (digits.Slice(0, 8000), digits.Slice(8000, 1000), digits.Slice(9000, 1000));
}
