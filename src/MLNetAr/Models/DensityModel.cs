using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;

namespace MLNetAr.Models;

/// <summary>
/// Per-thread scratch state of a model (activations kept between Forward and Backward, sampling buffers).
/// A workspace is never shared between threads; the model's weights are read-only while scoring.
/// </summary>
internal class ModelWorkspace
{
    private float[] _logits = [], _logitGradients = [];

    public ModelWorkspace(int maxBatch) => MaxBatch = maxBatch;

    /// <summary>Largest batch this workspace was sized for.</summary>
    public int MaxBatch { get; }

    /// <summary>A logits buffer of at least <paramref name="length"/> values, reused between calls.</summary>
    public Span<float> Logits(int length)
    {
        if (_logits.Length < length) _logits = new float[length];
        return _logits.AsSpan(0, length);
    }

    /// <summary>
    /// A buffer for <c>∂L/∂logits</c> of at least <paramref name="length"/> values, reused between calls.
    /// </summary>
    public Span<float> LogitGradients(int length)
    {
        if (_logitGradients.Length < length) _logitGradients = new float[length];
        return _logitGradients.AsSpan(0, length);
    }
}

/// <summary>
/// One activation buffer of a workspace: grown on demand, the same array (contents kept) while it fits.
/// </summary>
internal sealed class ActivationBuffer
{
    private float[] _values = [];

    /// <summary>
    /// The first <paramref name="length"/> floats of the buffer, reallocated (zeroed) when it is too short.
    /// </summary>
    public Span<float> Get(long length)
    {
        if (_values.Length < length) _values = new float[checked((int)length)];
        return _values.AsSpan(0, (int)length);
    }
}

/// <summary>
/// An autoregressive density model over vectors of length <see cref="Dimension"/>:
/// <c>log p(x) = Σ_i log p(x_i | x_&lt;i)</c>, where the conditional of pixel i depends only on inputs earlier in the
/// model's order. Binary models (<see cref="Levels"/> = 2) have Bernoulli conditionals
/// <c>p(x_i = 1 | x_&lt;i) = σ(z_i)</c> with one logit per pixel, logits <c>(B, D)</c>; models with K &gt; 2 levels
/// have L outputs per pixel, logits <c>(L, B·D)</c> — a softmax over L = K logits, or a mixture of M discretised
/// logistics with L = 3M — and pixel values <c>level / (K - 1)</c>.
/// </summary>
/// <remarks>
/// The core every model implements: its parameters, the conditionals' forward pass, its gradient, hidden features and
/// its hyperparameters. Everything else is an optional capability (<see cref="IIncrementalSampler"/>,
/// <see cref="ITrainingHooks"/>, <see cref="IOnnxExportableModel"/>, in ModelCapabilities.cs), which callers reach
/// through <see cref="ModelCapabilities"/> with a default for models without it. Workspace pools and the fan-out of
/// scoring over threads belong to the scorer (Scoring/BatchScorer.cs).
/// </remarks>
internal abstract class DensityModel
{
    /// <param name="dimension">Pixels D.</param>
    /// <param name="mixtureComponents">With K &gt; 2 levels: components of a discretised logistic mixture per pixel
    /// (<see cref="DiscretizedLogisticMixture"/>), or 0 for a softmax over the levels.</param>
    protected DensityModel(int dimension, int mixtureComponents = 0)
    {
        if (dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(dimension), "A density model needs at least one pixel.");
        if (mixtureComponents < 0 || mixtureComponents > 32)
            throw new ArgumentOutOfRangeException(nameof(mixtureComponents), mixtureComponents,
                "Mixture components must be in [0, 32].");
        Dimension = dimension;
        MixtureComponents = mixtureComponents;
    }

    /// <summary>Number of pixels D.</summary>
    public int Dimension { get; }

    /// <summary>Number of pixel levels K: 2 for binary pixels, more for a categorical distribution per pixel.</summary>
    public virtual int Levels => 2;

    private PixelDistribution? _distribution;

    /// <summary>Components of the pixels' discretised logistic mixture; 0 for Bernoulli or softmax pixels.</summary>
    public int MixtureComponents { get; }

