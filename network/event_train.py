"""One training mini-batch of the event path in one compiled call (rule ``eqspike``).

:func:`train_batch_event` runs, per image, the free phase and then the
+beta / -beta nudged phases side by side (the rule's default: ``common_noise``,
symmetric nudging, one sample), with the kernels of ``network/event.py``; then
the input-layer update rows per pixel.  It computes exactly what
:func:`event.phase_event` (free) followed by :func:`event.phase_event_multi`
(nudged) compute, with the same operations in the same order (asserted bit for
bit in ``tests/test_event_threads.py``), but:

- an image goes from its free phase to its nudged phases on the same thread,
  without waiting for the other images, and a whole batch is **one parallel
  region** (each region start wakes the sleeping threads: ~60 us on the 2-CPU VM;
  each Python call converts ~50 arguments);
- the workers take images from a queue (an atomic counter, ``network/atomics.py``),
  heaviest first, instead of a fixed split: they finish within about one light
  image of each other; they then wait for the last image and take the input-layer
  update in blocks of ``PIXEL_BLOCK`` pixels from a second queue.  Which worker
  runs which image or pixel does not change any sum (per-image slots, per-pixel
  sums in a fixed order), so the result is the same for every thread count;
- with ideal synapses (``apply_scales``) the weight update is added to ``W`` and
  ``b`` in that same region (no pass of ``event_batch.apply_buffers`` after it);
- the free-phase end state is copied into the two replicas inside the kernel
  (no ``np.stack`` / copies in Python).

The serial part of a batch (Python, the region start) is what limits the
speed-up with threads (``benchmarks/results/eqspike.md``, issue 14).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from eqspike.network.atomics import atomic_add, wait_at_least
from eqspike.network.event import (PAIRINGS, PhaseSpec, PhaseState, _chunk_input_spikes,
                                   _chunk_phase, rest_rate)
from eqspike.network.event_rows import (_bias_apply, _image_sort_input, _pixel_apply,
                                        _pixel_update, _slots_apply)
from eqspike.network.event_batch import _num_threads, n_event_chunks, scratch
from eqspike.network.event_batch import pad16 as _pad16


#: pixels per work item of the input-layer update (784 pixels: 49 items, grabbed in turn)
PIXEL_BLOCK = 16
# the kernel's work queues (int64 counters, one cache line apart)
_Q_IMAGE, _Q_DONE, _Q_PIXEL, SYNC_SIZE = 0, 8, 16, 24


@njit(parallel=True, cache=True)
def _train_event(Ws, WTs, bs, off, enc, U_ptr, U_idx, sq, ptr, y0, y,
                 u1, r1, acc1, S1, T1, seed_f, counts_f, outc_f, win_f,
                 u2, r2, acc2, S2, T2, seed_n, betas, signs, counts_n, outc_n, win_n,
                 eps, theta, act_code, act_tab, act_lo, act_step, pairing, wsched,
                 dWs, dbs, cvec, order, n_workers, n_update_steps, srt, sst, beta0, sign0,
                 apply_now, scales, sync, x0, rho0):
    B = u1.shape[1]
    N = u1.shape[2]
    L = off.shape[0] - 2
    th = np.float32(theta)
    epsf = np.float32(eps)
    n0 = off[1] - off[0]
    upd = n_update_steps > 0
    R = u2.shape[0]
    n1 = cvec.shape[2]
    cv2 = cvec.reshape(cvec.shape[0] * B, n1)
    dW0 = dWs[0][0]
    n_pix = (n0 + PIXEL_BLOCK - 1) // PIXEL_BLOCK
    n_items = n_pix + (n_workers if apply_now else 0)
    for j in range(SYNC_SIZE):
        sync[j] = 0
    # one parallel region; each worker takes the next image of ``order`` (heaviest
    # first) until none is left, waits for the others' images, then takes pixel blocks
    for c in prange(n_workers):
        while True:
            q = atomic_add(sync, _Q_IMAGE, 1)
            if q >= B:
                break
            b = order[q]
            U = U_idx[U_ptr[b]:U_ptr[b + 1]]
            # this image's start state (event.init_state): zero membranes and
            # accumulators, rates rho(0) and the clamped input x
            for j in range(N):
                u1[0, b, j] = 0.0
                acc1[0, b, j] = 0.0
                r1[0, b, j] = rho0
                S1[0, b, j] = 0.0
            for j in range(n0):
                r1[0, b, off[0] + j] = x0[b, j]
            # free phase (no learning; S(0) drawn at the start)
            cnt = np.zeros(L + 1, np.int64)
            _chunk_input_spikes(b, b + 1, U, r1, acc1, S1, T1, 0, enc[0], th, seed_f, True,
                                N, off[0], sq[b], ptr[b])
            _chunk_phase(b, b + 1, b, Ws, WTs, bs, off, enc, sq[b], ptr[b], y0, u1, r1,
                         acc1, S1, T1, 0, epsf, beta0, th, act_code, act_tab, act_lo,
                         act_step, seed_f, False, pairing, wsched, sign0, dWs, dbs, cvec,
                         cnt, outc_f, win_f, True)
            for k in range(L + 1):
                counts_f[b, k] = cnt[k]
            # the replicas start from the free end state
            for p in range(R):
                for j in range(N):
                    u2[p, b, j] = u1[0, b, j]
                    r2[p, b, j] = r1[0, b, j]
                    acc2[p, b, j] = acc1[0, b, j]
                    S2[p, b, j] = S1[0, b, j]
            cnt = np.zeros(L + 1, np.int64)
            _chunk_input_spikes(b, b + 1, U, r2, acc2, S2, T2, T1, enc[0], th, seed_n, False,
                                N, off[0], sq[b], ptr[b])
            _chunk_phase(b, b + 1, b, Ws, WTs, bs, off, enc, sq[b], ptr[b], y, u2, r2, acc2,
                         S2, T2, T1, epsf, betas, th, act_code, act_tab, act_lo, act_step,
                         seed_n, True, pairing, wsched, signs, dWs, dbs, cvec, cnt, outc_n,
                         win_n, False)
            if upd:
                _image_sort_input(sq[b], ptr[b], n_update_steps, b, B, n0, srt[b], sst[b])
            for k in range(L + 1):
                counts_n[b, k] = cnt[k]
            atomic_add(sync, _Q_DONE, 1)   # release: this image's cvec, srt, sst, slots
        if upd:
            # every image done (acquire: their writes are visible here).  No deadlock: only
            # running workers take images, so every image taken gets finished.
            wait_at_least(sync, _Q_DONE, B)
            rows = np.empty(max(1, B * n_update_steps), np.int64)   # a pixel's spike rows
            tmp = np.empty(n1, np.float32)
            while True:
                g = atomic_add(sync, _Q_PIXEL, 1)
                if g >= n_items:
                    break
                if g < n_pix:
                    k0 = g * PIXEL_BLOCK
                    k1 = min(n0, k0 + PIXEL_BLOCK)
                    if not apply_now:
                        _pixel_update(dW0, cv2, srt, sst, k0, k1, rows, tmp)
                    else:
                        # ideal synapses: the update goes straight into W (the buffer pass of
                        # event_batch.apply_buffers, the same operations)
                        _pixel_apply(Ws[0], scales[0], cv2, srt, sst, k0, k1, rows, tmp)
                    continue
                s = g - n_pix   # share s of the small layers' update: W[k >= 1] and biases
                for k in range(1, L):
                    nr = Ws[k].shape[0]
                    _slots_apply(Ws[k], dWs[k], scales[k], (s * nr) // n_workers,
                                 ((s + 1) * nr) // n_workers)
                for k in range(L):
                    nb = bs[k].shape[0]
                    _bias_apply(bs[k], dbs[k], scales[k], (s * nb) // n_workers,
                                ((s + 1) * nb) // n_workers)


def train_batch_event(spec: PhaseSpec, W, b, x, y, T1: int, T2: int, betas, signs,
                      seed_free: int, seed_nudged: int, wsched, dW_buf, db_buf, nz,
                      work: dict, apply_scales=None):
    """Free phase (``T1`` steps from zero membranes, seed ``seed_free``) and the nudged
    replicas (``T2`` steps, ``betas``, ``signs``, one shared ``seed_nudged``) of a batch
    ``x`` (B, n_0), accumulating into ``dW_buf``, ``db_buf`` (:func:`event_buffers`).

    ``apply_scales`` (one per weight layer, or None): the kernel also applies the update,
    ``W[k] += scale_k * dW[k]`` and ``b[k] += scale_k * db[k]``, in place in ``W`` and
    ``b`` (which must then be C-contiguous float32 arrays: ideal synapses,
    ``event_batch.plain_ideal``), leaving the buffers zeroed: the same weights bit for
    bit as :func:`event_batch.apply_buffers` after the call, without its pass.

    Returns (free end state :class:`PhaseState`, free counts (L+1,), free output
    counts (B, n_L), nudged counts (L+1,) summed over the replicas)."""
    off = spec.offsets
    L = len(spec.sizes) - 1
    R = len(betas)
    B = x.shape[0]
    n0, n1 = int(spec.sizes[0]), int(spec.sizes[1])
    if R < 1 or len(signs) != R:
        raise ValueError(f"need one sign per beta: {len(betas)} betas, {len(signs)} signs")
    if dW_buf[0].shape[0] < 1 or any(a.shape[0] != B for a in dW_buf[1:] + db_buf):
        raise ValueError("update buffers: need one slot for dW[0] and one per image (B = "
                         f"{B}) for the others, got {[a.shape[0] for a in dW_buf + db_buf]} "
                         "(event_batch.event_buffers)")
    x = np.ascontiguousarray(x, np.float32)
    N = int(off[-1])
    # the free phase's start state (event.init_state) is written by the kernel, per image
    st = PhaseState(*(np.empty((B, N), np.float32) for _ in range(4)))
    key = ("rho0", id(spec.act_fn))
    rho0 = work.get(key)
    if rho0 is None:
        rho0 = work[key] = rest_rate(spec)
    n_chunks = n_event_chunks(B)
    nU_max = int((nz[0][1:] - nz[0][:-1]).max()) if len(nz[1]) else 0
    T = max(T1, T2)
    # room for every nonzero pixel spiking at every step (nU_max <= n0); rounded up to 64
    # pixels so that the scratch arrays keep their shape from batch to batch
    cap = (T + 1) * min(n0, max(64, -(-nU_max // 64) * 64)) + 1
    sq = scratch(work, "sq", (B, cap), np.int32)
    ptr = scratch(work, "ptr", (B, T + 2), np.int64)
    cvec = scratch(work, "cvec", (T2 + 1, B, _pad16(n1)), np.float32)
    srt = scratch(work, "srt", (B, cap), np.int64)
    sst = scratch(work, "sst", (B, n0 + 1), np.int64)
    # the replicas' states (written by the kernel; only the counts leave it)
    u2, r2, acc2, S2 = (scratch(work, name, (R, B, N), np.float32)
                        for name in ("u2", "r2", "acc2", "S2"))
    Ws = tuple(np.ascontiguousarray(w, dtype=np.float32) for w in W)
    WTs = (np.zeros((1, 1), np.float32),) + tuple(np.ascontiguousarray(w.T, dtype=np.float32)
                                                  for w in W[1:])
    bs = tuple(np.asarray(v, dtype=np.float32) for v in b)
    apply_now = apply_scales is not None
    if apply_now:
        if len(apply_scales) != L:
            raise ValueError(f"apply_scales: need one per weight layer ({L}), got "
                             f"{len(apply_scales)}")
        if any(w is not v for w, v in zip(Ws + bs, tuple(W) + tuple(b))):
            raise ValueError("apply_scales: W and b must be C-contiguous float32 arrays (the "
                             "kernel updates them in place)")
        scales = np.asarray([np.float32(s) for s in apply_scales], np.float32)
    else:
        scales = np.zeros(L, np.float32)
    counts_f = np.zeros((B, L + 1), np.int64)
    counts_n = np.zeros((B, L + 1), np.int64)
    outc_f = np.zeros((1, B, spec.sizes[-1]), np.int64)
    outc_n = np.zeros((R, B, spec.sizes[-1]), np.int64)
    ws = np.zeros(max(T2, 1), np.float32)
    ws[:T2] = np.asarray(wsched[:T2], np.float32)
    # heaviest images (input work: sum of pixel intensities) first, so that the last
    # images taken from the queue are the lightest (the workers finish close together)
    order = np.argsort(-x.sum(axis=1), kind="stable").astype(np.int64)
    n_upd = 0 if T2 <= 0 else (T2 + 1 if spec.pairing != PAIRINGS["same_step"] else T2)
    u1, r1, acc1, S1 = (a[None] for a in (st.u, st.r, st.acc, st.S))
    # fewer workers than threads (batch 1): the region runs on that many threads only (an
    # idle thread woken for nothing costs ~60 us per region start on the 2-CPU VM)
    nt = _num_threads()
    if n_chunks < nt:
        numba.set_num_threads(n_chunks)
    try:
        _train_event(Ws, WTs, bs, off, np.asarray(spec.enc, np.int64), nz[0], nz[1], sq, ptr,
                     np.zeros((B, spec.sizes[-1]), np.float32), np.asarray(y, np.float32),
                     u1, r1, acc1, S1, int(T1), np.uint64(seed_free), counts_f, outc_f,
                     int(T1 - spec.readout_window),
                     u2, r2, acc2, S2, int(T2), np.uint64(seed_nudged),
                     np.asarray(betas, np.float32), np.asarray(signs, np.float64), counts_n,
                     outc_n, int(T2 - spec.readout_window),
                     float(spec.eps), float(spec.theta), int(spec.act_code), spec.act_tab,
                     float(spec.act_lo), float(spec.act_step), int(spec.pairing), ws,
                     dW_buf, db_buf, cvec, order, n_chunks, int(n_upd), srt, sst,
                     np.zeros(1, np.float32), np.zeros(1, np.float64), apply_now, scales,
                     scratch(work, "sync", (SYNC_SIZE,), np.int64), x, np.float32(rho0))
    finally:
        if n_chunks < nt:
            numba.set_num_threads(nt)
    return st, counts_f.sum(axis=0), outc_f[0], counts_n.sum(axis=0)
