namespace MLNetAr.Tests.Kernels;

/// <summary>Scalar, obviously-correct versions of the kernels, in double precision.</summary>
internal static class ReferenceKernels
{
    public static double[] Gemm(bool transA, bool transB, int m, int n, int k, float[] a, int lda, float[] b, int ldb,
        float[]? c0, int ldc)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = c0 == null ? 0 : c0[i * ldc + j];
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a[p * lda + i] : a[i * lda + p])
                        * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * n + j] = sum;
            }
        return c;
    }

    public static double Softplus(double x) => Math.Log(1 + Math.Exp(x)) is var v && double.IsFinite(v) ? v : x;
    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
