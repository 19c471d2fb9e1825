using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

/// <summary>How the anomaly score corrects raw likelihood, which favours simple images (Nalisnick et al. 2019).</summary>
public enum AnomalyScoreCorrection
{
    /// <summary><c>Score = -log p(x)</c>.</summary>
    None,
    /// <summary>
    /// Likelihood ratio against a background model (Ren et al. 2019): <c>Score = -log p(x) + log p_bg(x)</c>, with p_bg
    /// independent Bernoulli pixels fitted to the training rows (Laplace-smoothed), so what every image shares (mostly
    /// background) cancels out.
    /// </summary>
    BackgroundLikelihoodRatio,
    /// <summary>
    /// Input-complexity correction (Serrà et al. 2020): <c>Score = -log p(x) - L(x)·ln 2</c>, with L(x) the length in bits
    /// of the binary image compressed by a generic compressor (Deflate, maximum compression): how much better than a
    /// generic compressor the model explains the image.
    /// </summary>
    InputComplexity,
}

/// <summary>
/// Anomaly detection with an autoregressive density model: trains any MLNetAr model on normal data, scores each row
/// by its negative log-likelihood (higher = more anomalous) and flags rows whose score exceeds a threshold set from
/// the training scores.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type</description></listheader>
/// <item><term><c>Score</c></term><description><see cref="float"/>: <c>-log p(x)</c> in nats — what <c>mlContext.AnomalyDetection.Evaluate</c> expects (higher = more anomalous)</description></item>
/// <item><term><c>PredictedLabel</c></term><description><see cref="bool"/>: <c>Score &gt; Threshold</c></description></item>
/// <item><term><c>PixelScores</c> (optional)</term><description>vector of D <see cref="float"/>: <c>-log p(x_i | x_&lt;i)</c> per pixel, to localise what is anomalous</description></item>
/// </list>
/// Create it with <c>mlContext.AnomalyDetection.Trainers.AutoregressiveDensity(options)</c>.
/// </remarks>
public sealed class AutoregressiveAnomalyDetector : IEstimator<AutoregressiveAnomalyTransformer>
{
    /// <summary>Options of <see cref="AutoregressiveAnomalyDetector"/>.</summary>
    public sealed class Options
    {
        /// <summary>The density model and its options (input column, training schedule): FVSBN, NADE or MADE options.</summary>
        public AutoregressiveDensityOptions DensityModel = new FvsbnDensityEstimator.Options();

        /// <summary>Output column for the anomaly score <c>-log p(x)</c>.</summary>
        public string ScoreColumnName = "Score";

        /// <summary>Output column for <c>Score &gt; Threshold</c>.</summary>
        public string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>Output column for per-pixel scores; null (the default) adds no such column.</summary>
        public string? PixelScoresColumnName;

        /// <summary>The threshold is this quantile of the training rows' scores (0.99: 1% of training rows are flagged).</summary>
        public double ThresholdQuantile = 0.99;

        /// <summary>An absolute threshold in nats; when set, <see cref="ThresholdQuantile"/> is ignored.</summary>
        public float? Threshold;

        /// <summary>Correction of the raw likelihood for input complexity; see <see cref="AnomalyScoreCorrection"/>.</summary>
        public AnomalyScoreCorrection ScoreCorrection = AnomalyScoreCorrection.None;

        internal void Validate()
        {
            if (DensityModel == null) throw Guard.BadOption(nameof(DensityModel), "must be the options of a density model", null);
            DensityModel.Validate();
            if (string.IsNullOrWhiteSpace(ScoreColumnName)) throw Guard.BadOption(nameof(ScoreColumnName), "must name a column", ScoreColumnName);
            if (string.IsNullOrWhiteSpace(PredictedLabelColumnName) || PredictedLabelColumnName == ScoreColumnName)
                throw Guard.BadOption(nameof(PredictedLabelColumnName), "must name a column other than the score's", PredictedLabelColumnName);
            if (PixelScoresColumnName != null && (string.IsNullOrWhiteSpace(PixelScoresColumnName) || PixelScoresColumnName == ScoreColumnName || PixelScoresColumnName == PredictedLabelColumnName))
                throw Guard.BadOption(nameof(PixelScoresColumnName), "must be null or name a new column", PixelScoresColumnName);
            if (!(ThresholdQuantile > 0 && ThresholdQuantile <= 1)) throw Guard.BadOption(nameof(ThresholdQuantile), "must be in (0, 1]", ThresholdQuantile);
            if (Threshold is float t && !float.IsFinite(t)) throw Guard.BadOption(nameof(Threshold), "must be finite", t);
            if (!Enum.IsDefined(ScoreCorrection)) throw Guard.BadOption(nameof(ScoreCorrection), "must be None, BackgroundLikelihoodRatio or InputComplexity", ScoreCorrection);
        }
    }

    private readonly IHostEnvironment _env;
    private readonly Options _options;

