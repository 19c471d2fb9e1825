using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Kernels;
using MLNetAr.Models;
using MLNetAr.Tests.Catalog;
using MLNetAr.Tests.Models;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Reliability;

/// <summary>Training faults, cancellation, concurrency, fuzzed model files and inputs, extreme values.</summary>
public class ReliabilityTests
{
    [Fact]
    public void Fit_AbsurdLearningRate_StopsAtOnceWarnsAndKeepsAFiniteModel()
    {
        var ml = new MLContext(1);
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (
            warnings) warnings.Add(e.RawMessage);
        };
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        var model = ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            LearningRate = 1e38f,
            MaximumNumberOfEpochs = 10, Seed = 1
        }).Fit(data);

        Assert.Single(model.TrainingHistory); // stopped in the first epoch
        Assert.True(double.IsNaN(model.TrainingHistory[0].TrainingNll));
        Assert.Contains(warnings, w => w.Contains("Training diverged in epoch 1", StringComparison.Ordinal)
            && w.Contains("untrained model", StringComparison.Ordinal));
        float[] ll = model.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        Assert.All(ll, v => Assert.True(float.IsFinite(v) && v < 0));
        Assert.All(model.Model.Parameters.SelectMany(p => p.Value), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Fit_CancelledDuringTraining_ThrowsOperationCanceled()
    {
        var ml = new MLContext(1);
        using var cancellation = new CancellationTokenSource();
        ml.Log += (_, e) =>
        {
            if (e.RawMessage.StartsWith("epoch 1/",
            StringComparison.Ordinal)) cancellation.Cancel();
        };
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        var options = new FvsbnDensityEstimator.Options
        {
            MaximumNumberOfEpochs = 50, Seed = 1,
            CancellationToken = cancellation.Token
        };
        var e = Assert.Throws<OperationCanceledException>(() => ml.Transforms.FvsbnDensity(options).Fit(data));
        Assert.Contains("epoch 2", e.Message);
    }

    [Theory]
    [InlineData("fvsbn")]
    [InlineData("made-ensemble-random")]
    [InlineData("pixelcnn-levels4")]
    [InlineData("wavenet")]
    [InlineData("pixelrnn-gru-levels3")]
    public void PredictionEngines_EightThreads_GiveExactlyTheSingleThreadedScores(string kind)
    {
        var ml = new MLContext(1);
        var model = ModelFamilyTests.Estimator(ml, kind).Fit(TestData.Digits.Slice(0, 200).ToDataView(ml));
        int rows = kind switch { "fvsbn" => 10000, "made-ensemble-random" => 2000, _ => 800 };
        var images = Enumerable.Range(0, rows).Select(i =>
            TestData.Digits.GetImage(i % TestData.Digits.Count)).ToArray();
        float[] expected;
        using (var single = ml.Model.CreatePredictionEngine<ModelFamilyTests.Input, ModelFamilyTests.Output>(model))
            expected = images.Select(x =>
                single.Predict(new ModelFamilyTests.Input { Pixels = x }).LogLikelihood).ToArray();

        var actual = new float[rows];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            using var engine = ml.Model.CreatePredictionEngine<ModelFamilyTests.Input, ModelFamilyTests.Output>(model);
            for (int i = t; i < rows; i += 8)
                actual[i] = engine.Predict(new ModelFamilyTests.Input { Pixels = images[i] }).LogLikelihood;
        });
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ModelSerializerRead_FuzzedStreams_OnlyThrowInvalidData()
    {
        var random = new Random(5);
        // One valid stream of every kind with hyperparameters worth corrupting (masks, dilations, levels, cells).
        byte[][] streams = new DensityModel[]
        {
            MadeTests.RandomModel(6, [7], natural: false, masks: 2, ensemble: 2, direct: true),
            Models.ConvolutionalModelTests.Create("pixelcnn-levels4"),
            Models.ConvolutionalModelTests.Create("wavenet"),
            Models.PixelRnnTests.Create("gru"),
        }.Select(m =>
        {
            using var stream = new MemoryStream();
            ModelSerializer.Write(m, stream);
            return stream.ToArray();
        }).ToArray();
        for (int i = 0; i < 400; i++)
        {
            byte[] valid = streams[i % streams.Length];
            byte[] bytes = (i % 3) switch
            {
                // noise
                0 => Enumerable.Range(0, random.Next(0, 400)).Select(_ => (byte)random.Next(256)).ToArray(),
                1 => Mutate(valid, random),  // flipped bytes
                // truncated
                _ => valid[..random.Next(0, valid.Length)],
            };
            Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(bytes)));
        }
    }

    [Fact]
    public async Task ModelLoad_FuzzedModelFiles_FailWithExceptionsNeverCrashOrHang()
    {
        var ml = new MLContext(1);
        var train = TestData.Digits.Slice(0, 100).ToDataView(ml);
        var model = ml.Transforms.NadeDensity(hiddenSize: 8, maximumNumberOfEpochs: 1, seed: 1).Fit(train);
        byte[] valid;
        using (var stream = new MemoryStream())
        {
            ml.Model.Save(model, null, stream);
            valid = stream.ToArray();
        }
        var random = new Random(9);
        var probe = TestData.Digits.Slice(500, 3).ToDataView(ml);
        int loaded = 0, rejected = 0;
        for (int i = 0; i < 120; i++)
        {
            byte[] bytes = i % 4 == 0
                ? Enumerable.Range(0, random.Next(1, 2000)).Select(_ => (byte)random.Next(256)).ToArray()
                : Mutate(valid, random);
            var attempt = Task.Run(() =>
            {
                try
                {
                    var fresh = new MLContext(1);
                    ITransformer t = fresh.Model.Load(new MemoryStream(bytes), out _);
                    float[] ll = t.Transform(probe).GetColumn<float>("LogLikelihood").ToArray();
                    // A mutation that only touched zip metadata may load: then the model must be the original one.
                    Assert.Equal(model.Transform(probe).GetColumn<float>("LogLikelihood").ToArray(), ll);
                    Interlocked.Increment(ref loaded);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    Interlocked.Increment(ref rejected);
                }
            });
            await attempt.WaitAsync(TimeSpan.FromSeconds(20)); // TimeoutException if a case hangs
        }
        Assert.True(rejected > 90,
            $"only {rejected} of 120 corrupt files were rejected ({loaded} loaded as the original model)");
    }

    [Fact]
    public void Transform_RandomAndExtremeInputs_ClearErrorOrFiniteScores()
    {
        var ml = new MLContext(1);
        var model = FvsbnCatalogTests.FitSmall(ml, rows: 100, epochs: 1);
        var random = new Random(3);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1f, 1e30f, -1e30f,
            float.Epsilon, 0.5f, 1.0000001f, -1e-45f];
        int errors = 0, scored = 0;
        using var engine =
            ml.Model.CreatePredictionEngine<FvsbnCatalogTests.DigitInput, FvsbnCatalogTests.DigitScore>(model);
        for (int i = 0; i < 200; i++)
        {
            float[] x = Enumerable.Range(0, 784).Select(_ => random.NextSingle()).ToArray();
            int changes = random.Next(0, 4);
            for (int c = 0; c < changes; c++) x[random.Next(784)] = specials[random.Next(specials.Length)];
            try
            {
                var score = engine.Predict(new FvsbnCatalogTests.DigitInput { Pixels = x });
                Assert.True(float.IsFinite(score.LogLikelihood) && score.LogLikelihood <= 0,
                    $"case {i}: {score.LogLikelihood}");
                Assert.All(x, v => Assert.True(v >= 0f && v <= 1f)); // only valid inputs may score
                scored++;
            }
            catch (InvalidOperationException e)
            {
                Assert.Contains("Column 'Pixels'", e.Message);
                errors++;
            }
        }
        Assert.True(errors > 0 && scored > 0);
    }

    [Fact]
    public void LogLikelihood_ExtremeLogits_StaysFinite()
    {
        var model = new Fvsbn(8);
        float[] w = model.Parameters[0].Value;
        for (int j = 0; j < 8; j++) for (int i = j + 1; i < 8; i++) w[j * 8 + i] = (i + j) % 2 == 0 ? 500f : -500f;
        model.Parameters[1].Value.AsSpan().Fill(150f);
        ModelAssert.IsNormalized(model, tolerance: 1e-4); // |z| up to ~2000: every log σ stays finite
        float[] ll = ModelAssert.LogLikelihoods(model, TestData.AllBinaryVectors(8));
        Assert.All(ll, v => Assert.True(float.IsFinite(v) && v <= 0));
        Assert.Contains(ll, v => v < -100); // some inputs really are that unlikely
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        byte[] copy = (byte[])valid.Clone();
        int flips = random.Next(1, 6);
        for (int f = 0; f < flips; f++) copy[random.Next(copy.Length)] ^= (byte)random.Next(1, 256);
        return copy;
    }
}

