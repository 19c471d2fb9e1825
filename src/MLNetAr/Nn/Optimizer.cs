using MLNetAr.Kernels;

namespace MLNetAr.Nn;

/// <summary>The optimisers <see cref="Optimizer.Create"/> builds (the public <c>TrainingOptimizer</c>, value for
/// value).</summary>
internal enum OptimizerKind
{
    Adam,
    Adagrad,
    SgdMomentum,
}

/// <summary>
/// A first-order optimiser over a fixed list of parameters: per-parameter state buffers, a step counter and a
/// learning rate the schedule may change between steps. L2 regularisation, when set, adds <c>λ·w</c> to the gradient
/// of every weight matrix (parameters of rank ≥ 2; biases are left alone), i.e. <c>λ/2·‖W‖²</c> to the loss; L1
/// regularisation adds <c>λ₁·sign(w)</c>, i.e. <c>λ₁·‖W‖₁</c>.
/// </summary>
internal abstract class Optimizer
{
    private readonly float[][][] _state;
    private int _step;

    protected Optimizer(IReadOnlyList<Parameter> parameters, float learningRate, float l2Regularization,
        int stateBuffers)
    {
        Parameters = parameters;
        LearningRate = learningRate;
        L2Regularization = l2Regularization;
        _state = Enumerable.Range(0, stateBuffers).Select(_ =>
            parameters.Select(p => new float[p.Length]).ToArray()).ToArray();
    }

    public IReadOnlyList<Parameter> Parameters { get; }
    public float LearningRate { get; set; }
    public float L2Regularization { get; }
    /// <summary>λ₁ of the L1 penalty <c>λ₁·‖W‖₁</c> on weight matrices (0: none).</summary>
    public float L1Regularization { get; private set; }
    public int StepCount => _step;

    /// <summary>
    /// The state buffers (e.g. Adam's two moments), each holding one array per parameter, for checkpoints.
    /// </summary>
    internal IReadOnlyList<float[][]> State => _state;

    /// <summary>Restores the step counter from a checkpoint.</summary>
    internal void RestoreStepCount(int step) => _step = step;

    /// <summary>Builds the optimiser <paramref name="kind"/> names.</summary>
    public static Optimizer Create(OptimizerKind kind, IReadOnlyList<Parameter> parameters, float learningRate,
        float l2Regularization, float momentum, float l1Regularization = 0f)
    {
        Optimizer optimizer = kind switch
        {
            OptimizerKind.Adam => new AdamOptimizer(parameters, learningRate, l2Regularization),
            OptimizerKind.Adagrad => new AdagradOptimizer(parameters, learningRate, l2Regularization),
            OptimizerKind.SgdMomentum => new MomentumOptimizer(parameters, learningRate, l2Regularization, momentum),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimiser."),
        };
        optimizer.L1Regularization = l1Regularization;
        return optimizer;
    }

    /// <summary>
    /// Elements per range of <see cref="Step"/>: a range of the weights, gradient and (up to two) state buffers,
    /// 512 KB, stays in L2 between the penalty and the update.
    /// </summary>
    internal const int ElementsPerRange = 32 * 1024;

    /// <summary>
    /// Applies one update from the accumulated gradients and leaves every gradient at zero, ready for the next
    /// minibatch. The update is element-wise and memory-bound (a 1 × 8000 MADE moves 200 MB per step), so each
    /// parameter is split into ranges fixed by its length, run on every core; an element's arithmetic does not depend
    /// on the range it falls in. Each range of the gradient is cleared while it is still in cache, which saves a
    /// separate pass over every gradient (<see cref="ZeroGradients"/>) per step.
    /// </summary>
    public void Step()
    {
        _step++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            Parameter p = Parameters[i];
            int index = i;
            Kernel.ForRowRanges(p.Length, ElementsPerRange, (start, end) => UpdateRange(p, index, start, end - start));
        }
    }

    private void UpdateRange(Parameter p, int index, int start, int length)
    {
        Span<float> value = p.Value.AsSpan(start, length);
        Span<float> gradient = p.Gradient.AsSpan(start, length);
        bool weightMatrix = p.Shape.Length >= 2; // biases are not penalised
        if (L2Regularization > 0 && weightMatrix)
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(value, L2Regularization, gradient, gradient);
        if (L1Regularization > 0 && weightMatrix) Kernel.AddL1Subgradient(value, L1Regularization, gradient);
        Update(value, gradient, index, start, _step);
        gradient.Clear();
    }

    /// <summary>
    /// Updates elements <c>[start, start + value.Length)</c> of parameter <paramref name="index"/> from their gradient
    /// (step numbers start at 1).
    /// </summary>
    protected abstract void Update(Span<float> value, ReadOnlySpan<float> gradient, int index, int start, int step);

    /// <summary>
    /// Elements <c>[start, start + length)</c> of state buffer <paramref name="buffer"/> of parameter
    /// <paramref name="index"/>.
    /// </summary>
    protected Span<float> StateOf(int buffer, int index, int start, int length) =>
        _state[buffer][index].AsSpan(start, length);

    /// <summary>
    /// Sets every gradient buffer to zero: needed before the first minibatch only, since <see cref="Step"/> leaves them
    /// at zero.
    /// </summary>
    public void ZeroGradients()
    {
        foreach (Parameter p in Parameters) Array.Clear(p.Gradient);
    }
}

/// <summary>Adam with bias correction; state: first and second moments.</summary>
internal sealed class AdamOptimizer(IReadOnlyList<Parameter> parameters, float learningRate,
    float l2Regularization = 0f)
    : Optimizer(parameters, learningRate, l2Regularization, stateBuffers: 2)
{
    public const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;

    protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, int index, int start, int step) =>
        Kernel.AdamStep(value, gradient, StateOf(0, index, start, value.Length), StateOf(1, index, start, value.Length),
            LearningRate, Beta1, Beta2, Epsilon, step);
}

/// <summary>Adagrad; state: the running sums of squared gradients.</summary>
internal sealed class AdagradOptimizer(IReadOnlyList<Parameter> parameters, float learningRate,
    float l2Regularization = 0f)
    : Optimizer(parameters, learningRate, l2Regularization, stateBuffers: 1)
{
    public const float Epsilon = 1e-6f;

    protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, int index, int start, int step) =>
        Kernel.AdagradStep(value, gradient, StateOf(0, index, start, value.Length), LearningRate, Epsilon);
}

/// <summary>SGD with heavy-ball momentum; state: the velocities.</summary>
internal sealed class MomentumOptimizer(IReadOnlyList<Parameter> parameters, float learningRate, float l2Regularization,
    float momentum)
    : Optimizer(parameters, learningRate, l2Regularization, stateBuffers: 1)
{
    public float Momentum { get; } = momentum;

    protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, int index, int start, int step) =>
        Kernel.MomentumStep(value, gradient, StateOf(0, index, start, value.Length), LearningRate, Momentum);
}
