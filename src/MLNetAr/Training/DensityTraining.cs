using System.Diagnostics;
using MLNetAr.Internal;
using MLNetAr.Models;
using MLNetAr.Nn;

namespace MLNetAr.Training;

/// <summary>Settings of one training run (validated by the estimator before they get here).</summary>
/// <param name="MaximumNumberOfEpochs">Epoch limit.</param>
/// <param name="BatchSize">Rows per optimiser step.</param>
/// <param name="LearningRate">Initial step size.</param>
/// <param name="EarlyStoppingPatience">Epochs without a better validation NLL before stopping.</param>
/// <param name="Seed">Seed of the minibatch order.</param>
/// <param name="GradientClipNorm">When positive, a minibatch gradient whose global L2 norm exceeds it is scaled down to
/// it.</param>
internal sealed record TrainingSettings(int MaximumNumberOfEpochs, int BatchSize, float LearningRate,
    int EarlyStoppingPatience, int Seed, float GradientClipNorm = 0f)
{
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    /// <summary>μ of <see cref="OptimizerKind.SgdMomentum"/>.</summary>
    public float Momentum { get; init; } = 0.9f;
    /// <summary>λ of the L2 penalty <c>λ/2·‖W‖²</c> on weight matrices (0: none).</summary>
    public float L2Regularization { get; init; }
    /// <summary>λ₁ of the L1 penalty <c>λ₁·‖W‖₁</c> on weight matrices (0: none).</summary>
    public float L1Regularization { get; init; }
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;
    /// <summary>Factor applied by <see cref="ScheduleKind.ReduceOnPlateau"/>.</summary>
    public float LearningRateDecayFactor { get; init; } = 0.5f;
    /// <summary>
    /// Epochs without improvement before <see cref="ScheduleKind.ReduceOnPlateau"/> reduces the rate.
    /// </summary>
    public int PlateauPatience { get; init; } = 2;
    /// <summary>
    /// Probability p that a conditioning input is dropped during training (kept ones are scaled by 1/(1 - p)).
    /// </summary>
    public float InputDropout { get; init; }
    /// <summary>
    /// Probability μ that a pixel of a training or validation row is replaced by a level drawn uniformly from the K
    /// levels, before the row is both read and scored: the model then describes the perturbed data (the background
    /// model of Ren et al. 2019's likelihood ratio). 0: none.
    /// </summary>
    public float InputPerturbation { get; init; }
    /// <summary>
    /// Wall-clock budget of this run (not part of the fingerprint: it does not change what an epoch computes).
    /// </summary>
    public TimeSpan? MaximumTrainingTime { get; init; }

    /// <summary>Everything that changes the result, for checkpoint fingerprints.</summary>
    public string Describe() => string.Concat(
        FormattableString.Invariant($"seed={Seed}|batch={BatchSize}|lr={LearningRate:R}|opt={Optimizer}"),
        FormattableString.Invariant($"|mom={Momentum:R}|l2={L2Regularization:R}|clip={GradientClipNorm:R}"),
        FormattableString.Invariant($"|schedule={Schedule}|epochs={MaximumNumberOfEpochs}"),
        FormattableString.Invariant($"|decay={LearningRateDecayFactor:R}|plateau={PlateauPatience}"),
        InputDropout > 0 ? FormattableString.Invariant($"|dropout={InputDropout:R}") : "",
        InputPerturbation > 0 ? FormattableString.Invariant($"|perturb={InputPerturbation:R}") : "",
        L1Regularization > 0 ? FormattableString.Invariant($"|l1={L1Regularization:R}") : "");
}

/// <summary>
/// One epoch of a training run, in nats per image; the estimator hands it to users as the public <c>EpochSummary</c>.
/// </summary>
internal readonly record struct TrainedEpoch(int Epoch, double TrainingNll, double ValidationNll, double Seconds,
    double LearningRate);

/// <summary>
/// How far the training pass of an epoch has got; the estimator hands it to users as <c>TrainingProgress</c>.
/// </summary>
internal readonly record struct EpochProgress(int Epoch, long RowsDone, long RowsPerEpoch, TimeSpan Elapsed);

