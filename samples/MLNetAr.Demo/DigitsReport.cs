using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;

namespace MLNetAr.Demo;

/// <summary>
/// How much work the report does: the full run (about 3 minutes on 2 cores) or a quick one for tests.
/// </summary>
/// <param name="TrainRows">Training digits (validation and test are fixed at 1000 each).</param>
/// <param name="Epochs">Epoch limit of FVSBN and MADE (early stopping may end sooner).</param>
/// <param name="NadeEpochs">Epoch limit of NADE (its epochs cost the most of the three: an O(H·D) backward per
/// image).</param>
/// <param name="NadeHidden">NADE's hidden units.</param>
/// <param name="MadeHidden">MADE's hidden units.</param>
/// <param name="PixelCnnEpochs">Epochs of the PixelCNN (≈ 28 s each at full size).</param>
/// <param name="WaveNetEpochs">Epochs of WaveNet (≈ 12 s each at full size).</param>
/// <param name="Channels">Feature maps of PixelCNN and WaveNet.</param>
/// <param name="AnomalyEpochs">Epoch limit of the one-class detectors (about 800 training digits each; their one-layer
/// PixelCNN background takes at most 5).</param>
/// <param name="AnomalyDigits">Digit classes used as the normal class in turn.</param>
/// <param name="GenerationSamples">Samples each freshly trained model draws for the judge (the first 64 are
/// shown).</param>
/// <param name="PretrainedSamples">Samples each shipped pretrained model draws for the judge.</param>
/// <param name="Probe">Whether to run the linear probes.</param>
/// <param name="Texture">The texture section's experiment.</param>
public sealed record ReportSettings(int TrainRows, int Epochs, int NadeEpochs, int NadeHidden, int MadeHidden,
    int PixelCnnEpochs, int WaveNetEpochs,
    int Channels, int AnomalyEpochs, int[] AnomalyDigits, int GenerationSamples, int PretrainedSamples, bool Probe,
    TextureSettings Texture)
{
    public static ReportSettings Full { get; } = new(8000, 30, 15, 250, 500, 2, 3, 16, 20,
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], GenerationSamples: 200, PretrainedSamples: 100, Probe: true,
        TextureSettings.Report);
    public static ReportSettings Quick { get; } = new(600, 1, 1, 16, 32, 1, 1, 4, 1, [0, 1], GenerationSamples: 16,
        PretrainedSamples: 4, Probe: false, TextureSettings.Quick);
}

