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
    /// <param name="cancellation">Stops training between minibatches.</param>
    public static List<EpochSummary> Train(DensityModel model, float[] train, float[] validation, TrainingSettings settings,
        Action<string>? log, CancellationToken cancellation = default)
    {
        int d = model.Dimension;
        int rows = train.Length / d;
        int batchSize = Math.Min(settings.BatchSize, rows);
        var optimizer = new AdamOptimizer(model.Parameters, settings.LearningRate);
        var workspace = model.CreateWorkspace(batchSize);
        var batch = new float[batchSize * d];
        var logits = new float[batchSize * d];
        var dLogits = new float[batchSize * d];
        var order = Enumerable.Range(0, rows).ToArray();
        var shuffle = new Random(settings.Seed);
        var history = new List<EpochSummary>();
        bool hasValidation = validation.Length > 0;
        float[][] best = Snapshot(model);
        double bestValidation = double.PositiveInfinity;
        int epochsSinceBest = 0;

        for (int epoch = 1; epoch <= settings.MaximumNumberOfEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            shuffle.Shuffle(order);
            double nllSum = 0;
            for (int start = 0; start < rows; start += batchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                int b = Math.Min(batchSize, rows - start);
                for (int r = 0; r < b; r++) train.AsSpan(order[start + r] * d, d).CopyTo(batch.AsSpan(r * d, d));
                ReadOnlySpan<float> x = batch.AsSpan(0, b * d);
                model.Forward(x, b, logits, workspace);
                for (int r = 0; r < b; r++)
                    nllSum -= Kernels.Kernels.BernoulliLogLikelihood(logits.AsSpan(r * d, d), x.Slice(r * d, d));
                // Loss = mean NLL over the minibatch.
                Kernels.Kernels.BernoulliNllGradient(logits.AsSpan(0, b * d), x, 1f / b, dLogits);
                optimizer.ZeroGradients();
                model.Backward(x, b, dLogits, workspace);
                optimizer.Step();
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double trainNll = nllSum / rows;
            double validNll = hasValidation ? MeanNll(model, validation) : double.NaN;
            history.Add(new EpochSummary(epoch, trainNll, validNll, seconds));
            log?.Invoke($"epoch {epoch}/{settings.MaximumNumberOfEpochs}: train NLL {trainNll:F3}, validation NLL {validNll:F3} nats, {seconds:F2} s");

            if (!double.IsFinite(trainNll) || (hasValidation && !double.IsFinite(validNll)))
            {
                Restore(model, best);
                log?.Invoke($"Training diverged at epoch {epoch} (NLL is not finite; try a smaller LearningRate). Kept the weights of the best epoch so far.");
                break;
            }
            double score = hasValidation ? validNll : trainNll;
            if (score < bestValidation)
            {
                bestValidation = score;
                best = Snapshot(model);
                epochsSinceBest = 0;
            }
            else if (++epochsSinceBest >= settings.EarlyStoppingPatience && hasValidation)
            {
                log?.Invoke($"Early stopping after epoch {epoch}: no improvement in {settings.EarlyStoppingPatience} epochs (best validation NLL {bestValidation:F3}).");
                break;
            }
        }
        Restore(model, best);
        return history;
    }

    /// <summary>Exact log-likelihood of each row: <c>(N, D) -> (N)</c>, in nats.</summary>
    public static float[] LogLikelihoods(DensityModel model, ReadOnlySpan<float> data, int maxBatch = 256)
    {
        int d = model.Dimension;
        int rows = data.Length / d;
        var result = new float[rows];
        int batchSize = Math.Max(1, Math.Min(maxBatch, rows));
        var workspace = model.CreateWorkspace(batchSize);
        var logits = new float[batchSize * d];
        for (int start = 0; start < rows; start += batchSize)
        {
            int b = Math.Min(batchSize, rows - start);
            ReadOnlySpan<float> x = data.Slice(start * d, b * d);
            model.Forward(x, b, logits, workspace);
            for (int r = 0; r < b; r++)
                result[start + r] = Kernels.Kernels.BernoulliLogLikelihood(logits.AsSpan(r * d, d), x.Slice(r * d, d));
        }
        return result;
    }

    /// <summary>Mean negative log-likelihood in nats per row.</summary>
    public static double MeanNll(DensityModel model, ReadOnlySpan<float> data)
    {
        float[] ll = LogLikelihoods(model, data);
        double sum = 0;
        foreach (float v in ll) sum -= v;
        return ll.Length == 0 ? double.NaN : sum / ll.Length;
    }

    private static float[][] Snapshot(DensityModel model) => model.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();

    private static void Restore(DensityModel model, float[][] snapshot)
    {
        for (int i = 0; i < snapshot.Length; i++) snapshot[i].CopyTo(model.Parameters[i].Value, 0);
    }
}
