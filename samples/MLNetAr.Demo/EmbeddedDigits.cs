using MLNetAr.Data;

namespace MLNetAr.Demo;

/// <summary>The MNIST digits embedded in the repository (data/digits10k, copied next to the program).</summary>
public static class EmbeddedDigits
{
    public static ImageSet Load()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "data", "digits10k");
        return ImageSet.LoadIdx(Path.Combine(folder, "digits10k-images-idx3-ubyte.gz"), Path.Combine(folder, "digits10k-labels-idx1-ubyte.gz"));
    }
}
