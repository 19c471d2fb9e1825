namespace MLNetAr;

/// <summary>What happened in one epoch: mean negative log-likelihoods in nats per image.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingNll">Mean training NLL over the epoch's minibatches (weights changing as it goes).</param>
/// <param name="ValidationNll">Mean NLL on the validation rows after the epoch, or NaN without validation rows.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training pass.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
/// <param name="Dimension">Pixels per image, for the NLLs per dimension (0 when unknown).</param>
public sealed record EpochSummary(int Epoch, double TrainingNll, double ValidationNll, double Seconds,
    double LearningRate, int Dimension = 0)
{
    /// <summary>
    /// <see cref="TrainingNll"/> in bits per pixel, <c>NLL / (D ln 2)</c>: the field's unit for grey images (NaN when
    /// <see cref="Dimension"/> is unknown).
    /// </summary>
    public double TrainingBitsPerDimension => BitsPerDimension(TrainingNll);

    /// <summary><see cref="ValidationNll"/> in bits per pixel, <c>NLL / (D ln 2)</c>.</summary>
    public double ValidationBitsPerDimension => BitsPerDimension(ValidationNll);

    private double BitsPerDimension(double nats) => Dimension > 0 ? nats / (Dimension * Math.Log(2)) : double.NaN;
}
