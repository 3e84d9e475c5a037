"""Neuron and crossbar profiles: what the network takes from the circuit level.

A :class:`NeuronProfile` reduces an ngspice characterisation of a spiking
neuron to the numbers the network needs:

- the normalised transfer function as a table, ``rate_norm`` against
  ``input_norm`` (input current / ``input_scale_A``; rate / ``max_rate_Hz``).
  :meth:`NeuronProfile.transfer` interpolates it and replaces the hard
  sigmoid ``clip(x, 0, 1)`` of the network;
- ``max_rate_Hz``, ``input_scale_A`` (the current mapped to input 1),
  ``threshold_current_A``;
- ``energy_per_spike_J`` at the nominal rate (optionally the table
  ``energy_per_spike_vs_rate`` of ``(rate_Hz, energy_J)`` pairs),
  ``leakage_power_W`` (static, reported apart from the dynamic energy),
  ``supply_V``;
- the rate dependence of the energy per spike: the fitted law
  ``E(f) = energy_fit_E0_J + active_power_W / f`` (relative least squares
  over the characterised rates; ``energy_fit_max_error`` is its largest
  relative deviation from a characterised point): ``active_power_W`` is the
  floor a neuron draws whenever its input is non-zero, whatever its rate;
  ``bias_power_W``: what the bias branch (the diode-connected reference
  transistors on ``vddb``) draws, to be shared by the neurons of one bias
  generator.  Old profiles without these fields still load:
  :meth:`NeuronProfile.assumption_note` says in one line what is assumed;
- ``provenance``: circuit, parameters, model card, ngspice version, netlist
  hash, creation time.

A :class:`CrossbarProfile` gives the read energy of one synaptic event on a
crossbar column: ``read_energy_J(G) = V_read**2 * G * t_pulse + wire part``.

Both are frozen, validated dataclasses.  ``to_json`` writes atomically;
``from_json`` / ``from_dict`` raise :class:`eqspike.errors.ProfileError`
naming missing fields, unknown fields (e.g. a wrong unit suffix such as
``max_rate_kHz``) and out-of-range values.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from eqspike.errors import ParameterError, ProfileError
from eqspike.params import param, validate
from eqspike.profile_io import JsonProfile, build, normalise_common

__all__ = ["NeuronProfile", "CrossbarProfile", "PROFILE_SCHEMA_VERSION"]

#: Bumped when a field changes meaning; stored in the JSON as ``schema``.
PROFILE_SCHEMA_VERSION = 1


# --------------------------------------------------------------------------- helpers

def _as_float_tuple(name: str, value: Any) -> tuple[float, ...]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProfileError(f"profile field '{name}' = {value!r} must be a sequence of numbers") from None
    if arr.ndim != 1:
        raise ProfileError(f"profile field '{name}' must be a 1-D sequence of numbers, "
                           f"got shape {arr.shape}")
    return tuple(float(v) for v in arr)


def _as_pairs(name: str, value: Any) -> tuple[tuple[float, float], ...]:
    if value is None:
        return ()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProfileError(f"profile field '{name}' = {value!r} must be a sequence of "
                           f"(rate_Hz, energy_J) pairs") from None
    if arr.size == 0:
        return ()
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ProfileError(f"profile field '{name}' must be a sequence of (rate_Hz, energy_J) "
                           f"pairs, got shape {arr.shape}")
    return tuple((float(a), float(b)) for a, b in arr)


def _validate(obj: Any) -> None:
    """``eqspike.params.validate`` reporting a :class:`ProfileError`."""
    try:
        validate(obj)
    except ParameterError as e:
        raise ProfileError(f"{type(obj).__name__}: {e}") from None


def _to_jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


class _CircuitProfile(JsonProfile):
    """JSON I/O of the circuit profiles (``to_json``/``from_json`` from :class:`JsonProfile`)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (with ``kind`` and ``schema`` keys)."""
        d = {"kind": type(self).__name__, "schema": PROFILE_SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            d[f.name] = _to_jsonable(getattr(self, f.name))
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Build and validate a profile from a dict; :class:`ProfileError` on bad content."""
        return build(cls, data, cls.PROFILE_LABEL)


# --------------------------------------------------------------------------- neuron

