using System.Reflection;

namespace MLNetAr.Models;

/// <summary>
/// What the weights format knows of a model family: the kind name written to model files, and how to rebuild an
/// untrained model from its hyperparameters. Every concrete <see cref="DensityModel"/> declares one as
/// <c>public static readonly ModelKind Descriptor</c>; <see cref="All"/> finds them, so a new model registers itself.
/// </summary>
internal sealed record ModelKind(string Name, Func<BinaryReader, DensityModel> ReadHyperparameters)
{
    private static readonly Lazy<IReadOnlyDictionary<string, ModelKind>> Found = new(() =>
        typeof(DensityModel).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(DensityModel)) && !t.IsAbstract)
            .Select(DescriptorOf)
            .ToDictionary(kind => kind.Name));

    /// <summary>Every model kind of this build, by name.</summary>
    public static IReadOnlyDictionary<string, ModelKind> All => Found.Value;

    private static ModelKind DescriptorOf(Type model) =>
        model.GetField("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as ModelKind
        ?? throw new InvalidOperationException($"The density model {model.Name} declares no `public static readonly " +
            $"ModelKind Descriptor`.");
}
