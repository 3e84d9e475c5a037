"""The reference paths of the spike-driven phases, against which the event kernels are tested.

- :func:`paired_spikes` and :func:`spike_driven_update`: the update as the rule defines it
  (used by the dense path and by the STDP protocol, ``network/stdp.py``);
- :func:`phase_dense`: one phase in plain numpy over the whole batch (``compute="dense"``;
  the event kernels in ``network/event.py`` must give the same result to float rounding);
- :func:`phase_rate`: the rate-based C-EP update of the same leaky network.

Moved out of ``network/event.py`` (which keeps the compiled event kernels, their chunks and
threads) without change.
"""
from __future__ import annotations

import numpy as np

from eqspike.network.event import PhaseSpec, PhaseState
from eqspike.network.spiking import encode_step, membrane_step

# ---------------------------------------------------------------------------- the update
def paired_spikes(S_old: np.ndarray, S_new: np.ndarray, pairing: int) -> np.ndarray:
    """The spikes a state change ``rho(t+1) - rho(t)`` is paired with.

    ``S_old`` = S(t) (the spikes that drove the change: ``same_step``),
    ``S_new`` = S(t+1) (emitted just after it: ``delayed``), or their mean
    (``both``).  Used by the dense path and the STDP protocol; the event
    kernel implements the same selection per spike.
    """
    if pairing == 0:
        return S_old
    if pairing == 1:
        return S_new
    return 0.5 * (S_old + S_new)


def spike_driven_update(P_pre: np.ndarray, dR_post: np.ndarray, theta: float,
                        P_post: np.ndarray | None = None,
                        dR_pre: np.ndarray | None = None) -> np.ndarray:
    """``theta * (P_pre^T dR_post + dR_pre^T P_post)`` over stacked (steps x images) rows.

    Rows of ``P_*`` are weighted paired spikes (zero rows contribute nothing:
    the update happens only at spike events); ``dR_*`` the per-step
    activation changes.  The reverse term is skipped for a clamped layer.
    """
    upd = P_pre.T @ dR_post
    if P_post is not None and dR_pre is not None:
        upd += dR_pre.T @ P_post
    return np.float32(theta) * upd


# ---------------------------------------------------------------------------- dense path
def _draw_spikes(spec, st, t, seed, b_idx, layers_rate):
    off = spec.offsets
    N = int(off[-1])
    out = np.zeros_like(st.r)
    for k in range(len(spec.sizes)):
        sl = slice(off[k], off[k + 1])
        g = np.arange(off[k], off[k + 1], dtype=np.uint64)[None, :]
        acc = st.acc[:, sl]
        out[:, sl] = encode_step(layers_rate[:, sl], acc, spec.enc[k], spec.theta, seed, t,
                                 b_idx, g, N)
        st.acc[:, sl] = acc
    return out


