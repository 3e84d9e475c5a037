"""Coincidence updates of chip mode: a neuron's decision, and the pulses of one term.

Called by the phase loop of :mod:`eqspike.network.chip_kernel` (whose module
doc gives the arithmetic) in two stages:

- :func:`decide_share`: a deciding neuron turns its activity change into an update
  (in-situ pulses: a pulse count; ``residual``: a number of register LSBs,
  B-bit fixed point; ``residual_float``: a float increment), by stochastic
  rounding;
- :func:`apply_term`: every crossing line that spikes meets the deciding
  lines' updates; each coincidence programs the device pair or adds to the
  synapse's register, whose full steps become pulses.

**Random numbers are counter-based**: every draw is a hash of the example's
learning seed and the draw's coordinates (phase, step, layer, slot, term,
neuron; for c2c noise also row, column and pulse number), :func:`u53`.  So a
result does not depend on the order in which draws are made, and the kernel
gives the same weights for any number of threads.

The operation counters (``CNT_*``) are kept per worker thread and weight layer.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ONE = np.uint64(1)
_INV53 = 1.0 / 9007199254740992.0

#: counter columns (per weight layer)
CNT_PULSE_P = 0       # programming pulses on G+ devices
CNT_PULSE_M = 1       # programming pulses on G- devices
CNT_ROW_LINE = 2      # row-line update pulses driven (one per row per slot with a pulse)
CNT_COL_LINE = 3      # column-line update pulses driven
CNT_RMW = 4           # residual register read-modify-writes (residual policies)
CNT_SATURATED = 5     # register adds that saturated (fixed point)
CNT_G_AT_PULSE = 6    # sum of the pulsed device's s*u before the pulse (mean G at a pulse)
CNT_DECISIONS = 7     # neuron update decisions (neuron x step x slot)
CNT_COINCIDENCES = 8  # (row, column) coincidences that moved a device or a register
N_COUNTERS = 9
COUNTER_NAMES = ("pulses_p", "pulses_m", "row_line_pulses", "col_line_pulses", "register_rmw",
                 "register_saturations", "g_at_pulse_sum", "neuron_decisions", "coincidences")

POLICY_CODES = {"pulses": 0, "residual": 1, "residual_float": 2}
#: hash-stream tags of the two kinds of draw (decisions, c2c noise)
TAG_DECIDE = np.uint64(0xD1B54A32D192ED03)
TAG_C2C = np.uint64(0x8CB92BA72F3D8DD7)


@njit(inline="always")
def mix_seed(seed, tag):
    """The seed of one hash stream of an example (splitmix64 of ``seed ^ tag``)."""
    z = (seed ^ tag) + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always")
def u53(seed, counter):
    """Uniform in [0, 1), 53 bits, of draw number ``counter`` of stream ``seed``
    (splitmix64 finaliser of ``seed + golden (counter + 1)``)."""
    z = seed + _GOLDEN * (counter + _ONE)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _INV53


@njit(inline="always")
def decide_share(dr, tr, q, f_dr, f_tr, w, scale, policy, K, reg_max, lsb_per_step, seed, key):
    """The updates ``q[j]`` of a share of deciding neurons, from their activity changes:
    ``d_j = w (f_dr dr[j] + f_tr tr[j])`` (this phase's drho, the +beta phase's
    register), expected size ``x_j = scale |d_j|`` (nominal device steps), sign of
    ``d_j``.  Policy 0: a pulse count ``floor(x + U)`` capped at ``K``; 1: register
    LSBs ``floor(x lsb_per_step + U)`` capped at ``reg_max``; 2: ``x`` itself.  ``U`` is
    draw ``key + j`` of stream ``seed`` (stochastic rounding).  Returns (neurons with a
    non-zero update, pulse or LSB count).

    One loop without branches over the share (``floor(min(x, cap) + U)`` is 0 for x =
    0 and ``cap`` for x >= cap, so no case needs its own branch)."""
    n = q.shape[0]
    n_act = 0
    lines = 0
    if policy == 2:
        for j in range(n):
            d = w * (f_dr * np.float64(dr[j]) + f_tr * np.float64(tr[j]))
            x = scale * abs(d)
            q[j] = x if d >= 0.0 else -x
            n_act += x != 0.0
        return n_act, lines
    cap = K if policy == 0 else reg_max
    capf = np.float64(cap)
    lps = 1.0 if policy == 0 else lsb_per_step
    for j in range(n):
        d = w * (f_dr * np.float64(dr[j]) + f_tr * np.float64(tr[j]))
        xx = scale * abs(d) * lps
        nq = min(np.int64(min(xx, capf) + u53(seed, key + np.uint64(j))), cap)
        q[j] = np.float64(nq) if d >= 0.0 else -np.float64(nq)
        n_act += nq != 0
        lines += nq
    return n_act, lines


@njit(cache=True, nogil=True)
def apply_term(k, rj, rfac, n_rows, cj, cfac, n_cols, pend, Wk, WTk, up, um, sp, sm, rq, rf,
               wsc, policy, reg_max, thr, K, lut_up, qlut, quant, c2c, seed, ctx, cnt):
    """The coincidences of rows ``rj[:n_rows]`` (factors ``rfac``) with columns
    ``cj[:n_cols]`` (factors ``cfac``) on layer k: a coincidence carries ``rfac *
    cfac`` (one side is the deciding neurons' update, the other the spiking lines'
    sign).  Policy 0 pulses at once; 1 / 2 add to the register and pulse its full
    steps.  ``ctx`` numbers this term within the example (the c2c draws' coordinates).

    Each row is settled in two passes: its coincidences (register adds without
    branches; the cells due a pulse listed in column order in ``pend``), then the
    listed pulses.  Helpers taking arrays are avoided in the loops (numba reference
    counts them at every call, measured: ~60 % of the time of a pulse)."""
    if n_rows == 0 or n_cols == 0:
        return
    has_t = k >= 1
    n_sat = 0
    n_p = 0
    n_m = 0
    n_line = 0
    g_sum = 0.0
    nl = lut_up.shape[0]
    nq1 = qlut.shape[0] - 1
    reg_min = -reg_max - 1
    NR = np.uint64(Wk.shape[0])
    NC = np.uint64(Wk.shape[1])
    K2 = np.uint64(2 * K)
    base = np.uint64(ctx) * NR
    ci = np.empty(n_cols, np.int64)   # fixed point: the column factors as integers
    thm1 = np.int64(thr) - 1
    due = np.uint64(2 * np.int64(thr) - 1)
    if policy == 1:
        for a_c in range(n_cols):
            ci[a_c] = np.int64(cfac[a_c])
    for a_r in range(n_rows):
        ii = rj[a_r]
        fr = rfac[a_r]
        npd = 0
        if policy == 0:
            for a_c in range(n_cols):
                sn = np.int64(fr * cfac[a_c])
                pend[0, npd] = cj[a_c]
                pend[1, npd] = sn
                npd += sn != 0
        elif policy == 1:
            # residual register: read, add, saturate, compare (no branch: the rare full
            # steps are listed and settled after the row)
            # (the factors are whole numbers here: the product is the integer one; an
            # unsigned index spares numba's negative-index check in the loop)
            # (|vc| >= thr as one unsigned compare: vc + thr - 1 outside [0, 2 thr - 2];
            # the two signed compares were measured 1.5x slower in this loop)
            rqi = rq[ii]
            fi = np.int64(fr)
            p0 = pend[0]
            upd = np.uint64(0)
            for a_c in range(n_cols):
                jj = np.uint64(cj[a_c])
                v = np.int64(rqi[jj]) + fi * ci[a_c]
                vc = min(max(v, reg_min), reg_max)
                n_sat += vc != v
                rqi[jj] = np.int32(vc)
                p0[upd] = np.int64(jj)
                upd += np.uint64(np.uint64(vc + thm1) >= due)
            npd = np.int64(upd)
            for p in range(npd):
                jj = pend[0, p]
                v = np.int64(rqi[jj])
                pos = v >= 0
                n = min((v if pos else -v) // thr, K)
                rqi[jj] = np.int32(v - n * thr if pos else v + n * thr)
                pend[1, p] = n if pos else -n
        else:
            for a_c in range(n_cols):
                jj = cj[a_c]
                fv = np.float64(rf[ii, jj]) + fr * cfac[a_c]
                if fv >= 1.0 or fv <= -1.0:
                    pos = fv >= 0.0
                    n = min(np.int64(fv if pos else -fv), K)
                    fv = fv - n if pos else fv + n
                    pend[0, npd] = jj
                    pend[1, npd] = n if pos else -n
                    npd += 1
                rf[ii, jj] = np.float32(fv)
        # pass 2: |n| pulses on the G+ (n > 0) or G- device of each listed pair: the mean
        # step at the present state, c2c noise, the bounds [0, 1], the level grid; W rewritten
        row_key = (base + np.uint64(ii)) * NC
        for p in range(npd):
            jj = pend[0, p]
            sn = pend[1, p]
            pos = sn > 0
            n = sn if pos else -sn
            if pos:
                g_sum += n * sp[ii, jj] * up[ii, jj]
                u = np.float64(up[ii, jj])
            else:
                g_sum += n * sm[ii, jj] * um[ii, jj]
                u = np.float64(um[ii, jj])
            key = (row_key + np.uint64(jj)) * K2
            for q in range(n):
                t = min(max(u, 0.0), 1.0) * (nl - 1)
                ix = min(np.int64(t), nl - 2)
                f = t - ix
                d = lut_up[ix] + f * (lut_up[ix + 1] - lut_up[ix])
                if c2c > 0.0:
                    kq = key + np.uint64(2 * q)
                    u1 = u53(seed, kq)
                    u2 = u53(seed, kq + _ONE)
                    d += c2c * (np.sqrt(-2.0 * np.log(1.0 - u1))
                                * np.cos(6.283185307179586 * u2))
                u = min(max(u + d, 0.0), 1.0)
                if quant:
                    u = qlut[np.int64(u * nq1 + 0.5)]
            if pos:
                up[ii, jj] = np.float32(u)
                n_p += n
            else:
                um[ii, jj] = np.float32(u)
                n_m += n
            w = np.float32((sp[ii, jj] * up[ii, jj] - sm[ii, jj] * um[ii, jj]) * wsc)
            Wk[ii, jj] = w
            if has_t:
                WTk[jj, ii] = w
            n_line += n
    cnt[k, CNT_PULSE_P] += n_p
    cnt[k, CNT_PULSE_M] += n_m
    cnt[k, CNT_G_AT_PULSE] += g_sum
    cnt[k, CNT_COINCIDENCES] += n_rows * n_cols
    if policy != 0:   # each programmed cell is reached through its row and its column
        cnt[k, CNT_ROW_LINE] += n_line
        cnt[k, CNT_COL_LINE] += n_line
        cnt[k, CNT_RMW] += n_rows * n_cols
        cnt[k, CNT_SATURATED] += n_sat
