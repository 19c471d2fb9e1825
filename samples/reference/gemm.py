"""PyTorch reference for the GEMM benchmark: float32 A@B (and A@B.T, A.T@B) on the same shapes and thread count.

Run with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 samples/reference/gemm.py [m n k] [--threads 2]
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
        best = float("inf")
        for _ in range(30):
            t0 = time.perf_counter()
            f()
            best = min(best, time.perf_counter() - t0)
        gflops = 2.0 * m * n * k / best / 1e9
        result[name] = round(gflops, 1)
        print(f"PyTorch {name} {m}×{k} · {k}×{n}: {gflops:.1f} GFLOP/s (best of 30, {best * 1e3:.2f} ms)")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
