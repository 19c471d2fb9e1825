using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;

namespace MLNetAr.Demo;

/// <summary>How much work the texture experiment does.</summary>
/// <param name="PatchSize">Patch side (pixels of the 2× reduced photograph).</param>
/// <param name="Levels">Grey levels K of the models (the patches are quantised to them).</param>
/// <param name="TrainStride">Stride of the training patches over the top half of the normal texture.</param>
/// <param name="Epochs">Epoch limit of the PixelCNN detectors.</param>
/// <param name="Layers">Gated layers of the detector's PixelCNN.</param>
/// <param name="Channels">Its feature maps.</param>
public sealed record TextureSettings(int PatchSize, int Levels, int TrainStride, int Epochs, int Layers, int Channels)
{
    public static TextureSettings Report { get; } = new(24, 16, 4, 4, 3, 12);
    public static TextureSettings Benchmark { get; } = new(32, 16, 4, 8, 4, 24);
    public static TextureSettings Quick { get; } = new(16, 8, 16, 1, 1, 4);
}

/// <summary>One detector's results on the texture test sets.</summary>
/// <param name="Detector">Its name.</param>
/// <param name="Auc">Image-level AUC per anomaly kind ("other textures", then each <see cref="DefectKind"/>).</param>
/// <param name="PixelAuc">Pixel-level AUROC of its per-pixel scores against the defect masks (NaN without
/// them).</param>
/// <param name="Pointing">Fraction of defect patches whose highest-scoring pixel is inside the defect (NaN without
/// per-pixel scores).</param>
/// <param name="PointingByKind">The same fraction per <see cref="DefectKind"/> (empty without per-pixel
/// scores).</param>
public sealed record TextureResult(string Detector, IReadOnlyDictionary<string, double> Auc, double PixelAuc,
    double Pointing, IReadOnlyDictionary<string, double> PointingByKind);

/// <summary>
/// Texture anomaly detection at real grey levels: train on patches of the top half of one texture; test on held-out
/// patches of its bottom half (normal), patches of the other textures, and held-out patches with pasted defects.
/// Compares K-level PixelCNN detectors (with and without a local background model) with ML.NET's RandomizedPca and a
/// per-pixel Gaussian, at the image level (AUC per kind) and, for pasted defects, at the pixel level.
/// </summary>
public sealed class TextureAnomalies
{
    public const string OtherTextures = "other textures";

    private TextureAnomalies(string normal, TextureSettings settings, int seed)
    {
        (Normal, Settings) = (normal, settings);
        int size = settings.PatchSize;
        Train = Textures.Patches(normal, size, 0, 0.5, settings.TrainStride);
        NormalTest = Textures.Patches(normal, size, 0.5, 1, size / 2);
        var others = Textures.Names.Where(n => n != normal).Select(n =>
            Textures.Patches(n, size, 0.5, 1, size / 2)).ToArray();
        OtherTest = new ImageSet(others.SelectMany(o => o.Pixels).ToArray(), size, size);
        var random = new Random(seed);
        foreach (DefectKind kind in Enum.GetValues<DefectKind>())
        {
            var pasted = Enumerable.Range(0, NormalTest.Count)
                .Select(i => Textures.PasteDefect(NormalTest.GetImage(i), size, kind,
                    OtherTest.GetImage(random.Next(OtherTest.Count)), random)).ToArray();
            Defects[kind] = (new ImageSet(pasted.SelectMany(p => p.Image).ToArray(), size, size),
                pasted.Select(p => p.Mask).ToArray());
        }
    }

    public string Normal { get; }
    public TextureSettings Settings { get; }
    /// <summary>Training patches (top half of the normal texture).</summary>
    public ImageSet Train { get; }
    /// <summary>Held-out normal patches (bottom half).</summary>
    public ImageSet NormalTest { get; }
    /// <summary>Patches of the other textures.</summary>
    public ImageSet OtherTest { get; }
    /// <summary>The held-out normal patches with a pasted defect of each kind, and the defects' masks.</summary>
    public Dictionary<DefectKind, (ImageSet Images, bool[][] Masks)> Defects { get; } = [];

    public static TextureAnomalies Create(string normal, TextureSettings settings, int seed = 1) =>
        new(normal, settings, seed);

