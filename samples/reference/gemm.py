"""PyTorch reference for the GEMM benchmark: float32 A@B (and A@B.T, A.T@B) on the same shapes and thread count.

Run with Debian's PyTorch and OpenBLAS (apt-get install python3-torch libopenblas0-pthread). OpenBLAS keeps its own
thread pool, so set OPENBLAS_NUM_THREADS too, and name the CPU's core (COOPERLAKE or SKYLAKEX on AVX-512, HASWELL on
AVX2): in a VM OpenBLAS can misdetect it (a "Prescott" core on the project's VM, 4.5× slower than COOPERLAKE):
    env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=COOPERLAKE OPENBLAS_NUM_THREADS=2 /usr/bin/python3 samples/reference/gemm.py [m n k] [--threads 2]
"""
import json
import sys
import time

import torch


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    threads = 2
    if "--threads" in sys.argv:
        threads = int(sys.argv[sys.argv.index("--threads") + 1])
        args = [a for a in args if a != str(threads)]
    m, n, k = (int(v) for v in args[:3]) if len(args) >= 3 else (512, 784, 784)
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    a = torch.rand(m, k, generator=g)
    b = torch.rand(k, n, generator=g)
    at = a.t().contiguous()
    bt = b.t().contiguous()
    cases = {"A·B": lambda: a @ b, "A·Bᵀ": lambda: a @ bt.t(), "Aᵀ·B": lambda: at.t() @ b}
    result = {"m": m, "n": n, "k": k, "threads": threads, "torch": torch.__version__}
    for name, f in cases.items():
        for _ in range(3):
            f()
        times = []
        for _ in range(100):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        times.sort()
        flop = 2.0 * m * n * k
        best, median = flop / times[0] / 1e9, flop / times[50] / 1e9
        result[name] = {"best_gflops": round(best, 1), "median_gflops": round(median, 1)}
        print(f"PyTorch {name} {m}×{k} · {k}×{n}: best {best:.1f}, median {median:.1f} GFLOP/s (100 runs)")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
