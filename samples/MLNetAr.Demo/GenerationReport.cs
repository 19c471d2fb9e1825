using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.ML;
using MLNetAr.Data;
using MLNetAr.Data.Judge;
using MLNetAr.Pretrained;

namespace MLNetAr.Demo;

/// <summary>
/// The report's generation section: samples and completions of the freshly trained models and of the shipped
/// pretrained ones (<c>models/binarized-mnist</c>), each set judged by the digit judge beside held-out real digits
/// binarised the same way.
/// </summary>
internal static class GenerationReport
{
    /// <summary>One judged set of samples.</summary>
    internal sealed record Judged(string Name, SampleQuality Quality, double GridConfident, double Seconds,
        string Note);

    /// <summary>
    /// Appends the section to <paramref name="html"/>: the fresh models' samples (the first 64 of
    /// <paramref name="samples"/> shown) and completions of <paramref name="test"/> digits, then every pretrained model
    /// found in the repository.
    /// </summary>
    public static List<Judged> Append(StringBuilder html, string outDir, MLContext ml,
        IReadOnlyList<(string Name, AutoregressiveDensityTransformer Model)> fresh, ImageSet test, int samples,
        int pretrainedSamples, Action<string> log)
    {
        var judged = new List<Judged>();
        GenerationJudging thresholded = GenerationJudging.Create(bernoulli: false);
        html.Append("<h2>Generation</h2><p>Is a sample <i>x ~ p(x)</i> a digit? Each model draws images at τ = 1 " +
            "(its own distribution); a convolutional digit classifier (the judge: <code>models/digit-judge</code>, " +
            "trained on 8,000 of the embedded digits, ")
            .Append(string.Create(CultureInfo.InvariantCulture, $"{thresholded.Record.ThresholdAccuracy:P1} / " +
                $"{thresholded.Record.BernoulliAccuracy:P1}"))
            .Append(" on held-out thresholded / Bernoulli-binarised digits) scores them: <b>confident</b> = share " +
                "whose top class has p ≥ 0.9, the <b>Inception-style score</b> exp(E KL(p(y|x) ‖ p(y))) (at most " +
                "10), <b>classes</b> holding ≥ 3 % of the samples, and the <b>Fréchet distance</b> of the judge's " +
                "features to 1,000 other real digits (lower is better; compare only rows of the same N). Real " +
                "held-out digits are scored alongside, with the same N, as the ceiling.</p>");

        // ---- Freshly trained ----------------------------------------------------------------------------------------
        log($"Generation: {samples} samples per model, judged.");
        html.Append("<h3>Trained above (embedded digits, thresholded at ½)</h3>");
        var freshRows = new List<Judged> { Real(thresholded, samples) };
        foreach (var (name, model) in fresh)
        {
            var clock = Stopwatch.StartNew();
            float[][] images = model.Sample(samples, seed: 7);
            double seconds = clock.Elapsed.TotalSeconds;
            freshRows.Add(Score(thresholded, name, images, seconds, ""));
            ImageGrid.SavePng(Path.Combine(outDir, Slug(name) + "-samples.png"), images.Take(64).ToArray(), 28, 28,
                columns: 8, scale: 2);
        }
        Table(html, freshRows);
        html.Append("<div class=\"row\">");
        foreach (var (name, _) in fresh)
            html.Append(Figure(Slug(name) + "-samples.png", $"{name}: {Math.Min(64, samples)} samples"));
        html.Append("</div><h3>Completions</h3><p>Top half given, bottom half sampled: each row is a test digit, " +
            "then three completions.</p><div class=\"row\">");
        ImageSet shown = test.BinarizeThreshold().Slice(0, 8);
        foreach (var (name, model) in fresh)
        {
            string file = Slug(name) + "-completions.png";
            ImageGrid.SavePng(Path.Combine(outDir, file), Completions(model, shown, 3), 28, 28, columns: 4, scale: 2);
            html.Append(Figure(file, name));
        }
        html.Append("</div>");
        judged.AddRange(freshRows);

        // ---- Pretrained ---------------------------------------------------------------------------------------------
        string? folder = PretrainedModels.FindFolder();
        IReadOnlyList<PretrainedModels.Entry> entries = folder == null ? [] : PretrainedModels.ReadManifest(folder);
        html.Append("<h3>Pretrained (standard binarized MNIST, <code>models/binarized-mnist</code>)</h3>");
        if (entries.Count == 0)
        {
            html.Append("<p>No pretrained models found (run from a clone of the repository).</p>");
            return judged;
        }
        log($"Pretrained models: {string.Join(", ", entries.Select(e => e.Name))}; {pretrainedSamples} samples each.");
        html.Append("<p>Each trained with its <code>paper</code> recipe on the 50,000 training images of the " +
            "standard split and loaded here with <code>mlContext.Model.Load</code> after checking its SHA-256 " +
            "against <code>manifest.json</code> (which gives the command that reproduces it). Their digits are " +
            "Bernoulli-binarised, so the real digits are too.</p>");
        GenerationJudging bernoulli = GenerationJudging.Create(bernoulli: true);
        var pretrainedRows = new List<Judged> { Real(bernoulli, pretrainedSamples) };
        var loaded = new List<(PretrainedModels.Entry Entry, AutoregressiveDensityTransformer Model)>();
        foreach (PretrainedModels.Entry entry in entries)
        {
            var model = (AutoregressiveDensityTransformer)PretrainedModels.Load(ml, entry.Name, folder!, out _);
            loaded.Add((entry, model));
            var clock = Stopwatch.StartNew();
            float[][] images = model.Sample(pretrainedSamples, seed: 7);
            double seconds = clock.Elapsed.TotalSeconds;
            string note = string.Create(CultureInfo.InvariantCulture,
                $"validation NLL {entry.ValidationNll:F2} after {entry.Epochs} epochs");
            pretrainedRows.Add(Score(bernoulli, entry.Title, images, seconds, note));
            ImageGrid.SavePng(Path.Combine(outDir, "pretrained-" + entry.Name + "-samples.png"),
                images.Take(64).ToArray(), 28, 28, columns: 8, scale: 2);
        }
        Table(html, pretrainedRows);
        html.Append("<div class=\"row\">");
        foreach (var (entry, _) in loaded)
            html.Append(Figure("pretrained-" + entry.Name + "-samples.png", entry.Title));
        html.Append("</div><p>Completions (top half of a Bernoulli-binarised test digit given, two completions " +
            "each):</p><div class=\"row\">");
        ImageSet shownBernoulli = test.BinarizeStochastic(seed: 5).Slice(0, 6);
        foreach (var (entry, model) in loaded)
        {
            string file = "pretrained-" + entry.Name + "-completions.png";
            ImageGrid.SavePng(Path.Combine(outDir, file), Completions(model, shownBernoulli, 2), 28, 28, columns: 3,
                scale: 2);
            html.Append(Figure(file, entry.Title));
        }
        html.Append("</div>");
        judged.AddRange(pretrainedRows);
        foreach (Judged row in judged)
            log(string.Create(CultureInfo.InvariantCulture, $"  {row.Name}: confident {row.Quality.Confident:F2} " +
                $"(grid {row.GridConfident:F2}), Inception-style {row.Quality.InceptionScore:F2}, " +
                $"{row.Quality.ClassesCovered} classes, Fréchet {row.Quality.FrechetDistance:F1}"));
        return judged;
    }

