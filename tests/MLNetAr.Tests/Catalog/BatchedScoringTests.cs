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
                Assert.Equal(single.HiddenFeatures[i], batchedFeatures[i], 1e-4
                    * Math.Max(1, Math.Abs(batchedFeatures[i])));
            checkedRows++;
        }
        Assert.Equal(50, checkedRows);
    }

    private sealed class NamedImage
    {
        public string Name { get; set; } = "";
        [VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    [Fact]
    public void Transform_PassThroughTextAndVectorColumns_AreCopiesOfEachRow()
    {
        var ml = new MLContext(1);
        var fitted = ml.Transforms.MadeDensity(hiddenSizes: [12], maximumNumberOfEpochs: 1,
            seed: 2).Fit(TestData.Digits.Slice(0, 100).ToDataView(ml));
        var images = TestData.Digits.Slice(3000, 300); // a batch of 256 and one of 44
        var rows = Enumerable.Range(0, images.Count).Select(i =>
            new NamedImage { Name = $"image {i}", Pixels = images.GetImage(i) }).ToArray();
        IDataView scored = fitted.Transform(ml.Data.LoadFromEnumerable(rows));
        string[] names = scored.GetColumn<string>("Name").ToArray();
        float[][] pixels = scored.GetColumn<float[]>("Pixels").ToArray();
        float[] logLikelihood = scored.GetColumn<float>("LogLikelihood").ToArray();
        Assert.Equal(rows.Select(r => r.Name), names);
        Assert.Equal(rows.Select(r => r.Pixels), pixels);
        // The same rows in another order (a shuffled cursor): each keeps its own name and score.
        var byName = names.Zip(logLikelihood).ToDictionary(p => p.First, p => p.Second);
        var nameColumn = scored.Schema["Name"];
        var scoreColumn = scored.Schema["LogLikelihood"];
        using var cursor = scored.GetRowCursor([nameColumn, scoreColumn], new Random(4));
        var getName = cursor.GetGetter<ReadOnlyMemory<char>>(nameColumn);
        var getScore = cursor.GetGetter<float>(scoreColumn);
        ReadOnlyMemory<char> name = default;
        float score = 0;
        int count = 0;
        while (cursor.MoveNext())
        {
            getName(ref name);
            getScore(ref score);
            Assert.Equal(byName[name.ToString()], score, 1e-5 * Math.Abs(score));
            count++;
        }
        Assert.Equal(300, count);
    }
}
