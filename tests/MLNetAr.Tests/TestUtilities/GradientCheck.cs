using MLNetAr.Models;
using MLNetAr.Nn;

namespace MLNetAr.Tests.TestUtilities;

/// <summary>Central finite differences of a double-precision loss against a model's analytic gradients.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// Backpropagates the mean Bernoulli NLL of <paramref name="x"/> through <paramref name="model"/> (its training
    /// step, so fused implementations are checked too) and compares every parameter gradient with
    /// <c>(L(θ+h) - L(θ-h)) / 2h</c>, where L is <paramref name="referenceLoss"/> evaluated in double.
    /// </summary>
    public static void Check(DensityModel model, float[] x, int batch, Func<double> referenceLoss, double h = 1e-3,
        double tolerance = 2e-3, int retriesAtSmallerSteps = 0)
    {
        bool Close(double numeric, double analytic) =>
            Math.Abs(numeric - analytic) <= tolerance * Math.Max(1, Math.Abs(numeric));
        double Numeric(Parameter p, int i, double step)
        {
            float saved = p.Value[i];
            p.Value[i] = (float)(saved + step);
            double plus = referenceLoss();
            p.Value[i] = (float)(saved - step);
            double minus = referenceLoss();
            p.Value[i] = saved;
            return (plus - minus) / (2 * step);
        }

        var workspace = model.CreateWorkspace(batch);
        foreach (Parameter p in model.Parameters) Array.Clear(p.Gradient);
        double nll = model.TrainingStep(x, batch, workspace);
        Assert.True(Math.Abs(nll / batch - referenceLoss()) <= 1e-4 * Math.Max(1, Math.Abs(nll / batch)),
            $"training loss {nll / batch} vs reference {referenceLoss()}");

        int checkedEntries = 0;
        foreach (Parameter p in model.Parameters)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double analytic = p.Gradient[i];
                double numeric = Numeric(p, i, h);
                // A ReLU kink within ±h of some pre-activation spoils a central difference; a smaller step clears it
                // (a wrong gradient stays wrong at every step).
                for (int retry = 0; retry < retriesAtSmallerSteps && !Close(numeric, analytic); retry++)
                    numeric = Numeric(p, i, h / Math.Pow(4, retry + 1));
                Assert.True(Close(numeric, analytic),
                    $"{p.Name}[{i}]: analytic {analytic:G6}, finite difference {numeric:G6}");
                checkedEntries++;
            }
        }
        Assert.True(checkedEntries > 0);
    }
}
