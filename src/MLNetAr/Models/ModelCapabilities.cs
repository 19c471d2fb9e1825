using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>
/// A model that draws images faster than D full forward passes (cached activations, a recurrent state carried from
/// pixel to pixel). It must draw exactly the images of <see cref="ModelCapabilities.SampleRowsNaive(DensityModel,
/// Span{float}, int, int, SamplingStream[])"/> for the same streams (the sampler tests hold every model to it).
/// </summary>
internal interface IIncrementalSampler
{
    /// <summary>Rows drawn together when many images are asked for (fewer for a large sampling state).</summary>
    int SamplingBatchRows => ModelCapabilities.DefaultSamplingBatchRows;

    /// <inheritdoc cref="ModelCapabilities.SampleRows(DensityModel, Span{float}, int, int, SamplingStream[],
    /// ModelWorkspace?)"/>
    void SampleRows(Span<float> x, int batch, int knownSteps, SamplingStream[] streams, ModelWorkspace? workspace);
}

/// <summary>
/// A model that needs to know where training is: MADE picks each minibatch's mask, and caches its ensemble's masked
/// weights for a validation pass.
/// </summary>
internal interface ITrainingHooks
{
    /// <summary>Called before each training minibatch (step counts from 0).</summary>
    void BeginTrainingStep(int step);

    /// <summary>
    /// Called before and after each validation pass of training: the weights do not change in between, so a model may
    /// cache what it derives from them and must drop it afterwards.
    /// </summary>
    void BeginValidation();

    /// <inheritdoc cref="BeginValidation"/>
    void EndValidation();

    /// <summary>Rows per block of a validation pass, given the training minibatch size.</summary>
    int ValidationBlockRows(int batchSize);

    /// <summary>
    /// Called once the weights are final (after training, or after loading), before the model is used for scoring.
    /// </summary>
    void EndTraining();
}

/// <summary>A model that can write its scoring pass into an ONNX graph.</summary>
internal interface IOnnxExportableModel
{
    /// <summary>
    /// Adds the model's scoring pass to an ONNX graph: from the encoded pixels <c>(N, D)</c> (as the input encoding
    /// makes them) to <c>log p(x)</c> <c>(N, 1)</c>, the hidden features <c>(N, HiddenFeatureCount)</c> and the
    /// per-pixel <c>log p(x_i | x_&lt;i)</c> <c>(N, D)</c> of <see cref="DensityModel.PixelLogProbabilities"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">Some part of this model cannot be expressed in ONNX.</exception>
    OnnxScores ExportOnnx(OnnxGraph graph, string pixels, bool hiddenFeatures);
}

/// <summary>
/// What callers use beyond the core: each capability through its interface when the model has it, or its default.
/// </summary>
internal static class ModelCapabilities
{
    /// <summary>Rows drawn together by a sampler that does not say otherwise.</summary>
    public const int DefaultSamplingBatchRows = 1024;

    /// <summary>
    /// Completes rows in place: for each row r the pixels at order steps <c>[knownSteps, D)</c> are drawn from the
    /// model, conditioned on the pixels at steps <c>[0, knownSteps)</c>. The pixel at step t uses the t-th value of
    /// row r's stream <c>streams[r]</c> (one uniform per sampled pixel, see <see cref="PixelDistribution.Draw"/>), so
    /// any sampler that computes the same conditionals produces the same images; the stream's temperature divides
    /// every logit.
    /// </summary>
    /// <remarks>
    /// The model's <see cref="IIncrementalSampler"/>, or D full forward passes. <paramref name="workspace"/>: scratch
    /// of <see cref="DensityModel.CreateWorkspace"/> for at least <paramref name="batch"/> rows, reused across blocks
    /// of one large request (null: the sampler makes its own).
    /// </remarks>
    public static void SampleRows(this DensityModel model, Span<float> x, int batch, int knownSteps,
        SamplingStream[] streams, ModelWorkspace? workspace = null)
    {
        if (model is IIncrementalSampler sampler) sampler.SampleRows(x, batch, knownSteps, streams, workspace);
        else model.SampleRowsNaive(x, batch, knownSteps, streams);
    }

