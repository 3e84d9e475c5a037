"""One training mini-batch of the event path in one compiled call (rule ``eqspike``).

:func:`train_batch_event` runs, per image, the free phase and then the
+beta / -beta nudged phases side by side (the rule's default: ``common_noise``,
symmetric nudging, one sample), with the kernels of ``network/event.py``; then
the input-layer update rows per pixel.  It computes exactly what
:func:`event.phase_event` (free) followed by :func:`event.phase_event_multi`
(nudged) compute, with the same operations in the same order (asserted bit for
bit in ``tests/test_event_threads.py``), but:

- an image goes from its free phase to its nudged phases on the same thread,
  without waiting for the other images: two parallel regions per batch instead
  of three, and one Python call instead of two (each region start wakes the
  sleeping threads; each call converts ~45 arguments);
- the free-phase end state is copied into the two replicas inside the kernel
  (no ``np.stack`` / copies in Python).

The serial part of a batch (Python, region starts, the weight update) is what
limits the speed-up with threads (``benchmarks/results/eqspike.md``, issue 14).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from eqspike.network import event as ev
from eqspike.network.event import (PAIRINGS, PhaseSpec, PhaseState, _chunk_input_spikes,
                                   _chunk_phase)
from eqspike.network.event_rows import _image_sort_input, _pixel_ranges, _pixel_update
from eqspike.network.event_batch import balanced_chunks, n_event_chunks, scratch
from eqspike.network.event_batch import pad16 as _pad16


@njit(parallel=True, cache=True)
def _train_event(Ws, WTs, bs, off, enc, U_ptr, U_idx, sq, ptr, y0, y,
                 u1, r1, acc1, S1, T1, seed_f, counts_f, outc_f, win_f,
                 u2, r2, acc2, S2, T2, seed_n, betas, signs, counts_n, outc_n, win_n,
                 eps, theta, act_code, act_tab, act_lo, act_step, pairing, wsched,
                 dWs, dbs, cvec, order, cptr, n_update_steps, srt, sst, beta0, sign0):
    B = u1.shape[1]
    N = u1.shape[2]
    L = off.shape[0] - 2
    th = np.float32(theta)
    epsf = np.float32(eps)
    n0 = off[1] - off[0]
    n_chunks = cptr.shape[0] - 1
    upd = n_update_steps > 0
    R = u2.shape[0]
    for c in prange(n_chunks):
        for q in range(cptr[c], cptr[c + 1]):
            b = order[q]
            U = U_idx[U_ptr[b]:U_ptr[b + 1]]
            # free phase (no learning; S(0) drawn at the start)
            cnt = np.zeros(L + 1, np.int64)
            for j in range(N):
                S1[0, b, j] = 0.0
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
    if upd:
        kcut, mx = _pixel_ranges(sst, n0, n_chunks)
        n1 = cvec.shape[2]
        cv2 = cvec.reshape(cvec.shape[0] * B, n1)
        dW0 = dWs[0][0]
        for g in prange(n_chunks):
            rows = np.empty(mx, np.int64)
            tmp = np.empty(n1, np.float32)
            _pixel_update(dW0, cv2, srt, sst, kcut[g], kcut[g + 1], rows, tmp)


def train_batch_event(spec: PhaseSpec, W, b, x, y, T1: int, T2: int, betas, signs,
                      seed_free: int, seed_nudged: int, wsched, dW_buf, db_buf, nz,
                      work: dict):
    """Free phase (``T1`` steps from zero membranes, seed ``seed_free``) and the nudged
    replicas (``T2`` steps, ``betas``, ``signs``, one shared ``seed_nudged``) of a batch
    ``x`` (B, n_0), accumulating into ``dW_buf``, ``db_buf`` (:func:`event_buffers`).

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
    st = ev.init_state(spec, x)
    N = int(off[-1])
    n_chunks = n_event_chunks(B)
    nU_max = int((nz[0][1:] - nz[0][:-1]).max()) if len(nz[1]) else 0
    T = max(T1, T2)
    cap = (T + 1) * max(nU_max, 1) + 1
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
    counts_f = np.zeros((B, L + 1), np.int64)
    counts_n = np.zeros((B, L + 1), np.int64)
    outc_f = np.zeros((1, B, spec.sizes[-1]), np.int64)
    outc_n = np.zeros((R, B, spec.sizes[-1]), np.int64)
    ws = np.zeros(max(T2, 1), np.float32)
    ws[:T2] = np.asarray(wsched[:T2], np.float32)
    order, cptr = balanced_chunks(st.r[:, off[0]:off[1]].sum(axis=1), n_chunks)
    n_upd = 0 if T2 <= 0 else (T2 + 1 if spec.pairing != PAIRINGS["same_step"] else T2)
    u1, r1, acc1, S1 = (a[None] for a in (st.u, st.r, st.acc, st.S))
    _train_event(Ws, WTs, bs, off, np.asarray(spec.enc, np.int64), nz[0], nz[1], sq, ptr,
                 np.zeros((B, spec.sizes[-1]), np.float32), np.asarray(y, np.float32),
                 u1, r1, acc1, S1, int(T1), np.uint64(seed_free), counts_f, outc_f,
                 int(T1 - spec.readout_window),
                 u2, r2, acc2, S2, int(T2), np.uint64(seed_nudged),
                 np.asarray(betas, np.float32), np.asarray(signs, np.float64), counts_n,
                 outc_n, int(T2 - spec.readout_window),
                 float(spec.eps), float(spec.theta), int(spec.act_code), spec.act_tab,
                 float(spec.act_lo), float(spec.act_step), int(spec.pairing), ws,
                 dW_buf, db_buf, cvec, order, cptr, int(n_upd), srt, sst,
                 np.zeros(1, np.float32), np.zeros(1, np.float64))
    return st, counts_f.sum(axis=0), outc_f[0], counts_n.sum(axis=0)