@dataclass(frozen=True)
class NeuronProfile(_CircuitProfile):
    """Transfer function and energy figures of a spiking neuron circuit.

    ``input_norm`` is strictly increasing from 0 (input current divided by
    ``input_scale_A``); ``rate_norm`` (spike rate divided by ``max_rate_Hz``)
    lies in [0, 1] and is non-decreasing.  Outside the table the transfer
    function holds its end values.
    """
    PROFILE_LABEL = "neuron profile"

    name: str = param(unit="", doc="profile name, e.g. 'axon_hillock_ptm180'")
    circuit: str = param(unit="", doc="circuit that was characterised")
    input_norm: tuple = param(unit="1", low=0.0,
                              doc="input current / input_scale_A, strictly increasing from 0")
    rate_norm: tuple = param(unit="1", low=0.0, high=1.0,
                             doc="spike rate / max_rate_Hz at each input_norm, non-decreasing")
    max_rate_Hz: float = param(unit="Hz", low=0.0, low_open=True,
                               doc="spike rate that rate_norm = 1 stands for")
    input_scale_A: float = param(unit="A", low=0.0, low_open=True,
                                 doc="input current mapped to input_norm = 1")
    threshold_current_A: float = param(unit="A", low=0.0,
                                       doc="smallest input current that makes the neuron spike")
    energy_per_spike_J: float = param(unit="J", low=0.0, low_open=True,
                                      doc="supply energy per spike at the nominal rate (dynamic, "
                                          "whole periods, standby power subtracted)")
    leakage_power_W: float = param(unit="W", low=0.0,
                                   doc="static supply power with zero input")
    supply_V: float = param(unit="V", low=0.0, low_open=True, doc="supply voltage")
    energy_per_spike_vs_rate: tuple = param((), unit="(Hz, J)", low=0.0,
                                            doc="optional (rate_Hz, energy_J) pairs")
    nominal_rate_Hz: float = param(0.0, unit="Hz", low=0.0,
                                   doc="rate at which energy_per_spike_J holds (0: not stated)")
    energy_fit_E0_J: float = param(0.0, unit="J", low=0.0,
                                   doc="rate-independent part of E(f) = E0 + active_power_W / f (0: no fit)")
    active_power_W: float = param(0.0, unit="W", low=0.0,
                                  doc="supply power above standby whenever the input is non-zero "
                                      "(the P / f term of E(f))")
    energy_fit_max_error: float = param(0.0, unit="1", low=0.0,
                                        doc="largest relative deviation of the E(f) law from a characterised point")
    bias_power_W: float = param(-1.0, unit="W", low=-1.0,
                                doc="bias branch (vddb) power of one neuron's reference transistors; "
                                    "-1: not characterised")
    provenance: dict = param(default_factory=dict, unit="",
                             doc="circuit, parameters, model card, ngspice version, netlist hash, created")

    def __post_init__(self) -> None:
        normalise_common(self, "NeuronProfile", ("name", "circuit"))
        xs = _as_float_tuple("input_norm", self.input_norm)
        ys = _as_float_tuple("rate_norm", self.rate_norm)
        object.__setattr__(self, "input_norm", xs)
        object.__setattr__(self, "rate_norm", ys)
        object.__setattr__(self, "energy_per_spike_vs_rate",
                           _as_pairs("energy_per_spike_vs_rate", self.energy_per_spike_vs_rate))
        _validate(self)
        if len(xs) < 2:
            raise ProfileError(f"NeuronProfile: 'input_norm' needs at least 2 points, got {len(xs)}")
        if len(xs) != len(ys):
            raise ProfileError(f"NeuronProfile: 'input_norm' ({len(xs)} points) and 'rate_norm' "
                               f"({len(ys)} points) must have the same length")
        if xs[0] != 0.0:
            raise ProfileError(f"NeuronProfile: 'input_norm' must start at 0, got {xs[0]!r}")
        d = np.diff(xs)
        if np.any(d <= 0):
            i = int(np.argmax(d <= 0))
            raise ProfileError(f"NeuronProfile: 'input_norm' must be strictly increasing; "
                               f"input_norm[{i}] = {xs[i]!r} >= input_norm[{i + 1}] = {xs[i + 1]!r}")
        d = np.diff(ys)
        if np.any(d < 0):
            i = int(np.argmax(d < 0))
            raise ProfileError(f"NeuronProfile: 'rate_norm' must be non-decreasing; "
                               f"rate_norm[{i}] = {ys[i]!r} > rate_norm[{i + 1}] = {ys[i + 1]!r}")

    # ------------------------------------------------------------------ physics
    def transfer(self, x: Any) -> np.ndarray:
        """Normalised rate for normalised input ``x`` (any shape), in [0, 1].

        Piecewise-linear interpolation of the table (``np.interp``), holding
        the end values outside it; replaces the network's hard sigmoid.
        Floating inputs keep their dtype (float32 stays float32).
        """
        xa = np.asarray(x)
        out = np.interp(xa, self.input_norm, self.rate_norm)
        out = np.clip(out, 0.0, 1.0)
        if np.issubdtype(xa.dtype, np.floating):
            out = out.astype(xa.dtype, copy=False)
        return out

    def transfer_derivative(self, x: Any) -> np.ndarray:
        """Slope d(rate_norm)/d(input_norm) of :meth:`transfer` at ``x`` (0 outside the table).

        At a table point the slope of the segment to its right is used.
        """
        xa = np.asarray(x)
        xs = np.asarray(self.input_norm)
        slopes = np.diff(self.rate_norm) / np.diff(xs)
        idx = np.searchsorted(xs, xa, side="right") - 1
        inside = (idx >= 0) & (idx < len(slopes))
        out = np.where(inside, slopes[np.clip(idx, 0, len(slopes) - 1)], 0.0)
        if np.issubdtype(xa.dtype, np.floating):
            out = out.astype(xa.dtype, copy=False)
        return out

    def rate_Hz(self, current_A: Any) -> np.ndarray:
        """Spike rate (Hz) for input current(s) ``current_A`` (A)."""
        return self.transfer(np.asarray(current_A, dtype=np.float64) / self.input_scale_A) * self.max_rate_Hz

    def energy_per_spike_at(self, rate_Hz: Any) -> np.ndarray:
        """Energy per spike (J) at ``rate_Hz``: log-log interpolation of
        ``energy_per_spike_vs_rate`` (end values held); ``energy_per_spike_J``
        when no table is given."""
        r = np.asarray(rate_Hz, dtype=np.float64)
        if not self.energy_per_spike_vs_rate:
            return np.full(r.shape, self.energy_per_spike_J)
        tab = np.asarray(sorted(self.energy_per_spike_vs_rate))
        tab = tab[(tab[:, 0] > 0) & (tab[:, 1] > 0)]
        if len(tab) == 0:
            return np.full(r.shape, self.energy_per_spike_J)
        lr = np.log(np.clip(r, 1e-300, None))
        return np.exp(np.interp(lr, np.log(tab[:, 0]), np.log(tab[:, 1])))

    @property
    def has_energy_law(self) -> bool:
        """True when the fitted E(f) law is present."""
        return self.energy_fit_E0_J > 0

    def energy_law_J(self, rate_Hz: Any) -> np.ndarray:
        """The fitted law ``E0 + active_power_W / f`` (J per spike) at ``rate_Hz``; without a fit,
        the flat ``energy_per_spike_J``."""
        r = np.asarray(rate_Hz, dtype=np.float64)
        if not self.has_energy_law:
            return np.full(r.shape, self.energy_per_spike_J)
        with np.errstate(divide="ignore"):
            return self.energy_fit_E0_J + self.active_power_W / r

    def spike_floor_J(self) -> float:
        """Rate-independent part of the energy per spike (J): the smallest characterised
        E(f) (the table's most efficient rate), ``energy_per_spike_J`` without a table."""
        tab = [e for f, e in self.energy_per_spike_vs_rate if f > 0 and e > 0]
        return float(min(tab)) if tab else float(self.energy_per_spike_J)

    def bias_branch_W(self) -> float:
        """Bias branch power per neuron (W): ``bias_power_W``, else the provenance's analytic
        figure, else 0."""
        if self.bias_power_W >= 0:
            return float(self.bias_power_W)
        v = (self.provenance or {}).get("bias_power_W")
        return float(v) if isinstance(v, (int, float)) and v >= 0 else 0.0

    def assumption_note(self) -> str:
        """One line saying what is assumed for fields this profile lacks ('' when none)."""
        parts = []
        if not self.energy_per_spike_vs_rate:
            parts.append(f"no E(f) table: flat {self.energy_per_spike_J:.3g} J per spike at every rate")
        if not self.has_energy_law:
            parts.append("no E(f) law: active floor taken as 0 W")
        if self.bias_power_W < 0:
            parts.append(f"bias branch not characterised: {self.bias_branch_W():.3g} W per neuron "
                         "(analytic figure from the provenance, or 0)")
        return f"neuron profile '{self.name}': " + "; ".join(parts) if parts else ""

    # ------------------------------------------------------------------ I/O
    @classmethod
    def ideal_hard_sigmoid(cls, *, max_rate_Hz: float = 1e5, input_scale_A: float = 1e-9,
                           energy_per_spike_J: float = 1e-13, leakage_power_W: float = 0.0,
                           supply_V: float = 1.0, n_points: int = 2) -> "NeuronProfile":
        """The hard sigmoid ``clip(x, 0, 1)`` as a profile (for tests and baselines).

        ``n_points`` >= 2 table points are spread over [0, 1] (plus the
        saturation beyond, held by the interpolation).
        """
        if int(n_points) < 2:
            raise ProfileError(f"ideal_hard_sigmoid: n_points = {n_points!r} must be >= 2")
        xs = np.linspace(0.0, 1.0, int(n_points))
        return cls(name="ideal_hard_sigmoid", circuit="ideal", input_norm=tuple(xs),
                   rate_norm=tuple(xs), max_rate_Hz=max_rate_Hz, input_scale_A=input_scale_A,
                   threshold_current_A=0.0, energy_per_spike_J=energy_per_spike_J,
                   leakage_power_W=leakage_power_W, supply_V=supply_V,
                   energy_per_spike_vs_rate=(), nominal_rate_Hz=max_rate_Hz / 2,
                   provenance={"circuit": "ideal", "note": "hard sigmoid clip(x, 0, 1); no simulation"})


