using MLNetAr.Kernels;
using MLNetAr.Tests.TestUtilities;

namespace MLNetAr.Tests.Kernels;

public class GemmTests
{
    public static TheoryData<int, int, int, bool, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, bool, bool, bool>();
        // Few rows (the unpacked path, parallel for the largest), then edge cases around the 6×16 register tile, the
        // 96-row A block and the 256-deep K block; odd sizes; big enough to go parallel; small outputs over a long k
        // (A·Bᵀ by blocked dot products: 4×4 blocks over k in chunks, leftover rows and columns, a k tail).
        int[][] shapes = [[1, 1, 1], [1, 50, 33], [3, 40, 70], [4, 700, 300], [5, 15, 3], [6, 16, 7], [7, 17, 257],
            [13, 33, 100], [97, 50, 300], [100, 784, 64], [130, 70, 513], [64, 300, 784],
            [32, 96, 784], [9, 7, 1001], [2, 5, 40], [30, 33, 1540]];
        foreach (var s in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(s[0], s[1], s[2], ta, tb, (s[0] + s[1] + (ta ? 1 : 0)) % 2 == 0);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gemm_AllTranspositions_MatchReference(int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1, ldc = n + 2; // strides wider than the rows
        float[] a = TestData.RandomVector((transA ? k : m) * lda, seed: 1);
        float[] b = TestData.RandomVector((transB ? n : k) * ldb, seed: 2);
        float[] c = TestData.RandomVector(m * ldc, seed: 3);
        double[] expected = ReferenceKernels.Gemm(transA, transB, m, n, k, a, lda, b, ldb, accumulate ? c : null, ldc);
        float[] padding = c.ToArray();

        Kernel.Gemm(transA ? Transpose.Yes : Transpose.No, transB ? Transpose.Yes : Transpose.No, m, n, k, a, lda, b,
            ldb, c, ldc, accumulate);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
                Assert.True(Math.Abs(c[i * ldc + j] - expected[i * n + j]) <= 1e-4 * (1 + Math.Sqrt(k)),
                    $"C[{i},{j}] = {c[i * ldc + j]}, expected {expected[i * n + j]}");
            for (int j = n; j < ldc && i * ldc + j < c.Length; j++)
                Assert.Equal(padding[i * ldc + j], c[i * ldc + j]); // never writes past a row
        }
    }

    [Theory]
    [InlineData(32, 256, 64, false, true, true)]   // a pixel LSTM step: (B, H) · Uᵀ added to the gates
    [InlineData(64, 784, 500, false, false, false)] // a MADE output layer, W stored transposed
    [InlineData(40, 100, 96, false, false, true)]  // few rows, shallow: Gemm reads B in place
    [InlineData(7, 50, 600, true, true, false)]    // several K blocks, edge tiles in both directions
    [InlineData(1, 17, 3, false, false, true)]     // one row
    public void Gemm_PrepackedB_EqualsGemmBitForBit(int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        var (ta, tb, a, lda, b, ldb, c, ldc) = Operands(m, n, k, transA, transB, seed: 4);
        float[] packedResult = c.ToArray();
        double[] expected = ReferenceKernels.Gemm(transA, transB, m, n, k, a, lda, b, ldb, accumulate ? c : null, ldc);

        PackedMatrix packed = Kernel.Pack(tb, k, n, b, ldb);
        Kernel.Gemm(ta, m, a, lda, packed, packedResult, ldc, accumulate);

        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.True(Math.Abs(packedResult[i * ldc + j] - expected[i * n + j]) <= 1e-4 * (1 + Math.Sqrt(k)),
                    $"C[{i},{j}] = {packedResult[i * ldc + j]}, expected {expected[i * n + j]}");
        if (m > 4) // past the few-row path, Gemm packs op(B) the same way or reads it in place: the same bits
        {
            Kernel.Gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            Assert.Equal(c, packedResult);
        }
    }

