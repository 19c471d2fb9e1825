using System.Text.RegularExpressions;

namespace MLNetAr.Tests.Repository;

/// <summary>
/// The <c>max_line_length</c> of <c>.editorconfig</c> holds for every C# file of the repository: <c>dotnet format</c>
/// does not enforce it, so this test does.
/// </summary>
public class LineLengthTests
{
    [Fact]
    public void EveryCSharpLine_FitsTheEditorConfigLimit()
    {
        string root = RepositoryRoot();
        Match limitSetting = Regex.Match(File.ReadAllText(Path.Combine(root, ".editorconfig")),
            @"^max_line_length\s*=\s*(\d+)", RegexOptions.Multiline);
        Assert.True(limitSetting.Success, ".editorconfig sets no max_line_length");
        int limit = int.Parse(limitSetting.Groups[1].Value);

        var files = new[] { "src", "tests", "samples", "tools" }
            .SelectMany(folder =>
                Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .ToList();
        var tooLong = files
            .SelectMany(path => File.ReadLines(path).Select((line, index) => (path, index, line)))
            .Where(entry => entry.line.Length > limit)
            .Select(entry => $"{Path.GetRelativePath(root, entry.path)}:{entry.index + 1} ({entry.line.Length})")
            .ToList();

        Assert.True(files.Count > 100, $"found only {files.Count} C# files under {root}");
        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} lines exceed {limit} characters:\n" + string.Join("\n", tooLong));
    }

    /// <summary>The nearest folder above the test binaries that holds <c>MLNetAr.sln</c>.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLNetAr.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"No MLNetAr.sln above {AppContext.BaseDirectory}.");
    }
}
