using MLNetAr.Demo;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Samples;

/// <summary>The main job's command line: --help works, a misspelt option is an error that shows the usage.</summary>
[Collection(ConsoleCollection.Name)]
public class DemoCommandLineTests
{
    private static (int ExitCode, string Output) Run(params string[] args) =>
        EntryPoint.Run(typeof(DigitsReport).Assembly, args);

    [Fact]
    public void Help_ListsEveryOption()
    {
        var (exit, output) = Run("--help");

        Assert.Equal(0, exit);
        foreach (string option in new[] { "--out", "--quick", "--train-images", "--score-images", "--model", "--size",
            "--epochs", "--levels" })
            Assert.Contains(option, output);
    }

    [Fact]
    public void MisspeltOption_IsAnErrorWithUsageAndASuggestion()
    {
        var (exit, output) = Run("--quik");

        Assert.NotEqual(0, exit);
        Assert.Contains("'--quik' was not matched", output);
        Assert.Contains("--quick", output);
        Assert.Contains("Usage:", output);
    }

    [Fact]
    public void ImagesWithoutModel_IsAnError()
    {
        var (exit, output) = Run("--train-images", Path.GetTempPath());

        Assert.Equal(2, exit);
        Assert.Contains("need --model PATH", output);
    }
}

/// <summary>Tests that redirect the process's console run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
