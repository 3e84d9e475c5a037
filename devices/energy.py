"""Write energy per pulse, integrated on ngspice's own time points.

E_k = integral over pulse k's write window of sum_terminals V(t) I(t) dt on
the simulator's time points (the PWL breakpoints put points exactly on the
window edges).  No formula: what the source delivered.

Quadrature.  ngspice's implicit integration (gear/BE) returns at time point
t_n the current *over the step* (t_{n-1}, t_n]: where the drive has a corner
(the end of a ramp) the current jumps within one step, and the plain
trapezoid of V*I then books half a step of ramp current at the corner
voltage.  For a pure gate capacitance (no dissipation, true energy ~0) we
measured that error at 2e-16 J per pulse with 12.5 ns maximum steps, 1e-16 J
at 2 ns and 4e-17 J at 0.5 ns (O(h), FeFET model with Pr = 0): as large as
the FeFET's switching energy.  The default ``rule="step"`` pairs each step's
current I_n with the step's mean voltage (V_{n-1} + V_n)/2:
E = sum_n I_n (V_{n-1} + V_n)/2 (t_n - t_{n-1}), which is exact for a
capacitor driven by piecewise-linear V whatever the step, and second-order
like the trapezoid elsewhere.  ``rule="trapezoid"`` is kept for comparison
(``benchmarks/results/devices.md``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["window_integrals", "write_energies", "energy_table", "energy_vs_g_table"]


def window_integrals(t: np.ndarray, y: np.ndarray, starts: Sequence[float],
                     ends: Sequence[float]) -> np.ndarray:
    """Trapezoid integral of ``y(t)`` over each ``[start, end]`` window.

    Uses the time points inside the window plus linearly interpolated end
    points (exact when the ends are simulator points).  ``y`` may be 2-D
    (instances x time); returns (instances x windows) then.
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    squeeze = y.ndim == 1
    y2 = np.atleast_2d(y)
    # cumulative trapezoid, then interpolate at the window edges
    cum = np.zeros_like(y2)
    cum[:, 1:] = np.cumsum(0.5 * (y2[:, 1:] + y2[:, :-1]) * np.diff(t)[None, :], axis=1)
    s = np.asarray(starts, dtype=np.float64)
    e = np.asarray(ends, dtype=np.float64)
    out = np.empty((y2.shape[0], s.size))
    for k in range(y2.shape[0]):
        out[k] = np.interp(e, t, cum[k]) - np.interp(s, t, cum[k])
    return out[0] if squeeze else out


def write_energies(t, v, i, starts, ends, v2=None, i2=None, rule: str = "step") -> np.ndarray:
    """Energy (J) delivered in each write window: integral of v*i (+ v2*i2).

    ``i`` is the current *into* the device terminal at voltage ``v`` (for a
    sense source placed in series, its ``#branch`` vector).  ``rule``:
    ``"step"`` (default, see the module doc) or ``"trapezoid"``.
    """
    if rule == "trapezoid":
        p = np.asarray(v) * np.asarray(i)
        if v2 is not None and i2 is not None:
            p = p + np.asarray(v2) * np.asarray(i2)
        return window_integrals(t, p, starts, ends)
    if rule != "step":
        raise ValueError(f"rule {rule!r}: use 'step' or 'trapezoid'")
    t = np.asarray(t, dtype=np.float64)
    dt = np.diff(t)

    def step_energy(v, i):
        v = np.asarray(v, dtype=np.float64)
        i = np.asarray(i, dtype=np.float64)
        return 0.5 * (v[1:] + v[:-1]) * i[1:] * dt

    de = step_energy(v, i)
    if v2 is not None and i2 is not None:
        de = de + step_energy(v2, i2)
    cum = np.r_[0.0, np.cumsum(de)]
    return np.interp(np.asarray(ends, float), t, cum) - np.interp(np.asarray(starts, float), t, cum)


def energy_table(energies_J: np.ndarray, amplitudes_V: np.ndarray) -> pd.DataFrame:
    """Tidy table: pulse (1..N), direction, amplitude_V, write_energy_J."""
    amps = np.asarray(amplitudes_V)
    return pd.DataFrame({"pulse": np.arange(1, amps.size + 1),
                         "direction": np.where(amps > 0, "up", "down"),
                         "amplitude_V": amps, "write_energy_J": np.asarray(energies_J)})


def energy_vs_g_table(g_before_S, energy_J, grid_S, n_end: int = 5) -> np.ndarray:
    """Write energy per pulse (J) as a function of the conductance before the pulse, on ``grid_S``.

    ``g_before_S[k]``: the device's conductance just before pulse k (S);
    ``energy_J[k]``: what pulse k cost.  Inside the characterised range the
    table is the linear interpolation of the measured points (sorted by G,
    equal G averaged); grid points outside it (a depressing train that stops
    above g_min, for example) take the straight line fitted to the ``n_end``
    measured points nearest that end (least squares), clipped at 0, instead of
    holding the end value, so that the table reproduces the end points too.
    """
    g = np.asarray(g_before_S, dtype=np.float64)
    e = np.asarray(energy_J, dtype=np.float64)
    grid = np.asarray(grid_S, dtype=np.float64)
    ok = np.isfinite(g) & np.isfinite(e)
    g, e = g[ok], e[ok]
    if g.size == 0:
        return np.zeros(grid.size)
    uniq, inv = np.unique(g, return_inverse=True)
    mean = np.bincount(inv, weights=e) / np.bincount(inv)
    if uniq.size == 1:
        return np.full(grid.size, max(float(mean[0]), 0.0))
    out = np.interp(grid, uniq, mean)
    n = int(min(max(n_end, 2), uniq.size))
    for sel, side in ((grid < uniq[0], slice(0, n)), (grid > uniq[-1], slice(uniq.size - n, uniq.size))):
        if np.any(sel):
            a, b = np.polyfit(uniq[side], mean[side], 1)
            out[sel] = a * grid[sel] + b
    return np.maximum(out, 0.0)
