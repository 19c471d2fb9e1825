using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetAr.Kernels;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
internal enum Transpose
{
    /// <summary>Use the operand as stored (row-major).</summary>
    No,
    /// <summary>Use the transpose of the stored operand.</summary>
    Yes,
}

internal static partial class Kernels
{
    // Register tile: 6 rows × 16 columns = 12 Vector256 accumulators, leaving registers for two B vectors and one
    // broadcast A value (16 YMM registers in all).
    private const int MR = 6;
    private const int NR = 16;
    // Cache blocking (BLIS-style): a KC × NR micro-panel of B (16 KiB) stays in L1, an MC × KC block of A (96 KiB)
    // in L2, and the packed KC × N panel of B in L2/L3.
    private const int KC = 256;
    private const int MC = 96;
    // Below this many multiply-adds, threading costs more than it gains.
    private const long ParallelThreshold = 1L << 18;

    /// <summary>
    /// Number of threads the kernels may use. Results never depend on it: every output element is computed by one
    /// thread with a fixed summation order.
    /// </summary>
    internal static int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Forces the portable (non-FMA) micro-kernel; lets tests cover the fallback on AVX2 machines.</summary>
    internal static bool ForcePortableGemm { get; set; }

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
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, a stride too small or a span too short.</exception>
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

        fixed (float* pa = a, pb = b, pc = c)
        {
            var job = new GemmJob(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
            job.Run();
        }
    }

    private static void CheckOperand(string name, int length, int rows, int cols, int stride)
    {
        if (stride < cols || stride < 1)
            throw new ArgumentOutOfRangeException(name, $"Row stride {stride} of '{name}' is smaller than its {cols} columns.");
        long needed = rows == 0 ? 0 : (long)(rows - 1) * stride + cols;
        if (length < needed)
            throw new ArgumentOutOfRangeException(name, $"'{name}' holds {length} values; a {rows}×{cols} matrix with row stride {stride} needs {needed}.");
    }

    /// <summary>One GEMM call: the K loop is sequential (packing B once per K block); (M, N) tiles run in parallel.</summary>
    private sealed unsafe class GemmJob
    {
        private readonly Transpose _transA, _transB;
        private readonly int _m, _n, _k, _lda, _ldb, _ldc;
        private readonly float* _a, _b, _c;
        private readonly bool _accumulate;
        private readonly bool _useFma;

        public GemmJob(Transpose transA, Transpose transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            (_transA, _transB, _m, _n, _k, _lda, _ldb, _ldc, _accumulate) = (transA, transB, m, n, k, lda, ldb, ldc, accumulate);
            _a = a;
            _b = b;
            _c = c;
            _useFma = Fma.IsSupported && Avx.IsSupported && !ForcePortableGemm;
        }

        public void Run()
        {
            int nPanels = (_n + NR - 1) / NR;
            int paddedN = nPanels * NR;
            float[] packedB = ArrayPool<float>.Shared.Rent(KC * paddedN);
            try
            {
                int mBlocks = (_m + MC - 1) / MC;
                // Split N too when M alone gives too few tiles to keep every thread busy.
                int threads = Math.Max(1, MaxDegreeOfParallelism);
                int panelsPerTile = nPanels;
                if (mBlocks < 2 * threads)
                    panelsPerTile = Math.Max(4, nPanels / Math.Max(1, (2 * threads + mBlocks - 1) / mBlocks));
                int nTiles = (nPanels + panelsPerTile - 1) / panelsPerTile;
                int tiles = mBlocks * nTiles;
                bool parallel = threads > 1 && tiles > 1 && (long)_m * _n * _k >= ParallelThreshold;

                for (int p0 = 0; p0 < _k; p0 += KC)
                {
                    int kc = Math.Min(KC, _k - p0);
                    bool overwrite = p0 == 0 && !_accumulate;
                    fixed (float* pB = packedB)
                    {
                        nint pBAddress = (nint)pB;
                        if (parallel)
                            Parallel.For(0, nPanels, new ParallelOptions { MaxDegreeOfParallelism = threads },
                                panel => PackB((float*)pBAddress, p0, kc, panel));
                        else
                            for (int panel = 0; panel < nPanels; panel++) PackB(pB, p0, kc, panel);

                        if (parallel)
                            Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = threads },
                                t => RunTile((float*)pBAddress, p0, kc, t / nTiles, t % nTiles, panelsPerTile, nPanels, overwrite));
                        else
                            for (int t = 0; t < tiles; t++) RunTile(pB, p0, kc, t / nTiles, t % nTiles, panelsPerTile, nPanels, overwrite);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(packedB);
            }
        }

