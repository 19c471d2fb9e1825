using System.Runtime.Intrinsics;

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
}
