using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using MLNetAr.Internal;
using MLNetAr.Training;

namespace MLNetAr;

/// <summary>How input pixel values in [0, 1] become the binary values the Bernoulli models describe.</summary>
public enum PixelBinarization
{
    /// <summary>
    /// A pixel is 1 when its value is above <see cref="AutoregressiveDensityOptions.BinarizationThreshold"/>.
    /// </summary>
    Threshold,
    /// <summary>
    /// No binarisation: every value must already be exactly 0 or 1 (e.g. the standard binarized MNIST).
    /// </summary>
    None,
}

/// <summary>
/// Options every autoregressive density estimator shares: columns, binarisation and the training schedule.
/// </summary>
public abstract class AutoregressiveDensityOptions
{
    /// <summary>
    /// Input column: a known-size vector of <see cref="float"/> with values in [0, 1], e.g. from
    /// <c>ExtractPixels(scaleImage: 1f / 255)</c>; or an image column (<c>LoadImages</c>'
    /// <see cref="Microsoft.ML.Data.MLImage"/>), read as
    /// <c>ResizeImages → ConvertToGrayscale → ExtractPixels(Red, scaleImage: 1f / 255)</c> would, bit for bit.
    /// </summary>
    public string InputColumnName = AutoregressiveDefaults.InputColumnName;

    /// <summary>
    /// With an image input column: the height every image is resized to (set with <see cref="ImageWidth"/>). When both
    /// are null, images keep their size, which is the column type's (after <c>ResizeImages</c>) or else the first
    /// training image's; an image of another size is then an error.
    /// </summary>
    public int? ImageHeight;

    /// <summary>
    /// With an image input column: the width every image is resized to (see <see cref="ImageHeight"/>).
    /// </summary>
    public int? ImageWidth;

    /// <summary>
    /// With <see cref="ImageHeight"/> and <see cref="ImageWidth"/>: how images are resized, as <c>ResizeImages</c>'
    /// <c>resizing</c>.
    /// </summary>
    public ImageResizingEstimator.ResizingKind ImageResizing = ImageResizingEstimator.ResizingKind.IsoCrop;

    /// <summary>
    /// With <see cref="ImageResizingEstimator.ResizingKind.IsoCrop"/>: where images are cropped, as
    /// <c>ResizeImages</c>' <c>cropAnchor</c>.
    /// </summary>
    public ImageResizingEstimator.Anchor ImageCropAnchor = ImageResizingEstimator.Anchor.Center;

    /// <summary>
    /// Output column for the exact log-likelihood <c>log p(x)</c> of each row, in nats (a <see cref="float"/>).
    /// </summary>
    public string LogLikelihoodColumnName = AutoregressiveDefaults.LogLikelihoodColumnName;

    /// <summary>Output column for the model's hidden features (a known-size vector of <see cref="float"/>).</summary>
    public string HiddenFeaturesColumnName = AutoregressiveDefaults.HiddenFeaturesColumnName;

    /// <summary>How input values become binary pixels.</summary>
    public PixelBinarization Binarization = PixelBinarization.Threshold;

    /// <summary>
    /// With <see cref="PixelBinarization.Threshold"/>: a pixel is 1 when its value is strictly above this (in [0, 1)).
    /// </summary>
    public float BinarizationThreshold = AutoregressiveDefaults.BinarizationThreshold;

    /// <summary>Upper bound on training epochs (passes over the training rows).</summary>
    public int MaximumNumberOfEpochs = AutoregressiveDefaults.MaximumNumberOfEpochs;

    /// <summary>Number of rows per optimiser step.</summary>
    public int BatchSize = AutoregressiveDefaults.BatchSize;

    /// <summary>The optimiser's (initial) step size; see <see cref="LearningRateSchedule"/>.</summary>
    public float LearningRate = AutoregressiveDefaults.LearningRate;

