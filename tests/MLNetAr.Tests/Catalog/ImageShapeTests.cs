using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>
/// The image models on plain vectors, the usual way MNIST reaches ML.NET: no image dimensions on the column.
/// </summary>
public class ImageShapeTests
{
    private sealed class Plain784
    {
        [VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    private sealed class Plain392
    {
        [VectorType(392)] public float[] Pixels { get; set; } = [];
    }

    private static IDataView Digits784(MLContext ml) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i =>
            new Plain784 { Pixels = TestData.Digits.GetImage(i) }));

    private static IDataView TopHalves(MLContext ml) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i =>
            new Plain392 { Pixels = TestData.Digits.GetImage(i)[..392] }));

    [Fact]
    public void FlatOverloads_PlainSquareVector_ReadAsSquareImageAndSaySo()
    {
        var ml = new MLContext(1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.RawMessage.Contains("carries no image dimensions",
            StringComparison.Ordinal)) messages.Add(e.RawMessage);
        };

        var pixelCnn = ml.Transforms.PixelCnnDensity("Pixels", layers: 1, channels: 2, maximumNumberOfEpochs: 1,
            seed: 1).Fit(Digits784(ml));
        var pixelRnn = ml.Transforms.PixelRnnDensity("Pixels", hiddenSize: 4, maximumNumberOfEpochs: 1,
            seed: 1).Fit(Digits784(ml));

        Assert.Equal(2, messages.Count);
        Assert.All(messages, m => Assert.Contains("read as a square 28×28 image", m));
        Assert.All(pixelCnn.Transform(Digits784(ml)).GetColumn<float>("LogLikelihood"), v =>
            Assert.True(float.IsFinite(v) && v < 0));
        Assert.All(pixelRnn.Transform(Digits784(ml)).GetColumn<float>("LogLikelihood"), v =>
            Assert.True(float.IsFinite(v) && v < 0));
    }

    [Fact]
    public void FlatOverloads_HeightAndWidth_ShapeAPlainVector()
    {
        var ml = new MLContext(1);

        var pixelCnn = ml.Transforms.PixelCnnDensity("Pixels", layers: 1, channels: 2, maximumNumberOfEpochs: 1,
            seed: 1, height: 14, width: 28).Fit(TopHalves(ml));
        var pixelRnn = ml.Transforms.PixelRnnDensity("Pixels", hiddenSize: 4, maximumNumberOfEpochs: 1, seed: 1,
            width: 28).Fit(TopHalves(ml));

        Assert.Equal(392, pixelCnn.Dimension);
        Assert.Equal(392, pixelRnn.Dimension);
    }

    [Fact]
    public void PlainVectorNotSquare_NoShapeGiven_ErrorNamesTheOption()
    {
        var ml = new MLContext(1);

        var cnn = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.PixelCnnDensity("Pixels", maximumNumberOfEpochs: 1).Fit(TopHalves(ml)));
        var rnn = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.PixelRnnDensity("Pixels", maximumNumberOfEpochs: 1).Fit(TopHalves(ml)));

        Assert.Equal("Height", cnn.ParamName);
        Assert.Contains("`Height` and `Width` must be set: column 'Pixels' (Vector<Single, 392>) does not carry " +
            "image dimensions", cnn.Message);
        Assert.Equal("Width", rnn.ParamName);
        Assert.Contains("`Width` (or `UsePixelAbove = false`) must be set", rnn.Message);
    }

    [Fact]
    public void WrongShape_FailsBeforeReadingAnyRow()
    {
        var ml = new MLContext(1);
        static IEnumerable<Plain392> Unreadable()
        {
            throw new InvalidOperationException("a row was read");
#pragma warning disable CS0162 // unreachable: the iterator must fail on its first read
            yield break;
#pragma warning restore CS0162
        }
        IDataView data = ml.Data.LoadFromEnumerable(Unreadable());

        Assert.Equal("Height",
            Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.PixelCnnDensity("Pixels").Fit(data)).ParamName);
        Assert.Equal("Width",
            Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.PixelRnnDensity("Pixels").Fit(data)).ParamName);
        Assert.Equal("Width",
            Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.PixelRnnDensity("Pixels", width: 30).Fit(data)).ParamName);
    }
}
