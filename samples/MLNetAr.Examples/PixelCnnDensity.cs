using Microsoft.ML;

namespace MLNetAr.Examples;

public static class PixelCnnDensity
{
    /// <summary>
    /// A gated PixelCNN over 4 grey levels (a softmax per pixel) learns images of one grey bar, then generates:
    /// <c>Sample</c> draws new images, each value <c>level / 3</c>, and <c>Complete</c> in-paints: it keeps the top
    /// half of an image and samples the bottom half from <c>p(bottom | top)</c>, so an empty top half gets its bar
    /// below. The image shape comes from the column's <c>[VectorType(8, 8)]</c>, and the default depth lets the last
    /// pixel see the first (a layer of 5×5 kernels reaches two rows up).
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Bars.Load(mlContext, 2000, seed: 1);

        AutoregressiveDensityTransformer model = mlContext.Transforms.PixelCnnDensity(
            new PixelCnnDensityEstimator.Options
            {
                Levels = 4, Channels = 16, HeadChannels = 32, MaximumNumberOfEpochs = 10, LearningRate = 3e-3f,
                Seed = 1,
            }).Fit(train);

        float[][] samples = model.Sample(count: 20, seed: 7);
        Console.WriteLine($"{model.ModelKind}: {model.ParameterCount} parameters, {model.PixelLevels} levels; " +
            $"{samples.Count(Bars.IsBar)} of 20 samples are one bar. Two:");
        foreach (float[] sample in samples.Take(2)) Digits.Print(sample, Bars.Size);

        var empty = new float[Bars.Size * Bars.Size];
        float[][] completed = Enumerable.Range(0, 20).Select(seed =>
            model.Complete(empty, knownPixels: empty.Length / 2, seed)).ToArray();
        Console.WriteLine($"empty top half kept, bottom half sampled: {completed.Count(Bars.IsBar)} of 20 " +
            $"completions are one bar. One:");
        Digits.Print(completed[0], Bars.Size);

        // Expected output: the model line (most samples are one bar), two 8×8 pictures of a bar, the completions' count
        // (most are one bar) and an 8×8 picture with a bar in its bottom half.
    }
}