    internal AutoregressiveAnomalyDetector(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _env = env;
        _options = options;
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Guard.CheckInputColumn(inputSchema, _options.DensityModel.InputColumnName);
        var columns = inputSchema.ToDictionary(c => c.Name);
        columns[_options.ScoreColumnName] = MlNetInterop.SchemaColumn(_options.ScoreColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single);
        columns[_options.PredictedLabelColumnName] = MlNetInterop.SchemaColumn(_options.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance);
        if (_options.PixelScoresColumnName is string pixels)
            columns[pixels] = MlNetInterop.SchemaColumn(pixels, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        return MlNetInterop.Shape(columns.Values);
    }

    /// <summary>Trains the density model on <paramref name="input"/> (normal data) and sets the threshold from its scores.</summary>
    public AutoregressiveAnomalyTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/> with early stopping on <paramref name="validationData"/>; the threshold comes from the training rows.</summary>
    public AutoregressiveAnomalyTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        AutoregressiveDensityTransformer density = _options.DensityModel.CreateEstimator(_env).Fit(trainData, validationData, out EncodedRows rows);
        var corrector = new ScoreCorrector(_options.ScoreCorrection, BackgroundLogits(rows));
        float threshold = _options.Threshold ?? Quantile(TrainingScores(density, rows, corrector), _options.ThresholdQuantile);
        return new AutoregressiveAnomalyTransformer(density, threshold, _options.ScoreColumnName, _options.PredictedLabelColumnName, _options.PixelScoresColumnName, corrector);
    }

    /// <summary>The (corrected) score of every training row, batched (one more pass when the rows are streamed).</summary>
    private static float[] TrainingScores(AutoregressiveDensityTransformer density, EncodedRows rows, ScoreCorrector corrector)
    {
        int d = density.Dimension;
        var scores = new List<float>();
        foreach (var (block, count) in rows.Blocks(0, rows.Count, 256))
        {
            float[] ll = DensityTraining.LogLikelihoods(density.Model, block.AsSpan(0, count * d));
            for (int i = 0; i < count; i++) scores.Add(corrector.Score(ll[i], block.AsSpan(i * d, d)));
        }
        return scores.ToArray();
    }

    /// <summary>Logits of the Laplace-smoothed pixel means: the independent-pixel background model.</summary>
    private static float[] BackgroundLogits(EncodedRows rows)
    {
        long n = rows.Count;
        float[] means = rows.Means();
        return means.Select(m => { double p = (m * n + 1.0) / (n + 2.0); return (float)Math.Log(p / (1 - p)); }).ToArray();
    }

