"""NumPy (OpenBLAS, one thread) float64 matrix multiply: the peer of MatmulBenchmark.

Run with OPENBLAS_NUM_THREADS=1 (make bench-matmul does). Prints, per n, the median time of
a @ b over repeated runs and the GFLOP/s, as JSON lines.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np


def main() -> int:
    sizes = [int(s) for s in (sys.argv[1:] or ["64", "256", "512", "1024"])]
    config = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = config.get("Build Dependencies", {}).get("blas", {}).get("name", "?") if config else "?"
    print(f"numpy {np.__version__} ({blas}), OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'auto')}", file=sys.stderr)
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.random((n, n))
        b = rng.random((n, n))
        for _ in range(3):
            a @ b
        runs = max(5, int(2e9 / (2 * n ** 3)))  # about a second of work
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            a @ b
            samples.append(time.perf_counter() - t0)
        median = statistics.median(samples)
        print(json.dumps({"n": n, "medianMicros": round(median * 1e6, 1),
                          "gflops": round(2 * n ** 3 / median / 1e9, 1),
                          "coretype": os.environ.get("OPENBLAS_CORETYPE", "auto")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
