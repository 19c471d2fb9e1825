using System.Collections;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using MLNetAr.Internal;
using MLNetAr.Interop;
using MLNetAr.Kernels;
using MLNetAr.Models;
using MLNetAr.Nn;
using MLNetAr.Training;

namespace MLNetAr;

/// <summary>
/// Shared estimator of every MLNetAr density model: reads and checks the input column, splits off validation rows,
/// trains the model with minibatch Adam and early stopping, and returns an
/// <see cref="AutoregressiveDensityTransformer"/>.
/// </summary>
/// <typeparam name="TOptions">The model's options.</typeparam>
/// <remarks>
/// Training reads the input column once into memory (rows × D floats) and trains from there, or, with
/// <see cref="AutoregressiveDensityOptions.StreamTrainingData"/>, reads it again from the data view every epoch.
/// </remarks>
public abstract class AutoregressiveDensityEstimator<TOptions> : IEstimator<AutoregressiveDensityTransformer>,
    IDensityEstimator
    where TOptions : AutoregressiveDensityOptions
{
    /// <summary>The estimator's host (logging channel, random source).</summary>
    private protected IHost Host { get; }

    /// <summary>An information message on the estimator's channel (ML.NET's log, <c>MLContext.Log</c>).</summary>
    private protected void LogInfo(string message)
    {
        using var channel = Host.Start("Model shape");
        channel.LogInfo(message);
    }

    private protected AutoregressiveDensityEstimator(IHostEnvironment env, TOptions options, string registrationName)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Host = env.Register(registrationName);
        EstimatorOptions = options;
    }

    /// <summary>The options this estimator trains with.</summary>
    public TOptions EstimatorOptions { get; }

    /// <summary>
    /// Creates the untrained model for the input column's type (size D, and the image shape when the column carries
    /// dimensions), initialised from the training rows where that helps.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The column's shape does not suit the model's options.</exception>
    private protected abstract DensityModel CreateModel(VectorDataViewType inputType, EncodedRows trainingRows,
        Random random);

    /// <summary>
    /// Checks the input column's type against the options before any row is read (an image model's shape), so that a
    /// wrong setting fails at once, not after reading the data. Throws naming the option.
    /// </summary>
    private protected virtual void CheckInputType(VectorDataViewType inputType) { }

    /// <summary>The output schema: the input columns plus the log-likelihood and hidden-feature columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or not a known-size vector of
    /// Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Guard.CheckInputColumn(inputSchema, EstimatorOptions.InputColumnName);
        var columns = inputSchema.ToDictionary(c => c.Name);
        columns[EstimatorOptions.LogLikelihoodColumnName] = MlNetInterop.SchemaColumn(
            EstimatorOptions.LogLikelihoodColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single);
        columns[EstimatorOptions.HiddenFeaturesColumnName] = MlNetInterop.SchemaColumn(
            EstimatorOptions.HiddenFeaturesColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        return MlNetInterop.Shape(columns.Values);
    }

    /// <summary>
    /// Trains on <paramref name="input"/>, holding out a seeded random
    /// <see cref="AutoregressiveDensityOptions.ValidationFraction"/> of its rows for early stopping.
    /// </summary>
    public AutoregressiveDensityTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>
    /// Trains on <paramref name="trainData"/> and stops early on <paramref name="validationData"/> (all of its rows).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type or size.</exception>
    /// <exception cref="ArgumentException">The training data has no rows.</exception>
    /// <exception cref="InvalidOperationException">A pixel value is NaN or outside [0, 1].</exception>
    /// <exception cref="OperationCanceledException">The options' <c>CancellationToken</c> was cancelled (or the host
    /// was) during training.</exception>
    /// <remarks>
    /// A diverging run (non-finite loss or gradient, e.g. from an absurd learning rate) stops at once and keeps the
    /// weights of its best epoch (the untrained model counts as epoch 0); the log says so.
    /// </remarks>
    public AutoregressiveDensityTransformer Fit(IDataView trainData, IDataView? validationData) =>
        FitAndKeepRows(trainData, validationData, out _);

    AutoregressiveDensityTransformer IDensityEstimator.Fit(IDataView trainData, IDataView? validationData,
        out EncodedRows trainingRows) =>
        FitAndKeepRows(trainData, validationData, out trainingRows);

    /// <summary>
    /// <see cref="Fit(IDataView, IDataView?)"/>, also returning every row of <paramref name="trainData"/> as read and
    /// encoded (in memory or streamed, as trained; rows in memory come back in another order when a validation holdout
    /// was drawn).
    /// </summary>
    private AutoregressiveDensityTransformer FitAndKeepRows(IDataView trainData, IDataView? validationData,
        out EncodedRows trainingRows)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var o = EstimatorOptions;
        var (encoder, inputType, imageNote) = ReadInputColumn(trainData);
        int dimension = inputType.Size;
        trainingRows = ReadRows(trainData, encoder, dimension);
        if (trainingRows.Count == 0)
            throw new ArgumentException($"Training data is empty: column '{o.InputColumnName}' has no rows.",
                nameof(trainData));
        int seed = o.Seed ?? Host.Rand.Next();
        TrainingData data = SplitForValidation(trainingRows, validationData, encoder, dimension, seed);

        var random = new Random(seed);
        DensityModel model = CreateModel(inputType, new EncodedRows.Slice(data.Train, data.TrainStart, data.TrainEnd),
            random);
        List<TrainedEpoch> history = Train(model, data, TrainingSettingsFrom(o, seed), imageNote);
        return new AutoregressiveDensityTransformer(Host, model, encoder, o.LogLikelihoodColumnName,
            o.HiddenFeaturesColumnName,
            history.ConvertAll(e =>
                new EpochSummary(e.Epoch, e.TrainingNll, e.ValidationNll, e.Seconds, e.LearningRate, model.Dimension)));
    }

    /// <summary>
    /// Checks the input column and says how it becomes pixels: the encoder, the pixel vector type, and a note for the
    /// log when an image column was probed for its size.
    /// </summary>
    private (PixelEncoder Encoder, VectorDataViewType InputType, string? ImageNote) ReadInputColumn(IDataView data)
    {
        string column = EstimatorOptions.InputColumnName;
        DataViewSchema schema = data.Schema;
        Guard.CheckInputColumn(schema, column, null, allowImage: true);
        ImageInput? image = ImageInputOf(data, column, out string? imageNote);
        var inputType = image?.PixelType ?? (VectorDataViewType)schema[column].Type;
        CheckInputType(inputType);
        var encoder = new PixelEncoder(column, (BinarizationKind)EstimatorOptions.Binarization,
            EstimatorOptions.BinarizationThreshold, EstimatorOptions.Levels)
        { Image = image };
        return (encoder, inputType, imageNote);
    }

    /// <summary>The rows of <paramref name="data"/>, encoded: read into memory, or streamed on every pass.</summary>
    private EncodedRows ReadRows(IDataView data, PixelEncoder encoder, int dimension) =>
        EstimatorOptions.StreamTrainingData
            ? new EncodedRows.Streamed(data, encoder, dimension)
            : new EncodedRows.InMemory(encoder.ReadRows(data, dimension), dimension);

    /// <summary>
    /// Training and validation rows: all of <paramref name="validationData"/> when given, else a seeded random
    /// holdout of <see cref="AutoregressiveDensityOptions.ValidationFraction"/> of <paramref name="rows"/>.
    /// </summary>
    private TrainingData SplitForValidation(EncodedRows rows, IDataView? validationData, PixelEncoder encoder,
        int dimension, int seed)
    {
        var o = EstimatorOptions;
        int pool = o.StreamTrainingData ? o.ShufflePoolRows : 0;
        long count = rows.Count;
        if (validationData != null)
        {
            encoder.CheckInput(validationData.Schema, dimension);
            EncodedRows validation = ReadRows(validationData, encoder, dimension);
            return new TrainingData(rows, 0, count, validation, 0, validation.Count, pool);
        }
        // A seeded random holdout (its own stream, so the model's initialisation does not depend on it). Rows in
        // memory are rearranged once, training rows first; streamed rows are filtered on every pass. Either way each
        // part keeps data order, so both give the same model.
        long held = (long)(count * (double)o.ValidationFraction);
        if (held >= count) held = count - 1;
        BitArray heldOut = Holdout.Draw(count, held, unchecked(seed * 31 + 7));
        if (rows is EncodedRows.InMemory inMemory)
        {
            Holdout.MoveMarkedRowsLast(inMemory.Rows, dimension, heldOut);
            return new TrainingData(rows, 0, count - held, rows, count - held, count, pool);
        }
        return new TrainingData(new EncodedRows.Subset(rows, heldOut, selected: false), 0, count - held,
            new EncodedRows.Subset(rows, heldOut, selected: true), 0, held, pool);
    }

    /// <summary>
    /// The training loop's settings from the public options (each public enum cast to its internal mirror).
    /// </summary>
    private static TrainingSettings TrainingSettingsFrom(AutoregressiveDensityOptions o, int seed) =>
        new(o.MaximumNumberOfEpochs, o.BatchSize, o.LearningRate, o.EarlyStoppingPatience, seed, o.GradientClipNorm)
        {
            Optimizer = (OptimizerKind)o.Optimizer,
            Momentum = o.Momentum,
            L2Regularization = o.L2Regularization,
            L1Regularization = o.L1Regularization,
            Schedule = (ScheduleKind)o.LearningRateSchedule,
            LearningRateDecayFactor = o.LearningRateDecayFactor,
            PlateauPatience = o.PlateauPatience,
            MaximumTrainingTime = o.MaximumTrainingTime,
            InputDropout = o.InputDropout,
            InputPerturbation = o.TrainingPerturbation,
        };

    /// <summary>
    /// Runs the training loop on the estimator's channel: its log, cancellation, checkpoint, progress and thread limit.
    /// </summary>
    private List<TrainedEpoch> Train(DensityModel model, TrainingData data, TrainingSettings settings,
        string? imageNote)
    {
        var o = EstimatorOptions;
        using var channel = Host.Start("Training");
        if (imageNote != null) channel.LogInfo(imageNote);
        using var threads = Kernel.LimitThreads(o.NumberOfThreads);
        string streamed = o.StreamTrainingData ? $", streamed (shuffle pool {data.ShufflePoolRows} rows)" : "";
        channel.LogInfo($"{model.Kind}: {data.TrainCount} training rows, {data.ValidationCount} validation rows, " +
            $"{model.Dimension} pixels, {model.ParameterCount} parameters{streamed}.");
        return DensityTraining.Train(model, data, settings,
            log: message => channel.LogInfo(message),
            warn: message => channel.LogWarning(message),
            isCancelled: () => o.CancellationToken.IsCancellationRequested || MlNetInterop.IsCancelled(Host),
            checkpoint: o.CheckpointPath is string path ? new CheckpointSettings(path, o.CheckpointEveryEpochs) : null,
            progress: ReportProgress(o.Progress, o.MaximumNumberOfEpochs, channel));
    }

    /// <summary>The least time between two progress lines of one epoch on <c>MLContext.Log</c>.</summary>
    private static readonly TimeSpan ProgressLogInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Hands training's progress to the user's <paramref name="progress"/> and, every
    /// <see cref="ProgressLogInterval"/> within a long epoch, to the log.
    /// </summary>
    private static Action<EpochProgress> ReportProgress(IProgress<TrainingProgress>? progress, int maximumEpochs,
        IChannel channel)
    {
        TimeSpan nextLog = ProgressLogInterval;
        return p =>
        {
            var report = new TrainingProgress(p.Epoch, maximumEpochs, p.RowsDone, p.RowsPerEpoch, p.Elapsed);
            progress?.Report(report);
            if (p.RowsDone == 0) nextLog = ProgressLogInterval;
            else if (p.Elapsed >= nextLog && p.RowsDone < p.RowsPerEpoch)
            {
                nextLog = p.Elapsed + ProgressLogInterval;
                channel.LogInfo("training " + report); // not "epoch …": that line is the epoch's summary
            }
        };
    }

    /// <summary>
    /// How an image input column becomes pixels (null for a vector column): resized to the options' size, else the
    /// size of the column type or, when that is unknown (<c>LoadImages</c>), of the first image; explained in
    /// <paramref name="note"/> for the log.
    /// </summary>
    private ImageInput? ImageInputOf(IDataView data, string column, out string? note)
    {
        var o = EstimatorOptions;
        note = null;
        if (data.Schema[column].Type is not ImageDataViewType type)
        {
            if (o.ImageHeight != null)
                throw Guard.BadOption(nameof(o.ImageHeight),
                    $"applies to an image input column only, but column '{column}' is " +
                    $"{Guard.Describe(data.Schema[column].Type)}; set it to null", o.ImageHeight);
            return null;
        }
        if (o.ImageHeight is int height && o.ImageWidth is int width)
            return new ImageInput(height, width, Resize: true, o.ImageResizing, o.ImageCropAnchor);
        if (type.Height > 0 && type.Width > 0) return new ImageInput(type.Height, type.Width, Resize: false);
        var col = data.Schema[column];
        using var cursor = data.GetRowCursor([col]);
        MLImage? first = null;
        if (cursor.MoveNext()) cursor.GetGetter<MLImage>(col)(ref first!);
        if (first == null || first.Width <= 0 || first.Height <= 0)
            throw new ArgumentException($"Column '{column}' holds images of unknown size and its first row has no " +
                $"image to take the size from: set the options' ImageHeight and ImageWidth.", nameof(data));
        note = $"Column '{column}' holds images of unknown size: every image must be " +
            $"{ImageInput.Describe(first.Height, first.Width)}, as the first one (set ImageHeight and ImageWidth to " +
            $"resize them).";
        return new ImageInput(first.Height, first.Width, Resize: false);
    }
}

/// <summary>Any density estimator, whatever its options type (lets composite trainers fit one).</summary>
internal interface IDensityEstimator : IEstimator<AutoregressiveDensityTransformer>
{
    AutoregressiveDensityTransformer Fit(IDataView trainData, IDataView? validationData, out EncodedRows trainingRows);
}
