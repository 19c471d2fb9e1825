using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Models;
using MLNetAr.Nn;
using MLNetAr.Tests.TestUtilities;
using MLNetAr.Training;

namespace MLNetAr.Tests.Models;

/// <summary>
/// The training options the published recipes need: optimisers, L1 and L2 regularisation and learning-rate schedules.
/// </summary>
public class TrainingRecipeTests
{
    [Fact]
    public void L2Regularization_ShrinksWeightMatricesOnly()
    {
        var weights = new Parameter("W", 2, 3);
        var bias = new Parameter("b", 3);
        weights.Value.AsSpan().Fill(2f);
        bias.Value.AsSpan().Fill(2f);
        // Plain SGD (μ = 0, lr = 1) on a zero loss: the only gradient is λ·W.
        var sgd = Optimizer.Create(OptimizerKind.SgdMomentum, [weights, bias], learningRate: 1f,
            l2Regularization: 0.25f, momentum: 0f);
        sgd.ZeroGradients();
        sgd.Step();
        Assert.All(weights.Value, w => Assert.Equal(1.5f, w)); // 2 - 0.25·2
        Assert.All(bias.Value, b => Assert.Equal(2f, b));
    }

    [Fact]
    public void LinearAndCosineDecay_FollowTheirFormulasToZero()
    {
        var linear = new LearningRateScheduler(ScheduleKind.LinearDecay, 0.1f, 0.5f, 2, totalSteps: 200);
        Assert.Equal(0.1f, linear.RateAt(0), 6);
        Assert.Equal(0.05f, linear.RateAt(100), 6);
        Assert.Equal(0f, linear.RateAt(200), 6);
        var cosine = new LearningRateScheduler(ScheduleKind.CosineDecay, 0.1f, 0.5f, 2, totalSteps: 200);
        Assert.Equal(0.1f, cosine.RateAt(0), 6);
        Assert.Equal(0.1f * (1 + Math.Cos(Math.PI / 4)) / 2, cosine.RateAt(50), 6);
        Assert.Equal(0.05f, cosine.RateAt(100), 6);
        Assert.Equal(0f, cosine.RateAt(200), 6);
        var constant = new LearningRateScheduler(ScheduleKind.Constant, 0.1f, 0.5f, 2, totalSteps: 200);
        Assert.Equal(0.1f, constant.RateAt(150));
        Assert.False(constant.EndEpoch(improved: false) || constant.EndEpoch(improved: false));
    }

    [Fact]
    public void ReduceOnPlateau_ReducesAfterPatienceEpochsWithoutImprovement()
    {
        var plateau = new LearningRateScheduler(ScheduleKind.ReduceOnPlateau, 0.1f, 0.5f, plateauPatience: 2,
            totalSteps: 100);
        Assert.False(plateau.EndEpoch(improved: false));
        Assert.False(plateau.EndEpoch(improved: true)); // an improvement resets the count
        Assert.False(plateau.EndEpoch(improved: false));
        Assert.Equal(0.1f, plateau.RateAt(40));
        Assert.True(plateau.EndEpoch(improved: false));
        Assert.Equal(0.05f, plateau.RateAt(41));
        Assert.False(plateau.EndEpoch(improved: false));
        Assert.True(plateau.EndEpoch(improved: false));
        Assert.Equal(0.025f, plateau.RateAt(99));
    }

