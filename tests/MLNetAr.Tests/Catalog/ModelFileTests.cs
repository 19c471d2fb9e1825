using System.IO.Compression;
using Microsoft.ML;
using MLNetAr.Models;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>Corrupt or foreign model files fail to load with a clear message.</summary>
public class ModelFileTests
{
    private static byte[] WeightsOf(DensityModel model)
    {
        using var stream = new MemoryStream();
        ModelSerializer.Write(model, stream);
        return stream.ToArray();
    }

    [Fact]
    public void Read_RoundTrip_RestoresEveryParameterExactly()
    {
        var model = Models.FvsbnTests.RandomModel(9, seed: 1);
        var copy = ModelSerializer.Read(new MemoryStream(WeightsOf(model)));
        Assert.Equal(model.Kind, copy.Kind);
        for (int i = 0; i < model.Parameters.Count; i++)
            Assert.Equal(model.Parameters[i].Value, copy.Parameters[i].Value);
    }

    [Fact]
    public void Read_FlippedByte_FailsChecksum()
    {
        byte[] bytes = WeightsOf(Models.FvsbnTests.RandomModel(9, seed: 1));
        bytes[bytes.Length / 2] ^= 0x10;
        var e = Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(bytes)));
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void Read_Truncated_Fails()
    {
        byte[] bytes = WeightsOf(Models.FvsbnTests.RandomModel(9, seed: 1));
        Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(bytes[..(bytes.Length - 40)])));
        Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(bytes[..10])));
    }

    [Fact]
    public void Load_ZipWithCorruptWeights_FailsWithClearMessage()
    {
        var ml = new MLContext(1);
        var model = FvsbnCatalogTests.FitSmall(ml, rows: 50, epochs: 1);
        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-corrupt-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, null, path);
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
            {
                var entry = zip.Entries.Single(e => e.FullName.EndsWith("Weights.bin", StringComparison.Ordinal));
                byte[] bytes;
                using (var s = entry.Open()) { using var m = new MemoryStream(); s.CopyTo(m); bytes = m.ToArray(); }
                bytes[bytes.Length / 3] ^= 0xFF;
                entry.Delete();
                using var replaced = zip.CreateEntry(entry.FullName).Open();
                replaced.Write(bytes);
            }
            var e = Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _));
            Assert.Contains("checksum", e.GetBaseException().Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public class ModelFormatTests
{
    [Fact]
    public void Load_WeightsOfAnotherModelKindUnderTheSameEntry_FailsNamingBoth()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 60).ToDataView(ml);
        string nade = Path.Combine(Path.GetTempPath(), $"mlnetar-nade-{Guid.NewGuid():N}.zip");
        string fvsbn = Path.Combine(Path.GetTempPath(), $"mlnetar-fvsbn-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(ml.Transforms.NadeDensity(hiddenSize: 5, maximumNumberOfEpochs: 1, seed: 1).Fit(data), null,
                nade);
            ml.Model.Save(ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1, seed: 1).Fit(data), null, fvsbn);
            byte[] foreignWeights;
            using (var source = ZipFile.OpenRead(fvsbn))
            using (var stream = source.Entries.Single(e =>
                e.FullName.EndsWith("Weights.bin", StringComparison.Ordinal)).Open())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                foreignWeights = copy.ToArray();
            }
            using (var target = ZipFile.Open(nade, ZipArchiveMode.Update))
            {
                var entry = target.Entries.Single(e => e.FullName.EndsWith("Weights.bin", StringComparison.Ordinal));
                string name = entry.FullName;
                entry.Delete();
                using var replaced = target.CreateEntry(name).Open();
                replaced.Write(foreignWeights);
            }
            var e = Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(nade, out _));
            Assert.Contains("the model entry is a NADE but its Weights.bin holds a FVSBN",
                e.GetBaseException().Message);
        }
        finally
        {
            File.Delete(nade);
            File.Delete(fvsbn);
        }
    }

    private static byte[] Weights(Action<BinaryWriter> write)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true)) write(writer);
        byte[] bytes = payload.ToArray();
        // a valid checksum: only the content is wrong
        return [.. bytes, .. System.Security.Cryptography.SHA256.HashData(bytes)];
    }

    [Fact]
    public void Read_NewerFormatVersion_SaysToUpgrade()
    {
        byte[] bytes = Weights(w =>
            { w.Write("MLNARW"); w.Write(ModelSerializer.FormatVersion + 1); w.Write("FVSBN"); w.Write(3); });
        var e = Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(bytes)));
        Assert.Contains($"format version {ModelSerializer.FormatVersion + 1}", e.Message);
        Assert.Contains("Upgrade MLNetAr", e.Message);
    }

    [Fact]
    public void Read_UnknownKindOrWrongLengths_FailClearly()
    {
        var unknown = Weights(w => { w.Write("MLNARW"); w.Write(1); w.Write("PIXELGAN"); });
        Assert.Contains("Unknown MLNetAr model kind 'PIXELGAN'",
            Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(unknown))).Message);

        // An FVSBN over 3 pixels whose weight tensor claims 4 values.
        var wrongLength = Weights(w =>
        {
            w.Write("MLNARW"); w.Write(1); w.Write("FVSBN"); w.Write(3); w.Write(2);
            w.Write("WeightsTransposed"); w.Write(4); for (int i = 0; i < 4; i++) w.Write(0f);
        });
        var e = Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(wrongLength)));
        Assert.Contains("expects parameter 'WeightsTransposed' of length 9", e.Message);

        // The weights of another model kind under this kind's name.
        var foreign = Weights(w =>
        {
            w.Write("MLNARW"); w.Write(1); w.Write("NADE"); w.Write(3); w.Write(2); w.Write(0); w.Write(0); w.Write(
                1); w.Write(2); w.Write(2);
            w.Write("WeightsTransposed"); w.Write(9); for (int i = 0; i < 9; i++) w.Write(0f);
        });
        Assert.Contains("expects 4 parameter tensors",
            Assert.Throws<InvalidDataException>(() => ModelSerializer.Read(new MemoryStream(foreign))).Message);
    }
}
