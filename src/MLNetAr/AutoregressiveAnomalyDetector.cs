using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetAr.Anomaly;
using MLNetAr.Internal;
using MLNetAr.Interop;
using MLNetAr.Models;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;
using MLNetAr.Scoring;

namespace MLNetAr;

/// <summary>
/// How the anomaly score corrects raw likelihood, which favours simple images (Nalisnick et al. 2019).
/// </summary>
public enum AnomalyScoreCorrection
{
    /// <summary><c>Score = -log p(x)</c>.</summary>
    None,
    /// <summary>
    /// Likelihood ratio against a background model (Ren et al. 2019): <c>Score = -log p(x) + log p_bg(x)</c>, so what
    /// both models explain cancels out. p_bg is <see cref="AutoregressiveAnomalyDetector.Options.BackgroundModel"/>
    /// trained on the same rows, or by default independent pixels fitted to them (Laplace-smoothed). With
    /// <see cref="AutoregressiveAnomalyDetector.Options.BackgroundPerturbation"/> = μ &gt; 0 the background model is
    /// trained on the rows with each pixel replaced by a uniform level with probability μ, as Ren et al. do.
    /// </summary>
    BackgroundLikelihoodRatio,
    /// <summary>
    /// Input-complexity correction (Serrà et al. 2020): <c>Score = -log p(x) - L(x)·ln 2</c>, with L(x) the length in
    /// bits of the binary image compressed by a generic compressor (Deflate, maximum compression): how much better than
    /// a generic compressor the model explains the image.
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
/// <item><term><c>Score</c></term><description><see cref="float"/>: <c>-log p(x)</c> in nats — what
/// <c>mlContext.AnomalyDetection.Evaluate</c> expects (higher = more anomalous)</description></item>
/// <item><term><c>PredictedLabel</c></term><description><see cref="bool"/>:
/// <c>Score &gt; Threshold</c></description></item>
/// <item><term><c>PixelScores</c> (optional)</term><description>vector of D <see cref="float"/>, each pixel's share of
/// the score, to localise what is anomalous: <c>-log p(x_i | x_&lt;i)</c>, plus <c>log p_bg(x_i | x_&lt;i)</c> with the
/// likelihood ratio (they sum to <c>Score</c> except with the input-complexity correction, which has no per-pixel
/// split)</description></item>
/// </list>
/// Create it with <c>mlContext.AnomalyDetection.Trainers.AutoregressiveDensity(options)</c>.
/// </remarks>
public sealed class AutoregressiveAnomalyDetector : IEstimator<AutoregressiveAnomalyTransformer>
{
    /// <summary>Options of <see cref="AutoregressiveAnomalyDetector"/>.</summary>
    public sealed class Options
    {
        /// <summary>
        /// The density model and its options (input column, training schedule): the options of any MLNetAr model.
        /// </summary>
        public AutoregressiveDensityOptions DensityModel = new FvsbnDensityEstimator.Options();

        /// <summary>Output column for the anomaly score <c>-log p(x)</c>.</summary>
        public string ScoreColumnName = "Score";

        /// <summary>Output column for <c>Score &gt; Threshold</c>.</summary>
        public string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>
        /// Output column for per-pixel scores (each pixel's share of <c>Score</c>: <c>-log p(x_i | x_&lt;i)</c>, plus
        /// <c>log p_bg(x_i | x_&lt;i)</c> with the likelihood ratio); null (the default) adds no such column.
        /// </summary>
        public string? PixelScoresColumnName;

        /// <summary>
        /// The threshold is this quantile of the training rows' scores (0.99: 1% of training rows are flagged).
        /// </summary>
        public double ThresholdQuantile = 0.99;

        /// <summary>An absolute threshold in nats; when set, <see cref="ThresholdQuantile"/> is ignored.</summary>
        public float? Threshold;

        /// <summary>
        /// Correction of the raw likelihood, which favours simple images; see <see cref="AnomalyScoreCorrection"/>.
        /// </summary>
        public AnomalyScoreCorrection ScoreCorrection = AnomalyScoreCorrection.None;

