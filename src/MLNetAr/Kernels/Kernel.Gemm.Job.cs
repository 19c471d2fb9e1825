using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetAr.Kernels;

// The blocked GEMM's driver: packing op(A) and op(B) and running the row-block tasks in parallel.
internal static partial class Kernel
{
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
}