        /// <summary>Packs op(B)[p0..p0+kc, panel·NR..+NR] as kc rows of NR contiguous values, zero-padded past n.</summary>
        private void PackB(float* packed, int p0, int kc, int panel)
        {
            float* dst = packed + (long)panel * KC * NR;
            int j0 = panel * NR;
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
                // op(B)[p, j] = B[j, p]: read each stored row contiguously, scatter into the panel.
                for (int j = 0; j < cols; j++)
                {
                    float* src = _b + (long)(j0 + j) * _ldb + p0;
                    for (int p = 0; p < kc; p++) dst[p * NR + j] = src[p];
                }
                for (int j = cols; j < NR; j++)
                    for (int p = 0; p < kc; p++) dst[p * NR + j] = 0f;
            }
        }

        /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] as row panels of MR: for each p, MR contiguous values.</summary>
        private void PackA(float* packed, int i0, int mc, int p0, int kc)
        {
            for (int r0 = 0; r0 < mc; r0 += MR)
            {
                float* dst = packed + (long)r0 * kc;
                int rows = Math.Min(MR, mc - r0);
                if (_transA == Transpose.No)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        float* src = _a + (long)(i0 + r0 + r) * _lda + p0;
                        for (int p = 0; p < kc; p++) dst[p * MR + r] = src[p];
                    }
                }
                else
                {
                    // op(A)[i, p] = A[p, i]: MR consecutive values of stored row p.
                    for (int p = 0; p < kc; p++)
                    {
                        float* src = _a + (long)(p0 + p) * _lda + i0 + r0;
                        for (int r = 0; r < rows; r++) dst[p * MR + r] = src[r];
                    }
                }
                for (int r = rows; r < MR; r++)
                    for (int p = 0; p < kc; p++) dst[p * MR + r] = 0f;
            }
        }

        private void RunTile(float* packedB, int p0, int kc, int mBlock, int nTile, int panelsPerTile, int nPanels, bool overwrite)
        {
            int i0 = mBlock * MC;
            int mc = Math.Min(MC, _m - i0);
            float[] packedA = ArrayPool<float>.Shared.Rent(MC * KC);
            float* tile = stackalloc float[MR * NR];
            try
            {
                fixed (float* pA = packedA)
                {
                    PackA(pA, i0, mc, p0, kc);
                    int panelEnd = Math.Min(nPanels, (nTile + 1) * panelsPerTile);
                    for (int panel = nTile * panelsPerTile; panel < panelEnd; panel++)
                    {
                        int j0 = panel * NR;
                        int cols = Math.Min(NR, _n - j0);
                        float* bPanel = packedB + (long)panel * KC * NR;
                        for (int r0 = 0; r0 < mc; r0 += MR)
                        {
                            int rows = Math.Min(MR, mc - r0);
                            float* aPanel = pA + (long)r0 * kc;
                            float* cTile = _c + (long)(i0 + r0) * _ldc + j0;
                            if (rows == MR && cols == NR)
                            {
                                MicroKernel(aPanel, bPanel, kc, cTile, _ldc, overwrite);
                            }
                            else
                            {
                                // Edge tile: compute the full register tile into scratch, copy the valid part.
                                MicroKernel(aPanel, bPanel, kc, tile, NR, overwrite: true);
                                for (int r = 0; r < rows; r++)
                                {
                                    float* cRow = cTile + (long)r * _ldc;
                                    for (int j = 0; j < cols; j++)
                                        cRow[j] = overwrite ? tile[r * NR + j] : cRow[j] + tile[r * NR + j];
                                }
                            }
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(packedA);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void MicroKernel(float* a, float* b, int kc, float* c, int ldc, bool overwrite)
        {
            if (_useFma) MicroKernelFma(a, b, kc, c, ldc, overwrite);
            else MicroKernelPortable(a, b, kc, c, ldc, overwrite);
        }
    }

    /// <summary>6×16 register tile: <c>C[0..6, 0..16] (+)= Σ_p a[p·6 + r] · b[p·16 + j]</c> with AVX2 FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernelFma(float* a, float* b, int kc, float* c, int ldc, bool overwrite)
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
            b += NR;
        }
        StoreRow(c, c00, c01, overwrite); c += ldc;
        StoreRow(c, c10, c11, overwrite); c += ldc;
        StoreRow(c, c20, c21, overwrite); c += ldc;
        StoreRow(c, c30, c31, overwrite); c += ldc;
        StoreRow(c, c40, c41, overwrite); c += ldc;
        StoreRow(c, c50, c51, overwrite);
    }

    /// <summary>The same tile without FMA intrinsics (any platform; Vector256 is emulated where not accelerated).</summary>
    private static unsafe void MicroKernelPortable(float* a, float* b, int kc, float* c, int ldc, bool overwrite)
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
            b += NR;
        }
        for (int r = 0; r < MR; r++, c += ldc) StoreRow(c, acc[2 * r], acc[2 * r + 1], overwrite);
    }

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
