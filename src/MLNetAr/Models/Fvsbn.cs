using System.Numerics.Tensors;
using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>
/// Fully visible sigmoid belief network (Frey 1998; baseline in Larochelle &amp; Murray 2011): one logistic regression
/// per pixel on all earlier pixels, <c>p(x_i = 1 | x_&lt;i) = σ(b_i + Σ_{j&lt;i} W_ij x_j)</c> with W strictly
/// lower-triangular. With K &gt; 2 levels each pixel has a softmax regression instead: K logits
/// <c>z_ik = b_ik + Σ_{j&lt;i} W_kij x_j</c> (or the 3M outputs of a logistic mixture), the earlier pixels read as
/// values <c>level / (K - 1)</c>.
/// </summary>
/// <remarks>
/// Stored as <c>Wᵀ</c> <c>(D, L·D)</c> with L logits per pixel (row j = the effect of pixel j on every later pixel's
/// logits, laid out <c>[k·D + i]</c>), so a logit vector is the bias plus one contiguous row per non-zero input:
/// O(nnz·L·D) per image, which exploits that images are mostly zero, and the same running sum serves incremental
/// sampling. Entries <c>Wᵀ[j, k·D + i]</c> with <c>i ≤ j</c> are structurally zero: they start at 0 and their gradient
/// is cleared, so they stay 0.
/// </remarks>
internal sealed class Fvsbn : DensityModel, IIncrementalSampler, IOnnxExportableModel
{
    public const string KindName = "FVSBN";

    /// <summary>This family in model files.</summary>
    public static readonly ModelKind Descriptor = new(KindName, ReadHyperparameters);

    private readonly Parameter _weightsT; // (D, L·D): _weightsT[j, k·D + i] = W_kij, non-zero only for i > j
    private readonly Parameter _bias;     // (L·D): _bias[k·D + i] = b_ik
    private readonly int _levels;

