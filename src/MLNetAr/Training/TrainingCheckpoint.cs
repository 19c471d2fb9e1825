using System.Security.Cryptography;
using MLNetAr.Models;
using MLNetAr.Nn;

namespace MLNetAr.Training;

/// <summary>Where and how often training writes its state.</summary>
internal sealed record CheckpointSettings(string Path, int EveryEpochs);

/// <summary>Everything the training loop needs to continue exactly where it stopped.</summary>
internal sealed class TrainingState
{
    public int Epoch;                 // epochs completed
    public int EpochsSinceBest;
    public double BestScore = double.PositiveInfinity;
    public bool Finished;
    public float[][] Best = [];
    public List<TrainedEpoch> History = [];
    public float PlateauRate;          // reduce-on-plateau's current learning rate
    public int EpochsWithoutImprovement;
}

/// <summary>
/// Training checkpoints: <c>magic "MLNARC", version, run fingerprint, state, parameters, optimiser state, SHA-256</c>,
/// written atomically (temporary file + rename). The fingerprint (model kind, shapes, rows and every training setting
/// that changes the result) must match the resuming run: a checkpoint of another run is refused, never silently
/// continued.
/// </summary>
internal static class TrainingCheckpoint
{
    private const string Magic = "MLNARC";
    private const int Version = 2;

    public static string Fingerprint(DensityModel model, int rows, TrainingSettings settings)
    {
        string lengths = string.Join(",", model.Parameters.Select(p => p.Length));
        string shape = FormattableString.Invariant($"{model.Kind}|{model.Dimension}|{lengths}|rows={rows}");
        return shape + "|" + settings.Describe();
    }

    public static void Save(string path, string fingerprint, TrainingState state, DensityModel model,
        Optimizer optimizer)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(fingerprint);
            w.Write(state.Epoch);
            w.Write(state.EpochsSinceBest);
            w.Write(state.BestScore);
            w.Write(state.Finished);
            w.Write(optimizer.StepCount);
            w.Write(state.PlateauRate);
            w.Write(state.EpochsWithoutImprovement);
            w.Write(state.History.Count);
            foreach (var h in state.History)
            {
                w.Write(h.Epoch); w.Write(h.TrainingNll); w.Write(
                h.ValidationNll); w.Write(h.Seconds); w.Write(h.LearningRate);
            }
            foreach (float[][] tensors in new[] { model.Parameters.Select(p => p.Value).ToArray(),
                state.Best }.Concat(optimizer.State))
                foreach (float[] tensor in tensors)
                {
                    w.Write(tensor.Length);
                    foreach (float v in tensor) w.Write(v);
                }
        }
        byte[] payload = buffer.ToArray();
        string full = System.IO.Path.GetFullPath(path);
        string temp = full + $".{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(payload);
                file.Write(SHA256.HashData(payload));
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <exception cref="InvalidDataException">The file is not a valid checkpoint, or belongs to another training
    /// run.</exception>
    public static TrainingState Load(string path, string fingerprint, DensityModel model, Optimizer optimizer)
    {
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < 32
            || !SHA256.HashData(all.AsSpan(0, all.Length - 32)).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32)))
            throw new InvalidDataException(
                $"Checkpoint '{path}' is corrupt (checksum mismatch); delete it to start over.");
        using var r = new BinaryReader(new MemoryStream(all, 0, all.Length - 32));
        try
        {
            if (r.ReadString() != Magic || r.ReadInt32() != Version)
                throw new InvalidDataException($"'{path}' is not an MLNetAr training checkpoint of version {Version}.");
            string found = r.ReadString();
            if (found != fingerprint)
                throw new InvalidDataException($"Checkpoint '{path}' belongs to another training run ({found}), not " +
                    $"this one ({fingerprint}); use another CheckpointPath or delete it.");
            var state = new TrainingState
            {
                Epoch = r.ReadInt32(), EpochsSinceBest = r.ReadInt32(),
                BestScore = r.ReadDouble(), Finished = r.ReadBoolean()
            };
            optimizer.RestoreStepCount(r.ReadInt32());
            state.PlateauRate = r.ReadSingle();
            state.EpochsWithoutImprovement = r.ReadInt32();
            int entries = r.ReadInt32();
            for (int i = 0; i < entries; i++)
                state.History.Add(new TrainedEpoch(r.ReadInt32(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(),
                    r.ReadDouble()));
            state.Best = model.Parameters.Select(p => new float[p.Length]).ToArray();
            foreach (float[][] tensors in new[] { model.Parameters.Select(p => p.Value).ToArray(),
                state.Best }.Concat(optimizer.State))
                foreach (float[] tensor in tensors)
                {
                    if (r.ReadInt32() != tensor.Length)
                        throw new InvalidDataException($"Checkpoint '{path}' has tensors of the wrong size.");
                    for (int i = 0; i < tensor.Length; i++) tensor[i] = r.ReadSingle();
                }
            return state;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is truncated.", e);
        }
    }
}
