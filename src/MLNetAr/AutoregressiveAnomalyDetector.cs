using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Internal;
using MLNetAr.Models;

namespace MLNetAr;

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
        AutoregressiveDensityTransformer density = _options.DensityModel.CreateEstimator(_env).Fit(trainData, validationData);
        float threshold = _options.Threshold ?? Quantile(TrainingScores(density, trainData), _options.ThresholdQuantile);
        return new AutoregressiveAnomalyTransformer(density, threshold, _options.ScoreColumnName, _options.PredictedLabelColumnName, _options.PixelScoresColumnName);
    }

    /// <summary><c>-log p(x)</c> of every training row, batched.</summary>
    private static float[] TrainingScores(AutoregressiveDensityTransformer density, IDataView data)
    {
        float[] rows = density.Encoder.ReadRows(data, density.Dimension);
        float[] ll = DensityTraining.LogLikelihoods(density.Model, rows);
        for (int i = 0; i < ll.Length; i++) ll[i] = -ll[i];
        return ll;
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
    private const uint VersionCurrent = 0x00010001;

    internal AutoregressiveAnomalyTransformer(AutoregressiveDensityTransformer density, float threshold, string scoreColumnName,
        string predictedLabelColumnName, string? pixelScoresColumnName)
    {
        Density = density;
        Threshold = threshold;
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
        PixelScoresColumnName = pixelScoresColumnName;
        var columns = new List<ScoredColumn>
        {
            ScoredColumn.Scalar(scoreColumnName, scorer => -scorer.LogLikelihood),
            ScoredColumn.Boolean(predictedLabelColumnName, scorer => -scorer.LogLikelihood > threshold),
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
        MlNetInterop.TransformerVersion("MLNARANO", VersionCurrent, VersionCurrent, VersionCurrent, LoaderSignature, typeof(AutoregressiveAnomalyTransformer));

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
        ctx.LoadModel<ITransformer, SignatureLoadModel>(env, out var nested, "Density");
        if (nested is not AutoregressiveDensityTransformer density)
            throw new InvalidDataException($"Corrupt MLNetAr anomaly model: the nested model is a {nested?.GetType().Name ?? "null"}, not an MLNetAr density model.");
        return new AutoregressiveAnomalyTransformer(density, threshold, score, label, pixels);
    }
}
