using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetAr.Kernels;

// The register-tile micro-kernels (AVX-512, AVX2/FMA and portable) and their stores.
internal static partial class Kernel
{
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
