namespace MLNetAr;

/// <summary>What happened in one epoch: mean negative log-likelihoods in nats per image.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingNll">Mean training NLL over the epoch's minibatches (weights changing as it goes).</param>
/// <param name="ValidationNll">Mean NLL on the validation rows after the epoch, or NaN without validation rows.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training pass.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
public sealed record EpochSummary(int Epoch, double TrainingNll, double ValidationNll, double Seconds,
    double LearningRate);
