namespace MLNetAr.Nn;

/// <summary>
/// A trainable tensor: its values, a gradient buffer of the same size, and its shape for diagnostics.
/// </summary>
internal sealed class Parameter
{
    public Parameter(string name, params int[] shape)
    {
        Name = name;
        Shape = shape;
        int size = 1;
        foreach (int s in shape) size = checked(size * s);
        Value = new float[size];
        Gradient = new float[size];
    }

    /// <summary>Name used in error messages and the weights stream.</summary>
    public string Name { get; }
    /// <summary>Row-major shape.</summary>
    public int[] Shape { get; }
    /// <summary>Current values.</summary>
    public float[] Value { get; }
    /// <summary>Gradient of the loss with respect to <see cref="Value"/>, accumulated by Backward.</summary>
    public float[] Gradient { get; }
    public int Length => Value.Length;

    public override string ToString() => $"{Name} [{string.Join("×", Shape)}]";
}
