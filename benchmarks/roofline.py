"""Roofline references for the event kernel (used by ``bench_eqspike.py speed``).

The event kernel's inner operation is a row add: ``out[:] += W[row, :]`` for a
row of ``W[0]`` (784 x 500 float32) per input spike.  These references measure
how fast this machine does exactly that, with no cleverness, at the current
numba thread count, so the kernel's speed can be stated as a fraction of it:

- :func:`rowadd_reference`: the same number of random 500-wide float32 rows of
  a W of the same shape, summed in groups of 100 (about one image-step's input
  spikes) into a fresh output vector per group, by plain numpy (gather and
  sum, one thread) and by a plain numba loop (the row loop and the column
  loop; ``prange`` over one stream per thread, each with its own output).
  The better of the two is the reference.  Rows are drawn uniformly over
  all 784 rows, so ``W`` (1.5 MB) is the working set; the kernel's rows are
  the pixels of one image (~150 rows), so it may exceed this reference.
- :func:`memory_bandwidth`: a copy ``b[:] = a`` of 128 MiB (4x the L3 of the
  recorded machine), by numpy (one thread) and by a numba ``prange`` loop
  (``b[i] = a[i] + 1``); bytes counted = read + written.

Both report the best of ``repeats`` runs (the others are slowed by whatever
else the machine does); the row-add reference also per CPU-second (all
threads), to compare with the kernel's adds per CPU-second on a loaded machine.
"""
from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _rowadd_numba(W, idx, group, out, sink):
    """Sum groups of ``group`` rows ``W[idx[...]]`` into ``out[stream]``; streams in parallel."""
    S = out.shape[0]
    n = W.shape[1]
    n_groups = idx.shape[0] // group
    for s in prange(S):
        o = out[s]
        g0 = (s * n_groups) // S
        g1 = ((s + 1) * n_groups) // S
        for g in range(g0, g1):
            for j in range(n):
                o[j] = 0.0
            for m in range(g * group, (g + 1) * group):
                r = W[idx[m]]
                for j in range(n):
                    o[j] += r[j]
            sink[s] += o[0]


def _rowadd_numpy(W, idx, group):
    acc = 0.0
    for g in range(0, idx.shape[0] - group + 1, group):
        acc += float(W[idx[g:g + group]].sum(axis=0)[0])
    return acc


def _best(fn, repeats, cpu=False):
    """Least wall seconds of ``repeats`` calls (and least CPU seconds, all threads)."""
    best, best_cpu = np.inf, np.inf
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    return (best, best_cpu) if cpu else best


def rowadd_reference(sizes=(784, 500), n_rows: int = 400_000, group: int = 100,
                     repeats: int = 5, seed: int = 0) -> dict:
    """Float adds per second of the plain row-add implementations (see module doc)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(sizes).astype(np.float32)
    n_rows = max(group, n_rows - n_rows % group)
    idx = rng.integers(0, sizes[0], n_rows).astype(np.int64)
    threads = numba.get_num_threads()
    out = np.zeros((threads, sizes[1]), np.float32)
    sink = np.zeros(threads, np.float64)
    _rowadd_numba(W, idx[:group * threads], group, out, sink)   # compile, not timed
    adds = float(n_rows) * sizes[1]
    t_nb, c_nb = _best(lambda: _rowadd_numba(W, idx, group, out, sink), repeats, cpu=True)
    t_np, c_np = _best(lambda: _rowadd_numpy(W, idx, group), max(1, repeats // 2), cpu=True)
    nb, npy = adds / t_nb, adds / t_np
    return {"threads": threads, "rows": n_rows, "row_width": sizes[1], "group": group,
            "numba_adds_per_s": nb, "numpy_adds_per_s": npy, "best_adds_per_s": max(nb, npy),
            "best_impl": "numba" if nb >= npy else "numpy",
            # per CPU-second of all threads: less sensitive to other jobs on the machine
            "best_adds_per_cpu_s": max(adds / max(c_nb, 1e-9), adds / max(c_np, 1e-9))}


@njit(parallel=True, cache=True)
def _copy_numba(a, b):
    for i in prange(a.shape[0]):
        b[i] = a[i] + np.float32(1.0)


def memory_bandwidth(mib: int = 128, repeats: int = 5) -> dict:
    """Bytes per second (read + write) of a large copy, numpy and numba (see module doc)."""
    n = mib * (1 << 20) // 4
    a = np.ones(n, np.float32)
    b = np.empty_like(a)
    _copy_numba(a[:16], b[:16])
    nbytes = 2.0 * a.nbytes
    t_nb = _best(lambda: _copy_numba(a, b), repeats)
    t_np = _best(lambda: np.copyto(b, a), repeats)
    nb, npy = nbytes / t_nb, nbytes / t_np
    return {"copy_MiB": mib, "numba_B_per_s": nb, "numpy_B_per_s": npy,
            "best_B_per_s": max(nb, npy)}