    /// <summary>
    /// The K-level PixelCNN detector, alone, divided by a one-layer (local) PixelCNN, or corrected by input complexity,
    /// with per-pixel scores.
    /// </summary>
    public AutoregressiveAnomalyTransformer FitPixelCnn(MLContext ml, bool localBackground,
        bool inputComplexity = false)
    {
        TextureSettings s = Settings;
        var options = new AutoregressiveAnomalyDetector.Options
        {
            DensityModel = new PixelCnnDensityEstimator.Options
            {
                Levels = s.Levels, Layers = s.Layers, Channels = s.Channels, HeadChannels = s.Channels, BatchSize = 32,
                MaximumNumberOfEpochs = s.Epochs, Seed = 1,
            },
            PixelScoresColumnName = "PixelScores",
        };
        if (inputComplexity) options.ScoreCorrection = AnomalyScoreCorrection.InputComplexity;
        if (localBackground)
        {
            options.ScoreCorrection = AnomalyScoreCorrection.BackgroundLikelihoodRatio;
            options.BackgroundModel = new PixelCnnDensityEstimator.Options
            {
                Levels = s.Levels, Layers = 1, Channels = s.Channels, HeadChannels = s.Channels, BatchSize = 32,
                MaximumNumberOfEpochs = s.Epochs, Seed = 2,
            };
        }
        return ml.AnomalyDetection.Trainers.AutoregressiveDensity(options).Fit(Train.ToDataView(ml));
    }

    /// <summary>Image scores (and per-pixel scores, when the model has them) of a test set.</summary>
    public delegate (float[] Scores, float[][]? PixelScores) Scorer(ImageSet images);

    /// <summary>A fitted ML.NET anomaly model as a <see cref="Scorer"/>.</summary>
    public static Scorer FromModel(MLContext ml, ITransformer model, bool pixelScores) => images =>
    {
        IDataView scored = model.Transform(images.ToDataView(ml));
        return (scored.GetColumn<float>("Score").ToArray(), pixelScores
            ? scored.GetColumn<float[]>("PixelScores").ToArray() : null);
    };

    /// <summary>
    /// Per-pixel Gaussian baseline: each pixel's mean and standard deviation over the training patches;
    /// <c>score = Σ_i z_i²</c>, per-pixel scores <c>z_i²</c>.
    /// </summary>
    public Scorer PerPixelGaussian()
    {
        int d = Train.Dimension;
        var mean = new double[d];
        var variance = new double[d];
        for (int r = 0; r < Train.Count; r++)
            for (int i = 0; i < d; i++) mean[i] += Train.Pixels[r * d + i] / Train.Count;
        for (int r = 0; r < Train.Count; r++)
            for (int i = 0; i < d; i++) variance[i] += Math.Pow(Train.Pixels[r * d + i] - mean[i], 2) / Train.Count;
        return images =>
        {
            var pixelScores = new float[images.Count][];
            for (int r = 0; r < images.Count; r++)
                pixelScores[r] = Enumerable.Range(0, d).Select(i =>
                    (float)(Math.Pow(images.Pixels[r * d + i] - mean[i], 2) / (variance[i] + 1e-4))).ToArray();
            return (pixelScores.Select(p => p.Sum()).ToArray(), pixelScores);
        };
    }

    /// <summary>
    /// AUC per anomaly kind and, when the scorer gives per-pixel scores, localisation on the pasted defects.
    /// </summary>
    public TextureResult Evaluate(string name, Scorer scorer)
    {
        float[] normal = scorer(NormalTest).Scores;
        var auc = new Dictionary<string, double> { [OtherTextures] = Separation(normal, scorer(OtherTest).Scores) };
        var located = new List<(float[] PixelScores, bool[] Mask)>();
        var pointingByKind = new Dictionary<string, double>();
        foreach (var (kind, (images, masks)) in Defects)
        {
            var (scores, perPixel) = scorer(images);
            auc[KindName(kind)] = Separation(normal, scores);
            if (perPixel == null) continue;
            var ofKind = perPixel.Zip(masks).ToList();
            located.AddRange(ofKind);
            pointingByKind[KindName(kind)] = Pointing(ofKind);
        }
        var (pixelAuc, pointing) = Localisation(located);
        return new TextureResult(name, auc, pixelAuc, pointing, pointingByKind);
    }

    /// <summary>The name of a defect kind in results ("scratch", "blob", "spot").</summary>
    public static string KindName(DefectKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>
    /// Pixel-level AUROC of per-pixel scores against defect masks (all pixels of all images pooled), and the pointing
    /// game: the fraction of images whose highest-scoring pixel is inside the defect. NaN for no images.
    /// </summary>
    public static (double PixelAuc, double Pointing) Localisation(
        IReadOnlyList<(float[] PixelScores, bool[] Mask)> images)
    {
        if (images.Count == 0) return (double.NaN, double.NaN);
        double pixelAuc = Textures.Auc(images.SelectMany(i => i.PixelScores).ToArray(),
            images.SelectMany(i => i.Mask).ToArray());
        return (pixelAuc, Pointing(images));
    }

    /// <summary>The pointing game alone (see <see cref="Localisation"/>); NaN for no images.</summary>
    public static double Pointing(IReadOnlyList<(float[] PixelScores, bool[] Mask)> images) => images.Count == 0
        ? double.NaN : images.Count(i => Textures.PointsInside(i.PixelScores, i.Mask)) / (double)images.Count;

    private static double Separation(float[] normal, float[] anomalous) =>
        Textures.Auc(normal.Concat(anomalous).ToArray(),
            normal.Select(_ => false).Concat(anomalous.Select(_ => true)).ToArray());
}