    public Fvsbn(int dimension, int levels = 2, int mixtureComponents = 0) : base(dimension, mixtureComponents)
    {
        if (levels < 2 || levels > 256)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, "FVSBN models 2 to 256 pixel levels.");
        _levels = levels;
        _weightsT = new Parameter("WeightsTransposed", dimension, LogitsPerPixel * dimension);
        _bias = new Parameter("Bias", LogitsPerPixel * dimension);
        Parameters = [_weightsT, _bias];
    }

    public override string Kind => KindName;
    public override int Levels => _levels;

    private sealed class FvsbnWorkspace(int maxBatch) : ModelWorkspace(maxBatch)
    {
        /// <summary>Logits row by row, <c>(B, L·D)</c>, before they are spread to <c>(L, B·D)</c>.</summary>
        public ActivationBuffer RowLogits { get; } = new();
    }

    public override ModelWorkspace CreateWorkspace(int maxBatch) => new FvsbnWorkspace(maxBatch);
    /// <summary>The logits <c>z</c> of every pixel, <c>(L·D)</c> laid out <c>[k·D + i]</c>.</summary>
    public override int HiddenFeatureCount => LogitsPerPixel * Dimension;

    /// <summary>Values per row of Wᵀ and of the bias: L·D.</summary>
    private int RowLength => LogitsPerPixel * Dimension;
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>
    /// Random initialisation: <c>W_ij ~ U(-s, s)</c> below the diagonal with <c>s = 1/√D</c>, biases 0.
    /// </summary>
    public void Initialize(Random random, float scale)
    {
        int d = Dimension, length = RowLength;
        for (int j = 0; j < d; j++)
            for (int k = 0; k < LogitsPerPixel; k++)
                for (int i = j + 1; i < d; i++)
                    _weightsT.Value[j * length + k * d + i] = (float)((random.NextDouble() * 2 - 1) * scale);
    }

    /// <summary>
    /// Sets the biases to the logits of the pixel means: a good start that equals the independent-pixel model.
    /// </summary>
    public void InitializeBiasFromMeans(ReadOnlySpan<float> means)
    {
        if (LogitsPerPixel != 1)
            throw new InvalidOperationException("Means describe binary pixels: use InitializeBiasFromLevelCounts.");
        for (int i = 0; i < Dimension; i++)
        {
            float p = Math.Clamp(means[i], 1e-3f, 1f - 1e-3f);
            _bias.Value[i] = MathF.Log(p / (1f - p));
        }
    }

    /// <summary>
    /// Sets each pixel's biases to its smoothed marginal over the K levels, from <paramref name="pixelLevelCounts"/>
    /// <c>(D, K)</c>: the independent-pixel model, as <see cref="InitializeBiasFromMeans"/> for binary pixels.
    /// </summary>
    public void InitializeBiasFromLevelCounts(ReadOnlySpan<double> pixelLevelCounts) =>
        SetMarginalBiases(_bias.Value, pixelLevelCounts);

    /// <summary>
    /// <c>(B, D) -> (B, D)</c> for binary pixels, <c>(B, D) -> (L, B·D)</c> with L outputs per pixel (the pixel
    /// distribution's layout).
    /// </summary>
    public override void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace)
    {
        int d = Dimension, length = RowLength;
        if (batch == 1 || LogitsPerPixel == 1)
        {
            ForwardRows(x, batch, logits);
            return;
        }
        // Each row's logits are computed contiguously, [k·D + i], then spread to the K planes of (K, B·D).
        Span<float> rows = ((FvsbnWorkspace)workspace).RowLogits.Get(batch * length);
        ForwardRows(x, batch, rows);
        PixelDistribution.RowsToLevelPlanes(rows, batch, d, LogitsPerPixel, logits);
    }

    /// <summary><c>(B, D) -> (B, L·D)</c>: each row's logits laid out <c>[k·D + i]</c>, rows in parallel.</summary>
    private void ForwardRows(ReadOnlySpan<float> x, int batch, Span<float> rows)
    {
        int d = Dimension, length = RowLength;
        if (batch == 1)
        {
            RowLogits(x[..d], rows[..length]);
            return;
        }
        unsafe
        {
            fixed (float* px = x, pz = rows)
            {
                nint xAddress = (nint)px, zAddress = (nint)pz;
                Kernel.ForRowRanges(batch, 8, (start, end) =>
                {
                    for (int r = start; r < end; r++)
                        RowLogits(new ReadOnlySpan<float>((float*)xAddress + (long)r * d, d),
                            new Span<float>((float*)zAddress + (long)r * length, length));
                });
            }
        }
    }

    /// <summary>
    /// (D) -> (L·D): <c>z = b + Σ_j x_j · Wᵀ[j, :]</c>, summed in ascending j (the order sampling uses too).
    /// </summary>
    private void RowLogits(ReadOnlySpan<float> x, Span<float> z)
    {
        _bias.Value.CopyTo(z);
        for (int j = 0; j < x.Length - 1; j++)
            if (x[j] != 0f) AddInfluence(j, x[j], z);
    }

    /// <summary>Pixel j on later pixels: <c>z[k·D + j+1 ..] += x_j · Wᵀ[j, k·D + j+1 ..]</c> for every k.</summary>
    private void AddInfluence(int j, float xj, Span<float> z)
    {
        int d = Dimension, length = RowLength;
        for (int k = 0; k < LogitsPerPixel; k++)
        {
            int start = k * d + j + 1;
            ReadOnlySpan<float> row = _weightsT.Value.AsSpan(j * length + start, d - j - 1);
            Span<float> tail = z.Slice(start, d - j - 1);
            if (xj == 1f) TensorPrimitives.Add(tail, row, tail);
            else TensorPrimitives.MultiplyAdd(row, xj, tail, tail);
        }
    }

    public override void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
        ModelWorkspace workspace)
    {
        int d = Dimension, length = RowLength;
        // Per logit plane k, G_k = dLogits (B, D): ∂L/∂Wᵀ[:, k·D ..] = Xᵀ·G_k, (D, B)·(B, D) -> (D, D), and
        // ∂L/∂b[k·D ..] = Σ_r G_k[r, :].
        for (int k = 0; k < LogitsPerPixel; k++)
        {
            ReadOnlySpan<float> plane = dLogits.Slice(k * batch * d, batch * d);
            Kernel.Gemm(Transpose.Yes, Transpose.No, d, d, batch, x, d, plane, d, _weightsT.Gradient.AsSpan(k * d),
                length, accumulate: true);
            Span<float> bias = _bias.Gradient.AsSpan(k * d, d);
            for (int r = 0; r < batch; r++) TensorPrimitives.Add(bias, plane.Slice(r * d, d), bias);
        }
        for (int j = 0; j < d; j++)
            for (int k = 0; k < LogitsPerPixel; k++) _weightsT.Gradient.AsSpan(j * length + k * d, j + 1).Clear();
    }

    /// <summary>Each row's logits <c>(L·D)</c>, laid out <c>[k·D + i]</c>.</summary>
    public override void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
        ModelWorkspace workspace)
    {
        PixelDistribution.LevelPlanesToRows(logits, batch, Dimension, LogitsPerPixel, features);
    }

    /// <inheritdoc/>
    public OnnxScores ExportOnnx(OnnxGraph graph, string pixels, bool hiddenFeatures)
    {
        var (logits, features) = ExportForward(graph, pixels, hiddenFeatures);
        return this.ScoresFromLogits(graph, pixels, logits, features);
    }

    /// <summary>
    /// <c>(N, D) -> (N, L·D)</c>: <c>z = x · Wᵀ + b</c>, the hidden features; the logits are z, or z as
    /// <c>(N, K, D)</c> for K levels.
    /// </summary>
    private (string Logits, string? HiddenFeatures) ExportForward(OnnxGraph graph, string pixels,
        bool hiddenFeatures)
    {
        int d = Dimension, length = RowLength;
        string z = graph.Linear(pixels, graph.Constant(_weightsT.Value, d, length),
            graph.Constant(_bias.Value, length));
        return (LogitsPerPixel == 1 ? z : graph.Reshape(z, -1, LogitsPerPixel, d), z);
    }

    public override void WriteHyperparameters(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(Levels);
        writer.Write(MixtureComponents);
    }

    /// <summary>
    /// Rebuilds an untrained model from <see cref="WriteHyperparameters"/> (weights format 1 held binary models only).
    /// </summary>
    public static Fvsbn ReadHyperparameters(BinaryReader reader, int formatVersion)
    {
        int dimension = reader.ReadInt32();
        if (formatVersion < ModelSerializer.FormatWithLevels) return new Fvsbn(dimension);
        int levels = reader.ReadInt32();
        return new Fvsbn(dimension, levels, reader.ReadInt32());
    }

    /// <summary>
    /// Incremental sampling: one running logit vector per image <c>(L·D)</c>, updated by one row of Wᵀ per pixel that
    /// is not 0.
    /// </summary>
    public void SampleRows(Span<float> x, int batch, int knownSteps, SamplingStream[] streams,
        ModelWorkspace? workspace = null)
    {
        int d = Dimension;
        Kernel.ForEachRow(x, batch, d, () => new float[RowLength], (image, r, z) =>
        {
            SamplingStream stream = streams[r];
            _bias.Value.CopyTo(z, 0);
            for (int i = 0; i < d; i++)
            {
                if (i >= knownSteps) image[i] = Distribution.Draw(stream, z, d, i);
                if (image[i] != 0f && i < d - 1) AddInfluence(i, image[i], z);
            }
        });
    }
}
