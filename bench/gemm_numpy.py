"""Time numpy float32 matmul (OpenBLAS on Debian) on one GEMM case.

Usage: gemm_numpy.py TRANS M K N [SECONDS] [REPEATS]

TRANS is NN, TN, NT or TT; the case computes C (M×N) = op(A)·op(B) with op(A) M×K,
as BenchmarkGemm in package tensor does. Prints the best GFLOP/s (2·M·N·K per call)
over REPEATS runs of about SECONDS each, then the GFLOP per CPU-second of the process
over the same runs (time.process_time; with n threads, the rate per busy core).
The thread count is OpenBLAS's: set OPENBLAS_NUM_THREADS before starting Python.
"""
import sys
import time

import numpy as np


def main():
    trans, m, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
    repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    rng = np.random.default_rng(1)
    a = rng.standard_normal((k, m) if trans[0] == "T" else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans[1] == "T" else (k, n), dtype=np.float32)
    opa = a.T if trans[0] == "T" else a  # a transposed view: BLAS gets the flag, no copy
    opb = b.T if trans[1] == "T" else b
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(opa, opb, out=c)
    best = 0.0
    c0 = time.process_time()
    total = 0
    for _ in range(repeats):
        it = 0
        t0 = time.perf_counter()
        while True:
            np.matmul(opa, opb, out=c)
            it += 1
            el = time.perf_counter() - t0
            if el >= seconds:
                break
        total += it
        best = max(best, 2.0 * m * n * k * it / el / 1e9)
    cpu = time.process_time() - c0
    print("%.1f %.1f" % (best, 2.0 * m * n * k * total / cpu / 1e9))


if __name__ == "__main__":
    main()
