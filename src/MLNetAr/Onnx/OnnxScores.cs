namespace MLNetAr.Onnx;

/// <summary>
/// The tensors a density model's ONNX export produces: <c>log p(x)</c> <c>(N, 1)</c>, the hidden features
/// <c>(N, F)</c> (null when not asked for) and the per-pixel <c>log p(x_i | x_&lt;i)</c> <c>(N, D)</c>.
/// </summary>
internal sealed record OnnxScores(string LogLikelihood, string? HiddenFeatures, string PixelLogProbabilities);
