using MLNetAr.Kernels;
using MLNetAr.Nn;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Nn;

public class OptimizerTests
{
    // OptimizerKind is internal; xunit's theory data must be public: the public enum, value for value.
    public static TheoryData<TrainingOptimizer> Kinds() => [TrainingOptimizer.Adam, TrainingOptimizer.Adagrad,
        TrainingOptimizer.SgdMomentum];

    /// <summary>
    /// A parameter of several ranges (the last one short, with a scalar tail) is updated on several threads exactly as
    /// one kernel call over the whole parameter, penalties included, over three steps, and its gradients are left at 0.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Step_OverSeveralRanges_EqualsOneKernelCallOverTheWholeParameter(TrainingOptimizer optimizerKind)
    {
        var kind = (OptimizerKind)optimizerKind;
        const int n = 3 * Optimizer.ElementsPerRange + 13;
        const float rate = 0.01f, l2 = 1e-3f, l1 = 1e-4f, momentum = 0.9f;
        var weights = new Parameter("W", 3, n / 3 + 1);
        var bias = new Parameter("b", n);
        float[] initial = TestData.RandomVector(weights.Length, 1), initialBias = TestData.RandomVector(n, 2);
        initial.CopyTo(weights.Value, 0);
        initialBias.CopyTo(bias.Value, 0);
        var optimizer = Optimizer.Create(kind, [weights, bias], rate, l2, momentum, l1);
        float[] w = initial.ToArray(), b = initialBias.ToArray();
        float[][] wState = [new float[w.Length], new float[w.Length]], bState = [new float[n], new float[n]];

        for (int step = 1; step <= 3; step++)
        {
            float[] g = TestData.RandomVector(w.Length, 10 + step), gb = TestData.RandomVector(n, 20 + step);
            g.CopyTo(weights.Gradient, 0);
            gb.CopyTo(bias.Gradient, 0);
            optimizer.Step();
            // Step consumes the gradients: the next minibatch accumulates from zero.
            Assert.All(weights.Gradient, v => Assert.Equal(0f, v));
            Assert.All(bias.Gradient, v => Assert.Equal(0f, v));

            // The reference: the weight matrix is penalised, the bias is not.
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(w, l2, g, g);
            Kernel.AddL1Subgradient(w, l1, g);
            Update(kind, w, g, wState, step);
            Update(kind, b, gb, bState, step);
            Assert.Equal(w, weights.Value);
            Assert.Equal(b, bias.Value);
        }

        static void Update(OptimizerKind kind, float[] value, float[] gradient, float[][] state, int step)
        {
            switch (kind)
            {
                case OptimizerKind.Adam:
                    Kernel.AdamStep(value, gradient, state[0], state[1], rate, AdamOptimizer.Beta1,
                        AdamOptimizer.Beta2, AdamOptimizer.Epsilon, step);
                    break;
                case OptimizerKind.Adagrad:
                    Kernel.AdagradStep(value, gradient, state[0], rate, AdagradOptimizer.Epsilon);
                    break;
                default:
                    Kernel.MomentumStep(value, gradient, state[0], rate, momentum);
                    break;
            }
        }
    }
}
