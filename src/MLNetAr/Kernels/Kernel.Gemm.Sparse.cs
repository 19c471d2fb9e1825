using System.Buffers;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

// Sparse-by-dense GEMM for mostly zero left-hand sides (binary images), and its non-zero scans.
internal static partial class Kernel
{
    /// <summary>
    /// <c>C (+)= A·B</c> for a mostly zero A <c>(m, k)</c> and B <c>(k, n)</c>, row-major: each row of C is the sum of
    /// the rows of B at its row of A's non-zero entries, <c>C_i = Σ_{p: A_ip ≠ 0} A_ip · B_p</c> (ascending p, each
    /// term rounded before it is added), so the cost is O(nnz(A)·n) instead of O(m·n·k). Binary images are mostly 0:
    /// for the first layer of a network on them this is several times faster than the dense product.
    /// </summary>
    /// <remarks>
    /// A wide B (a 784 × 8000 first layer is 25 MB) would come from memory once per non-zero entry if each row of C
    /// were summed whole; instead C is computed in blocks of <see cref="SparseBlockColumns"/> columns, whose slice of B
    /// stays in L2 while every row of A in a group takes it, and each 64-column chunk of a row is summed in registers.
    /// Blocks and row groups are the parallel tasks; every element's sum is the same whatever the task layout.
    /// </remarks>
    public static unsafe void SparseGemm(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b,
        int ldb,
        Span<float> c, int ldc, bool accumulate = false)
    {
        CheckOperand(nameof(a), a.Length, m, k, lda);
        CheckOperand(nameof(b), b.Length, k, n, ldb);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        // A's non-zero entries, found once for every column block.
        using var nonZeros = new SparseRows(a, m, k, lda);
        fixed (float* pb = b, pc = c)
        {
            nint bAddress = (nint)pb, cAddress = (nint)pc;
            int columnBlocks = (n + SparseBlockColumns - 1) / SparseBlockColumns;
            int rowGroups = (m + SparseGroupRows - 1) / SparseGroupRows;
            SparseRows rows = nonZeros;
            void Task(int task)
            {
                int j0 = task % columnBlocks * SparseBlockColumns, i0 = task / columnBlocks * SparseGroupRows;
                int width = Math.Min(SparseBlockColumns, n - j0);
                for (int i = i0; i < Math.Min(m, i0 + SparseGroupRows); i++)
                    rows.AddRowTimesB(i, (float*)bAddress + j0, ldb, (float*)cAddress + (long)i * ldc + j0, width,
                        accumulate);
            }
            int threads = AvailableThreads, tasks = columnBlocks * rowGroups;
            if ((long)nonZeros.Count * n < ParallelThreshold || threads == 1 || tasks == 1)
                for (int t = 0; t < tasks; t++) Task(t);
            else ParallelFor(0, tasks, threads, Task);
        }
    }

    /// <summary>Columns per block of <see cref="SparseGemm"/>: k rows of 1 KB of B (784 KB for k = 784) fit L2.
    /// </summary>
    private const int SparseBlockColumns = 256;

    /// <summary>Rows of A per task of <see cref="SparseGemm"/>, all reading one block of B.</summary>
    private const int SparseGroupRows = 32;

    /// <summary>
    /// <c>c[0..width) (+)= Σ_e values[e] · b[columns[e]·ldb + 0..width)</c>, e ascending: 64 columns at a time in eight
    /// 8-lane registers, then 8 at a time, then one. A value of exactly 1 adds the row of B as it is (the same bits as
    /// multiplying by 1), which binary inputs always take.
    /// </summary>
    private static unsafe void SparseRowBlock(int* columns, float* values, int count, float* b, int ldb, float* c,
        int width, bool accumulate)
    {
        int j = 0;
        for (; j + 64 <= width; j += 64)
        {
            float* cj = c + j;
            Vector256<float> s0, s1, s2, s3, s4, s5, s6, s7;
            if (accumulate)
            {
                s0 = Vector256.Load(cj); s1 = Vector256.Load(cj + 8); s2 = Vector256.Load(cj + 16);
                s3 = Vector256.Load(cj + 24); s4 = Vector256.Load(cj + 32); s5 = Vector256.Load(cj + 40);
                s6 = Vector256.Load(cj + 48); s7 = Vector256.Load(cj + 56);
            }
            else s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = Vector256<float>.Zero;
            for (int e = 0; e < count; e++)
            {
                float* row = b + (long)columns[e] * ldb + j;
                Vector256<float> r0 = Vector256.Load(row), r1 = Vector256.Load(row + 8);
                Vector256<float> r2 = Vector256.Load(row + 16), r3 = Vector256.Load(row + 24);
                Vector256<float> r4 = Vector256.Load(row + 32), r5 = Vector256.Load(row + 40);
                Vector256<float> r6 = Vector256.Load(row + 48), r7 = Vector256.Load(row + 56);
                float value = values[e];
                if (value != 1f)
                {
                    var scale = Vector256.Create(value);
                    r0 *= scale; r1 *= scale; r2 *= scale; r3 *= scale;
                    r4 *= scale; r5 *= scale; r6 *= scale; r7 *= scale;
                }
                s0 += r0; s1 += r1; s2 += r2; s3 += r3; s4 += r4; s5 += r5; s6 += r6; s7 += r7;
            }
            s0.Store(cj); s1.Store(cj + 8); s2.Store(cj + 16); s3.Store(cj + 24);
            s4.Store(cj + 32); s5.Store(cj + 40); s6.Store(cj + 48); s7.Store(cj + 56);
        }
        for (; j + 8 <= width; j += 8)
        {
            Vector256<float> sum = accumulate ? Vector256.Load(c + j) : Vector256<float>.Zero;
            for (int e = 0; e < count; e++)
                sum += Vector256.Load(b + (long)columns[e] * ldb + j) * Vector256.Create(values[e]);
            sum.Store(c + j);
        }
        for (; j < width; j++)
        {
            float sum = accumulate ? c[j] : 0f;
            for (int e = 0; e < count; e++) sum += b[(long)columns[e] * ldb + j] * values[e];
            c[j] = sum;
        }
    }

