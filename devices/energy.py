"""Write energy per pulse, integrated on ngspice's own time points.

E_k = integral over pulse k's write window of sum_terminals V(t) I(t) dt,
trapezoid rule over the simulator's time points (the PWL breakpoints put
points exactly on the window edges).  No formula: what the source delivered.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["window_integrals", "write_energies", "energy_table"]


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


def write_energies(t, v, i, starts, ends, v2=None, i2=None) -> np.ndarray:
    """Energy (J) delivered in each write window: integral of v*i (+ v2*i2).

    ``i`` is the current *into* the device terminal at voltage ``v`` (for a
    sense source placed in series, its ``#branch`` vector).
    """
    p = np.asarray(v) * np.asarray(i)
    if v2 is not None and i2 is not None:
        p = p + np.asarray(v2) * np.asarray(i2)
    return window_integrals(t, p, starts, ends)


def energy_table(energies_J: np.ndarray, amplitudes_V: np.ndarray) -> pd.DataFrame:
    """Tidy table: pulse (1..N), direction, amplitude_V, write_energy_J."""
    amps = np.asarray(amplitudes_V)
    return pd.DataFrame({"pulse": np.arange(1, amps.size + 1),
                         "direction": np.where(amps > 0, "up", "down"),
                         "amplitude_V": amps, "write_energy_J": np.asarray(energies_J)})
