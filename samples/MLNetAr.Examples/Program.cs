namespace MLNetAr.Examples;

/// <summary>
/// One runnable example per public API, as ML.NET's documentation samples: <c>dotnet run --project
/// samples/MLNetAr.Examples -- [name ...]</c> runs the named examples (all when none is named).
/// </summary>
public static class Program
{
    /// <summary>Every example, by the API it shows.</summary>
    public static readonly IReadOnlyDictionary<string, Action> All = new Dictionary<string, Action>
    {
        ["FvsbnDensity"] = FvsbnDensity.Example,
        ["NadeDensity"] = NadeDensity.Example,
        ["MadeDensity"] = MadeDensity.Example,
        ["PixelCnnDensity"] = PixelCnnDensity.Example,
        ["PixelRnnDensity"] = PixelRnnDensity.Example,
        ["WaveNetDensity"] = WaveNetDensity.Example,
        ["AutoregressiveDensity"] = AutoregressiveDensity.Example,
        ["ChangeModelThreshold"] = ChangeModelThreshold.Example,
        ["ImageColumn"] = ImageColumn.Example,
        ["SaveAtomically"] = SaveAtomically.Example,
    };

    public static int Main(string[] args)
    {
        foreach (string name in args.Where(a => !All.ContainsKey(a)))
        {
            Console.Error.WriteLine($"Unknown example '{name}'. Known: {string.Join(", ", All.Keys)}.");
            return 2;
        }
        foreach (var (name, example) in All.Where(e => args.Length == 0 || args.Contains(e.Key)))
        {
            Console.WriteLine($"== {name}");
            example();
        }
        return 0;
    }
}
