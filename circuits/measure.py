"""Spike timing and supply energy from ngspice waveforms (pure numpy functions).

Method (shared/docs/ngspice-findings.md, "Measuring"): integrate the supply
power ``P = -V * I`` (ngspice's branch current is positive into the +
terminal) with the trapezoidal rule on the simulator's own time points;
find threshold crossings of the spike output by linear interpolation; drop
the first ``n_drop`` spikes (start-up from a discharged membrane); measure
rate and energy over the whole periods between the first and last kept
crossings; subtract the standby (zero-input) power over that window to get
the dynamic energy per spike.
"""
from __future__ import annotations

import numpy as np

__all__ = ["crossings", "cumulative_energy", "energy_between", "spike_metrics"]


def crossings(t: np.ndarray, v: np.ndarray, level: float, rising: bool = True) -> np.ndarray:
    """Times (s) where ``v`` crosses ``level`` (rising or falling), linearly interpolated."""
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64) - level
    if rising:
        idx = np.nonzero((v[:-1] < 0) & (v[1:] >= 0))[0]
    else:
        idx = np.nonzero((v[:-1] > 0) & (v[1:] <= 0))[0]
    v0, v1 = v[idx], v[idx + 1]
    frac = np.where(v1 != v0, -v0 / np.where(v1 != v0, v1 - v0, 1.0), 0.0)
    return t[idx] + frac * (t[idx + 1] - t[idx])


def cumulative_energy(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Cumulative trapezoidal integral of power ``p`` (W) over ``t`` (s): energy (J) at each point."""
    t = np.asarray(t, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    out = np.zeros_like(t)
    out[1:] = np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(t))
    return out


def energy_between(t: np.ndarray, p: np.ndarray, t0: float, t1: float) -> float:
    """Energy (J) delivered between ``t0`` and ``t1`` (cumulative integral, interpolated at the ends)."""
    e = cumulative_energy(t, p)
    return float(np.interp(t1, t, e) - np.interp(t0, t, e))


def spike_metrics(t: np.ndarray, v_out: np.ndarray, v_supply: np.ndarray, i_supply: np.ndarray,
                  level_V: float, *, n_drop: int = 2, standby_power_W: float = 0.0) -> dict:
    """Rate and energy per spike from one transient.

    Returns a dict: ``n_spikes`` (all crossings), ``n_periods`` (whole
    periods measured), ``rate_Hz``, ``isi_cv``, ``window_s``,
    ``energy_window_J`` (supply energy over the window), ``energy_per_spike_J``
    (dynamic: standby power subtracted), ``energy_per_spike_gross_J``,
    ``v_end_V`` (output at the end, to check it sits near a rail).
    With fewer than two kept crossings the rate and energies are 0/NaN.
    """
    t = np.asarray(t, dtype=np.float64)
    p = -np.asarray(v_supply, dtype=np.float64) * np.asarray(i_supply, dtype=np.float64)
    tc = crossings(t, v_out, level_V, rising=True)
    kept = tc[n_drop:] if len(tc) > n_drop else np.array([])
    out = {"n_spikes": int(len(tc)), "n_periods": 0, "rate_Hz": 0.0, "isi_cv": float("nan"),
           "window_s": 0.0, "energy_window_J": float("nan"), "energy_per_spike_J": float("nan"),
           "energy_per_spike_gross_J": float("nan"), "v_end_V": float(np.asarray(v_out)[-1]),
           "first_spike_s": float(tc[0]) if len(tc) else float("nan")}
    if len(kept) < 2:
        return out
    n = len(kept) - 1
    win = float(kept[-1] - kept[0])
    e = energy_between(t, p, kept[0], kept[-1])
    isi = np.diff(kept)
    out.update(n_periods=n, rate_Hz=n / win, window_s=win, energy_window_J=e,
               energy_per_spike_gross_J=e / n, energy_per_spike_J=(e - standby_power_W * win) / n,
               isi_cv=float(np.std(isi) / np.mean(isi)) if n > 1 else 0.0)
    return out
