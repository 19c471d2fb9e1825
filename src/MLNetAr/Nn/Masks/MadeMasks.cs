namespace MLNetAr.Nn.Masks;

/// <summary>
/// One MADE connectivity: an input order and the masks it induces (Germain et al. 2015, §4). Every input gets its
/// position in the order as degree <c>m_0(j) ∈ [0, D)</c>; hidden unit k of layer l gets a degree
/// <c>m_l(k) ∈ [min m_{l-1}, D-2]</c>; a hidden connection j → k exists iff <c>m_l(k) ≥ m_{l-1}(j)</c>, an output
/// connection k → d iff <c>m_0(d) &gt; m_L(k)</c>, a direct input → output connection j → d iff
/// <c>m_0(d) &gt; m_0(j)</c>.
/// </summary>
/// <remarks>
/// The autoregressive property follows: output d depends only on inputs with a smaller degree, i.e. earlier in the
/// order. With fewer than D-1 units in a layer some degrees are missing and some conditionals see fewer inputs; the
/// model stays exactly normalised.
/// </remarks>
internal sealed class MadeMasks
{
    private MadeMasks(int[] order, int[][] degrees, int[] outputDegrees, DegreeMask[] hidden, DegreeMask output,
        DegreeMask direct)
    {
        Order = order;
        Degrees = degrees;
        OutputDegrees = outputDegrees;
        Hidden = hidden;
        Output = output;
        Direct = direct;
    }

    /// <summary><c>Order[t]</c> = the pixel at step t (degree t).</summary>
    public int[] Order { get; }
    /// <summary>Degrees per layer: [0] inputs, then one array per hidden layer.</summary>
    public int[][] Degrees { get; }
    /// <summary>
    /// Degrees of the output units, <c>(L·D)</c>: output <c>k·D + d</c> (logit k of pixel d) has pixel d's degree.
    /// </summary>
    public int[] OutputDegrees { get; }
    /// <summary>Masks of the hidden layers, each <c>(Out, In)</c>.</summary>
    public DegreeMask[] Hidden { get; }
    /// <summary>Mask of the output layer, <c>(L·D, H_L)</c>.</summary>
    public DegreeMask Output { get; }
    /// <summary>Mask of the direct input → output connections, <c>(L·D, D)</c>.</summary>
    public DegreeMask Direct { get; }

    /// <summary>
    /// Connectivity number <paramref name="index"/> of a family: with a random order each index gets its own
    /// permutation; hidden degrees are always drawn from the index's seed (karpathy's seed-cycling ensembles). Each
    /// pixel has <paramref name="logitsPerPixel"/> output units (1 for binary pixels, K for K levels), all with its
    /// degree.
    /// </summary>
    public static MadeMasks Create(int d, IReadOnlyList<int> hiddenSizes, bool naturalOrder, int seed, int index,
        int logitsPerPixel = 1)
    {
        if (hiddenSizes.Count == 0)
            throw new ArgumentException("MADE needs at least one hidden layer.", nameof(hiddenSizes));
        var random = new Random(unchecked(seed * 1_000_003 + index));
        int[] order = Enumerable.Range(0, d).ToArray();
        if (!naturalOrder) random.Shuffle(order);
        var inputDegrees = new int[d];
        for (int t = 0; t < d; t++) inputDegrees[order[t]] = t;

        var degrees = new int[hiddenSizes.Count + 1][];
        degrees[0] = inputDegrees;
        var hidden = new DegreeMask[hiddenSizes.Count];
        for (int l = 0; l < hiddenSizes.Count; l++)
        {
            int[] previous = degrees[l];
            int low = Math.Min(previous.Min(), Math.Max(0, d - 2));
            degrees[l + 1] = Enumerable.Range(0, hiddenSizes[l]).Select(_ =>
                random.Next(low, Math.Max(low, d - 2) + 1)).ToArray();
            hidden[l] = new DegreeMask(degrees[l + 1], previous, strict: false);
        }
        int[] outputDegrees = Enumerable.Repeat(inputDegrees, logitsPerPixel).SelectMany(degree => degree).ToArray();
        return new MadeMasks(order, degrees, outputDegrees, hidden,
            new DegreeMask(outputDegrees, degrees[^1], strict: true),
            new DegreeMask(outputDegrees, inputDegrees, strict: true));
    }
}

