using MLNetAr;
using MLNetAr.Internal;
using MLNetAr.Interop;

namespace Microsoft.ML;

/// <summary>Entry points of MLNetAr's autoregressive density models on ML.NET's catalogs.</summary>
public static class AutoregressiveCatalog
{
    /// <summary>
    /// Creates a <see cref="FvsbnDensityEstimator"/>: a fully visible sigmoid belief network that adds the exact
    /// log-likelihood of each row (<paramref name="logLikelihoodColumnName"/>, nats) and its per-pixel logits
    /// (<paramref name="hiddenFeaturesColumnName"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="inputColumnName">Known-size vector of Single with values in [0, 1], binarised at 0.5. Or an image
    /// column (<c>LoadImages</c>), read in grey levels.</param>
    /// <param name="logLikelihoodColumnName">Output column for <c>log p(x)</c>.</param>
    /// <param name="hiddenFeaturesColumnName">Output column for the hidden features.</param>
    /// <param name="maximumNumberOfEpochs">Upper bound on training epochs (early stopping may end sooner).</param>
    /// <param name="learningRate">Adam step size.</param>
    /// <param name="batchSize">Rows per Adam step.</param>
    /// <param name="seed">Seed for initialisation and minibatch order; null uses the <c>MLContext</c>'s.</param>
    public static FvsbnDensityEstimator FvsbnDensity(this TransformsCatalog catalog,
        string inputColumnName = AutoregressiveDefaults.InputColumnName,
        string logLikelihoodColumnName = AutoregressiveDefaults.LogLikelihoodColumnName,
        string hiddenFeaturesColumnName = AutoregressiveDefaults.HiddenFeaturesColumnName,
        int maximumNumberOfEpochs = AutoregressiveDefaults.MaximumNumberOfEpochs,
        float learningRate = FvsbnDensityEstimator.Defaults.LearningRate,
        int batchSize = AutoregressiveDefaults.BatchSize,
        int? seed = null) =>
        FvsbnDensity(catalog, new FvsbnDensityEstimator.Options
        {
            InputColumnName = inputColumnName,
            LogLikelihoodColumnName = logLikelihoodColumnName,
            HiddenFeaturesColumnName = hiddenFeaturesColumnName,
            MaximumNumberOfEpochs = maximumNumberOfEpochs,
            LearningRate = learningRate,
            BatchSize = batchSize,
            Seed = seed,
        });

