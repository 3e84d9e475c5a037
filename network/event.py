"""Compute paths of one spiking phase: dense (numpy/BLAS) and event-driven (numba).

Both paths run the same discrete-time dynamics (``network/spiking.py``) and
the same spike-driven update accumulation (``network/rules/eqspike_rule.py``
documents the rule) on a batch, for ``T`` steps, and give the same spikes,
membranes and updates up to float32 rounding (asserted in
``tests/test_eqspike_event.py``):

- ``dense``: per step, ``theta * S @ W`` with BLAS matrix products over all
  presynaptic neurons, spikes or not; the per-step updates are stacked and
  contracted with one matrix product per phase.
- ``event``: compiled kernels (numba, threads over chunks of images, one
  image at a time per thread, one parallel region per phase) that
  draw the input spikes of the whole phase first (the input is clamped, so
  they do not depend on the network; zero pixels are never visited), then
  step the layers, each step gathering only the rows of ``W`` of the
  presynaptic neurons that spiked (and the rows of ``W.T`` for feedback
  spikes), and accumulate the weight update only at spike events (a row
  ``dW[i, :] += w * d rho_post`` per presynaptic spike, a column per
  postsynaptic spike; the input-layer rows after the phase, grouped by
  pixel).  Its cost per step is proportional to the number of spikes, not
  to the number of synapses.  :func:`phase_event_multi` runs the +beta and
  -beta phases side by side when they share the seed: their input spikes,
  drive and input-layer update rows are computed once.

Accumulating the updates over the steps of a phase and applying them once
per mini-batch is mathematically the same as applying each step's update
at once, because the weights are not changed within a phase (the C-EP
"continual" weight change is applied after the phase; with learning rates
~0.1 and 20-step phases the in-phase weight drift would be second order).

:class:`PathChooser` picks the faster path automatically: after the
compile warm-up it times one batch on each path and keeps the faster
(``compute="auto"``).
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from eqspike.network.spiking import COUNTER_STEPS
# batch bookkeeping (chunks, pixel lists, buffers, reduction): its own module, re-exported
from eqspike.network.event_batch import (apply_buffers, balanced_chunks,  # noqa: F401
                                         event_buffers, make_buffers, n_event_chunks,
                                         nonzero_lists, plain_ideal, reduce_buffers,
                                         scratch)
from eqspike.network.event_batch import pad16 as _pad16
from eqspike.network.event_rows import (_image_sort_input, _pixel_ranges,
                                        _pixel_update, _sum_rows)

PAIRINGS: dict[str, int] = {"same_step": 0, "delayed": 1, "both": 2}
COMPUTE_PATHS = ("auto", "event", "dense")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_U1 = np.uint64(1)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S40 = np.uint64(40)
_CSTEPS = np.uint64(COUNTER_STEPS)
_INV24 = np.float32(1.0 / (1 << 24))


@dataclass(frozen=True)
class PhaseSpec:
    """Fixed settings of the phases of one rule instance."""
    sizes: tuple
    eps: float
    theta: float
    enc: tuple            # encoder code per layer 0..L
    act_code: int         # 0 hard sigmoid, 1 sigmoid, 2 table
    act_tab: np.ndarray   # table values (code 2)
    act_lo: float
    act_step: float
    act_fn: object        # the python activation (dense path)
    pairing: int
    readout_window: int

    @functools.cached_property
    def offsets(self) -> np.ndarray:
        """Start of each layer in the flat state, and the end (computed once: it is
        read several times per phase; do not modify)."""
        return np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)


@dataclass
class PhaseState:
    """State of a batch between phases (flat over layers, layer 0 = input)."""
    u: np.ndarray     # (B, N) membranes (input columns unused)
    r: np.ndarray     # (B, N) activations; input columns = pixel rates
    acc: np.ndarray   # (B, N) sigma-delta accumulators
    S: np.ndarray     # (B, N) float32 0/1 spikes S(t) of the next step

    def copy(self) -> "PhaseState":
        return PhaseState(self.u.copy(), self.r.copy(), self.acc.copy(), self.S.copy())


def activation_spec(act) -> tuple[int, np.ndarray, float, float]:
    """(code, table, lo, step) of an activation for the compiled kernel.

    Built-ins are computed exactly; any other callable is tabulated on 4097
    points over [-2, 3] (linear interpolation, clamped outside).
    """
    from eqspike.network.activations import hard_sigmoid, sigmoid
    if act is None or act is hard_sigmoid:
        return 0, np.zeros(2, np.float32), 0.0, 1.0
    if act is sigmoid:
        return 1, np.zeros(2, np.float32), 0.0, 1.0
    lo, hi, n = -2.0, 3.0, 4097
    xs = np.linspace(lo, hi, n).astype(np.float32)
    tab = np.asarray(act(xs.copy()), dtype=np.float32)
    return 2, tab, lo, (hi - lo) / (n - 1)


def rest_rate(spec: PhaseSpec) -> float:
    """rho(0): the rate of a neuron at zero membrane (the activation is elementwise, so
    one value for every neuron of layers 1..L), as float32."""
    return float(np.asarray(spec.act_fn(np.zeros(1, np.float32)), np.float32)[0])


def init_state(spec: PhaseSpec, x: np.ndarray) -> PhaseState:
    """Zero membranes, zero accumulators; first spikes S(0) are drawn by the phase."""
    B = x.shape[0]
    off = spec.offsets
    N = int(off[-1])
    u = np.zeros((B, N), np.float32)
    r = np.zeros((B, N), np.float32)
    r[:, off[0]:off[1]] = x
    r[:, off[1]:] = np.float32(rest_rate(spec))
    S = np.full((B, N), np.nan, np.float32)  # NaN marks "not drawn yet"
    return PhaseState(u, r, np.zeros((B, N), np.float32), S)


# ---------------------------------------------------------------------------- event path
@njit(inline="always")
def _uniform(seed, counter):
    z = seed + _GOLDEN * (counter + _U1)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return np.float32(z >> _S40) * _INV24


@njit(inline="always")
def _rho(v, code, tab, lo, step):
    if code == 0:
        if v < 0.0:
            return np.float32(0.0)
        if v > 1.0:
            return np.float32(1.0)
        return v
    if code == 1:
        return np.float32(1.0 / (1.0 + np.exp(-4.0 * (v - 0.5))))
    pos = (v - lo) / step
    if pos <= 0.0:
        return tab[0]
    n = tab.shape[0]
    if pos >= n - 1:
        return tab[n - 1]
    i = int(pos)
    f = pos - i
    return np.float32(tab[i] * (1.0 - f) + tab[i + 1] * f)


@njit(inline="always")
def _encode_layer(code, rates, acc, sp, n, th, seed, base):
    """Spikes of one layer of one image into ``sp[:n]`` (0/1); sigma-delta updates ``acc``."""
    if code == 0:
        for j in range(n):
            a = acc[j] + rates[j]
            s1 = a >= th
            sp[j] = s1
            acc[j] = a - th * s1
    else:
        for j in range(n):
            sp[j] = _uniform(seed, base + np.uint64(j)) * th < rates[j]


@njit(inline="always")
def _compact(sp, n, idx):
    """Indices of the spikes in ``sp[:n]`` into ``idx``; branch-free (spikes are random,
    a branch would be mispredicted); ``idx`` needs one spare slot."""
    m = 0
    for j in range(n):
        idx[m] = j
        m += sp[j]
    return m


@njit(cache=True)
def _chunk_input_spikes(b0, b1, U, r, acc, S, T, t0, e0, th, seed, first_draw, N, o0,
                        sq, ptr):
    """Input spikes S_0(t0) .. S_0(t0+T) of images b0..b1-1 (pixels ``U``) as lists.

    The input is clamped, so its spikes do not depend on the network: they are
    drawn before the phase.  The spikes of step s, image b0+bb are the pixels
    (rows of ``W[0]``) ``sq[ptr[g]:ptr[g+1]]``, ``g = s * (b1-b0) + bb``.
    S_0(t0) is drawn if ``first_draw`` else read from ``S[0]``; sigma-delta
    accumulators are advanced and written back to every replica's ``acc``, and
    S_0(t0+T) to every replica's ``S``.
    """
    Bc = b1 - b0
    nU = U.shape[0]
    R = S.shape[0]
    X0 = np.empty((Bc, nU), np.float32)   # input rates and accumulators
    A0 = np.empty((Bc, nU), np.float32)
    for bb in range(Bc):
        for q in range(nU):
            X0[bb, q] = r[0, b0 + bb, o0 + U[q]]
            A0[bb, q] = acc[0, b0 + bb, o0 + U[q]]
    n = 0
    for s in range(T + 1):
        tb = np.uint64(t0 + s)
        for bb in range(Bc):
            ptr[s * Bc + bb] = n
            if s == 0 and not first_draw:
                for q in range(nU):
                    if S[0, b0 + bb, o0 + U[q]] > 0.5:
                        sq[n] = U[q]
                        n += 1
            elif e0 == 0:
                for q in range(nU):
                    a = A0[bb, q] + X0[bb, q]
                    s1 = a >= th
                    sq[n] = U[q]   # branch-free append
                    n += s1
                    A0[bb, q] = a - th * s1
            else:
                cb = (np.uint64(b0 + bb) * _CSTEPS + tb) * np.uint64(N) + np.uint64(o0)
                for q in range(nU):
                    xv = X0[bb, q]
                    if xv > 0.0:   # a pixel at 0 never spikes: no random number drawn
                        sq[n] = U[q]
                        n += 1 if _uniform(seed, cb + np.uint64(U[q])) * th < xv else 0
    ptr[(T + 1) * Bc] = n
    for p in range(R):
        for bb in range(Bc):
            for q in range(nU):
                acc[p, b0 + bb, o0 + U[q]] = A0[bb, q]
                S[p, b0 + bb, o0 + U[q]] = 0.0
            g = T * Bc + bb
            for m in range(ptr[g], ptr[g + 1]):
                S[p, b0 + bb, o0 + sq[m]] = 1.0


@njit(inline="always")
def _input_pairing(cv_rows, b0, Bc, a0, a1, w_now, w_prev, dr_now, dr_prev, n1):
    """``cv_rows[b0 + bb, :] = sum over replicas p of a0 w_now[p] drho_now + a1 w_prev[p]
    drho_prev`` (the change of layer 1 an input spike of image b0+bb is paired with);
    then ``drho_prev = drho_now`` and ``w_prev = w_now``.  Virtual image v = p Bc + bb."""
    for bb in range(Bc):
        cv = cv_rows[b0 + bb]
        for j in range(n1):
            cv[j] = 0.0
    for v in range(dr_prev.shape[0]):
        p = v // Bc
        cv = cv_rows[b0 + v - p * Bc]
        w = w_now[p]
        wp = w_prev[p]
        for j in range(n1):
            cv[j] += a0 * w * dr_now[v, j] + a1 * wp * dr_prev[v, j]
            dr_prev[v, j] = dr_now[v, j]
    for p in range(w_now.shape[0]):
        w_prev[p] = w_now[p]


@njit(cache=True)
def _chunk_phase(b0, b1, c, Ws, WTs, bs, off, enc, sq, ptr, y, u, r, acc, S, T, t0, epsf,
                 betas, th, act_code, act_tab, act_lo, act_step, seed, learn, pairing, wsched,
                 signs, dWs, dbs, cvec, cnt, out_counts, win_from, first_draw):
    """Layers 1..L of images b0..b1-1 of :func:`_phase_event` for ``T`` steps.

    The input enters as the spike lists of :func:`_chunk_input_spikes`
    (``sq``, ``ptr``: this chunk's); the input-layer update is left to
    :func:`_chunk_input_update`, which needs, per step s = 0..T, the change of layer 1
    the input spikes S_0(t0+s) are paired with, written to ``cvec[s, b, :]``:
    ``a0 w(s) drho(s) + a1 w(s-1) drho(s-1)``, summed over replicas.

    ``R = len(betas)`` replicas of the phase run side by side (state arrays
    ``u, r, acc, S`` of shape (R, B, N)), replica ``p`` with nudging
    ``betas[p]`` and update sign ``signs[p]``, all with the same seed: they
    share the input spikes (the input is clamped, so its spikes depend only
    on seed, step and pixel), hence the input drive and the input-layer update
    rows.  Layers 1..L are held in local (L, R*Bc, n_max) arrays, layer k at
    index k-1, virtual image ``v = p * Bc + bb``."""
    Bc = b1 - b0
    R = betas.shape[0]
    V = R * Bc
    N = u.shape[2]
    L = off.shape[0] - 2
    nmax = 1
    for k in range(1, L + 1):
        nmax = max(nmax, off[k + 1] - off[k])
    nl = np.empty(L, np.int64)
    for kk in range(L):
        nl[kk] = off[kk + 2] - off[kk + 1]
    u3 = np.zeros((L, V, nmax), np.float32)
    r3 = np.zeros((L, V, nmax), np.float32)
    rn3 = np.zeros((L, V, nmax), np.float32)
    dr3 = np.zeros((L, V, nmax), np.float32)
    a3 = np.zeros((L, V, nmax), np.float32)
    drv3 = np.zeros((L, V, nmax), np.float32)
    idx_o = np.zeros((L, V, nmax + 1), np.int32)   # spike lists of layers 1..L
    idx_n = np.zeros((L, V, nmax + 1), np.int32)
    ns_o = np.zeros((L, V), np.int64)
    ns_n = np.zeros((L, V), np.int64)
    sp = np.zeros(nmax, np.uint8)
    a0 = np.float32(1.0) if pairing == 0 else (np.float32(0.0) if pairing == 1 else np.float32(0.5))
    a1 = np.float32(1.0) - a0
    for kk in range(L):
        o = off[kk + 1]
        for v in range(V):
            p = v // Bc
            b = b0 + v - p * Bc
            for j in range(nl[kk]):
                u3[kk, v, j] = u[p, b, o + j]
                r3[kk, v, j] = r[p, b, o + j]
                a3[kk, v, j] = acc[p, b, o + j]
    # spikes S(t0): drawn now at the very start, else read from the state
    for v in range(V):
        p = v // Bc
        b = b0 + v - p * Bc
        base = (np.uint64(b) * _CSTEPS + np.uint64(t0)) * np.uint64(N)
        for kk in range(L):
            n = nl[kk]
            o = off[kk + 1]
            if first_draw:
                _encode_layer(enc[kk + 1], r3[kk, v], a3[kk, v], sp, n, th, seed,
                              base + np.uint64(o))
            else:
                for j in range(n):
                    sp[j] = 1 if S[p, b, o + j] > 0.5 else 0
            ns_o[kk, v] = _compact(sp, n, idx_o[kk, v])
    n1 = nl[0]
    W0 = Ws[0]
    dr_prev = np.zeros((V, n1), np.float32)
    w_prev = np.zeros(R, np.float32)
    w_now = np.zeros(R, np.float32)
    for i in range(T):
        t = t0 + i
        # ---- synaptic drive of the input spikes S_0(t), shared by the replicas
        for bb in range(Bc):
            g = i * Bc + bb
            _sum_rows(W0, sq, ptr[g], ptr[g + 1], drv3[0, bb], n1)
            cnt[0] += R * (ptr[g + 1] - ptr[g])
        for v in range(Bc, V):
            for j in range(n1):
                drv3[0, v, j] = drv3[0, v - Bc, j]
        for v in range(V):
            p = v // Bc
            b = b0 + v - p * Bc
            betaf = betas[p]
            # ---- plus rows of W for the neurons of layers 1..L that spiked
            for kk in range(1, L):
                for j in range(nl[kk]):
                    drv3[kk, v, j] = 0.0
            for kk in range(L):
                cnt[kk + 1] += ns_o[kk, v]
            if i >= win_from:
                for m in range(ns_o[L - 1, v]):
                    out_counts[p, b, idx_o[L - 1, v, m]] += 1
            for kk in range(L - 1):   # layer kk+1 drives layer kk+2 through W[kk+1]
                Wk = Ws[kk + 1]
                n = nl[kk + 1]
                for m in range(ns_o[kk, v]):
                    wr = Wk[idx_o[kk, v, m]]
                    for j in range(n):
                        drv3[kk + 1, v, j] += wr[j]
            for kk in range(1, L):    # layer kk+1 feeds back to layer kk through W[kk].T
                WT = WTs[kk]
                n = nl[kk - 1]
                for m in range(ns_o[kk, v]):
                    wr = WT[idx_o[kk, v, m]]
                    for j in range(n):
                        drv3[kk - 1, v, j] += wr[j]
            # ---- membranes, rates
            for kk in range(L):
                bk = bs[kk]
                n = nl[kk]
                if kk == L - 1:
                    for j in range(n):
                        drv3[kk, v, j] += betaf * (y[b, j] - r3[kk, v, j]) / th
                if act_code == 0:
                    for j in range(n):
                        un = u3[kk, v, j] + epsf * (th * drv3[kk, v, j] + bk[j] - u3[kk, v, j])
                        u3[kk, v, j] = un
                        rn = min(max(un, np.float32(0.0)), np.float32(1.0))
                        rn3[kk, v, j] = rn
                        dr3[kk, v, j] = rn - r3[kk, v, j]
                else:
                    for j in range(n):
                        un = u3[kk, v, j] + epsf * (th * drv3[kk, v, j] + bk[j] - u3[kk, v, j])
                        u3[kk, v, j] = un
                        rn = _rho(un, act_code, act_tab, act_lo, act_step)
                        rn3[kk, v, j] = rn
                        dr3[kk, v, j] = rn - r3[kk, v, j]
            # ---- spikes S(t+1) of layers 1..L
            base = (np.uint64(b) * _CSTEPS + np.uint64(t + 1)) * np.uint64(N)
            for kk in range(L):
                n = nl[kk]
                _encode_layer(enc[kk + 1], rn3[kk, v], a3[kk, v], sp, n, th, seed,
                              base + np.uint64(off[kk + 1]))
                ns_n[kk, v] = _compact(sp, n, idx_n[kk, v])
        # ---- spike-driven update, only at spike events
        if learn:
            # input spikes S_0(t) pair with this change of layer 1 (and the one before):
            # rows added later by _chunk_input_update; the input is clamped: no reverse term
            for p in range(R):
                w_now[p] = np.float32(signs[p] * wsched[i]) * th
            _input_pairing(cvec[i], b0, Bc, a0, a1, w_now, w_prev, dr3[0], dr_prev, n1)
            for kk in range(1, L):   # W[kk]: layer kk (local kk-1) -> layer kk+1 (local kk)
                dW = dWs[kk][c]
                npost = nl[kk]
                npre = nl[kk - 1]
                for v in range(V):
                    p = v // Bc
                    w = np.float32(signs[p] * wsched[i]) * th
                    for pass_ in range(2):
                        f = w * (a0 if pass_ == 0 else a1)
                        if f == 0.0:
                            continue
                        idx = idx_o if pass_ == 0 else idx_n
                        ns = ns_o if pass_ == 0 else ns_n
                        for m in range(ns[kk - 1, v]):   # presynaptic spikes: rows
                            dwr = dW[idx[kk - 1, v, m]]
                            for j in range(npost):
                                dwr[j] += f * dr3[kk, v, j]
                        for m in range(ns[kk, v]):       # postsynaptic spikes: columns
                            col = idx[kk, v, m]
                            for j in range(npre):
                                dW[j, col] += f * dr3[kk - 1, v, j]
            for kk in range(L):
                db = dbs[kk][c]
                for v in range(V):
                    wt = np.float32(signs[v // Bc] * wsched[i])
                    for j in range(nl[kk]):
                        db[j] += wt * dr3[kk, v, j]
        # ---- commit
        r3, rn3 = rn3, r3
        idx_o, idx_n = idx_n, idx_o
        ns_o, ns_n = ns_n, ns_o
    if learn:
        # the last input spikes S_0(t0+T) pair with the last change drho(T-1) only
        w_now[:] = 0.0
        _input_pairing(cvec[T], b0, Bc, a0, a1, w_now, w_prev, dr3[0], dr_prev, n1)
    # write the state of layers 1..L back; S(t0+T) for the next phase
    for v in range(V):
        p = v // Bc
        b = b0 + v - p * Bc
        for kk in range(L):
            o = off[kk + 1]
            for j in range(nl[kk]):
                u[p, b, o + j] = u3[kk, v, j]
                r[p, b, o + j] = r3[kk, v, j]
                acc[p, b, o + j] = a3[kk, v, j]
                S[p, b, o + j] = 0.0
            for m in range(ns_o[kk, v]):
                S[p, b, o + idx_o[kk, v, m]] = 1.0


@njit(parallel=True, cache=True)
def _phase_event(Ws, WTs, bs, off, enc, U_ptr, U_idx, sq, ptr, y, u, r, acc, S, T, t0, eps,
                 betas, theta, act_code, act_tab, act_lo, act_step, seed, learn, pairing,
                 wsched, signs, dWs, dbs, cvec, counts, out_counts, win_from, order, cptr,
                 first_draw, n_update_steps, srt, sst):
    """One phase in (at most) two parallel regions.

    1. Per thread chunk of images (chunk c: images ``order[cptr[c]:cptr[c+1]]``),
       one image at a time (its ``W[0]`` rows and its accumulators stay in L2): its
       input spikes (:func:`_chunk_input_spikes`), its layers step by step
       (:func:`_chunk_phase`, updates of ``W[k >= 1]`` and the biases into the
       image's own slot), and its input spikes grouped by pixel
       (:func:`_image_sort_input`).  An image touches only its own rows of every
       array, so no thread waits for another within the region.
    2. (learning) The input-layer rows ``dW[0][k] += sum of cvec rows`` per pixel,
       threads over contiguous pixel ranges of equal spike count
       (:func:`_pixel_update`): one ``dW[0]`` for the batch, no per-thread copy to
       reduce, and the same sums whatever the thread count.

    ``counts`` (B, L+1) per image; ``sq``, ``ptr``, ``srt``, ``sst`` per image."""
    B = u.shape[1]
    N = u.shape[2]
    L = off.shape[0] - 2
    th = np.float32(theta)
    epsf = np.float32(eps)
    n0 = off[1] - off[0]
    n_chunks = cptr.shape[0] - 1
    upd = learn and n_update_steps > 0
    for c in prange(n_chunks):
        for q in range(cptr[c], cptr[c + 1]):
            b = order[q]
            cnt = np.zeros(L + 1, np.int64)   # local: no shared cache line per step
            _chunk_input_spikes(b, b + 1, U_idx[U_ptr[b]:U_ptr[b + 1]], r, acc, S, T, t0,
                                enc[0], th, seed, first_draw, N, off[0], sq[b], ptr[b])
            _chunk_phase(b, b + 1, b, Ws, WTs, bs, off, enc, sq[b], ptr[b], y, u, r, acc, S,
                         T, t0, epsf, betas, th, act_code, act_tab, act_lo, act_step, seed,
                         learn, pairing, wsched, signs, dWs, dbs, cvec, cnt, out_counts,
                         win_from, first_draw)
            if upd:
                _image_sort_input(sq[b], ptr[b], n_update_steps, b, B, n0, srt[b], sst[b])
            for k in range(L + 1):
                counts[b, k] = cnt[k]
    if upd:
        kcut, mx = _pixel_ranges(sst, n0, n_chunks)
        n1 = cvec.shape[2]
        cv2 = cvec.reshape(cvec.shape[0] * B, n1)
        dW0 = dWs[0][0]
        for g in prange(n_chunks):
            rows = np.empty(mx, np.int64)
            tmp = np.empty(n1, np.float32)
            _pixel_update(dW0, cv2, srt, sst, kcut[g], kcut[g + 1], rows, tmp)


def phase_event(spec: PhaseSpec, W, b, st: PhaseState, y, T: int, t0: int, beta: float,
                seed: int, learn: bool, wsched, sign: float, dW_buf, db_buf, nz=None,
                work=None):
    """Same contract as :func:`phase_dense`, computed event by event (numba)."""
    counts, out_counts = phase_event_multi(spec, W, b, [st], y, T, t0, [beta], seed, learn,
                                           wsched, [sign], dW_buf, db_buf, nz, work)
    return counts, out_counts[0]


def phase_event_multi(spec: PhaseSpec, W, b, states, y, T: int, t0: int, betas, seed: int,
                      learn: bool, wsched, signs, dW_buf, db_buf, nz=None, work=None):
    """Several phases of the same batch that share one seed, run side by side.

    ``states[p]`` is advanced with nudging ``betas[p]`` and update sign
    ``signs[p]``; all replicas accumulate into the same buffers.  The result
    equals calling :func:`phase_event` once per replica with the same seed (up
    to float32 summation order, asserted in ``tests/test_eqspike_event.py``),
    but the input spikes, identical in all replicas because the input is
    clamped and the random numbers are keyed by (seed, image, step, pixel),
    are drawn once and their drive and update rows are computed once: the
    +beta / -beta pair of the rule with ``common_noise`` costs about 1.5
    phases instead of 2.  The replicas' input state must be identical (they are
    copies of one free-phase end state).  ``work``: an optional dict in which
    the scratch arrays are kept between calls.  Returns (counts (L+1,) summed
    over the replicas, out_counts (R, B, n_L)).

    One parallel region: threads over chunks of images balanced by input
    (:func:`balanced_chunks`), each thread taking its images one at a time
    through three stages: the input spikes of all steps (the input is clamped:
    they do not depend on the network), the layers step by step, the
    input-layer update rows (grouped by pixel).  Threads: ``eqspike/threads.py``.
    """
    off = spec.offsets
    L = len(spec.sizes) - 1
    R = len(states)
    if R < 1 or len(betas) != R or len(signs) != R:
        raise ValueError(f"need one beta and one sign per state: {R} states, "
                         f"{len(betas)} betas, {len(signs)} signs")
    B = states[0].u.shape[0]
    n0, n1 = int(spec.sizes[0]), int(spec.sizes[1])
    n_chunks = n_event_chunks(B)
    if learn and (dW_buf[0].shape[0] < 1 or any(a.shape[0] != B for a in dW_buf[1:] + db_buf)):
        raise ValueError("update buffers: need one slot for dW[0] and one per image (B = "
                         f"{B}) for the others, got {[a.shape[0] for a in dW_buf + db_buf]} "
                         "(event_batch.event_buffers)")
    if nz is None or len(nz[0]) != B + 1:   # per image
        nz = nonzero_lists(states[0].r[:, off[0]:off[1]], B)
    first = bool(np.isnan(states[0].S[0, 0]))
    if R == 1:   # views: the kernels write the state in place
        u, r, acc, S = (a[None] for a in (states[0].u, states[0].r, states[0].acc, states[0].S))
    else:
        u, r, acc, S = (np.stack([getattr(s, f) for s in states])
                        for f in ("u", "r", "acc", "S"))
    if first:
        S[...] = 0.0
    work = {} if work is None else work
    nU_max = int((nz[0][1:] - nz[0][:-1]).max()) if len(nz[1]) else 0
    cap = (T + 1) * max(nU_max, 1) + 1   # spike lists of one image
    sq = scratch(work, "sq", (B, cap), np.int32)
    ptr = scratch(work, "ptr", (B, T + 2), np.int64)
    if learn:
        cvec = scratch(work, "cvec", (T + 1, B, _pad16(n1)), np.float32)
        srt = scratch(work, "srt", (B, cap), np.int64)
        sst = scratch(work, "sst", (B, n0 + 1), np.int64)
    else:
        cvec = np.zeros((1, 1, 1), np.float32)
        srt = sst = np.zeros((1, 1), np.int64)
    W0 = np.ascontiguousarray(W[0], dtype=np.float32)
    Ws = (W0,) + tuple(np.ascontiguousarray(w, dtype=np.float32) for w in W[1:])
    # feedback rows W[k].T (k >= 1); the input layer gets no feedback
    WTs = (np.zeros((1, 1), np.float32),) + tuple(np.ascontiguousarray(w.T, dtype=np.float32)
                                                  for w in W[1:])
    bs = tuple(np.asarray(v, dtype=np.float32) for v in b)
    counts = np.zeros((B, L + 1), np.int64)
    out_counts = np.zeros((R, B, spec.sizes[-1]), np.int64)
    ws = np.zeros(max(T, 1), np.float32)
    ws[:T] = np.asarray(wsched[:T], np.float32) if learn else 0.0
    # images per thread chunk, balanced by their input (most of the work is per input spike)
    order, cptr = balanced_chunks(states[0].r[:, off[0]:off[1]].sum(axis=1), n_chunks)
    # S_0(t0+T) pairs with the last change only when the pairing looks ahead
    n_upd = 0 if not (learn and T > 0) else (T + 1 if spec.pairing != PAIRINGS["same_step"] else T)
    _phase_event(Ws, WTs, bs, off, np.asarray(spec.enc, np.int64), nz[0], nz[1], sq, ptr,
                 np.asarray(y, np.float32), u, r, acc, S, int(T), int(t0),
                 float(spec.eps), np.asarray(betas, np.float32), float(spec.theta),
                 int(spec.act_code), spec.act_tab, float(spec.act_lo), float(spec.act_step),
                 np.uint64(seed), bool(learn), int(spec.pairing), ws,
                 np.asarray(signs, np.float64), dW_buf, db_buf, cvec, counts, out_counts,
                 int(T - spec.readout_window), order, cptr, first, int(n_upd), srt, sst)
    if R > 1:
        for p, s in enumerate(states):
            s.u, s.r, s.acc, s.S = u[p], r[p], acc[p], S[p]
    return counts.sum(axis=0), out_counts


class PathChooser:
    """Chooses ``event`` or ``dense`` by timing (``compute="auto"``).

    The first call uses ``event`` (and pays its compile time); the next two
    time one batch on each path; the faster is kept from then on.
    """

    def __init__(self, mode: str = "auto"):
        self.mode = mode
        self.calls = 0
        self.times: dict[str, float] = {}
        self.chosen: str | None = None if mode == "auto" else mode

    def next_path(self) -> str:
        if self.chosen:
            return self.chosen
        return "event" if self.calls in (0, 1) else "dense"

    def record(self, path: str, seconds: float) -> None:
        self.calls += 1
        if self.chosen:
            return
        if self.calls >= 2:
            self.times[path] = seconds
        if "event" in self.times and "dense" in self.times:
            self.chosen = min(self.times, key=self.times.get)

    @staticmethod
    def clock() -> float:
        return time.perf_counter()
