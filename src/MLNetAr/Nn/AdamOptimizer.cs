using MLNetAr.Kernels;


namespace MLNetAr.Nn;

/// <summary>Adam over a fixed list of parameters (moment buffers per parameter).</summary>
internal sealed class AdamOptimizer
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly float[][] _m, _v;
    private int _step;

    public AdamOptimizer(IReadOnlyList<Parameter> parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        _parameters = parameters;
        LearningRate = learningRate;
        (Beta1, Beta2, Epsilon) = (beta1, beta2, epsilon);
        _m = parameters.Select(p => new float[p.Length]).ToArray();
        _v = parameters.Select(p => new float[p.Length]).ToArray();
    }

    public float LearningRate { get; set; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public int StepCount => _step;

    /// <summary>First- and second-moment buffers, one per parameter (for checkpoints).</summary>
    internal float[][] FirstMoments => _m;
    internal float[][] SecondMoments => _v;

    /// <summary>Restores the step counter from a checkpoint.</summary>
    internal void RestoreStepCount(int step) => _step = step;

    /// <summary>Applies one update from the accumulated gradients.</summary>
    public void Step()
    {
        _step++;
        for (int i = 0; i < _parameters.Count; i++)
        {
            Parameter p = _parameters[i];
            Kernel.AdamStep(p.Value, p.Gradient, _m[i], _v[i], LearningRate, Beta1, Beta2, Epsilon, _step);
        }
    }

    /// <summary>Sets every gradient buffer to zero.</summary>
    public void ZeroGradients()
    {
        foreach (Parameter p in _parameters) Array.Clear(p.Gradient);
    }
}
