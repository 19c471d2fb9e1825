namespace MLNetAr.Models;

/// <summary>
/// The learning rate of each training step under a <see cref="LearningRateSchedule"/>. Linear and cosine decay are
/// functions of the step number alone (progress = step / total steps of <c>MaximumNumberOfEpochs</c>); reduce-on-plateau
/// carries its current rate and a counter of epochs without improvement, which checkpoints save.
/// </summary>
internal sealed class LearningRateScheduler(LearningRateSchedule schedule, float baseRate, float decayFactor, int plateauPatience, long totalSteps)
{
    /// <summary>The rate reduce-on-plateau has reached (the base rate for the other schedules).</summary>
    public float PlateauRate { get; private set; } = float.NaN; // NaN until first reduced: the base rate

    /// <summary>Epochs since the last improvement or reduction (reduce-on-plateau).</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>The rate of the step taken after <paramref name="stepsDone"/> earlier steps.</summary>
    public float RateAt(long stepsDone)
    {
        double progress = Math.Clamp((double)stepsDone / Math.Max(1, totalSteps), 0, 1);
        return schedule switch
        {
            LearningRateSchedule.LinearDecay => (float)(baseRate * (1 - progress)),
            LearningRateSchedule.CosineDecay => (float)(baseRate * 0.5 * (1 + Math.Cos(Math.PI * progress))),
            LearningRateSchedule.ReduceOnPlateau => float.IsNaN(PlateauRate) ? baseRate : PlateauRate,
            _ => baseRate,
        };
    }

    /// <summary>Records an epoch's outcome; returns true when the rate was just reduced.</summary>
    public bool EndEpoch(bool improved)
    {
        if (schedule != LearningRateSchedule.ReduceOnPlateau) return false;
        if (improved)
        {
            EpochsWithoutImprovement = 0;
            return false;
        }
        if (++EpochsWithoutImprovement < plateauPatience) return false;
        PlateauRate = RateAt(0) * decayFactor;
        EpochsWithoutImprovement = 0;
        return true;
    }

    /// <summary>Restores the plateau state from a checkpoint.</summary>
    public void Restore(float plateauRate, int epochsWithoutImprovement) =>
        (PlateauRate, EpochsWithoutImprovement) = (plateauRate, epochsWithoutImprovement);
}