        /// <summary>
        /// With <see cref="AnomalyScoreCorrection.BackgroundLikelihoodRatio"/>: the options of the background model
        /// p_bg, trained on the same rows as <see cref="DensityModel"/> and encoding pixels the same way; null (the
        /// default) uses independent pixels. A model that sees only a small neighbourhood of each pixel (e.g. a
        /// one-layer PixelCNN) explains local stroke statistics, which every digit shares, so the ratio keeps what the
        /// full model's long-range structure adds (Schirrmeister et al. 2020).
        /// </summary>
        public AutoregressiveDensityOptions? BackgroundModel;

        /// <summary>
        /// With <see cref="AnomalyScoreCorrection.BackgroundLikelihoodRatio"/>: the probability μ in [0, 1) with which
        /// each pixel of the background model's training (and validation) rows is replaced by a level drawn uniformly
        /// from the K levels, afresh for every minibatch (Ren et al. 2019, who choose μ between 0.1 and 0.3 on a
        /// validation set of outliers). The perturbation destroys the semantic content but keeps the background
        /// statistics, so the ratio keeps what is semantic. μ &gt; 0 without a <see cref="BackgroundModel"/> trains a
        /// background model with <see cref="DensityModel"/>'s options; 0 (the default) trains it on the rows as they
        /// are. Saved with the model (<see cref="AutoregressiveAnomalyTransformer.BackgroundPerturbation"/>).
        /// </summary>
        public float BackgroundPerturbation;

        internal void Validate()
        {
            if (DensityModel == null)
                throw Guard.BadOption(nameof(DensityModel), "must be the options of a density model", null);
            DensityModel.Validate();
            if (string.IsNullOrWhiteSpace(ScoreColumnName))
                throw Guard.BadOption(nameof(ScoreColumnName), "must name a column", ScoreColumnName);
            if (string.IsNullOrWhiteSpace(PredictedLabelColumnName) || PredictedLabelColumnName == ScoreColumnName)
                throw Guard.BadOption(nameof(PredictedLabelColumnName), "must name a column other than the score's",
                    PredictedLabelColumnName);
            if (PixelScoresColumnName != null
                && (string.IsNullOrWhiteSpace(PixelScoresColumnName) || PixelScoresColumnName == ScoreColumnName
                || PixelScoresColumnName == PredictedLabelColumnName))
                throw Guard.BadOption(nameof(PixelScoresColumnName), "must be null or name a new column",
                    PixelScoresColumnName);
            if (!(ThresholdQuantile > 0 && ThresholdQuantile <= 1))
                throw Guard.BadOption(nameof(ThresholdQuantile), "must be in (0, 1]", ThresholdQuantile);
            if (Threshold is float t && !float.IsFinite(t))
                throw Guard.BadOption(nameof(Threshold), "must be finite", t);
            if (!Enum.IsDefined(ScoreCorrection))
                throw Guard.BadOption(nameof(ScoreCorrection),
                    "must be None, BackgroundLikelihoodRatio or InputComplexity", ScoreCorrection);
            if (!(BackgroundPerturbation >= 0f && BackgroundPerturbation < 1f))
                throw Guard.BadOption(nameof(BackgroundPerturbation), "must be in [0, 1)", BackgroundPerturbation);
            if (BackgroundPerturbation > 0f && ScoreCorrection != AnomalyScoreCorrection.BackgroundLikelihoodRatio)
                throw Guard.BadOption(nameof(BackgroundPerturbation),
                    $"is used only with `{nameof(ScoreCorrection)}` = BackgroundLikelihoodRatio (it is " +
                    $"{ScoreCorrection}); set it to 0", BackgroundPerturbation);
            if (BackgroundModel is AutoregressiveDensityOptions background)
            {
                if (ScoreCorrection != AnomalyScoreCorrection.BackgroundLikelihoodRatio)
                    throw Guard.BadOption(nameof(BackgroundModel),
                        $"is used only with `{nameof(ScoreCorrection)}` = BackgroundLikelihoodRatio (it is " +
                        $"{ScoreCorrection}); set it to null", background.GetType().DeclaringType?.Name);
                background.Validate();
                bool binary = DensityModel.Levels == 2; // binarisation matters only for binary pixels
                if (background.InputColumnName != DensityModel.InputColumnName
                    || background.Levels != DensityModel.Levels
                    || binary && (background.Binarization != DensityModel.Binarization
                        || background.BinarizationThreshold != DensityModel.BinarizationThreshold))
                    throw Guard.BadOption(nameof(BackgroundModel),
                        $"must read the same column and encode pixels as `{nameof(DensityModel)}` does " +
                        $"(InputColumnName '{DensityModel.InputColumnName}', Binarization " +
                            $"{DensityModel.Binarization}, BinarizationThreshold " +
                            $"{DensityModel.BinarizationThreshold}, {DensityModel.Levels} levels)",
                        $"'{background.InputColumnName}', {background.Binarization}, " +
                            $"{background.BinarizationThreshold}, {background.Levels} levels");
                static string Resizing(AutoregressiveDensityOptions o) =>
                    $"ImageHeight {o.ImageHeight}, ImageWidth {o.ImageWidth}, ImageResizing {o.ImageResizing}, " +
                    $"ImageCropAnchor {o.ImageCropAnchor}";
                if (Resizing(background) != Resizing(DensityModel))
                    throw Guard.BadOption(nameof(BackgroundModel),
                        $"must read images as `{nameof(DensityModel)}` does ({Resizing(DensityModel)})",
                        Resizing(background));
            }
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
        columns[_options.ScoreColumnName] = MlNetInterop.SchemaColumn(_options.ScoreColumnName,
            SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single);
        columns[_options.PredictedLabelColumnName] = MlNetInterop.SchemaColumn(_options.PredictedLabelColumnName,
            SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance);
        if (_options.PixelScoresColumnName is string pixels)
            columns[pixels] = MlNetInterop.SchemaColumn(pixels, SchemaShape.Column.VectorKind.Vector,
                NumberDataViewType.Single);
        return MlNetInterop.Shape(columns.Values);
    }

