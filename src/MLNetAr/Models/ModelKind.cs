namespace MLNetAr.Models;

/// <summary>
/// What the weights format knows of a model family: the kind name written to model files, and how to rebuild an
/// untrained model from its hyperparameters (given the weights format version they were written in). Every concrete
/// <see cref="DensityModel"/> declares one as <c>public static readonly ModelKind Descriptor</c>, listed in
/// <see cref="All"/> (a test checks none is missing).
/// </summary>
internal sealed record ModelKind(string Name, Func<BinaryReader, int, DensityModel> ReadHyperparameters)
{
    // One explicit list, so that the compiler sees every family (a reflection scan only failed at run time).
    private static readonly Lazy<IReadOnlyDictionary<string, ModelKind>> Listed = new(() =>
        new[]
        {
            Fvsbn.Descriptor, Nade.Descriptor, Made.Descriptor, PixelCnn.Descriptor, WaveNet.Descriptor,
            PixelRnn.Descriptor,
        }.ToDictionary(kind => kind.Name));

    /// <summary>Every model kind of this build, by name.</summary>
    public static IReadOnlyDictionary<string, ModelKind> All => Listed.Value;
}