    /// <summary>
    /// The non-zero entries of a row-major <c>(m, k)</c> matrix A, row by row (compressed sparse rows, in pooled
    /// arrays): found once, then summed against any block of columns of B by <see cref="AddRowTimesB"/>.
    /// </summary>
    private readonly unsafe struct SparseRows : IDisposable
    {
        private readonly int[]? _starts, _columns;
        private readonly float[]? _values;

        public SparseRows(ReadOnlySpan<float> a, int m, int k, int lda)
        {
            _starts = ArrayPool<int>.Shared.Rent(m + 1);
            int count = 0;
            for (int i = 0; i < m; i++)
            {
                _starts[i] = count;
                count += CountNonZeros(a.Slice(i * lda, k));
            }
            _starts[m] = Count = count;
            _columns = ArrayPool<int>.Shared.Rent(Math.Max(1, count));
            _values = ArrayPool<float>.Shared.Rent(Math.Max(1, count));
            for (int i = 0; i < m; i++)
                ListNonZeros(a.Slice(i * lda, k), _columns.AsSpan(_starts[i]), _values.AsSpan(_starts[i]));
        }

        /// <summary>Non-zero entries in all.</summary>
        public int Count { get; }

        /// <summary>
        /// <c>c[0..width) (+)= A_i · B[:, 0..width)</c> for B starting at <paramref name="b"/> (row stride
        /// <paramref name="ldb"/>): see <see cref="SparseRowBlock"/>.
        /// </summary>
        public void AddRowTimesB(int i, float* b, int ldb, float* c, int width, bool accumulate)
        {
            int start = _starts![i];
            fixed (int* columns = _columns)
            fixed (float* values = _values)
                SparseRowBlock(columns + start, values + start, _starts[i + 1] - start, b, ldb, c, width, accumulate);
        }

        public void Dispose()
        {
            if (_starts == null) return;
            ArrayPool<int>.Shared.Return(_starts);
            ArrayPool<int>.Shared.Return(_columns!);
            ArrayPool<float>.Shared.Return(_values!);
        }
    }

    /// <summary>Fraction of the entries of <paramref name="x"/> that are not 0 (0 for an empty span).</summary>
    public static float NonZeroFraction(ReadOnlySpan<float> x) => x.IsEmpty ? 0f : (float)CountNonZeros(x) / x.Length;

    /// <summary>
    /// Bit j set when <c>x[start + j] ≠ 0</c>, for the 8 values from <paramref name="start"/> (−0 counts as 0, NaN as
    /// non-zero, as with <c>!=</c>).
    /// </summary>
    private static uint NonZeroBits(ReadOnlySpan<float> x, int start) =>
        ~Vector256.Equals(Vector256.Create(x.Slice(start, 8)), Vector256<float>.Zero).ExtractMostSignificantBits()
        & 0xFFu;

    /// <summary>Number of entries of <paramref name="x"/> that are not 0.</summary>
    private static int CountNonZeros(ReadOnlySpan<float> x)
    {
        int count = 0, p = 0;
        for (; p + 8 <= x.Length; p += 8) count += System.Numerics.BitOperations.PopCount(NonZeroBits(x, p));
        for (; p < x.Length; p++) if (x[p] != 0f) count++;
        return count;
    }

    /// <summary>
    /// Writes the positions and values of the non-zero entries of <paramref name="x"/>, ascending, to the starts of
    /// <paramref name="columns"/> and <paramref name="values"/> (which hold at least that many).
    /// </summary>
    private static void ListNonZeros(ReadOnlySpan<float> x, Span<int> columns, Span<float> values)
    {
        int e = 0, p = 0;
        for (; p + 8 <= x.Length; p += 8)
            for (uint bits = NonZeroBits(x, p); bits != 0; bits &= bits - 1)
            {
                int q = p + System.Numerics.BitOperations.TrailingZeroCount(bits);
                columns[e] = q;
                values[e++] = x[q];
            }
        for (; p < x.Length; p++)
            if (x[p] != 0f)
            {
                columns[e] = p;
                values[e++] = x[p];
            }
    }
}
