using MLNetAr.Data;
using MLNetAr.Demo;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Samples;

[Collection(ConsoleCollection.Name)]
public class UserImagesTests
{
    [Theory]
    [InlineData(false)] // grey digits: a 16-level PixelCNN
    [InlineData(true)]  // binarised digits: the binary FVSBN ÷ local PixelCNN
    public void TrainThenScore_FolderOfPngs_FlagsForeignImagesFirst(bool binary)
    {
        string root = Path.Combine(Path.GetTempPath(), $"mlnetar-user-{Guid.NewGuid():N}");
        string normal = Path.Combine(root, "normal"), fresh = Path.Combine(root, "new"),
            model = Path.Combine(root, "model.zip");
        Directory.CreateDirectory(normal);
        Directory.CreateDirectory(fresh);
        try
        {
            static void Write(string folder, string name, float[] image) =>
                File.WriteAllBytes(Path.Combine(folder, name),
                    ImageGrid.EncodeGray8(image.Select(v => (byte)MathF.Round(v * 255f)).ToArray(), 28, 28));
            ImageSet ones = TestData.Digits.Slice(0, 1500).Where(l => l == 1);
            if (binary) ones = ones.BinarizeThreshold();
            for (int i = 0; i < ones.Count; i++) Write(normal, $"one{i:D4}.png", ones.GetImage(i));
            Write(fresh, "a-one.png", TestData.Digits.Slice(9000, 1000).Where(l => l == 1).GetImage(0));
            Write(fresh, "b-noise.png", TestData.RandomBinary(1, 784, seed: 3, p: 0.5));

            var output = new StringWriter();
            var saved = Console.Out;
            Console.SetOut(output);
            try
            {
                // Size 28: resizing would turn binary images grey.
                UserImages.Train(normal, model, size: binary ? 28 : 14, epochs: 3);
                Assert.True(File.Exists(model));
                Assert.Contains(binary ? "binary images (binary FVSBN" : "grey-level images (16-level PixelCNN",
                    output.ToString());
                output.GetStringBuilder().Clear();
                UserImages.Score(fresh, model);
            }
            finally
            {
                Console.SetOut(saved);
            }
            string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length); // header + 2 images, most anomalous first
            Assert.Contains("b-noise.png", lines[1]);
            Assert.Contains("yes", lines[1]);
            Assert.Contains("a-one.png", lines[2]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
