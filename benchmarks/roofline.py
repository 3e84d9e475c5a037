"""Roofline references for the event kernel (used by ``bench_eqspike.py speed``).

The event kernel's inner operation is a row add: ``out[:] += W[row, :]`` for a
row of ``W[0]`` (784 x 500 float32) per input spike.  These references measure
how fast this machine does exactly that, with no cleverness, at the current
numba thread count, so the kernel's speed can be stated as a fraction of it:

- :func:`rowadd_reference`: the same number of random 500-wide float32 rows of
  a W of the same shape, added into an accumulator, by plain numpy (gather and
  sum of groups of 100 rows, about one image-step's input spikes; one thread)
  and by a plain numba loop (the row loop and the column loop).  The numba loop
  works as the kernel does: ``streams`` independent streams (default 20, the
  images of a batch), split statically over the threads, each stream adding its
  own rows into **its own accumulator, allocated by the thread that uses it**
  (no cache line shared by two threads: the reference of the first issue-14
  session kept all streams' 2,000-byte accumulators side by side in one array,
  so the last line of stream 0's and the first of stream 1's were the same
  cache line, written by both threads on every row: it scaled 1.16x on 2 cores).
  The better of numpy and numba is the reference.  Rows are drawn uniformly over
  all 784 rows, so ``W`` (1.57 MB) is the working set; the kernel's rows are
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
def _rowadd_numba(W, idx, res):
    """Stream s adds the rows ``W[idx[s, :]]`` into its own accumulator; streams in
    parallel (static split); ``res[s, 0]`` = a checksum (padded: 16 floats per stream)."""
    S = idx.shape[0]
    n = W.shape[1]
    for s in prange(S):
        acc = np.zeros(n, np.float32)   # thread-private, its own cache lines
        for m in range(idx.shape[1]):
            r = W[idx[s, m]]
            for j in range(n):
                acc[j] += r[j]
        res[s, 0] = acc[0] + acc[n - 1]


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


def rowadd_reference(sizes=(784, 500), n_rows: int = 2_000_000, group: int = 100,
                     repeats: int = 5, seed: int = 0, streams: int = 20) -> dict:
    """Float adds per second of the plain row-add implementations (see module doc);
    ``n_rows`` rows in all, ``streams`` streams of ``n_rows / streams`` rows each."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(sizes).astype(np.float32)
    per = max(group, n_rows // streams)
    n_rows = per * streams
    idx = rng.integers(0, sizes[0], (streams, per)).astype(np.int64)
    threads = numba.get_num_threads()
    res = np.zeros((streams, 16), np.float32)
    _rowadd_numba(W, idx[:, :group], res)   # compile and first touch, not timed
    adds = float(n_rows) * sizes[1]
    t_nb, c_nb = _best(lambda: _rowadd_numba(W, idx, res), repeats, cpu=True)
    flat = idx.ravel()
    n_np = min(n_rows, 400_000)   # numpy: fewer rows (it is slower), same rate
    t_np, c_np = _best(lambda: _rowadd_numpy(W, flat[:n_np], group), max(1, repeats // 2),
                       cpu=True)
    nb, npy = adds / t_nb, float(n_np) * sizes[1] / t_np
    return {"threads": threads, "rows": n_rows, "streams": streams, "row_width": sizes[1],
            "group": group,
            "numba_adds_per_s": nb, "numpy_adds_per_s": npy, "best_adds_per_s": max(nb, npy),
            "best_impl": "numba" if nb >= npy else "numpy",
            # per CPU-second of all threads: less sensitive to other jobs on the machine
            "best_adds_per_cpu_s": max(adds / max(c_nb, 1e-9),
                                       float(n_np) * sizes[1] / max(c_np, 1e-9))}


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
