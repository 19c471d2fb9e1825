using MLNetAr.Data;
using MLNetAr.Data.Judge;

namespace MLNetAr.Demo;

/// <summary>
/// Generated digits judged against real ones: the shipped <see cref="DigitJudge"/>, the Fréchet reference (1,000 real
/// digits it never trained on) and the held-out real digits scored alongside as the ceiling, all binarised the way the
/// model's training digits were.
/// </summary>
public sealed class GenerationJudging
{
    private readonly ImageSet _heldOut;

    private GenerationJudging(DigitJudge judge, ShippedJudge.Record record, SampleQuality.FeatureStatistics reference,
        ImageSet heldOut, bool bernoulli)
    {
        Judge = judge;
        Record = record;
        Reference = reference;
        _heldOut = heldOut;
        Bernoulli = bernoulli;
    }

    /// <summary>The judge.</summary>
    public DigitJudge Judge { get; }
    /// <summary>Where the judge came from and its held-out accuracies.</summary>
    public ShippedJudge.Record Record { get; }
    /// <summary>The real digits' feature statistics the Fréchet distance is measured to.</summary>
    public SampleQuality.FeatureStatistics Reference { get; }
    /// <summary>
    /// Whether real digits are Bernoulli-binarised (as the standard binarized MNIST) or thresholded at ½.
    /// </summary>
    public bool Bernoulli { get; }
    /// <summary>How the real digits are binarised, in words.</summary>
    public string Binarisation => Bernoulli ? "Bernoulli-binarised" : "thresholded at ½";

    /// <summary>
    /// The shipped judge with the embedded digits' reference and held-out sets, binarised as
    /// <paramref name="bernoulli"/> says (seeded, so the same every run).
    /// </summary>
    public static GenerationJudging Create(bool bernoulli)
    {
        DigitJudge judge = ShippedJudge.Load(out ShippedJudge.Record record);
        var (_, reference, heldOut) = ShippedJudge.Split(ImageSet.LoadDigits10k());
        ImageSet Binarise(ImageSet set, int seed) => bernoulli ? set.BinarizeStochastic(seed) : set.BinarizeThreshold();
        return new GenerationJudging(judge, record,
            SampleQuality.Statistics(judge, Binarise(reference, seed: 2).Pixels), Binarise(heldOut, seed: 3),
            bernoulli);
    }

    /// <summary>The metrics of <paramref name="images"/> (each 784 values).</summary>
    public SampleQuality Score(IReadOnlyList<float[]> images) =>
        SampleQuality.Score(Judge, images.SelectMany(i => i).ToArray(), Reference);

    /// <summary>The ceiling: the first <paramref name="count"/> held-out real digits (at most 1,000).</summary>
    public SampleQuality ScoreReal(int count) =>
        SampleQuality.Score(Judge, _heldOut.Slice(0, Math.Min(count, _heldOut.Count)).Pixels, Reference);

    /// <summary>The first <paramref name="count"/> held-out real digits (at most 1,000), binarised.</summary>
    public float[][] RealImages(int count) =>
        Enumerable.Range(0, Math.Min(count, _heldOut.Count)).Select(_heldOut.GetImage).ToArray();

    /// <summary>How many held-out real digits there are to score as the ceiling.</summary>
    public int RealCount => _heldOut.Count;
}