    /// <summary>
    /// Trains the density model on <paramref name="input"/> (normal data) and sets the threshold from its scores.
    /// </summary>
    public AutoregressiveAnomalyTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>
    /// Trains on <paramref name="trainData"/> with early stopping on <paramref name="validationData"/>; the threshold
    /// comes from the training rows.
    /// </summary>
    public AutoregressiveAnomalyTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        AutoregressiveDensityTransformer density = _options.DensityModel.CreateEstimator(_env).Fit(trainData,
            validationData, out EncodedRows rows);
        // Options.Validate allows a background model only with the likelihood ratio, whose default is independent
        // pixels; a perturbed background is a model (DensityModel's options unless BackgroundModel is given).
        float perturbation = _options.BackgroundPerturbation;
        AutoregressiveDensityOptions? backgroundOptions = perturbation > 0
            ? (_options.BackgroundModel ?? _options.DensityModel).WithTrainingPerturbation(perturbation)
            : _options.BackgroundModel;
        AutoregressiveDensityTransformer? background = backgroundOptions?.CreateEstimator(_env).Fit(trainData,
            validationData, out _);
        float[] independent = _options.ScoreCorrection == AnomalyScoreCorrection.BackgroundLikelihoodRatio
            && background == null
            ? IndependentLogProbabilities(rows, density.PixelLevels) : [];
        var corrector = new ScoreCorrector(_options.ScoreCorrection, density.PixelLevels, independent, background,
            perturbation);
        float threshold = _options.Threshold
            ?? Quantile(TrainingScores(density, rows, corrector), _options.ThresholdQuantile);
        return new AutoregressiveAnomalyTransformer(density, threshold, _options.ScoreColumnName,
            _options.PredictedLabelColumnName, _options.PixelScoresColumnName, corrector);
    }