public class DegenerateDataTests
{
    public static TheoryData<string> Models() => ModelFamilyTests.Models();

    [Theory]
    [MemberData(nameof(Models))]
    public void FitAndScore_OneOrTwoThreads_GiveBitIdenticalModels(string kind)
    {
        // Training and scoring results never depend on the thread count: the kernels fix every summation order and
        // split work by problem size only. (So "same seed, same data ⇒ same model" holds on any machine.)
        var data = TestData.Digits.Slice(0, 120);
        float[] Run(int threads)
        {
            int saved = Kernel.MaxDegreeOfParallelism;
            Kernel.MaxDegreeOfParallelism = threads;
            try
            {
                var ml = new MLContext(1);
                var model = ModelFamilyTests.Estimator(ml, kind).Fit(data.ToDataView(ml));
                return model.Transform(TestData.Digits.Slice(3000,
                    20).ToDataView(ml)).GetColumn<float>("LogLikelihood").ToArray();
            }
            finally
            {
                Kernel.MaxDegreeOfParallelism = saved;
            }
        }
        Assert.Equal(Run(1), Run(2));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Fit_AllZeroAndAllOneImages_TrainAndScoreFinite(string kind)
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 40).Select(i =>
            i % 2 == 0 ? new float[784] : Enumerable.Repeat(1f, 784).ToArray()).ToArray();
        var data = new MLNetAr.Data.ImageSet(rows.SelectMany(r => r).ToArray(), 28, 28).ToDataView(ml);
        var model = ModelFamilyTests.Estimator(ml, kind).Fit(data);
        float[] ll = model.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        Assert.All(ll, v => Assert.True(float.IsFinite(v) && v <= 0, $"{kind}: {v}"));
        // Samples are levels k / (K - 1): 0 and 1 for binary models, also 0.5 for three levels.
        int top = model.PixelLevels - 1;
        Assert.All(model.Sample(2, seed: 1), s =>
            Assert.All(s, v => Assert.True(v >= 0f && v <= 1f && v * top == MathF.Round(v * top),
            $"{kind}: sample value {v}")));
    }
}

