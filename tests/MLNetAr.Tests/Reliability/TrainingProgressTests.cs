using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Reliability;

/// <summary><see cref="AutoregressiveDensityOptions.Progress"/>: where a long <c>Fit</c> has got.</summary>
public class TrainingProgressTests
{
    /// <summary>
    /// Keeps every report, on the training thread (<see cref="Progress{T}"/> would post them elsewhere).
    /// </summary>
    private sealed class Recorder : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];
        public void Report(TrainingProgress value) => Reports.Add(value);
    }

    private static NadeDensityEstimator.Options Options(IProgress<TrainingProgress>? progress) => new()
    {
        HiddenSize = 16, MaximumNumberOfEpochs = 3, BatchSize = 50, Seed = 1, Progress = progress,
    };

    [Fact]
    public void Fit_ReportsEachEpochFromItsFirstRowToItsLast()
    {
        var ml = new MLContext(1);
        var recorder = new Recorder();
        var model = ml.Transforms.NadeDensity(Options(recorder)).Fit(TestData.Digits.Slice(0, 300).ToDataView(ml));

        Assert.Equal(3, model.TrainingHistory.Count);
        long rows = recorder.Reports[0].RowsPerEpoch;
        Assert.Equal(300 - (long)(300 * 0.1), rows); // the default 10 % validation holdout is not trained on
        foreach (var epoch in recorder.Reports.GroupBy(r => r.Epoch))
        {
            var reports = epoch.ToList();
            Assert.Equal(0, reports[0].RowsDone);
            Assert.Null(reports[0].EpochTimeLeft);
            Assert.Equal(rows, reports[^1].RowsDone);
            Assert.Equal(1.0, reports[^1].EpochFraction);
            Assert.True(reports[^1].RowsPerSecond > 0);
            Assert.All(reports, r => Assert.Equal(3, r.MaximumNumberOfEpochs));
            Assert.Equal(reports.Select(r => r.RowsDone).Order(), reports.Select(r => r.RowsDone));
        }
        Assert.Equal([1, 2, 3], recorder.Reports.Select(r => r.Epoch).Distinct());
    }

    [Fact]
    public void Progress_DoesNotChangeTheModel()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        float[] Scores(IProgress<TrainingProgress>? progress) => ml.Transforms.NadeDensity(Options(progress)).Fit(data)
            .Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        Assert.Equal(Scores(null), Scores(new Recorder()));
    }

    [Fact]
    public void ToString_SaysTheShareDoneTheThroughputAndTheTimeLeft()
    {
        var progress = new TrainingProgress(3, 100, 20_480, 50_000, TimeSpan.FromSeconds(50));
        Assert.Equal(409.6, progress.RowsPerSecond, 9);
        Assert.Equal(72.07, progress.EpochTimeLeft!.Value.TotalSeconds, 2);
        Assert.Equal("epoch 3/100: 41 % (20,480/50,000 rows), 410 images/s, about 1 min 12 s left in the epoch",
            progress.ToString());
        Assert.Equal("epoch 1/5: 0 % (0/600 rows)", new TrainingProgress(1, 5, 0, 600, TimeSpan.Zero).ToString());
        Assert.Equal("epoch 5/5: 100 % (600/600 rows), 300 images/s",
            new TrainingProgress(5, 5, 600, 600, TimeSpan.FromSeconds(2)).ToString());
        // No elapsed time yet (a report built by hand): no rate and no estimate, rather than a division by zero.
        var instant = new TrainingProgress(1, 1, 5, 10, TimeSpan.Zero);
        Assert.Null(instant.EpochTimeLeft);
        Assert.Equal("epoch 1/1: 50 % (5/10 rows)", instant.ToString());
        Assert.Contains("about 2 h 46 min left",
            new TrainingProgress(1, 1, 1, 10_000, TimeSpan.FromSeconds(1)).ToString(), StringComparison.Ordinal);
    }
}
