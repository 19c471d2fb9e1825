using MLNetAr.Kernels;

namespace MLNetAr.Nn.Masks;

/// <summary>
/// A MADE connectivity mask <c>M</c> <c>(Out, In)</c> held as its degrees:
/// <c>M[o, i] = 1</c> iff <c>inDegree[i] ≤ limit(o)</c>, with <c>limit(o) = outDegree[o]</c> (hidden layers) or
/// <c>outDegree[o] − 1</c> (<paramref name="strict"/>: outputs and direct connections).
/// </summary>
/// <remarks>
/// Applied row by row with one vector compare of the input degrees, instead of reading an Out × In array of 0/1: a
/// connectivity-agnostic MADE switches masks every minibatch, and a 1 × 8000 MADE's masks would be 50 MB to build and
/// read each time.
/// </remarks>
internal sealed class DegreeMask(int[] outDegrees, int[] inDegrees, bool strict)
{
    /// <summary>Rows of the mask (the layer's outputs).</summary>
    public int Outputs => outDegrees.Length;
    /// <summary>Columns of the mask (the layer's inputs).</summary>
    public int Inputs => inDegrees.Length;

    /// <summary>Input degrees up to this one connect to output <paramref name="o"/>.</summary>
    public int Limit(int o) => strict ? outDegrees[o] - 1 : outDegrees[o];

    /// <summary>Whether input <paramref name="i"/> connects to output <paramref name="o"/>.</summary>
    public bool Connects(int o, int i) => inDegrees[i] <= Limit(o);

    /// <summary>The mask as an <c>(Out, In)</c> array of 0/1 (for tests and references).</summary>
    public float[] ToArray()
    {
        var mask = new float[Outputs * Inputs];
        for (int o = 0; o < Outputs; o++)
            for (int i = 0; i < Inputs; i++) mask[o * Inputs + i] = Connects(o, i) ? 1f : 0f;
        return mask;
    }

    /// <summary><c>destination = source ⊙ M</c>, both <c>(Out, In)</c>; masked-out entries become +0.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination) =>
        ByRows(source, destination, accumulate: false);

    /// <summary>
    /// <c>destination += source ⊙ M</c>, both <c>(Out, In)</c>; masked-out entries of destination are left as they are.
    /// </summary>
    public void MultiplyAdd(ReadOnlySpan<float> source, Span<float> destination) =>
        ByRows(source, destination, accumulate: true);

    /// <summary>Rows per parallel range: about 64K elements, so small layers run on the calling thread.</summary>
    private int RowsPerRange => Math.Max(1, 64 * 1024 / Math.Max(1, Inputs));

    private unsafe void ByRows(ReadOnlySpan<float> source, Span<float> destination, bool accumulate)
    {
        int length = Outputs * Inputs;
        if (source.Length < length || destination.Length < length)
            throw new ArgumentException($"The mask is {Outputs}×{Inputs}: source and destination need {length} " +
                $"floats (got {source.Length} and {destination.Length}).");
        fixed (float* src = source, dst = destination)
        {
            nint sourceAddress = (nint)src, destinationAddress = (nint)dst;
            Kernel.ForRowRanges(Outputs, RowsPerRange, (first, end) =>
            {
                for (int o = first; o < end; o++)
                    Kernel.SelectByDegree(inDegrees, Limit(o),
                        new ReadOnlySpan<float>((float*)sourceAddress + (long)o * Inputs, Inputs),
                        new Span<float>((float*)destinationAddress + (long)o * Inputs, Inputs), accumulate);
            });
        }
    }
}
