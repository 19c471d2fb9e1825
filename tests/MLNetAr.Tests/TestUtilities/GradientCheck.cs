using MLNetAr.Models;
using MLNetAr.Nn;

namespace MLNetAr.Tests.TestUtilities;

/// <summary>Central finite differences of a double-precision loss against a model's analytic gradients.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// Backpropagates the mean Bernoulli NLL of <paramref name="x"/> through <paramref name="model"/> (its training step,
    /// so fused implementations are checked too) and compares every parameter gradient with <c>(L(θ+h) - L(θ-h)) / 2h</c>, where L is <paramref name="referenceLoss"/> evaluated in double.
    /// </summary>
    public static void Check(DensityModel model, float[] x, int batch, Func<double> referenceLoss, double h = 1e-3, double tolerance = 2e-3)
    {
        var workspace = model.CreateWorkspace(batch);
        foreach (Parameter p in model.Parameters) Array.Clear(p.Gradient);
        double nll = model.TrainingStep(x, batch, workspace);
        Assert.True(Math.Abs(nll / batch - referenceLoss()) <= 1e-4 * Math.Max(1, Math.Abs(nll / batch)), $"training loss {nll / batch} vs reference {referenceLoss()}");

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
