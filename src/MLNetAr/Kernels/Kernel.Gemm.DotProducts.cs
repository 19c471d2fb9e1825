using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetAr.Kernels;

// Dot-product GEMM for small outputs over a long inner dimension (A·Bᵀ), no packing.
internal static partial class Kernel
{
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
}
