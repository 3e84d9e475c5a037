"""Compiled (numba) pulse-count kernel of :mod:`eqspike.network.synapses`.

One pass over the synapses of a layer computes, for the ``potentiate``
scheme, ``x = |dW| / step`` of the device to be pulsed, the pulse count of
the policy and the list of synapses that get pulses, without the
temporaries of the numpy path (the same arithmetic as
:func:`eqspike.network.synapses.pulse_counts`).  Stochastic rounding uses a
xorshift64* stream started from ``seed`` (splitmix64-scrambled), so the
result depends only on the seed drawn from the backend's generator.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_S12, _S25 = np.uint64(12), np.uint64(25)
_M3 = np.uint64(0x2545F4914F6CDD1D)  # xorshift64* multiplier

POLICY_CODES = {"sign": 0, "round": 1, "stochastic": 2, "accumulate": 3}


@njit(cache=True)
def count_potentiate(dw, inv_p, inv_m, policy, max_pulses, thr, seed, idx_out, n_out,
                     resid, pos_out):
    """Pulsed synapses (``idx_out[:m]``), their counts (``n_out[:m]``) and directions
    (``pos_out[:m]``: 1 = the weight goes up, i.e. G+ is potentiated); returns m.

    dW > 0 uses ``inv_p`` (1 / weight step of G+), dW < 0 ``inv_m``.  Policy
    ``accumulate`` (code 3) adds dW to the residual ``resid`` first, pulses
    ``floor(|resid| / step)`` times in the residual's direction and subtracts
    the nominal change of those pulses from ``resid`` (in place).
    """
    m = 0
    K = np.float64(max_pulses)
    state = np.uint64(seed)
    state = (state ^ (state >> _S30)) * _M1 + _GOLDEN
    if state == np.uint64(0):
        state = _GOLDEN
    for i in range(dw.size):
        d = np.float64(dw[i])
        if policy == 3:
            d += np.float64(resid[i])
        # branch-free (the sign of dW is random: a branch would mispredict half the time)
        x = max(d, 0.0) * inv_p[i] + max(-d, 0.0) * inv_m[i]
        if policy == 0:
            n = 1 if (x >= thr and x > 0.0) else 0
        else:
            if x > K:
                x = K
            if policy == 1:
                n = np.int64(x + 0.5)
            elif policy == 3:
                n = np.int64(x)
                if n > max_pulses:
                    n = max_pulses
                if n > 0:   # the residual keeps what the pulses do not carry
                    step = 1.0 / (inv_p[i] if d > 0.0 else inv_m[i])
                    resid[i] = np.float32(d - n * step if d > 0.0 else d + n * step)
                else:
                    resid[i] = np.float32(d)
            else:
                state ^= state >> _S12
                state ^= state << _S25
                state ^= state >> _S27
                u = np.float64((state * _M3) >> _S11) * _INV53
                n = np.int64(x + u)
            if n > max_pulses:
                n = max_pulses
        if n > 0:
            idx_out[m] = i
            n_out[m] = n
            pos_out[m] = 1 if d > 0.0 else 0
            m += 1
    return m


@njit(parallel=True, cache=True)
def count_accumulate(dw, inv_p, inv_m, max_pulses, n_chunks, idx_out, n_out, resid, pos_out):
    """:func:`count_potentiate` with the ``accumulate`` policy (code 3), threads over
    chunks of synapses: the policy draws no random numbers, so the result is
    exactly the sequential one (same order of ``idx_out``).  Returns m."""
    N = dw.size
    ms = np.zeros(n_chunks, np.int64)
    for c in prange(n_chunks):
        i0 = (c * N) // n_chunks
        i1 = ((c + 1) * N) // n_chunks
        m = i0   # each chunk first writes into its own slice [i0, i1)
        for i in range(i0, i1):
            d = np.float64(dw[i]) + np.float64(resid[i])
            x = max(d, 0.0) * inv_p[i] + max(-d, 0.0) * inv_m[i]
            if x > max_pulses:
                x = np.float64(max_pulses)
            n = np.int64(x)
            if n > 0:
                step = 1.0 / (inv_p[i] if d > 0.0 else inv_m[i])
                resid[i] = np.float32(d - n * step if d > 0.0 else d + n * step)
                idx_out[m] = i
                n_out[m] = n
                pos_out[m] = 1 if d > 0.0 else 0
                m += 1
            else:
                resid[i] = np.float32(d)
        ms[c] = m - i0
    # compact the chunks' lists to the front, in order (moves only towards lower indices)
    m = 0
    for c in range(n_chunks):
        i0 = (c * N) // n_chunks
        for k in range(ms[c]):
            idx_out[m] = idx_out[i0 + k]
            n_out[m] = n_out[i0 + k]
            pos_out[m] = pos_out[i0 + k]
            m += 1
    return m


@njit(parallel=True, cache=True)
def count_accumulate_rows(dw, inv_p, inv_m, max_pulses, n_chunks, idx_out, n_out, resid,
                          pos_out, carry, n_cols):
    """:func:`count_accumulate` over a layer of rows of ``n_cols`` synapses, visiting only
    the rows that can pulse: a row whose ``dW`` is all zero and whose ``carry`` flag is
    clear is skipped (its residuals stay as they are and it gets no pulse, exactly as
    the full pass would give).  ``carry[row]`` is set when the row got a pulse (its
    steps change, so a residual below one step may no longer be) and cleared when it
    got none; the caller sets it where the devices change otherwise (refresh, load).
    At batch 20 the rows of the ~360 of 784 pixels that are zero in every image are
    skipped, at batch 1 ~630.  Threads over chunks of rows; same order of ``idx_out``
    as the sequential pass.  Returns m."""
    N = dw.size
    R = N // n_cols
    ms = np.zeros(n_chunks, np.int64)
    for c in prange(n_chunks):
        r0 = (c * R) // n_chunks
        r1 = ((c + 1) * R) // n_chunks
        i0 = r0 * n_cols
        m = i0   # each chunk first writes into its own slice
        for row in range(r0, r1):
            a = row * n_cols
            if not carry[row]:
                active = False
                for j in range(n_cols):
                    if dw[a + j] != 0.0:
                        active = True
                        break
                if not active:
                    continue
            pulsed = False
            for i in range(a, a + n_cols):
                d = np.float64(dw[i]) + np.float64(resid[i])
                x = max(d, 0.0) * inv_p[i] + max(-d, 0.0) * inv_m[i]
                if x > max_pulses:
                    x = np.float64(max_pulses)
                n = np.int64(x)
                if n > 0:
                    step = 1.0 / (inv_p[i] if d > 0.0 else inv_m[i])
                    resid[i] = np.float32(d - n * step if d > 0.0 else d + n * step)
                    idx_out[m] = i
                    n_out[m] = n
                    pos_out[m] = 1 if d > 0.0 else 0
                    m += 1
                    pulsed = True
                else:
                    resid[i] = np.float32(d)
            carry[row] = pulsed
        ms[c] = m - i0
    m = 0
    for c in range(n_chunks):
        i0 = ((c * R) // n_chunks) * n_cols
        for k in range(ms[c]):
            idx_out[m] = idx_out[i0 + k]
            n_out[m] = n_out[i0 + k]
            pos_out[m] = pos_out[i0 + k]
            m += 1
    return m