public class AtomicSaveTests
{
    /// <summary>A transformer whose Save fails halfway, as a crash mid-save would.</summary>
    private sealed class FailingTransformer : ITransformer
    {
        public bool IsRowToRowMapper => true;
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();
        public IDataView Transform(IDataView input) => input;
        public void Save(ModelSaveContext ctx) => throw new IOException("disk full (simulated)");
    }

    [Fact]
    public void SaveAtomically_FailureMidSave_KeepsThePreviousModelAndLeavesNoTemporaryFile()
    {
        var ml = new MLContext(1);
        var good = FvsbnCatalogTests.FitSmall(ml, rows: 60, epochs: 1);
        string folder = Path.Combine(Path.GetTempPath(), $"mlnetar-atomic-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "model.zip");
        try
        {
            ml.Model.SaveAtomically(good, null, path);
            byte[] before = File.ReadAllBytes(path);
            var broken = new TransformerChain<ITransformer>(good, new FailingTransformer());
            Assert.Throws<IOException>(() => ml.Model.SaveAtomically(broken, null, path));
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Equal(["model.zip"], Directory.GetFiles(folder).Select(Path.GetFileName));
            var data = TestData.Digits.Slice(0, 5).ToDataView(ml);
            Assert.Equal(good.Transform(data).GetColumn<float>("LogLikelihood").ToArray(),
                new MLContext().Model.Load(path, out _).Transform(data).GetColumn<float>("LogLikelihood").ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

public class CheckpointTests
{
    private static NadeDensityEstimator.Options Options(string? checkpoint, CancellationToken token = default,
        int seed = 4,
        TrainingOptimizer optimizer = TrainingOptimizer.Adam,
            LearningRateSchedule schedule = LearningRateSchedule.Constant) => new()
            {
                HiddenSize = 12, MaximumNumberOfEpochs = 4, Seed = seed, CheckpointPath = checkpoint,
                CancellationToken = token,
                Optimizer = optimizer, LearningRateSchedule = schedule, PlateauPatience = 1,
                L2Regularization = schedule == LearningRateSchedule.Constant ? 0f : 1e-4f,
                LearningRate = optimizer == TrainingOptimizer.Adam ? 1e-3f : 0.05f,
            };

    // Every optimiser's state and every schedule's position must survive the checkpoint for the result to be exact.
    [Theory]
    [InlineData(TrainingOptimizer.Adam, LearningRateSchedule.Constant)]
    [InlineData(TrainingOptimizer.Adagrad, LearningRateSchedule.ReduceOnPlateau)]
    [InlineData(TrainingOptimizer.SgdMomentum, LearningRateSchedule.CosineDecay)]
    public void Fit_InterruptedThenResumed_EqualsUninterruptedRun(TrainingOptimizer optimizer,
        LearningRateSchedule schedule)
    {
        NadeDensityEstimator.Options Options(string? checkpoint, CancellationToken token = default, int seed = 4) =>
            CheckpointTests.Options(checkpoint, token, seed, optimizer, schedule);
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        var reference = ml.Transforms.NadeDensity(Options(null)).Fit(data);

        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-checkpoint-{Guid.NewGuid():N}.bin");
        try
        {
            // Stop during epoch 3: the checkpoint holds epochs 1-2.
            using (var cancellation = new CancellationTokenSource())
            {
                var interrupted = new MLContext(1);
                interrupted.Log += (_, e) =>
                    { if (e.RawMessage.StartsWith("epoch 2/", StringComparison.Ordinal)) cancellation.Cancel(); };
                Assert.Throws<OperationCanceledException>(() =>
                    interrupted.Transforms.NadeDensity(Options(path, cancellation.Token)).Fit(data));
            }
            Assert.True(File.Exists(path));

            var resumedContext = new MLContext(1);
            var messages = new List<string>();
            resumedContext.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
            var resumed = resumedContext.Transforms.NadeDensity(Options(path)).Fit(data);
            Assert.Contains(messages, m => m.StartsWith("Resumed from checkpoint", StringComparison.Ordinal)
                && m.Contains("after epoch 2", StringComparison.Ordinal));
            Assert.DoesNotContain(messages, m => m.StartsWith("epoch 1/", StringComparison.Ordinal));

            for (int i = 0; i < reference.Model.Parameters.Count; i++)
                Assert.Equal(reference.Model.Parameters[i].Value, resumed.Model.Parameters[i].Value);
            Assert.Equal(reference.TrainingHistory.Select(h => (h.ValidationNll, h.LearningRate)),
                resumed.TrainingHistory.Select(h => (h.ValidationNll, h.LearningRate)));

            // A finished checkpoint returns the final model straight away; another run's checkpoint is refused.
            Assert.Equal(reference.Model.Parameters[0].Value,
                new MLContext(1).Transforms.NadeDensity(Options(path)).Fit(data).Model.Parameters[0].Value);
            var e = Assert.Throws<InvalidDataException>(() =>
                new MLContext(1).Transforms.NadeDensity(Options(path, seed: 5)).Fit(data));
            Assert.Contains("belongs to another training run", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GradientClipNorm_ScalesOnlyGradientsAboveIt()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 200).ToDataView(ml);
        float[] Weights(float clip) =>
            ml.Transforms.NadeDensity(new NadeDensityEstimator.Options
            {
                HiddenSize = 8, MaximumNumberOfEpochs = 1,
                GradientClipNorm = clip, Seed = 3
            }).Fit(data).Model.Parameters[0].Value;
        float[] unclipped = Weights(0f);
        Assert.Equal(unclipped, Weights(1e9f));     // never reached: no change at all
        Assert.NotEqual(unclipped, Weights(1e-4f)); // always reached: every step is rescaled
        Assert.Equal(1f, new PixelRnnDensityEstimator.Options().GradientClipNorm);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options { GradientClipNorm = -1f }));
        Assert.Contains("`GradientClipNorm` must be 0 (off) or a positive finite number", e.Message);
    }
}
