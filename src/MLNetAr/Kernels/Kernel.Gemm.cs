using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetAr.Kernels;

/// <summary>
/// A GEMM right-hand side B <c>(k, n)</c> that is computed as it is packed rather than stored (see
/// <see cref="Kernel.Gemm(int, int, int, ReadOnlySpan{float}, int, IPanelSource, Span{float}, int, bool)"/>).
/// </summary>
internal unsafe interface IPanelSource
{
    /// <summary>
    /// Writes <c>B[p0 + r, j0 + j]</c> to <c>destination[r·PanelWidth + j]</c> for r &lt; kc and j &lt;
    /// <see cref="Kernel.PanelWidth"/>, with 0 for columns at or past n. Called from several threads at once.
    /// </summary>
    void Pack(float* destination, int p0, int kc, int j0);
}

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
internal enum Transpose
{
    /// <summary>Use the operand as stored (row-major).</summary>
    No,
    /// <summary>Use the transpose of the stored operand.</summary>
    Yes,
}

internal static partial class Kernel
{
    // Register tile: 6 rows × 16 columns = 12 Vector256 accumulators, leaving registers for two B vectors and one
    // broadcast A value (16 YMM registers in all).
    private const int MR = 6;
    private const int NR = 16;
    /// <summary>Columns per packed panel of op(B).</summary>
    internal const int PanelWidth = NR;
    // Cache blocking (BLIS-style): a KC × NR micro-panel of B (≤ 16 KiB) stays in L1, an MC × KC block of A (≤ 48 KiB)
    // in L2, and the packed op(B) slab in L3. K is cut into equal blocks of at most KC.
    private const int KC = 256;
    private const int MC = 48;
    // Largest packed slab of op(B), in floats (16 MiB).
    private const long PackedBLimit = 1L << 22;
    // Largest packed slab packed whole before any product (4 MiB); a larger one is packed and used K block by K block.
    private const long WholeSlabLimit = 1L << 20;
    // Up to this many rows of op(A) and this depth, op(B) = B is read in place rather than packed (see GemmJob). A
    // deeper B panel read in place is re-read by every row panel of A from rows a whole stride apart, which share few
    // cache sets when the stride is a multiple of a large power of two (a convolution's input over a whole batch),
    // so packing it pays.
    private const int DirectBMaxRows = 128, DirectBMaxDepth = 128;
    // Up to this many rows of op(A), a packed B panel is used by all of them at once (see RunPanelByPanel).
    private const int PanelByPanelMaxRows = 96;
    // Below this many multiply-adds, threading costs more than it gains.
    private const long ParallelThreshold = 1L << 18;

    /// <summary>
    /// Number of threads the kernels may use. Results never depend on it: every output element is computed by one
    /// thread with a fixed summation order.
    /// </summary>
    internal static int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Forces the portable (non-FMA) micro-kernel for products started from this logical flow; lets tests cover the
    /// fallback on AVX2 machines. Per flow, like <see cref="LimitThreads"/>: a test that sets it must not change the
    /// arithmetic of other tests running at the same time.
    /// </summary>
    internal static bool ForcePortableGemm
    {
        get => s_forcePortableGemm.Value;
        set => s_forcePortableGemm.Value = value;
    }

    /// <summary>
    /// Forces the AVX2 micro-kernel on AVX-512 machines, for this logical flow (tests compare the two: they must agree
    /// bit for bit).
    /// </summary>
    internal static bool ForceAvx2Gemm
    {
        get => s_forceAvx2Gemm.Value;
        set => s_forceAvx2Gemm.Value = value;
    }

    private static readonly AsyncLocal<bool> s_forcePortableGemm = new(), s_forceAvx2Gemm = new();