    public static TheoryData<TrainingOptimizer, float> Optimizers() => new()
    {
        { TrainingOptimizer.Adam, 3e-3f },
        { TrainingOptimizer.Adagrad, 0.05f },
        { TrainingOptimizer.SgdMomentum, 0.05f },
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void EveryOptimizer_TrainsFvsbnWellBelowTheUntrainedModel(TrainingOptimizer optimizer, float learningRate)
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 400).ToDataView(ml);
        var options = new FvsbnDensityEstimator.Options
        {
            Optimizer = optimizer, LearningRate = learningRate,
            MaximumNumberOfEpochs = 4, Seed = 2
        };
        var model = ml.Transforms.FvsbnDensity(options).Fit(data);
        var untrained = ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            MaximumNumberOfEpochs = 1,
            LearningRate = 1e-9f, Seed = 2
        }).Fit(data);
        double trained = model.TrainingHistory.Min(h => h.ValidationNll),
            start = untrained.TrainingHistory[0].ValidationNll;
        Assert.True(trained < start - 10, $"{optimizer}: validation NLL {trained:F2} against {start:F2} untrained");
    }

    [Fact]
    public void L1Regularization_PullsWeightMatricesTowardsZeroOnly()
    {
        var weights = new Parameter("W", 2, 3);
        var bias = new Parameter("b", 3);
        weights.Value.AsSpan().Fill(2f);
        weights.Value[1] = -2f;
        weights.Value[2] = 0f;
        bias.Value.AsSpan().Fill(2f);
        // Plain SGD (μ = 0, lr = 1) on a zero loss: the only gradient is λ₁·sign(W).
        var sgd = Optimizer.Create(OptimizerKind.SgdMomentum, [weights, bias], learningRate: 1f,
            l2Regularization: 0f, momentum: 0f, l1Regularization: 0.25f);
        sgd.ZeroGradients();
        sgd.Step();
        Assert.Equal([1.75f, -1.75f, 0f, 1.75f, 1.75f, 1.75f], weights.Value);
        Assert.All(bias.Value, b => Assert.Equal(2f, b));
    }

    [Fact]
    public void L1Regularization_InTraining_ShrinksFvsbnWeightsAndKeepsItsStructuralZeros()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        float[] Weights(float l1) => ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            L1Regularization = l1, MaximumNumberOfEpochs = 3, LearningRate = 3e-3f, Seed = 1,
        }).Fit(data).Model.Parameters.Single(p => p.Shape.Length == 2).Value;
        float[] plain = Weights(0f), penalised = Weights(1e-3f);
        double L1Norm(float[] w) => w.Sum(v => (double)Math.Abs(v));
        Assert.True(L1Norm(penalised) < 0.8 * L1Norm(plain),
            $"‖W‖₁ {L1Norm(penalised):F1} with L1 against {L1Norm(plain):F1} without");
        int d = 784; // Wᵀ[j, i] with i ≤ j is structurally zero and must stay so
        for (int j = 0; j < d; j += 37)
            for (int i = 0; i <= j; i++) Assert.Equal(0f, penalised[j * d + i]);
    }

    [Fact]
    public void L2Regularization_GivesSmallerWeightsInTraining()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        double Norm(float l2) => System.Numerics.Tensors.TensorPrimitives.Norm(ml.Transforms.FvsbnDensity(
            new FvsbnDensityEstimator.Options
            {
                L2Regularization = l2, MaximumNumberOfEpochs = 3, LearningRate = 3e-3f,
                Seed = 1
            })
            .Fit(data).Model.Parameters.Single(p => p.Shape.Length == 2).Value);
        double plain = Norm(0f), penalised = Norm(0.05f);
        Assert.True(penalised < 0.8 * plain, $"‖W‖ {penalised:F3} with L2 against {plain:F3} without");
    }

    [Fact]
    public void LinearDecay_RunsStepByStepToZeroAtTheLastEpoch()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        var options = new FvsbnDensityEstimator.Options
        {
            LearningRateSchedule = LearningRateSchedule.LinearDecay, LearningRate = 0.01f, MaximumNumberOfEpochs = 3,
            EarlyStoppingPatience = 5, Seed = 1,
        };
        var history = ml.Transforms.FvsbnDensity(options).Fit(data).TrainingHistory;
        // 270 training rows (10 % held out) in batches of 100: 3 steps an epoch, 9 in all; step k runs at lr·(1 - k/9).
        Assert.Equal(3, history.Count);
        Assert.Equal(0.01 * (1 - 2.0 / 9), history[0].LearningRate, 6);
        Assert.Equal(0.01 * (1 - 8.0 / 9), history[2].LearningRate, 6);
    }

    [Fact]
    public void MaximumTrainingTime_StopsAfterTheEpochThatSpendsIt()
    {
        var ml = new MLContext(1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        var data = TestData.Digits.Slice(0, 200).ToDataView(ml);
        var options = new FvsbnDensityEstimator.Options
        {
            MaximumTrainingTime = TimeSpan.FromTicks(1),
            MaximumNumberOfEpochs = 5, Seed = 1
        };
        Assert.Single(ml.Transforms.FvsbnDensity(options).Fit(data).TrainingHistory);
        Assert.Contains(messages, m =>
            m.StartsWith("Stopping after epoch 1: the training time budget", StringComparison.Ordinal));
    }

    [Fact]
    public void RecipeOptions_OutOfRange_NameTheOption()
    {
        var ml = new MLContext(1);
        void Refused(string option, string expected, FvsbnDensityEstimator.Options options)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.FvsbnDensity(options));
            Assert.Contains($"`{option}` {expected}", e.Message);
            Assert.Equal(option, e.ParamName);
        }
        Refused("Momentum", "must be in [0, 1)", new() { Momentum = 1f });
        Refused("MaximumTrainingTime", "must be positive", new() { MaximumTrainingTime = TimeSpan.Zero });
        Refused("L2Regularization", "must be 0 (off) or a positive finite number", new() { L2Regularization = -0.1f });
        Refused("L1Regularization", "must be 0 (off) or a positive finite number",
            new() { L1Regularization = float.NaN });
        Refused("LearningRateDecayFactor", "must be in (0, 1)", new() { LearningRateDecayFactor = 1f });
        Refused("Optimizer", "must be Adam, Adagrad or SgdMomentum", new() { Optimizer = (TrainingOptimizer)7 });
        Refused("LearningRateSchedule", "must be Constant", new() { LearningRateSchedule = (LearningRateSchedule)9 });
        Refused("PlateauPatience", "must be below EarlyStoppingPatience (3)", new()
        {
            LearningRateSchedule = LearningRateSchedule.ReduceOnPlateau, PlateauPatience = 3, EarlyStoppingPatience = 3,
        });
    }

    [Fact]
    public void InputDropout_GradientIsThatOfTheTargetsGivenTheDroppedInputs()
    {
        // Loss(θ) = -Σ_r log p(targets_r | conditionals computed from inputs_r): TrainingStep's gradient must be its
        // gradient, for inputs that differ from the targets (dropped and rescaled).
        const int d = 6, batch = 3;
        var model = new MLNetAr.Models.Fvsbn(d);
        TestData.Perturb(model, seed: 2, scale: 0.5f);
        float[] targets = TestData.RandomBinary(batch, d, seed: 4);
        float[] inputs = targets.Select((v, i) => i % 3 == 0 ? 0f : v * 1.25f).ToArray();
        double Loss()
        {
            var logits = new float[batch * d];
            model.Forward(inputs, batch, logits, model.CreateWorkspace(batch));
            return -model.Distribution.SumLogProbabilities(logits, targets, batch * d, 0, batch * d) / batch;
        }
        foreach (var p in model.Parameters) Array.Clear(p.Gradient);
        model.TrainingStep(inputs, targets, batch, model.CreateWorkspace(batch));
        foreach (var p in model.Parameters)
            for (int i = 0; i < p.Length; i++)
            {
                // masked (upper) weights
                if (p.Gradient[i] == 0f && p.Name.Contains("Weight", StringComparison.Ordinal))
                    continue;
                float saved = p.Value[i];
                const float h = 1e-2f;
                p.Value[i] = saved + h;
                double plus = Loss();
                p.Value[i] = saved - h;
                double minus = Loss();
                p.Value[i] = saved;
                Assert.Equal((plus - minus) / (2 * h), p.Gradient[i], 3);
            }
    }

    [Fact]
    public void InputDropout_RegularisesAnOverfittingFvsbn_Deterministically()
    {
        var ml = new MLContext(1);
        var train = TestData.Digits.Slice(0, 200).ToDataView(ml);
        var test = TestData.Digits.Slice(9000, 500).ToDataView(ml);
        AutoregressiveDensityTransformer Fit(float dropout) =>
            ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
            {
                InputDropout = dropout, ValidationFraction = 0f, MaximumNumberOfEpochs = 100, BatchSize = 20,
                LearningRate = 3e-3f, Seed = 1,
            }).Fit(train);
        double TestNll(AutoregressiveDensityTransformer model) =>
            -model.Transform(test).GetColumn<float>("LogLikelihood").Average(v => (double)v);

        AutoregressiveDensityTransformer plain = Fit(0f), dropped = Fit(0.3f);

        // 200 images for 307k weights: plain FVSBN over-fits in 100 epochs; dropping inputs keeps it closer to the
        // held-out digits. Measured: 141.4 nats without, 137.2 with p = 0.3 (0.1: 139.2, 0.5: 137.8, 0.7: 142.6).
        Assert.True(TestNll(dropped) < TestNll(plain) - 2,
            $"held-out NLL: dropout {TestNll(dropped):F2}, none {TestNll(plain):F2}");
        Assert.Equal(dropped.Model.Parameters[0].Value, Fit(0.3f).Model.Parameters[0].Value);
    }

    [Fact]
    public void InputDropout_OutOfRangeOrOnNade_NamesTheOption()
    {
        var ml = new MLContext(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options { InputDropout = 1f }));
        Assert.Equal("InputDropout", e.ParamName);
        var nade = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.NadeDensity(new NadeDensityEstimator.Options { InputDropout = 0.1f }));
        Assert.Equal("InputDropout", nade.ParamName);
        Assert.Contains("must be 0 for NADE", nade.Message);
    }
}
