using System.Security.Cryptography;
using MLNetAr.Nn;

namespace MLNetAr.Models;

/// <summary>
/// Binary format of a <see cref="DensityModel"/> inside a saved ML.NET model ("Weights.bin"):
/// <c>magic "MLNARW", format version, kind, hyperparameters, then each parameter (name, length, float32 values LE),
/// then a SHA-256 of everything before it</c>.
/// </summary>
/// <remarks>
/// Format history: version 1 — first format. Version 2 — every model writes its mixture components (0: no mixture
/// head) after its other hyperparameters, FVSBN, NADE and MADE their number of pixel levels before them (version 1
/// files hold binary models of those three, and no mixture heads).
/// Loading checks the magic, version, kind, every name and length against the model the hyperparameters describe,
/// that every value is finite, and the checksum, so a corrupt or foreign file fails with a message instead of
/// producing a silently wrong model.
/// </remarks>
internal static class ModelSerializer
{
    private const string Magic = "MLNARW";
    public const int FormatVersion = 2;

    /// <summary>
    /// The first format in which FVSBN, NADE and MADE write their number of pixel levels, and every model its mixture
    /// components.
    /// </summary>
    public const int FormatWithLevels = 2;

    /// <summary>Model kinds this build can load.</summary>
    public static IEnumerable<string> KnownKinds => ModelKind.All.Keys.Order(StringComparer.Ordinal);

    public static void Write(DensityModel model, Stream stream)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(model.Kind);
            model.WriteHyperparameters(writer);
            writer.Write(model.Parameters.Count);
            foreach (Parameter p in model.Parameters)
            {
                writer.Write(p.Name);
                writer.Write(p.Length);
                foreach (float v in p.Value) writer.Write(v);
            }
        }
        byte[] payload = buffer.ToArray();
        stream.Write(payload);
        stream.Write(SHA256.HashData(payload));
    }

    /// <exception cref="InvalidDataException">The stream is not a valid MLNetAr weights stream.</exception>
    public static DensityModel Read(Stream stream)
    {
        byte[] all;
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            all = copy.ToArray();
        }
        const int hashLength = 32;
        if (all.Length < hashLength + Magic.Length)
            throw new InvalidDataException($"The MLNetAr weights stream is truncated ({all.Length} bytes).");
        var payload = all.AsSpan(0, all.Length - hashLength);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(all.AsSpan(all.Length - hashLength)))
            throw new InvalidDataException("The MLNetAr weights stream is corrupt: its SHA-256 checksum does not " +
                "match its contents.");

        using var reader = new BinaryReader(new MemoryStream(all, 0, payload.Length), System.Text.Encoding.UTF8);
        try
        {
            if (reader.ReadString() != Magic)
                throw new InvalidDataException("The stream is not an MLNetAr weights stream (bad magic).");
            int version = reader.ReadInt32();
            if (version > FormatVersion || version < 1)
                throw new InvalidDataException($"The MLNetAr weights stream has format version {version}; this build " +
                    $"reads versions 1 to {FormatVersion}. Upgrade MLNetAr to load it.");
            string kind = reader.ReadString();
            if (!ModelKind.All.TryGetValue(kind, out ModelKind? family))
                throw new InvalidDataException($"Unknown MLNetAr model kind '{kind}'; this build knows " +
                    $"{string.Join(", ", KnownKinds)}.");
            DensityModel model = family.ReadHyperparameters(reader, version);
            int count = reader.ReadInt32();
            if (count != model.Parameters.Count)
                throw new InvalidDataException($"{kind} model expects {model.Parameters.Count} parameter tensors, " +
                    $"the stream has {count}.");
            foreach (Parameter p in model.Parameters)
            {
                string name = reader.ReadString();
                int length = reader.ReadInt32();
                if (name != p.Name || length != p.Length)
                    throw new InvalidDataException($"{kind} model expects parameter '{p.Name}' of length {p.Length}, " +
                        $"the stream has '{name}' of length {length}.");
                for (int i = 0; i < length; i++)
                {
                    float v = reader.ReadSingle();
                    if (!float.IsFinite(v))
                        throw new InvalidDataException($"Parameter '{name}' holds a non-finite value at index {i}.");
                    p.Value[i] = v;
                }
            }
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new InvalidDataException("The MLNetAr weights stream has trailing bytes after the last " +
                    "parameter.");
            model.EndTraining();
            return model;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The MLNetAr weights stream is truncated.", e);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException("The MLNetAr weights stream holds an invalid hyperparameter: " + e.Message,
                e);
        }
    }
}
