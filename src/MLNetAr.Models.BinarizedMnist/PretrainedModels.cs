using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML;

namespace MLNetAr.Pretrained;

/// <summary>
/// The pretrained models shipped in <c>models/binarized-mnist/</c> (in the repository, and in a consumer's output
/// folder through this package): ordinary <c>mlContext.Model.Save</c> files (input column <c>Pixels</c>, 784 values in
/// [0, 1]) listed in a <c>manifest.json</c> that gives each one's SHA-256, the command that reproduced it and its
/// validation NLL. <see cref="Load(MLContext, string, out DataViewSchema)"/> checks the file against its manifest
/// entry before handing it to <c>mlContext.Model.Load</c>, so a missing, truncated or altered file is named, never
/// loaded.
/// </summary>
public static class PretrainedModels
{
    /// <summary>The manifest's file name inside a models folder.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>
    /// The repository's folder of models trained on the standard binarized MNIST, relative to its root.
    /// </summary>
    public const string BinarizedMnistFolder = "models/binarized-mnist";

    /// <summary>How the manifests and records are written: indented, snake_case, non-ASCII kept as it is.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>One shipped model: where it came from and what it scores.</summary>
    public sealed class Entry
    {
        /// <summary>Short name (the <c>paper</c> recipe's), also the file name without <c>.zip</c>.</summary>
        public string Name { get; set; } = "";
        /// <summary>Human-readable architecture.</summary>
        public string Title { get; set; } = "";
        /// <summary>The training recipe in words.</summary>
        public string Recipe { get; set; } = "";
        /// <summary>The model file's name inside the folder.</summary>
        public string File { get; set; } = "";
        /// <summary>SHA-256 of the model file, lower-case hex.</summary>
        public string Sha256 { get; set; } = "";
        /// <summary>Size of the model file in bytes.</summary>
        public long Bytes { get; set; }
        /// <summary>The command line of the (last) run that wrote the file.</summary>
        public string Command { get; set; } = "";
        /// <summary>One command that reproduces the same weights from scratch.</summary>
        public string Reproduce { get; set; } = "";
        /// <summary>Epochs trained (the weights are the best epoch's).</summary>
        public int Epochs { get; set; }
        /// <summary>The epoch whose weights were kept.</summary>
        public int BestEpoch { get; set; }
        /// <summary>Minutes spent in training passes (all sittings, validation excluded).</summary>
        public double TrainingMinutes { get; set; }
        /// <summary>Mean NLL (nats) on the validation images below.</summary>
        public double ValidationNll { get; set; }
        /// <summary>How many validation images (the first ones of the split) the NLL is over.</summary>
        public int ValidationImages { get; set; }
        /// <summary>
        /// Mean NLL (nats) on the first <see cref="CheckImages"/> validation images, as the loaded file scores them:
        /// what the tests recompute to show the shipped file is the model the table describes.
        /// </summary>
        public double CheckNll { get; set; }
        /// <summary>How many validation images <see cref="CheckNll"/> is over.</summary>
        public int CheckImages { get; set; }
        /// <summary>How many training images were used.</summary>
        public int TrainingImages { get; set; }
        /// <summary>Trainable parameters.</summary>
        public long Parameters { get; set; }
        /// <summary>The commit the training code was built from ("+dirty" when the tree had changes).</summary>
        public string Commit { get; set; } = "";
        /// <summary>When the file was written (UTC, ISO 8601).</summary>
        public string Created { get; set; } = "";
    }