    /// <summary>Creates a <see cref="FvsbnDensityEstimator"/> from options.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">All options; see <see cref="FvsbnDensityEstimator.Options"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the message names it).</exception>
    public static FvsbnDensityEstimator FvsbnDensity(this TransformsCatalog catalog,
        FvsbnDensityEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new FvsbnDensityEstimator(MlNetInterop.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Creates a <see cref="NadeDensityEstimator"/>: NADE, adding the exact log-likelihood of each row
    /// (<paramref name="logLikelihoodColumnName"/>, nats) and the final hidden layer
    /// (<paramref name="hiddenFeaturesColumnName"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="inputColumnName">Known-size vector of Single with values in [0, 1], binarised at 0.5. Or an image
    /// column (<c>LoadImages</c>), read in grey levels.</param>
    /// <param name="logLikelihoodColumnName">Output column for <c>log p(x)</c>.</param>
    /// <param name="hiddenFeaturesColumnName">Output column for the hidden features.</param>
    /// <param name="hiddenSize">Number of hidden units.</param>
    /// <param name="maximumNumberOfEpochs">Upper bound on training epochs (early stopping may end sooner).</param>
    /// <param name="learningRate">Adam step size.</param>
    /// <param name="batchSize">Rows per Adam step.</param>
    /// <param name="seed">Seed for initialisation, order and minibatch order; null uses the <c>MLContext</c>'s.</param>
    public static NadeDensityEstimator NadeDensity(this TransformsCatalog catalog,
        string inputColumnName = AutoregressiveDefaults.InputColumnName,
        string logLikelihoodColumnName = AutoregressiveDefaults.LogLikelihoodColumnName,
        string hiddenFeaturesColumnName = AutoregressiveDefaults.HiddenFeaturesColumnName,
        int hiddenSize = NadeDensityEstimator.Defaults.HiddenSize,
        int maximumNumberOfEpochs = AutoregressiveDefaults.MaximumNumberOfEpochs,
        float learningRate = AutoregressiveDefaults.LearningRate,
        int batchSize = AutoregressiveDefaults.BatchSize,
        int? seed = null) =>
        NadeDensity(catalog, new NadeDensityEstimator.Options
        {
            InputColumnName = inputColumnName,
            LogLikelihoodColumnName = logLikelihoodColumnName,
            HiddenFeaturesColumnName = hiddenFeaturesColumnName,
            HiddenSize = hiddenSize,
            MaximumNumberOfEpochs = maximumNumberOfEpochs,
            LearningRate = learningRate,
            BatchSize = batchSize,
            Seed = seed,
        });

    /// <summary>Creates a <see cref="NadeDensityEstimator"/> from options.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">All options; see <see cref="NadeDensityEstimator.Options"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the message names it).</exception>
    public static NadeDensityEstimator NadeDensity(this TransformsCatalog catalog, NadeDensityEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new NadeDensityEstimator(MlNetInterop.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Creates a <see cref="MadeDensityEstimator"/>: MADE, adding the exact log-likelihood of each row
    /// (<paramref name="logLikelihoodColumnName"/>, nats) and the last hidden layer
    /// (<paramref name="hiddenFeaturesColumnName"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="inputColumnName">Known-size vector of Single with values in [0, 1], binarised at 0.5. Or an image
    /// column (<c>LoadImages</c>), read in grey levels.</param>
    /// <param name="logLikelihoodColumnName">Output column for <c>log p(x)</c>.</param>
    /// <param name="hiddenFeaturesColumnName">Output column for the hidden features.</param>
    /// <param name="hiddenSizes">Sizes of the hidden layers; null for one layer of 500.</param>
    /// <param name="numberOfMasks">Connectivities cycled through in training (order/connectivity-agnostic when &gt;
    /// 1).</param>
    /// <param name="ensembleSize">Connectivities averaged when scoring.</param>
    /// <param name="maximumNumberOfEpochs">Upper bound on training epochs (early stopping may end sooner).</param>
    /// <param name="learningRate">Adam step size.</param>
    /// <param name="batchSize">Rows per Adam step.</param>
    /// <param name="seed">Seed for initialisation, masks and minibatch order; null uses the <c>MLContext</c>'s.</param>
    public static MadeDensityEstimator MadeDensity(this TransformsCatalog catalog,
        string inputColumnName = AutoregressiveDefaults.InputColumnName,
        string logLikelihoodColumnName = AutoregressiveDefaults.LogLikelihoodColumnName,
        string hiddenFeaturesColumnName = AutoregressiveDefaults.HiddenFeaturesColumnName,
        int[]? hiddenSizes = null,
        int numberOfMasks = 1,
        int ensembleSize = 1,
        int maximumNumberOfEpochs = AutoregressiveDefaults.MaximumNumberOfEpochs,
        float learningRate = AutoregressiveDefaults.LearningRate,
        int batchSize = AutoregressiveDefaults.BatchSize,
        int? seed = null) =>
        MadeDensity(catalog, new MadeDensityEstimator.Options
        {
            InputColumnName = inputColumnName,
            LogLikelihoodColumnName = logLikelihoodColumnName,
            HiddenFeaturesColumnName = hiddenFeaturesColumnName,
            HiddenSizes = hiddenSizes ?? [MadeDensityEstimator.Defaults.HiddenSize],
            NumberOfMasks = numberOfMasks,
            EnsembleSize = ensembleSize,
            MaximumNumberOfEpochs = maximumNumberOfEpochs,
            LearningRate = learningRate,
            BatchSize = batchSize,
            Seed = seed,
        });

    /// <summary>Creates a <see cref="MadeDensityEstimator"/> from options.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">All options; see <see cref="MadeDensityEstimator.Options"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the message names it).</exception>
    public static MadeDensityEstimator MadeDensity(this TransformsCatalog catalog, MadeDensityEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new MadeDensityEstimator(MlNetInterop.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Creates a <see cref="PixelCnnDensityEstimator"/>: a gated PixelCNN, adding the exact log-likelihood of each
    /// image (<paramref name="logLikelihoodColumnName"/>, nats) and its pooled last-layer feature maps
    /// (<paramref name="hiddenFeaturesColumnName"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="inputColumnName">Known-size vector of Single in [0, 1]: with image dimensions (e.g. from
    /// <c>ExtractPixels</c>), a perfect-square length, or give <paramref name="height"/> and <paramref name="width"/>.
    /// Or an image column (<c>LoadImages</c>), read in grey levels.</param>
    /// <param name="logLikelihoodColumnName">Output column for <c>log p(x)</c>.</param>
    /// <param name="hiddenFeaturesColumnName">Output column for the hidden features.</param>
    /// <param name="levels">Pixel levels: 2 for binary pixels, up to 256 for a softmax over quantised grey
    /// levels.</param>
    /// <param name="layers">Gated layers; null for the fewest whose receptive field spans the image (14 for
    /// 28×28).</param>
    /// <param name="channels">Feature maps per stack.</param>
    /// <param name="maximumNumberOfEpochs">Upper bound on training epochs (early stopping may end sooner).</param>
    /// <param name="learningRate">Adam step size.</param>
    /// <param name="batchSize">Images per Adam step.</param>
    /// <param name="seed">Seed for initialisation and minibatch order; null uses the <c>MLContext</c>'s.</param>
    /// <param name="height">Image height; null takes it from the column's dimensions (a plain vector of a
    /// perfect-square length is read as a square image).</param>
    /// <param name="width">Image width; null as <paramref name="height"/>.</param>
    public static PixelCnnDensityEstimator PixelCnnDensity(this TransformsCatalog catalog,
        string inputColumnName = AutoregressiveDefaults.InputColumnName,
        string logLikelihoodColumnName = AutoregressiveDefaults.LogLikelihoodColumnName,
        string hiddenFeaturesColumnName = AutoregressiveDefaults.HiddenFeaturesColumnName,
        int levels = 2,
        int? layers = null,
        int channels = PixelCnnDensityEstimator.Defaults.Channels,
        int maximumNumberOfEpochs = AutoregressiveDefaults.MaximumNumberOfEpochs,
        float learningRate = AutoregressiveDefaults.LearningRate,
        int batchSize = AutoregressiveDefaults.BatchSize,
        int? seed = null,
        int? height = null,
        int? width = null) =>
        PixelCnnDensity(catalog, new PixelCnnDensityEstimator.Options
        {
            Height = height,
            Width = width,
            InputColumnName = inputColumnName,
            LogLikelihoodColumnName = logLikelihoodColumnName,
            HiddenFeaturesColumnName = hiddenFeaturesColumnName,
            Levels = levels,
            Layers = layers,
            Channels = channels,
            MaximumNumberOfEpochs = maximumNumberOfEpochs,
            LearningRate = learningRate,
            BatchSize = batchSize,
            Seed = seed,
        });

    /// <summary>Creates a <see cref="PixelCnnDensityEstimator"/> from options.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">All options; see <see cref="PixelCnnDensityEstimator.Options"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the message names it).</exception>
    public static PixelCnnDensityEstimator PixelCnnDensity(this TransformsCatalog catalog,
        PixelCnnDensityEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PixelCnnDensityEstimator(MlNetInterop.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Creates a <see cref="WaveNetDensityEstimator"/>: a WaveNet over the column's values in order, adding the exact
    /// log-likelihood of each row (<paramref name="logLikelihoodColumnName"/>, nats) and its pooled skip features
    /// (<paramref name="hiddenFeaturesColumnName"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="inputColumnName">Known-size vector of Single in [0, 1]. Or an image column (<c>LoadImages</c>),
    /// read in grey levels.</param>
    /// <param name="logLikelihoodColumnName">Output column for <c>log p(x)</c>.</param>
    /// <param name="hiddenFeaturesColumnName">Output column for the hidden features.</param>
    /// <param name="levels">Value levels: 2 for binary values, up to 256 for a softmax over quantised levels.</param>
    /// <param name="dilations">Dilation of each residual block; null for 1, 2, 4, … until the receptive field spans the
    /// row.</param>
    /// <param name="channels">Residual (and skip) channels.</param>
    /// <param name="maximumNumberOfEpochs">Upper bound on training epochs (early stopping may end sooner).</param>
    /// <param name="learningRate">Adam step size.</param>
    /// <param name="batchSize">Rows per Adam step.</param>
    /// <param name="seed">Seed for initialisation and minibatch order; null uses the <c>MLContext</c>'s.</param>
    public static WaveNetDensityEstimator WaveNetDensity(this TransformsCatalog catalog,
        string inputColumnName = AutoregressiveDefaults.InputColumnName,
        string logLikelihoodColumnName = AutoregressiveDefaults.LogLikelihoodColumnName,
        string hiddenFeaturesColumnName = AutoregressiveDefaults.HiddenFeaturesColumnName,
        int levels = 2,
        int[]? dilations = null,
        int channels = WaveNetDensityEstimator.Defaults.Channels,
        int maximumNumberOfEpochs = AutoregressiveDefaults.MaximumNumberOfEpochs,
        float learningRate = AutoregressiveDefaults.LearningRate,
        int batchSize = AutoregressiveDefaults.BatchSize,
        int? seed = null)
    {
        var options = new WaveNetDensityEstimator.Options
        {
            InputColumnName = inputColumnName,
            LogLikelihoodColumnName = logLikelihoodColumnName,
            HiddenFeaturesColumnName = hiddenFeaturesColumnName,
            Levels = levels,
            Channels = channels,
            SkipChannels = channels,
            Dilations = dilations,
            MaximumNumberOfEpochs = maximumNumberOfEpochs,
            LearningRate = learningRate,
            BatchSize = batchSize,
            Seed = seed,
        };
        return WaveNetDensity(catalog, options);
    }

    /// <summary>Creates a <see cref="WaveNetDensityEstimator"/> from options.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">All options; see <see cref="WaveNetDensityEstimator.Options"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the message names it).</exception>
    public static WaveNetDensityEstimator WaveNetDensity(this TransformsCatalog catalog,
        WaveNetDensityEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new WaveNetDensityEstimator(MlNetInterop.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Creates a <see cref="PixelRnnDensityEstimator"/>: an LSTM or GRU over the pixels in raster order, adding the
    /// exact log-likelihood of each row (<paramref name="logLikelihoodColumnName"/>, nats) and the top layer's final
    /// and mean state (<paramref name="hiddenFeaturesColumnName"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="inputColumnName">Known-size vector of Single in [0, 1]: with image dimensions (for the pixel
    /// above), a perfect-square length, or give <paramref name="width"/>. Or an image column (<c>LoadImages</c>), read
    /// in grey levels.</param>
    /// <param name="logLikelihoodColumnName">Output column for <c>log p(x)</c>.</param>
    /// <param name="hiddenFeaturesColumnName">Output column for the hidden features.</param>
    /// <param name="cell">LSTM or GRU.</param>
    /// <param name="hiddenSize">Hidden units per layer.</param>
    /// <param name="layers">Stacked recurrent layers.</param>
    /// <param name="truncationLength">Truncated BPTT length in steps; 0 for full backpropagation through time.</param>
    /// <param name="maximumNumberOfEpochs">Upper bound on training epochs (early stopping may end sooner).</param>
    /// <param name="learningRate">Adam step size.</param>
    /// <param name="batchSize">Rows per Adam step.</param>
    /// <param name="seed">Seed for initialisation and minibatch order; null uses the <c>MLContext</c>'s.</param>
    /// <param name="width">Image width (for the pixel above); null takes it from the column's dimensions (a plain
    /// vector of a perfect-square length is read as a square image).</param>
    public static PixelRnnDensityEstimator PixelRnnDensity(this TransformsCatalog catalog,
        string inputColumnName = AutoregressiveDefaults.InputColumnName,
        string logLikelihoodColumnName = AutoregressiveDefaults.LogLikelihoodColumnName,
        string hiddenFeaturesColumnName = AutoregressiveDefaults.HiddenFeaturesColumnName,
        RecurrentCell cell = RecurrentCell.Lstm,
        int hiddenSize = PixelRnnDensityEstimator.Defaults.HiddenSize,
        int layers = 1,
        int truncationLength = 0,
        int maximumNumberOfEpochs = AutoregressiveDefaults.MaximumNumberOfEpochs,
        float learningRate = AutoregressiveDefaults.LearningRate,
        int batchSize = AutoregressiveDefaults.BatchSize,
        int? seed = null,
        int? width = null) =>
        PixelRnnDensity(catalog, new PixelRnnDensityEstimator.Options
        {
            Width = width,
            InputColumnName = inputColumnName,
            LogLikelihoodColumnName = logLikelihoodColumnName,
            HiddenFeaturesColumnName = hiddenFeaturesColumnName,
            Cell = cell,
            HiddenSize = hiddenSize,
            Layers = layers,
            TruncationLength = truncationLength,
            MaximumNumberOfEpochs = maximumNumberOfEpochs,
            LearningRate = learningRate,
            BatchSize = batchSize,
            Seed = seed,
        });

    /// <summary>Creates a <see cref="PixelRnnDensityEstimator"/> from options.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">All options; see <see cref="PixelRnnDensityEstimator.Options"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the message names it).</exception>
    public static PixelRnnDensityEstimator PixelRnnDensity(this TransformsCatalog catalog,
        PixelRnnDensityEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PixelRnnDensityEstimator(MlNetInterop.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Creates an <see cref="AutoregressiveAnomalyDetector"/> with FVSBN as the density model: <c>Score</c> is
    /// <c>-log p(x)</c> in nats, <c>PredictedLabel</c> is true above the <paramref name="thresholdQuantile"/> of the
    /// training scores.
    /// </summary>
    /// <param name="catalog">The anomaly-detection trainers catalog
    /// (<c>mlContext.AnomalyDetection.Trainers</c>).</param>
    /// <param name="featureColumnName">Known-size vector of Single with values in [0, 1].</param>
    /// <param name="thresholdQuantile">Quantile of the training scores used as the threshold.</param>
    /// <param name="seed">Seed for training; null uses the <c>MLContext</c>'s.</param>
    public static AutoregressiveAnomalyDetector AutoregressiveDensity(
        this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog,
        string featureColumnName = AutoregressiveDefaults.InputColumnName, double thresholdQuantile = 0.99,
            int? seed = null) =>
        AutoregressiveDensity(catalog, new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = new FvsbnDensityEstimator.Options { InputColumnName = featureColumnName, Seed = seed },
            ThresholdQuantile = thresholdQuantile,
        });

    /// <summary>Creates an <see cref="AutoregressiveAnomalyDetector"/> from options (any density model).</summary>
    /// <param name="catalog">The anomaly-detection trainers catalog
    /// (<c>mlContext.AnomalyDetection.Trainers</c>).</param>
    /// <param name="options">The density model's options, output columns and threshold.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the message names it).</exception>
    public static AutoregressiveAnomalyDetector AutoregressiveDensity(
        this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog,
        AutoregressiveAnomalyDetector.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new AutoregressiveAnomalyDetector(MlNetInterop.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// The detector with another threshold, as ML.NET's <c>AnomalyDetectionCatalog.ChangeModelThreshold</c> does for
    /// its own anomaly models: a new transformer (the fitted models are shared), saved and loaded with the new
    /// threshold. <c>PredictedLabel</c> becomes <c>Score &gt; threshold</c>.
    /// </summary>
    /// <param name="catalog">The anomaly-detection catalog (<c>mlContext.AnomalyDetection</c>).</param>
    /// <param name="model">A fitted detector.</param>
    /// <param name="threshold">The new threshold in nats (any finite value).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not finite.</exception>
    public static AutoregressiveAnomalyTransformer ChangeModelThreshold(this AnomalyDetectionCatalog catalog,
        AutoregressiveAnomalyTransformer model, float threshold)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        return model.WithThreshold(threshold);
    }

    /// <summary>
    /// Saves <paramref name="model"/> like <c>mlContext.Model.Save</c>, but atomically: the model is written to a
    /// temporary file in the destination's folder, flushed to disk, then renamed over <paramref name="filePath"/>. A
    /// crash or an exception mid-save leaves any previous file at that path intact and no partial file behind.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The model to save.</param>
    /// <param name="inputSchema">The input schema (may be null).</param>
    /// <param name="filePath">Destination path.</param>
    public static void SaveAtomically(this ModelOperationsCatalog catalog, ITransformer model,
        DataViewSchema? inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        string full = Path.GetFullPath(filePath);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                catalog.Save(model, inputSchema, stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
