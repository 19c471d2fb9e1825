using Mono.Cecil;


namespace MLNetAr.Tests.Repository;

/// <summary>
/// MLNetAr compiles against publicized ML.NET assemblies, so the compiler lets any file use an ML.NET internal. These
/// tests read the built MLNetAr.dll's IL and hold that only <c>src/MLNetAr/Interop</c> (namespace
/// <c>MLNetAr.Interop</c>) does: an ML.NET upgrade then touches that folder alone.
/// </summary>
public class MlNetInternalsBoundaryTests
{
    private const string InteropNamespace = "MLNetAr.Interop";

    [Fact]
    public void MlNetInternals_AreUsedOnlyInTheInteropFolder()
    {
        var uses = InternalUses().Where(use => use.Owner != InteropNamespace)
            .Select(use => $"{use.User} uses {use.Internal}").Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.True(uses.Length == 0, "ML.NET internals used outside src/MLNetAr/Interop:\n" + string.Join("\n", uses));
    }

    /// <summary>The scan finds what it looks for: the interop folder's own uses are seen (else the test above is
    /// vacuous).</summary>
    [Fact]
    public void TheScan_FindsTheInteropFoldersOwnUses()
    {
        string[] seen = InternalUses().Where(use => use.Owner == InteropNamespace).Select(use => use.Internal)
            .Distinct().ToArray();
        Assert.Contains(seen, name => name.Contains("ModelLoadContext", StringComparison.Ordinal));
        Assert.Contains(seen, name => name.Contains("OnnxContext", StringComparison.Ordinal));
        Assert.Contains(seen, name => name.Contains("CatalogUtils", StringComparison.Ordinal));
    }

    [Fact]
    public void AssemblyAttributesNamingMlNetInternals_AreInTheInteropFolder()
    {
        string root = LineLengthTests.RepositoryRoot();
        string src = Path.Combine(root, "src", "MLNetAr");
        var outside = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "Interop"))
            .Where(path => File.ReadLines(path).Any(line => line.TrimStart().StartsWith("[assembly: LoadableClass",
                StringComparison.Ordinal) || line.Contains("IgnoresAccessChecksTo", StringComparison.Ordinal)))
            .Select(path => Path.GetRelativePath(root, path)).ToArray();
        Assert.Empty(outside);
    }

    private sealed record InternalUse(string Owner, string User, string Internal);

    /// <summary>
    /// Every reference from MLNetAr's IL to a type or member that is not public in the real ML.NET assemblies beside
    /// the tests, with the namespace of the outermost type using it.
    /// </summary>
    private static List<InternalUse> InternalUses()
    {
        using var library = LibraryIl.Read();
        return LibraryIl.References(library)
            .Select(use => (use.User, Internal: FirstInternal(use.Reference)))
            .Where(use => use.Internal != null)
            .Select(use => new InternalUse(LibraryIl.Outermost(use.User).Namespace, use.User.FullName, use.Internal!))
            .ToList();
    }

    /// <summary>The first non-public ML.NET type or member <paramref name="reference"/> names, or null.</summary>
    private static string? FirstInternal(MemberReference reference)
    {
        switch (reference)
        {
            case GenericInstanceType generic:
                return FirstInternal(generic.ElementType)
                    ?? generic.GenericArguments.Select(FirstInternal).FirstOrDefault(name => name != null);
            case TypeSpecification specification: // arrays, by-refs, pointers
                return FirstInternal(specification.ElementType);
            case GenericParameter:
                return null;
            case TypeReference type:
                if (!IsMlNet(type.Scope)) return null;
                TypeDefinition definition = type.Resolve()
                    ?? throw new InvalidOperationException($"Cannot resolve {type.FullName}.");
                for (TypeDefinition? t = definition; t != null; t = t.DeclaringType)
                    if (!(t.IsPublic || t.IsNestedPublic || t.IsNestedFamily || t.IsNestedFamilyOrAssembly))
                        return definition.FullName;
                return null;
            case GenericInstanceMethod genericMethod:
                return FirstInternal(genericMethod.ElementMethod)
                    ?? genericMethod.GenericArguments.Select(FirstInternal).FirstOrDefault(name => name != null);
            case MethodReference method:
                if (FirstInternal(method.DeclaringType) != null) return method.FullName;
                if (!IsMlNet(method.DeclaringType.Scope)) return null;
                MethodDefinition methodDefinition = method.Resolve()
                    ?? throw new InvalidOperationException($"Cannot resolve {method.FullName}.");
                return methodDefinition.IsPublic || methodDefinition.IsFamily || methodDefinition.IsFamilyOrAssembly
                    ? null : methodDefinition.FullName;
            case FieldReference field:
                if (FirstInternal(field.DeclaringType) != null) return field.FullName;
                if (!IsMlNet(field.DeclaringType.Scope)) return null;
                FieldDefinition fieldDefinition = field.Resolve()
                    ?? throw new InvalidOperationException($"Cannot resolve {field.FullName}.");
                return fieldDefinition.IsPublic || fieldDefinition.IsFamily ? null : fieldDefinition.FullName;
            default:
                return null;
        }
    }

    private static bool IsMlNet(IMetadataScope scope) =>
        scope.Name.StartsWith("Microsoft.ML", StringComparison.Ordinal);
}
