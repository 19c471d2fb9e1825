using System.Text.RegularExpressions;
using MLNetAr.Demo;

namespace MLNetAr.Tests.Samples;

/// <summary>The main job's report (quick settings): every section is there and every image it shows exists.</summary>
public class DigitsReportTests
{
    [Fact]
    public void Write_QuickSettings_WritesPageWhoseImagesAllExist()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"mlnetar-report-{Guid.NewGuid():N}");
        try
        {
            var lines = new List<string>();
            string page = DigitsReport.Write(folder, ReportSettings.Quick, lines.Add);
            string html = File.ReadAllText(page);
            foreach (string section in new[] { "Density estimation", "Generation", "Completions", "Anomaly detection",
                "ROC curves", "<svg", "FVSBN", "NADE", "MADE", "RandomizedPca", "Inception-style score",
                "real held-out digits (thresholded at", "Pretrained (standard binarized MNIST",
                "real held-out digits (Bernoulli-binarised)", "pretrained-fvsbn-samples.png" })
                Assert.Contains(section, html);
            string[] images = Regex.Matches(html, "<img src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToArray();
            Assert.True(images.Length >= 7, $"{images.Length} images");
            foreach (string image in images)
            {
                byte[] bytes = File.ReadAllBytes(Path.Combine(folder, image));
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes.Take(4).ToArray());
            }
            Assert.Contains(lines, l => l.Contains("normal digit 1", StringComparison.Ordinal)); // progress is reported
            Assert.Contains(lines, l => l.Contains("FVSBN: confident", StringComparison.Ordinal)); // judged
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void RocCurve_PerfectSeparation_GoesThroughTopLeftCorner()
    {
        var (fpr, tpr) = DigitsReport.RocCurve([0.1f, 0.2f, 5f, 6f], [0, 0, 1, 1]);
        Assert.Contains(Enumerable.Range(0, fpr.Length), i => fpr[i] == 0 && tpr[i] == 1);
        Assert.Equal(1, fpr[^1]);
        Assert.Equal(1, tpr[^1]);
    }
}
