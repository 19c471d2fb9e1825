using MLNetAr.Demo;

namespace MLNetAr.Tests.Samples;

public class TexturesTests
{
    [Theory]
    [InlineData("brick")]
    [InlineData("grass")]
    [InlineData("gravel")]
    public void Load_EmbeddedPhotograph_IsAReducedGreyImageWithRealGreyLevels(string name)
    {
        var (pixels, height, width) = Textures.Load(name);

        Assert.Equal((256, 256), (height, width)); // 512×512 reduced 2×
        Assert.All(pixels, v => Assert.InRange(v, 0f, 1f));
        Assert.True(pixels.Distinct().Count() > 100, "grey levels, not a binary image");
    }

    [Fact]
    public void Patches_TopAndBottomHalves_DoNotOverlap()
    {
        var train = Textures.Patches("brick", 16, 0, 0.5, 8);
        var test = Textures.Patches("brick", 16, 0.5, 1, 8);

        Assert.Equal(15 * 31, train.Count); // rows 0..127 and columns 0..255 in steps of 8
        Assert.Equal(15 * 31, test.Count);
        Assert.Equal(16 * 16, train.Dimension);
        var (texture, _, width) = Textures.Load("brick");
        // row 1 of patches, column 1
        Assert.Equal(texture.AsSpan(136 * width + 8, 16).ToArray(), test.GetImage(32).AsSpan(0, 16).ToArray());
    }

    [Theory]
    [InlineData(DefectKind.Scratch)]
    [InlineData(DefectKind.Blob)]
    [InlineData(DefectKind.Spot)]
    public void PasteDefect_ChangesExactlyTheMaskedPixels(DefectKind kind)
    {
        var patch = Enumerable.Repeat(0.5f, 24 * 24).ToArray();
        var other = Enumerable.Repeat(0.25f, 24 * 24).ToArray();

        var (image, mask) = Textures.PasteDefect(patch, 24, kind, other, new Random(3));

        Assert.InRange(mask.Count(m => m), kind == DefectKind.Spot ? 9 : 10, 130);
        for (int i = 0; i < image.Length; i++) Assert.Equal(mask[i], image[i] != 0.5f);
    }

    [Fact]
    public void Auc_KnownRankings()
    {
        Assert.Equal(1.0, Textures.Auc([0.1f, 0.2f, 0.8f, 0.9f], [false, false, true, true]));
        Assert.Equal(0.0, Textures.Auc([0.9f, 0.8f, 0.1f, 0.2f], [false, false, true, true]));
        Assert.Equal(0.5, Textures.Auc([0.5f, 0.5f, 0.5f, 0.5f], [false, true, false, true])); // ties count half
        Assert.Equal(0.75, Textures.Auc([0.1f, 0.6f, 0.5f, 0.9f], [false, false, true, true]));
    }
}
