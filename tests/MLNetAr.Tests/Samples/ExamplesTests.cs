using System.Globalization;
using System.Text.RegularExpressions;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Samples;

/// <summary>
/// Every runnable example of <c>samples/MLNetAr.Examples</c> runs and shows what its documentation says.
/// </summary>
[Collection(ConsoleCollection.Name)]
public class ExamplesTests
{
    public static TheoryData<string> Names => [.. MLNetAr.Examples.Program.All.Keys];

    /// <summary>What each example must print: a pattern, and a check of the numbers it captures.</summary>
    private static (string Pattern, Func<double[], bool> Holds) Expectation(string name) => name switch
    {
        "FvsbnDensity" => (@"log p\(digit \d\) = (-[\d.]+) nats, log p\(its pixels shuffled\) = (-[\d.]+) nats", v =>
            v[0] > v[1] + 50),
        "NadeDensity" => (@"accuracy ([\d.]+) %", v => v[0] > 70),
        "MadeDensity" => (@"one mask (-[\d.]+) nats, ensemble of 4 masks (-[\d.]+) nats", v =>
            v[0] > -300 && v[1] > -300),
        "PixelCnnDensity" =>
            (@"(\d+) of 20 samples are one bar[\s\S]*?(\d+) of 20 completions are one bar", v =>
            v[0] >= 15 && v[1] >= 15),
        "PixelRnnDensity" => (@"mean test NLL ([\d.]+) nats, (\d+) hidden features", v => v[0] < 400 && v[1] == 32),
        "WaveNetDensity" => (@"mean test NLL ([\d.]+) nats, (\d+) hidden features", v => v[0] < 400 && v[1] > 0),
        "AutoregressiveDensity" => (@"AUC ([\d.]+)", v => v[0] > 0.9),
        "ChangeModelThreshold" => (@": (\d+) of 300 flagged; threshold [\d.]+: (\d+) flagged", v => v[1] < v[0]),
        "ImageColumn" => (@"first three files: (-[\d.]+), (-[\d.]+), (-[\d.]+) nats", v => v.All(x => x < 0)),
        "SaveAtomically" => (@"saved (\d+) KB; the loaded model scores the same: True; files in the folder: (\d+)",
            v => v[0] > 100 && v[1] == 1),
        _ => throw new ArgumentException($"No expectation for example '{name}'."),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Example_RunsAndPrintsWhatItsDocumentationSays(string name)
    {
        var (exit, output) = EntryPoint.Run(typeof(MLNetAr.Examples.Program).Assembly, name);

        Assert.Equal(0, exit);
        var (pattern, holds) = Expectation(name);
        Match match = Regex.Match(output, pattern);
        Assert.True(match.Success, $"'{name}' printed:\n{output}");
        double[] values = match.Groups.Values.Skip(1).Select(g =>
            double.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(holds(values), $"'{name}' printed:\n{output}");
    }

    [Fact]
    public void EveryPublicCatalogMethod_HasAnExample()
    {
        string[] entryPoints = typeof(Microsoft.ML.AutoregressiveCatalog)
            .GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(m => m.Name).Distinct().ToArray();
        Assert.True(entryPoints.Length >= 9, string.Join(", ", entryPoints));
        Assert.All(entryPoints, name => Assert.Contains(name, MLNetAr.Examples.Program.All.Keys));
    }

    [Fact]
    public void UnknownExample_IsAnErrorListingTheKnownOnes()
    {
        var (exit, output) = EntryPoint.Run(typeof(MLNetAr.Examples.Program).Assembly, "Fvsbn");

        Assert.Equal(2, exit);
        Assert.Contains("Unknown example 'Fvsbn'. Known: FvsbnDensity, NadeDensity", output);
    }
}
