using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

public class SmokeTests
{
    [Fact]
    public void FvsbnDensity_FitSaveLoad_RoundTrips()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Digits.Slice(0, 300).ToDataView(ml);
        var model = ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 2, seed: 3).Fit(data);
        var scored = model.Transform(data);
        var ll = scored.GetColumn<float>("LogLikelihood").ToArray();
        Assert.Equal(300, ll.Length);
        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-smoke-{Guid.NewGuid():N}.zip");
        ml.Model.Save(model, data.Schema, path);
        var loaded = new MLContext().Model.Load(path, out _);
        var ll2 = loaded.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        Assert.Equal(ll, ll2);
        File.Delete(path);
    }
}
