"""Batch bookkeeping of the event path (``network/event.py``): which images each
thread takes, which pixels can spike, the update buffers and their reduction.

Everything here is per mini-batch and small next to the kernels, but it runs
once per batch on one thread (the serial part of an epoch), so it is compiled
where Python would cost more than the work:

- :func:`n_event_chunks`: thread chunks of a phase (one per numba thread);
- :func:`balanced_chunks`: images split into chunks of about equal input work;
- :func:`nonzero_lists`: per image (or group of images) the pixels that are
  nonzero, i.e. the rows of ``W[0]`` that can be touched (a pixel at 0 never
  spikes);
- :func:`event_buffers` / :func:`make_buffers`: the update accumulators;
  :func:`reduce_buffers` sums them, scales and zeroes them for reuse;
  :func:`apply_buffers` does that and the weight update in one pass for ideal
  synapses;
- :func:`scratch`: scratch arrays kept between calls.

The event kernel's buffers (:func:`event_buffers`) have **one slot per image**
for ``dW[k >= 1]`` and the biases, and **one slot** for ``dW[0]`` (the
input-layer rows are summed per pixel over the whole batch, in a fixed order).
No buffer is shared by two threads, and which thread runs which image does not
change the order of any sum: the result is the same for every thread count.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from eqspike.network.event_rows import _slots_apply


@njit
def _num_threads():
    return numba.get_num_threads()


def n_event_chunks(B: int) -> int:
    """Thread chunks of the event kernel: one per numba thread (at most one per image).

    (Read in compiled code: ``numba.get_num_threads()`` from Python takes a
    process lock on each call: 6.5 us against 2.3 us, several calls per batch.)"""
    return max(1, min(B, _num_threads()))


@njit(cache=True)
def _balanced(w, n_chunks):
    B = w.shape[0]
    load = np.zeros(n_chunks)
    owner = np.empty(B, np.int64)
    for b in np.argsort(-w, kind="mergesort"):   # stable: ties keep image order
        c = 0
        for k in range(1, n_chunks):
            if load[k] < load[c]:
                c = k
        owner[b] = c
        load[c] += w[b]
    order = np.argsort(owner, kind="mergesort").astype(np.int64)
    cptr = np.zeros(n_chunks + 1, np.int64)
    for b in range(B):
        cptr[owner[b] + 1] += 1
    for c in range(n_chunks):
        cptr[c + 1] += cptr[c]
    return order, cptr


def balanced_chunks(work: np.ndarray, n_chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """Images split into ``n_chunks`` chunks of about equal ``work`` (one per image).

    Greedy, largest first, each image to the chunk with the least work so far
    (ties: the lower chunk); images keep their order within a chunk.  Returns
    (order, cptr): chunk c holds images ``order[cptr[c]:cptr[c+1]]``.  A
    deterministic function of ``work``, so results do not depend on timing.
    The phase ends when its slowest chunk does.  Input work (sum of pixel
    intensities) of the heaviest chunk over the mean, MNIST training set in
    batches of 20: contiguous split 5.4 % (2 chunks) / 14.3 % (4), this split
    0.4 % / 1.7 %.  Compiled: in Python its loop cost 0.1 ms per phase call.
    """
    B = len(work)
    n_chunks = max(1, min(int(n_chunks), B))
    w = np.asarray(work, np.float64) + 1e-3 * (float(np.mean(work)) if B else 0.0) + 1e-12
    return _balanced(w, n_chunks)


@njit(cache=True)
def _nonzero_per_image(x):
    B, n = x.shape
    ptr = np.zeros(B + 1, np.int64)
    idx = np.empty(B * n, np.int64)
    m = 0
    for b in range(B):
        for j in range(n):
            if x[b, j] > 0:
                idx[m] = j
                m += 1
        ptr[b + 1] = m
    return ptr, idx[:m].copy()


def nonzero_lists(x: np.ndarray, n_chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per contiguous group of images (``n_chunks`` groups), the pixels of ``x``
    (B, n_0) nonzero in at least one image of the group, as CSR (ptr, idx); zero
    pixels never spike.  The event kernel takes one group per image
    (``n_chunks = B``, compiled) and recomputes the lists if given others."""
    B = x.shape[0]
    if n_chunks == B:
        return _nonzero_per_image(np.ascontiguousarray(x, np.float32))
    ptr = [0]
    parts = []
    for c in range(n_chunks):
        b0, b1 = (c * B) // n_chunks, ((c + 1) * B) // n_chunks
        idx = np.nonzero((x[b0:b1] > 0).any(axis=0))[0].astype(np.int64)
        parts.append(idx)
        ptr.append(ptr[-1] + len(idx))
    idx = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return np.asarray(ptr, np.int64), idx