    /// <summary>
    /// The (corrected) score of every training row, in blocks that reuse one workspace per model (a convolutional
    /// model's workspace holds every activation of the block; one more pass when the rows are streamed).
    /// </summary>
    private static float[] TrainingScores(AutoregressiveDensityTransformer density, EncodedRows rows,
        ScoreCorrector corrector)
    {
        const int blockRows = 100;
        int d = density.Dimension;
        DensityModel model = density.Model;
        DensityModel? background = corrector.BackgroundModel?.Model;
        ModelWorkspace workspace = model.CreateWorkspace(blockRows);
        ModelWorkspace? backgroundWorkspace = background?.CreateWorkspace(blockRows);
        float[] logLikelihoods = new float[blockRows], backgroundLogLikelihoods = new float[blockRows];
        var scores = new List<float>();
        foreach (var (block, count) in rows.Blocks(0, rows.Count, blockRows))
        {
            ReadOnlySpan<float> x = block.AsSpan(0, count * d);
            model.Score(x, count, logLikelihoods.AsSpan(0, count), Span<float>.Empty, workspace);
            background?.Score(x, count, backgroundLogLikelihoods.AsSpan(0, count), Span<float>.Empty,
                backgroundWorkspace!);
            for (int i = 0; i < count; i++)
                scores.Add(corrector.Score(logLikelihoods[i], backgroundLogLikelihoods[i], x.Slice(i * d, d)));
        }
        return scores.ToArray();
    }

    /// <summary>
    /// The independent-pixel background: <c>log p(x_i = k) = log((n_ik + 1) / (n + K))</c> from the training rows'
    /// level counts (Laplace-smoothed), <c>(D, K)</c>.
    /// </summary>
    private static float[] IndependentLogProbabilities(EncodedRows rows, int levels)
    {
        double[] counts = rows.PixelLevelCounts(levels);
        double total = rows.Count + levels;
        return counts.Select(c => (float)Math.Log((c + 1) / total)).ToArray();
    }