def phase_dense(spec: PhaseSpec, W, b, st: PhaseState, y, T: int, t0: int, beta: float,
                seed: int, learn: bool, wsched, sign: float, dW_buf, db_buf):
    """One phase with numpy/BLAS; see module doc. Returns (counts (L+1,), out_counts (B, n_L))."""
    off = spec.offsets
    L = len(spec.sizes) - 1
    B = st.u.shape[0]
    th = np.float32(spec.theta)
    b_idx = np.arange(B, dtype=np.uint64)[:, None]
    if np.isnan(st.S[0, 0]):
        st.S = _draw_spikes(spec, st, t0, seed, b_idx, st.r)
    counts = np.zeros(L + 1, np.int64)
    out_counts = np.zeros((B, spec.sizes[-1]), np.int64)
    P_hist, dR_hist = [], []
    for i in range(T):
        t = t0 + i
        S = st.S
        for k in range(L + 1):
            counts[k] += int(S[:, off[k]:off[k + 1]].sum())
        if i >= T - spec.readout_window:
            out_counts += S[:, off[L]:off[L + 1]].astype(np.int64)
        r_old = st.r.copy()
        drives = []
        for k in range(1, L + 1):
            d = th * (S[:, off[k - 1]:off[k]] @ W[k - 1]) + b[k - 1]
            if k < L:
                d += th * (S[:, off[k + 1]:off[k + 2]] @ W[k].T)
            else:
                d += np.float32(beta) * (y - r_old[:, off[L]:off[L + 1]])
            drives.append(d)
        for k in range(1, L + 1):
            sl = slice(off[k], off[k + 1])
            uk = st.u[:, sl]
            membrane_step(uk, drives[k - 1], spec.eps)
            st.u[:, sl] = uk
            st.r[:, sl] = spec.act_fn(uk.copy())
        S_new = _draw_spikes(spec, st, t + 1, seed, b_idx, st.r)
        if learn:
            P = paired_spikes(S, S_new, spec.pairing)
            P_hist.append(P * np.float32(wsched[i] * sign))
            dR_hist.append(st.r - r_old)
        st.S = S_new
    if learn and T > 0:
        P = np.concatenate(P_hist, axis=0)    # (T*B, N), weighted
        dR = np.concatenate(dR_hist, axis=0)  # (T*B, N)
        w_col = np.repeat(np.asarray(wsched[:T], np.float32) * np.float32(sign), B)[:, None]
        for k in range(L):
            pre, post = slice(off[k], off[k + 1]), slice(off[k + 1], off[k + 2])
            if k >= 1:
                upd = spike_driven_update(P[:, pre], dR[:, post], th, P[:, post], dR[:, pre])
            else:  # input rates are clamped: d rho_0 = 0
                upd = spike_driven_update(P[:, pre], dR[:, post], th)
            dW_buf[k][0] += upd
            db_buf[k][0] += (dR[:, post] * w_col).sum(axis=0)
    return counts, out_counts


# ---------------------------------------------------------------------------- rate reference
def phase_rate(spec: PhaseSpec, W, b, u0: np.ndarray, x: np.ndarray, y, T: int, beta: float,
               wsched) -> tuple[list, list, np.ndarray]:
    """Rate-based C-EP update of the same leaky network (the reference of the rule).

    Runs ``u(t+1) = (1-eps) u + eps (rho_{k-1} W + rho_{k+1} W^T + b [+ beta (y - rho_L)])``
    with activations instead of spikes from membranes ``u0`` (B, N) and returns
    the C-EP increments summed with the averaging weights,
    ``sum_t w(t) [ (rho_k^T rho_{k+1})(t+1) - (rho_k^T rho_{k+1})(t) ]`` per layer
    (summed over the batch, not scaled by lr or beta), the bias increments and the
    final membranes.
    """
    off = spec.offsets
    L = len(spec.sizes) - 1
    u = u0.copy()
    r = np.empty_like(u)
    r[:, off[0]:off[1]] = x
    for k in range(1, L + 1):
        r[:, off[k]:off[k + 1]] = spec.act_fn(u[:, off[k]:off[k + 1]].copy())
    dW = [np.zeros((a, c), np.float64) for a, c in zip(spec.sizes[:-1], spec.sizes[1:])]
    db = [np.zeros(c, np.float64) for c in spec.sizes[1:]]
    for i in range(T):
        r_old = r.copy()
        for k in range(1, L + 1):
            d = r_old[:, off[k - 1]:off[k]] @ W[k - 1] + b[k - 1]
            if k < L:
                d += r_old[:, off[k + 1]:off[k + 2]] @ W[k].T
            else:
                d += np.float32(beta) * (y - r_old[:, off[L]:off[L + 1]])
            uk = u[:, off[k]:off[k + 1]]
            membrane_step(uk, d, spec.eps)
            r[:, off[k]:off[k + 1]] = spec.act_fn(uk.copy())
        for k in range(L):
            pre, post = slice(off[k], off[k + 1]), slice(off[k + 1], off[k + 2])
            dW[k] += wsched[i] * (r[:, pre].T.astype(np.float64) @ r[:, post]
                                  - r_old[:, pre].T.astype(np.float64) @ r_old[:, post])
            db[k] += wsched[i] * (r[:, post] - r_old[:, post]).sum(axis=0)
    return dW, db, u