    /// <summary>
    /// Single-precision matrix product on row-major storage:
    /// <c>C = op(A)·op(B)</c>, or <c>C += op(A)·op(B)</c> when <paramref name="accumulate"/> is true,
    /// where <c>op(A)</c> is <c>m × k</c>, <c>op(B)</c> is <c>k × n</c> and <c>C</c> is <c>m × n</c>.
    /// </summary>
    /// <param name="transA">Whether <c>op(A) = Aᵀ</c> (then A is stored <c>k × m</c>).</param>
    /// <param name="transB">Whether <c>op(B) = Bᵀ</c> (then B is stored <c>n × k</c>).</param>
    /// <param name="m">Rows of <c>op(A)</c> and <c>C</c>.</param>
    /// <param name="n">Columns of <c>op(B)</c> and <c>C</c>.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="a">Storage of A.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">Storage of B.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="c">Storage of C.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, a stride too small or a span too
    /// short.</exception>
    public static unsafe void Gemm(Transpose transA, Transpose transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m));
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k));
        CheckOperand(nameof(a), a.Length, transA == Transpose.No ? m : k, transA == Transpose.No ? k : m, lda);
        CheckOperand(nameof(b), b.Length, transB == Transpose.No ? k : n, transB == Transpose.No ? n : k, ldb);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }

        if (transA == Transpose.No && transB == Transpose.Yes && (long)m * n <= DotOutputLimit && k >= 4
            * Math.Max(m, n))
        {
            fixed (float* pa = a, pb = b, pc = c) GemmDotProducts(m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
            return;
        }
        if (m <= SmallM)
        {
            GemmSmallM(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            var job = new GemmJob(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
            job.Run();
        }
    }

    /// <summary>
    /// Packs <c>op(B)</c> <c>(k, n)</c> once into the panel layout of
    /// <see cref="Gemm(Transpose, int, ReadOnlySpan{float}, int, PackedMatrix, Span{float}, int, bool)"/>, for a
    /// right-hand side that many products reuse: a recurrent weight over hundreds of steps, a frozen layer over every
    /// scoring batch. Packing costs about as much as a product of a few rows, so small products gain the most.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or the stride or span too
    /// small.</exception>
    public static unsafe PackedMatrix Pack(Transpose transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k));
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n));
        CheckOperand(nameof(b), b.Length, transB == Transpose.No ? k : n, transB == Transpose.No ? n : k, ldb);
        var packed = new PackedMatrix(k, n);
        fixed (float* pb = b)
        {
            var job = new GemmJob(Transpose.No, transB, 0, n, k, null, 1, pb, ldb, null, n, accumulate: false);
            job.PackWhole(packed.Start);
        }
        return packed;
    }

    /// <summary>
    /// <c>C (+)= op(A)·op(B)</c> with op(B) packed by <see cref="Pack"/>: the same arithmetic (and bits) as
    /// the packed path of <c>Gemm</c> on spans, without packing op(B) again.
    /// </summary>
    public static unsafe void Gemm(Transpose transA, int m, ReadOnlySpan<float> a, int lda, PackedMatrix b,
        Span<float> c, int ldc, bool accumulate = false)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m));
        int k = b.Rows, n = b.Columns;
        CheckOperand(nameof(a), a.Length, transA == Transpose.No ? m : k, transA == Transpose.No ? k : m, lda);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        if (m == 0) return;
        fixed (float* pa = a, pc = c)
        {
            var job = new GemmJob(transA, Transpose.No, m, n, k, pa, lda, null, n, pc, ldc, accumulate, b.Start);
            job.Run();
        }
    }

    /// <summary>
    /// <c>C (+)= A·B</c> where B <c>(k, n)</c> is never stored: <paramref name="b"/> writes each panel the
    /// micro-kernel reads, straight into the packed layout (a convolution's im2col matrix, built from the image as it
    /// is packed). The same arithmetic (and bits) as the packed path of <c>Gemm</c> on a stored B with that content
    /// (past its few-row path).
    /// </summary>
    public static unsafe void Gemm(int m, int n, int k, ReadOnlySpan<float> a, int lda, IPanelSource b, Span<float> c,
        int ldc, bool accumulate = false)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m));
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k));
        CheckOperand(nameof(a), a.Length, m, k, lda);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pc = c)
        {
            var job = new GemmJob(Transpose.No, Transpose.No, m, n, k, pa, lda, null, n, pc, ldc, accumulate,
                source: b);
            job.Run();
        }
    }

    private static int RoundUpToPanel(int m) => (m + MR - 1) / MR * MR;

    /// <summary>Floats <see cref="PackLeft"/> writes for an <c>(m, k)</c> op(A).</summary>
    public static int PackedLeftLength(int m, int k) => RoundUpToPanel(m) * k + 32;

    /// <summary>
    /// Packs <c>op(A)</c> <c>(m, k)</c> once into the micro-kernel's row-panel layout, for a left-hand side that many
    /// products share (a convolution's transposed weights against every band of every image):
    /// <paramref name="destination"/> holds at least <see cref="PackedLeftLength"/> floats.
    /// </summary>
    public static unsafe void PackLeft(Transpose transA, int m, int k, ReadOnlySpan<float> a, int lda,
        Span<float> destination)
    {
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k));
        CheckOperand(nameof(a), a.Length, transA == Transpose.No ? m : k, transA == Transpose.No ? k : m, lda);
        if (destination.Length < PackedLeftLength(m, k))
            throw new ArgumentOutOfRangeException(nameof(destination),
                $"'{nameof(destination)}' holds {destination.Length} floats; packing a {m}×{k} op(A) needs " +
                $"{PackedLeftLength(m, k)}.");
        fixed (float* pa = a, pd = destination)
            new GemmJob(transA, Transpose.No, m, 0, k, pa, lda, null, 1, null, 1, accumulate: false).PackWholeA(pd);
    }

    /// <summary>
    /// <c>C (+)= op(A)·op(B)</c> with op(A) packed by <see cref="PackLeft"/> (for the same m and k): the same
    /// arithmetic (and bits) as the packed path of <c>Gemm</c> on spans, without packing op(A) again.
    /// </summary>
    public static unsafe void Gemm(int m, int n, int k, ReadOnlySpan<float> packedA, Transpose transB,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m));
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k));
        if (packedA.Length < PackedLeftLength(m, k))
            throw new ArgumentOutOfRangeException(nameof(packedA),
                $"'{nameof(packedA)}' holds {packedA.Length} floats; a packed {m}×{k} op(A) has " +
                $"{PackedLeftLength(m, k)}.");
        CheckOperand(nameof(b), b.Length, transB == Transpose.No ? k : n, transB == Transpose.No ? n : k, ldb);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        if (n == 0) return;
        fixed (float* pa = packedA, pb = b, pc = c)
            new GemmJob(Transpose.No, transB, m, n, k, null, k, pb, ldb, pc, ldc, accumulate, prepackedA: pa).Run();
    }

    // A·Bᵀ with a small output and a long inner dimension (a 1×1 convolution's weight gradient: (C_out, P)·(P, C_in))
    // is dominated by packing; dot products of the stored rows need none. Measured on one core over k = 3136: dot
    // products win at 32×32 (76 against 61 GFLOP/s), the packed path from 64×32 on (76 against 57; 64×64: 96
    // against 76).
    private const long DotOutputLimit = 32 * 32;

    /// <summary>
    /// <c>C (+)= A·Bᵀ</c> as dot products of contiguous rows, <c>C[i, j] = A_i · B_j</c>, in 4×4 blocks of Vector256
    /// accumulators (8 loads per 16 FMAs); a fixed summation order per element, the one of <see cref="Dot"/>.
    /// </summary>
    /// <remarks>
    /// k is walked in chunks of <see cref="DotChunk"/> so that a block's 8 rows stay in L1 and the chunk of B in L2
    /// (over the whole of a long k, every block streamed its rows from L2 or beyond). Between chunks each block's lane
    /// sums wait in memory, so every lane still adds its products in p order: the same bits as one pass.
    /// </remarks>
    private static unsafe void GemmDotProducts(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c,
        int ldc, bool accumulate)
    {
        const int R = DotBlock;
        int rowBlocks = m / R, columnBlocks = n / R, vectorLength = k / 8 * 8;
        Vector256<float>[] lanes = ArrayPool<Vector256<float>>.Shared.Rent(Math.Max(1, rowBlocks * columnBlocks * R
            * R));
        try
        {
            fixed (Vector256<float>* pLanes = lanes)
            {
                for (int e = 0; e < rowBlocks * columnBlocks * R * R; e++) pLanes[e] = default;
                for (int p0 = 0; p0 < vectorLength; p0 += DotChunk)
                {
                    int p1 = Math.Min(vectorLength, p0 + DotChunk);
                    for (int ib = 0; ib < rowBlocks; ib++)
                        for (int jb = 0; jb < columnBlocks; jb++)
                            DotBlock4x4(a + (long)ib * R * lda, lda, b + (long)jb * R * ldb, ldb, p0, p1,
                                pLanes + (ib * columnBlocks + jb) * R * R);
                }
                for (int ib = 0; ib < rowBlocks; ib++)
                    for (int jb = 0; jb < columnBlocks; jb++)
                        for (int r = 0; r < R; r++)
                            for (int q = 0; q < R; q++)
                            {
                                int i = ib * R + r, j = jb * R + q;
                                float sum = Vector256.Sum(pLanes[(ib * columnBlocks + jb) * R * R + r * R + q]);
                                float* x = a + (long)i * lda, y = b + (long)j * ldb;
                                for (int p = vectorLength; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
                                Store(c + (long)i * ldc + j, sum, accumulate);
                            }
            }
        }
        finally
        {
            ArrayPool<Vector256<float>>.Shared.Return(lanes);
        }
        // Rows and columns past the last whole block.
        for (int i = 0; i < m; i++)
            for (int j = i < rowBlocks * R ? columnBlocks * R : 0; j < n; j++)
                Store(c + (long)i * ldc + j, Dot(k, a + (long)i * lda, b + (long)j * ldb), accumulate);

        static void Store(float* target, float value, bool accumulate) =>
            *target = accumulate ? *target + value : value;
    }

    private static unsafe float Dot(int k, float* x, float* y)
    {
        var acc = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= k; p += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), acc);
        float sum = Vector256.Sum(acc);
        for (; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
        return sum;
    }

    // Rows of A and of B per dot-product block, and the stretch of k one pass over all blocks covers (a multiple of 8:
    // lane sums continue across chunks).
    private const int DotBlock = 4, DotChunk = 512;

    /// <summary>
    /// <c>lanes[r·4 + q] += Σ_{p in [p0, p1), by 8} a_r[p..p+8] ⊙ b_q[p..p+8]</c> for a 4×4 block: the lane-wise
    /// partial sums of <see cref="Dot"/>, carried over from the previous chunk (16 accumulators, 8 loads per 16 FMAs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DotBlock4x4(float* a, int lda, float* b, int ldb, int p0, int p1,
        Vector256<float>* lanes)
    {
        Vector256<float> c00 = lanes[0], c01 = lanes[1], c02 = lanes[2], c03 = lanes[3];
        Vector256<float> c10 = lanes[4], c11 = lanes[5], c12 = lanes[6], c13 = lanes[7];
        Vector256<float> c20 = lanes[8], c21 = lanes[9], c22 = lanes[10], c23 = lanes[11];
        Vector256<float> c30 = lanes[12], c31 = lanes[13], c32 = lanes[14], c33 = lanes[15];
        float* a0 = a, a1 = a + lda, a2 = a + 2L * lda, a3 = a + 3L * lda;
        float* b0 = b, b1 = b + ldb, b2 = b + 2L * ldb, b3 = b + 3L * ldb;
        for (int p = p0; p < p1; p += 8)
        {
            Vector256<float> x0 = Vector256.Load(b0 + p), x1 = Vector256.Load(b1 + p);
            Vector256<float> x2 = Vector256.Load(b2 + p), x3 = Vector256.Load(b3 + p);
            Vector256<float> y = Vector256.Load(a0 + p);
            c00 = Vector256.FusedMultiplyAdd(y, x0, c00); c01 = Vector256.FusedMultiplyAdd(y, x1, c01);
            c02 = Vector256.FusedMultiplyAdd(y, x2, c02); c03 = Vector256.FusedMultiplyAdd(y, x3, c03);
            y = Vector256.Load(a1 + p);
            c10 = Vector256.FusedMultiplyAdd(y, x0, c10); c11 = Vector256.FusedMultiplyAdd(y, x1, c11);
            c12 = Vector256.FusedMultiplyAdd(y, x2, c12); c13 = Vector256.FusedMultiplyAdd(y, x3, c13);
            y = Vector256.Load(a2 + p);
            c20 = Vector256.FusedMultiplyAdd(y, x0, c20); c21 = Vector256.FusedMultiplyAdd(y, x1, c21);
            c22 = Vector256.FusedMultiplyAdd(y, x2, c22); c23 = Vector256.FusedMultiplyAdd(y, x3, c23);
            y = Vector256.Load(a3 + p);
            c30 = Vector256.FusedMultiplyAdd(y, x0, c30); c31 = Vector256.FusedMultiplyAdd(y, x1, c31);
            c32 = Vector256.FusedMultiplyAdd(y, x2, c32); c33 = Vector256.FusedMultiplyAdd(y, x3, c33);
        }
        lanes[0] = c00; lanes[1] = c01; lanes[2] = c02; lanes[3] = c03;
        lanes[4] = c10; lanes[5] = c11; lanes[6] = c12; lanes[7] = c13;
        lanes[8] = c20; lanes[9] = c21; lanes[10] = c22; lanes[11] = c23;
        lanes[12] = c30; lanes[13] = c31; lanes[14] = c32; lanes[15] = c33;
    }

    // Up to this many rows of op(A), packing op(B) would cost as much as the product itself (one row scored at a
    // time, e.g. by a PredictionEngine): use dot products / row updates straight from the stored operands.
    private const int SmallM = 4;

    /// <summary>
    /// <c>C (+)= op(A)·op(B)</c> for a few rows of op(A), without packing: with op(B) = Bᵀ each entry is a contiguous
    /// dot product <c>C[i, j] = A_i · B_j</c>; with op(B) = B each row is a sum of rows of B, skipping zero entries of
    /// A (binary inputs are mostly 0). Parallel over columns of C for large products.
    /// </summary>
    private static unsafe void GemmSmallM(Transpose transA, Transpose transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        // op(A) row i as a contiguous span (copied when A is used transposed).
        float[]? rowsOfA = null;
        if (transA == Transpose.Yes)
        {
            rowsOfA = new float[m * k];
            for (int p = 0; p < k; p++)
                for (int i = 0; i < m; i++) rowsOfA[i * k + p] = a[p * lda + i];
        }
        ReadOnlySpan<float> rows = rowsOfA ?? a;
        int aStride = rowsOfA != null ? k : lda;
        using var sparse = transB == Transpose.No ? new SparseRows(rows, m, k, aStride) : default;
        fixed (float* pa = rows, pb = b, pc = c)
        {
            nint aAddress = (nint)pa, bAddress = (nint)pb, cAddress = (nint)pc;
            SparseRows nonZeros = sparse;
            void Columns(int j0, int j1)
            {
                for (int i = 0; i < m; i++)
                {
                    float* rowC = (float*)cAddress + (long)i * ldc + j0;
                    if (transB == Transpose.Yes)
                    {
                        var rowA = new ReadOnlySpan<float>((float*)aAddress + (long)i * aStride, k);
                        for (int j = j0; j < j1; j++)
                        {
                            float dot = TensorPrimitives.Dot(rowA,
                                new ReadOnlySpan<float>((float*)bAddress + (long)j * ldb, k));
                            rowC[j - j0] = accumulate ? rowC[j - j0] + dot : dot;
                        }
                    }
                    else
                    {
                        nonZeros.AddRowTimesB(i, (float*)bAddress + j0, ldb, rowC, j1 - j0, accumulate);
                    }
                }
            }

            int threads = AvailableThreads;
            int chunks = (long)m * n * k >= ParallelThreshold && threads > 1
                ? Math.Min(threads * 2, Math.Max(1, n / 64)) : 1;
            if (chunks <= 1) Columns(0, n);
            else ParallelFor(0, chunks, threads, q =>
                Columns(n * q / chunks, n * (q + 1) / chunks));
        }
    }

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

    private static void CheckOperand(string name, int length, int rows, int cols, int stride)
    {
        if (stride < cols || stride < 1)
            throw new ArgumentOutOfRangeException(name,
                $"Row stride {stride} of '{name}' is smaller than its {cols} columns.");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * stride + cols;
        if (length < needed)
            throw new ArgumentOutOfRangeException(name,
                $"'{name}' holds {length} values; a {rows}×{cols} matrix with row stride {stride} needs {needed}.");
    }

    /// <summary>One GEMM call: op(B) is packed once per column slab, then row-block tasks run in parallel.</summary>
    private sealed unsafe class GemmJob
    {
        private readonly Transpose _transA, _transB;
        private readonly int _m, _n, _k, _lda, _ldb, _ldc;
        private readonly float* _a, _b, _c;
        private readonly bool _accumulate;
        private readonly bool _useFma, _useAvx512;
        private readonly float* _prepackedB, _prepackedA;
        private readonly IPanelSource? _source;
        // Few rows of A: each B element is used too few times to repay packing it, so the micro-kernel reads op(B) = B
        // in place.
        private readonly bool _directB;

        public GemmJob(Transpose transA, Transpose transB, int m, int n, int k, float* a, int lda, float* b, int ldb,
            float* c, int ldc, bool accumulate,
            float* prepackedB = null, IPanelSource? source = null, float* prepackedA = null)
        {
            _prepackedB = prepackedB;
            _prepackedA = prepackedA;
            _source = source;
            (_transA, _transB, _m, _n, _k, _lda, _ldb, _ldc, _accumulate) = (transA, transB, m, n, k, lda, ldb, ldc,
                accumulate);
            _a = a;
            _b = b;
            _c = c;
            _useFma = Fma.IsSupported && Avx.IsSupported && !ForcePortableGemm;
            _useAvx512 = _useFma && Avx512F.IsSupported && !ForceAvx2Gemm;
            _directB = prepackedB == null && b != null && transB == Transpose.No && m <= DirectBMaxRows &&
                k <= DirectBMaxDepth;
        }

        /// <summary>Packs all of op(B) as one slab, the layout <see cref="Run"/> reads from a prepacked B.</summary>
        public void PackWhole(float* destination)
        {
            int kcMax = BlockDepth, panels = (_n + NR - 1) / NR;
            for (int p0 = 0; p0 < _k; p0 += kcMax)
            {
                int kc = Math.Min(kcMax, _k - p0);
                for (int panel = 0; panel < panels; panel++)
                    PackB(destination + (long)p0 * panels * NR + (long)panel * kc * NR, p0, kc, panel * NR);
            }
        }

        /// <summary>K blocks of equal size (a last sliver of K would waste a whole load/store pass over C).</summary>
        private int KBlocks => (_k + KC - 1) / KC;

        /// <summary>
        /// The depth of every K block but the last. The prepacked layouts (<see cref="PackWhole"/>,
        /// <see cref="PackWholeA"/>) use it too, so a product reads them block for block.
        /// </summary>
        private int BlockDepth => (_k + KBlocks - 1) / KBlocks;

        public void Run()
        {
            int kBlocks = KBlocks, kc = BlockDepth;
            int threads = AvailableThreads;
            bool parallel = threads > 1 && (long)_m * _n * _k >= ParallelThreshold;
            int totalPanels = (_n + NR - 1) / NR;
            if (_prepackedB != null || _directB)
            {
                RunSlab(_prepackedB, 0, totalPanels, kc, kBlocks, parallel ? threads : 1, packed: true);
                return;
            }
            if (_m <= PanelByPanelMaxRows)
            {
                // Few rows: each task packs a B panel and runs every row of A over it at once, while it is in L1.
                int chunks = parallel ? Math.Clamp(4 * threads, 1, Math.Max(1, totalPanels / 4)) : 1;
                void Chunk(int chunk) => RunPanelByPanel(totalPanels * chunk / chunks,
                    totalPanels * (chunk + 1) / chunks, kc);
                ParallelFor(0, chunks, threads, Chunk);
                return;
            }
            // Column slabs of op(B) small enough to pack whole (≤ 16 MiB); one slab for the sizes training uses.
            int slabPanels = (int)Math.Clamp(PackedBLimit / ((long)_k * NR), 1, totalPanels);
            float[] packedB = ArrayPool<float>.Shared.Rent(_k * slabPanels * NR + 16);
            try
            {
                fixed (float* pBRaw = packedB)
                {
                    float* pB = AlignTo64(pBRaw);
                    for (int slab0 = 0; slab0 < totalPanels; slab0 += slabPanels)
                    {
                        int panels = Math.Min(slabPanels, totalPanels - slab0);
                        RunSlab(pB, slab0, panels, kc, kBlocks, parallel ? threads : 1, packed: false);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(packedB);
            }
        }

        /// <summary>
        /// Columns <c>[slab0·NR, (slab0 + panels)·NR)</c> of C, one K block after another: packs that block of the
        /// slab of op(B) (in parallel), then runs (MC-row block × column chunk) tasks over it (a prepacked or in-place
        /// B: every task over all K blocks). Many small tasks keep both cores busy even when a worker thread wakes
        /// late; a fixed K order per element keeps results independent of which thread computes what.
        /// </summary>
        private void RunSlab(float* packedB, int slab0, int panels, int kcMax, int kBlocks, int threads, bool packed)
        {
            nint bAddress = (nint)packedB;
            // K block kb starts at p0 = kb·kcMax; it is stored at packedB + p0·panels·NR, panel by panel.
            void Pack(int job)
            {
                int kb = job / panels, panel = job % panels;
                int p0 = kb * kcMax, kc = Math.Min(kcMax, _k - p0);
                PackB((float*)bAddress + (long)p0 * panels * NR + (long)panel * kc * NR, p0, kc, (slab0 + panel) * NR);
            }

            int mBlocks = (_m + MC - 1) / MC;
            // About 8 tasks per thread (columns split too when there are few row blocks, keeping at least 8 panels,
            // 128 columns, per task): the last task a thread takes is short, so no thread waits long for another.
            int chunks = Math.Clamp((8 * threads + mBlocks - 1) / mBlocks, 1, Math.Max(1, panels / 8));
            int tasks = mBlocks * chunks;
            void Tasks(int kbFirst, int kbLast)
            {
                void Task(int task)
                {
                    int mb = task / chunks, chunk = task % chunks;
                    int first = panels * chunk / chunks, last = panels * (chunk + 1) / chunks;
                    RunBlock((float*)bAddress, slab0, panels, first, last, mb * MC, Math.Min(MC, _m - mb * MC), kcMax,
                        kbFirst, kbLast);
                }
                ParallelFor(0, tasks, threads, Task);
            }

            if (packed)
            {
                Tasks(0, kBlocks);
                return;
            }
            if ((long)_k * panels * NR <= WholeSlabLimit)
            {
                // A slab this small stays in L2/L3 whole: pack it at once, and let every task run all its K blocks
                // (two waits for the slowest thread per product rather than two per K block).
                ParallelFor(0, kBlocks * panels, threads, Pack);
                Tasks(0, kBlocks);
                return;
            }
            // One K block at a time: pack it, then use it while it is still in L2 (a long K would otherwise stream the
            // whole packed slab from memory once per row block). Each element still sums its K blocks in order.
            for (int kb = 0; kb < kBlocks; kb++)
            {
                ParallelFor(kb * panels, (kb + 1) * panels, threads, Pack);
                Tasks(kb, kb + 1);
            }
        }

        /// <summary>
        /// Whether panel <paramref name="panel"/> (of C's columns) and the next are both full and before
        /// <paramref name="last"/>, so that <see cref="RunPanelPair"/> can take them together.
        /// </summary>
        private bool PairsWith(int panel, int last) => _useAvx512 && panel + 1 < last && (panel + 2) * NR <= _n;

        /// <summary>
        /// C[i0..i0+mc, jb..jb+2·NR) (+)= packed A rows · two full B panels (same row stride): 12×32 tiles, then
        /// 6×32 or 4×32 ones.
        /// </summary>
        private void RunPanelPair(float* pA, float* b0, float* b1, int ldb, int kc, int i0, int mc, int jb,
            bool overwrite)
        {
            int r0 = 0;
            for (; r0 + 2 * MR <= mc; r0 += 2 * MR)
                MicroKernelAvx512<Twelve, Two>(pA + (long)r0 * kc, pA + (long)(r0 + MR) * kc, b0, b1, ldb, kc,
                    _c + (long)(i0 + r0) * _ldc + jb, _ldc, overwrite, 2 * MR);
            // The last rows (fewer than 12), a row panel at a time.
            for (; r0 < mc; r0 += MR)
            {
                int rows = Math.Min(MR, mc - r0);
                float* aPanel = pA + (long)r0 * kc, cTile = _c + (long)(i0 + r0) * _ldc + jb;
                if (rows > 4) MicroKernelAvx512<Six, Two>(aPanel, null, b0, b1, ldb, kc, cTile, _ldc, overwrite, rows);
                else MicroKernelAvx512<Four, Two>(aPanel, null, b0, b1, ldb, kc, cTile, _ldc, overwrite, rows);
            }
        }

        /// <summary>
        /// C[all rows, panels first..last of the slab]: for each K block, all of op(A) is packed once, then each panel
        /// of op(B) is packed and used by every row panel straight away, so B goes from its source to the L1 cache
        /// and the micro-kernel without a trip through L2 or L3 (with few rows, each B element serves few
        /// multiply-adds, and that trip is what limits the product).
        /// </summary>
        private void RunPanelByPanel(int first, int last, int kcMax)
        {
            float[]? packedA = _prepackedA == null
                ? ArrayPool<float>.Shared.Rent(PanelByPanelMaxRows * kcMax + 32) : null;
            float[] panelB = ArrayPool<float>.Shared.Rent(2 * kcMax * NR + 16);
            try
            {
                fixed (float* pARaw = packedA, pBRaw = panelB)
                {
                    float* pA = AlignTo64(pARaw), pB = AlignTo64(pBRaw);
                    for (int p0 = 0; p0 < _k; p0 += kcMax)
                    {
                        int kc = Math.Min(kcMax, _k - p0);
                        if (_prepackedA != null) pA = PackedABlock(p0, 0, kc);
                        else PackA(pA, 0, _m, p0, kc);
                        bool overwrite = p0 == 0 && !_accumulate;
                        for (int panel = first; panel < last; panel++)
                        {
                            PackB(pB, p0, kc, panel * NR);
                            if (PairsWith(panel, last))
                            {
                                float* second = pB + kc * NR;
                                PackB(second, p0, kc, ++panel * NR);
                                RunPanelPair(pA, pB, second, NR, kc, 0, _m, (panel - 1) * NR, overwrite);
                                continue;
                            }
                            RunPanel(pA, pB, NR, kc, 0, _m, panel * NR, overwrite);
                        }
                    }
                }
            }
            finally
            {
                if (packedA != null) ArrayPool<float>.Shared.Return(packedA);
                ArrayPool<float>.Shared.Return(panelB);
            }
        }

        /// <summary>
        /// C[i0..i0+mc, jb..jb+NR) (+)= packed A rows · one B panel (row stride ldb): 12-, 6- or 4-row tiles on
        /// AVX-512, else the AVX2 6-row tile (the last rows stored straight from their tile); a panel past n through
        /// scratch.
        /// </summary>
        private void RunPanel(float* pA, float* bPanel, int ldb, int kc, int i0, int mc, int jb, bool overwrite)
        {
            float* tile = stackalloc float[MR * NR];
            int cols = Math.Min(NR, _n - jb);
            for (int r0 = 0; r0 < mc; r0 += MR)
            {
                int rows = Math.Min(MR, mc - r0);
                float* aPanel = pA + (long)r0 * kc;
                float* cTile = _c + (long)(i0 + r0) * _ldc + jb;
                if (cols == NR && _useAvx512)
                {
                    // Two row panels at once (12 accumulators hide the FMA latency), then 6 or 4 rows.
                    if (rows == MR && r0 + 2 * MR <= mc)
                    {
                        MicroKernelAvx512<Twelve, One>(aPanel, aPanel + (long)MR * kc, bPanel, null, ldb, kc, cTile,
                            _ldc, overwrite, 2 * MR);
                        r0 += MR;
                    }
                    else if (rows > 4)
                        MicroKernelAvx512<Six, One>(aPanel, null, bPanel, null, ldb, kc, cTile, _ldc, overwrite, rows);
                    else
                        MicroKernelAvx512<Four, One>(aPanel, null, bPanel, null, ldb, kc, cTile, _ldc, overwrite,
                            rows);
                    continue;
                }
                if (cols == NR)
                {
                    // The register tile, of which only these rows are stored.
                    MicroKernel(aPanel, bPanel, ldb, kc, cTile, _ldc, overwrite, rows);
                    continue;
                }
                // Edge tile: compute the full register tile into scratch, copy the valid part (c = t, or c + t: the
                // same arithmetic as the full-tile store).
                MicroKernel(aPanel, bPanel, ldb, kc, tile, NR, overwrite: true);
                for (int r = 0; r < rows; r++)
                {
                    float* cRow = cTile + (long)r * _ldc;
                    for (int j = 0; j < cols; j++)
                        cRow[j] = overwrite ? tile[r * NR + j] : tile[r * NR + j] + cRow[j];
                }
            }
        }

        /// <summary>
        /// C[i0..i0+mc, panels first..last of the slab] over K blocks <c>[kbFirst, kbLast)</c>, with those blocks of
        /// packed op(B) already in place.
        /// </summary>
        private void RunBlock(float* packedB, int slab0, int slabPanels, int first, int last, int i0, int mc, int kcMax,
            int kbFirst, int kbLast)
        {
            // +32: 64-byte alignment, and PackA's 2-float overhang past the last packed column. None for a prepacked A.
            float[]? packedA = _prepackedA == null ? ArrayPool<float>.Shared.Rent(MC * kcMax + 32) : null;
            float[]? edgePanel = _directB ? ArrayPool<float>.Shared.Rent(kcMax * NR + 16) : null;
            try
            {
                fixed (float* pARaw = packedA, edgeRaw = edgePanel)
                {
                    float* pA = AlignTo64(pARaw), edge = edgeRaw == null ? null : AlignTo64(edgeRaw);
                    for (int p0 = kbFirst * kcMax; p0 < Math.Min(_k, kbLast * kcMax); p0 += kcMax)
                    {
                        int kc = Math.Min(kcMax, _k - p0);
                        bool overwrite = p0 == 0 && !_accumulate;
                        if (_prepackedA != null) pA = PackedABlock(p0, i0, kc);
                        else PackA(pA, i0, mc, p0, kc);
                        float* bBlock = packedB + (long)p0 * slabPanels * NR;
                        for (int panel = first; panel < last; panel++)
                        {
                            int jb = (slab0 + panel) * NR;
                            int cols = Math.Min(NR, _n - jb);
                            float* bPanel = bBlock + (long)panel * kc * NR;
                            int ldb = NR;
                            if (_directB)
                            {
                                // Full panels are read in place (row p at stride ldb); an edge panel is packed to
                                // zero-pad it.
                                if (cols == NR)
                                {
                                    bPanel = _b + (long)p0 * _ldb + jb;
                                    ldb = _ldb;
                                }
                                else
                                {
                                    bPanel = edge;
                                    PackB(edge, p0, kc, jb);
                                }
                            }
                            if (PairsWith(slab0 + panel, slab0 + last))
                            {
                                // The next panel: NR columns on in place, or the next packed panel.
                                float* second = _directB ? bPanel + NR : bPanel + kc * NR;
                                RunPanelPair(pA, bPanel, second, ldb, kc, i0, mc, jb, overwrite);
                                panel++;
                                continue;
                            }
                            RunPanel(pA, bPanel, ldb, kc, i0, mc, jb, overwrite);
                        }
                    }
                }
            }
            finally
            {
                if (packedA != null) ArrayPool<float>.Shared.Return(packedA);
                if (edgePanel != null) ArrayPool<float>.Shared.Return(edgePanel);
            }
        }

        /// <summary>
        /// Packs op(B)[p0..p0+kc, j0..j0+NR] into <paramref name="dst"/> as kc rows of NR contiguous values,
        /// zero-padded past n.
        /// </summary>
        private void PackB(float* dst, int p0, int kc, int j0)
        {
            if (_source != null)
            {
                _source.Pack(dst, p0, kc, j0);
                return;
            }
            int cols = Math.Min(NR, _n - j0);
            if (_transB == Transpose.No)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = _b + (long)(p0 + p) * _ldb + j0;
                    float* d = dst + p * NR;
                    if (cols == NR)
                    {
                        Vector256.Store(Vector256.Load(src), d);
                        Vector256.Store(Vector256.Load(src + 8), d + 8);
                    }
                    else
                    {
                        for (int j = 0; j < cols; j++) d[j] = src[j];
                        for (int j = cols; j < NR; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                // op(B)[p, j] = B[j, p]: 8×8 blocks transposed in registers, then the rest element by element.
                int p = 0;
                if (cols == NR && Avx.IsSupported)
                    for (; p + 8 <= kc; p += 8)
                        for (int half = 0; half < NR; half += 8)
                            Transpose8x8(_b + (long)(j0 + half) * _ldb + p0 + p, _ldb, dst + p * NR + half, NR);
                for (int j = 0; j < cols; j++)
                {
                    float* src = _b + (long)(j0 + j) * _ldb + p0;
                    for (int q = p; q < kc; q++) dst[q * NR + j] = src[q];
                }
                for (int j = cols; j < NR; j++)
                    for (int q = 0; q < kc; q++) dst[q * NR + j] = 0f;
            }
        }

        /// <summary>
        /// Packs all of op(A), K block by K block, in the layout <see cref="PackedABlock"/> reads: the block at p0
        /// starts at <c>p0 · ⌈m⌉_MR</c>, its row panel r0 at <c>r0 · kc</c> within it.
        /// </summary>
        public void PackWholeA(float* destination)
        {
            int kcMax = BlockDepth;
            for (int p0 = 0; p0 < _k; p0 += kcMax) PackA(destination + (long)p0 * RoundUpToPanel(_m), 0, _m, p0,
                Math.Min(kcMax, _k - p0));
        }

        /// <summary>Rows i0… of the K block at p0 of a prepacked op(A).</summary>
        private float* PackedABlock(int p0, int i0, int kc) => _prepackedA + (long)p0 * RoundUpToPanel(_m) +
            (long)i0 * kc;

        /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] as row panels of MR: for each p, MR contiguous values.</summary>
        private void PackA(float* packed, int i0, int mc, int p0, int kc)
        {
            for (int r0 = 0; r0 < mc; r0 += MR)
            {
                float* dst = packed + (long)r0 * kc;
                int rows = Math.Min(MR, mc - r0);
                if (_transA == Transpose.No)
                {
                    int p = 0;
                    if (rows == MR && Avx.IsSupported)
                    {
                        // 8 columns of the 6 rows at a time, transposed in registers (two zero rows make it 8×8).
                        // Each packed column is written 8 wide: its last 2 floats land on the next column's first 2,
                        // which are written after it (or on the next panel's start, or the buffer's slack, past the
                        // last column).
                        float* row0 = _a + (long)(i0 + r0) * _lda + p0;
                        long lda = _lda;
                        for (; p + 8 <= kc; p += 8)
                        {
                            float* src = row0 + p;
                            Transpose8x8(Vector256.Load(src), Vector256.Load(src + lda), Vector256.Load(src + 2 * lda),
                                Vector256.Load(src + 3 * lda), Vector256.Load(src + 4 * lda),
                                Vector256.Load(src + 5 * lda), default, default, dst + p * MR, MR);
                        }
                    }
                    for (int r = 0; r < rows; r++)
                    {
                        float* src = _a + (long)(i0 + r0 + r) * _lda + p0;
                        for (int q = p; q < kc; q++) dst[q * MR + r] = src[q];
                    }
                }
                else
                {
                    // op(A)[i, p] = A[p, i]: MR consecutive values of stored row p, copied 8 wide where the row has
                    // 8 (the 2-float overhang lands as in the other case).
                    bool wide = rows == MR && i0 + r0 + 8 <= _m;
                    for (int p = 0; p < kc; p++)
                    {
                        float* src = _a + (long)(p0 + p) * _lda + i0 + r0;
                        if (wide) Vector256.Store(Vector256.Load(src), dst + p * MR);
                        else
                            for (int r = 0; r < rows; r++) dst[p * MR + r] = src[r];
                    }
                }
                for (int r = rows; r < MR; r++)
                    for (int p = 0; p < kc; p++) dst[p * MR + r] = 0f;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void MicroKernel(float* a, float* b, int ldb, int kc, float* c, int ldc, bool overwrite,
            int rows = MR)
        {
            if (_useFma) MicroKernelFma(a, b, ldb, kc, c, ldc, overwrite, rows);
            else MicroKernelPortable(a, b, ldb, kc, c, ldc, overwrite, rows);
        }
    }

    /// <summary>
    /// <c>dst[q·ldd + r] = src[r·lds + q]</c> for r, q &lt; 8: eight rows of eight floats transposed with AVX
    /// shuffles (needs
    /// <see cref="Avx.IsSupported"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Transpose8x8(float* src, int lds, float* dst, int ldd) =>
        Transpose8x8(Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + 2L * lds),
            Avx.LoadVector256(src + 3L * lds), Avx.LoadVector256(src + 4L * lds), Avx.LoadVector256(src + 5L * lds),
            Avx.LoadVector256(src + 6L * lds), Avx.LoadVector256(src + 7L * lds), dst, ldd);

    /// <summary>
    /// <c>dst[q·ldd + r] = r_r[q]</c> for r, q &lt; 8: eight rows already in registers, stored transposed (needs
    /// <see cref="Avx.IsSupported"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2,
        Vector256<float> r3, Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        float* dst, int ldd)
    {
        // Interleave pairs of rows, then pairs of pairs (within 128-bit lanes), then swap lanes.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3),
            t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7),
            t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE),
            s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE),
            s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2L * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3L * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4L * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5L * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6L * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7L * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>
    /// 6×16 register tile: <c>C[0..6, 0..16] (+)= Σ_p a[p·6 + r] · b[p·16 + j]</c> with AVX2 FMA; only the first
    /// <paramref name="rows"/> rows of C are stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernelFma(float* a, float* b, int ldb, int kc, float* c, int ldc, bool overwrite,
        int rows)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Avx.LoadVector256(b);
            Vector256<float> b1 = Avx.LoadVector256(b + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            a += MR;
            b += ldb;
        }
        StoreRow(c, c00, c01, overwrite);
        if (rows > 1) StoreRow(c + ldc, c10, c11, overwrite);
        if (rows > 2) StoreRow(c + 2L * ldc, c20, c21, overwrite);
        if (rows > 3) StoreRow(c + 3L * ldc, c30, c31, overwrite);
        if (rows > 4) StoreRow(c + 4L * ldc, c40, c41, overwrite);
        if (rows > 5) StoreRow(c + 5L * ldc, c50, c51, overwrite);
    }

    /// <summary>A tile's rows or B panels: a JIT-time constant of each instantiation.</summary>
    private interface ITileSize
    {
        static abstract int Count { get; }
    }

    private struct One : ITileSize
    {
        public static int Count => 1;
    }

    private struct Two : ITileSize
    {
        public static int Count => 2;
    }

    private struct Four : ITileSize
    {
        public static int Count => 4;
    }

    private struct Six : ITileSize
    {
        public static int Count => 6;
    }

    private struct Twelve : ITileSize
    {
        public static int Count => 12;
    }

    /// <summary>
    /// A <c>TRows</c> × (16·<c>TPanels</c>) tile on AVX-512: the row panels <paramref name="a0"/> (rows 0–5) and, for
    /// 12 rows, <paramref name="a1"/> (rows 6–11) against the B panel <paramref name="b0"/> (columns 0–15) and, for
    /// two panels, <paramref name="b1"/> (columns 16–31, same row stride); stores the first <paramref name="rows"/>
    /// rows. One 512-bit accumulator per row and panel. The JIT compiles each size on its own and drops the rows and
    /// panels it does not have.
    /// </summary>
    /// <remarks>
    /// 12×32, the main tile: each broadcast A value feeds two FMAs, so a step of p loads 14 values for 24 FMAs (12×16:
    /// 13 for 12) and each pass over packed A serves twice the columns. In L1 both run near the FMA peak (172 against
    /// 169 GFLOP/s on one core of the project's VM); inside a product, where A comes from L2, 12×32 is faster. 24
    /// accumulators, two B rows and a broadcast fit in the 32 ZMM registers. The last rows of a block take 6- or
    /// 4-row tiles (4×32 still has the eight chains that hide the FMA latency). Every size computes each element as
    /// <c>c = fma(a, b, c)</c> in p order, like the AVX2 kernel, so all give the same bits.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernelAvx512<TRows, TPanels>(float* a0, float* a1, float* b0, float* b1, int ldb,
        int kc, float* c, int ldc, bool overwrite, int rows) where TRows : struct, ITileSize
        where TPanels : struct, ITileSize
    {
        bool two = TPanels.Count > 1;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        long stride = ldb;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> left = Avx512F.LoadVector512(b0), right = two ? Avx512F.LoadVector512(b1) : default;
            Vector512<float> x;
            x = Vector512.Create(a0[0]);
            c00 = Avx512F.FusedMultiplyAdd(x, left, c00); if (two) c01 = Avx512F.FusedMultiplyAdd(x, right, c01);
            x = Vector512.Create(a0[1]);
            c10 = Avx512F.FusedMultiplyAdd(x, left, c10); if (two) c11 = Avx512F.FusedMultiplyAdd(x, right, c11);
            x = Vector512.Create(a0[2]);
            c20 = Avx512F.FusedMultiplyAdd(x, left, c20); if (two) c21 = Avx512F.FusedMultiplyAdd(x, right, c21);
            x = Vector512.Create(a0[3]);
            c30 = Avx512F.FusedMultiplyAdd(x, left, c30); if (two) c31 = Avx512F.FusedMultiplyAdd(x, right, c31);
            if (TRows.Count > 4)
            {
                x = Vector512.Create(a0[4]);
                c40 = Avx512F.FusedMultiplyAdd(x, left, c40); if (two) c41 = Avx512F.FusedMultiplyAdd(x, right, c41);
                x = Vector512.Create(a0[5]);
                c50 = Avx512F.FusedMultiplyAdd(x, left, c50); if (two) c51 = Avx512F.FusedMultiplyAdd(x, right, c51);
            }
            if (TRows.Count > 6)
            {
                x = Vector512.Create(a1[0]);
                c60 = Avx512F.FusedMultiplyAdd(x, left, c60); if (two) c61 = Avx512F.FusedMultiplyAdd(x, right, c61);
                x = Vector512.Create(a1[1]);
                c70 = Avx512F.FusedMultiplyAdd(x, left, c70); if (two) c71 = Avx512F.FusedMultiplyAdd(x, right, c71);
                x = Vector512.Create(a1[2]);
                c80 = Avx512F.FusedMultiplyAdd(x, left, c80); if (two) c81 = Avx512F.FusedMultiplyAdd(x, right, c81);
                x = Vector512.Create(a1[3]);
                c90 = Avx512F.FusedMultiplyAdd(x, left, c90); if (two) c91 = Avx512F.FusedMultiplyAdd(x, right, c91);
                x = Vector512.Create(a1[4]);
                cA0 = Avx512F.FusedMultiplyAdd(x, left, cA0); if (two) cA1 = Avx512F.FusedMultiplyAdd(x, right, cA1);
                x = Vector512.Create(a1[5]);
                cB0 = Avx512F.FusedMultiplyAdd(x, left, cB0); if (two) cB1 = Avx512F.FusedMultiplyAdd(x, right, cB1);
                a1 += MR;
            }
            a0 += MR;
            b0 += stride;
            if (two) b1 += stride;
        }
        StoreRow<TPanels>(c, c00, c01, overwrite);
        if (rows > 1) StoreRow<TPanels>(c + ldc, c10, c11, overwrite);
        if (rows > 2) StoreRow<TPanels>(c + 2L * ldc, c20, c21, overwrite);
        if (rows > 3) StoreRow<TPanels>(c + 3L * ldc, c30, c31, overwrite);
        if (TRows.Count <= 4) return;
        if (rows > 4) StoreRow<TPanels>(c + 4L * ldc, c40, c41, overwrite);
        if (rows > 5) StoreRow<TPanels>(c + 5L * ldc, c50, c51, overwrite);
        if (TRows.Count <= 6) return;
        c += 6L * ldc;
        StoreRow<TPanels>(c, c60, c61, overwrite); c += ldc;
        StoreRow<TPanels>(c, c70, c71, overwrite); c += ldc;
        StoreRow<TPanels>(c, c80, c81, overwrite); c += ldc;
        StoreRow<TPanels>(c, c90, c91, overwrite); c += ldc;
        StoreRow<TPanels>(c, cA0, cA1, overwrite); c += ldc;
        StoreRow<TPanels>(c, cB0, cB1, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow<TPanels>(float* c, Vector512<float> left, Vector512<float> right,
        bool overwrite) where TPanels : struct, ITileSize
    {
        StoreRow(c, left, overwrite);
        if (TPanels.Count > 1) StoreRow(c + NR, right, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector512<float> row, bool overwrite)
    {
        if (!overwrite) row += Vector512.Load(c);
        Vector512.Store(row, c);
    }

    /// <summary>
    /// The same tile without FMA intrinsics (any platform; Vector256 is emulated where not accelerated), storing the
    /// first <paramref name="rows"/> rows.
    /// </summary>
    private static unsafe void MicroKernelPortable(float* a, float* b, int ldb, int kc, float* c, int ldc,
        bool overwrite, int rows)
    {
        var acc = stackalloc Vector256<float>[2 * MR];
        for (int i = 0; i < 2 * MR; i++) acc[i] = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            for (int r = 0; r < MR; r++)
            {
                Vector256<float> x = Vector256.Create(a[r]);
                acc[2 * r] += x * b0;
                acc[2 * r + 1] += x * b1;
            }
            a += MR;
            b += ldb;
        }
        for (int r = 0; r < rows; r++, c += ldc) StoreRow(c, acc[2 * r], acc[2 * r + 1], overwrite);
    }

    internal static unsafe float* AlignTo64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector256<float> lo, Vector256<float> hi, bool overwrite)
    {
        if (!overwrite)
        {
            lo += Vector256.Load(c);
            hi += Vector256.Load(c + 8);
        }
        Vector256.Store(lo, c);
        Vector256.Store(hi, c + 8);
    }
}
