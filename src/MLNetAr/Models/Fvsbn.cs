using System.Numerics.Tensors;
using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;

namespace MLNetAr.Models;

/// <summary>
/// Fully visible sigmoid belief network (Frey 1998; baseline in Larochelle &amp; Murray 2011): one logistic regression
/// per pixel on all earlier pixels, <c>p(x_i = 1 | x_&lt;i) = σ(b_i + Σ_{j&lt;i} W_ij x_j)</c> with W strictly
/// lower-triangular.
/// </summary>
/// <remarks>
/// Stored as <c>Wᵀ</c> (row j = the effect of pixel j on every later pixel), so a logit vector is the bias plus one
/// contiguous row per non-zero input: O(nnz·D) per image, which exploits that binary images are mostly zero, and the
/// same running sum serves incremental sampling. Entries <c>Wᵀ[j, i]</c> with <c>i ≤ j</c> are structurally zero: they
/// start at 0 and their gradient is cleared, so they stay 0.
/// </remarks>
internal sealed class Fvsbn : DensityModel, IIncrementalSampler, IOnnxExportableModel
{
    public const string KindName = "FVSBN";

    /// <summary>This family in model files.</summary>
    public static readonly ModelKind Descriptor = new(KindName, ReadHyperparameters);

    private readonly Parameter _weightsT; // (D, D): _weightsT[j, i] = W_ij, non-zero only for i > j
    private readonly Parameter _bias;     // (D)

    public Fvsbn(int dimension) : base(dimension)
    {
        _weightsT = new Parameter("WeightsTransposed", dimension, dimension);
        _bias = new Parameter("Bias", dimension);
        Parameters = [_weightsT, _bias];
    }

    public override string Kind => KindName;
    public override int HiddenFeatureCount => Dimension;
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>
    /// Random initialisation: <c>W_ij ~ U(-s, s)</c> below the diagonal with <c>s = 1/√D</c>, biases 0.
    /// </summary>
    public void Initialize(Random random, float scale)
    {
        int d = Dimension;
        for (int j = 0; j < d; j++)
            for (int i = j + 1; i < d; i++)
                _weightsT.Value[j * d + i] = (float)((random.NextDouble() * 2 - 1) * scale);
    }

    /// <summary>
    /// Sets the biases to the logits of the pixel means: a good start that equals the independent-pixel model.
    /// </summary>
    public void InitializeBiasFromMeans(ReadOnlySpan<float> means)
    {
        for (int i = 0; i < Dimension; i++)
        {
            float p = Math.Clamp(means[i], 1e-3f, 1f - 1e-3f);
            _bias.Value[i] = MathF.Log(p / (1f - p));
        }
    }

    public override void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace)
    {
        int d = Dimension;
        if (batch == 1)
        {
            RowLogits(x[..d], logits[..d]);
            return;
        }
        unsafe
        {
            fixed (float* px = x, pz = logits)
            {
                nint xAddress = (nint)px, zAddress = (nint)pz;
                // (B, D) -> (B, D), rows independent.
                Kernel.ForRowRanges(batch, 8, (start, end) =>
                {
                    for (int r = start; r < end; r++)
                        RowLogits(new ReadOnlySpan<float>((float*)xAddress + (long)r * d, d),
                            new Span<float>((float*)zAddress + (long)r * d, d));
                });
            }
        }
    }

    /// <summary>
    /// (D) -> (D): <c>z = b + Σ_j x_j · Wᵀ[j, j+1..]</c>, summed in ascending j (the order sampling uses too).
    /// </summary>
    private void RowLogits(ReadOnlySpan<float> x, Span<float> z)
    {
        _bias.Value.CopyTo(z);
        for (int j = 0; j < x.Length - 1; j++)
            if (x[j] != 0f) AddInfluence(j, x[j], z);
    }

    /// <summary><c>z[j+1..] += x_j · Wᵀ[j, j+1..]</c>.</summary>
    private void AddInfluence(int j, float xj, Span<float> z)
    {
        int d = Dimension;
        ReadOnlySpan<float> row = _weightsT.Value.AsSpan(j * d + j + 1, d - j - 1);
        Span<float> tail = z[(j + 1)..];
        if (xj == 1f) TensorPrimitives.Add(tail, row, tail);
        else TensorPrimitives.MultiplyAdd(row, xj, tail, tail);
    }

    public override void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
        ModelWorkspace workspace)
    {
        int d = Dimension;
        // ∂L/∂Wᵀ = Xᵀ·G: (D, B)·(B, D) -> (D, D); ∂L/∂b = Σ_r G[r, :].
        Kernel.Gemm(Transpose.Yes, Transpose.No, d, d, batch, x, d, dLogits, d, _weightsT.Gradient, d,
            accumulate: true);
        for (int j = 0; j < d; j++) _weightsT.Gradient.AsSpan(j * d, j + 1).Clear();
        for (int r = 0; r < batch; r++) TensorPrimitives.Add(_bias.Gradient, dLogits.Slice(r * d, d), _bias.Gradient);
    }

    public override void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
        ModelWorkspace workspace) =>
        logits[..(batch * Dimension)].CopyTo(features);

    /// <inheritdoc/>
    public OnnxScores ExportOnnx(OnnxGraph graph, string pixels, bool hiddenFeatures)
    {
        var (logits, features) = ExportForward(graph, pixels, hiddenFeatures);
        return this.ScoresFromLogits(graph, pixels, logits, features);
    }

    /// <summary><c>(N, D) -> (N, D)</c>: <c>z = x · Wᵀ + b</c>; the hidden features are the logits.</summary>
    private (string Logits, string? HiddenFeatures) ExportForward(OnnxGraph graph, string pixels,
        bool hiddenFeatures)
    {
        int d = Dimension;
        string logits = graph.Linear(pixels, graph.Constant(_weightsT.Value, d, d), graph.Constant(_bias.Value, d));
        return (logits, logits);
    }

    public override void WriteHyperparameters(BinaryWriter writer) => writer.Write(Dimension);

    /// <summary>Rebuilds an untrained model from <see cref="WriteHyperparameters"/>.</summary>
    public static Fvsbn ReadHyperparameters(BinaryReader reader) => new(reader.ReadInt32());

    /// <summary>
    /// Incremental sampling: one running logit vector per image, updated by one row of Wᵀ per pixel that is 1.
    /// </summary>
    public void SampleRows(Span<float> x, int batch, int knownSteps, SamplingStream[] streams,
        ModelWorkspace? workspace = null)
    {
        int d = Dimension;
        Kernel.ForEachRow(x, batch, d, () => new float[d], (image, r, z) =>
        {
            SamplingStream stream = streams[r];
            _bias.Value.CopyTo(z, 0);
            for (int i = 0; i < d; i++)
            {
                if (i >= knownSteps) image[i] = Bernoulli.Draw(stream, z[i]);
                if (image[i] != 0f && i < d - 1) AddInfluence(i, image[i], z);
            }
        });
    }
}
