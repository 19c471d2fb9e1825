using Mono.Cecil;

namespace MLNetAr.Tests.Repository;

/// <summary>
/// MLNetAr's namespaces depend one way, lower layers never on higher ones (the README's layout section):
/// <c>Kernels → Onnx → Nn → Nn.Layers → Models → Interop → Internal → Training, Scoring → MLNetAr</c>.
/// </summary>
public class LayeringTests
{
    /// <summary>The layers, lowest first: a namespace may use those of lower layers, none of its own.</summary>
    private static readonly string[][] Layers =
    [
        ["MLNetAr.Kernels"],
        ["MLNetAr.Onnx"],
        ["MLNetAr.Nn", "MLNetAr.Nn.Masks", "MLNetAr.Nn.Distributions"],
        ["MLNetAr.Nn.Layers"],
        ["MLNetAr.Models"],
        // ML.NET's internals, behind MLNetAr's own descriptions (Onnx's recorded graphs, a saved entry's format).
        ["MLNetAr.Interop"],
        ["MLNetAr.Internal"],
        ["MLNetAr.Training", "MLNetAr.Scoring"],
        // The public surface: estimators, transformers, the catalog (in namespace Microsoft.ML, as ML.NET's own) and
        // the anomaly score's corrections; one layer.
        ["MLNetAr", "MLNetAr.Anomaly", "Microsoft.ML"],
    ];

    [Fact]
    public void Namespaces_DependOnlyOnLowerLayers()
    {
        using var library = LibraryIl.Read();
        var layerOf = Layers.SelectMany((names, layer) => names.Select(name => (name, layer)))
            .ToDictionary(p => p.name, p => p.layer);
        var namespaces = library.GetTypes().Select(t => LibraryIl.Outermost(t).Namespace)
            .Where(ns => ns.Length > 0 && !ns.StartsWith("System", StringComparison.Ordinal)).Distinct().ToArray();
        Assert.All(namespaces, ns => Assert.True(layerOf.ContainsKey(ns), $"Namespace {ns} has no layer here."));

        var uses = LibraryIl.References(library)
            .SelectMany(use => LibraryIl.TypesNamed(use.Reference).Select(type => (use.User, Used: type)))
            .Where(use => use.Used.Scope == library || use.Used.Scope.Name == library.Name)
            .Select(use => (User: LibraryIl.Outermost(use.User), Used: LibraryIl.Outermost(use.Used)))
            .ToArray();
        // The scan sees the dependencies it should (else the check below would hold vacuously).
        bool Seen(string from, string to) => uses.Any(use => use.User.Namespace == from && use.Used.Namespace == to);
        Assert.True(Seen("MLNetAr.Models", "MLNetAr.Kernels"));
        Assert.True(Seen("MLNetAr.Scoring", "MLNetAr.Interop"));

        var upward = uses
            .Where(use => layerOf.TryGetValue(use.User.Namespace, out int from)
                && layerOf.TryGetValue(use.Used.Namespace, out int to)
                && use.User.Namespace != use.Used.Namespace
                && (to > from || (to == from && from != Layers.Length - 1)))
            .Select(use => $"{use.User.FullName} ({use.User.Namespace}) uses {use.Used.FullName}")
            .Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.True(upward.Length == 0, "Upward or sideways dependencies:\n" + string.Join("\n", upward));
    }
}
