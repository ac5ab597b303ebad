#!/usr/bin/python3
"""The scipy reference for bench/graph (Debian's python3-scipy; run by run.sh).

  scipy_ref.py gen DIR      writes the benchmark inputs: W.npy (4096 x 4096 FC layer) and the
                            random graph ei.npy, ej.npy, w.npy (1M nodes, 10M edges, float32)
  scipy_ref.py fc DIR       the FC layer's graph built from W (input nodes first, as cnndyn numbers
                            them), then eigsh on it
  scipy_ref.py random DIR   the random graph built from its edge arrays (both directions), then eigsh
Building is timed from arrays already in memory, as cnndyn's side is.
Each timing phase prints "key value" lines, including its peak resident memory.
"""
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

N_RANDOM, M_RANDOM, FC = 1_000_000, 10_000_000, 4096


def gen(d):
    rng = np.random.default_rng(1)
    np.save(f"{d}/W.npy", rng.standard_normal((FC, FC), dtype=np.float32))
    i = rng.integers(0, N_RANDOM, M_RANDOM)
    j = (i + 1 + rng.integers(0, N_RANDOM - 1, M_RANDOM)) % N_RANDOM  # never a self-loop
    np.save(f"{d}/ei.npy", i.astype(np.float32))
    np.save(f"{d}/ej.npy", j.astype(np.float32))
    np.save(f"{d}/w.npy", rng.uniform(0.1, 1.0, M_RANDOM).astype(np.float32))


def solve(a, key):
    # Same problem as cnndyn asks SLEPc: largest real eigenvalue, constant start, tol 1e-10.
    t0, c0 = time.perf_counter(), time.process_time()
    vals, _ = eigsh(a, k=1, which="LA", tol=1e-10, v0=np.ones(a.shape[0]))
    print(f"{key}_s {time.perf_counter() - t0:.6g}")
    print(f"{key}_cpu_s {time.process_time() - c0:.6g}")
    print(f"lambda {vals[0]:.12g}")
    print(f"peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.6g}")


def fc(d):
    w = np.load(f"{d}/W.npy")
    t0, c0 = time.perf_counter(), time.process_time()
    b = sp.csr_matrix(np.abs(w).astype(np.float64))
    a = sp.bmat([[None, b.T], [b, None]], format="csr")
    print(f"fc_build_s {time.perf_counter() - t0:.6g}")
    print(f"fc_build_cpu_s {time.process_time() - c0:.6g}")
    solve(a, "fc_eigenvector")


def random(d):
    i = np.load(f"{d}/ei.npy").astype(np.int64)
    j = np.load(f"{d}/ej.npy").astype(np.int64)
    w = np.load(f"{d}/w.npy").astype(np.float64)
    t0, c0 = time.perf_counter(), time.process_time()
    a = sp.coo_matrix((w, (i, j)), shape=(N_RANDOM, N_RANDOM))
    a = (a + a.T).tocsr()
    print(f"random_build_s {time.perf_counter() - t0:.6g}")
    print(f"random_build_cpu_s {time.process_time() - c0:.6g}")
    solve(a, "random_eigenvector")


if __name__ == "__main__":
    {"gen": gen, "fc": fc, "random": random}[sys.argv[1]](sys.argv[2])