/// <summary>
/// Where training reads its rows: training rows <c>[TrainStart, TrainEnd)</c> and validation rows
/// <c>[ValidationStart, ValidationEnd)</c> of two row sources (often the same one, split).
/// </summary>
/// <param name="Train">Source of the training rows.</param>
/// <param name="TrainStart">First training row.</param>
/// <param name="TrainEnd">End of the training rows (exclusive).</param>
/// <param name="Validation">Source of the validation rows.</param>
/// <param name="ValidationStart">First validation row.</param>
/// <param name="ValidationEnd">End of the validation rows (exclusive).</param>
/// <param name="ShufflePoolRows">0 shuffles the whole training set every epoch (rows in memory); otherwise rows are
/// read in consecutive pools of this many and shuffled within each pool (streamed rows).</param>
internal sealed record TrainingData(EncodedRows Train, long TrainStart, long TrainEnd, EncodedRows Validation,
    long ValidationStart, long ValidationEnd, int ShufflePoolRows)
{
    public long TrainCount => TrainEnd - TrainStart;
    public long ValidationCount => ValidationEnd - ValidationStart;
}

/// <summary>
/// Minibatch gradient descent (Adam, Adagrad or SGD with momentum) on the exact negative log-likelihood with early
/// stopping on validation NLL.
/// </summary>
internal static class DensityTraining
{
    /// <summary>The least time between two progress reports within an epoch.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// Trains <paramref name="model"/> in place and leaves it at the epoch with the best validation NLL (the last epoch
    /// without validation rows). Deterministic for a given seed: the minibatch order comes from it and the kernels'
    /// results do not depend on the thread count.
    /// </summary>
    /// <param name="model">Model to train.</param>
    /// <param name="data">Training and validation rows (validation may be empty).</param>
    /// <param name="settings">Optimiser and schedule.</param>
    /// <param name="log">Receives one line per epoch.</param>
    /// <param name="warn">Receives warnings (divergence).</param>
    /// <param name="checkpoint">Where to write (and resume from) the training state; null for none.</param>
    /// <param name="isCancelled">Polled before every minibatch; training stops with
    /// <see cref="OperationCanceledException"/> when it returns true.</param>
    /// <param name="progress">Receives the epoch's progress at most every <see cref="ProgressInterval"/> and once when
    /// its training pass ends; null costs nothing.</param>
    /// <remarks>
    /// A minibatch whose loss is not finite (a diverging run, e.g. an absurd learning rate) ends training at once; so
    /// does early stopping. Either way the model keeps the weights of the best epoch, where the untrained model counts
    /// as epoch 0, so a run that only got worse returns its starting point rather than garbage.
    /// </remarks>
    public static List<TrainedEpoch> Train(DensityModel model, TrainingData data, TrainingSettings settings,
        Action<string>? log, Action<string>? warn = null, Func<bool>? isCancelled = null,
            CheckpointSettings? checkpoint = null, Action<EpochProgress>? progress = null)
    {
        int d = model.Dimension;
        int rows = checked((int)data.TrainCount);
        int batchSize = Math.Min(settings.BatchSize, rows);
        var optimizer = Optimizer.Create(settings.Optimizer, model.Parameters, settings.LearningRate,
            settings.L2Regularization, settings.Momentum, settings.L1Regularization);
        var workspace = model.CreateWorkspace(batchSize);
        var batch = new float[batchSize * d];
        var shuffle = new Random(settings.Seed);
        var minibatches = new Minibatches(data, batchSize, shuffle);
        var scheduler = new LearningRateScheduler(settings.Schedule, settings.LearningRate,
            settings.LearningRateDecayFactor,
            settings.PlateauPatience, (long)minibatches.StepsPerEpoch * settings.MaximumNumberOfEpochs);
        bool hasValidation = data.ValidationCount > 0;
        int validationBlock = model.ValidationBlockRows(batchSize);
        string fingerprint = TrainingCheckpoint.Fingerprint(model, rows, settings);
        TrainingState state;
        if (checkpoint != null && File.Exists(checkpoint.Path))
        {
            state = TrainingCheckpoint.Load(checkpoint.Path, fingerprint, model, optimizer);
            scheduler.Restore(state.PlateauRate, state.EpochsWithoutImprovement);
            // the minibatch order continues as if never stopped
            for (int e = 0; e < state.Epoch; e++)
                minibatches.SkipEpoch();
            log?.Invoke($"Resumed from checkpoint '{checkpoint.Path}' after epoch " +
                $"{state.Epoch}{(state.Finished ? " (training had finished)" : "")}.");
        }
        else
        {
            state = new TrainingState { Best = Snapshot(model) };
            double initial = hasValidation ? MeanValidationNll(model, data, workspace, validationBlock, settings)
                : double.PositiveInfinity;
            state.BestScore = double.IsFinite(initial) ? initial : double.PositiveInfinity;
        }
        var history = state.History;
        float[][] best = state.Best;
        double bestValidation = state.BestScore;
        int epochsSinceBest = state.EpochsSinceBest;
        bool diverged = false;
        var runClock = Stopwatch.StartNew();

        float[] dropped = settings.InputDropout > 0 ? new float[batch.Length] : [];
        optimizer.ZeroGradients(); // each Step leaves them at zero for the next minibatch
        for (int epoch = state.Epoch + 1; epoch <= settings.MaximumNumberOfEpochs && !state.Finished; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double nllSum = 0;
            long rowsDone = 0;
            TimeSpan lastReport = TimeSpan.Zero;
            progress?.Invoke(new EpochProgress(epoch, 0, rows, TimeSpan.Zero));
            foreach (int b in minibatches.Epoch(batch))
            {
                if (progress != null && clock.Elapsed - lastReport >= ProgressInterval)
                {
                    lastReport = clock.Elapsed;
                    progress(new EpochProgress(epoch, rowsDone, rows, lastReport));
                }
                rowsDone += b;
                if (isCancelled?.Invoke() == true)
                    throw new OperationCanceledException($"Training was cancelled during epoch {epoch}.");
                model.BeginTrainingStep(optimizer.StepCount);
                // Loss = mean NLL over the minibatch.
                if (settings.InputPerturbation > 0)
                    Perturb(batch.AsSpan(0, b * d), settings.InputPerturbation, model.Levels,
                        PerturbationSeed(settings.Seed, optimizer.StepCount));
                ReadOnlySpan<float> targets = batch.AsSpan(0, b * d);
                ReadOnlySpan<float> inputs = settings.InputDropout > 0
                    ? DropInputs(targets, settings.InputDropout, settings.Seed, optimizer.StepCount,
                        dropped.AsSpan(0, b * d))
                    : targets;
                double batchNll = model.TrainingStep(inputs, targets, b, workspace);
                nllSum += batchNll;
                if (!double.IsFinite(batchNll) || !GradientsAreFinite(model))
                {
                    diverged = true;
                    break;
                }
                if (settings.GradientClipNorm > 0) ClipGradientNorm(model, settings.GradientClipNorm);
                optimizer.LearningRate = scheduler.RateAt(optimizer.StepCount);
                optimizer.Step();
            }
            double seconds = clock.Elapsed.TotalSeconds;
            if (!diverged) progress?.Invoke(new EpochProgress(epoch, rowsDone, rows, clock.Elapsed));
            double trainNll = nllSum / rows;
            double validNll = hasValidation && !diverged
                ? MeanValidationNll(model, data, workspace, validationBlock, settings)
                : double.NaN;
            if (diverged) trainNll = double.NaN;
            history.Add(new TrainedEpoch(epoch, trainNll, validNll, seconds, optimizer.LearningRate));
            // Grey images are compared in bits per pixel (the field's unit); binary ones in nats per image.
            string bits = model.Levels > 2 ? $" ({validNll / (d * Math.Log(2)):F4} bits/dim)" : "";
            log?.Invoke($"epoch {epoch}/{settings.MaximumNumberOfEpochs}: train NLL {trainNll:F3}, validation NLL " +
                $"{validNll:F3} nats{bits}, {seconds:F2} s, learning rate {optimizer.LearningRate:G3}");

            bool stop = false;
            double score = hasValidation ? validNll : trainNll;
            bool improved = score < bestValidation;
            if (scheduler.EndEpoch(improved))
                log?.Invoke($"No improvement in {settings.PlateauPatience} epochs: learning rate reduced to " +
                    $"{scheduler.PlateauRate:G3}.");
            if (diverged || !double.IsFinite(trainNll) || (hasValidation && !double.IsFinite(validNll)))
            {
                (warn ?? log)?.Invoke($"Training diverged in epoch {epoch} (the loss or its gradient is not finite; " +
                    $"try a smaller LearningRate). Kept the weights of the best epoch so far " +
                    $"({BestEpochText(history, epoch)}).");
                stop = true;
            }
            else if (improved)
            {
                bestValidation = score;
                best = Snapshot(model);
                epochsSinceBest = 0;
            }
            else if (++epochsSinceBest >= settings.EarlyStoppingPatience && hasValidation)
            {
                log?.Invoke($"Early stopping after epoch {epoch}: no improvement in " +
                    $"{settings.EarlyStoppingPatience} epochs (best validation NLL {bestValidation:F3}).");
                stop = true;
            }
            // Out of time is not finished: a checkpoint lets a later Fit with more time continue the run.
            bool outOfTime = !stop && settings.MaximumTrainingTime is TimeSpan budget && runClock.Elapsed >= budget
                && epoch < settings.MaximumNumberOfEpochs;
            if (outOfTime)
                log?.Invoke($"Stopping after epoch {epoch}: the training time budget of " +
                    $"{settings.MaximumTrainingTime!.Value.TotalMinutes:F1} min is spent.");

            bool finished = stop || epoch == settings.MaximumNumberOfEpochs;
            if (checkpoint != null && (finished || outOfTime || epoch % checkpoint.EveryEpochs == 0) && !diverged)
            {
                var snapshot = new TrainingState
                {
                    Epoch = epoch, EpochsSinceBest = epochsSinceBest, BestScore = bestValidation, Finished = finished,
                    Best = best, History = history,
                    PlateauRate = scheduler.PlateauRate, EpochsWithoutImprovement = scheduler.EpochsWithoutImprovement,
                };
                TrainingCheckpoint.Save(checkpoint.Path, fingerprint, snapshot, model, optimizer);
            }
            if (stop || outOfTime) break;
        }
        Restore(model, best);
        model.EndTraining();
        return history;
    }