    /// <summary>
    /// The q-quantile by nearest rank: the smallest score with at least a fraction q of the scores at or below it.
    /// </summary>
    internal static float Quantile(float[] scores, double q)
    {
        if (scores.Length == 0)
            throw new ArgumentException("No training scores to set a threshold from.", nameof(scores));
        float[] sorted = (float[])scores.Clone();
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// A fitted <see cref="AutoregressiveAnomalyDetector"/>: adds <c>Score</c> (<c>-log p(x)</c>, nats),
/// <c>PredictedLabel</c> (<c>Score &gt; Threshold</c>) and optionally per-pixel scores, lazily per row. Saved and
/// loaded with <c>mlContext.Model.Save/Load</c> (the threshold and the density model with it).
/// </summary>
public sealed class AutoregressiveAnomalyTransformer : ITransformer, IRowScoringTransformer,
    ISavedModelLoadable<AutoregressiveAnomalyTransformer>
{
    internal const string LoaderSignature = "MLNetArAnomalyModel";
    // Format history: 0x00010001: first version (threshold, column names, nested density model "Density"). 0x00010002:
    // score correction kind and independent background logits (binary pixels). 0x00010003: independent background as
    // (D, K) log-probabilities; optional nested "Background" model. 0x00010004: the background's perturbation μ.
    private const uint VersionCurrent = 0x00010004;
    private const uint VersionBackgroundModel = 0x00010003;
    private const uint VersionCorrection = 0x00010002;
    private const uint VersionFirst = 0x00010001;

    internal AutoregressiveAnomalyTransformer(AutoregressiveDensityTransformer density, float threshold,
        string scoreColumnName,
        string predictedLabelColumnName, string? pixelScoresColumnName, ScoreCorrector corrector)
    {
        Density = density;
        Corrector = corrector;
        Threshold = threshold;
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
        PixelScoresColumnName = pixelScoresColumnName;
        // Annotated as ML.NET's anomaly-detection scorers annotate theirs, so tools that look for score columns find
        // them.
        static DataViewSchema.Annotations AnomalyScoreKinds(string valueKind) => ScoredColumn.TextAnnotations(
            (AnnotationUtils.Kinds.ScoreColumnKind, AnnotationUtils.Const.ScoreColumnKind.AnomalyDetection),
                (AnnotationUtils.Kinds.ScoreValueKind, valueKind));
        var columns = new List<ScoredColumn>
        {
            ScoredColumn.Scalar(scoreColumnName,
                corrector.Score).WithAnnotations(AnomalyScoreKinds(AnnotationUtils.Const.ScoreValueKind.Score)),
            ScoredColumn.Boolean(predictedLabelColumnName, scorer => corrector.Score(scorer) > threshold)
                .WithAnnotations(AnomalyScoreKinds(AnnotationUtils.Const.ScoreValueKind.PredictedLabel)),
        };
        if (pixelScoresColumnName != null)
            columns.Add(ScoredColumn.Vector(pixelScoresColumnName, density.Dimension, needsPixelScores: true,
                corrector.PixelScores)
                .WithAnnotations(ScoredColumn.PixelSlotNames(density.Dimension)));
        OutputColumns = columns;
    }

    /// <summary>
    /// This detector with <paramref name="threshold"/> (nats) in place of <see cref="Threshold"/>; the fitted models
    /// are shared.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not finite.</exception>
    public AutoregressiveAnomalyTransformer WithThreshold(float threshold)
    {
        if (!float.IsFinite(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be finite.");
        return new AutoregressiveAnomalyTransformer(Density, threshold, ScoreColumnName, PredictedLabelColumnName,
            PixelScoresColumnName, Corrector);
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
    /// <summary>The fitted background model of the likelihood ratio, or null (none, or independent pixels).</summary>
    public AutoregressiveDensityTransformer? Background => Corrector.BackgroundModel;
    /// <summary>
    /// The probability μ with which each pixel of <see cref="Background"/>'s training rows was replaced by a uniform
    /// level (<see cref="AutoregressiveAnomalyDetector.Options.BackgroundPerturbation"/>; 0: none).
    /// </summary>
    public float BackgroundPerturbation => Corrector.BackgroundPerturbation;
    internal ScoreCorrector Corrector { get; }

    DensityModel IRowScoringTransformer.Model => Density.Model;
    IReadOnlyList<DensityModel> IRowScoringTransformer.OtherModels =>
        Corrector.BackgroundModel is { } background ? [background.Model] : [];
    PixelEncoder IRowScoringTransformer.Encoder => Density.Encoder;
    IReadOnlyList<ScoredColumn> IRowScoringTransformer.OutputColumns => OutputColumns;
    private IReadOnlyList<ScoredColumn> OutputColumns { get; }

    IReadOnlyList<string> IRowScoringTransformer.ExportOnnx(OnnxGraph graph, string pixels)
    {
        OnnxScores scores = Density.Model.ExportOnnx(graph, pixels, hiddenFeatures: false);
        var (score, pixelScores) = Corrector.ExportOnnx(graph, scores, pixels);
        string predicted = graph.Greater(score, graph.Scalar(Threshold));
        return PixelScoresColumnName == null ? [score, predicted] : [score, predicted, pixelScores];
    }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;
    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) =>
        RowScoringTransformers.OutputSchema(this, inputSchema);
    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => RowScoringTransformers.Transform(this, input);
    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        RowScoringTransformers.Mapper(this, inputSchema);

    /// <summary>The saved entry's identity and version (see the format history above).</summary>
    static SavedModelFormat ISavedModelLoadable<AutoregressiveAnomalyTransformer>.SavedFormat => s_savedFormat;

    private static readonly SavedModelFormat s_savedFormat =
        new("MLNARANO", VersionCurrent, VersionCurrent, VersionFirst, LoaderSignature);

    /// <inheritdoc/>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        var saved = SavedModelWriter.Begin(ctx, s_savedFormat);
        BinaryWriter writer = saved.Writer;
        writer.Write(Threshold);
        saved.WriteString(ScoreColumnName);
        saved.WriteString(PredictedLabelColumnName);
        writer.Write(PixelScoresColumnName != null);
        if (PixelScoresColumnName != null) saved.WriteString(PixelScoresColumnName);
        writer.Write((int)Corrector.Kind);
        writer.Write(Corrector.IndependentLogProbabilities.Length);
        foreach (float v in Corrector.IndependentLogProbabilities) writer.Write(v);
        writer.Write(Corrector.BackgroundModel != null);
        writer.Write(Corrector.BackgroundPerturbation);
        saved.WriteTransformer(Density, "Density");
        if (Corrector.BackgroundModel != null) saved.WriteTransformer(Corrector.BackgroundModel, "Background");
    }

    static AutoregressiveAnomalyTransformer ISavedModelLoadable<AutoregressiveAnomalyTransformer>.Load(
        SavedModelReader saved)
    {
        BinaryReader reader = saved.Reader;
        float threshold = reader.ReadSingle();
        if (!float.IsFinite(threshold))
            throw new InvalidDataException("Corrupt MLNetAr anomaly model: the threshold is not finite.");
        string score = saved.ReadString(), label = saved.ReadString();
        string? pixels = reader.ReadBoolean() ? saved.ReadString() : null;
        var kind = AnomalyScoreCorrection.None;
        float[] independent = [];
        bool hasBackgroundModel = false;
        if (saved.VersionWritten >= VersionCorrection)
        {
            kind = (AnomalyScoreCorrection)reader.ReadInt32();
            int count = reader.ReadInt32();
            if (!Enum.IsDefined(kind) || count < 0 || count > 1 << 26)
                throw new InvalidDataException("Corrupt MLNetAr anomaly model: invalid score correction.");
            independent = new float[count];
            for (int i = 0; i < count; i++)
                if (!float.IsFinite(independent[i] = reader.ReadSingle()))
                    throw new InvalidDataException("Corrupt MLNetAr anomaly model: non-finite background weights.");
            if (saved.VersionWritten >= VersionBackgroundModel) hasBackgroundModel = reader.ReadBoolean();
            // 0x00010002 stored D Bernoulli logits
            else independent = ScoreCorrector.BinaryLogProbabilities(independent);
        }
        float perturbation = saved.VersionWritten >= VersionCurrent ? reader.ReadSingle() : 0f;
        if (!(perturbation >= 0f && perturbation < 1f))
            throw new InvalidDataException($"Corrupt MLNetAr anomaly model: background perturbation {perturbation}.");
        AutoregressiveDensityTransformer density = LoadDensity(saved, "Density");
        AutoregressiveDensityTransformer? backgroundModel = hasBackgroundModel ? LoadDensity(saved, "Background")
            : null;
        if (independent.Length != 0 && independent.Length != density.Dimension * density.PixelLevels)
            throw new InvalidDataException($"Corrupt MLNetAr anomaly model: {independent.Length} background weights " +
                $"for {density.Dimension} pixels of {density.PixelLevels} levels.");
        if (backgroundModel != null
            && (backgroundModel.Dimension != density.Dimension || backgroundModel.PixelLevels != density.PixelLevels))
            throw new InvalidDataException("Corrupt MLNetAr anomaly model: the background model does not describe " +
                "the density model's pixels.");
        return new AutoregressiveAnomalyTransformer(density, threshold, score, label, pixels,
            new ScoreCorrector(kind, density.PixelLevels, independent, backgroundModel, perturbation));
    }

    private static AutoregressiveDensityTransformer LoadDensity(SavedModelReader saved, string name)
    {
        ITransformer? nested = saved.ReadTransformer(name);
        return nested as AutoregressiveDensityTransformer
            ?? throw new InvalidDataException($"Corrupt MLNetAr anomaly model: the nested model '{name}' is a " +
                $"{nested?.GetType().Name ?? "null"}, not an MLNetAr density model.");
    }
}
