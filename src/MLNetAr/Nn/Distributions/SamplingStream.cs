namespace MLNetAr.Nn.Distributions;

/// <summary>
/// One image's randomness while it is sampled, and the temperature τ its conditionals are drawn at: every draw uses
/// the logits divided by τ, so τ = 1 is the model's own distribution and τ → 0 picks each pixel's most likely level.
/// </summary>
/// <remarks>
/// The logits are multiplied by <c>1/τ</c>; at τ = 1 that factor is exactly 1, so the draws are bit-identical to
/// untempered ones. The factor is capped at <see cref="float.MaxValue"/> so that a tiny τ never turns a zero logit
/// difference into NaN (0·∞).
/// </remarks>
internal sealed class SamplingStream
{
    private readonly Random _random;

    public SamplingStream(int seed, float temperature = 1f)
    {
        if (!IsValidTemperature(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature,
                "The sampling temperature must be positive and finite.");
        _random = new Random(seed);
        InverseTemperature = MathF.Min(1f / temperature, float.MaxValue);
    }

    /// <summary>Whether τ can be sampled at: positive and finite (NaN is not).</summary>
    public static bool IsValidTemperature(float temperature) =>
        temperature > 0f && !float.IsPositiveInfinity(temperature);

    /// <summary><c>1/τ</c>, the factor every logit is multiplied by before drawing.</summary>
    public float InverseTemperature { get; }

    /// <summary>The next uniform in [0, 1) (single precision), one per drawn pixel.</summary>
    public float NextSingle() => _random.NextSingle();

    /// <summary>The next uniform in [0, 1) (double precision), e.g. to pick a mixture component.</summary>
    public double NextDouble() => _random.NextDouble();

    /// <summary>
    /// One stream per row, seeded by <paramref name="rowSeeds"/>, all at <paramref name="temperature"/>.
    /// </summary>
    public static SamplingStream[] ForRows(ReadOnlySpan<int> rowSeeds, float temperature = 1f)
    {
        var streams = new SamplingStream[rowSeeds.Length];
        for (int r = 0; r < streams.Length; r++) streams[r] = new SamplingStream(rowSeeds[r], temperature);
        return streams;
    }
}
