namespace MLNetAr.Models;

/// <summary>Orders as permutations: <c>order[t]</c> is the pixel predicted at step t.</summary>
internal static class InputOrders
{
    /// <summary>
    /// The natural order, or when <paramref name="shuffled"/>, a seeded Fisher–Yates permutation of <c>0..d-1</c>.
    /// </summary>
    public static int[] Create(int d, bool shuffled, int seed)
    {
        int[] order = Enumerable.Range(0, d).ToArray();
        if (shuffled) new Random(seed).Shuffle(order);
        return order;
    }

    /// <summary>Throws unless <paramref name="order"/> is a permutation of <c>0..d-1</c>.</summary>
    public static void Validate(int[] order, int d)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (order.Length != d)
            throw new ArgumentOutOfRangeException(nameof(order),
                $"An input order for {d} pixels must have {d} entries, got {order.Length}.");
        var seen = new bool[d];
        foreach (int pixel in order)
        {
            if (pixel < 0 || pixel >= d || seen[pixel])
                throw new ArgumentOutOfRangeException(nameof(order),
                    $"The input order is not a permutation of 0..{d - 1}.");
            seen[pixel] = true;
        }
    }
}