# --------------------------------------------------------------------------- crossbar

@dataclass(frozen=True)
class CrossbarProfile(_CircuitProfile):
    """Read energy of one synaptic event on a crossbar column.

    A presynaptic spike applies ``read_voltage_V`` for ``read_pulse_width_s``
    across a synapse of conductance G into the neuron's held input node.
    ``read_energy_J(G) = read_voltage_V**2 * G * read_pulse_width_s +
    wire_energy_per_event_J``: the first term is the Joule energy in the
    synapse (measured = sum G V^2 t within 1 % at zero wire resistance), the
    second the G-independent charging of the row wire and driver.
    """
    PROFILE_LABEL = "crossbar profile"

    read_voltage_V: float = param(unit="V", low=0.0, low_open=True, doc="read pulse amplitude")
    read_pulse_width_s: float = param(unit="s", low=0.0, low_open=True, doc="read pulse width")
    g_ref_S: float = param(unit="S", low=0.0, low_open=True,
                           doc="conductance at which read_energy_per_event_J was measured")
    read_energy_per_event_J: float = param(unit="J", low=0.0,
                                           doc="measured supply energy of one event at g_ref_S")
    wire_energy_per_event_J: float = param(0.0, unit="J", low=0.0,
                                           doc="G-independent energy per event (wire/driver charging)")
    name: str = param("crossbar_column", unit="", doc="profile name")
    n_rows: int = param(1, unit="", low=1, integer=True, doc="synapses on the characterised column")
    wire_resistance_ohm: float = param(0.0, unit="ohm", low=0.0,
                                       doc="wire resistance per cell of the characterised column")
    ir_drop_error: float = param(0.0, unit="1", low=0.0,
                                 doc="relative charge error vs ideal sum G V t at wire_resistance_ohm")
    wire_energy_per_cell_J: float = param(-1.0, unit="J", low=-1.0,
                                          doc="C_cell V_read^2 of one cell's share of a driven line; -1: "
                                              "derived from wire_energy_per_event_J / n_cols")
    readout_power_W: float = param(-1.0, unit="W", low=-1.0,
                                   doc="static supply power of one line hold (active read-out); -1: not "
                                       "characterised")
    readout_rest_V: float = param(0.0, unit="V", low=0.0, high=5.0,
                                  doc="voltage the hold keeps the line at (rows idle there and pulse to "
                                      "readout_rest_V + read_voltage_V)")
    readout_charge_error: float = param(0.0, unit="1", low=-1.0, high=1.0,
                                        doc="relative charge error of the held line vs G V t (simulated)")
    provenance: dict = param(default_factory=dict, unit="",
                             doc="circuit, parameters, ngspice version, netlist hash, created")

    def __post_init__(self) -> None:
        normalise_common(self, "CrossbarProfile")
        _validate(self)

    # ------------------------------------------------------------------ read-out and wires
    @property
    def n_cols_characterised(self) -> int:
        """Cells along the characterised row (provenance ``parameters.n_cols``; 128 if absent)."""
        v = ((self.provenance or {}).get("parameters") or {}).get("n_cols", 128)
        return int(v) if isinstance(v, (int, float)) and v >= 1 else 128

    def cell_wire_energy_J(self) -> float:
        """``C_cell V_read^2`` (J): one cell's share of a driven line, with the line at 0 V rest."""
        if self.wire_energy_per_cell_J >= 0:
            return float(self.wire_energy_per_cell_J)
        return float(self.wire_energy_per_event_J) / self.n_cols_characterised

    def line_energy_J(self, n_cells: Any) -> np.ndarray:
        """Energy (J) of charging one driven line of ``n_cells`` cells once (one spike):
        ``n C_cell V_read (V_rest + V_read)`` (the charge comes from the read rail)."""
        rail = (self.readout_rest_V + self.read_voltage_V) / self.read_voltage_V
        return np.asarray(n_cells, dtype=np.float64) * self.cell_wire_energy_J() * rail

    def joule_energy_J(self, G: Any) -> np.ndarray:
        """Joule energy (J) in one cell of conductance(s) ``G`` per read: ``V_read^2 |G| t``."""
        return self.read_voltage_V ** 2 * np.abs(np.asarray(G, dtype=np.float64)) * self.read_pulse_width_s

    def conveyance_energy_J(self, G: Any) -> np.ndarray:
        """Energy (J) the read rail spends above the line's rest voltage per cell read:
        ``V_rest |G| V_read t`` (dissipated in the hold and the neuron)."""
        return (self.readout_rest_V * np.abs(np.asarray(G, dtype=np.float64)) * self.read_voltage_V
                * self.read_pulse_width_s)

    def hold_power_W(self) -> float:
        """Static power of one line hold (W); 0 when not characterised (see :meth:`assumption_note`)."""
        return max(float(self.readout_power_W), 0.0)

    def assumption_note(self) -> str:
        """One line saying what is assumed for fields this profile lacks ('' when none)."""
        parts = []
        if self.wire_energy_per_cell_J < 0:
            parts.append(f"wire energy per cell derived as wire_energy_per_event_J / {self.n_cols_characterised} "
                         "cells")
        if self.readout_power_W < 0:
            parts.append("no line hold characterised: read-out priced at 0 W, lines assumed at 0 V")
        return f"crossbar profile '{self.name}': " + "; ".join(parts) if parts else ""

    def read_energy_J(self, G: Any) -> np.ndarray:
        """Energy (J) of one read event through conductance(s) ``G`` (S), vectorised.

        ``V**2 * G * t + wire_energy_per_event_J``; negative G is treated as its
        magnitude (a conductance never delivers energy).
        """
        g = np.abs(np.asarray(G, dtype=np.float64))
        return self.read_voltage_V ** 2 * g * self.read_pulse_width_s + self.wire_energy_per_event_J

    def charge_per_event_C(self, G: Any) -> np.ndarray:
        """Charge (C) one read event delivers through conductance(s) ``G``: ``G V t``."""
        return np.asarray(G, dtype=np.float64) * self.read_voltage_V * self.read_pulse_width_s

    @classmethod
    def ideal(cls, *, read_voltage_V: float = 0.1, read_pulse_width_s: float = 10e-9,
              g_ref_S: float = 1e-6, wire_energy_per_event_J: float = 0.0) -> "CrossbarProfile":
        """An analytic profile (no simulation): energy exactly V^2 G t + wire part."""
        e = read_voltage_V ** 2 * g_ref_S * read_pulse_width_s + wire_energy_per_event_J
        return cls(read_voltage_V=read_voltage_V, read_pulse_width_s=read_pulse_width_s,
                   g_ref_S=g_ref_S, read_energy_per_event_J=e,
                   wire_energy_per_event_J=wire_energy_per_event_J, name="ideal_crossbar",
                   provenance={"circuit": "ideal", "note": "analytic V^2 G t; no simulation"})
