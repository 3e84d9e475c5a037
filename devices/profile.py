"""DeviceProfile: what the network takes from the device level.

A :class:`DeviceProfile` reduces a synapse device (characterised in ngspice,
fitted from measured data, or synthesised from NeuroSim-style labels) to:

- conductance bounds ``g_min_S`` .. ``g_max_S`` (S);
- the mean conductance step of one potentiating / depressing pulse as a
  function of the present conductance, tabulated on ``g_grid_S``:
  ``dg_up_S`` and ``dg_down_S`` (magnitudes, >= 0, S); :meth:`dg_up` /
  :meth:`dg_down` interpolate them (``np.interp``, clamped at the ends);
- ``n_pulses`` (pulses per direction in the characterised train) and
  ``n_levels`` (distinguishable levels);
- NeuroSim nonlinearity labels ``nl_ltp`` / ``nl_ltd`` (see
  :mod:`eqspike.devices.neurosim`; LTD's common saturating curve is negative);
- ``c2c_sigma``: std of the per-pulse step noise relative to
  ``g_max_S - g_min_S`` (NeuroSim's sigma_c2c); ``d2d_sigma``: relative
  spread of a device's step scale across devices;
- write energy per pulse (J), pulse amplitudes (V) and width (s), read
  voltage (V); the write energy as a function of the conductance before the
  pulse, per polarity, tabulated like the steps: ``write_energy_up_vs_G_J``
  / ``write_energy_down_vs_G_J`` on ``write_energy_grid_S`` (the measured
  conductances, so the tables hold the characterised points; empty grid:
  ``g_grid_S``) (optional:
  profiles without them, e.g. files written before they existed, use the
  flat ``write_energy_up_J`` / ``write_energy_down_J``;
  :meth:`DeviceProfile.assumption_note` says so in one line);
- ``provenance``: model, parameters, ngspice version, netlist hash,
  source/citation, creation time.

Frozen and validated: ``from_json`` / ``from_dict`` raise
:class:`eqspike.errors.ProfileError` naming missing fields, unknown fields
(e.g. ``g_min_uS``: a wrong unit suffix), wrong types and out-of-range values.

Factories: :meth:`DeviceProfile.ideal` (constant step, no noise) and
:meth:`DeviceProfile.from_neurosim` (synthetic, from NL labels and levels;
no ngspice needed).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from eqspike.errors import ParameterError, ProfileError
from eqspike.params import param, validate
from eqspike.profile_io import JsonProfile, build

__all__ = ["DeviceProfile", "DEVICE_PROFILE_SCHEMA_VERSION"]

#: Stored in the JSON as ``schema``; bumped when a field changes meaning.
DEVICE_PROFILE_SCHEMA_VERSION = 1

_ENERGY_TABLES = ("write_energy_grid_S", "write_energy_up_vs_G_J", "write_energy_down_vs_G_J")
_TUPLE_FIELDS = ("g_grid_S", "dg_up_S", "dg_down_S") + _ENERGY_TABLES
_INT_FIELDS = ("n_pulses", "n_levels")
_STR_FIELDS = ("name", "model")


@dataclass(frozen=True)
class DeviceProfile(JsonProfile):
    """Pulse-response abstraction of one synapse device type (SI units)."""

    PROFILE_LABEL = "device profile"

    name: str = param(unit="", doc="profile name, e.g. 'taox_rram'")
    model: str = param(unit="", doc="compact model or source, e.g. 'pku_rram', 'neurosim', 'measured'")
    g_min_S: float = param(unit="S", low=0, high=1, low_open=True, high_open=True,
                           doc="lowest conductance reached by the pulse train")
    g_max_S: float = param(unit="S", low=0, high=1, low_open=True, high_open=True,
                           doc="highest conductance reached by the pulse train")
    g_grid_S: tuple = param(unit="S", low=0, high=1, doc="increasing conductance grid of the step tables")
    dg_up_S: tuple = param(unit="S", low=0, doc="mean increase per potentiating pulse at each grid G")
    dg_down_S: tuple = param(unit="S", low=0, doc="mean decrease (magnitude) per depressing pulse at each grid G")
    n_pulses: int = param(unit="", low=1, integer=True, doc="pulses per direction in the characterised train")
    n_levels: int = param(unit="", low=2, integer=True, doc="distinguishable conductance levels")
    nl_ltp: float = param(0.0, unit="", low=-9, high=9, doc="NeuroSim nonlinearity label, potentiation")
    nl_ltd: float = param(0.0, unit="", low=-9, high=9, doc="NeuroSim nonlinearity label, depression")
    c2c_sigma: float = param(0.0, unit="", low=0, high=1,
                             doc="per-pulse step noise std relative to (g_max - g_min)")
    d2d_sigma: float = param(0.0, unit="", low=0, high=1,
                             doc="relative device-to-device spread of the step scale")
    write_energy_up_J: float = param(0.0, unit="J", low=0, doc="energy of one potentiating pulse")
    write_energy_down_J: float = param(0.0, unit="J", low=0, doc="energy of one depressing pulse")
    pulse_up_V: float = param(1.0, unit="V", low=0, high=100, low_open=True, doc="potentiating pulse amplitude")
    pulse_down_V: float = param(-1.0, unit="V", low=-100, high=0, high_open=True,
                                doc="depressing pulse amplitude (negative)")
    pulse_width_s: float = param(1e-7, unit="s", low=0, high=1, low_open=True, doc="write pulse width")
    read_voltage_V: float = param(0.1, unit="V", low=0, high=10, low_open=True, doc="read voltage")
    write_energy_grid_S: tuple = param((), unit="S", low=0, high=1,
                                       doc="increasing conductance grid of the write energy tables "
                                           "(empty: g_grid_S)")
    write_energy_up_vs_G_J: tuple = param((), unit="J", low=0,
                                          doc="energy of one potentiating pulse at each grid G (conductance "
                                              "before the pulse); empty: flat write_energy_up_J")
    write_energy_down_vs_G_J: tuple = param((), unit="J", low=0,
                                            doc="energy of one depressing pulse at each grid G; empty: flat "
                                                "write_energy_down_J")
    provenance: dict = param(default_factory=dict, unit="",
                             doc="model, parameters, ngspice_version, netlist_hash, source, created")

    # ------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        for f in _STR_FIELDS:
            v = getattr(self, f)
            if not isinstance(v, str) or not v:
                raise ProfileError(f"profile field '{f}' = {v!r} must be a non-empty string")
        for f in _TUPLE_FIELDS:
            object.__setattr__(self, f, _as_float_tuple(f, getattr(self, f)))
        for f in _INT_FIELDS:
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer, float)) or \
                    (isinstance(v, float) and not v.is_integer()):
                raise ProfileError(f"profile field '{f}' = {v!r} must be an integer")
            object.__setattr__(self, f, int(v))
        for f in dataclasses.fields(self):
            if f.name in _STR_FIELDS + _TUPLE_FIELDS + _INT_FIELDS + ("provenance",):
                continue
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
                raise ProfileError(f"profile field '{f.name}' = {v!r} must be a number "
                                   f"({f.metadata.get('unit') or 'dimensionless'})")
            object.__setattr__(self, f.name, float(v))
        if not isinstance(self.provenance, Mapping):
            raise ProfileError(f"profile field 'provenance' must be a mapping, got {type(self.provenance).__name__}")
        object.__setattr__(self, "provenance", dict(self.provenance))
        try:
            validate(self)
        except ParameterError as e:
            raise ProfileError(f"device profile '{self.name}': {e}") from None
        if not self.g_min_S < self.g_max_S:
            raise ProfileError(f"device profile '{self.name}': g_min_S = {self.g_min_S!r} must be "
                               f"below g_max_S = {self.g_max_S!r}")
        g = np.asarray(self.g_grid_S)
        if g.size < 2:
            raise ProfileError(f"device profile '{self.name}': g_grid_S needs >= 2 points, got {g.size}")
        if np.any(np.diff(g) <= 0):
            raise ProfileError(f"device profile '{self.name}': g_grid_S must be strictly increasing")
        tol = 1e-9 * self.g_max_S
        if g[0] < self.g_min_S - tol or g[-1] > self.g_max_S + tol:
            raise ProfileError(f"device profile '{self.name}': g_grid_S spans [{g[0]:.4g}, {g[-1]:.4g}] S, "
                               f"outside [g_min_S, g_max_S] = [{self.g_min_S:.4g}, {self.g_max_S:.4g}] S")
        for f in ("dg_up_S", "dg_down_S"):
            if len(getattr(self, f)) != g.size:
                raise ProfileError(f"device profile '{self.name}': {f} has {len(getattr(self, f))} values, "
                                   f"g_grid_S has {g.size}")
        ge = np.asarray(self.energy_grid_S)
        if self.write_energy_grid_S:
            if ge.size < 2 or np.any(np.diff(ge) <= 0):
                raise ProfileError(f"device profile '{self.name}': write_energy_grid_S must be strictly "
                                   f"increasing with >= 2 points")
            if ge[0] < self.g_min_S - tol or ge[-1] > self.g_max_S + tol:
                raise ProfileError(f"device profile '{self.name}': write_energy_grid_S spans "
                                   f"[{ge[0]:.4g}, {ge[-1]:.4g}] S, outside [g_min_S, g_max_S]")
        for f in ("write_energy_up_vs_G_J", "write_energy_down_vs_G_J"):
            if getattr(self, f) and len(getattr(self, f)) != ge.size:
                raise ProfileError(f"device profile '{self.name}': {f} has {len(getattr(self, f))} values, "
                                   f"its grid ({'write_energy_grid_S' if self.write_energy_grid_S else 'g_grid_S'})"
                                   f" has {ge.size}")

    def __hash__(self) -> int:  # provenance is a dict: hash the JSON form
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))

    # ------------------------------------------------------------ behaviour
    @property
    def g_range_S(self) -> float:
        """g_max_S - g_min_S."""
        return self.g_max_S - self.g_min_S

    @property
    def on_off(self) -> float:
        """g_max_S / g_min_S."""
        return self.g_max_S / self.g_min_S

    def dg_up(self, G):
        """Mean increase (S, >= 0) of one potentiating pulse at conductance ``G`` (S)."""
        return np.maximum(np.interp(G, self.g_grid_S, self.dg_up_S), 0.0)

    def dg_down(self, G):
        """Mean decrease (S, magnitude >= 0) of one depressing pulse at conductance ``G`` (S)."""
        return np.maximum(np.interp(G, self.g_grid_S, self.dg_down_S), 0.0)

    def write_energy_up(self, G):
        """Energy (J) of one potentiating pulse applied at conductance ``G`` (S), vectorised:
        the E(G) table when present (``np.interp``, clamped at the ends), else the flat
        ``write_energy_up_J``."""
        return self._write_energy(G, self.write_energy_up_vs_G_J, self.write_energy_up_J)

    def write_energy_down(self, G):
        """Energy (J) of one depressing pulse applied at conductance ``G`` (S) (see
        :meth:`write_energy_up`)."""
        return self._write_energy(G, self.write_energy_down_vs_G_J, self.write_energy_down_J)

    def _write_energy(self, G, table, flat: float):
        g = np.asarray(G, dtype=np.float64)
        if not table:
            return np.full(g.shape, float(flat))
        return np.maximum(np.interp(g, self.energy_grid_S, table), 0.0)

    @property
    def energy_grid_S(self) -> tuple:
        """Grid of the write energy tables: ``write_energy_grid_S``, or ``g_grid_S`` when empty."""
        return self.write_energy_grid_S or self.g_grid_S

    @property
    def has_energy_tables(self) -> bool:
        """True when both E(G) tables are present."""
        return bool(self.write_energy_up_vs_G_J) and bool(self.write_energy_down_vs_G_J)

    def assumption_note(self) -> str:
        """One line saying what is assumed for fields this profile lacks ('' when none)."""
        if self.has_energy_tables:
            return ""
        return (f"device profile '{self.name}' has no write energy vs G table: flat "
                f"{self.write_energy_up_J:.3g} J (up) / {self.write_energy_down_J:.3g} J (down) per pulse "
                "assumed at every conductance")

    def pulse_train(self, n_up: int | None = None, n_down: int | None = None,
                    g0_S: float | None = None) -> np.ndarray:
        """Noise-free G (S) after each of ``n_up`` up then ``n_down`` down pulses.

        Starts at ``g0_S`` (default ``g_min_S``); returns ``n_up + n_down + 1`` values.
        """
        n_up = self.n_pulses if n_up is None else int(n_up)
        n_down = self.n_pulses if n_down is None else int(n_down)
        g = self.g_min_S if g0_S is None else float(g0_S)
        out = [g]
        for _ in range(n_up):
            g = min(g + float(self.dg_up(g)), self.g_max_S)
            out.append(g)
        for _ in range(n_down):
            g = max(g - float(self.dg_down(g)), self.g_min_S)
            out.append(g)
        return np.asarray(out)

    # ------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"schema": DEVICE_PROFILE_SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            d[f.name] = list(v) if isinstance(v, tuple) else (dict(v) if isinstance(v, dict) else v)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DeviceProfile":
        """Build and validate a profile; :class:`ProfileError` names what is wrong."""
        return build(cls, d, cls.PROFILE_LABEL, schema=DEVICE_PROFILE_SCHEMA_VERSION,
                     optional=("provenance",) + _ENERGY_TABLES)

    # ------------------------------------------------------------ factories
    @classmethod
    def ideal(cls, n_levels: int = 128, g_min_S: float = 1e-6, g_max_S: float = 1e-5, *,
              name: str = "ideal", write_energy_J: float = 0.0, pulse_up_V: float = 1.0,
              pulse_down_V: float = -1.0, pulse_width_s: float = 1e-7,
              read_voltage_V: float = 0.1) -> "DeviceProfile":
        """Constant step (g_max - g_min)/(n_levels - 1), no noise, zero nonlinearity."""
        _check_levels(n_levels)
        step = (g_max_S - g_min_S) / (n_levels - 1)
        return cls(name=name, model="ideal", g_min_S=g_min_S, g_max_S=g_max_S,
                   g_grid_S=(g_min_S, g_max_S), dg_up_S=(step, step), dg_down_S=(step, step),
                   n_pulses=n_levels - 1, n_levels=n_levels, nl_ltp=0.0, nl_ltd=0.0,
                   c2c_sigma=0.0, d2d_sigma=0.0, write_energy_up_J=write_energy_J,
                   write_energy_down_J=write_energy_J, pulse_up_V=pulse_up_V,
                   pulse_down_V=pulse_down_V, pulse_width_s=pulse_width_s,
                   read_voltage_V=read_voltage_V,
                   provenance=_provenance("ideal", {"n_levels": n_levels, "g_min_S": g_min_S,
                                                    "g_max_S": g_max_S},
                                          "constant-step ideal device"))

    @classmethod
    def from_neurosim(cls, nl_ltp: float, nl_ltd: float, n_levels: int,
                      g_min_S: float = 1e-6, g_max_S: float = 1e-5, *,
                      c2c_sigma: float = 0.0, d2d_sigma: float = 0.0,
                      write_energy_J: float = 0.0, write_energy_down_J: float | None = None,
                      pulse_up_V: float = 1.0, pulse_down_V: float = -1.0,
                      pulse_width_s: float = 1e-7, read_voltage_V: float = 0.1,
                      n_grid: int = 129, name: str | None = None,
                      source: str = "NeuroSim form G(p) = B(1 - exp(-p/A)) + G_min") -> "DeviceProfile":
        """Synthetic profile from NeuroSim labels (no ngspice).

        ``n_levels`` levels are reached with ``n_pulses = n_levels - 1`` pulses
        per direction (NeuroSim's maxNumLevel).  ``A = a(NL) * n_pulses`` with
        ``a(NL)`` from :func:`eqspike.devices.neurosim.nl_to_a` (reproduces
        NeuroSim's getParamA table).  The step tables hold, on ``n_grid``
        uniform points, the exact step of one pulse from each G along the
        curve (zero at the saturating end).  ``write_energy_J`` applies to
        both directions unless ``write_energy_down_J`` is given.
        """
        from eqspike.devices import neurosim as ns
        _check_levels(n_levels)
        for nm, v in (("nl_ltp", nl_ltp), ("nl_ltd", nl_ltd)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(v) \
                    or abs(v) > ns.NL_MAX:
                raise ProfileError(f"parameter '{nm}' = {v!r} must be a finite label in "
                                   f"[-{ns.NL_MAX:g}, {ns.NL_MAX:g}]")
        if not (isinstance(n_grid, (int, np.integer)) and n_grid >= 2):
            raise ProfileError(f"parameter 'n_grid' = {n_grid!r} must be an integer >= 2")
        for nm, v in (("g_min_S", g_min_S), ("g_max_S", g_max_S)):
            if not isinstance(v, (int, float, np.number)) or not (0 < v < 1):
                raise ProfileError(f"parameter '{nm}' = {v!r} must be in (0, 1) S")
        if not g_min_S < g_max_S:
            raise ProfileError(f"g_min_S = {g_min_S!r} must be below g_max_S = {g_max_S!r}")
        n_pulses = n_levels - 1
        a_p, a_d = ns.nl_to_a(nl_ltp), ns.nl_to_a(nl_ltd)
        gn = np.linspace(0.0, 1.0, n_grid)
        span = g_max_S - g_min_S
        up = ns.step_up(gn, a_p, n_pulses) * span
        down = ns.step_down(gn, a_d, n_pulses) * span
        grid = g_min_S + gn * span
        grid[-1] = g_max_S
        e_dn = write_energy_J if write_energy_down_J is None else write_energy_down_J
        params = {"nl_ltp": nl_ltp, "nl_ltd": nl_ltd, "n_levels": n_levels, "g_min_S": g_min_S,
                  "g_max_S": g_max_S, "c2c_sigma": c2c_sigma, "d2d_sigma": d2d_sigma,
                  "A_ltp_pulses": a_p * n_pulses if math.isfinite(a_p) else None,
                  "A_ltd_pulses": a_d * n_pulses if math.isfinite(a_d) else None}
        return cls(name=name or f"neurosim_nl{nl_ltp:g}_{nl_ltd:g}_L{n_levels}", model="neurosim",
                   g_min_S=g_min_S, g_max_S=g_max_S, g_grid_S=tuple(grid), dg_up_S=tuple(up),
                   dg_down_S=tuple(down), n_pulses=n_pulses, n_levels=n_levels,
                   nl_ltp=float(nl_ltp), nl_ltd=float(nl_ltd), c2c_sigma=c2c_sigma,
                   d2d_sigma=d2d_sigma, write_energy_up_J=write_energy_J,
                   write_energy_down_J=e_dn, pulse_up_V=pulse_up_V, pulse_down_V=pulse_down_V,
                   pulse_width_s=pulse_width_s, read_voltage_V=read_voltage_V,
                   provenance=_provenance("neurosim", params,
                                          source + "; NL->A as NeuroSim getParamA (MLP+NeuroSim V3.0)"))

    def summary(self) -> dict[str, Any]:
        """Scalar figures for tables (no step arrays, no provenance)."""
        return {k: v for k, v in self.to_dict().items()
                if k not in _TUPLE_FIELDS and k not in ("provenance", "schema")}

    def with_energy_tables(self, g_before_up_S, energy_up_J, g_before_down_S, energy_down_J) -> "DeviceProfile":
        """A copy holding the E(G) tables built from measured pulses.

        The grid is every measured conductance (both polarities, within
        [g_min_S, g_max_S]) plus the two bounds, so each table holds its own
        characterised points exactly and interpolates linearly between them
        (:func:`eqspike.devices.energy.energy_vs_g_table`)."""
        from .energy import energy_vs_g_table
        pts = np.concatenate([np.asarray(g_before_up_S, float), np.asarray(g_before_down_S, float),
                              [self.g_min_S, self.g_max_S]])
        grid = np.unique(np.clip(pts[np.isfinite(pts)], self.g_min_S, self.g_max_S))
        up = energy_vs_g_table(g_before_up_S, energy_up_J, grid)
        dn = energy_vs_g_table(g_before_down_S, energy_down_J, grid)
        return dataclasses.replace(self, write_energy_grid_S=tuple(grid), write_energy_up_vs_G_J=tuple(up),
                                   write_energy_down_vs_G_J=tuple(dn))


# --------------------------------------------------------------------------- helpers

def _check_levels(n_levels: Any) -> None:
    if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)) or n_levels < 2:
        raise ProfileError(f"parameter 'n_levels' = {n_levels!r} must be an integer >= 2")


def _as_float_tuple(name: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, (str, bytes, Mapping)):
        raise ProfileError(f"profile field '{name}' = {value!r} must be a sequence of numbers")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProfileError(f"profile field '{name}' = {value!r} must be a sequence of numbers") from None
    if arr.ndim != 1:
        raise ProfileError(f"profile field '{name}' must be a 1-D sequence of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ProfileError(f"profile field '{name}' holds non-finite values")
    return tuple(float(v) for v in arr)


def _provenance(model: str, parameters: Mapping[str, Any], source: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "parameters": dict(parameters), "ngspice_version": None,
            "netlist_hash": None, "source": source,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **extra}
