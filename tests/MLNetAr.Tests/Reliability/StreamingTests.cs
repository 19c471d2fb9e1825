using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Reliability;

/// <summary>Allocation measurements need the process to themselves.</summary>
[CollectionDefinition(nameof(Sequential), DisableParallelization = true)]
public sealed class Sequential;

[Collection(nameof(Sequential))]
public class StreamingTests
{
    public sealed class Row
    {
        [VectorType(28, 28)] public float[] Pixels { get; set; } = [];
    }

    /// <summary>
    /// A data view of <paramref name="rows"/> digits generated on the fly into one reused row object (nothing is held),
    /// counting the cursors opened over it.
    /// </summary>
    private static IDataView Generated(MLContext ml, int rows, Action onPass)
    {
        IEnumerable<Row> Enumerate()
        {
            onPass();
            var row = new Row { Pixels = new float[784] };
            for (int i = 0; i < rows; i++)
            {
                TestData.Digits.GetImage(i % 2000).CopyTo(row.Pixels, 0);
                yield return row;
            }
        }
        return ml.Data.LoadFromEnumerable(new Replayable<Row>(Enumerate));
    }

    private sealed class Replayable<T>(Func<IEnumerable<T>> create) : IEnumerable<T>
    {
        public IEnumerator<T> GetEnumerator() => create().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public void StreamedFit_NeverHoldsTheData()
    {
        // 40,000 rows × 784 floats = 125 MB if read into memory; streamed training holds one shuffle pool (2000 rows, 6
        // MB).
        var ml = new MLContext(1);
        int passes = 0;
        var data = Generated(ml, 40000, () => Interlocked.Increment(ref passes));
        var options = new FvsbnDensityEstimator.Options
        {
            StreamTrainingData = true, ShufflePoolRows = 2000,
            MaximumNumberOfEpochs = 2, BatchSize = 200, Seed = 1
        };
        var estimator = ml.Transforms.FvsbnDensity(options);

        // What ML.NET itself allocates to read the column once (LoadFromEnumerable's per-row work).
        long before = GC.GetTotalAllocatedBytes(precise: true);
        using (var cursor = data.GetRowCursor(data.Schema))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(data.Schema["Pixels"]);
            VBuffer<float> values = default;
            while (cursor.MoveNext()) getter(ref values);
        }
        long perPass = GC.GetTotalAllocatedBytes(precise: true) - before;
        passes = 0;

        before = GC.GetTotalAllocatedBytes(precise: true);
        var model = estimator.Fit(data);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        // Passes: count rows, pixel means, the initial validation, then per epoch one training and one validation pass.
        Assert.Equal(1 + 1 + 1 + 2 * 2, passes);
        long ours = allocated - passes * perPass;
        Assert.True(ours < 40_000_000,
            $"streamed training allocated {ours / 1e6:F0} MB beyond the data view's own {passes} × " +
            $"{perPass / 1e6:F0} MB, for 125 MB of data");
        Assert.All(model.TrainingHistory, h => Assert.True(double.IsFinite(h.ValidationNll)));
    }

    [Fact]
    public void StreamedFit_LearnsAsWellAsInMemoryFit()
    {
        var ml = new MLContext(1);
        var train = TestData.Digits.Slice(0, 2000).ToDataView(ml);
        var test = TestData.Digits.Slice(5000, 500).ToDataView(ml);
        double Nll(bool stream)
        {
            var options = new NadeDensityEstimator.Options
            {
                HiddenSize = 20, MaximumNumberOfEpochs = 4,
                StreamTrainingData = stream, ShufflePoolRows = 500, Seed = 3
            };
            var model = ml.Transforms.NadeDensity(options).Fit(train);
            return -model.Transform(test).GetColumn<float>("LogLikelihood").Average(v => (double)v);
        }
        double inMemory = Nll(false), streamed = Nll(true);
        Assert.True(Math.Abs(inMemory - streamed) < 3, $"in memory {inMemory:F2} nats, streamed {streamed:F2} nats");
    }

    [Fact]
    public void StreamedFit_IsDeterministicAndResumesFromACheckpointExactly()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 600).ToDataView(ml);
        MadeDensityEstimator.Options Options(string? checkpoint, CancellationToken token = default) => new()
        {
            HiddenSizes = [16], StreamTrainingData = true, ShufflePoolRows = 150, BatchSize = 50,
            MaximumNumberOfEpochs = 3, Seed = 5,
            CheckpointPath = checkpoint, CancellationToken = token,
        };
        var reference = ml.Transforms.MadeDensity(Options(null)).Fit(data);
        Assert.Equal(reference.Model.Parameters[0].Value,
            ml.Transforms.MadeDensity(Options(null)).Fit(data).Model.Parameters[0].Value);

        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-stream-checkpoint-{Guid.NewGuid():N}.bin");
        try
        {
            using (var cancellation = new CancellationTokenSource())
            {
                var interrupted = new MLContext(1);
                interrupted.Log += (_, e) =>
                    { if (e.RawMessage.StartsWith("epoch 1/", StringComparison.Ordinal)) cancellation.Cancel(); };
                Assert.Throws<OperationCanceledException>(() =>
                    interrupted.Transforms.MadeDensity(Options(path, cancellation.Token)).Fit(data));
            }
            var resumed = new MLContext(1).Transforms.MadeDensity(Options(path)).Fit(data);
            for (int i = 0; i < reference.Model.Parameters.Count; i++)
                Assert.Equal(reference.Model.Parameters[i].Value, resumed.Model.Parameters[i].Value);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void StreamedAnomalyDetector_SetsItsThresholdFromAStreamedScoringPass()
    {
        var ml = new MLContext(1);
        var train = TestData.Digits.Slice(0, 400).ToDataView(ml);
        AutoregressiveAnomalyTransformer Fit(bool stream) =>
            ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
            {
                DensityModel = new FvsbnDensityEstimator.Options
                {
                    StreamTrainingData = stream, ShufflePoolRows = 1000,
                    MaximumNumberOfEpochs = 2, Seed = 2
                },
                ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
            }).Fit(train);
        // A pool holding every row and the same seed: one full shuffle per epoch drawn the same way, so the same model.
        Assert.Equal(Fit(false).Threshold, Fit(true).Threshold);
    }

    [Fact]
    public void ShufflePoolRows_MustBePositive()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new MLContext().Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options { ShufflePoolRows = 0 }));
        Assert.Contains("`ShufflePoolRows` must be positive", e.Message);
    }
}
