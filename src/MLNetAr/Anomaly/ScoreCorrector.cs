using MLNetAr.Internal;
using MLNetAr.Models;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;
using MLNetAr.Scoring;

// The anomaly score's corrections: part of the estimators' layer (they read the public AnomalyScoreCorrection and the
// background's AutoregressiveDensityTransformer), kept apart from the detector's ML.NET plumbing.
namespace MLNetAr.Anomaly;

/// <summary>
/// Turns <c>log p(x)</c> (and the background's <c>log p_bg(x)</c>) into the anomaly score, per
/// <see cref="AnomalyScoreCorrection"/>.
/// </summary>
internal sealed class ScoreCorrector(AnomalyScoreCorrection kind, int levels, float[] independentLogProbabilities,
    AutoregressiveDensityTransformer? backgroundModel, float backgroundPerturbation = 0f)
{
    public AnomalyScoreCorrection Kind { get; } = kind;
    /// <summary>
    /// Log-probabilities <c>(D, K)</c> of the independent-pixel background; empty unless it is the background.
    /// </summary>
    public float[] IndependentLogProbabilities { get; } = independentLogProbabilities;
    /// <summary>The background model of the likelihood ratio, or null.</summary>
    public AutoregressiveDensityTransformer? BackgroundModel { get; } = backgroundModel;
    /// <summary>
    /// The probability μ with which each pixel of the background model's training rows was replaced by a uniform level
    /// (0: trained on the rows as they are).
    /// </summary>
    public float BackgroundPerturbation { get; } = backgroundPerturbation;

    /// <summary>The score of the scorer's current row.</summary>
    public float Score(RowScorer scorer) =>
        Score(scorer.LogLikelihood, BackgroundModel != null ? scorer.OtherLogLikelihood(0) : float.NaN, scorer.Pixels);

    /// <summary>
    /// The score in nats (higher = more anomalous) from <c>log p(x)</c>, the background model's <c>log p_bg(x)</c>
    /// (read only when there is one) and the encoded pixels.
    /// </summary>
    public float Score(float logLikelihood, float backgroundLogLikelihood, ReadOnlySpan<float> pixels) => Kind switch
    {
        AnomalyScoreCorrection.BackgroundLikelihoodRatio =>
            -logLikelihood + (BackgroundModel != null ? backgroundLogLikelihood : IndependentLogLikelihood(pixels)),
        AnomalyScoreCorrection.InputComplexity => -logLikelihood - CompressedBits(pixels, levels) * MathF.Log(2f),
        _ => -logLikelihood,
    };

    /// <summary>
    /// Each pixel's share of the score of the scorer's current row: <c>-log p(x_i | x_&lt;i)</c>, plus the background's
    /// <c>log p_bg(x_i | x_&lt;i)</c> with the likelihood ratio (the compressed length has no per-pixel split).
    /// </summary>
    public void PixelScores(RowScorer scorer, Span<float> destination)
    {
        scorer.PixelScores.CopyTo(destination);
        if (Kind != AnomalyScoreCorrection.BackgroundLikelihoodRatio) return;
        if (BackgroundModel != null)
        {
            // the background is the only other model
            System.Numerics.Tensors.TensorPrimitives.Add(destination, scorer.OtherPixelLogProbabilities(0),
                destination);
            return;
        }
        ReadOnlySpan<float> pixels = scorer.Pixels;
        for (int i = 0; i < pixels.Length; i++)
            destination[i] += IndependentLogProbabilities[i * levels + PixelDistribution.LevelOf(pixels[i], levels)];
    }

    /// <summary>
    /// The score <c>(N, 1)</c> and per-pixel scores <c>(N, D)</c> as ONNX tensors, from the density model's
    /// <paramref name="scores"/>, as <see cref="Score(float, float, ReadOnlySpan{float})"/> and
    /// <see cref="PixelScores"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The input-complexity correction: Deflate has no ONNX
    /// operator.</exception>
    public (string Score, string PixelScores) ExportOnnx(OnnxGraph graph, OnnxScores scores, string pixels)
    {
        string score = graph.Neg(scores.LogLikelihood), pixelScores = graph.Neg(scores.PixelLogProbabilities);
        switch (Kind)
        {
            case AnomalyScoreCorrection.InputComplexity:
                throw new NotSupportedException(
                    $"`{nameof(AutoregressiveAnomalyDetector.Options.ScoreCorrection)}` = " +
                        $"{nameof(AnomalyScoreCorrection.InputComplexity)} cannot be converted to ONNX: " +
                    "the image's Deflate-compressed length has no ONNX operator. Use BackgroundLikelihoodRatio or " +
                        "None to export the detector.");
            case AnomalyScoreCorrection.BackgroundLikelihoodRatio:
                string background = BackgroundModel != null
                    ? BackgroundModel.Model.ExportOnnx(graph, pixels, hiddenFeatures: false).PixelLogProbabilities
                    : IndependentPixelLogProbabilities(graph, pixels);
                pixelScores = graph.Add(pixelScores, background);
                score = graph.Add(score, graph.SumRows(background));
                break;
        }
        return (score, pixelScores);
    }

    /// <summary>
    /// <c>log p(x_i)</c> <c>(N, D)</c> under the independent-pixel background: the table entry of each pixel's level,
    /// picked by a one-hot sum (exact: one term is non-zero).
    /// </summary>
    private string IndependentPixelLogProbabilities(OnnxGraph graph, string pixels)
    {
        int d = IndependentLogProbabilities.Length / levels;
        var byLevel = new float[levels * d]; // (K, D) from (D, K)
        for (int i = 0; i < d; i++)
            for (int k = 0; k < levels; k++) byLevel[k * d + i] = IndependentLogProbabilities[i * levels + k];
        // (N, 1, D)
        string level = graph.Unsqueeze(PixelDistribution.ExportLevelOf(graph, pixels, levels), 1);
        // (1, K, 1)
        string allLevels = graph.Constant(Enumerable.Range(0, levels).Select(k => (float)k).ToArray(), 1, levels, 1);
        // (N, K, D)
        string oneHot = graph.Cast(graph.Equal(level, allLevels), OnnxType.Float);
        return graph.ReduceSum(graph.Mul(oneHot, graph.Constant(byLevel, 1, levels, d)), 1, keepDims: false);
    }

    /// <summary>
    /// <c>Σ_i log p(x_i)</c> under the independent-pixel background (pixels encoded as <c>level / (K - 1)</c>).
    /// </summary>
    private float IndependentLogLikelihood(ReadOnlySpan<float> pixels)
    {
        double sum = 0; // a float sum of ~1000 nats drifts by ~1e-3 nats
        for (int i = 0; i < pixels.Length; i++)
            sum += IndependentLogProbabilities[i * levels + PixelDistribution.LevelOf(pixels[i], levels)];
        return (float)sum;
    }

    /// <summary>Bernoulli logits <c>(D)</c> as log-probabilities <c>(D, 2)</c>: <c>log σ(-l), log σ(l)</c>.</summary>
    internal static float[] BinaryLogProbabilities(float[] logits)
    {
        var logProbabilities = new float[2 * logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            double l = logits[i], logOnePlusExp = Math.Max(l, 0) + Math.Log(1 + Math.Exp(-Math.Abs(l)));
            logProbabilities[2 * i] = (float)-logOnePlusExp;
            logProbabilities[2 * i + 1] = (float)(l - logOnePlusExp);
        }
        return logProbabilities;
    }

    /// <summary>
    /// L(x): bits of the Deflate-compressed image (smallest size). Binary pixels are packed 8 per byte; K-level pixels
    /// are one byte each, their level <c>round(v·(K - 1))</c> (the image as a K-level grey image, as the compressors
    /// of Serrà et al. read it).
    /// </summary>
    internal static int CompressedBits(ReadOnlySpan<float> pixels, int levels = 2)
    {
        byte[] bytes;
        if (levels == 2)
        {
            bytes = new byte[(pixels.Length + 7) / 8];
            for (int i = 0; i < pixels.Length; i++)
                if (pixels[i] != 0f) bytes[i >> 3] |= (byte)(1 << (i & 7));
        }
        else
        {
            bytes = new byte[pixels.Length];
            for (int i = 0; i < pixels.Length; i++) bytes[i] = (byte)PixelDistribution.LevelOf(pixels[i], levels);
        }
        using var output = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(output,
            System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            deflate.Write(bytes);
        return (int)output.Length * 8;
    }
}
