using System.Collections;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Internal;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Internal;

public class HoldoutTests
{
    private static int[] Marked(BitArray marked) => Enumerable.Range(0, marked.Length).Where(i => marked[i]).ToArray();

    [Theory]
    [InlineData(10, 0)]
    [InlineData(10, 1)]
    [InlineData(10, 9)]
    [InlineData(1000, 100)]
    public void Draw_MarksExactlyTheHeldCount_TheSameForTheSameSeed(int count, int held)
    {
        BitArray a = Holdout.Draw(count, held, seed: 4), b = Holdout.Draw(count, held, seed: 4);
        Assert.Equal(count, a.Length);
        Assert.Equal(held, Holdout.CountMarked(a));
        Assert.Equal(Marked(a), Marked(b));
    }

    [Fact]
    public void Draw_EveryRowIsEquallyLikely_AndSeedsDiffer()
    {
        // 4000 draws of 3 rows out of 12: each row is held out with probability 1/4 (expected 1000, sd ≈ 27).
        const int count = 12, held = 3, draws = 4000;
        var hits = new int[count];
        var sets = new HashSet<string>();
        for (int seed = 0; seed < draws; seed++)
        {
            int[] marked = Marked(Holdout.Draw(count, held, seed));
            foreach (int r in marked) hits[r]++;
            sets.Add(string.Join(",", marked));
        }
        Assert.All(hits, h => Assert.InRange(h, 880, 1120));
        Assert.Equal(220, sets.Count); // all C(12, 3) sets occur
    }

    [Fact]
    public void MoveMarkedRowsLast_KeepsEachPartInDataOrder()
    {
        const int d = 2;
        float[] rows = Enumerable.Range(0, 6 * d).Select(i => (float)(i / d)).ToArray(); // row r holds (r, r)
        var marked = new BitArray([false, true, false, false, true, false]);

        Holdout.MoveMarkedRowsLast(rows, d, marked);

        Assert.Equal(new float[] { 0, 0, 2, 2, 3, 3, 5, 5, 1, 1, 4, 4 }, rows);
    }

    [Fact]
    public void Fit_OnClassSortedData_ValidatesOnEveryClass()
    {
        // 900 ones, then 100 zeros: holding out the last 10 % would validate on zeros only, which a model of mostly
        // ones scores far worse than its training rows. A random holdout validates on both, in proportion.
        var ml = new MLContext(1);
        var ones = TestData.Digits.Slice(0, 8000).Where(l => l == 1).Slice(0, 900);
        var zeros = TestData.Digits.Slice(0, 8000).Where(l => l == 0).Slice(0, 100);
        var sorted = new MLNetAr.Data.ImageSet(ones.Pixels.Concat(zeros.Pixels).ToArray(), 28, 28);
        var onlyZeros = zeros.ToDataView(ml);
        var options = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = 5, Seed = 1 };

        var model = ml.Transforms.FvsbnDensity(options).Fit(sorted.ToDataView(ml));

        var last = model.TrainingHistory[^1];
        double zerosNll = -model.Transform(onlyZeros).GetColumn<float>("LogLikelihood").Average(v => (double)v);
        Assert.True(last.ValidationNll < 1.25 * last.TrainingNll,
            $"validation {last.ValidationNll:F1}, training {last.TrainingNll:F1} nats");
        Assert.True(zerosNll > 1.5 * last.ValidationNll,
            $"zeros {zerosNll:F1}, validation {last.ValidationNll:F1} nats");
    }

    [Fact]
    public void Fit_StreamedWithAFullShufflePool_HoldsOutTheSameRowsAsInMemory()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 500).ToDataView(ml);
        AutoregressiveDensityTransformer Fit(bool stream) => ml.Transforms.NadeDensity(new NadeDensityEstimator.Options
        {
            HiddenSize = 8, MaximumNumberOfEpochs = 2, BatchSize = 50, StreamTrainingData = stream,
            ShufflePoolRows = 1000, Seed = 6,
        }).Fit(data);

        AutoregressiveDensityTransformer inMemory = Fit(false), streamed = Fit(true);

        Assert.Equal(inMemory.TrainingHistory.Select(h => h.ValidationNll),
            streamed.TrainingHistory.Select(h => h.ValidationNll));
        Assert.Equal(inMemory.Model.Parameters[0].Value, streamed.Model.Parameters[0].Value);
    }
}