    /// <summary>
    /// The distribution of a pixel given its logits: Bernoulli for 2 levels, categorical for more, or a discretised
    /// logistic mixture. Read only once the model's levels are set (derived constructors set them first).
    /// </summary>
    public PixelDistribution Distribution => _distribution ??= PixelDistribution.For(Levels, MixtureComponents);

    /// <summary>Outputs ("logits") per pixel L: 1 for Bernoulli, K for categorical, 3M for a mixture.</summary>
    public int LogitsPerPixel => Distribution.LogitsPerPixel;

    /// <summary>Identifier written to model files; also the registry key used to load them.</summary>
    public abstract string Kind { get; }

    /// <summary>Length of the hidden-feature vector per row.</summary>
    public abstract int HiddenFeatureCount { get; }

    /// <summary>All trainable parameters, in a fixed order (the order of the weights stream).</summary>
    public abstract IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>
    /// Input order: <c>Order[t]</c> is the pixel predicted at step t. Natural order unless a model overrides.
    /// </summary>
    public virtual int[] Order => Enumerable.Range(0, Dimension).ToArray();

    /// <summary>Creates scratch space for batches of up to <paramref name="maxBatch"/> rows.</summary>
    public virtual ModelWorkspace CreateWorkspace(int maxBatch) => new(maxBatch);

    /// <summary>
    /// Rows a cursor scores per model pass: enough for the batched kernels (one GEMM over the rows), few enough that
    /// the workspace stays at a few hundred MB at most. Models whose activations are large per row override it.
    /// </summary>
    public virtual int ScoringBatchRows => 256;

