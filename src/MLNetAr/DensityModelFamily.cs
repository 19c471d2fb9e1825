namespace MLNetAr;

/// <summary>
/// One model family as the tools see it (benchmarks, tests, documentation): its command-line name, its model kind in
/// model files, and its options with their defaults. Every estimator declares one as
/// <c>internal static readonly DensityModelFamily Family</c>, listed in <see cref="All"/> (a test checks none is
/// missing).
/// </summary>
/// <param name="Name">Command-line name, e.g. <c>fvsbn</c>.</param>
/// <param name="Kind">The model kind written to model files (<see cref="Models.ModelKind"/>).</param>
/// <param name="CreateOptions">New options with the family's defaults.</param>
internal sealed record DensityModelFamily(string Name, string Kind, Func<AutoregressiveDensityOptions> CreateOptions)
{
    // One explicit list, so that the compiler sees every family (a reflection scan only failed at run time).
    private static readonly Lazy<IReadOnlyList<DensityModelFamily>> Listed = new(() =>
        new[]
        {
            FvsbnDensityEstimator.Family, NadeDensityEstimator.Family, MadeDensityEstimator.Family,
            PixelCnnDensityEstimator.Family, WaveNetDensityEstimator.Family, PixelRnnDensityEstimator.Family,
        }.OrderBy(f => f.Name, StringComparer.Ordinal).ToArray());

    /// <summary>Every model family of this build, by name.</summary>
    public static IReadOnlyList<DensityModelFamily> All => Listed.Value;

    /// <summary>The family called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No family has that name; the message lists them.</exception>
    public static DensityModelFamily Find(string name) =>
        All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", All.Select(f => f.Name))}.",
            nameof(name));
}
