using System.Numerics.Tensors;

namespace MLNetAr.Kernels;

// GEMM for a few rows of op(A) (one image scored at a time), straight from the stored operands.
internal static partial class Kernel
{
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
}
