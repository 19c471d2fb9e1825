namespace MLNetAr.Training;

/// <summary>The schedules <see cref="LearningRateScheduler"/> follows (the public <c>LearningRateSchedule</c>, value
/// for value).</summary>
internal enum ScheduleKind
{
    Constant,
    LinearDecay,
    CosineDecay,
    ReduceOnPlateau,
}

/// <summary>
/// The learning rate of each training step under a <see cref="ScheduleKind"/>. Linear and cosine decay are
/// functions of the step number alone (progress = step / total steps of <c>MaximumNumberOfEpochs</c>);
/// reduce-on-plateau carries its current rate and a counter of epochs without improvement, which checkpoints save.
/// </summary>
internal sealed class LearningRateScheduler
{
    private readonly ScheduleKind _schedule;
    private readonly float _baseRate, _decayFactor;
    private readonly int _plateauPatience;
    private readonly long _totalSteps;

    public LearningRateScheduler(ScheduleKind schedule, float baseRate, float decayFactor, int plateauPatience,
        long totalSteps)
    {
        (_schedule, _baseRate, _decayFactor, _plateauPatience, _totalSteps) = (schedule, baseRate, decayFactor,
            plateauPatience, totalSteps);
        PlateauRate = baseRate;
    }

    /// <summary>The rate reduce-on-plateau has reached (the base rate until the first reduction).</summary>
    public float PlateauRate { get; private set; }

    /// <summary>Epochs since the last improvement or reduction (reduce-on-plateau).</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>The rate of the step taken after <paramref name="stepsDone"/> earlier steps.</summary>
    public float RateAt(long stepsDone)
    {
        double progress = Math.Clamp((double)stepsDone / Math.Max(1, _totalSteps), 0, 1);
        return _schedule switch
        {
            ScheduleKind.LinearDecay => (float)(_baseRate * (1 - progress)),
            ScheduleKind.CosineDecay => (float)(_baseRate * 0.5 * (1 + Math.Cos(Math.PI * progress))),
            ScheduleKind.ReduceOnPlateau => PlateauRate,
            _ => _baseRate,
        };
    }

    /// <summary>Records an epoch's outcome; returns true when the rate was just reduced.</summary>
    public bool EndEpoch(bool improved)
    {
        if (_schedule != ScheduleKind.ReduceOnPlateau) return false;
        if (improved)
        {
            EpochsWithoutImprovement = 0;
            return false;
        }
        if (++EpochsWithoutImprovement < _plateauPatience) return false;
        PlateauRate *= _decayFactor;
        EpochsWithoutImprovement = 0;
        return true;
    }

    /// <summary>Restores the plateau state from a checkpoint.</summary>
    public void Restore(float plateauRate, int epochsWithoutImprovement) =>
        (PlateauRate, EpochsWithoutImprovement) = (plateauRate, epochsWithoutImprovement);
}