    /// <summary>The minibatch optimiser (Adam by default; MADE's published results used Adagrad).</summary>
    public TrainingOptimizer Optimizer = TrainingOptimizer.Adam;

    /// <summary>With <see cref="TrainingOptimizer.SgdMomentum"/>: the momentum μ, in [0, 1) (0 is plain SGD).</summary>
    public float Momentum = 0.9f;

    /// <summary>
    /// L2 regularisation λ: adds <c>λ/2·‖W‖²</c> to the minibatch's mean NLL for every weight matrix (biases are not
    /// penalised), i.e. <c>λ·W</c> to the gradient. 0 (default) turns it off; FVSBN and wide MADEs over-fit without it.
    /// </summary>
    public float L2Regularization;

    /// <summary>
    /// L1 regularisation λ₁: adds <c>λ₁·‖W‖₁</c> to the minibatch's mean NLL for every weight matrix (biases are not
    /// penalised), i.e. <c>λ₁·sign(W)</c> to the gradient, which pulls weights that carry little evidence (e.g. FVSBN's
    /// weights between distant pixels) towards zero. 0 (default) turns it off; may be combined with
    /// <see cref="L2Regularization"/>.
    /// </summary>
    public float L1Regularization;

    /// <summary>
    /// Input dropout p in [0, 1): during training each conditioning input is dropped (set to 0) with probability p and
    /// the others scaled by 1/(1 - p); the likelihood is always that of the true pixels, and scoring never drops. A
    /// regulariser for models that over-fit (FVSBN, wide MADEs). 0 (default) turns it off; NADE does not support it.
    /// </summary>
    public float InputDropout;

    /// <summary>How the learning rate changes during training (constant by default).</summary>
    public LearningRateSchedule LearningRateSchedule = LearningRateSchedule.Constant;

    /// <summary>
    /// With <see cref="LearningRateSchedule.ReduceOnPlateau"/>: the factor the rate is multiplied by, in (0, 1).
    /// </summary>
    public float LearningRateDecayFactor = 0.5f;

    /// <summary>
    /// With <see cref="LearningRateSchedule.ReduceOnPlateau"/>: epochs without a better validation NLL before the rate
    /// is reduced. Must be below <see cref="EarlyStoppingPatience"/>, or training would stop before any reduction.
    /// </summary>
    public int PlateauPatience = 2;

    /// <summary>
    /// Threads training may use (as ML.NET trainers' <c>NumberOfThreads</c>); null uses every core. The model is
    /// bit-identical for any value: work is cut into pieces by the problem's size, never by the thread count.
    /// </summary>
    public int? NumberOfThreads;

    /// <summary>
    /// When <c>Fit</c> gets no validation data: the fraction of training rows held out to choose the best epoch and
    /// stop early. The rows are drawn at random (exactly <c>floor(N · fraction)</c> of them, every such set equally
    /// likely), the same rows for the same <see cref="Seed"/>, whether or not the data is streamed; so data sorted by
    /// class or time still validates on all of it. 0 trains on every row for <see cref="MaximumNumberOfEpochs"/>
    /// epochs.
    /// </summary>
    public float ValidationFraction = AutoregressiveDefaults.ValidationFraction;

    /// <summary>
    /// When positive, each minibatch gradient whose L2 norm (over all parameters) exceeds this is scaled down to it
    /// before the Adam step — the usual guard against exploding gradients in recurrent models. 0 turns it off.
    /// </summary>
    public float GradientClipNorm;

    /// <summary>
    /// Stop after this many epochs without a better validation log-likelihood: the papers' early-stopping "look-ahead"
    /// (MADE used 30 epochs). The model returned is always the best epoch's.
    /// </summary>
    public int EarlyStoppingPatience = AutoregressiveDefaults.EarlyStoppingPatience;

