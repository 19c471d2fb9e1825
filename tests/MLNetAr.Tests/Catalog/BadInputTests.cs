using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Catalog;

/// <summary>
/// Every bad input gets an ML.NET-style exception naming the column or option, at schema/fit/transform time.
/// </summary>
public class BadInputTests
{
    public sealed class StringRow { public string Pixels { get; set; } = ""; }
    public sealed class ByteRow { [VectorType(4)] public byte[] Pixels { get; set; } = []; }
    public sealed class VariableRow { public float[] Pixels { get; set; } = []; }
    public sealed class FourRow { [VectorType(4)] public float[] Pixels { get; set; } = []; }
    public sealed class FiveRow { [VectorType(5)] public float[] Pixels { get; set; } = []; }
    public sealed class OtherRow { [VectorType(4)] public float[] Image { get; set; } = []; }

    private static readonly MLContext Ml = new(1);

    private static IDataView Four(params float[][] rows) =>
        Ml.Data.LoadFromEnumerable(rows.Select(r => new FourRow { Pixels = r }));

    private static FvsbnDensityEstimator Estimator(int epochs = 1) =>
        Ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: epochs, seed: 1);

    private static AutoregressiveDensityTransformer FittedOnFour() =>
        Estimator().Fit(Four([0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1]));

    public static TheoryData<string, IDataView, string> WrongSchemas() => new()
    {
        { "missing", Ml.Data.LoadFromEnumerable(new[] { new OtherRow { Image = [0, 1, 0, 1] } }),
            "Could not find input column 'Pixels'" },
        { "string", Ml.Data.LoadFromEnumerable(new[] { new StringRow { Pixels = "x" } }),
            "Schema mismatch for input column 'Pixels': expected known-size vector of Single or an image, got String" },
        { "bytes", Ml.Data.LoadFromEnumerable(new[] { new ByteRow { Pixels = [0, 1, 2, 3] } }),
            "Schema mismatch for input column 'Pixels': expected known-size vector of Single or an image, got " +
            "Vector<Byte, 4>" },
        { "variable", Ml.Data.LoadFromEnumerable(new[] { new VariableRow { Pixels = [0, 1] } }),
            "Schema mismatch for input column 'Pixels': expected known-size vector of Single or an image, got " +
            "Vector<Single>" },
    };

    [Theory]
    [MemberData(nameof(WrongSchemas))]
    public void Fit_WrongInputColumn_ThrowsSchemaMismatchNamingColumn(string name, IDataView data, string expected)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Estimator().Fit(data));
        Assert.Equal("inputSchema", e.ParamName);
        Assert.StartsWith(expected, e.Message);
        Assert.False(string.IsNullOrEmpty(name));
    }

    [Theory]
    [MemberData(nameof(WrongSchemas))]
    public void GetOutputSchema_WrongInputColumn_ThrowsAtEstimatorAndTransformer(string name, IDataView data,
        string expected)
    {
        var estimatorError = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Estimator().GetOutputSchema(MLNetAr.Interop.MlNetInterop.ShapeOf(data.Schema)));
        string expectedAtShape = name == "variable"
            ? "Schema mismatch for input column 'Pixels': expected known-size vector of Single or an image, got " +
                "variable-size vector of Single"
            : name == "bytes" ? "Schema mismatch for input column 'Pixels': expected known-size vector of Single or " +
                "an image, got vector of Byte" : expected;
        Assert.StartsWith(expectedAtShape, estimatorError.Message);

        var transformer = FittedOnFour();
        var transformError = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.Transform(data));
        Assert.Contains("'Pixels'", transformError.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => transformer.GetOutputSchema(data.Schema));
        Assert.Throws<ArgumentOutOfRangeException>(() => transformer.GetRowToRowMapper(data.Schema));
    }

    [Fact]
    public void Transform_VectorSizeDiffersFromFit_ThrowsSchemaMismatch()
    {
        var data = Ml.Data.LoadFromEnumerable(new[] { new FiveRow { Pixels = [0, 1, 0, 1, 0] } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => FittedOnFour().Transform(data));
        Assert.StartsWith("Schema mismatch for input column 'Pixels': expected known-size vector of Single of size " +
            "4, got Vector<Single, 5>", e.Message);
    }

    [Fact]
    public void Fit_ValidationDataOfOtherSize_ThrowsSchemaMismatch()
    {
        var validation = Ml.Data.LoadFromEnumerable(new[] { new FiveRow { Pixels = [0, 1, 0, 1, 0] } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Estimator().Fit(Four([0, 1, 0, 1]), validation));
        Assert.Contains("expected known-size vector of Single of size 4", e.Message);
    }

    [Theory]
    [InlineData(float.NaN, "got NaN")]
    [InlineData(float.PositiveInfinity, "got Infinity")]
    [InlineData(255f, "got 255")]
    [InlineData(-0.5f, "got -0.5")]
    public void Fit_InvalidPixelValue_ThrowsNamingColumnRowAndValue(float bad, string expected)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Estimator().Fit(Four([0, 1, 0, 1], [0, 0, bad, 1])));
        Assert.Contains("Column 'Pixels' (row 1, index 2): expected values in [0, 1]", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Transform_InvalidPixelValue_ThrowsWhenTheRowIsScored()
    {
        var scored = FittedOnFour().Transform(Four([0, 1, 0, 1], [0, float.NaN, 0, 1]));
        var e = Assert.Throws<InvalidOperationException>(() => scored.GetColumn<float>("LogLikelihood").ToArray());
        Assert.Contains("Column 'Pixels' (row 1, index 1): expected values in [0, 1], got NaN", e.Message);
        // Columns that do not need scoring still read fine.
        Assert.Equal(2, scored.GetColumn<float[]>("Pixels").Count());
    }

    [Fact]
    public void Fit_NonBinaryValuesWithoutBinarization_Throws()
    {
        var estimator = Ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            Binarization = PixelBinarization.None, MaximumNumberOfEpochs = 1
        });
        var e = Assert.Throws<InvalidOperationException>(() => estimator.Fit(Four([0, 1, 0, 1], [0, 0.5f, 0, 1])));
        Assert.Contains("expected 0 or 1 because Binarization is None, got 0.5", e.Message);
        // Exactly binary data (including -0) is accepted.
        Assert.Equal(4, estimator.Fit(Four([0, 1, -0f, 1])).Dimension);
    }

    [Fact]
    public void Fit_EmptyData_ThrowsNamingColumn()
    {
        var e = Assert.Throws<ArgumentException>(() => Estimator().Fit(Four()));
        Assert.Contains("Training data is empty: column 'Pixels' has no rows", e.Message);
    }

    [Fact]
    public void Fit_SingleRow_TrainsWithoutValidation()
    {
        var model = Estimator(epochs: 3).Fit(Four([0, 1, 1, 0]));
        Assert.Equal(3, model.TrainingHistory.Count);
        Assert.True(double.IsNaN(model.TrainingHistory[0].ValidationNll));
        Assert.True(model.TrainingHistory[^1].TrainingNll < model.TrainingHistory[0].TrainingNll);
    }

    public static TheoryData<string, Action<FvsbnDensityEstimator.Options>> BadOptions() => new()
    {
        { "MaximumNumberOfEpochs", o => o.MaximumNumberOfEpochs = 0 },
        { "BatchSize", o => o.BatchSize = 0 },
        { "BatchSize", o => o.BatchSize = -5 },
        { "NumberOfThreads", o => o.NumberOfThreads = 0 },
        { "LearningRate", o => o.LearningRate = 0 },
        { "LearningRate", o => o.LearningRate = float.NaN },
        { "LearningRate", o => o.LearningRate = float.PositiveInfinity },
        { "BinarizationThreshold", o => o.BinarizationThreshold = 1f },
        { "BinarizationThreshold", o => o.BinarizationThreshold = float.NaN },
        { "ValidationFraction", o => o.ValidationFraction = 1f },
        { "ValidationFraction", o => o.ValidationFraction = -0.1f },
        { "EarlyStoppingPatience", o => o.EarlyStoppingPatience = 0 },
        { "InputColumnName", o => o.InputColumnName = "" },
        { "HiddenFeaturesColumnName", o => o.HiddenFeaturesColumnName = "LogLikelihood" },
        { "Binarization", o => o.Binarization = (PixelBinarization)7 },
        { "Levels", o => o.Levels = 1 },
        { "Levels", o => o.Levels = 257 },
        { "MixtureComponents", o => o.MixtureComponents = -1 },
        { "MixtureComponents", o => o.MixtureComponents = 33 },
        { "MixtureComponents", o => o.MixtureComponents = 3 }, // with binary pixels
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void FvsbnDensity_InvalidOption_ThrowsNamingIt(string option, Action<FvsbnDensityEstimator.Options> spoil)
    {
        var options = new FvsbnDensityEstimator.Options();
        spoil(options);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.FvsbnDensity(options));
        Assert.Equal(option, e.ParamName);
        Assert.Contains($"`{option}`", e.Message);
    }

    [Fact]
    public void FvsbnDensity_FlatOverloadInvalidEpochs_ThrowsNamingOption()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.FvsbnDensity(maximumNumberOfEpochs: -1));
        Assert.Contains("`MaximumNumberOfEpochs` must be positive, got -1", e.Message);
        Assert.Throws<ArgumentNullException>(() => Ml.Transforms.FvsbnDensity((FvsbnDensityEstimator.Options)null!));
    }

    [Fact]
    public void SampleAndComplete_InvalidArguments_ThrowNamingThem()
    {
        var model = FittedOnFour();
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(-1, 0)).ParamName);
        Assert.Equal("partial", Assert.Throws<ArgumentException>(() => model.Complete(new float[3], 1, 0)).ParamName);
        Assert.Equal("knownPixels",
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Complete(new float[4], 5, 0)).ParamName);
        Assert.Equal("knownPixels",
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Complete(new float[4], -1, 0)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => model.Complete([0.2f, float.NaN, 0, 0], 2, 0));
        Assert.Equal("partial", e.ParamName);
        Assert.Contains("got NaN", e.Message);
        // Unknown pixels may hold anything (they are overwritten).
        Assert.Equal(4, model.Complete([1, 0, float.NaN, 7], 2, 0).Length);
    }

    [Fact]
    public void GreyLevelModel_ReportsBitsPerDimension_InItsHistoryAndLog()
    {
        var ml = new MLContext(1);
        var lines = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.RawMessage.StartsWith("epoch ", StringComparison.Ordinal)) lines.Add(e.RawMessage);
        };
        var model = ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            Levels = 16, MaximumNumberOfEpochs = 1, Seed = 1
        }).Fit(TestData.Digits.Slice(0, 300).ToDataView(ml));
        EpochSummary epoch = model.TrainingHistory[^1];
        Assert.Equal(epoch.ValidationNll / (784 * Math.Log(2)), epoch.ValidationBitsPerDimension, 12);
        Assert.InRange(epoch.ValidationBitsPerDimension, 0.1, 4); // 16 levels: at most 4 bits a pixel
        Assert.Contains(lines, line => line.Contains($"({epoch.ValidationBitsPerDimension:F4} bits/dim)",
            StringComparison.Ordinal));
    }
}
