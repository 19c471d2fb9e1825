using System.Diagnostics;
using MLNetAr.Nn;

namespace MLNetAr.Models;

/// <summary>Settings of one training run (validated by the estimator before they get here).</summary>
internal sealed record TrainingSettings(int MaximumNumberOfEpochs, int BatchSize, float LearningRate, int EarlyStoppingPatience, int Seed);

/// <summary>What happened in one epoch: mean negative log-likelihoods in nats per image.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingNll">Mean training NLL over the epoch's minibatches (weights changing as it goes).</param>
/// <param name="ValidationNll">Mean NLL on the validation rows after the epoch, or NaN without validation rows.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training pass.</param>
public sealed record EpochSummary(int Epoch, double TrainingNll, double ValidationNll, double Seconds);

/// <summary>Minibatch Adam on the exact negative log-likelihood with early stopping on validation NLL.</summary>
internal static class DensityTraining
{
    /// <summary>
    /// Trains <paramref name="model"/> in place and leaves it at the epoch with the best validation NLL (the last epoch
    /// without validation rows). Deterministic for a given seed: the minibatch order comes from it and the kernels'
    /// results do not depend on the thread count.
    /// </summary>
    /// <param name="model">Model to train.</param>
    /// <param name="train">Training rows <c>(N, D)</c>, binary.</param>
    /// <param name="validation">Validation rows <c>(V, D)</c>; may be empty.</param>
    /// <param name="settings">Optimiser and schedule.</param>
    /// <param name="log">Receives one line per epoch.</param>
    /// <param name="warn">Receives warnings (divergence).</param>
    /// <param name="checkpoint">Where to write (and resume from) the training state; null for none.</param>
    /// <param name="isCancelled">Polled before every minibatch; training stops with <see cref="OperationCanceledException"/> when it returns true.</param>
    /// <remarks>
    /// A minibatch whose loss is not finite (a diverging run, e.g. an absurd learning rate) ends training at once; so
    /// does early stopping. Either way the model keeps the weights of the best epoch, where the untrained model counts
    /// as epoch 0, so a run that only got worse returns its starting point rather than garbage.
    /// </remarks>
    public static List<EpochSummary> Train(DensityModel model, float[] train, float[] validation, TrainingSettings settings,
        Action<string>? log, Action<string>? warn = null, Func<bool>? isCancelled = null, CheckpointSettings? checkpoint = null)
    {
        int d = model.Dimension;
        int rows = train.Length / d;
        int batchSize = Math.Min(settings.BatchSize, rows);
        var optimizer = new AdamOptimizer(model.Parameters, settings.LearningRate);
        var workspace = model.CreateWorkspace(batchSize);
        var batch = new float[batchSize * d];
        var order = Enumerable.Range(0, rows).ToArray();
        var shuffle = new Random(settings.Seed);
        bool hasValidation = validation.Length > 0;
        string fingerprint = TrainingCheckpoint.Fingerprint(model, rows, settings);
        TrainingState state;
        if (checkpoint != null && File.Exists(checkpoint.Path))
        {
            state = TrainingCheckpoint.Load(checkpoint.Path, fingerprint, model, optimizer);
            for (int e = 0; e < state.Epoch; e++) shuffle.Shuffle(order); // the minibatch order continues as if never stopped
            log?.Invoke($"Resumed from checkpoint '{checkpoint.Path}' after epoch {state.Epoch}{(state.Finished ? " (training had finished)" : "")}.");
        }
        else
        {
            state = new TrainingState { Best = Snapshot(model) };
            double initial = hasValidation ? MeanValidationNll(model, validation) : double.PositiveInfinity;
            state.BestScore = double.IsFinite(initial) ? initial : double.PositiveInfinity;
        }
        var history = state.History;
        float[][] best = state.Best;
        double bestValidation = state.BestScore;
        int epochsSinceBest = state.EpochsSinceBest;
        bool diverged = false;

        for (int epoch = state.Epoch + 1; epoch <= settings.MaximumNumberOfEpochs && !state.Finished; epoch++)
        {
            var clock = Stopwatch.StartNew();
            shuffle.Shuffle(order);
            double nllSum = 0;
            for (int start = 0; start < rows; start += batchSize)
            {
                if (isCancelled?.Invoke() == true) throw new OperationCanceledException($"Training was cancelled during epoch {epoch}.");
                int b = Math.Min(batchSize, rows - start);
                model.BeginTrainingStep(optimizer.StepCount);
                for (int r = 0; r < b; r++) train.AsSpan(order[start + r] * d, d).CopyTo(batch.AsSpan(r * d, d));
                optimizer.ZeroGradients();
                // Loss = mean NLL over the minibatch.
                double batchNll = model.TrainingStep(batch.AsSpan(0, b * d), b, workspace);
                nllSum += batchNll;
                if (!double.IsFinite(batchNll) || !GradientsAreFinite(model))
                {
                    diverged = true;
                    break;
                }
                optimizer.Step();
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double trainNll = nllSum / rows;
            double validNll = hasValidation && !diverged ? MeanValidationNll(model, validation) : double.NaN;
            if (diverged) trainNll = double.NaN;
            history.Add(new EpochSummary(epoch, trainNll, validNll, seconds));
            log?.Invoke($"epoch {epoch}/{settings.MaximumNumberOfEpochs}: train NLL {trainNll:F3}, validation NLL {validNll:F3} nats, {seconds:F2} s");

            bool stop = false;
            if (diverged || !double.IsFinite(trainNll) || (hasValidation && !double.IsFinite(validNll)))
            {
                (warn ?? log)?.Invoke($"Training diverged in epoch {epoch} (the loss or its gradient is not finite; try a smaller LearningRate). Kept the weights of the best epoch so far ({BestEpochText(history, epoch)}).");
                stop = true;
            }
            else if ((hasValidation ? validNll : trainNll) < bestValidation)
            {
                bestValidation = hasValidation ? validNll : trainNll;
                best = Snapshot(model);
                epochsSinceBest = 0;
            }
            else if (++epochsSinceBest >= settings.EarlyStoppingPatience && hasValidation)
            {
                log?.Invoke($"Early stopping after epoch {epoch}: no improvement in {settings.EarlyStoppingPatience} epochs (best validation NLL {bestValidation:F3}).");
                stop = true;
            }

            bool finished = stop || epoch == settings.MaximumNumberOfEpochs;
            if (checkpoint != null && (finished || epoch % checkpoint.EveryEpochs == 0) && !diverged)
            {
                var snapshot = new TrainingState { Epoch = epoch, EpochsSinceBest = epochsSinceBest, BestScore = bestValidation, Finished = finished, Best = best, History = history };
                TrainingCheckpoint.Save(checkpoint.Path, fingerprint, snapshot, model, optimizer);
            }
            if (stop) break;
        }
        Restore(model, best);
        model.EndTraining();
        return history;
    }

    private static string BestEpochText(List<EpochSummary> history, int failedEpoch)
    {
        var finite = history.Where(h => h.Epoch < failedEpoch && double.IsFinite(h.ValidationNll)).ToList();
        return finite.Count == 0 ? "the untrained model" : $"validation NLL {finite.Min(h => h.ValidationNll):F3}";
    }

    private static bool GradientsAreFinite(DensityModel model)
    {
        foreach (Parameter p in model.Parameters)
            if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(p.Gradient))) return false;
        return true;
    }

    /// <summary>Exact log-likelihood of each row: <c>(N, D) -> (N)</c>, in nats (the model's scoring path).</summary>
    public static float[] LogLikelihoods(DensityModel model, ReadOnlySpan<float> data, int maxBatch = 256) =>
        InBatches(model, data, maxBatch, (x, b, ll, ws) => model.Score(x, b, ll, Span<float>.Empty, ws));

    /// <summary>Mean negative log-likelihood used for early stopping (<see cref="DensityModel.ValidationLogLikelihoods"/>).</summary>
    public static double MeanValidationNll(DensityModel model, ReadOnlySpan<float> data) =>
        -Mean(InBatches(model, data, 256, model.ValidationLogLikelihoods));

    private delegate void BatchScorer(ReadOnlySpan<float> x, int batch, Span<float> logLikelihoods, ModelWorkspace workspace);

    private static float[] InBatches(DensityModel model, ReadOnlySpan<float> data, int maxBatch, BatchScorer score)
    {
        int d = model.Dimension;
        int rows = data.Length / d;
        var result = new float[rows];
        int batchSize = Math.Max(1, Math.Min(maxBatch, rows));
        var workspace = model.CreateWorkspace(batchSize);
        for (int start = 0; start < rows; start += batchSize)
        {
            int b = Math.Min(batchSize, rows - start);
            score(data.Slice(start * d, b * d), b, result.AsSpan(start, b), workspace);
        }
        return result;
    }

    private static double Mean(float[] values)
    {
        double sum = 0;
        foreach (float v in values) sum += v;
        return values.Length == 0 ? double.NaN : sum / values.Length;
    }

    private static float[][] Snapshot(DensityModel model) => model.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();

    private static void Restore(DensityModel model, float[][] snapshot)
    {
        for (int i = 0; i < snapshot.Length; i++) snapshot[i].CopyTo(model.Parameters[i].Value, 0);
    }
}
