using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Data;
using MLNetAr.Kernels;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>
/// FVSBN through ML.NET: schema, lazy scoring, PredictionEngine, parallel cursors, save/load, sampling.
/// </summary>
public class FvsbnCatalogTests
{
    private const int D = 784;

    internal static AutoregressiveDensityTransformer FitSmall(MLContext ml, int rows = 300, int epochs = 2,
        int seed = 3) =>
        ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: epochs,
            seed: seed).Fit(TestData.Digits.Slice(0, rows).ToDataView(ml));

    public sealed class DigitInput
    {
        [VectorType(D)] public float[] Pixels { get; set; } = [];
    }

    public sealed class DigitScore
    {
        public float LogLikelihood { get; set; }
        [VectorType(D)] public float[] HiddenFeatures { get; set; } = [];
    }

    [Fact]
    public void GetOutputSchema_AddsLogLikelihoodAndHiddenFeatures()
    {
        var ml = new MLContext(1);
        var data = TestData.Digits.Slice(0, 10).ToDataView(ml);
        var estimator = ml.Transforms.FvsbnDensity(hiddenFeaturesColumnName: "Features");
        var shape = estimator.GetOutputSchema(MLNetAr.Interop.MlNetInterop.ShapeOf(data.Schema));
        var ll = Assert.Single(shape, c => c.Name == "LogLikelihood");
        Assert.Equal(NumberDataViewType.Single, ll.ItemType);
        Assert.Equal(SchemaShape.Column.VectorKind.Scalar, ll.Kind);
        var features = Assert.Single(shape, c => c.Name == "Features");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, features.Kind);
        Assert.Single(shape, c => c.Name == "Pixels");

        var model = FitSmall(ml, rows: 50, epochs: 1);
        var schema = model.GetOutputSchema(data.Schema);
        Assert.Equal(NumberDataViewType.Single, schema["LogLikelihood"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, D), schema["HiddenFeatures"].Type);
        Assert.NotNull(schema.GetColumnOrNull("Label")); // input columns pass through
    }

    [Fact]
    public void Fit_EmbeddedDigits_BeatsIndependentPixelBaselineByWideMargin()
    {
        var ml = new MLContext(1);
        ImageSet train = TestData.Digits.Slice(0, 3000), validation = TestData.Digits.Slice(8000, 500),
            test = TestData.Digits.Slice(9000, 1000);
        var model = ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            MaximumNumberOfEpochs = 6,
            Seed = 1
        })
            .Fit(train.ToDataView(ml), validation.ToDataView(ml));
        double nll = -model.Transform(test.ToDataView(ml)).GetColumn<float>("LogLikelihood").Average(v => (double)v);

        // Independent Bernoulli pixels with Laplace-smoothed training means.
        ImageSet binaryTrain = train.BinarizeThreshold(), binaryTest = test.BinarizeThreshold();
        var p = new double[D];
        for (int r = 0; r < binaryTrain.Count; r++) for (int i = 0; i < D; i++) p[i] += binaryTrain.Pixels[r * D + i];
        for (int i = 0; i < D; i++) p[i] = (p[i] + 1) / (binaryTrain.Count + 2);
        double baseline = 0;
        for (int r = 0; r < binaryTest.Count; r++)
            for (int i = 0; i < D; i++)
                baseline -= Math.Log(binaryTest.Pixels[r * D + i] > 0 ? p[i] : 1 - p[i]);
        baseline /= binaryTest.Count;

        // Measured: baseline 204.5, FVSBN after 6 epochs on 3000 images 126.0 nats (a 78-nat gap).
        Assert.True(nll < baseline - 50, $"FVSBN test NLL {nll:F2} vs independent-pixel baseline {baseline:F2}");
        Assert.Equal(6, model.TrainingHistory.Count);
        Assert.True(model.TrainingHistory[^1].ValidationNll < model.TrainingHistory[0].ValidationNll);
    }

    [Fact]
    public void Transform_ScoresLazilyAndMatchesDirectModelEvaluation()
    {
        var ml = new MLContext(1);
        var model = FitSmall(ml);
        ImageSet images = TestData.Digits.Slice(500, 40);
        float[] viaPipeline = model.Transform(images.ToDataView(ml)).GetColumn<float>("LogLikelihood").ToArray();
        float[] direct = ModelAssert.LogLikelihoods(model.Model, images.BinarizeThreshold().Pixels);
        Assert.Equal(direct, viaPipeline);
        Assert.All(viaPipeline, v => Assert.True(v < 0 && float.IsFinite(v)));
    }

    [Fact]
    public void PredictionEngine_GivesSameValuesAsTransform()
    {
        var ml = new MLContext(1);
        var model = FitSmall(ml);
        ImageSet images = TestData.Digits.Slice(600, 20);
        var data = images.ToDataView(ml);
        float[] ll = model.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        float[][] hidden = model.Transform(data).GetColumn<float[]>("HiddenFeatures").ToArray();

        using var engine = ml.Model.CreatePredictionEngine<DigitInput, DigitScore>(model);
        for (int i = 0; i < images.Count; i++)
        {
            DigitScore score = engine.Predict(new DigitInput { Pixels = images.GetImage(i) });
            // Transform scores 16+ rows as one dense product, the engine one row by sparse row sums: equal to rounding.
            Assert.Equal(ll[i], score.LogLikelihood, 1e-5 * Math.Abs(ll[i]));
            for (int j = 0; j < hidden[i].Length; j++)
                Assert.Equal(hidden[i][j], score.HiddenFeatures[j], 1e-4 * Math.Max(1, Math.Abs(hidden[i][j])));
        }
    }

    [Fact]
    public void SaveLoad_ChainedAfterNormalizeMinMax_RoundTripsBitExactlyInFreshContext()
    {
        var ml = new MLContext(1);
        // Raw 0..255 pixels: NormalizeMinMax maps them into [0, 1] before the density model.
        ImageSet images = TestData.Digits.Slice(0, 200);
        var raw = new ImageSet(images.Pixels.Select(v => MathF.Round(v * 255f)).ToArray(), 28, 28, images.Labels);
        var data = raw.ToDataView(ml);
        var pipeline = ml.Transforms.NormalizeMinMax("Pixels")
            .Append(ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1, seed: 2))
            .Append(ml.Transforms.Concatenate("Combined", "HiddenFeatures"));
        var model = pipeline.Fit(data);
        var before = model.Transform(data);

        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext(seed: 99);
            ITransformer loaded = fresh.Model.Load(path, out DataViewSchema inputSchema);
            Assert.Equal(data.Schema.Count, inputSchema.Count);
            var after = loaded.Transform(raw.ToDataView(fresh));
            Assert.Equal(before.GetColumn<float>("LogLikelihood").ToArray(),
                after.GetColumn<float>("LogLikelihood").ToArray());
            Assert.Equal(before.GetColumn<float[]>("HiddenFeatures").ToArray(),
                after.GetColumn<float[]>("HiddenFeatures").ToArray());
            Assert.Equal(before.GetColumn<float[]>("Combined").ToArray(),
                after.GetColumn<float[]>("Combined").ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SaveLoad_ImageFilesThroughImageAnalytics_RoundTrips()
    {
        var ml = new MLContext(1);
        string folder = Path.Combine(Path.GetTempPath(), $"mlnetar-images-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            ImageSet images = TestData.Digits.Slice(0, 60);
            var files = new List<ImageFile>();
            for (int i = 0; i < images.Count; i++)
            {
                byte[] gray = images.GetImage(i).Select(v => (byte)MathF.Round(v * 255f)).ToArray();
                string name = $"digit{i}.png";
                File.WriteAllBytes(Path.Combine(folder, name), ImageGrid.EncodeGray8(gray, 28, 28));
                files.Add(new ImageFile { ImagePath = name });
            }
            var data = ml.Data.LoadFromEnumerable(files);
            var pipeline = ml.Transforms.LoadImages("Image", folder, nameof(ImageFile.ImagePath))
                .Append(ml.Transforms.ResizeImages("Image", 28, 28))
                .Append(ml.Transforms.ConvertToGrayscale("Image"))
                .Append(ml.Transforms.ExtractPixels("Pixels", "Image",
                    Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255))
                .Append(ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: 1, seed: 4));
            var model = pipeline.Fit(data);
            float[] before = model.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
            // The pixels that reached the model are the digits themselves.
            float[] direct = ModelAssert.LogLikelihoods(((AutoregressiveDensityTransformer)model.LastTransformer).Model,
                images.BinarizeThreshold().Pixels);
            Assert.Equal(direct, before);

            string path = Path.Combine(folder, "model.zip");
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext();
            var loaded = fresh.Model.Load(path, out _);
            Assert.Equal(before,
                loaded.Transform(fresh.Data.LoadFromEnumerable(files)).GetColumn<float>("LogLikelihood").ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
    }

    [Fact]
    public void Transform_ParallelAndBatchedCursors_GiveSameValuesAsOneCursor()
    {
        var ml = new MLContext(1);
        var model = FitSmall(ml);
        var data = ml.Data.Cache(TestData.Digits.Slice(1000, 400).ToDataView(ml));
        var scored = model.Transform(data);
        var column = scored.Schema["LogLikelihood"];
        var hidden = scored.Schema["HiddenFeatures"];

        // Rows are matched by row ID: positions of cursors in a set are per cursor.
        static Dictionary<DataViewRowId, (float, float[])> Read(DataViewRowCursor cursor, DataViewSchema.Column column,
            DataViewSchema.Column hidden)
        {
            var rows = new Dictionary<DataViewRowId, (float, float[])>();
            using (cursor)
            {
                var getter = cursor.GetGetter<float>(column);
                var hiddenGetter = cursor.GetGetter<VBuffer<float>>(hidden);
                var idGetter = cursor.GetIdGetter();
                VBuffer<float> features = default;
                float value = 0;
                DataViewRowId id = default;
                while (cursor.MoveNext())
                {
                    getter(ref value);
                    hiddenGetter(ref features);
                    idGetter(ref id);
                    rows.Add(id, (value, features.DenseValues().ToArray()));
                }
            }
            return rows;
        }

        var sequential = Read(scored.GetRowCursor([column, hidden]), column, hidden);
        Assert.Equal(400, sequential.Count);
        // A set, shuffled or not, is one batched cursor (its kernels use every core); shuffled, the batches hold other
        // rows, and FVSBN sums a batch of 16+ rows as one dense product but a smaller one sparsely: equal to rounding.
        foreach (Random? rand in new[] { null, new Random(3) })
        {
            DataViewRowCursor[] cursors = scored.GetRowCursorSet([column, hidden], 4, rand);
            Assert.Single(cursors);
            var rows = Read(cursors[0], column, hidden);
            Assert.Equal(400, rows.Count);
            foreach (var (id, (value, features)) in rows)
            {
                Assert.Equal(sequential[id].Item1, value, 1e-5 * Math.Abs(value));
                for (int j = 0; j < features.Length; j++)
                    Assert.Equal(sequential[id].Item2[j], features[j], 1e-4 * Math.Max(1, Math.Abs(features[j])));
            }
        }
        // Row by row, through parallel mapped rows: the same values, and the scorer state is per row object.
        var mapper = model.GetRowToRowMapper(data.Schema);
        var partsById = new System.Collections.Concurrent.ConcurrentDictionary<DataViewRowId, float>();
        DataViewRowCursor[] sources = data.GetRowCursorSet(mapper.GetDependencies(
            [mapper.OutputSchema["LogLikelihood"]]), 4);
        Parallel.ForEach(sources, new ParallelOptions { MaxDegreeOfParallelism = 4 }, source =>
        {
            using (source)
            using (var row = mapper.GetRow(source, [mapper.OutputSchema["LogLikelihood"]]))
            {
                var getter = row.GetGetter<float>(mapper.OutputSchema["LogLikelihood"]);
                var idGetter = row.GetIdGetter();
                float value = 0;
                DataViewRowId id = default;
                while (source.MoveNext())
                {
                    getter(ref value);
                    idGetter(ref id);
                    partsById[id] = value;
                }
            }
        });
        Assert.Equal(400, partsById.Count);
        foreach (var (id, value) in partsById) Assert.Equal(sequential[id].Item1, value, 1e-5 * Math.Abs(value));
    }

    [Fact]
    public void Fit_SameSeed_GivesIdenticalModels()
    {
        float[] first = FitSmall(new MLContext(5), rows: 150, epochs: 2, seed: 8).Model.Parameters[0].Value;
        float[] second = FitSmall(new MLContext(6), rows: 150, epochs: 2, seed: 8).Model.Parameters[0].Value;
        Assert.Equal(first, second);
    }

    [Fact]
    public void NumberOfThreads_OneOrTwo_TrainsBitIdenticalModelsAndLimitsOnlyTheFit()
    {
        IDataView data = TestData.Digits.Slice(0, 300).ToDataView(new MLContext(1));
        AutoregressiveDensityTransformer Fit(int? threads,
            Func<MLContext, AutoregressiveDensityOptions, IEstimator<AutoregressiveDensityTransformer>> create,
            AutoregressiveDensityOptions options)
        {
            options.NumberOfThreads = threads;
            options.MaximumNumberOfEpochs = 2;
            options.Seed = 3;
            return (AutoregressiveDensityTransformer)create(new MLContext(1), options).Fit(data);
        }

        foreach (var (create, options) in new (Func<MLContext, AutoregressiveDensityOptions,
            IEstimator<AutoregressiveDensityTransformer>>, Func<AutoregressiveDensityOptions>)[]
        {
            ((ml, o) => ml.Transforms.FvsbnDensity((FvsbnDensityEstimator.Options)o), () =>
                new FvsbnDensityEstimator.Options()),
            ((ml, o) => ml.Transforms.NadeDensity((NadeDensityEstimator.Options)o), () =>
                new NadeDensityEstimator.Options { HiddenSize = 16 }),
            ((ml, o) => ml.Transforms.MadeDensity((MadeDensityEstimator.Options)o), () =>
                new MadeDensityEstimator.Options { HiddenSizes = [32] }),
        })
        {
            var one = Fit(1, create, options());
            var two = Fit(2, create, options());
            var all = Fit(null, create, options());
            for (int p = 0; p < one.Model.Parameters.Count; p++)
            {
                Assert.Equal(one.Model.Parameters[p].Value, two.Model.Parameters[p].Value);
                Assert.Equal(one.Model.Parameters[p].Value, all.Model.Parameters[p].Value);
            }
        }
        Assert.Equal(Math.Max(1, Kernel.MaxDegreeOfParallelism), Kernel.AvailableThreads); // the limit ended with Fit
        using (Kernel.LimitThreads(1)) Assert.Equal(1, Kernel.AvailableThreads);
    }

    [Fact]
    public void Sample_SameSeed_IsReproducibleBinaryAndIndependentOfThreads()
    {
        var model = FitSmall(new MLContext(1), rows: 200, epochs: 1);
        int saved = Kernel.MaxDegreeOfParallelism;
        float[][] one, two;
        try
        {
            Kernel.MaxDegreeOfParallelism = 1;
            one = model.Sample(12, seed: 5);
            Kernel.MaxDegreeOfParallelism = 2;
            two = model.Sample(12, seed: 5);
        }
        finally
        {
            Kernel.MaxDegreeOfParallelism = saved;
        }
        Assert.Equal(12, one.Length);
        Assert.Equal(one, two);
        Assert.All(one, image => Assert.All(image, v => Assert.True(v == 0f || v == 1f)));
        Assert.NotEqual(one[0], model.Sample(1, seed: 6)[0]);
        Assert.Empty(model.Sample(0, seed: 1));
    }

    [Fact]
    public void Complete_KeepsKnownPixelsBinarisedAndFillsTheRest()
    {
        var model = FitSmall(new MLContext(1), rows: 200, epochs: 1);
        float[] digit = TestData.Digits.GetImage(9000);
        float[] completed = model.Complete(digit, knownPixels: 392, seed: 3);
        for (int i = 0; i < 392; i++) Assert.Equal(digit[i] > 0.5f ? 1f : 0f, completed[i]);
        Assert.All(completed, v => Assert.True(v == 0f || v == 1f));
        Assert.Equal(completed, model.Complete(digit, 392, seed: 3));
        // All pixels known: nothing to sample.
        Assert.Equal(digit.Select(v => v > 0.5f ? 1f : 0f).ToArray(), model.Complete(digit, D, seed: 3));
    }
}
