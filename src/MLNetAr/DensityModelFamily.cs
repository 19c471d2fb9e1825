using System.Reflection;

namespace MLNetAr;

/// <summary>
/// One model family as the tools see it (benchmarks, tests, documentation): its command-line name, its model kind in
/// model files, and its options with their defaults. Every estimator declares one as
/// <c>internal static readonly DensityModelFamily Family</c>; <see cref="All"/> finds them, so a new model is one model
/// file and one estimator file.
/// </summary>
/// <param name="Name">Command-line name, e.g. <c>fvsbn</c>.</param>
/// <param name="Kind">The model kind written to model files (<see cref="Models.ModelKind"/>).</param>
/// <param name="CreateOptions">New options with the family's defaults.</param>
internal sealed record DensityModelFamily(string Name, string Kind, Func<AutoregressiveDensityOptions> CreateOptions)
{
    private static readonly Lazy<IReadOnlyList<DensityModelFamily>> Found = new(() =>
        typeof(DensityModelFamily).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.BaseType is { IsGenericType: true } b
                && b.GetGenericTypeDefinition() == typeof(AutoregressiveDensityEstimator<>))
            .Select(t => t.GetField("Family", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)
                ?.GetValue(null) as DensityModelFamily
                ?? throw new InvalidOperationException($"{t.Name} declares no `internal static readonly " +
                    $"DensityModelFamily Family`."))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToArray());

    /// <summary>Every model family of this build, by name.</summary>
    public static IReadOnlyList<DensityModelFamily> All => Found.Value;

    /// <summary>The family called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No family has that name; the message lists them.</exception>
    public static DensityModelFamily Find(string name) =>
        All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", All.Select(f => f.Name))}.",
            nameof(name));
}
