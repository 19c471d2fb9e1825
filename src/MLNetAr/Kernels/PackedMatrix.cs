namespace MLNetAr.Kernels;

/// <summary>
/// A GEMM right-hand side <c>op(B)</c> <c>(Rows = k, Columns = n)</c> packed once by <see cref="Kernel.Pack"/> into the
/// micro-kernel's panel layout (K blocks of NR-column panels, zero-padded), on the pinned heap so that its 64-byte
/// aligned start never moves.
/// </summary>
internal sealed unsafe class PackedMatrix
{
    private readonly float[] _storage;

    internal PackedMatrix(int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
        long panels = (columns + Kernel.PanelWidth - 1) / Kernel.PanelWidth;
        _storage = GC.AllocateArray<float>(checked((int)(rows * panels * Kernel.PanelWidth + 16)), pinned: true);
        fixed (float* raw = _storage) Start = Kernel.AlignTo64(raw);
    }

    /// <summary>k: rows of op(B).</summary>
    public int Rows { get; }
    /// <summary>n: columns of op(B).</summary>
    public int Columns { get; }
    /// <summary>The aligned start of the panels (valid while this object lives: the array is pinned).</summary>
    internal float* Start { get; }
}
