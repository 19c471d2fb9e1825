using MLNetAr.Data;
using MLNetAr.Data.Judge;
using MLNetAr.Demo;
using MLNetAr.Pretrained;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Judge;

/// <summary>
/// The digit judge behind the generation metrics: the shipped one meets its accuracy goal on held-out digits, real
/// digits score at the ceiling, noise scores near nothing, and training is deterministic.
/// </summary>
public class DigitJudgeTests
{
    private static readonly Lazy<GenerationJudging> Bernoulli = new(() => GenerationJudging.Create(bernoulli: true));
    private static readonly Lazy<GenerationJudging> Threshold = new(() => GenerationJudging.Create(bernoulli: false));

    [Fact]
    public void ShippedJudge_ReachesNinetySevenPercent_OnHeldOutDigitsOfBothBinarisations_AsItsRecordSays()
    {
        DigitJudge judge = ShippedJudge.Load(out ShippedJudge.Record record);
        var (_, _, heldOut) = ShippedJudge.Split(TestData.Digits);
        double threshold = judge.Accuracy(heldOut.BinarizeThreshold().Pixels, heldOut.Labels);
        double bernoulli = judge.Accuracy(heldOut.BinarizeStochastic(seed: 1).Pixels, heldOut.Labels);
        Assert.Equal(record.ThresholdAccuracy, threshold, 4);
        Assert.Equal(record.BernoulliAccuracy, bernoulli, 4);
        Assert.True(threshold >= 0.97 && bernoulli >= 0.97, $"held-out accuracy {threshold} / {bernoulli}");
        Assert.Equal(DigitJudge.ParameterCount, record.Parameters);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RealHeldOutDigits_ScoreAtTheCeiling(bool bernoulli)
    {
        GenerationJudging judging = (bernoulli ? Bernoulli : Threshold).Value;
        SampleQuality real = judging.ScoreReal(1000);
        Assert.Equal(1000, real.Count);
        Assert.InRange(real.Confident, 0.93, 1.0);
        Assert.InRange(real.InceptionScore, 9.0, 10.0);
        Assert.Equal(10, real.ClassesCovered);
        Assert.InRange(real.FrechetDistance, 0, 20); // two sets of 1,000 real digits: only sampling noise
    }

    [Fact]
    public void NoiseAndBlankImages_ScoreNearNothing()
    {
        GenerationJudging judging = Bernoulli.Value;
        var random = new Random(5);
        // Coin flips at several ink densities: without noise in its training the judge called these 8s with p ≈ 1.
        foreach (float ink in new[] { 0.05f, 0.15f, 0.3f, 0.5f })
        {
            float[][] noise = Enumerable.Range(0, 500).Select(_ =>
                Enumerable.Range(0, DigitJudge.Dimension).Select(_ => random.NextSingle() < ink ? 1f : 0f).ToArray())
                .ToArray();
            SampleQuality q = judging.Score(noise);
            Assert.True(q.Confident <= 0.02, $"ink {ink}: confident share {q.Confident}");
            Assert.True(q.InceptionScore < 1.5, $"ink {ink}: Inception-style score {q.InceptionScore}");
            Assert.True(q.FrechetDistance > 10 * judging.ScoreReal(500).FrechetDistance,
                $"ink {ink}: Fréchet {q.FrechetDistance}");
        }
        SampleQuality blank = judging.Score(Enumerable.Range(0, 100).Select(_ => new float[DigitJudge.Dimension])
            .ToArray());
        Assert.Equal(1.0, blank.InceptionScore, 6); // every image alike: p(y|x) = p(y)
        Assert.Equal(1, blank.ClassesCovered);
    }

    [Fact]
    public void Training_IsDeterministic_AndLearns()
    {
        var (train, _, heldOut) = ShippedJudge.Split(TestData.Digits);
        var options = new DigitJudge.TrainingOptions(Epochs: 2, Seed: 3);
        var losses = new List<double>();
        DigitJudge a = DigitJudge.Train(train.Slice(0, 2000), options, (_, loss) => losses.Add(loss));
        DigitJudge b = DigitJudge.Train(train.Slice(0, 2000), options);
        string pathA = Path.GetTempFileName(), pathB = Path.GetTempFileName();
        try
        {
            a.Save(pathA);
            b.Save(pathB);
            Assert.Equal(File.ReadAllBytes(pathA), File.ReadAllBytes(pathB));
            Assert.Equal(2, losses.Count);
            Assert.True(losses[1] < losses[0] && losses[0] < Math.Log(10), string.Join(", ", losses));
            Assert.True(a.Accuracy(heldOut.BinarizeThreshold().Pixels, heldOut.Labels) > 0.8);
        }
        finally
        {
            File.Delete(pathA);
            File.Delete(pathB);
        }
    }

    [Fact]
    public void Load_AlteredOrForeignFile_IsRefusedClearly()
    {
        DigitJudge.Load(Path.Combine(PretrainedModels.FindFolder(ShippedJudge.Folder, ShippedJudge.RecordFile)!,
            ShippedJudge.WeightsFile)).Save(Path.Combine(Path.GetTempPath(), "mlnetar-judge-copy.bin"));
        string path = Path.Combine(Path.GetTempPath(), "mlnetar-judge-copy.bin");
        try
        {
            string sha = PretrainedModels.Sha256(path);
            byte[] bytes = File.ReadAllBytes(path);
            bytes[^1] ^= 1;
            File.WriteAllBytes(path, bytes);
            var altered = Assert.Throws<InvalidDataException>(() => DigitJudge.Load(path, sha));
            Assert.Contains("altered or truncated", altered.Message, StringComparison.Ordinal);
            File.WriteAllBytes(path, bytes[..100]);
            Assert.Throws<InvalidDataException>(() => DigitJudge.Load(path));
            Assert.Throws<FileNotFoundException>(() => DigitJudge.Load(path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Predict_RefusesImagesThatAreNot28By28() =>
        Assert.Contains("28×28", Assert.Throws<ArgumentException>(() =>
            Bernoulli.Value.Judge.Predict(new float[100])).Message, StringComparison.Ordinal);
}
