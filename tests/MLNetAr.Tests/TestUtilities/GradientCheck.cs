using MLNetAr.Models;
using MLNetAr.Nn;

namespace MLNetAr.Tests.TestUtilities;

/// <summary>Central finite differences of a double-precision loss against a model's analytic gradients.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// Backpropagates the mean Bernoulli NLL of <paramref name="x"/> through <paramref name="model"/> and compares every
    /// parameter gradient with <c>(L(θ+h) - L(θ-h)) / 2h</c>, where L is <paramref name="referenceLoss"/> evaluated in double.
    /// </summary>
    public static void Check(DensityModel model, float[] x, int batch, Func<double> referenceLoss, double h = 1e-3, double tolerance = 2e-3)
    {
        int d = model.Dimension;
        var workspace = model.CreateWorkspace(batch);
        var logits = new float[batch * d];
        var dLogits = new float[batch * d];
        foreach (Parameter p in model.Parameters) Array.Clear(p.Gradient);
        model.Forward(x, batch, logits, workspace);
        MLNetAr.Kernels.Kernels.BernoulliNllGradient(logits, x, 1f / batch, dLogits);
        model.Backward(x, batch, dLogits, workspace);

        int checkedEntries = 0;
        foreach (Parameter p in model.Parameters)
        {
            for (int i = 0; i < p.Length; i++)
            {
                float saved = p.Value[i];
                p.Value[i] = (float)(saved + h);
                double plus = referenceLoss();
                p.Value[i] = (float)(saved - h);
                double minus = referenceLoss();
                p.Value[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                double analytic = p.Gradient[i];
                Assert.True(Math.Abs(numeric - analytic) <= tolerance * Math.Max(1, Math.Abs(numeric)),
                    $"{p.Name}[{i}]: analytic {analytic:G6}, finite difference {numeric:G6}");
                checkedEntries++;
            }
        }
        Assert.True(checkedEntries > 0);
    }
}