def make_buffers(sizes, n_slots: int):
    """Zeroed update accumulators with ``n_slots`` slots for every layer:
    per weight layer (n_slots, n_k, n_k+1) and (n_slots, n_k+1) (the dense path: 1)."""
    dW = tuple(np.zeros((n_slots, a, b), np.float32) for a, b in zip(sizes[:-1], sizes[1:]))
    db = tuple(np.zeros((n_slots, b), np.float32) for b in sizes[1:])
    return dW, db


def event_buffers(sizes, B: int):
    """Zeroed accumulators of the event kernel for a batch of ``B`` images: one slot for
    ``dW[0]`` (summed per pixel over the batch), one slot per image for ``dW[k >= 1]``
    (``n_k x n_k+1``, small) and for the biases.  See the module doc."""
    dW = tuple(np.zeros((1 if k == 0 else B, a, b), np.float32)
               for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])))
    db = tuple(np.zeros((B, b), np.float32) for b in sizes[1:])
    return dW, db


@njit(parallel=True, cache=True)
def _reduce_chunks(buf, scale, out, touched):
    """``out = scale * buf.sum(axis=0)`` and ``buf[...] = 0``, rows in parallel; rows
    with ``touched[i]`` False are known to be zero in ``buf``: only ``out`` is zeroed.
    The slots are summed in their order (0, 1, ...) whatever the thread count."""
    C = buf.shape[0]
    n = buf.shape[1]
    m = buf.shape[2]
    for i in prange(n):
        for j in range(m):
            out[i, j] = 0.0
        if not touched[i]:
            continue
        for c in range(C):
            for j in range(m):
                out[i, j] += buf[c, i, j]
                buf[c, i, j] = 0.0
        for j in range(m):
            out[i, j] *= scale


def reduce_buffers(dW_buf, db_buf, scales, rows0=None) -> tuple[list, list]:
    """Per-layer ``scale_k * sum over slots`` of the accumulators, which are
    zeroed for reuse (one parallel pass instead of sum + scale + a fresh zeroed buffer).

    ``rows0``: optional indices of the rows of ``dW[0]`` that may be nonzero (the
    input pixels that are nonzero in some image of the batch: a pixel at 0 never
    spikes, so the event kernel never writes its row); the other rows are neither
    read nor cleared, which at batch 1 (~150 of 784 pixels) saves most of the pass."""
    dW, db = [], []
    for k, (buf, bbuf, sc) in enumerate(zip(dW_buf, db_buf, scales)):
        touched = np.ones(buf.shape[1], np.bool_)
        if k == 0 and rows0 is not None:
            touched[:] = False
            touched[np.asarray(rows0, np.int64)] = True
        out = np.empty(buf.shape[1:], np.float32)
        _reduce_chunks(buf, np.float32(sc), out, touched)
        dW.append(out)
        db.append(np.float32(sc) * bbuf.sum(axis=0))
        bbuf[...] = 0.0
    return dW, db


