using System.Globalization;
using System.Text.Json;
using MLNetAr.Data;
using MLNetAr.Pretrained;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Samples;

/// <summary>
/// <c>paper --save-dir</c> writes loadable models with a manifest, and the <c>generation</c> command judges any saved
/// model beside the real digits.
/// </summary>
[Collection(ConsoleCollection.Name)]
public class GenerationBenchmarkTests
{
    private static readonly string Digits = Path.Combine(AppContext.BaseDirectory, "data", "digits10k",
        "digits10k-images-idx3-ubyte.gz");

    private static (int ExitCode, string Output) Run(params string[] args) =>
        EntryPoint.Run(System.Reflection.Assembly.Load("MLNetAr.Benchmarks"), args);

    /// <summary>
    /// Trains <paramref name="model"/>'s paper recipe on a few digits and saves it into a new folder.
    /// </summary>
    private static string PaperSaved(string model, int rows)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mlnetar-generation-{Guid.NewGuid():N}");
        var (exit, output) = Run("paper", "--model", model, "--rows", rows.ToString(CultureInfo.InvariantCulture),
            "--max-epochs", "2", "--train", Digits, "--valid", Digits, "--out-dir", dir, "--save-dir", dir);
        Assert.True(exit == 0, output);
        return dir;
    }

    private static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output[output.IndexOf("\n{", StringComparison.Ordinal)..]).RootElement;

    [Fact]
    public void PaperSaveDir_ThenGeneration_JudgesTheSavedModelBesideRealDigits()
    {
        string dir = PaperSaved("fvsbn", rows: 300);
        try
        {
            PretrainedModels.Entry entry = Assert.Single(PretrainedModels.ReadManifest(dir));
            Assert.Equal("fvsbn", entry.Name);
            Assert.Equal(PretrainedModels.Sha256(Path.Combine(dir, "fvsbn.zip")), entry.Sha256);
            Assert.Equal(2, entry.Epochs);
            Assert.Equal(60, entry.ValidationImages);
            Assert.Contains("--save-dir", entry.Command, StringComparison.Ordinal);
            Assert.Contains("paper --model fvsbn --max-epochs 2", entry.Reproduce, StringComparison.Ordinal);
            Assert.InRange(entry.ValidationNll, 20, 543);

            var (exit, output) = Run("generation", "--model", Path.Combine(dir, "fvsbn.zip"), "--samples", "40",
                "--grid", Path.Combine(dir, "grid.png"));
            Assert.True(exit == 0, output);
            JsonElement report = LastJson(output);
            Assert.False(report.GetProperty("tempered").GetBoolean());
            JsonElement generated = report.GetProperty("generated"), real = report.GetProperty("real");
            Assert.Equal(40, generated.GetProperty("count").GetInt32());
            Assert.Equal(40, real.GetProperty("count").GetInt32());
            Assert.InRange(real.GetProperty("confident").GetDouble(), 0.9, 1);
            Assert.InRange(generated.GetProperty("inception_score").GetDouble(), 1, 10);
            Assert.True(generated.GetProperty("frechet_distance").GetDouble() >
                real.GetProperty("frechet_distance").GetDouble());
            Assert.True(File.Exists(Path.Combine(dir, "grid.png")));

            (exit, output) = Run("generation", "--model", Path.Combine(dir, "fvsbn.zip"), "--samples", "20",
                "--temperature", "0.5", "--real", "threshold");
            Assert.True(exit == 0, output);
            report = LastJson(output);
            Assert.True(report.GetProperty("tempered").GetBoolean());
            Assert.Contains("tempered, τ = 0.5", output, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SamplerCheck_PassesAtTemperatureOne_AndCatchesASamplerThatIsNotTheDensity()
    {
        string dir = PaperSaved("nade", rows: 400);
        try
        {
            (double Difference, double Error) Check(string temperature)
            {
                var (exit, output) = Run("generation", "--model", Path.Combine(dir, "nade.zip"), "--samples", "400",
                    "--temperature", temperature, "--diagnose");
                Assert.True(exit == 0, output);
                JsonElement check = LastJson(output).GetProperty("sampler_check");
                Assert.True(check.GetProperty("real_digits_nll").GetDouble() > 0);
                return (check.GetProperty("difference").GetDouble(),
                    check.GetProperty("difference_standard_error").GetDouble());
            }
            var exact = Check("1");
            Assert.True(Math.Abs(exact.Difference) < 4 * exact.Error, $"{exact.Difference} ± {exact.Error}");
            // Sharpened draws are likelier than the model's own: −log p falls below the conditionals' entropy.
            var tempered = Check("0.6");
            Assert.True(tempered.Difference < -4 * tempered.Error, $"{tempered.Difference} ± {tempered.Error}");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--temperature", "0", "--temperature must be a positive number")]
    [InlineData("--temperature", "NaN", "--temperature must be a positive number")]
    [InlineData("--real", "grey", "--real must be bernoulli or threshold")]
    [InlineData("--model", "no-such-model", "no-such-model")]
    public void Generation_BadArguments_AreErrorsNamingTheOption(string option, string value, string message)
    {
        string[] args = option == "--model" ? ["generation", option, value]
            : ["generation", "--model", "fvsbn", option, value];
        var (exit, output) = Run(args);
        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }
}