    /// <summary>
    /// Each digit of <paramref name="shown"/>, then <paramref name="count"/> completions of its top half.
    /// </summary>
    private static List<float[]> Completions(AutoregressiveDensityTransformer model, ImageSet shown, int count)
    {
        var grid = new List<float[]>();
        for (int i = 0; i < shown.Count; i++)
        {
            float[] original = shown.GetImage(i);
            grid.Add(original);
            for (int s = 0; s < count; s++)
                grid.Add(model.Complete(original, knownPixels: original.Length / 2, seed: 10 * i + s));
        }
        return grid;
    }

    private static Judged Real(GenerationJudging judging, int count)
    {
        SampleQuality real = judging.ScoreReal(count);
        double grid = judging.ScoreReal(Math.Min(64, count)).Confident;
        return new Judged($"real held-out digits ({judging.Binarisation})", real, grid, 0, "the ceiling");
    }

    private static Judged Score(GenerationJudging judging, string name, float[][] images, double seconds, string note)
    {
        SampleQuality quality = judging.Score(images);
        double grid = images.Length <= 64 ? quality.Confident
            : SampleQuality.Score(judging.Judge, images.Take(64).SelectMany(i => i).ToArray(), judging.Reference)
                .Confident;
        return new Judged(name, quality, grid, seconds, note);
    }

    private static void Table(StringBuilder html, List<Judged> rows)
    {
        html.Append("<table><tr><th>samples</th><th>N</th><th>confident</th><th>shown grid: confident</th>" +
            "<th>Inception-style score</th><th>classes</th><th>Fréchet distance</th><th>sampling</th><th></th></tr>");
        foreach (Judged r in rows)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(r.Name)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{r.Quality.Count}</td><td>{r.Quality.Confident:F2}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{r.GridConfident:F2}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{r.Quality.InceptionScore:F2}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{r.Quality.ClassesCovered}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{r.Quality.FrechetDistance:F1}</td>")
                .Append(r.Seconds > 0 ? string.Create(CultureInfo.InvariantCulture, $"<td>{r.Seconds:F1} s</td>")
                    : "<td>–</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{WebUtility.HtmlEncode(r.Note)}</td></tr>");
        html.Append("</table>");
    }

    internal static string Figure(string file, string caption) =>
        $"<figure><img src=\"{file}\" alt=\"{WebUtility.HtmlEncode(caption)}\"><figcaption>{caption}</figcaption>" +
        "</figure>";

    internal static string Slug(string name) => new(name.ToLowerInvariant().Where(char.IsLetterOrDigit).ToArray());
}
