using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr;
using MLNetAr.Pretrained;

namespace MLNetAr.PackageTests;

/// <summary>
/// The pretrained models as a package consumer gets them: MLNetAr.Models.BinarizedMnist copies them into this
/// project's output folder, and <see cref="PretrainedModels"/> loads them from there by name.
/// </summary>
public class PretrainedPackageTests
{
    [Fact]
    public void TheModels_AreCopiedIntoTheOutputFolder_AndMatchTheirManifest()
    {
        string folder = PretrainedModels.DefaultFolder;
        // From the package's content files, not from a clone of the repository above the working directory.
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, PretrainedModels.BinarizedMnistFolder),
            Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        IReadOnlyList<PretrainedModels.Entry> entries = PretrainedModels.ReadManifest(folder);
        Assert.Contains(entries, e => e.Name == "pixelcnn");
        Assert.True(entries.Count >= 4, string.Join(", ", entries.Select(e => e.Name)));
        Assert.All(entries, e => Assert.True(File.Exists(PretrainedModels.Verify(folder, e)), e.Name));
    }

    [Fact]
    public void EachModel_LoadsByName_SamplesDigits_AndScoresThem()
    {
        var ml = new MLContext(seed: 1);
        foreach (PretrainedModels.Entry entry in PretrainedModels.ReadManifest(PretrainedModels.DefaultFolder))
        {
            ITransformer model = PretrainedModels.Load(ml, entry.Name, out DataViewSchema inputSchema);
            Assert.Equal(784, ((VectorDataViewType)inputSchema["Pixels"].Type).Size);
            var density = Assert.IsType<AutoregressiveDensityTransformer>(model);
            float[][] samples = density.Sample(count: 2, seed: 1);
            Assert.All(samples, s => Assert.All(s, v => Assert.True(v == 0f || v == 1f)));

            float[] logLikelihood = model.Transform(Pixels(ml, samples)).GetColumn<float>("LogLikelihood").ToArray();
            Assert.All(logLikelihood, ll => Assert.InRange(ll, -400f, -10f));
        }
    }

    [SkippableFact]
    public void EachModel_ScoresItsManifestsNll_OnTheFirstValidationImages()
    {
        string? valid = SharedFile("binarized-mnist-valid-idx3-ubyte.gz");
        Skip.If(valid == null, "../shared/data/binarized-mnist-valid-idx3-ubyte.gz is not beside the repository.");
        var ml = new MLContext(seed: 1);
        foreach (PretrainedModels.Entry entry in PretrainedModels.ReadManifest(PretrainedModels.DefaultFolder))
        {
            ITransformer model = PretrainedModels.Load(ml, entry.Name, out _);
            IDataView images = Pixels(ml, ReadIdx(valid!, entry.CheckImages));
            double nll = -model.Transform(images).GetColumn<float>("LogLikelihood").Average(v => (double)v);
            Assert.True(Math.Abs(entry.CheckNll - nll) < 5e-4, $"{entry.Name}: {nll:F4} against {entry.CheckNll}");
        }
    }

    [Fact]
    public void AnAlteredModelFile_IsRefused_WithItsNameAndHowToReproduceIt()
    {
        string source = PretrainedModels.DefaultFolder;
        PretrainedModels.Entry entry = PretrainedModels.Find(source, "fvsbn");
        string folder = Directory.CreateTempSubdirectory("mlnetar-altered-").FullName;
        try
        {
            File.Copy(Path.Combine(source, PretrainedModels.ManifestFileName),
                Path.Combine(folder, PretrainedModels.ManifestFileName));
            byte[] bytes = File.ReadAllBytes(Path.Combine(source, entry.File));
            bytes[bytes.Length / 2] ^= 1;
            File.WriteAllBytes(Path.Combine(folder, entry.File), bytes);
            var error = Assert.Throws<InvalidDataException>(() =>
                PretrainedModels.Load(new MLContext(), "fvsbn", folder, out _));
            Assert.Contains("fvsbn.zip", error.Message, StringComparison.Ordinal);
            Assert.Contains(entry.Reproduce, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class Digit
    {
        [VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    private static IDataView Pixels(MLContext ml, IEnumerable<float[]> images) =>
        ml.Data.LoadFromEnumerable(images.Select(p => new Digit { Pixels = p }).ToArray());

    /// <summary>The first <paramref name="count"/> images of a gzipped IDX file of 28×28 binary (0/1) pixels.</summary>
    private static List<float[]> ReadIdx(string path, int count)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new BinaryReader(gzip);
        reader.ReadBytes(16); // magic, count, rows, columns
        return Enumerable.Range(0, count).Select(_ => reader.ReadBytes(784).Select(b => (float)b).ToArray()).ToList();
    }

    private static string? SharedFile(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "data", file);
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }
}
