"""Building blocks of one time step of the chip-mode kernel (:mod:`eqspike.network.chip_kernel`).

- :func:`sum_rows_cols`: a share of columns of the sum of the spiking rows (the drives);
- :func:`encode_spikes`: the spikes of a share of neurons, as an ascending list;
- :func:`spike_difference`: the neurons in exactly one of two spike lists (term B);
- :func:`merge_lists`: the workers' spike lists joined in neuron order;
- :func:`timed_barrier`: the workers' barrier, its waiting time counted.

All are inlined into the kernel: numba's cache keys a compiled function on its
own file, so after changing this file touch ``network/chip_kernel.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from eqspike.network.chip_threads import barrier, cycles
from eqspike.network.event import _uniform   # the batched path's spike hash


@njit(inline="always")
def sum_rows_cols(M, rows, e, out, lo, hi):
    """``out[lo:hi] = sum of M[rows[:e], lo:hi]``, eight rows per pass, in the order of
    ``network/event_rows._sum_rows`` (the same float32 sum for any column share).

    The loops index views from 0: with ``lo + j`` numba cannot prove an index
    non-negative, keeps its negative-index check in every access and the compiler does
    not vectorise (measured: 4x slower drives)."""
    n = hi - lo
    o = out[lo:hi]
    for j in range(n):
        o[j] = 0.0
    m = 0
    while m + 8 <= e:
        a = M[rows[m]][lo:hi]
        b = M[rows[m + 1]][lo:hi]
        c = M[rows[m + 2]][lo:hi]
        d = M[rows[m + 3]][lo:hi]
        a2 = M[rows[m + 4]][lo:hi]
        b2 = M[rows[m + 5]][lo:hi]
        c2 = M[rows[m + 6]][lo:hi]
        d2 = M[rows[m + 7]][lo:hi]
        for j in range(n):
            o[j] += ((a[j] + b[j]) + (c[j] + d[j])) + ((a2[j] + b2[j]) + (c2[j] + d2[j]))
        m += 8
    while m < e:
        a = M[rows[m]][lo:hi]
        for j in range(n):
            o[j] += a[j]
        m += 1


@njit(inline="always")
def encode_spikes(code, rates, acc, o, lo, hi, out_idx, th, seed, base, mask):
    """Spikes of neurons ``lo..hi-1`` of the layer at offset ``o`` into ``out_idx``
    (layer indices, ascending); returns their number.  Bernoulli: the hash of every
    neuron first (a loop without branches, which the compiler vectorises), then the
    spiking neurons compacted."""
    m = 0
    n = hi - lo
    rv = rates[o + lo:o + hi]
    av = acc[o + lo:o + hi]
    if code == 0:
        for j in range(n):
            a = av[j] + rv[j]
            if a >= th:
                av[j] = a - th
                out_idx[m] = j + lo
                m += 1
            else:
                av[j] = a
    else:
        b0 = base + np.uint64(o + lo)
        for j in range(n):
            mask[j] = (rv[j] > 0.0) & (_uniform(seed, b0 + np.uint64(j)) * th < rv[j])
        for j in range(n):
            out_idx[m] = j + lo
            m += mask[j]
    return m


@njit(inline="always")
def spike_difference(pa, na, pb, nb, idx, sgn):
    """The neurons in exactly one of the ascending lists ``pa[:na]`` (sign +1) and
    ``pb[:nb]`` (sign -1), ascending, into ``idx`` / ``sgn``; returns their number."""
    ia = 0
    ib = 0
    n = 0
    while ia < na or ib < nb:
        if ib >= nb or (ia < na and pa[ia] < pb[ib]):
            idx[n] = pa[ia]
            sgn[n] = 1.0
            ia += 1
            n += 1
        elif ia >= na or pb[ib] < pa[ia]:
            idx[n] = pb[ib]
            sgn[n] = -1.0
            ib += 1
            n += 1
        else:
            ia += 1
            ib += 1
    return n


@njit(inline="always")
def merge_lists(part, pn, buf, nt, L, si, ns):
    """The full spike lists ``si[k, :ns[k]]`` from the workers' shares, in neuron order."""
    for k in range(L + 1):
        m = 0
        for tt in range(nt):
            for e in range(pn[buf, tt, k]):
                si[k, m] = part[buf, tt, k, e]
                m += 1
        ns[k] = m


@njit(inline="always")
def timed_barrier(sync, nt, gen, clk):
    """:func:`~eqspike.network.chip_threads.barrier`, its waiting cycles added to ``clk[0]``."""
    c0 = cycles()
    gen = barrier(sync, nt, gen)
    clk[0] += cycles() - c0
    return gen