/// <summary>
/// The main job: trains FVSBN, NADE, MADE, PixelCNN and WaveNet on the embedded digits through ML.NET pipelines and
/// writes a report folder — <c>index.html</c> with NLL per model, generated samples, completions, one-class anomaly
/// AUCs and ROC curves against ML.NET's RandomizedPca, per-pixel anomaly heat maps, and linear-probe accuracies.
/// </summary>
public static class DigitsReport
{
    public static string Write(string outDir, ReportSettings settings, Action<string> log)
    {
        Directory.CreateDirectory(outDir);
        var ml = new MLContext(seed: 1);
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info
                && e.Source.Contains("Density", StringComparison.Ordinal)
                && (e.RawMessage.StartsWith("epoch", StringComparison.Ordinal) // an epoch's summary
                    || e.RawMessage.StartsWith("training epoch", StringComparison.Ordinal))) // 10 s into a long one
                log("    " + e.Source.Split(';')[0] + ": " + e.RawMessage);
        };
        ImageSet digits = ImageSet.LoadDigits10k();
        ImageSet train = digits.Slice(0, settings.TrainRows), valid = digits.Slice(8000, 1000),
            test = digits.Slice(9000, 1000);
        int d = digits.Dimension, h = digits.Height, w = digits.Width;
        var html = new StringBuilder();

        // ---- Density estimation -------------------------------------------------------------------------------------
        log($"Training on {train.Count} digits (validation 1000, test 1000), {settings.Epochs} epochs at most.");
        var models = new (string Name, Func<IDataView, IDataView, AutoregressiveDensityTransformer> Fit)[]
        {
            ("FVSBN", (t, v) => ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: settings.Epochs, seed: 1).Fit(t, v)),
            // Adam at 1e-2 rather than the default 1e-3: in the same 15 epochs test NLL 94.4 -> 78.1 nats, and the
            // judge's confident share of its samples 0.66 -> 0.73 (`train --model nade --set LearningRate=…`).
            ($"NADE (H={settings.NadeHidden})", (t, v) =>
                ml.Transforms.NadeDensity(hiddenSize: settings.NadeHidden, maximumNumberOfEpochs: settings.NadeEpochs,
                learningRate: 0.01f, seed: 1).Fit(t, v)),
            ($"MADE (1×{settings.MadeHidden})", (t, v) =>
                ml.Transforms.MadeDensity(hiddenSizes: [settings.MadeHidden], maximumNumberOfEpochs: settings.Epochs,
                seed: 1).Fit(t, v)),
            // 5×5 kernels grow the PixelCNN's view by two rows a layer: 7 layers see 15 rows up and 14 columns across,
            // most of a digit (the default, 14 layers, sees all of it at twice the cost; 8 layers took the job to
            // 3 min 49 s). Minibatches of 32 images: a third of the activation memory of 100, and more steps per epoch.
            // Samples look like strokes of digits after 2 epochs; with 5 layers and 1 epoch they were fragments.
            ($"PixelCNN (7 gated layers × {settings.Channels}, 5×5)", (t, v) =>
                ml.Transforms.PixelCnnDensity(new PixelCnnDensityEstimator.Options
            {
                // Adam at 3e-3: test NLL 73.2 -> 68.7 nats in the same 2 epochs, Inception-style score 6.1 -> 7.1.
                Layers = 7, KernelSize = 5, Channels = settings.Channels, BatchSize = 32, LearningRate = 3e-3f,
                    MaximumNumberOfEpochs = settings.PixelCnnEpochs, Seed = 1,
            }).Fit(t, v)),
            // The default dilations, 1, 2, …, 512, let every pixel see all earlier ones.
            ($"WaveNet (dilations 1…512 × {settings.Channels})", (t, v) =>
                ml.Transforms.WaveNetDensity(new WaveNetDensityEstimator.Options
            {
                Channels = settings.Channels, BatchSize = 32, MaximumNumberOfEpochs = settings.WaveNetEpochs, Seed = 1,
            }).Fit(t, v)),
            // The pixel LSTM is left to the benchmark: it needs tens of epochs (≈ 45 s each here) to be competitive.
        };
        var fitted = new List<(string Name, AutoregressiveDensityTransformer Model)>();
        html.Append("<h2>Density " +
            "estimation</h2><table><tr><th>model</th><th>parameters</th><th>epochs</th><th>s/epoch</th><th>train NLL " +
            "(nats)</th><th>test NLL (nats)</th><th>test bits/pixel</th></tr>");
        foreach (var (name, fit) in models)
        {
            log($"  {name}");
            AutoregressiveDensityTransformer model = fit(train.ToDataView(ml), valid.ToDataView(ml));
            fitted.Add((name, model));
            double trainNll = MeanNll(ml, model, train), testNll = MeanNll(ml, model, test);
            double secondsPerEpoch = model.TrainingHistory.Average(e => e.Seconds);
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{name}</td><td>{model.ParameterCount:N0}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{model.TrainingHistory.Count}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{secondsPerEpoch:F2}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{trainNll:F2}</td><td>{testNll:F2}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{testNll / d / Math.Log(2):F4}</td></tr>");
            log(FormattableString.Invariant($"    train NLL {trainNll:F2}, test NLL {testNll:F2} nats"));
        }
        double baseline = IndependentPixelNll(train.BinarizeThreshold(), test.BinarizeThreshold());
        html.Append(CultureInfo.InvariantCulture, $"<tr><td>independent pixels</td><td>{d}</td><td>–</td><td>–</td>")
            .Append(CultureInfo.InvariantCulture, $"<td>–</td><td>{baseline:F2}</td>")
            .Append(CultureInfo.InvariantCulture, $"<td>{baseline / d / Math.Log(2):F4}</td></tr></table>");
        html.Append("<p>Digits binarised at 0.5; NLL is the exact −log p(x) in nats per image (lower is better).</p>");

        // ---- Generation: samples, completions and the judge's table --------------------------------------------
        GenerationReport.Append(html, outDir, ml, fitted, test, settings.GenerationSamples,
            settings.PretrainedSamples, log);

        // ---- Anomaly detection --------------------------------------------------------------------------------------
        log("One-class anomaly detection (normal digit vs all others).");
        var detectors = new (string Name, Func<IDataView, IDataView, ITransformer> Fit)[]
        {
            ("FVSBN", (t, v) => Detector(ml,
                new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = settings.AnomalyEpochs, Seed = 1 }).Fit(t,
                v)),
            ("FVSBN, input-complexity corrected", (t, v) =>
                Detector(ml, new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = settings.AnomalyEpochs,
                Seed = 1 }, AnomalyScoreCorrection.InputComplexity).Fit(t, v)),
            ("FVSBN ÷ local PixelCNN (likelihood ratio)", (t, v) =>
                ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
            {
                DensityModel = new FvsbnDensityEstimator.Options { MaximumNumberOfEpochs = settings.AnomalyEpochs,
                    Seed = 1 },
                ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio,
                // A one-layer model of ~300 parameters converges in a few epochs.
                BackgroundModel = new PixelCnnDensityEstimator.Options { Layers = 1, Channels = settings.Channels,
                    BatchSize = 32, MaximumNumberOfEpochs = Math.Min(settings.AnomalyEpochs, 5), Seed = 2 },
                PixelScoresColumnName = "PixelScores",
            }).Fit(t, v)),
            ($"MADE (1×{settings.MadeHidden})", (t, v) =>
                Detector(ml, new MadeDensityEstimator.Options { HiddenSizes = [settings.MadeHidden],
                MaximumNumberOfEpochs = settings.AnomalyEpochs, Seed = 1 }).Fit(t, v)),
            ("RandomizedPca (ML.NET, rank 20)", (t, _) =>
                ml.AnomalyDetection.Trainers.RandomizedPca("Pixels", rank: 20, seed: 1).Fit(t)),
        };
        var auc = detectors.ToDictionary(x => x.Name, _ => new List<double>());
        var roc = new Dictionary<string, (double[] Fpr, double[] Tpr)>();
        AutoregressiveAnomalyTransformer? heatModel = null;
        IDataView? heatTest = null;
        foreach (int normal in settings.AnomalyDigits)
        {
            IDataView trainView = train.Where(l => l == normal).ToDataView(ml),
                validView = valid.Where(l => l == normal).ToDataView(ml);
            var labelled = new ImageSet(test.Pixels, h, w, test.Labels!.Select(l => l == normal ? 0f : 1f).ToArray());
            IDataView testView = labelled.ToDataView(ml);
            foreach (var (name, fit) in detectors)
            {
                ITransformer model = fit(trainView, validView);
                IDataView scored = model.Transform(testView);
                auc[name].Add(ml.AnomalyDetection.Evaluate(scored, "Label", "Score",
                    "PredictedLabel").AreaUnderRocCurve);
                if (normal == settings.AnomalyDigits[0])
                {
                    roc[name] = RocCurve(scored.GetColumn<float>("Score").ToArray(), labelled.Labels!);
                    if (model is AutoregressiveAnomalyTransformer a
                        && name.Contains("likelihood ratio", StringComparison.Ordinal)) (heatModel, heatTest) = (a,
                        testView);
                }
            }
            log(FormattableString.Invariant($"  normal digit {normal}: ")
                + string.Join(", ", detectors.Select(x =>
                FormattableString.Invariant($"{x.Name} {auc[x.Name][^1]:F3}"))));
        }
        html.Append("<h2>Anomaly detection</h2><p>One-class protocol: train on one digit class (its images among the " +
            "training rows), test on the 1000 test digits with that class normal and all other classes anomalous. " +
            "Score = −log p(x); the input-complexity variant subtracts the image's Deflate-compressed length (Serrà " +
            "et al. 2020); the likelihood ratio adds log p(x) under a one-layer PixelCNN trained on the same class, " +
            "which sees only the pixels next to each pixel: local stroke statistics, shared by every digit, cancel, " +
            "and what is left is how well the digit's global shape fits (Ren et al. 2019, Schirrmeister et al. " +
            "2020).</p>");
        html.Append("<table><tr><th>method</th>").Append(string.Concat(settings.AnomalyDigits.Select(c =>
            $"<th>{c}</th>"))).Append("<th>mean AUC</th></tr>");
        foreach (var (name, values) in auc)
            html.Append($"<tr><td>{name}</td>").Append(string.Concat(values.Select(v =>
                FormattableString.Invariant($"<td>{v:F3}</td>")))).Append(
                FormattableString.Invariant($"<td><b>{values.Average():F3}</b></td></tr>"));
        html.Append("</table>");
        html.Append($"<h3>ROC curves, normal digit {settings.AnomalyDigits[0]}</h3>").Append(RocSvg(roc));

        if (heatModel != null && heatTest != null)
        {
            // Each pixel's share of the likelihood-ratio score, −log p(x_i |
            // x_<i) + log p_local(x_i | x_<i), for the most anomalous test digits.
            IDataView scored = heatModel.Transform(heatTest);
            float[] score = scored.GetColumn<float>("Score").ToArray();
            float[][] pixelScores = scored.GetColumn<float[]>("PixelScores").ToArray();
            int[] top = Enumerable.Range(0, score.Length).OrderByDescending(i => score[i]).Take(8).ToArray();
            ImageSet binary = test.BinarizeThreshold();
            ImageGrid.SaveHeatMapPng(Path.Combine(outDir, "anomaly-heatmaps.png"),
                top.Select(binary.GetImage).ToArray(), top.Select(i => pixelScores[i]).ToArray(), h, w, scale: 4);
            html.Append($"<h3>Where the most anomalous test digits are unlikely (FVSBN ÷ local PixelCNN, normal " +
                $"digit {settings.AnomalyDigits[0]})</h3>")
                .Append(Figure("anomaly-heatmaps.png",
                    "digit | each pixel's share of the score, −log p(x_i | x_&lt;i) + log p_local(x_i | x_&lt;i): " +
                    "black = expected (or explained as well by local strokes), yellow/white = surprising to the full " +
                    "model only"));
        }

        // ---- Textures
        // -------------------------------------------------------------------------------------------------
        TextureSection(html, outDir, ml, settings.Texture, log);

        // ---- Linear probe -------------------------------------------------------------------------------------------
        if (settings.Probe)
        {
            log("Linear probe: features -> LbfgsMaximumEntropy.");
            html.Append("<h2>Representation learning</h2><p>Linear probe: features of the first quarter of the " +
                "training digits feed ML.NET's <code>LbfgsMaximumEntropy</code> (after " +
                "<code>NormalizeMeanVariance</code>, the same for every feature set) in one pipeline; accuracy on " +
                "the test digits.</p><table><tr><th>features</th><th>test accuracy</th></tr>");
            // A quarter of the training digits: the features of the convolutional models cost a model pass per image.
            IDataView trainView = train.Slice(0, train.Count / 4).ToDataView(ml), testView = test.ToDataView(ml);
            // Baselines are fitted here; the density models are the ones trained above (same training digits), used as
            // fitted transformers in front of the probe.
            var probes = new List<(string Name, ITransformer Features, string Column)>
            {
                ("raw pixels (784)", ml.Transforms.CopyColumns("Features", "Pixels").Fit(trainView), "Features"),
                ("PCA (50)", ml.Transforms.ProjectToPrincipalComponents("Features", "Pixels", rank: 50,
                    seed: 1).Fit(trainView), "Features"),
                // Same dimension as NADE's features; ML.NET's randomized PCA gives poor components at this rank (≈
                // 45%).
                ("PCA (250)", ml.Transforms.ProjectToPrincipalComponents("Features", "Pixels", rank: 250,
                    seed: 1).Fit(trainView), "Features"),
            };
            probes.AddRange(fitted.Select(f =>
                ($"{f.Name}: hidden features ({f.Model.HiddenFeatureCount})", (ITransformer)f.Model,
                "HiddenFeatures")));
            foreach (var (name, features, column) in probes)
            {
                // The same treatment for every feature set: standardise, then the linear classifier.
                var probe = ml.Transforms.NormalizeMeanVariance("ProbeFeatures", column)
                    .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
                    .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "ProbeFeatures"));
                var pipeline = new TransformerChain<ITransformer>(features)
                    .Append(probe.Fit(features.Transform(trainView)));
                double accuracy = ml.MulticlassClassification.Evaluate(pipeline.Transform(testView),
                    "LabelKey").MicroAccuracy;
                html.Append(FormattableString.Invariant($"<tr><td>{name}</td><td>{accuracy:P1}</td></tr>"));
                log(FormattableString.Invariant($"  {name}: {accuracy:P1}"));
            }
            html.Append("</table>");
        }

        string page = Path.Combine(outDir, "index.html");
        File.WriteAllText(page, Page(html.ToString()));
        return page;
    }

    /// <summary>
    /// Anomaly detection on real grey-level images: a K-level PixelCNN trained on brick patches, its samples, AUC per
    /// anomaly kind against RandomizedPca and a per-pixel Gaussian, and heat maps on pasted defects. (No background
    /// model here: a local one explains a local defect as well as the full model does, and cancels it.)
    /// </summary>
    private static void TextureSection(StringBuilder html, string outDir, MLContext ml, TextureSettings settings,
        Action<string> log)
    {
        log("Texture anomaly detection (brick patches, grey levels kept).");
        var experiment = TextureAnomalies.Create("brick", settings);
        int size = settings.PatchSize;
        AutoregressiveAnomalyTransformer detector = experiment.FitPixelCnn(ml, localBackground: false);
        ITransformer pca = ml.AnomalyDetection.Trainers.RandomizedPca("Pixels", rank: 20,
            seed: 1).Fit(experiment.Train.ToDataView(ml));
        TextureResult[] results =
        [
            experiment.Evaluate($"PixelCNN ({settings.Layers} gated layers × {settings.Channels}, K = " +
                $"{settings.Levels})", TextureAnomalies.FromModel(ml, detector, pixelScores: true)),
            experiment.Evaluate("RandomizedPca (ML.NET, rank 20)",
                TextureAnomalies.FromModel(ml, pca, pixelScores: false)),
            experiment.Evaluate("per-pixel Gaussian", experiment.PerPixelGaussian()),
        ];
        foreach (var r in results)
            log("  " + r.Detector + ": "
                + string.Join(", ", r.Auc.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:F3}"))) +
                FormattableString.Invariant($", pointing {r.Pointing:P0}"));

        ImageGrid.SavePng(Path.Combine(outDir, "texture-training.png"),
            Enumerable.Range(0, 16).Select(i => experiment.Train.GetImage(i * (experiment.Train.Count / 16))).ToArray(),
            size, size, columns: 8, scale: 3);
        ImageGrid.SavePng(Path.Combine(outDir, "texture-samples.png"), detector.Density.Sample(16, seed: 3), size, size,
            columns: 8, scale: 3);
        // At τ = 1 each pixel's 16-way softmax leaves grey-level speckle everywhere; a tempered grid shows what the
        // model's structure (background level, mortar lines) looks like without it.
        ImageGrid.SavePng(Path.Combine(outDir, "texture-samples-tempered.png"),
            detector.Density.Sample(16, seed: 3, temperature: TextureSampleTemperature), size, size, columns: 8,
            scale: 3);
        var shown = experiment.Defects.SelectMany(kv =>
            Enumerable.Range(0, 2).Select(i => kv.Value.Images.GetImage(i))).ToArray();
        IDataView scored = detector.Transform(new ImageSet(shown.SelectMany(x => x).ToArray(), size,
            size).ToDataView(ml));
        ImageGrid.SaveHeatMapPng(Path.Combine(outDir, "texture-heatmaps.png"), shown,
            scored.GetColumn<float[]>("PixelScores").ToArray(), size, size, scale: 4);

        string[] kinds = results[0].Auc.Keys.ToArray();
        html.Append("<h2>Anomaly detection on real grey-level images</h2>")
            .Append(FormattableString.Invariant($"<p>Normal: {size}×{size} patches of the top half of a brick "))
            .Append("photograph (CC0, 2× reduced), ")
            .Append(FormattableString.Invariant($"grey levels quantised to K = {settings.Levels}, "))
            .Append(FormattableString.Invariant($"{experiment.Train.Count} training patches. "))
            .Append(FormattableString.Invariant($"Test: {experiment.NormalTest.Count} held-out patches of its bottom "))
            .Append(FormattableString.Invariant($"half (normal), {experiment.OtherTest.Count} patches of grass and "))
            .Append("gravel, and the held-out patches with a pasted scratch, blob of another texture, or ")
            .Append("bright/dark spot. ")
            .Append("Pixel AUROC and pointing (is the highest-scoring pixel inside the defect?) are measured on the " +
                "pasted defects.</p>")
            .Append("<table><tr><th>detector</th>").Append(string.Concat(kinds.Select(k =>
                $"<th>AUC: {k}</th>"))).Append("<th>pixel AUROC</th><th>pointing</th></tr>");
        foreach (var r in results)
            html.Append($"<tr><td>{WebUtility.HtmlEncode(r.Detector)}</td>").Append(string.Concat(kinds.Select(k =>
                FormattableString.Invariant($"<td>{r.Auc[k]:F3}</td>"))))
                .Append(double.IsNaN(r.PixelAuc) ? "<td>–</td><td>–</td>"
                    : FormattableString.Invariant($"<td>{r.PixelAuc:F3}</td><td>{r.Pointing:P0}</td>")).Append("</tr>");
        html.Append("</table><div class=\"row\">")
            .Append(Figure("texture-training.png", "training patches"))
            .Append(Figure("texture-samples.png", "samples of the K-level PixelCNN (τ = 1)"))
            .Append(Figure("texture-samples-tempered.png", FormattableString.Invariant(
                $"tempered samples, τ = {TextureSampleTemperature} (not draws from p(x))")))
            .Append(Figure("texture-heatmaps.png",
                "pasted defects (two scratches, blobs, spots) | each pixel's −log p(x_i | x_&lt;i)"))
            .Append("</div>");
    }

    /// <summary>The temperature of the texture section's second sample grid (labelled as tempered).</summary>
    private const float TextureSampleTemperature = 0.85f;

    private static AutoregressiveAnomalyDetector Detector(MLContext ml, AutoregressiveDensityOptions density,
        AnomalyScoreCorrection correction = AnomalyScoreCorrection.None) =>
        ml.AnomalyDetection.Trainers.AutoregressiveDensity(new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = density, ScoreCorrection = correction
        });

    private static double MeanNll(MLContext ml, ITransformer model, ImageSet images) =>
        -model.Transform(images.ToDataView(ml)).GetColumn<float>("LogLikelihood").Average(v => (double)v);

    /// <summary>NLL of independent Bernoulli pixels with Laplace-smoothed training means.</summary>
    internal static double IndependentPixelNll(ImageSet train, ImageSet test)
    {
        int d = train.Dimension;
        var p = new double[d];
        for (int r = 0; r < train.Count; r++)
            for (int i = 0; i < d; i++) p[i] += train.Pixels[r * d + i];
        for (int i = 0; i < d; i++) p[i] = (p[i] + 1) / (train.Count + 2);
        double nll = 0;
        for (int r = 0; r < test.Count; r++)
            for (int i = 0; i < d; i++) nll -= Math.Log(test.Pixels[r * d + i] > 0 ? p[i] : 1 - p[i]);
        return nll / test.Count;
    }

    /// <summary>
    /// ROC points (false-positive rate, true-positive rate) for scores where higher = more anomalous and label 1 =
    /// anomaly.
    /// </summary>
    public static (double[] Fpr, double[] Tpr) RocCurve(float[] scores, float[] labels)
    {
        int[] order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ToArray();
        double positives = labels.Count(l => l > 0), negatives = labels.Length - positives;
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        double tp = 0, fp = 0;
        foreach (int i in order)
        {
            if (labels[i] > 0) tp++; else fp++;
            fpr.Add(negatives == 0 ? 0 : fp / negatives);
            tpr.Add(positives == 0 ? 0 : tp / positives);
        }
        return (fpr.ToArray(), tpr.ToArray());
    }

    private static string RocSvg(Dictionary<string, (double[] Fpr, double[] Tpr)> curves)
    {
        string[] colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]; // one per detector
        var svg = new StringBuilder("<svg width=\"600\" height=\"340\" viewBox=\"-40 -10 600 " +
            "340\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">");
        svg.Append("<rect x=\"0\" y=\"0\" width=\"300\" height=\"300\" fill=\"none\" stroke=\"#444\"/><line " +
            "x1=\"0\" y1=\"300\" x2=\"300\" y2=\"0\" stroke=\"#bbb\" stroke-dasharray=\"4\"/>");
        svg.Append("<text x=\"110\" y=\"325\">false-positive rate</text><text x=\"-30\" y=\"-2\">TPR</text><text " +
            "x=\"-10\" y=\"312\">0</text><text x=\"295\" y=\"312\">1</text><text x=\"-12\" y=\"8\">1</text>");
        int k = 0;
        foreach (var (name, (fpr, tpr)) in curves)
        {
            int step = Math.Max(1, fpr.Length / 300);
            var points = Enumerable.Range(0, fpr.Length).Where(i => i % step == 0 || i == fpr.Length - 1)
                .Select(i => FormattableString.Invariant($"{fpr[i] * 300:F1},{300 - tpr[i] * 300:F1}"));
            string colour = colours[k % colours.Length];
            svg.Append($"<polyline " +
                $"fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{string.Join(' ', points)}\"/>");
            svg.Append($"<text x=\"310\" y=\"{20 + 16 * k}\" fill=\"{colour}\">{WebUtility.HtmlEncode(name)}</text>");
            k++;
        }
        return svg.Append("</svg>").ToString();
    }

    private static string Figure(string file, string caption) => GenerationReport.Figure(file, caption);

    /// <summary>
    /// The page; on load a small script records in the DOM whether every image loaded (read by the browser test).
    /// </summary>
    private static string Page(string body) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>MLNetAr report — embedded MNIST digits</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em; max-width: 1200px; color: #222; }
        table { border-collapse: collapse; margin: 0.5em 0 1em; }
        td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
        td:first-child, th:first-child { text-align: left; } .row { display: flex; flex-wrap: wrap; gap: 1.5em; }
        figure { margin: 0; } figcaption { font-size: 0.9em; color: #555; } img { image-rendering: pixelated; }
        </style></head>
        <body data-images="pending">
        <h1>MLNetAr — autoregressive density models on MNIST digits</h1>
        <p>Generated {{DateTime.UtcNow:yyyy-MM-dd HH:mm}} UTC by <code>samples/MLNetAr.Demo</code>
        from the embedded digits10k data (MNIST, CC BY-SA 3.0).</p>
        {{body}}
        <script>
        window.addEventListener('load', function () {
          var images = Array.prototype.slice.call(document.images);
          var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
          document.body.setAttribute('data-images', loaded + '/' + images.length);
        });
        </script>
        </body></html>
        """;
}
