using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;
using MLNetAr.Data.Judge;
using MLNetAr.Demo;
using MLNetAr.Pretrained;

namespace MLNetAr.Benchmarks;

/// <summary>
/// How digit-like a saved model's samples are: draws N images and scores them with the shipped digit judge beside N
/// held-out real digits (the ceiling): confident share, Inception-style score, classes covered, Fréchet distance.
/// </summary>
/// <remarks>
/// Usage: <c>generation --model FILE|NAME [--samples N] [--temperature T] [--seed S] [--real bernoulli|threshold]
/// [--grid FILE.png]</c>. <c>--model</c> is any model file written by <c>mlContext.Model.Save</c> whose last transform
/// is an MLNetAr density model of 28×28 images, or the name of a shipped pretrained model
/// (<c>models/binarized-mnist</c>, checked against its manifest). Real digits are binarised as the model's training
/// digits were: Bernoulli (the standard binarized MNIST, the default) or threshold (the main job's).
/// <c>--diagnose</c> adds the sampler check of <see cref="SamplerCheck"/> and the model's NLL of the real digits.
/// <c>--also-judge FILE</c> also scores the first N images of an IDX file of 28×28 digits (e.g. the standard split's
/// validation images, the pretrained models' own data) as a second ceiling.
/// </remarks>
internal static class GenerationBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        string? model = null, grid = null, alsoJudge = null;
        int samples = 1000, seed = 1;
        float temperature = 1f;
        bool bernoulli = true, diagnose = false;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--model": model = Value(); break;
                case "--samples": samples = JudgeBenchmark.PositiveInt(Value(), "--samples"); break;
                case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--temperature":
                    string text = Value();
                    temperature = float.TryParse(text, CultureInfo.InvariantCulture, out float t) && t > 0
                        && float.IsFinite(t) ? t
                        : throw new ArgumentException($"--temperature must be a positive number, got '{text}'.");
                    break;
                case "--real":
                    bernoulli = Value() switch
                    {
                        "bernoulli" => true,
                        "threshold" => false,
                        string other => throw new ArgumentException(
                            $"--real must be bernoulli or threshold, got '{other}'."),
                    };
                    break;
                case "--grid": grid = Value(); break;
                case "--also-judge": alsoJudge = Value(); break;
                case "--diagnose": diagnose = true; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        if (samples < 2) throw new ArgumentException("--samples must be at least 2.");
        var ml = new MLContext(seed: 1);
        AutoregressiveDensityTransformer density = LoadDensityModel(ml,
            model ?? throw new ArgumentException("--model FILE|NAME is required."));
        if (density.Dimension != DigitJudge.Dimension)
            throw new ArgumentException($"The judge reads 28×28 digits; '{model}' models {density.Dimension} pixels.");

        GenerationJudging judging = GenerationJudging.Create(bernoulli);
        var clock = Stopwatch.StartNew();
        float[][] images = density.Sample(samples, seed, temperature);
        double seconds = clock.Elapsed.TotalSeconds;
        if (grid != null)
            ImageGrid.SavePng(grid, images.Take(64).ToArray(), DigitJudge.Side, DigitJudge.Side, columns: 8, scale: 2);
        SampleQuality generated = judging.Score(images), real = judging.ScoreReal(samples);
        string label = temperature == 1f ? density.ModelKind : $"{density.ModelKind} (tempered, τ = {temperature:G3})";
        Console.Error.WriteLine($"{label}: confident {generated.Confident:F3}, Inception-style score " +
            $"{generated.InceptionScore:F2}, {generated.ClassesCovered} classes covered, Fréchet distance " +
            $"{generated.FrechetDistance:F2} ({samples} samples in {seconds:F1} s); real {judging.Binarisation} " +
            $"digits ({real.Count}): {real.Confident:F3}, {real.InceptionScore:F2}, {real.ClassesCovered}, " +
            $"{real.FrechetDistance:F2}");
        var report = new Dictionary<string, object>
        {
            ["model"] = model!, ["kind"] = density.ModelKind, ["temperature"] = temperature,
            ["tempered"] = temperature != 1f, ["samples"] = samples, ["seed"] = seed,
            ["sampling_seconds"] = Math.Round(seconds, 2),
            ["real_digits"] = judging.Binarisation,
            ["generated"] = Describe(generated), ["real"] = Describe(real),
            ["judge"] = new Dictionary<string, object>
            {
                ["sha256"] = judging.Record.Sha256, ["threshold_accuracy"] = judging.Record.ThresholdAccuracy,
                ["bernoulli_accuracy"] = judging.Record.BernoulliAccuracy,
            },
        };
        if (alsoJudge != null)
        {
            ImageSet file = ImageSet.LoadIdx(alsoJudge);
            if (file.Dimension != DigitJudge.Dimension || file.Count < samples)
                throw new ArgumentException($"--also-judge '{alsoJudge}' must hold at least {samples} 28×28 images; " +
                    $"it holds {file.Count} of {file.Dimension} pixels.");
            SampleQuality also = judging.Score(Enumerable.Range(0, samples).Select(file.GetImage).ToArray());
            Console.Error.WriteLine($"the first {samples} images of '{alsoJudge}': {also.Confident:F3}, " +
                $"{also.InceptionScore:F2}, {also.ClassesCovered}, {also.FrechetDistance:F2}");
            report["also_judged"] = new Dictionary<string, object>
            {
                ["file"] = Path.GetFileName(alsoJudge), ["quality"] = Describe(also),
            };
        }
        if (diagnose)
        {
            Dictionary<string, object> check = SamplerCheck(density, images);
            if (check.ContainsKey("skipped"))
                Console.Error.WriteLine($"sampler check skipped: {check["skipped"]}");
            else
            {
                // The same check along real digits: their −log p, and how unsure the model is where it was trained,
                // against where its own samples take it.
                float[][] realDigits = judging.RealImages(samples);
                Dictionary<string, object> realCheck = SamplerCheck(density, realDigits);
                check["real_digits_nll"] = realCheck["samples_nll"];
                check["real_digits_conditional_entropy"] = realCheck["conditional_entropy"];
                Console.Error.WriteLine($"sampler check: mean −log p of the samples {check["samples_nll"]}, mean " +
                    $"summed conditional entropy {check["conditional_entropy"]} (paired difference " +
                    $"{check["difference"]} ± {check["difference_standard_error"]}); NLL of {realDigits.Length} real " +
                    $"digits {check["real_digits_nll"]}, their conditionals' summed entropy " +
                    $"{check["real_digits_conditional_entropy"]}");
            }
            report["sampler_check"] = check;
        }
        return report;
    }

    /// <summary>
    /// Whether the sampler draws from the density it scores with: for each sample x, <c>−log p(x)</c> against
    /// <c>Σ_i H(x_i | x_&lt;i)</c>, the entropies of the conditionals it was drawn from (recomputed by a forward pass
    /// over the finished image). Under exact sampling the two have the same expectation, the model's entropy
    /// H(p) (each term <c>−log p(x_i | x_&lt;i) − H_i</c> has mean zero given the pixels before it), so their paired
    /// difference must be within a few standard errors of 0; at τ ≠ 1 it is not, by construction. Mask ensembles are
    /// skipped: their conditionals are a mixture's.
    /// </summary>
    internal static Dictionary<string, object> SamplerCheck(AutoregressiveDensityTransformer density,
        float[][] samples)
    {
        Models.DensityModel model = density.Model;
        if (model is Models.Made { EnsembleSize: > 1 })
            return new Dictionary<string, object> { ["skipped"] = "a mask ensemble's conditionals are a mixture's" };
        int d = model.Dimension, levels = model.Levels, n = samples.Length, block = 50;
        var workspace = model.CreateWorkspace(block);
        var logits = new float[block * d * model.LogitsPerPixel];
        var logP = new float[block * d];
        var negLogP = new double[n];
        var entropy = new double[n];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start);
            float[] x = samples.Skip(start).Take(rows).SelectMany(i => i).ToArray();
            model.Forward(x, rows, logits, workspace);
            model.Distribution.LogProbabilities(logits, x, rows * d, logP);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < d; i++) negLogP[start + r] -= logP[r * d + i];
            for (int level = 0; level < levels; level++)
            {
                float[] constant = Enumerable.Repeat(level / (float)(levels - 1), rows * d).ToArray();
                model.Distribution.LogProbabilities(logits, constant, rows * d, logP);
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < d; i++)
                    {
                        double lp = logP[r * d + i];
                        if (lp > double.NegativeInfinity) entropy[start + r] -= Math.Exp(lp) * lp;
                    }
            }
        }
        double[] difference = negLogP.Zip(entropy, (a, b) => a - b).ToArray();
        double mean = difference.Average();
        double standardError = Math.Sqrt(difference.Sum(v => (v - mean) * (v - mean)) / (n - 1) / n);
        return new Dictionary<string, object>
        {
            ["samples_nll"] = Math.Round(negLogP.Average(), 3),
            ["conditional_entropy"] = Math.Round(entropy.Average(), 3),
            ["difference"] = Math.Round(mean, 3), ["difference_standard_error"] = Math.Round(standardError, 3),
        };
    }

    /// <summary>
    /// The density model of a saved file (the model itself, or the last transform of a chain), or of a shipped
    /// pretrained model by name.
    /// </summary>
    internal static AutoregressiveDensityTransformer LoadDensityModel(MLContext ml, string fileOrName)
    {
        ITransformer loaded;
        if (File.Exists(fileOrName))
            loaded = ml.Model.Load(fileOrName, out _);
        else
        {
            string folder = PretrainedModels.FindFolder() ?? throw new ArgumentException(
                $"'{fileOrName}' is neither a model file nor a shipped model (no " +
                $"{PretrainedModels.BinarizedMnistFolder} found above the working directory).");
            loaded = PretrainedModels.Load(ml, fileOrName, folder, out _);
        }
        return (loaded as AutoregressiveDensityTransformer
            ?? (loaded as TransformerChain<ITransformer>)?.LastTransformer as AutoregressiveDensityTransformer)
            ?? throw new ArgumentException($"'{fileOrName}' holds no MLNetAr density model as its last transform.");
    }

    private static Dictionary<string, object> Describe(SampleQuality q) => new()
    {
        ["count"] = q.Count, ["confident"] = Math.Round(q.Confident, 4),
        ["inception_score"] = Math.Round(q.InceptionScore, 3), ["classes_covered"] = q.ClassesCovered,
        ["frechet_distance"] = Math.Round(q.FrechetDistance, 3),
        ["class_shares"] = q.ClassShares.Select(s => Math.Round(s, 4)).ToArray(),
    };
}
