"""Threads of the chip-mode kernel: the launcher of its workers, their spin barrier and
how the work is shared (:func:`share_bounds`, :func:`list_share`, :func:`rebalance`,
:func:`aligned_zeros`).

Chip mode trains with batch 1, so the only parallel work is inside one time
step (~10 us of dynamics, ~60 us of coincidence updates on 784-500-10).
numba's parallel regions cost 2-3 us to fork and join on a 2-CPU VM, too much
at that grain.  Instead, :func:`run_workers` starts ``nt`` OS threads once per
kernel call (one trainer batch of examples), each running the same compiled
``nogil`` worker on its share of the neurons, and the workers meet at a
**spin barrier** (:func:`barrier`, ~0.2-0.5 us) once or twice per time step.

The barrier is built from two atomic operations on an int64 array
(:func:`atomic_add`, :func:`atomic_load` of ``network/atomics.py``, LLVM atomics with
acquire/release ordering, so every plain store before a barrier is visible to
every thread after it).  ``sync`` layout: ``[0]`` arrival counter, ``[8]``
generation, ``[16]`` abort flag (separate cache lines).  A worker that fails
(an exception) sets the abort flag from Python, the others leave their spin at
once, and the exception is raised in the caller: no deadlock, nothing hidden.

Threads spin while they wait, so ``nt`` should not exceed the CPUs this
process may use (:func:`chip_threads` caps it); a worker that has spun for a
while yields its CPU at each check, so other processes on the same CPUs slow
the kernel down but do not stall it.  With one thread the barrier is a no-op
and no thread is started.

numba's cache keys a compiled function on its own source file: the kernel
inlines :func:`barrier`, so after changing this file touch
``network/chip_kernel.py`` (or clear its ``__pycache__``).
"""
from __future__ import annotations

import threading

import numba
import numpy as np
from numba import njit

# the atomics, the spin hint and the cycle counter live in network/atomics.py (the event
# kernel uses them too); re-exported here for the chip kernel's imports
from eqspike.network.atomics import (SPIN_BEFORE_YIELD, YIELD_US, atomic_add,  # noqa: F401
                                     atomic_load, cpu_relax, cycles, os_yield)
from eqspike.threads import usable_cpus

SYNC_SIZE = 24
_COUNT, _GEN, _ABORT = 0, 8, 16


@njit(nogil=True, inline="always")
def barrier(sync, nt, gen):
    """Wait until all ``nt`` workers have arrived at barrier number ``gen + 1``; returns
    ``gen + 1``, or -1 when the abort flag is set.  A waiting worker spins
    (``SPIN_BEFORE_YIELD`` pauses, ~0.1-0.5 ms), then yields its CPU at every check, so
    more workers than free CPUs (other processes running) slow it down instead of
    stalling it."""
    if nt == 1:
        return gen + 1
    if atomic_add(sync, _COUNT, 1) == (gen + 1) * nt - 1:
        atomic_add(sync, _GEN, 1)   # the last to arrive opens the barrier
        return gen + 1
    spins = 0
    while atomic_load(sync, _GEN) <= gen:
        if atomic_load(sync, _ABORT) != 0:
            return -1
        if spins < SPIN_BEFORE_YIELD:
            cpu_relax()
            spins += 1
        else:
            os_yield()
    return gen + 1


#: shares start at multiples of this many elements (64 bytes of float32 / int32), so
#: two workers do not write the same cache line of a per-neuron array or register row
SHARE_ALIGN = 16


@njit(inline="always")
def share_bounds(n, cum, nt, out):
    """``out[0..nt]``: worker t owns neurons ``[out[t], out[t + 1])`` of a layer of ``n``,
    the fraction ``cum[t + 1] - cum[t]`` of them (``cum[0] = 0 <= ... <= cum[nt] = 1``),
    boundaries rounded to the nearest multiple of ``SHARE_ALIGN`` (so a layer of fewer
    than ``SHARE_ALIGN`` neurons belongs to one worker)."""
    out[0] = 0
    for t in range(1, nt):
        out[t] = max(out[t - 1], min(n, np.int64(cum[t] * n / SHARE_ALIGN + 0.5) * SHARE_ALIGN))
    out[nt] = n


@njit(inline="always")
def list_share(cum, t, m):
    """Where worker t's part of a list of ``m`` items starts (``cum`` as in
    :func:`share_bounds`; ``list_share(cum, nt, m) = m``)."""
    return min(m, np.int64(cum[t] * m + 0.5))


@njit(inline="always")
def rebalance(frac, busy, nt, gain):
    """New work fractions ``frac[:nt]`` (sum 1) from the busy cycles ``busy[:nt]`` the
    workers spent on their fractions: each worker's speed is ``frac / busy``; the
    fractions move by ``gain`` (0..1) toward shares proportional to the speeds (equal
    finishing times), each kept >= 0.1 / nt.  No change when a count is not positive."""
    s = 0.0
    for t in range(nt):
        if not busy[t] > 0.0:
            return
        s += frac[t] / busy[t]
    tot = 0.0
    for t in range(nt):
        f = (1.0 - gain) * frac[t] + gain * (frac[t] / busy[t]) / s
        frac[t] = max(f, 0.1 / nt)
        tot += frac[t]
    for t in range(nt):
        frac[t] /= tot


def aligned_zeros(shape, dtype, align=64):
    """Zeros of ``shape`` (C order) starting on a ``align``-byte boundary."""
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = np.zeros(n + align, np.uint8)
    o = (-buf.ctypes.data) % align
    return buf[o:o + n].view(dtype).reshape(shape)


def chip_threads(requested: int = 0) -> int:
    """Worker threads for one chip-mode kernel call: ``requested`` (> 0), else numba's
    configured thread count (:func:`eqspike.threads.configure`), capped at the CPUs this
    process may use (spinning threads must each have a CPU)."""
    want = int(requested) if requested and requested > 0 else int(numba.get_num_threads())
    return max(1, min(want, usable_cpus()))


def run_workers(worker, nt: int, args: tuple) -> None:
    """Run ``worker(tid, nt, sync, *args)`` for tid = 0..nt-1 at the same time (tid 0 in
    the calling thread); an exception in any worker aborts the others and is raised."""
    sync = np.zeros(SYNC_SIZE, np.int64)
    if nt == 1:
        worker(0, 1, sync, *args)
        return
    errors: list[BaseException] = []

    def body(tid: int) -> None:
        try:
            worker(tid, nt, sync, *args)
        except BaseException as e:   # noqa: BLE001 - re-raised in the caller
            errors.append(e)
            sync[_ABORT] = 1

    threads = [threading.Thread(target=body, args=(t,), daemon=True) for t in range(1, nt)]
    for th in threads:
        th.start()
    body(0)
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
