using MLNetAr.Models;
using MLNetAr.Nn;
using MLNetAr.Nn.Distributions;
using MLNetAr.Onnx;

namespace MLNetAr.Tests.Models;

/// <summary>
/// The model contract is a small core plus optional capabilities: a model with the core alone still samples (by the
/// naive reference), trains without hooks, and is refused by the ONNX export with its kind named.
/// </summary>
public class ModelCapabilitiesTests
{
    /// <summary>The smallest core-only model: independent Bernoulli pixels, one logit parameter each.</summary>
    private sealed class IndependentPixels : DensityModel
    {
        private readonly Parameter _logits;

        public IndependentPixels(float[] logits) : base(logits.Length)
        {
            _logits = new Parameter("logits", logits.Length);
            logits.CopyTo(_logits.Value, 0);
            Parameters = [_logits];
        }

        public override string Kind => "IndependentPixels";
        public override int HiddenFeatureCount => 0;
        public override IReadOnlyList<Parameter> Parameters { get; }

        // (B, D) -> (B, D): the same logits for every row.
        public override void Forward(ReadOnlySpan<float> x, int batch, Span<float> logits, ModelWorkspace workspace)
        {
            for (int r = 0; r < batch; r++) _logits.Value.CopyTo(logits.Slice(r * Dimension, Dimension));
        }

        public override void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dLogits,
            ModelWorkspace workspace)
        {
            for (int r = 0; r < batch; r++)
                for (int i = 0; i < Dimension; i++) _logits.Gradient[i] += dLogits[r * Dimension + i];
        }

        public override void GetHiddenFeatures(int batch, ReadOnlySpan<float> logits, Span<float> features,
            ModelWorkspace workspace)
        {
        }

        public override void WriteHyperparameters(BinaryWriter writer) => writer.Write(Dimension);
    }

    [Fact]
    public void SampleRows_CoreOnlyModel_DrawsTheNaiveReferencesImages()
    {
        var model = new IndependentPixels([-2f, 0f, 3f, 1f]);
        Assert.False(typeof(IIncrementalSampler).IsAssignableFrom(model.GetType()));
        int[] seeds = [1, 2, 3, 4, 5, 6];
        var sampled = new float[seeds.Length * model.Dimension];
        var reference = new float[sampled.Length];
        model.SampleRows(sampled, seeds.Length, knownSteps: 0, seeds);
        model.SampleRowsNaive(reference, seeds.Length, knownSteps: 0, seeds);
        Assert.Equal(reference, sampled);
        Assert.All(sampled, v => Assert.True(v is 0f or 1f));
        Assert.Equal(ModelCapabilities.DefaultSamplingBatchRows, model.SamplingBatchRows());
    }

    [Fact]
    public void TrainingHooks_CoreOnlyModel_HaveTheirDefaults()
    {
        var model = new IndependentPixels([0.5f, -0.5f]);
        model.BeginTrainingStep(0);
        model.BeginValidation();
        model.EndValidation();
        model.EndTraining();
        Assert.Equal(37, model.ValidationBlockRows(37));
        // The core alone trains: one step's gradient is the mean of σ(z) - x.
        var workspace = model.CreateWorkspace(2);
        model.TrainingStep([1f, 0f, 1f, 1f], batch: 2, workspace);
        float Sigmoid(float z) => 1f / (1f + MathF.Exp(-z));
        Assert.Equal(Sigmoid(0.5f) - 1f, model.Parameters[0].Gradient[0], 5);
        Assert.Equal(Sigmoid(-0.5f) - 0.5f, model.Parameters[0].Gradient[1], 5);
    }

    [Fact]
    public void ExportOnnx_CoreOnlyModel_IsRefusedNamingTheKind()
    {
        var model = new IndependentPixels([0f]);
        var error = Assert.Throws<NotSupportedException>(() =>
            model.ExportOnnx(new OnnxGraph(), "pixels", hiddenFeatures: true));
        Assert.Contains("IndependentPixels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryShippedModel_HasAnIncrementalSamplerAndAnOnnxExport()
    {
        var concrete = typeof(DensityModel).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(DensityModel)) && !t.IsAbstract).ToArray();
        Assert.Equal(6, concrete.Length);
        Assert.All(concrete, t => Assert.True(typeof(IIncrementalSampler).IsAssignableFrom(t), t.Name));
        Assert.All(concrete, t => Assert.True(typeof(IOnnxExportableModel).IsAssignableFrom(t), t.Name));
    }
}