    [Theory]
    [InlineData(480, 256, 64, true, false, false)] // a convolution's Wᵀ against one band: row blocks, B packed
    [InlineData(96, 300, 70, false, true, true)]   // few rows: B packed panel by panel
    [InlineData(130, 70, 513, false, false, true)] // several K blocks, a last row panel of 4
    [InlineData(40, 100, 96, true, false, false)]  // few rows, shallow: B read in place
    public void Gemm_PrepackedA_EqualsGemmBitForBit(int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        var (ta, tb, a, lda, b, ldb, c, ldc) = Operands(m, n, k, transA, transB, seed: 14);
        float[] prepackedResult = c.ToArray();

        float[] packedA = new float[Kernel.PackedLeftLength(m, k)];
        Kernel.PackLeft(ta, m, k, a, lda, packedA);
        Kernel.Gemm(m, n, k, packedA, tb, b, ldb, prepackedResult, ldc, accumulate);
        Kernel.Gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);

        Assert.Equal(c, prepackedResult);
        Gemm_AllTranspositions_MatchReference(m, n, k, transA, transB, accumulate);
    }

    /// <summary>
    /// Random op(A) (m, k), op(B) (k, n) and C (m, n), each stored with a row stride wider than its rows.
    /// </summary>
    private static (Transpose TransA, Transpose TransB, float[] A, int Lda, float[] B, int Ldb, float[] C, int Ldc)
        Operands(int m, int n, int k, bool transA, bool transB, int seed)
    {
        int lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3;
        return (transA ? Transpose.Yes : Transpose.No, transB ? Transpose.Yes : Transpose.No,
            TestData.RandomVector((transA ? k : m) * lda, seed), lda,
            TestData.RandomVector((transB ? n : k) * ldb, seed + 1), ldb,
            TestData.RandomVector(m * ldc, seed + 2), ldc);
    }

    [Fact]
    public void PackLeft_ShortDestinationOrPackedA_ThrowsNamingIt()
    {
        float[] a = new float[6 * 10];
        var tooShort = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernel.PackLeft(Transpose.No, 6, 10, a, 10, new float[Kernel.PackedLeftLength(6, 10) - 1]));
        Assert.Equal("destination", tooShort.ParamName);
        var wrongShape = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernel.Gemm(12, 4, 10, new float[Kernel.PackedLeftLength(6, 10)], Transpose.No, new float[40], 4,
                new float[48], 4));
        Assert.Equal("packedA", wrongShape.ParamName);
    }

    /// <summary>A right-hand side packed on demand from a stored row-major matrix.</summary>
    private sealed unsafe class StoredPanels(float[] b, int n, int ldb) : IPanelSource
    {
        public void Pack(float* destination, int p0, int kc, int j0)
        {
            for (int r = 0; r < kc; r++)
                for (int j = 0; j < Kernel.PanelWidth; j++)
                    destination[r * Kernel.PanelWidth + j] = j0 + j < n ? b[(p0 + r) * ldb + j0 + j] : 0f;
        }
    }

    [Theory]
    [InlineData(64, 300, 480, false)] // several K blocks, edge panel
    [InlineData(13, 40, 96, true)]    // shallow: the stored product reads B in place
    [InlineData(130, 70, 513, true)]  // two row blocks, parallel
    public void Gemm_PanelSource_EqualsGemmOnTheStoredMatrixBitForBit(int m, int n, int k, bool accumulate)
    {
        int lda = k + 1, ldb = n + 3, ldc = n + 2;
        float[] a = TestData.RandomVector(m * lda, seed: 7), b = TestData.RandomVector(k * ldb, seed: 8);
        float[] stored = TestData.RandomVector(m * ldc, seed: 9), sourced = stored.ToArray();

        Kernel.Gemm(Transpose.No, Transpose.No, m, n, k, a, lda, b, ldb, stored, ldc, accumulate);
        Kernel.Gemm(m, n, k, a, lda, new StoredPanels(b, n, ldb), sourced, ldc, accumulate);

        Assert.Equal(stored, sourced);
    }

    [Theory]
    [InlineData(1, 500, 784, false)]
    [InlineData(70, 33, 100, true)] // rows in parallel, columns off the vector width
    [InlineData(45, 1100, 300, true)] // several column blocks and row groups; 64-, 8- and 1-column tails
    [InlineData(33, 600, 784, false)]
    public void SparseGemm_MatchesReference(int m, int n, int k, bool accumulate)
    {
        var random = new Random(9);
        int lda = k + 2, ldb = n + 1, ldc = n + 3;
        // A mostly zero, as a binary image: 0, 1, and a few other values (the kernel scales by the entry).
        float[] a = Enumerable.Range(0, m * lda).Select(_ =>
            random.Next(10) switch { 0 => 1f, 1 => random.NextSingle(), _ => 0f }).ToArray();
        float[] b = TestData.RandomVector(k * ldb, seed: 10), c = TestData.RandomVector(m * ldc, seed: 11);
        double[] expected = ReferenceKernels.Gemm(false, false, m, n, k, a, lda, b, ldb, accumulate ? c : null, ldc);
        float[] padding = c.ToArray();

        // The rows of B added one at a time, in ascending order, each term rounded first: the kernel's exact bits.
        float[] rowByRow = c.ToArray();
        for (int i = 0; i < m; i++)
        {
            Span<float> row = rowByRow.AsSpan(i * ldc, n);
            if (!accumulate) row.Clear();
            for (int p = 0; p < k; p++)
                if (a[i * lda + p] != 0f)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.AsSpan(p * ldb, n), a[i * lda + p], row,
                        row);
        }

        Kernel.SparseGemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate);

        Assert.Equal(rowByRow, c);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++) Assert.Equal(expected[i * n + j], c[i * ldc + j], 1e-4 * (1 + Math.Sqrt(k)));
            for (int j = n; j < ldc && i * ldc + j < c.Length; j++) Assert.Equal(padding[i * ldc + j], c[i * ldc + j]);
        }
        Assert.Equal(0.2, Kernel.NonZeroFraction(a.AsSpan(0, k)), 0.1);
    }

    [Fact]
    public void NonZeroFraction_CountsAsNotEqualsZeroDoes()
    {
        // 8 values a vector, 3 a scalar tail: −0 is 0, NaN is not.
        float[] x = [0f, -0f, 1f, float.NaN, 0.5f, 0f, 0f, -2f, 0f, 3f, -0f];

        Assert.Equal(5f / 11f, Kernel.NonZeroFraction(x));
        Assert.Equal(0f, Kernel.NonZeroFraction([]));
    }

    [Fact]
    public void Gemm_PortableKernel_MatchesReference()
    {
        Kernel.ForcePortableGemm = true;
        try
        {
            Gemm_AllTranspositions_MatchReference(37, 45, 300, false, true, true);
            Gemm_AllTranspositions_MatchReference(100, 20, 70, true, false, false);
        }
        finally
        {
            Kernel.ForcePortableGemm = false;
        }
    }

    private const string NoAvx512 = "No AVX-512 (with FMA) here: both runs would take the AVX2 kernel.";

    private static bool HasAvx512 =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    [SkippableFact]
    public void Gemm_Avx512Kernel_EqualsAvx2KernelBitForBit()
    {
        // Same FMA sequence per element, so a model scores the same on AVX2 and AVX-512 machines.
        Skip.IfNot(HasAvx512, NoAvx512);
        const int m = 67, n = 53, k = 611;
        float[] a = TestData.RandomVector(m * k, 8), b = TestData.RandomVector(k * n, 9);
        float[] wide = TestData.RandomVector(m * n, 10), narrow = (float[])wide.Clone();
        Kernel.Gemm(Transpose.No, Transpose.Yes, m, n, k, a, k, b, k, wide, n, accumulate: true);
        Kernel.ForceAvx2Gemm = true;
        try
        {
            Kernel.Gemm(Transpose.No, Transpose.Yes, m, n, k, a, k, b, k, narrow, n, accumulate: true);
        }
        finally
        {
            Kernel.ForceAvx2Gemm = false;
        }
        Assert.Equal(narrow, wide);
        Gemm_AllTranspositions_MatchReference(m, n, k, false, true, true);
    }

    [SkippableTheory]
    [InlineData(64, 80, 300, false)]  // few rows, B packed two panels at a time: 12-row tiles, 4 rows; a lone panel
    [InlineData(23, 64, 50, true)]    // few rows, shallow (B read in place): 12 rows, then 6 and 5
    [InlineData(107, 100, 300, true)] // row blocks of 48, 48 and 11 over a packed slab; an edge panel
    [InlineData(110, 96, 100, false)] // row blocks over B read in place, the last of 14 = 12 + 2 rows
    public void Gemm_PairedPanelKernels_EqualAvx2KernelBitForBit(int m, int n, int k, bool accumulate)
    {
        // On AVX-512, pairs of B panels take the 12×32, 6×32 and 4×32 tiles; the AVX2 kernel takes one panel at a time.
        // Every element must be the same FMA sequence either way.
        Skip.IfNot(HasAvx512, NoAvx512);
        float[] a = TestData.RandomVector(m * k, 13), b = TestData.RandomVector(k * n, 14);
        float[] wide = TestData.RandomVector(m * n, 15), narrow = (float[])wide.Clone();
        double[] expected = ReferenceKernels.Gemm(false, false, m, n, k, a, k, b, n, accumulate ? wide : null, n);
        Kernel.Gemm(Transpose.No, Transpose.No, m, n, k, a, k, b, n, wide, n, accumulate);
        Kernel.ForceAvx2Gemm = true;
        try
        {
            Kernel.Gemm(Transpose.No, Transpose.No, m, n, k, a, k, b, n, narrow, n, accumulate);
        }
        finally
        {
            Kernel.ForceAvx2Gemm = false;
        }
        Assert.Equal(narrow, wide);
        for (int i = 0; i < m * n; i++)
            Assert.True(Math.Abs(wide[i] - expected[i]) <= 1e-4 * (1 + Math.Sqrt(k)), $"C[{i / n},{i % n}]");
    }

    [Theory]
    [InlineData(200, 300, 600)] // row blocks over a packed slab of B
    [InlineData(64, 700, 500)]  // few rows: B packed panel by panel
    public void Gemm_ThreadCount_DoesNotChangeResults(int m, int n, int k)
    {
        float[] a = TestData.RandomVector(m * k, 4), b = TestData.RandomVector(k * n, 5);
        float[] one = new float[m * n], two = new float[m * n], three = new float[m * n];
        int saved = Kernel.MaxDegreeOfParallelism;
        try
        {
            Kernel.MaxDegreeOfParallelism = 1;
            Kernel.Gemm(Transpose.No, Transpose.No, m, n, k, a, k, b, n, one, n);
            Kernel.MaxDegreeOfParallelism = 2;
            Kernel.Gemm(Transpose.No, Transpose.No, m, n, k, a, k, b, n, two, n);
            Kernel.MaxDegreeOfParallelism = 3;
            Kernel.Gemm(Transpose.No, Transpose.No, m, n, k, a, k, b, n, three, n);
        }
        finally
        {
            Kernel.MaxDegreeOfParallelism = saved;
        }
        Assert.Equal(one, two);
        Assert.Equal(one, three);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gemm_FewRowsPanelByPanel_EqualsTheSameRowsOfALargerProductBitForBit(bool accumulate)
    {
        // 96 rows take the panel-by-panel path, 97 the row blocks over a packed slab; each element must be the same
        // sum in the same order either way.
        const int n = 300, k = 600;
        float[] a = TestData.RandomVector(97 * k, 11), b = TestData.RandomVector(k * n, 12);
        float[] few = TestData.RandomVector(97 * n, 13), many = (float[])few.Clone();
        Kernel.Gemm(Transpose.No, Transpose.No, 96, n, k, a, k, b, n, few, n, accumulate);
        Kernel.Gemm(Transpose.No, Transpose.No, 97, n, k, a, k, b, n, many, n, accumulate);
        Assert.Equal(many.AsSpan(0, 96 * n).ToArray(), few.AsSpan(0, 96 * n).ToArray());
    }

    [Fact]
    public void Gemm_ZeroInnerDimension_ClearsOrKeepsC()
    {
        float[] c = [1, 2, 3, 4];
        Kernel.Gemm(Transpose.No, Transpose.No, 2, 2, 0, [], 1, [], 2, c, 2, accumulate: true);
        Assert.Equal([1f, 2, 3, 4], c);
        Kernel.Gemm(Transpose.No, Transpose.No, 2, 2, 0, [], 1, [], 2, c, 2);
        Assert.Equal([0f, 0, 0, 0], c);
    }

    [Fact]
    public void Gemm_TooShortOperand_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernel.Gemm(Transpose.No, Transpose.No, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4));
        Assert.Equal("a", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernel.Gemm(Transpose.No, Transpose.Yes, 4, 4, 4, new float[16], 4, new float[16], 3, new float[16], 4));
        Assert.Equal("b", e.ParamName);
    }
}
