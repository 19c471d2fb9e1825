using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetAr.Internal;
using MLNetAr.Models;
using MLNetAr.Nn;
using MLNetAr.Training;

namespace MLNetAr.Tests.Catalog;

/// <summary>
/// The lower layers do not read the public option enums: the estimators cast each one to the internal enum of the
/// layer that uses it. The cast is right only while both enums agree name for name and value for value.
/// </summary>
public class OptionEnumTests
{
    public static TheoryData<Type, Type> PublicAndInternal => new()
    {
        { typeof(TrainingOptimizer), typeof(OptimizerKind) },
        { typeof(LearningRateSchedule), typeof(ScheduleKind) },
        { typeof(HiddenActivation), typeof(NadeActivation) },
        { typeof(RecurrentCell), typeof(PixelRnnCell) },
        { typeof(PixelBinarization), typeof(BinarizationKind) },
    };

    [Theory]
    [MemberData(nameof(PublicAndInternal))]
    public void PublicOptionEnum_MatchesItsInternalEnum_NameForNameAndValueForValue(Type publicEnum, Type internalEnum)
    {
        static (string, int)[] Members(Type type) =>
            Enum.GetValues(type).Cast<Enum>().Select(v => (v.ToString(), Convert.ToInt32(v))).ToArray();

        Assert.True(publicEnum.IsPublic && !internalEnum.IsPublic);
        Assert.Equal(Members(publicEnum), Members(internalEnum));
    }

    [Fact]
    public void TrainingHistory_CarriesEveryFieldOfTheTrainingRun()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i => new Row
        {
            Pixels = Enumerable.Range(0, 9).Select(j => (i * 7 + j * 3) % 5 == 0 ? 1f : 0f).ToArray(),
        }));
        var model = ml.Transforms.FvsbnDensity(new FvsbnDensityEstimator.Options
        {
            MaximumNumberOfEpochs = 3, EarlyStoppingPatience = 3, BatchSize = 10, LearningRate = 0.05f, Seed = 1,
            LearningRateSchedule = LearningRateSchedule.LinearDecay,
        }).Fit(data);

        Assert.Equal([1, 2, 3], model.TrainingHistory.Select(e => e.Epoch));
        Assert.All(model.TrainingHistory, e => Assert.True(e.TrainingNll > 0 && e.ValidationNll > 0 && e.Seconds >= 0));
        // Linear decay: the last step of each epoch runs at a lower rate than the one before.
        Assert.True(model.TrainingHistory[0].LearningRate > model.TrainingHistory[1].LearningRate);
        Assert.True(model.TrainingHistory[1].LearningRate > model.TrainingHistory[2].LearningRate);
    }

    private sealed class Row
    {
        [VectorType(9)] public float[] Pixels { get; set; } = [];
    }
}
