using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Interop;
using MLNetAr.Models;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;
using MLNetAr.Scoring;
using MLNetAr.Training;

namespace MLNetAr;

/// <summary>
/// A fitted autoregressive density model. <see cref="Transform"/> adds, lazily per row, the exact log-likelihood
/// <c>log p(x)</c> in nats and the model's hidden features; <see cref="Sample"/> generates images and
/// <see cref="Complete"/> in-paints them. Saved and loaded with <c>mlContext.Model.Save/Load</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type</description></listheader>
/// <item><term>input (e.g. <c>Pixels</c>)</term><description>known-size vector of <see cref="float"/> in [0, 1], the
/// size seen at fit; or an image column, if fitted on one</description></item>
/// <item><term><c>LogLikelihood</c></term><description><see cref="float"/>: <c>Σ_i log p(x_i | x_&lt;i)</c>, natural
/// log</description></item>
/// <item><term><c>HiddenFeatures</c></term><description>known-size vector of <see cref="float"/> (model-specific, see
/// each estimator)</description></item>
/// </list>
/// Scoring is thread-safe: every cursor and prediction engine has its own scratch state.
/// </remarks>
public sealed class AutoregressiveDensityTransformer : ITransformer, IRowScoringTransformer,
    ISavedModelLoadable<AutoregressiveDensityTransformer>
{
    internal const string LoaderSignature = "MLNetArDensityModel"; // at most 24 characters, globally unique
    // Format history (of the ML.NET model entry; the weights stream has its own, see ModelSerializer):
    // 0x00010001: first version.
    // 0x00010002: the model kind is also stored in the entry, and must match the weights stream's.
    // 0x00010003: an image input column's settings (size, resizing) follow the kind.
    private const uint VersionCurrent = 0x00010003;
    private const uint VersionWithKind = 0x00010002;
    private const uint VersionFirst = 0x00010001;

    internal AutoregressiveDensityTransformer(IHostEnvironment env, DensityModel model, PixelEncoder encoder,
        string logLikelihoodColumnName, string hiddenFeaturesColumnName, IReadOnlyList<EpochSummary> history)
    {
        ArgumentNullException.ThrowIfNull(env);
        Model = model;
        Encoder = encoder;
        LogLikelihoodColumnName = logLikelihoodColumnName;
        HiddenFeaturesColumnName = hiddenFeaturesColumnName;
        TrainingHistory = history;
        OutputColumns =
        [
            ScoredColumn.Scalar(logLikelihoodColumnName, scorer => scorer.LogLikelihood),
            ScoredColumn.Vector(hiddenFeaturesColumnName, model.HiddenFeatureCount, needsPixelScores: false,
                (scorer, values) => scorer.HiddenFeatures.CopyTo(values)),
        ];
    }

    internal DensityModel Model { get; }
    internal PixelEncoder Encoder { get; }
    DensityModel IRowScoringTransformer.Model => Model;
    PixelEncoder IRowScoringTransformer.Encoder => Encoder;
    IReadOnlyList<ScoredColumn> IRowScoringTransformer.OutputColumns => OutputColumns;
    private IReadOnlyList<ScoredColumn> OutputColumns { get; }

    /// <summary>Name of the model family, e.g. <c>FVSBN</c>.</summary>
    public string ModelKind => Model.Kind;
    /// <summary>Number of pixels D the model describes.</summary>
    public int Dimension => Model.Dimension;
    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount => Model.ParameterCount;
    /// <summary>Length of the hidden-feature vector.</summary>
    public int HiddenFeatureCount => Model.HiddenFeatureCount;
    /// <summary>
    /// Pixel levels K the model describes: 2 for binary pixels; sampled pixels take the values <c>level / (K - 1)</c>.
    /// </summary>
    public int PixelLevels => Model.Levels;
    /// <summary>The input column read at scoring time.</summary>
    public string InputColumnName => Encoder.ColumnName;
    /// <summary>The output column holding <c>log p(x)</c>.</summary>
    public string LogLikelihoodColumnName { get; }
    /// <summary>The output column holding the hidden features.</summary>
    public string HiddenFeaturesColumnName { get; }
    /// <summary>Per-epoch losses of the training run (empty for a loaded model).</summary>
    public IReadOnlyList<EpochSummary> TrainingHistory { get; }

    IReadOnlyList<string> IRowScoringTransformer.ExportOnnx(OnnxGraph graph, string pixels)
    {
        OnnxScores scores = Model.ExportOnnx(graph, pixels, hiddenFeatures: true);
        return [scores.LogLikelihood, scores.HiddenFeatures!];
    }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or not a Single vector of the fitted
    /// size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) =>
        RowScoringTransformers.OutputSchema(this, inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => RowScoringTransformers.Transform(this, input);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        RowScoringTransformers.Mapper(this, inputSchema);

    /// <summary>
    /// Draws <paramref name="count"/> images from the model. Each is a vector of D values: 0 or 1 for binary pixels,
    /// <c>level / (K - 1)</c> with K = <see cref="PixelLevels"/> levels.
    /// The same seed gives the same images, whatever the number of threads.
    /// </summary>
    /// <param name="count">How many images to draw.</param>
    /// <param name="seed">Seed of the random streams (one per image, derived from it).</param>
    /// <param name="temperature">τ: each pixel is drawn from its conditional with the logits divided by τ. 1, the
    /// default, is the model's own distribution p(x); τ &lt; 1 sharpens every conditional (towards the most likely
    /// level at each step as τ → 0), trading diversity for cleaner images; τ &gt; 1 flattens them. Tempered samples
    /// are not draws from p(x). A MADE mask ensemble draws its connectivity untempered and tempers that
    /// connectivity's conditionals.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative, or
    /// <paramref name="temperature"/> is not positive and finite.</exception>
    public float[][] Sample(int count, int seed, float temperature = 1f)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "`count` must be non-negative.");
        CheckTemperature(temperature);
        int d = Dimension;
        var images = new float[count * d];
        SamplingStream[] streams = SamplingStream.ForRows(RowSeeds(seed, count), temperature);
        // In blocks: a convolutional model's sampling workspace holds every layer's activations for every row it
        // draws. Each row has its own random stream, so the blocks change nothing in the images.
        int block = Math.Max(1, Math.Min(count, Model.SamplingBatchRows()));
        ModelWorkspace workspace = Model.CreateWorkspace(block);
        for (int start = 0; start < count; start += block)
        {
            int rows = Math.Min(block, count - start);
            Model.SampleRows(images.AsSpan(start * d, rows * d), rows, 0, streams[start..(start + rows)], workspace);
        }
        return Enumerable.Range(0, count).Select(r => images.AsSpan(r * d, d).ToArray()).ToArray();
    }

    /// <summary>
    /// In-paints an image: keeps the first <paramref name="knownPixels"/> pixels of <paramref name="partial"/> in the
    /// model's order (raster order for FVSBN), binarised like the input column, and samples the rest from
    /// <c>p(x_rest | x_known)</c>.
    /// </summary>
    /// <param name="partial">An image of D values in [0, 1]; values after the known pixels are ignored.</param>
    /// <param name="knownPixels">How many pixels, in the model's order, are given (0 to D).</param>
    /// <param name="seed">Seed of the random stream.</param>
    /// <param name="temperature">τ, as for <see cref="Sample"/>: 1 (the default) draws from the model's
    /// <c>p(x_rest | x_known)</c>; τ &lt; 1 sharpens each conditional.</param>
    /// <exception cref="ArgumentException"><paramref name="partial"/> does not have D values, or a known value is
    /// invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="knownPixels"/> is outside [0, D], or
    /// <paramref name="temperature"/> is not positive and finite.</exception>
    public float[] Complete(float[] partial, int knownPixels, int seed, float temperature = 1f)
    {
        ArgumentNullException.ThrowIfNull(partial);
        CheckTemperature(temperature);
        int d = Dimension;
        if (partial.Length != d)
            throw new ArgumentException($"`partial` must have {d} values (the model's Dimension), got " +
                $"{partial.Length}.", nameof(partial));
        if (knownPixels < 0 || knownPixels > d)
            throw new ArgumentOutOfRangeException(nameof(knownPixels), knownPixels,
                $"`knownPixels` must be in [0, {d}].");
        var image = new float[d];
        int[] order = Model.Order;
        // Only the known pixels need to be valid; the rest are placeholders.
        for (int t = 0; t < knownPixels; t++) image[order[t]] = partial[order[t]];
        try
        {
            Encoder.Encode(image, row: 0);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException(e.Message, nameof(partial), e);
        }
        Model.SampleRows(image, 1, knownPixels, SamplingStream.ForRows(RowSeeds(seed, 1), temperature));
        return image;
    }

    private static void CheckTemperature(float temperature)
    {
        if (!SamplingStream.IsValidTemperature(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature,
                $"`{nameof(temperature)}` must be positive and finite (1 samples the model's own distribution), got " +
                $"{temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
    }

    /// <summary>
    /// One independent seed per image, derived from the call's seed (SplitMix64), so images do not depend on threads.
    /// </summary>
    internal static int[] RowSeeds(int seed, int count)
    {
        var seeds = new int[count];
        ulong state = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < count; i++)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            seeds[i] = (int)((z ^ (z >> 31)) & int.MaxValue);
        }
        return seeds;
    }

    // ---- Persistence ----------------------------------------------------------------------------------------------

    /// <summary>The saved entry's identity and version (see the format history above).</summary>
    static SavedModelFormat ISavedModelLoadable<AutoregressiveDensityTransformer>.SavedFormat => s_savedFormat;

    private static readonly SavedModelFormat s_savedFormat =
        new("MLNARDEN", VersionCurrent, VersionCurrent, VersionFirst, LoaderSignature);

    /// <inheritdoc/>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        var saved = SavedModelWriter.Begin(ctx, s_savedFormat);
        saved.WriteString(InputColumnName);
        saved.WriteString(LogLikelihoodColumnName);
        saved.WriteString(HiddenFeaturesColumnName);
        BinaryWriter writer = saved.Writer;
        writer.Write((int)Encoder.Binarization);
        writer.Write(Encoder.Threshold);
        saved.WriteString(Model.Kind);
        ImageInput.Write(writer, Encoder.Image);
        saved.WriteStream("Weights.bin", w => ModelSerializer.Write(Model, w.BaseStream));
    }

    static AutoregressiveDensityTransformer ISavedModelLoadable<AutoregressiveDensityTransformer>.Load(
        SavedModelReader saved)
    {
        BinaryReader reader = saved.Reader;
        string input = saved.ReadString();
        string logLikelihood = saved.ReadString();
        string hidden = saved.ReadString();
        var binarization = (BinarizationKind)reader.ReadInt32();
        float threshold = reader.ReadSingle();
        if (!Enum.IsDefined(binarization) || !(threshold >= 0f && threshold < 1f))
            throw new InvalidDataException($"Corrupt MLNetAr model: invalid binarisation settings ({binarization}, " +
                $"{threshold}).");
        string? kind = saved.VersionWritten >= VersionWithKind ? saved.ReadString() : null;
        ImageInput? image = saved.VersionWritten >= VersionCurrent ? ImageInput.Read(reader) : null;
        DensityModel? model = null;
        if (!saved.TryReadStream("Weights.bin", r => model = ModelSerializer.Read(r.BaseStream)) || model == null)
            throw new InvalidDataException("Corrupt MLNetAr model: the Weights.bin entry is missing.");
        if (kind != null && kind != model.Kind)
            throw new InvalidDataException($"Corrupt MLNetAr model: the model entry is a {kind} but its Weights.bin " +
                $"holds a {model.Kind} (weights from another model file?).");
        if (image != null && image.Dimension != model.Dimension)
            throw new InvalidDataException($"Corrupt MLNetAr model: " +
                $"{ImageInput.Describe(image.Height, image.Width)} images for a model of {model.Dimension} pixels.");
        return new AutoregressiveDensityTransformer(saved.Environment, model,
            new PixelEncoder(input, binarization, threshold, model.Levels) { Image = image }, logLikelihood, hidden,
            []);
    }
}
