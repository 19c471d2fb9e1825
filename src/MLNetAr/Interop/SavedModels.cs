// ML.NET's model save/load contract (ModelSaveContext's members, ModelLoadContext, VersionInfo, SignatureLoadModel) is
// internal. The transformers write and read their entries through the two small classes below, and ML.NET's
// ComponentCatalog reaches their Load methods through the loaders at the end of this file, which the LoadableClass
// attributes in MlNetInterop.cs name.
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNetAr.Interop;

/// <summary>
/// The identity and version of one saved transformer's entry: what ML.NET's <c>VersionInfo</c> holds.
/// </summary>
/// <param name="ModelSignature">Exactly 8 characters, written in the entry's header.</param>
/// <param name="Current">The version this build writes.</param>
/// <param name="Readable">The oldest reader that can read what this build writes.</param>
/// <param name="OldestReadable">The oldest version this build can read back.</param>
/// <param name="LoaderSignature">At most 24 characters, globally unique: how ML.NET finds the loader.</param>
internal sealed record SavedModelFormat(string ModelSignature, uint Current, uint Readable, uint OldestReadable,
    string LoaderSignature)
{
    internal VersionInfo ToVersionInfo() =>
        new(ModelSignature, Current, Readable, OldestReadable,
            loaderAssemblyName: typeof(SavedModelFormat).Assembly.FullName!, loaderSignature: LoaderSignature);
}

/// <summary>Writes one transformer's entry of a saved ML.NET model.</summary>
internal sealed class SavedModelWriter
{
    private readonly ModelSaveContext _context;

    private SavedModelWriter(ModelSaveContext context) => _context = context;

    /// <summary>Starts the entry <paramref name="context"/> points at, stamped <paramref name="format"/>.</summary>
    public static SavedModelWriter Begin(ModelSaveContext context, SavedModelFormat format)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel();
        context.SetVersionInfo(format.ToVersionInfo());
        return new SavedModelWriter(context);
    }

    /// <summary>The entry's main stream, for small values.</summary>
    public BinaryWriter Writer => _context.Writer;

    /// <summary>A non-empty string, through ML.NET's string table.</summary>
    public void WriteString(string value) => _context.SaveNonEmptyString(value);

    /// <summary>A separate stream of the entry (e.g. the weights), named <paramref name="name"/>.</summary>
    public void WriteStream(string name, Action<BinaryWriter> write) => _context.SaveBinaryStream(name, write);

    /// <summary>A nested transformer (e.g. one this one wraps), saved under <paramref name="name"/>.</summary>
    public void WriteTransformer(ITransformer transformer, string name) => _context.SaveModel(transformer, name);
}

/// <summary>Reads one transformer's entry of a saved ML.NET model, after its version was checked.</summary>
internal sealed class SavedModelReader
{
    private readonly ModelLoadContext _context;

    private SavedModelReader(IHostEnvironment environment, ModelLoadContext context)
    {
        Environment = environment;
        _context = context;
    }

    /// <summary>
    /// Checks that the entry <paramref name="context"/> points at is readable as <paramref name="format"/>.
    /// </summary>
    internal static SavedModelReader Begin(IHostEnvironment environment, ModelLoadContext context,
        SavedModelFormat format)
    {
        context.CheckAtModel(format.ToVersionInfo());
        return new SavedModelReader(environment, context);
    }

    /// <summary>The environment of the <c>MLContext</c> loading the model.</summary>
    public IHostEnvironment Environment { get; }

    /// <summary>The format version the entry was written with (for branches on older formats).</summary>
    public uint VersionWritten => _context.Header.ModelVerWritten;

    /// <summary>The entry's main stream.</summary>
    public BinaryReader Reader => _context.Reader;

    public string ReadString() => _context.LoadNonEmptyString();

    /// <summary>Reads the stream <paramref name="name"/>; false when the entry has no such stream.</summary>
    public bool TryReadStream(string name, Action<BinaryReader> read) => _context.TryLoadBinaryStream(name, read);

    /// <summary>The nested transformer saved under <paramref name="name"/>, or null when there is none.</summary>
    public ITransformer? ReadTransformer(string name)
    {
        _context.LoadModelOrNull<ITransformer, SignatureLoadModel>(Environment, out var nested, name);
        return nested;
    }
}

/// <summary>A transformer that ML.NET can load: it reads back the entry its <c>Save</c> wrote.</summary>
internal interface ISavedModelLoadable<TSelf> where TSelf : ISavedModelLoadable<TSelf>
{
    /// <summary>The saved entry's identity and version.</summary>
    static abstract SavedModelFormat SavedFormat { get; }

    /// <summary>Reads what <c>Save</c> wrote, after the entry's version was checked against
    /// <see cref="SavedFormat"/>.</summary>
    static abstract TSelf Load(SavedModelReader saved);
}

/// <summary>
/// What ML.NET's ComponentCatalog calls to load a <typeparamref name="T"/>: the LoadableClass attributes
/// (MlNetInterop.cs) name <c>SavedModelLoader&lt;T&gt;</c> as the loader type, and the catalog finds its Create by
/// name and signature.
/// </summary>
internal static class SavedModelLoader<T> where T : ISavedModelLoadable<T>
{
    private static T Create(IHostEnvironment env, ModelLoadContext ctx) =>
        T.Load(SavedModelReader.Begin(env, ctx, T.SavedFormat));
}