    /// <summary><see cref="SampleRows(DensityModel, Span{float}, int, int, SamplingStream[], ModelWorkspace?)"/> at
    /// τ = 1, one stream per row seeded by <paramref name="rowSeeds"/>.</summary>
    public static void SampleRows(this DensityModel model, Span<float> x, int batch, int knownSteps,
        ReadOnlySpan<int> rowSeeds, ModelWorkspace? workspace = null) =>
        model.SampleRows(x, batch, knownSteps, SamplingStream.ForRows(rowSeeds), workspace);

    /// <summary>Rows drawn together when many images are asked for.</summary>
    public static int SamplingBatchRows(this DensityModel model) =>
        model is IIncrementalSampler sampler ? sampler.SamplingBatchRows : DefaultSamplingBatchRows;

    /// <summary>
    /// <see cref="SampleRows(DensityModel, Span{float}, int, int, SamplingStream[], ModelWorkspace?)"/> by D full
    /// forward passes over the batch: the reference every incremental sampler must reproduce exactly for the same
    /// streams.
    /// </summary>
    public static void SampleRowsNaive(this DensityModel model, Span<float> x, int batch, int knownSteps,
        ReadOnlySpan<int> rowSeeds) =>
        model.SampleRowsNaive(x, batch, knownSteps, SamplingStream.ForRows(rowSeeds));

    /// <inheritdoc cref="SampleRowsNaive(DensityModel, Span{float}, int, int, ReadOnlySpan{int})"/>
    public static void SampleRowsNaive(this DensityModel model, Span<float> x, int batch, int knownSteps,
        SamplingStream[] streams)
    {
        int d = model.Dimension;
        int[] order = model.Order;
        var workspace = model.CreateWorkspace(batch);
        var logits = new float[batch * d * model.LogitsPerPixel];
        for (int t = knownSteps; t < d; t++)
        {
            int pixel = order[t];
            model.Forward(x, batch, logits, workspace);
            for (int r = 0; r < batch; r++)
                x[r * d + pixel] = model.Distribution.Draw(streams[r], logits, batch * d, r * d + pixel);
        }
    }

    // ---- Training hooks: nothing to do for a model without them ---------------------------------------------------

    /// <inheritdoc cref="ITrainingHooks.BeginTrainingStep"/>
    public static void BeginTrainingStep(this DensityModel model, int step) =>
        (model as ITrainingHooks)?.BeginTrainingStep(step);

    /// <inheritdoc cref="ITrainingHooks.BeginValidation"/>
    public static void BeginValidation(this DensityModel model) => (model as ITrainingHooks)?.BeginValidation();

    /// <inheritdoc cref="ITrainingHooks.EndValidation"/>
    public static void EndValidation(this DensityModel model) => (model as ITrainingHooks)?.EndValidation();

    /// <summary>
    /// Rows per block of a validation pass, given the training minibatch size: the minibatch by default (the workspace
    /// is sized for it).
    /// </summary>
    public static int ValidationBlockRows(this DensityModel model, int batchSize) =>
        model is ITrainingHooks hooks ? hooks.ValidationBlockRows(batchSize) : batchSize;

    /// <inheritdoc cref="ITrainingHooks.EndTraining"/>
    public static void EndTraining(this DensityModel model) => (model as ITrainingHooks)?.EndTraining();

    // ---- ONNX export --------------------------------------------------------------------------------------------

    /// <inheritdoc cref="IOnnxExportableModel.ExportOnnx"/>
    public static OnnxScores ExportOnnx(this DensityModel model, OnnxGraph graph, string pixels,
        bool hiddenFeatures) =>
        model is IOnnxExportableModel exportable ? exportable.ExportOnnx(graph, pixels, hiddenFeatures)
            : throw new NotSupportedException($"ONNX export of {model.Kind} models is not supported.");

    /// <summary>
    /// The scores of a model whose ONNX forward pass gives the conditionals' logits, <c>(N, D)</c> for Bernoulli pixels
    /// or <c>(N, K, D)</c> for K levels: <c>log p(x_i | x_&lt;i)</c> from the pixel distribution, summed per row.
    /// </summary>
    public static OnnxScores ScoresFromLogits(this DensityModel model, OnnxGraph graph, string pixels, string logits,
        string? hiddenFeatures)
    {
        string pixelLogProbabilities = model.Distribution.ExportLogProbabilities(graph, logits, pixels);
        return new OnnxScores(graph.SumRows(pixelLogProbabilities), hiddenFeatures, pixelLogProbabilities);
    }
}