    private static string BestEpochText(List<TrainedEpoch> history, int failedEpoch)
    {
        var finite = history.Where(h => h.Epoch < failedEpoch && double.IsFinite(h.ValidationNll)).ToList();
        return finite.Count == 0 ? "the untrained model" : $"validation NLL {finite.Min(h => h.ValidationNll):F3}";
    }

    /// <summary>Scales every gradient by <c>min(1, maxNorm / ‖g‖₂)</c>, ‖g‖₂ over all parameters together.</summary>
    private static void ClipGradientNorm(DensityModel model, float maxNorm)
    {
        double squares = 0;
        foreach (Parameter p in model.Parameters)
        {
            double n = System.Numerics.Tensors.TensorPrimitives.Norm(p.Gradient);
            squares += n * n;
        }
        double norm = Math.Sqrt(squares);
        if (norm <= maxNorm) return;
        float scale = (float)(maxNorm / norm);
        foreach (Parameter p in model.Parameters)
            System.Numerics.Tensors.TensorPrimitives.Multiply(p.Gradient, scale, p.Gradient);
    }

    /// <summary>
    /// Inverted input dropout: <c>x̃_j = x_j · m_j / (1 - p)</c> with <c>m_j ~ Bernoulli(1 - p)</c>, so that
    /// <c>E[x̃] = x</c>. The masks come from the seed and the step number alone, so a resumed run draws the same ones.
    /// </summary>
    private static ReadOnlySpan<float> DropInputs(ReadOnlySpan<float> x, float p, int seed, long step,
        Span<float> destination)
    {
        var random = new Random(unchecked((int)(seed * 1_000_003L + step * 7919L)));
        float keep = 1f / (1f - p);
        for (int i = 0; i < x.Length; i++) destination[i] = random.NextSingle() < p ? 0f : x[i] * keep;
        return destination;
    }