    /// <summary>
    /// When set, training stops after the epoch during which this much wall-clock time has passed (counted from the
    /// start of this <c>Fit</c>), keeping the best epoch as always. The result then depends on the machine's speed;
    /// leave it null for runs that must be reproducible. The learning-rate schedules still decay over
    /// <see cref="MaximumNumberOfEpochs"/>.
    /// </summary>
    public TimeSpan? MaximumTrainingTime;

    /// <summary>
    /// Seed for initialisation, the validation holdout and minibatch order; when null, the <c>MLContext</c>'s random
    /// source decides.
    /// </summary>
    public int? Seed;

    /// <summary>
    /// Cancels training between minibatches: <c>Fit</c> then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public CancellationToken CancellationToken;

    /// <summary>
    /// When set, receives how far training has got within each epoch (rows done, images per second, the epoch's time
    /// left) at most every half second and once at the end of each epoch's training pass, called on the training
    /// thread: a <see cref="Progress{T}"/> posts to its own context instead. Not saved with the model. Long epochs are
    /// also reported on <c>MLContext.Log</c> every 10 seconds, whether or not this is set.
    /// </summary>
    public IProgress<TrainingProgress>? Progress;

    /// <summary>
    /// When set, training writes its complete state to this file (atomically) every <see cref="CheckpointEveryEpochs"/>
    /// epochs, and a later <c>Fit</c> with the same options and data resumes from it, giving exactly the result of an
    /// uninterrupted run. A checkpoint of another run is refused with an error.
    /// </summary>
    public string? CheckpointPath;

    /// <summary>How often to write the checkpoint, in epochs (the last epoch is always written).</summary>
    public int CheckpointEveryEpochs = 1;

    /// <summary>
    /// False (default): <c>Fit</c> reads the input column once into memory (rows × D floats) and shuffles all training
    /// rows every epoch. True: training never holds the data; every epoch (and every validation pass) reads the rows
    /// again from the data view's cursor, so data larger than memory can be trained on. Minibatches are then shuffled
    /// within pools of <see cref="ShufflePoolRows"/> consecutive rows, so a data view sorted by class should be
    /// shuffled first (e.g. <c>mlContext.Data.ShuffleRows</c>). The first pass counts the rows unless the data view
    /// knows its row count.
    /// </summary>
    public bool StreamTrainingData;

    /// <summary>
    /// With <see cref="StreamTrainingData"/>: rows read and shuffled together (memory: this many × D floats).
    /// </summary>
    public int ShufflePoolRows = 10000;

    /// <summary>
    /// Pixel levels K: 2 models binary pixels (see <see cref="Binarization"/>); K &gt; 2 quantises each value v in
    /// [0, 1] to level <c>round(v·(K - 1))</c> and models it with a K-way softmax per pixel (up to 256 levels, the
    /// grey levels of 8-bit images).
    /// </summary>
    public int Levels = 2;

    /// <summary>
    /// With <see cref="Levels"/> &gt; 2: model each pixel as a mixture of this many discretised logistics (PixelCNN++,
    /// Salimans et al. 2017) — 3 outputs per component whatever the number of levels, where the softmax needs one per
    /// level — instead of a softmax over the levels (0, the default). Neighbouring levels then share probability,
    /// which suits grey images; 5 to 10 components are usual. At most 32.
    /// </summary>
    public int MixtureComponents;

    /// <summary>
    /// Probability μ of replacing each pixel of the training and validation rows by a uniform level (the anomaly
    /// detector's perturbed background; see <c>AutoregressiveAnomalyDetector.Options.BackgroundPerturbation</c>).
    /// </summary>
    internal float TrainingPerturbation;

    /// <summary>
    /// A copy of these options that trains on rows perturbed with probability <paramref name="mu"/>, checkpointing
    /// (if at all) beside <see cref="CheckpointPath"/> rather than over it: the detector trains both models.
    /// </summary>
    internal AutoregressiveDensityOptions WithTrainingPerturbation(float mu)
    {
        var copy = (AutoregressiveDensityOptions)MemberwiseClone();
        copy.TrainingPerturbation = mu;
        if (CheckpointPath != null)
            copy.CheckpointPath = CheckpointPath + ".perturbed-" + mu.ToString("R", CultureInfo.InvariantCulture);
        return copy;
    }

