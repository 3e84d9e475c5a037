"""Normalised, table-driven view of a device profile for fast pulsing (:class:`DeviceModel`).

Used by the device-aware synapse backends (:mod:`eqspike.network.synapses`,
:mod:`eqspike.network.policies.chip`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from eqspike.errors import ProfileError

_LUT_POINTS = 4097
_Q_BINS = 16385


class DeviceModel:
    """Normalised, table-driven view of a :class:`DeviceProfile` for fast pulsing.

    Conductances are normalised, ``u = (G - g_min) / (g_max - g_min)``.  Steps
    are looked up in uniform tables of ``_LUT_POINTS`` points (linear
    interpolation of :meth:`DeviceProfile.dg_up` / ``dg_down``).
    """

    def __init__(self, profile: Any):
        for f in ("g_min_S", "g_max_S", "n_levels", "c2c_sigma", "d2d_sigma",
                  "write_energy_up_J", "write_energy_down_J"):
            if not hasattr(profile, f):
                raise ProfileError(f"device profile {getattr(profile, 'name', profile)!r} has no "
                                   f"field '{f}'; expected a DeviceProfile")
        self.profile = profile
        self.g_min = float(profile.g_min_S)
        self.g_max = float(profile.g_max_S)
        self.range = self.g_max - self.g_min
        if not (self.range > 0 and math.isfinite(self.range)):
            raise ProfileError(f"device profile {profile.name!r}: g_max_S - g_min_S = {self.range!r} "
                               "must be positive")
        self.c2c = float(profile.c2c_sigma)
        self.d2d = float(profile.d2d_sigma)
        grid = np.linspace(0.0, 1.0, _LUT_POINTS)
        G = self.g_min + grid * self.range
        self.lut_up = (np.asarray(profile.dg_up(G), dtype=np.float64) / self.range).astype(np.float32)
        self.lut_down = (np.asarray(profile.dg_down(G), dtype=np.float64) / self.range).astype(np.float32)
        if not (np.all(np.isfinite(self.lut_up)) and np.all(np.isfinite(self.lut_down))):
            raise ProfileError(f"device profile {profile.name!r}: step tables are not finite")
        if self.lut_up.max() <= 0:
            raise ProfileError(f"device profile {profile.name!r}: dg_up is zero everywhere; "
                               "a device that cannot be potentiated cannot learn")
        #: constant steps (e.g. DeviceProfile.ideal): pulses can be applied in closed form
        self.linear = bool(np.ptp(self.lut_up) <= 1e-6 * self.lut_up.max()
                           and np.ptp(self.lut_down) <= 1e-6 * max(self.lut_down.max(), 1e-30))
        self.levels = self._ltp_levels(int(profile.n_levels))
        self._build_qlut()
        # nominal pulse number along LTP (from 0) and along LTD (from 1)
        self.p_up = np.arange(self.levels.size, dtype=np.float64)
        self.ltd_states = self._ltd_states(int(profile.n_levels))

    # ---- tables
    def _ltp_levels(self, n_levels: int) -> np.ndarray:
        u, out = 0.0, [0.0]
        for _ in range(max(n_levels - 1, 1)):
            u = min(u + float(self.step_up(np.float32(u))), 1.0)
            if u <= out[-1] + 1e-9:
                break
            out.append(u)
        lv = np.asarray(out, dtype=np.float64)
        if lv[-1] < 1.0 - 1e-6:
            # the characterised train stops short of g_max: keep g_max reachable as the last level
            lv = np.append(lv, 1.0)
        else:
            lv[-1] = 1.0
        return lv.astype(np.float32)

    def _ltd_states(self, n_levels: int) -> np.ndarray:
        u, out = 1.0, [1.0]
        for _ in range(max(4 * n_levels, 8)):
            d = float(self.step_down(np.float32(u)))
            if d <= 1e-9:
                break
            u = max(u - d, 0.0)
            out.append(u)
            if u <= 0.0:
                break
        return np.asarray(out, dtype=np.float64)

    @staticmethod
    def _lut(table: np.ndarray, u: np.ndarray) -> np.ndarray:
        t = np.clip(u, 0.0, 1.0) * np.float32(_LUT_POINTS - 1)
        i = np.minimum(t.astype(np.int32), _LUT_POINTS - 2)
        f = t - i
        lo = table[i]
        return lo + f * (table[i + 1] - lo)

    def step_up(self, u: np.ndarray) -> np.ndarray:
        """Normalised mean increase of one potentiating pulse at ``u``."""
        return self._lut(self.lut_up, np.asarray(u, dtype=np.float32))

    def step_down(self, u: np.ndarray) -> np.ndarray:
        """Normalised mean decrease (magnitude) of one depressing pulse at ``u``."""
        return self._lut(self.lut_down, np.asarray(u, dtype=np.float32))

    def quantize(self, u: np.ndarray) -> np.ndarray:
        """Nearest of the ``n_levels`` nominal states (vectorised).

        A lookup table over uniform bins of [0, 1] (each bin holds the level
        nearest to its centre; at least 8 bins per level, 16385 at least)
        replaces a binary search; a value can only be assigned to the
        second-nearest level when it lies within half a bin of the midpoint
        between two levels.  Devices with more than ~500,000 levels use the
        exact binary search.
        """
        if self._qlut is None:
            lv = self.levels
            j = np.clip(np.searchsorted(lv, u), 1, lv.size - 1)
            lo, hi = lv[j - 1], lv[j]
            return np.where(u - lo <= hi - u, lo, hi)
        i = (np.clip(u, 0.0, 1.0) * np.float32(self._qlut.size - 1) + np.float32(0.5)).astype(np.int32)
        return self._qlut[i]

    def _build_qlut(self) -> None:
        bins = max(_Q_BINS, 8 * self.levels.size + 1)
        if bins > 4 * 1024 * 1024:
            self._qlut = None
            return
        lv = self.levels.astype(np.float64)
        c = np.linspace(0.0, 1.0, bins)
        j = np.clip(np.searchsorted(lv, c), 1, lv.size - 1)
        lo, hi = lv[j - 1], lv[j]
        self._qlut = np.where(c - lo <= hi - c, lo, hi).astype(np.float32)

    def pulses_between(self, u_old: np.ndarray, u_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nominal (up, down) pulse numbers to move from ``u_old`` to ``u_new``.

        Upwards along the LTP train (pulse number = level index, interpolated),
        downwards along the LTD train from the top.  Used for program-and-verify
        (initial programming, refresh).
        """
        pu_old = np.interp(u_old, self.levels, self.p_up)
        pu_new = np.interp(u_new, self.levels, self.p_up)
        s = self.ltd_states[::-1]  # increasing u
        pd = np.arange(self.ltd_states.size, dtype=np.float64)[::-1]
        pd_old = np.interp(u_old, s, pd)
        pd_new = np.interp(u_new, s, pd)
        up = np.where(u_new > u_old, np.ceil(pu_new - pu_old - 1e-6), 0.0)
        down = np.where(u_new < u_old, np.ceil(pd_new - pd_old - 1e-6), 0.0)
        return np.maximum(up, 0).astype(np.int64), np.maximum(down, 0).astype(np.int64)