@njit(parallel=True, cache=True)
def _add_reduced(W, buf, scale, rows):
    """``W[i, :] += scale * sum over slots of buf[:, i, :]`` for the rows ``i`` in ``rows``,
    which are zeroed in ``buf``; rows in parallel.  The same float32 operations, in the
    same order, as :func:`reduce_buffers` followed by ``W += dW`` (bit for bit)."""
    for q in prange(rows.shape[0]):
        i = rows[q]
        _slots_apply(W, buf, scale, i, i + 1)


def apply_buffers(net, dW_buf, db_buf, scales, rows0=None) -> None:
    """Apply ``scale_k * sum over slots`` of the accumulators to ``net`` and zero them.

    Plain ideal synapses (``IdealSynapses`` with its own ``apply``): one fused parallel
    pass over the rows that may be nonzero (``rows0`` for ``dW[0]``, see
    :func:`reduce_buffers`), no 784 x 500 temporary, the same result bit for bit.  Any
    other backend (device synapses, a subclass, a wrapped ``apply``) gets
    :func:`reduce_buffers` and ``net.apply_update`` as before."""
    if not plain_ideal(net):
        dW, db = reduce_buffers(dW_buf, db_buf, scales, rows0)
        net.apply_update(dW, db)
        return
    for k, (buf, bbuf, sc) in enumerate(zip(dW_buf, db_buf, scales)):
        rows = (np.arange(buf.shape[1], dtype=np.int64) if k > 0 or rows0 is None
                else np.asarray(rows0, np.int64))
        _add_reduced(net.W[k], buf, np.float32(sc), rows)
        net.b[k] += (np.float32(sc) * bbuf.sum(axis=0)).astype(net.b[k].dtype, copy=False)
        bbuf[...] = 0.0


def plain_ideal(net, biases: bool = False) -> bool:
    """True when ``net``'s update is the plain ``W += dW``, ``b += db`` of ideal synapses
    (``IdealSynapses`` with its own ``apply``, ``Network.apply_update`` not overridden)
    on C-contiguous float32 weights (and biases, if ``biases``): then a kernel may add
    the update in place (:func:`apply_buffers`; ``event_train.train_batch_event``, which
    also needs the biases so)."""
    from eqspike.network.model import IdealSynapses
    syn = net.synapses
    arrays = tuple(net.W) + (tuple(net.b) if biases else ())
    return (type(syn).apply is IdealSynapses.apply and "apply" not in vars(syn)
            and all(isinstance(w, np.ndarray) and w.dtype == np.float32
                    and w.flags.c_contiguous for w in arrays)
            and type(net).apply_update is _network_apply_update())


def _network_apply_update():
    from eqspike.network.model import Network
    return Network.apply_update


def pad16(n: int) -> int:
    """``n`` rounded up to a multiple of 16 (float32: 64 bytes, one cache line): rows of
    per-image scratch arrays padded so that two images never share a cache line."""
    return (int(n) + 15) // 16 * 16


def scratch(work: dict, name: str, shape: tuple, dtype) -> np.ndarray:
    """A scratch array of ``shape`` from ``work`` (reused when large enough), starting on
    a 64-byte boundary (with :func:`pad16` rows, each row starts a cache line).  The view
    of the last call is kept too: a call with the same name, shape and dtype (every batch
    of an epoch) returns it at once (~1 us instead of ~15 us: several calls per batch are
    part of the serial time of an epoch)."""
    shape = tuple(int(n) for n in shape)
    view = work.get(("view", name))
    if view is not None and view.shape == shape and view.dtype == dtype:
        return view
    size = math.prod(shape)
    item = np.dtype(dtype).itemsize
    extra = 64 // item
    a = work.get(name)
    if a is None or a.size < size + extra or a.dtype != dtype:
        a = work[name] = np.empty(max(size, 1) + extra, dtype)
    o = (-a.__array_interface__["data"][0] % 64) // item
    view = work[("view", name)] = a[o:o + size].reshape(shape)
    return view
