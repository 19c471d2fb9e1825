using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>Transform's cursors score rows in read-ahead batches; every row still gets its own scores.</summary>
public class BatchedScoringTests
{
    public static TheoryData<string> Models() => ModelFamilyTests.Models();

    [Theory]
    [MemberData(nameof(Models))]
    public void Transform_AcrossBatchBoundariesWithSkippedRows_MatchesRowByRowScoring(string model)
    {
        var ml = new MLContext(1);
        var fitted = ModelFamilyTests.Estimator(ml, model).Fit(TestData.Digits.Slice(0, 200).ToDataView(ml));
        var images = TestData.Digits.Slice(2000, 150); // two full batches and a partial one
        IDataView scored = fitted.Transform(images.ToDataView(ml));
        using var engine = ml.Model.CreatePredictionEngine<ModelFamilyTests.Input, ModelFamilyTests.Output>(fitted);

        // Read the scores of every third row only (the read-ahead cursor must skip the others), labels of every row.
        var logLikelihood = scored.Schema["LogLikelihood"];
        var hidden = scored.Schema["HiddenFeatures"];
        var label = scored.Schema["Label"];
        using var cursor = scored.GetRowCursor([logLikelihood, hidden, label]);
        var getLogLikelihood = cursor.GetGetter<float>(logLikelihood);
        var getHidden = cursor.GetGetter<VBuffer<float>>(hidden);
        var getLabel = cursor.GetGetter<float>(label);
        int checkedRows = 0;
        float value = 0, labelValue = 0;
        VBuffer<float> features = default;
        while (cursor.MoveNext())
        {
            int row = (int)cursor.Position;
            getLabel(ref labelValue);
            Assert.Equal(images.Labels![row], labelValue);
            if (row % 3 != 1) continue;
            getLogLikelihood(ref value);
            getHidden(ref features);
            var single = engine.Predict(new ModelFamilyTests.Input { Pixels = images.GetImage(row) });
            Assert.Equal(single.LogLikelihood, value, 1e-5 * Math.Abs(value));
            float[] batchedFeatures = features.DenseValues().ToArray();
            for (int i = 0; i < batchedFeatures.Length; i++)
                Assert.Equal(single.HiddenFeatures[i], batchedFeatures[i], 1e-4 * Math.Max(1, Math.Abs(batchedFeatures[i])));
            checkedRows++;
        }
        Assert.Equal(50, checkedRows);
    }
}