    /// <summary>The estimator these options configure (lets composite trainers take any model's options).</summary>
    internal abstract IDensityEstimator CreateEstimator(IHostEnvironment env);

    /// <summary>Checks every shared option; models extend it with their own.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its valid range (the message names
    /// it).</exception>
    internal virtual void Validate()
    {
        if (string.IsNullOrWhiteSpace(InputColumnName))
            throw Guard.BadOption(nameof(InputColumnName), "must name a column", InputColumnName);
        if (string.IsNullOrWhiteSpace(LogLikelihoodColumnName))
            throw Guard.BadOption(nameof(LogLikelihoodColumnName), "must name a column", LogLikelihoodColumnName);
        if (string.IsNullOrWhiteSpace(HiddenFeaturesColumnName))
            throw Guard.BadOption(nameof(HiddenFeaturesColumnName), "must name a column", HiddenFeaturesColumnName);
        if (LogLikelihoodColumnName == HiddenFeaturesColumnName)
            throw Guard.BadOption(nameof(HiddenFeaturesColumnName),
                $"must differ from `{nameof(LogLikelihoodColumnName)}`", HiddenFeaturesColumnName);
        if (ImageHeight.HasValue != ImageWidth.HasValue)
            throw Guard.BadOption(ImageHeight.HasValue ? nameof(ImageWidth) : nameof(ImageHeight),
                $"must be set together with `{(ImageHeight.HasValue ? nameof(ImageHeight) : nameof(ImageWidth))}` " +
                $"(or both left null)", null);
        if (ImageHeight is int h && h < 1) throw Guard.BadOption(nameof(ImageHeight), "must be positive", h);
        if (ImageWidth is int w && w < 1) throw Guard.BadOption(nameof(ImageWidth), "must be positive", w);
        if (!Enum.IsDefined(ImageResizing))
            throw Guard.BadOption(nameof(ImageResizing), "must be IsoPad, IsoCrop or Fill", ImageResizing);
        if (!Enum.IsDefined(ImageCropAnchor))
            throw Guard.BadOption(nameof(ImageCropAnchor), "must be Right, Left, Top, Bottom or Center",
                ImageCropAnchor);
        if (!Enum.IsDefined(Binarization))
            throw Guard.BadOption(nameof(Binarization), "must be Threshold or None", Binarization);
        if (!(BinarizationThreshold >= 0f && BinarizationThreshold < 1f))
            throw Guard.BadOption(nameof(BinarizationThreshold), "must be in [0, 1)", BinarizationThreshold);
        if (MaximumNumberOfEpochs < 1)
            throw Guard.BadOption(nameof(MaximumNumberOfEpochs), "must be positive", MaximumNumberOfEpochs);
        if (BatchSize < 1) throw Guard.BadOption(nameof(BatchSize), "must be positive", BatchSize);
        if (NumberOfThreads is int threads && threads < 1)
            throw Guard.BadOption(nameof(NumberOfThreads), "must be positive (or null for every core)", threads);
        if (!(LearningRate > 0f) || !float.IsFinite(LearningRate))
            throw Guard.BadOption(nameof(LearningRate), "must be a positive finite number", LearningRate);
        if (!(ValidationFraction >= 0f && ValidationFraction < 1f))
            throw Guard.BadOption(nameof(ValidationFraction), "must be in [0, 1)", ValidationFraction);
        if (EarlyStoppingPatience < 1)
            throw Guard.BadOption(nameof(EarlyStoppingPatience), "must be positive", EarlyStoppingPatience);
        if (CheckpointEveryEpochs < 1)
            throw Guard.BadOption(nameof(CheckpointEveryEpochs), "must be positive", CheckpointEveryEpochs);
        if (!(GradientClipNorm >= 0f) || !float.IsFinite(GradientClipNorm))
            throw Guard.BadOption(nameof(GradientClipNorm), "must be 0 (off) or a positive finite number",
                GradientClipNorm);
        if (!Enum.IsDefined(Optimizer))
            throw Guard.BadOption(nameof(Optimizer), "must be Adam, Adagrad or SgdMomentum", Optimizer);
        if (!(Momentum >= 0f && Momentum < 1f)) throw Guard.BadOption(nameof(Momentum), "must be in [0, 1)", Momentum);
        if (!(L2Regularization >= 0f) || !float.IsFinite(L2Regularization))
            throw Guard.BadOption(nameof(L2Regularization), "must be 0 (off) or a positive finite number",
                L2Regularization);
        if (!(L1Regularization >= 0f) || !float.IsFinite(L1Regularization))
            throw Guard.BadOption(nameof(L1Regularization), "must be 0 (off) or a positive finite number",
                L1Regularization);
        if (!(InputDropout >= 0f && InputDropout < 1f))
            throw Guard.BadOption(nameof(InputDropout), "must be in [0, 1)", InputDropout);
        if (!Enum.IsDefined(LearningRateSchedule))
            throw Guard.BadOption(nameof(LearningRateSchedule),
                "must be Constant, LinearDecay, CosineDecay or ReduceOnPlateau", LearningRateSchedule);
        if (!(LearningRateDecayFactor > 0f && LearningRateDecayFactor < 1f))
            throw Guard.BadOption(nameof(LearningRateDecayFactor), "must be in (0, 1)", LearningRateDecayFactor);
        if (PlateauPatience < 1) throw Guard.BadOption(nameof(PlateauPatience), "must be positive", PlateauPatience);
        if (LearningRateSchedule == LearningRateSchedule.ReduceOnPlateau && PlateauPatience >= EarlyStoppingPatience)
            throw Guard.BadOption(nameof(PlateauPatience),
                $"must be below {nameof(EarlyStoppingPatience)} ({EarlyStoppingPatience}) with ReduceOnPlateau, or " +
                $"training stops before the rate is ever reduced", PlateauPatience);
        if (MaximumTrainingTime is TimeSpan budget && budget <= TimeSpan.Zero)
            throw Guard.BadOption(nameof(MaximumTrainingTime), "must be positive (or null for no limit)", budget);
        if (ShufflePoolRows < 1) throw Guard.BadOption(nameof(ShufflePoolRows), "must be positive", ShufflePoolRows);
        if (Levels < 2 || Levels > 256) throw Guard.BadOption(nameof(Levels), "must be in [2, 256]", Levels);
        if (MixtureComponents < 0 || MixtureComponents > 32)
            throw Guard.BadOption(nameof(MixtureComponents), "must be in [0, 32]", MixtureComponents);
        if (MixtureComponents > 0 && Levels < 3)
            throw Guard.BadOption(nameof(MixtureComponents),
                $"must be 0 with binary pixels (Levels = {Levels}): a mixture describes grey levels (Levels ≥ 3)",
                MixtureComponents);
        if (CheckpointPath != null && string.IsNullOrWhiteSpace(CheckpointPath))
            throw Guard.BadOption(nameof(CheckpointPath), "must be null or a file path", CheckpointPath);
    }
}

/// <summary>Defaults shared by the options classes and the catalog's flat overloads.</summary>
internal static class AutoregressiveDefaults
{
    public const string InputColumnName = "Pixels";
    public const string LogLikelihoodColumnName = "LogLikelihood";
    public const string HiddenFeaturesColumnName = "HiddenFeatures";
    public const float BinarizationThreshold = 0.5f;
    public const int MaximumNumberOfEpochs = 30;
    public const int BatchSize = 100;
    public const float LearningRate = 1e-3f;
    public const float ValidationFraction = 0.1f;
    public const int EarlyStoppingPatience = 5;
}