    /// <summary>
    /// Replaces each pixel of <paramref name="x"/> with probability <paramref name="mu"/> by a level drawn uniformly
    /// from <paramref name="levels"/> (values <c>level / (K - 1)</c>), from a stream seeded by
    /// <paramref name="seed"/>.
    /// </summary>
    internal static void Perturb(Span<float> x, float mu, int levels, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < x.Length; i++)
            if (random.NextSingle() < mu) x[i] = random.Next(levels) / (float)(levels - 1);
    }

    /// <summary>
    /// The perturbation stream of training step <paramref name="step"/>; validation blocks use negative steps, so
    /// every validation pass sees the same perturbed rows.
    /// </summary>
    private static int PerturbationSeed(int seed, long step) => unchecked((int)(seed * 999_983L + step * 104_729L));

    private static bool GradientsAreFinite(DensityModel model)
    {
        foreach (Parameter p in model.Parameters)
            if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(p.Gradient))) return false;
        return true;
    }

    /// <summary>
    /// Mean validation NLL over the validation rows of <paramref name="data"/>, read in blocks of the training batch
    /// size and scored in the training workspace (a second, larger workspace would double the convolutional models'
    /// activation memory). Early stopping watches what the model will be scored with: for a MADE ensemble, the mixture
    /// of its connectivities, not one of them.
    /// </summary>
    private static double MeanValidationNll(DensityModel model, TrainingData data, ModelWorkspace workspace,
        int blockRows, TrainingSettings settings)
    {
        double sum = 0;
        var ll = new float[blockRows];
        float[] perturbed = settings.InputPerturbation > 0 ? new float[blockRows * model.Dimension] : [];
        long block = 0;
        model.BeginValidation();
        try
        {
            foreach (var (rows, count) in data.Validation.Blocks(data.ValidationStart, data.ValidationEnd, blockRows))
            {
                Span<float> x = rows.AsSpan(0, count * model.Dimension);
                // The perturbed model is validated on data perturbed as its training data is, in a copy (a block may
                // be the rows' own array).
                if (settings.InputPerturbation > 0)
                {
                    x.CopyTo(perturbed);
                    x = perturbed.AsSpan(0, x.Length);
                    Perturb(x, settings.InputPerturbation, model.Levels, PerturbationSeed(settings.Seed, -1 - block));
                }
                block++;
                model.Score(x, count, ll, Span<float>.Empty, workspace);
                for (int i = 0; i < count; i++) sum += ll[i];
            }
        }
        finally
        {
            model.EndValidation();
        }
        return -sum / data.ValidationCount;
    }

    /// <summary>
    /// The minibatches of successive epochs, drawn from one seeded stream: the training rows are taken in pools of
    /// consecutive rows (one pool holding them all when they are in memory), and each pool's row order is reshuffled
    /// every epoch. A streamed run whose pool holds every row therefore trains exactly like an in-memory one.
    /// </summary>
    private sealed class Minibatches(TrainingData data, int batchSize, Random shuffle)
    {
        private readonly int _rows = checked((int)data.TrainCount);
        private readonly int _pool = data.ShufflePoolRows == 0 ? Math.Max(1, checked((int)data.TrainCount))
            : data.ShufflePoolRows;
        private int[][]? _orders;

        // One persistent order per pool (4 bytes a row), shuffled again each epoch.
        private int[][] Orders => _orders ??= Enumerable.Range(0, (_rows + _pool - 1) / _pool)
            .Select(k => Enumerable.Range(0, Math.Min(_pool, _rows - k * _pool)).ToArray()).ToArray();

        /// <summary>Optimiser steps in one epoch (a pool's last minibatch may be short).</summary>
        public int StepsPerEpoch => Orders.Sum(order => (order.Length + batchSize - 1) / batchSize);

        /// <summary>Fills <paramref name="batch"/> with each minibatch in turn and yields its row count.</summary>
        public IEnumerable<int> Epoch(float[] batch)
        {
            int d = data.Train.Dimension, pool = 0;
            foreach (var (rows, count) in data.Train.Blocks(data.TrainStart, data.TrainEnd, _pool))
            {
                int[] order = Orders[pool++];
                shuffle.Shuffle(order);
                for (int start = 0; start < count; start += batchSize)
                {
                    int b = Math.Min(batchSize, count - start);
                    for (int r = 0; r < b; r++) rows.AsSpan(order[start + r] * d, d).CopyTo(batch.AsSpan(r * d, d));
                    yield return b;
                }
            }
        }

        /// <summary>Draws an epoch's shuffles without reading any rows (resuming from a checkpoint).</summary>
        public void SkipEpoch()
        {
            foreach (int[] order in Orders) shuffle.Shuffle(order);
        }
    }

    private static float[][] Snapshot(DensityModel model) =>
        model.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();

    private static void Restore(DensityModel model, float[][] snapshot)
    {
        for (int i = 0; i < snapshot.Length; i++) snapshot[i].CopyTo(model.Parameters[i].Value, 0);
    }
}
