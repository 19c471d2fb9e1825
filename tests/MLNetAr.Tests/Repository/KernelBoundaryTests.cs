namespace MLNetAr.Tests.Repository;

/// <summary>SIMD lives in <c>src/MLNetAr/Kernels</c>, where every kernel has a scalar-reference test.</summary>
public class KernelBoundaryTests
{
    [Fact]
    public void HardwareIntrinsics_AreUsedOnlyInKernels()
    {
        string root = LineLengthTests.RepositoryRoot();
        string src = Path.Combine(root, "src");
        var outside = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Select(path => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(path => !path.StartsWith("src/MLNetAr/Kernels/", StringComparison.Ordinal))
            .Where(path => File.ReadAllText(Path.Combine(root, path)).Contains("System.Runtime.Intrinsics",
                StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Empty(outside);
    }
}
