"""Coincidence updates of chip mode: one pairing slot of one term of one layer.

:func:`_slot` is called by the phase loop of :mod:`eqspike.network.chip_kernel`
(whose module doc gives the arithmetic): the deciding neurons turn their
activity change into a pulse count (in-situ pulses), a number of register LSBs
(``residual``, B-bit fixed point) or a float increment (``residual_float``),
and every crossing line that spikes in the slot meets them; each coincidence
programs the device pair or adds to the synapse's register, whose full steps
become pulses.  The operation counters (``CNT_*``) are kept per weight layer.

The random stream is xorshift64* (``_xs``, ``_u01``), one state per kernel call.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_S12, _S25, _S27, _S11 = np.uint64(12), np.uint64(25), np.uint64(27), np.uint64(11)
_M3 = np.uint64(0x2545F4914F6CDD1D)
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


@njit(inline="always")
def _xs(s):
    """One xorshift64* state step (a scalar: no array argument, so no reference
    counting in the hot loops)."""
    s ^= s >> _S12
    s ^= s << _S25
    s ^= s >> _S27
    return s


@njit(inline="always")
def _u01(s):
    """The uniform in [0, 1) of the xorshift64* output for the stepped state ``s``."""
    return np.float64((s * _M3) >> _S11) * _INV53


@njit(cache=True)
def _slot(k, rev, a, dvals, n_dec, sidx, ssgn, n_sp, csk, th, qv, aidx, aq, pend, Wk, WTk, up, um,
          sp, sm, rq, rf, wsc, policy, reg_max, thr, lsb_per_step, K, lut_up, qlut, quant, c2c,
          state, cnt):
    """One pairing slot of one term of layer k: each deciding neuron j turns its signed
    change ``dvals[j]`` into an update (policy 0: a pulse count by stochastic rounding;
    1: LSBs by stochastic rounding; 2: float), which coincides with the spiking lines
    ``sidx[:n_sp]`` (sign ``ssgn``).  ``rev`` = 0: deciding neurons are columns.

    The random stream is held in a local scalar (``state[0]`` on entry and exit) and the
    pulse arithmetic is written out in the loop: helpers that take arrays made numba
    reference-count those arrays at every call (atomic increments, ~60 % of the time of
    a pulse; measured with perf).  Each row is settled in two passes: its coincidences
    (register adds without branches; the cells due a pulse listed in column order), then
    the listed pulses, so pulses and random numbers come in the same (row, column) order
    as one pass would give."""
    has_t = k >= 1
    cnt[k, CNT_DECISIONS] += n_dec
    n_act = 0
    lines = 0
    s = state[0]
    for j in range(n_dec):
        dj = dvals[j]
        x = a * csk * th * (dj if dj >= 0.0 else -dj)
        nq = 0
        if policy == 0 or policy == 1:
            # stochastic rounding floor(x + U), capped (as _stoch_count)
            cap = K if policy == 0 else reg_max
            xx = x if policy == 0 else x * lsb_per_step
            if xx <= 0.0:
                nq = 0
            elif xx >= cap:
                nq = cap
            else:
                s = _xs(s)
                nq = np.int64(xx + _u01(s))
                if nq > cap:
                    nq = cap
            if policy == 0:
                lines += nq
        if policy == 2:
            q = x
        else:
            q = np.float64(nq)
        if dj < 0.0:
            q = -q
        qv[j] = q
        if q != 0.0:
            n_act += 1
    if n_act == 0 or n_sp == 0:
        state[0] = s
        return
    if policy == 0:   # update pulses on the deciding lines; spikes on the crossing lines
        if rev == 0:
            cnt[k, CNT_COL_LINE] += lines
            cnt[k, CNT_ROW_LINE] += n_sp
        else:
            cnt[k, CNT_ROW_LINE] += lines
            cnt[k, CNT_COL_LINE] += n_sp
    # compact the deciding neurons with an update; then rows outer, columns inner (row-major)
    m_act = 0
    for j in range(n_dec):
        if qv[j] != 0.0:
            aidx[m_act] = j
            aq[m_act] = qv[j]
            m_act += 1
    cnt[k, CNT_COINCIDENCES] += m_act * n_sp
    if rev == 0:
        n_rows, n_cols = n_sp, m_act
    else:
        n_rows, n_cols = m_act, n_sp
    n_sat = 0
    n_p = 0
    n_m = 0
    n_line = 0
    g_sum = 0.0
    nl = lut_up.shape[0]
    nq1 = qlut.shape[0] - 1
    rj = sidx if rev == 0 else aidx     # the rows' line indices and factors
    rfac = ssgn if rev == 0 else aq
    cj = aidx if rev == 0 else sidx     # the columns'
    cfac = aq if rev == 0 else ssgn
    reg_min = -reg_max - 1
    for a_r in range(n_rows):
        ii = rj[a_r]
        fr = rfac[a_r]
        # pass 1: the row's coincidences (registers updated; the cells to pulse, with
        # their signed pulse count, listed in column order in ``pend``)
        npd = 0
        if policy == 0:
            for a_c in range(n_cols):
                sn = np.int64(fr * cfac[a_c])
                pend[0, npd] = cj[a_c]
                pend[1, npd] = sn
                npd += sn != 0
        elif policy == 1:
            # residual register: read, add, saturate, compare (no branch: the rare
            # full steps are listed and settled after the row)
            rqi = rq[ii]
            for a_c in range(n_cols):
                jj = cj[a_c]
                v = np.int64(rqi[jj]) + np.int64(fr * cfac[a_c])
                vc = min(max(v, reg_min), reg_max)
                n_sat += vc != v
                rqi[jj] = np.int32(vc)
                pend[0, npd] = jj
                npd += (vc >= thr) | (vc <= -thr)
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
            for _ in range(n):
                t = min(max(u, 0.0), 1.0) * (nl - 1)
                ix = min(np.int64(t), nl - 2)
                f = t - ix
                d = lut_up[ix] + f * (lut_up[ix + 1] - lut_up[ix])
                if c2c > 0.0:
                    s = _xs(s)
                    u1 = _u01(s)
                    s = _xs(s)
                    u2 = _u01(s)
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
    state[0] = s
    cnt[k, CNT_PULSE_P] += n_p
    cnt[k, CNT_PULSE_M] += n_m
    cnt[k, CNT_G_AT_PULSE] += g_sum
    if policy != 0:   # each programmed cell is reached through its row and its column
        cnt[k, CNT_ROW_LINE] += n_line
        cnt[k, CNT_COL_LINE] += n_line
        cnt[k, CNT_RMW] += n_rows * n_cols
        cnt[k, CNT_SATURATED] += n_sat