    /// <summary>
    /// The folder <paramref name="relative"/> (by default <see cref="BinarizedMnistFolder"/>) holding
    /// <paramref name="marker"/>, looked for in and above the program's folder (where this package copies the models),
    /// then above the working directory (a clone of the repository); null when there is none.
    /// </summary>
    public static string? FindFolder(string relative = BinarizedMnistFolder, string marker = ManifestFileName)
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (System.IO.File.Exists(Path.Combine(candidate, marker))) return candidate;
            }
        return null;
    }

    /// <summary>The entries of a folder's manifest (none when it has no manifest).</summary>
    /// <exception cref="InvalidDataException">The manifest is not valid JSON of entries.</exception>
    public static IReadOnlyList<Entry> ReadManifest(string folder)
    {
        string path = Path.Combine(folder, ManifestFileName);
        if (!System.IO.File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<Entry>>(System.IO.File.ReadAllText(path), JsonOptions) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid models manifest: {e.Message}", e);
        }
    }

    /// <summary>
    /// The binarized-MNIST models' folder: <see cref="FindFolder"/>'s, or an exception that says where it was looked
    /// for.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">There is no such folder.</exception>
    public static string DefaultFolder => FindFolder() ?? throw new DirectoryNotFoundException(
        $"No '{BinarizedMnistFolder}/{ManifestFileName}' in or above '{AppContext.BaseDirectory}' or " +
        $"'{Directory.GetCurrentDirectory()}'. Reference the MLNetAr.Models.BinarizedMnist package (it copies the " +
        "models into the output folder), run from a clone of the repository, or pass the folder.");

    /// <summary>
    /// Loads the binarized-MNIST model <paramref name="name"/> (e.g. <c>"pixelcnn"</c>, <c>"nade"</c>) from
    /// <see cref="DefaultFolder"/> after checking its size and SHA-256 against the manifest.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No models folder was found.</exception>
    /// <exception cref="ArgumentException">The manifest has no such model (the message lists those it has).</exception>
    /// <exception cref="FileNotFoundException">The manifest lists the model but its file is missing.</exception>
    /// <exception cref="InvalidDataException">The file's size or checksum differs from the manifest's.</exception>
    public static ITransformer Load(MLContext mlContext, string name, out DataViewSchema inputSchema) =>
        Load(mlContext, name, DefaultFolder, out inputSchema);

    /// <summary>
    /// Loads the model <paramref name="name"/> of <paramref name="folder"/> after checking its size and SHA-256
    /// against the manifest.
    /// </summary>
    /// <exception cref="ArgumentException">The manifest has no such model (the message lists those it has).</exception>
    /// <exception cref="FileNotFoundException">The manifest lists the model but its file is missing.</exception>
    /// <exception cref="InvalidDataException">The file's size or checksum differs from the manifest's.</exception>
    public static ITransformer Load(MLContext mlContext, string name, string folder, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        Entry entry = Find(folder, name);
        string path = Verify(folder, entry);
        return mlContext.Model.Load(path, out inputSchema);
    }

    /// <summary>The manifest entry <paramref name="name"/> of <paramref name="folder"/>.</summary>
    /// <exception cref="ArgumentException">There is none (the message lists the names there are).</exception>
    public static Entry Find(string folder, string name)
    {
        IReadOnlyList<Entry> entries = ReadManifest(folder);
        string listed = entries.Count == 0 ? "none" : string.Join(", ", entries.Select(e => e.Name));
        return entries.FirstOrDefault(e => e.Name == name)
            ?? throw new ArgumentException($"No pretrained model '{name}' in " +
                $"'{Path.Combine(folder, ManifestFileName)}'; it lists: {listed}.", nameof(name));
    }

    /// <summary>Checks the file of <paramref name="entry"/> against the manifest and returns its path.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">Its size or SHA-256 differs from the manifest's.</exception>
    public static string Verify(string folder, Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string path = Path.Combine(folder, entry.File);
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"The pretrained model '{entry.Name}' is listed in the manifest but its " +
                $"file '{path}' is missing. Reproduce it with: {entry.Reproduce}", path);
        long bytes = new FileInfo(path).Length;
        string sha = Sha256(path);
        if (bytes != entry.Bytes || sha != entry.Sha256)
            throw new InvalidDataException($"The pretrained model file '{path}' differs from its manifest entry " +
                $"({bytes} bytes, SHA-256 {sha}; the manifest says {entry.Bytes} bytes, {entry.Sha256}): it was " +
                "altered or truncated. Restore it from the repository (git checkout) or reproduce it with: " +
                entry.Reproduce);
        return path;
    }

    /// <summary>Validation images <see cref="Entry.CheckNll"/> is measured on.</summary>
    public const int DefaultCheckImages = 500;

    /// <summary>Rewrites the entry of the same name in <paramref name="folder"/>'s manifest.</summary>
    public static void WriteEntry(string folder, Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var entries = ReadManifest(folder).Where(e => e.Name != entry.Name).Append(entry).OrderBy(e => e.Name)
            .ToList();
        System.IO.File.WriteAllText(Path.Combine(folder, ManifestFileName),
            JsonSerializer.Serialize(entries, JsonOptions) + "\n");
    }

    /// <summary>
    /// Saves <paramref name="model"/> as <c>NAME.zip</c> in <paramref name="folder"/> and writes its manifest entry
    /// (replacing any of the same name) with the file's size and checksum filled in.
    /// </summary>
    public static Entry Save(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string folder,
        Entry entry)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(entry);
        Directory.CreateDirectory(folder);
        entry.File = entry.Name + ".zip";
        string path = Path.Combine(folder, entry.File);
        string temporary = path + ".partial";
        mlContext.Model.Save(model, inputSchema, temporary);
        System.IO.File.Move(temporary, path, overwrite: true); // never a half-written model under the real name
        entry.Bytes = new FileInfo(path).Length;
        entry.Sha256 = Sha256(path);
        entry.Created = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ",
            System.Globalization.CultureInfo.InvariantCulture);
        WriteEntry(folder, entry);
        return entry;
    }

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using FileStream stream = System.IO.File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
