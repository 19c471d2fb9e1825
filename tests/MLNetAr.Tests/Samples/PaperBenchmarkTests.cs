using System.Text.Json;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Samples;

/// <summary>
/// The <c>paper</c> benchmark end to end on a few digits: every recipe trains and lands in both tables.
/// </summary>
[Collection(ConsoleCollection.Name)]
public class PaperBenchmarkTests
{
    private static readonly string Digits = Path.Combine(AppContext.BaseDirectory, "data", "digits10k",
        "digits10k-images-idx3-ubyte.gz");

    private static (int ExitCode, string Output) Run(params string[] args) =>
        EntryPoint.Run(System.Reflection.Assembly.Load("MLNetAr.Benchmarks"), args);

    [Fact]
    public void Paper_SmallRun_WritesJsonAndMarkdownRowsForEachModel()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mlnetar-paper-{Guid.NewGuid():N}");
        try
        {
            var (exit, output) = Run("paper", "--model", "fvsbn,nade", "--rows", "200", "--max-epochs", "1",
                "--train", Digits, "--valid", Digits, "--test", Digits, "--out-dir", dir);

            Assert.True(exit == 0, output);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "paper.json")));
            var rows = json.RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(["fvsbn", "nade"], rows.Select(r => r.GetProperty("model").GetString()));
            foreach (var row in rows)
            {
                Assert.Equal(1, row.GetProperty("epochs").GetInt32());
                double validation = row.GetProperty("validation_nll").GetDouble(),
                    test = row.GetProperty("test_nll").GetDouble();
                Assert.InRange(validation, 20, 543); // finite and below the 784·ln 2 of a coin-flip model
                Assert.InRange(test, 20, 543);
            }
            string markdown = File.ReadAllText(Path.Combine(dir, "paper.md"));
            Assert.Contains("| FVSBN |", markdown);
            Assert.Contains("| NADE, H = 500, sigmoid |", markdown);
            Assert.Contains("97.45", markdown);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Paper_WithCheckpointDir_ABudgetBoundRunGoesOnWhereItStopped()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mlnetar-paper-{Guid.NewGuid():N}");
        try
        {
            // A budget of a few milliseconds stops each run after one epoch; the second run resumes the first.
            JsonElement[] RunOnce()
            {
                var (exit, output) = Run("paper", "--model", "fvsbn", "--rows", "200", "--max-epochs", "3",
                    "--budget-minutes", "0.00001", "--train", Digits, "--valid", Digits, "--out-dir", dir,
                    "--checkpoint-dir", Path.Combine(dir, "checkpoints"));
                Assert.True(exit == 0, output);
                using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "paper.json")));
                return json.RootElement.GetProperty("results")[0].GetProperty("curve").EnumerateArray()
                    .Select(e => e.Clone()).ToArray();
            }

            JsonElement[] first = RunOnce(), second = RunOnce();

            Assert.Single(first);
            Assert.Equal(2, second.Length);
            Assert.Equal(first[0].ToString(), second[0].ToString()); // epoch 1 comes from the checkpoint
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Paper_UnknownModel_IsAnErrorNamingTheKnownOnes()
    {
        var (exit, output) = Run("paper", "--model", "gan");

        Assert.Equal(2, exit);
        Assert.Contains("Unknown model 'gan'. Known: fvsbn, nade, made, made-ensemble, made-ensemble-plateau, " +
            "made-ensemble-adagrad, made-1x1000, pixelcnn, wavenet, pixellstm", output);
    }
}