    /// <summary>The q-quantile by nearest rank: the smallest score with at least a fraction q of the scores at or below it.</summary>
    internal static float Quantile(float[] scores, double q)
    {
        if (scores.Length == 0) throw new ArgumentException("No training scores to set a threshold from.", nameof(scores));
        float[] sorted = (float[])scores.Clone();
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// A fitted <see cref="AutoregressiveAnomalyDetector"/>: adds <c>Score</c> (<c>-log p(x)</c>, nats), <c>PredictedLabel</c>
/// (<c>Score &gt; Threshold</c>) and optionally per-pixel scores, lazily per row. Saved and loaded with
/// <c>mlContext.Model.Save/Load</c> (the threshold and the density model with it).
/// </summary>
public sealed class AutoregressiveAnomalyTransformer : ITransformer, IRowScoringTransformer
{
    internal const string LoaderSignature = "MLNetArAnomalyModel";
    // Format history: 0x00010001: first version (threshold, column names, nested density model "Density").
    //                 0x00010002: score correction kind and background logits.
    private const uint VersionCurrent = 0x00010002;
    private const uint VersionFirst = 0x00010001;

    internal AutoregressiveAnomalyTransformer(AutoregressiveDensityTransformer density, float threshold, string scoreColumnName,
        string predictedLabelColumnName, string? pixelScoresColumnName, ScoreCorrector corrector)
    {
        Density = density;
        Corrector = corrector;
        Threshold = threshold;
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
        PixelScoresColumnName = pixelScoresColumnName;
        var columns = new List<ScoredColumn>
        {
            ScoredColumn.Scalar(scoreColumnName, scorer => corrector.Score(scorer.LogLikelihood, scorer.Pixels)),
            ScoredColumn.Boolean(predictedLabelColumnName, scorer => corrector.Score(scorer.LogLikelihood, scorer.Pixels) > threshold),
        };
        if (pixelScoresColumnName != null)
            columns.Add(ScoredColumn.Vector(pixelScoresColumnName, density.Dimension, needsPixelScores: true, scorer => scorer.PixelScores));
        OutputColumns = columns;
    }

    /// <summary>The fitted density model (sampling, in-painting, hidden features).</summary>
    public AutoregressiveDensityTransformer Density { get; }
    /// <summary>Rows with <c>Score</c> above this (nats) are predicted anomalous.</summary>
    public float Threshold { get; }
    /// <summary>The score column.</summary>
    public string ScoreColumnName { get; }
    /// <summary>The predicted-label column.</summary>
    public string PredictedLabelColumnName { get; }
    /// <summary>The per-pixel score column, or null.</summary>
    public string? PixelScoresColumnName { get; }
    /// <summary>How the score corrects raw likelihood.</summary>
    public AnomalyScoreCorrection ScoreCorrection => Corrector.Kind;
    internal ScoreCorrector Corrector { get; }

    DensityModel IRowScoringTransformer.Model => Density.Model;
    PixelEncoder IRowScoringTransformer.Encoder => Density.Encoder;
    IReadOnlyList<ScoredColumn> IRowScoringTransformer.OutputColumns => OutputColumns;
    private IReadOnlyList<ScoredColumn> OutputColumns { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;
    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => RowScoringTransformers.OutputSchema(this, inputSchema);
    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => RowScoringTransformers.Transform(this, input);
    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => RowScoringTransformers.Mapper(this, inputSchema);

    private static VersionInfo GetVersionInfo() =>
        MlNetInterop.TransformerVersion("MLNARANO", VersionCurrent, VersionCurrent, VersionFirst, LoaderSignature, typeof(AutoregressiveAnomalyTransformer));

    /// <inheritdoc/>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        MlNetInterop.BeginSave(ctx, GetVersionInfo());
        BinaryWriter writer = MlNetInterop.Writer(ctx);
        writer.Write(Threshold);
        MlNetInterop.SaveString(ctx, ScoreColumnName);
        MlNetInterop.SaveString(ctx, PredictedLabelColumnName);
        writer.Write(PixelScoresColumnName != null);
        if (PixelScoresColumnName != null) MlNetInterop.SaveString(ctx, PixelScoresColumnName);
        writer.Write((int)Corrector.Kind);
        writer.Write(Corrector.BackgroundLogits.Length);
        foreach (float v in Corrector.BackgroundLogits) writer.Write(v);
        MlNetInterop.SaveModel(ctx, Density, "Density");
    }

    // Called by ML.NET's ComponentCatalog through the LoadableClass attribute (Internal/MlNetInterop.cs).
    private static AutoregressiveAnomalyTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        float threshold = ctx.Reader.ReadSingle();
        if (!float.IsFinite(threshold)) throw new InvalidDataException("Corrupt MLNetAr anomaly model: the threshold is not finite.");
        string score = ctx.LoadNonEmptyString(), label = ctx.LoadNonEmptyString();
        string? pixels = ctx.Reader.ReadBoolean() ? ctx.LoadNonEmptyString() : null;
        var kind = AnomalyScoreCorrection.None;
        float[] background = [];
        if (ctx.Header.ModelVerWritten >= VersionCurrent)
        {
            kind = (AnomalyScoreCorrection)ctx.Reader.ReadInt32();
            int count = ctx.Reader.ReadInt32();
            if (!Enum.IsDefined(kind) || count < 0 || count > 1 << 24) throw new InvalidDataException("Corrupt MLNetAr anomaly model: invalid score correction.");
            background = new float[count];
            for (int i = 0; i < count; i++)
                if (!float.IsFinite(background[i] = ctx.Reader.ReadSingle())) throw new InvalidDataException("Corrupt MLNetAr anomaly model: non-finite background weights.");
        }
        ctx.LoadModel<ITransformer, SignatureLoadModel>(env, out var nested, "Density");
        if (nested is not AutoregressiveDensityTransformer density)
            throw new InvalidDataException($"Corrupt MLNetAr anomaly model: the nested model is a {nested?.GetType().Name ?? "null"}, not an MLNetAr density model.");
        if (background.Length != 0 && background.Length != density.Dimension)
            throw new InvalidDataException($"Corrupt MLNetAr anomaly model: {background.Length} background weights for {density.Dimension} pixels.");
        return new AutoregressiveAnomalyTransformer(density, threshold, score, label, pixels, new ScoreCorrector(kind, background));
    }
}

/// <summary>Turns <c>log p(x)</c> and the binary pixels into the anomaly score, per <see cref="AnomalyScoreCorrection"/>.</summary>
internal sealed class ScoreCorrector(AnomalyScoreCorrection kind, float[] backgroundLogits)
{
    public AnomalyScoreCorrection Kind { get; } = kind;
    /// <summary>Logits of the independent-pixel background model (D values).</summary>
    public float[] BackgroundLogits { get; } = backgroundLogits;

    /// <summary>The score in nats (higher = more anomalous).</summary>
    public float Score(float logLikelihood, ReadOnlySpan<float> pixels) => Kind switch
    {
        AnomalyScoreCorrection.BackgroundLikelihoodRatio => -logLikelihood + Kernels.Kernels.BernoulliLogLikelihood(BackgroundLogits, pixels),
        AnomalyScoreCorrection.InputComplexity => -logLikelihood - CompressedBits(pixels) * MathF.Log(2f),
        _ => -logLikelihood,
    };

    /// <summary>L(x): bits of the image packed 8 pixels per byte and Deflate-compressed at the smallest size.</summary>
    internal static int CompressedBits(ReadOnlySpan<float> pixels)
    {
        var packed = new byte[(pixels.Length + 7) / 8];
        for (int i = 0; i < pixels.Length; i++)
            if (pixels[i] != 0f) packed[i >> 3] |= (byte)(1 << (i & 7));
        using var output = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            deflate.Write(packed);
        return (int)output.Length * 8;
    }
}