    /// <summary>
    /// Conditional logits: <c>(B, D) -> (B, D)</c>, <c>logits[r, i] = logit p(x_i = 1 | x_&lt;i)</c> for row r
    /// (categorical models: <c>(B, D) -> (K, B·D)</c>).
    /// Keeps in <paramref name="workspace"/> whatever <see cref="Backward"/> and <see cref="GetHiddenFeatures"/> need.
    /// </summary>
    public abstract void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace);

    /// <summary>
    /// Adds <c>∂L/∂θ</c> to every <see cref="Parameter.Gradient"/>, given <c>∂L/∂logits</c> <c>(B, D)</c>. Must follow
    /// <see cref="Forward"/> on the same <paramref name="x"/> and <paramref name="workspace"/>.
    /// </summary>
    public abstract void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
        ModelWorkspace workspace);

    /// <summary>
    /// Hidden features <c>(B, HiddenFeatureCount)</c> of the rows last passed to <see cref="Forward"/>.
    /// </summary>
    public abstract void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
        ModelWorkspace workspace);

    /// <summary>
    /// Scores rows: exact <c>log p(x)</c> per row <c>(B) </c> and hidden features <c>(B, HiddenFeatureCount)</c> (may
    /// be empty to skip them). The default is one <see cref="Forward"/> pass with Bernoulli conditionals; a model whose
    /// density is a mixture (MADE's mask ensembles) overrides it.
    /// </summary>
    public virtual void Score(ReadOnlySpan<float> x, int batch, Span<float> logLikelihoods, Span<float> hiddenFeatures,
        ModelWorkspace workspace)
    {
        Span<float> logits = workspace.Logits(batch * Dimension * LogitsPerPixel);
        Forward(x, batch, logits, workspace);
        LogLikelihoods(logits, x, batch, logLikelihoods);
        if (!hiddenFeatures.IsEmpty) GetHiddenFeatures(batch, logits, hiddenFeatures, workspace);
    }

    /// <summary>
    /// Per-pixel conditionals <c>log p(x_i | x_&lt;i)</c> <c>(B, D)</c>, by pixel (not by step), from one
    /// <see cref="Forward"/> pass. For a MADE ensemble these are the first mask's conditionals.
    /// </summary>
    public virtual void PixelLogProbabilities(ReadOnlySpan<float> x, int batch, Span<float> destination,
        ModelWorkspace workspace)
    {
        int n = batch * Dimension;
        Span<float> logits = workspace.Logits(n * LogitsPerPixel);
        Forward(x, batch, logits, workspace);
        Distribution.LogProbabilities(logits, x, n, destination);
    }

    /// <summary>
    /// Output biases <c>(L·D)</c>, laid out <c>[k·D + t]</c>, at each position's smoothed marginal: output k of
    /// position t gets <see cref="PixelDistribution.MarginalLogits"/> of pixel <c>order[t]</c>'s counts in
    /// <paramref name="pixelLevelCounts"/> <c>(D, K)</c> (the identity order when null). The independent-pixel model,
    /// from which the fully connected models start training.
    /// </summary>
    protected void SetMarginalBiases(Span<float> bias, ReadOnlySpan<double> pixelLevelCounts,
        IReadOnlyList<int>? order = null)
    {
        int d = Dimension, levels = Levels;
        for (int t = 0; t < d; t++)
        {
            int pixel = order?[t] ?? t;
            float[] logits = Distribution.MarginalLogits(pixelLevelCounts.Slice(pixel * levels, levels).ToArray());
            for (int k = 0; k < logits.Length; k++) bias[k * d + t] = logits[k];
        }
    }

    /// <summary>
    /// Pixels at each of the K levels in <paramref name="rows"/> (for <see cref="PixelDistribution.MarginalLogits"/>).
    /// </summary>
    protected double[] LevelCounts(ReadOnlySpan<float> rows)
    {
        var counts = new double[Levels];
        foreach (float v in rows) counts[Distribution.LevelOf(v)]++;
        return counts;
    }

    /// <summary><c>log p(x)</c> per row <c>(B)</c> from the logits of one <see cref="Forward"/> pass.</summary>
    /// <remarks>Rows in parallel (each row's sum is its own, so the result does not depend on the threads).</remarks>
    protected unsafe void LogLikelihoods(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, int batch,
        Span<float> logLikelihoods)
    {
        int d = Dimension, n = batch * d, logitsLength = n * LogitsPerPixel;
        fixed (float* pLogits = logits, pX = x, pResult = logLikelihoods)
        {
            nint logitsAddress = (nint)pLogits, xAddress = (nint)pX, resultAddress = (nint)pResult;
            Kernel.ForRowRanges(batch, 16, (start, end) =>
            {
                var allLogits = new ReadOnlySpan<float>((float*)logitsAddress, logitsLength);
                var pixels = new ReadOnlySpan<float>((float*)xAddress, n);
                for (int r = start; r < end; r++)
                    ((float*)resultAddress)[r] = Distribution.SumLogProbabilities(allLogits, pixels, n, r * d, d);
            });
        }
    }

    /// <summary>
    /// One minibatch of training: adds <c>∂(mean NLL)/∂θ</c> to every <see cref="Parameter.Gradient"/> and returns the
    /// summed NLL of the batch. The default is <see cref="Forward"/>, the loss of the pixel distribution and
    /// <see cref="Backward"/>; models with a cheaper fused pass (NADE) override it.
    /// </summary>
    /// <param name="inputs">What the conditionals read, <c>(B, D)</c>: the rows, or the rows with input
    /// dropout.</param>
    /// <param name="targets">The rows whose likelihood is maximised, <c>(B, D)</c>.</param>
    /// <param name="batch">Rows B.</param>
    /// <param name="workspace">Scratch of <see cref="CreateWorkspace"/> for at least B rows.</param>
    public virtual double TrainingStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch,
        ModelWorkspace workspace)
    {
        int length = batch * Dimension * LogitsPerPixel;
        Span<float> logits = workspace.Logits(length);
        Forward(inputs, batch, logits, workspace);
        Span<float> rowLogLikelihoods = batch <= 256 ? stackalloc float[batch] : new float[batch];
        LogLikelihoods(logits, targets, batch, rowLogLikelihoods);
        double nll = 0;
        foreach (float l in rowLogLikelihoods) nll -= l;
        Span<float> dLogits = workspace.LogitGradients(length);
        Distribution.NllGradient(logits, targets, batch * Dimension, 1f / batch, dLogits);
        Backward(inputs, batch, dLogits, workspace);
        return nll;
    }

    /// <summary>One minibatch of training on <paramref name="x"/> as both inputs and targets.</summary>
    public double TrainingStep(ReadOnlySpan<float> x, int batch, ModelWorkspace workspace) =>
        TrainingStep(x, x, batch, workspace);

    /// <summary>Writes the hyperparameters needed to rebuild an untrained model of the same shape.</summary>
    public abstract void WriteHyperparameters(BinaryWriter writer);

    /// <summary>Total number of trainable scalars.</summary>
    public long ParameterCount => Parameters.Sum(p => (long)p.Length);
}
