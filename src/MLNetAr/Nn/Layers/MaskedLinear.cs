using System.Numerics.Tensors;
using MLNetAr.Kernels;
using MLNetAr.Nn.Masks;

namespace MLNetAr.Nn.Layers;

/// <summary>
/// Fully connected layer with a 0/1 connectivity mask (Germain et al. 2015, MADE):
/// <c>y = x · (W ⊙ M)ᵀ + b</c>, <c>(B, In) -> (B, Out)</c>, W stored <c>(Out, In)</c> row-major.
/// </summary>
/// <remarks>
/// The mask is an argument, not state: MADE switches masks between minibatches. Callers pass the masked weights
/// <c>W ⊙ M</c> (see <see cref="ApplyMask"/>), which they may cache while the weights do not change. Masks are
/// <see cref="DegreeMask"/>s: the degrees that define them, not an array of 0/1.
/// </remarks>
internal sealed class MaskedLinear
{
    public MaskedLinear(string name, int inputs, int outputs, bool hasBias = true)
    {
        Inputs = inputs;
        Outputs = outputs;
        Weight = new Parameter(name + ".Weight", outputs, inputs);
        Bias = hasBias ? new Parameter(name + ".Bias", outputs) : null;
    }

    public int Inputs { get; }
    public int Outputs { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary><c>destination = W ⊙ mask</c>, both <c>(Out, In)</c>.</summary>
    public void ApplyMask(DegreeMask mask, Span<float> destination) => mask.Apply(Weight.Value, destination);

    /// <summary>
    /// <c>(B, In) -> (B, Out)</c>: <c>y = x · maskedWeightᵀ + b</c>; adds to y when <paramref name="accumulate"/>.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> maskedWeight, Span<float> y,
        bool accumulate = false)
    {
        Kernel.Gemm(Transpose.No, Transpose.Yes, batch, Outputs, Inputs, x, Inputs, maskedWeight, Inputs, y, Outputs,
            accumulate);
        AddBias(y, batch);
    }

    /// <summary>
    /// Up to this many rows, the unpacked weights are faster than packed ones (see <see cref="Kernel.Pack"/>).
    /// </summary>
    public const int UnpackedRows = 4;

    /// <summary>
    /// Packs masked weights <c>(Out, In)</c> for
    /// <see cref="Forward(ReadOnlySpan{float}, int, PackedMatrix, Span{float}, bool)"/>.
    /// </summary>
    public PackedMatrix Pack(ReadOnlySpan<float> maskedWeight) =>
        Kernel.Pack(Transpose.Yes, Inputs, Outputs, maskedWeight, Inputs);

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, bool)"/> with weights from
    /// <see cref="Pack"/>.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, int batch, PackedMatrix maskedWeight, Span<float> y,
        bool accumulate = false)
    {
        Kernel.Gemm(Transpose.No, batch, x, Inputs, maskedWeight, y, Outputs, accumulate);
        AddBias(y, batch);
    }

    /// <summary>Inputs at most this dense take the sparse product in <see cref="ForwardTransposed"/>.</summary>
    public const float SparseInputFraction = 0.3f;

    /// <summary>
    /// <c>destination = (W ⊙ mask)ᵀ</c> <c>(In, Out)</c>, the layout of <see cref="ForwardTransposed"/>.
    /// </summary>
    public void ApplyMaskTransposed(DegreeMask mask, Span<float> destination)
    {
        ReadOnlySpan<float> weight = Weight.Value;
        for (int o = 0; o < Outputs; o++)
            for (int i = 0; i < Inputs; i++)
                destination[i * Outputs + o] = mask.Connects(o, i) ? weight[o * Inputs + i] : 0f;
    }

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, bool)"/> with the masked weight
    /// stored transposed <c>(In, Out)</c>: when at most <see cref="SparseInputFraction"/> of x is non-zero (binary
    /// images), each output row is the sum of the weight rows at its non-zero inputs, O(nnz·Out) instead of O(In·Out).
    /// </summary>
    public void ForwardTransposed(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> maskedWeightTransposed,
        Span<float> y, bool accumulate = false)
    {
        ReadOnlySpan<float> input = x[..(batch * Inputs)];
        if (Kernel.NonZeroFraction(input) <= SparseInputFraction)
            Kernel.SparseGemm(batch, Outputs, Inputs, input, Inputs, maskedWeightTransposed, Outputs, y, Outputs,
                accumulate);
        else
            Kernel.Gemm(Transpose.No, Transpose.No, batch, Outputs, Inputs, input, Inputs, maskedWeightTransposed,
                Outputs, y, Outputs, accumulate);
        AddBias(y, batch);
    }

    private void AddBias(Span<float> y, int batch)
    {
        if (Bias != null)
            for (int r = 0; r < batch; r++)
                TensorPrimitives.Add(y.Slice(r * Outputs, Outputs), Bias.Value, y.Slice(r * Outputs, Outputs));
    }

    /// <summary>
    /// Given <c>dy = ∂L/∂y</c> <c>(B, Out)</c>: <c>∂W += (dyᵀ · x) ⊙ M</c>, <c>∂b += Σ_r dy_r</c>, and, when
    /// <paramref name="dx"/> is not empty, <c>dx = dy · (W ⊙ M)</c> <c>(B, In)</c>.
    /// </summary>
    /// <param name="x">The layer's input <c>(B, In)</c>.</param>
    /// <param name="batch">Rows B.</param>
    /// <param name="dy">Gradient with respect to the output <c>(B, Out)</c>.</param>
    /// <param name="mask">The mask M <c>(Out, In)</c> of the forward pass.</param>
    /// <param name="maskedWeight"><c>W ⊙ M</c> of the forward pass.</param>
    /// <param name="dx">Receives the gradient with respect to x; empty to skip it.</param>
    /// <param name="scratch">At least <c>Out·In</c> floats.</param>
    public void Backward(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> dy, DegreeMask mask,
        ReadOnlySpan<float> maskedWeight,
        Span<float> dx, Span<float> scratch)
    {
        Span<float> gradient = scratch[..Weight.Length];
        Kernel.Gemm(Transpose.Yes, Transpose.No, Outputs, Inputs, batch, dy, Outputs, x, Inputs, gradient, Inputs);
        mask.MultiplyAdd(gradient, Weight.Gradient);
        if (Bias != null)
            for (int r = 0; r < batch; r++)
                TensorPrimitives.Add(Bias.Gradient, dy.Slice(r * Outputs, Outputs), Bias.Gradient);
        if (!dx.IsEmpty)
            Kernel.Gemm(Transpose.No, Transpose.No, batch, Inputs, Outputs, dy, Outputs, maskedWeight, Inputs, dx,
                Inputs);
    }
}
