"""What every compact model shares: the registry entry, the drive settings,
number formatting for netlists and device-to-device sampling.

A compact model is a frozen, validated dataclass of parameters (SI units,
:func:`eqspike.params.param` fields) with

- ``subckt(name)``: the ``.subckt`` text (behavioural sources; every state
  variable is the voltage on a 1 F capacitor, charged by a B-source current
  equal to its time derivative; ``.ic`` is given at top level);
- ``ic(path)``: ``{node: value}`` initial states for the instance at ``path``
  (e.g. ``"x1"`` -> ``{"x1.x": 0.0}``);
- ``D2D_PARAMS``: the parameters a device-to-device Monte Carlo spreads
  (multiplied by a log-normal factor ``exp(sigma * N(0, 1))``).

Two-terminal models have pins ``(p, n)``: a positive ``v(p, n)`` potentiates
(raises the conductance).  The FeFET has pins ``(g, d, s)``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from eqspike.errors import ParameterError
from eqspike.params import param, validate

__all__ = ["ModelSpec", "PulseDrive", "IVDrive", "fmt", "end_subckt", "sample_d2d", "params_dict", "K_B_EV"]

#: Boltzmann constant, eV/K.
K_B_EV = 8.617333262e-5


def fmt(v: float) -> str:
    """A float as SPICE text (plain exponent notation, 12 significant digits)."""
    v = float(v)
    if not math.isfinite(v):
        raise ParameterError(f"cannot write non-finite value {v!r} into a netlist")
    return f"{v:.12g}"


def end_subckt(lines: list[str], noise_period_s: float | None = None) -> str:
    """Close a ``.subckt``: with ``noise_period_s``, first the cycle-to-cycle noise
    source ``nz`` (unit Gaussian redrawn every ``noise_period_s``, ``trrandom``),
    then ``.ends``; returns the subcircuit text."""
    if noise_period_s is not None:
        lines = [*lines, f"Vnz nz 0 dc 0 trrandom(1 {fmt(noise_period_s)} 0 1 0)"]
    return "\n".join([*lines, ".ends"]) + "\n"


@dataclass(frozen=True)
class PulseDrive:
    """Write/read waveform of a pulse-train characterisation (SI units).

    Each pulse: ramp ``rise_s`` to the amplitude, hold ``pulse_width_s``,
    ramp back, rest ``gap_s``, read at ``read_V`` for ``read_s`` (the current
    is sampled in the middle of the read window), rest ``gap_s``.  For the
    FeFET the write amplitude goes on the gate and the read puts ``read_V``
    on the drain with ``read_gate_V`` on the gate.
    """
    pulse_up_V: float = param(1.0, unit="V", low=0, high=100, low_open=True, doc="potentiating amplitude")
    pulse_down_V: float = param(-1.0, unit="V", low=-100, high=0, high_open=True, doc="depressing amplitude")
    pulse_width_s: float = param(1e-7, unit="s", low=0, high=1, low_open=True, doc="write pulse width (flat top)")
    rise_s: float = param(5e-9, unit="s", low=0, high=1, low_open=True, doc="write/read edge time")
    read_V: float = param(0.1, unit="V", low=0, high=10, low_open=True, doc="read voltage (drain for FeFET)")
    read_s: float = param(5e-8, unit="s", low=0, high=1, low_open=True, doc="read window")
    gap_s: float = param(2e-8, unit="s", low=0, high=1, doc="rest between write and read phases")
    read_gate_V: float = param(0.0, unit="V", low=-10, high=10, doc="FeFET gate voltage while reading")

    def __post_init__(self) -> None:
        validate(self)

    @property
    def period_s(self) -> float:
        """Duration of one write + read cycle."""
        return 2 * self.rise_s + self.pulse_width_s + 2 * self.gap_s + 2 * self.rise_s + self.read_s


@dataclass(frozen=True)
class IVDrive:
    """Quasi-static triangular sweep 0 -> +amp -> 0 -> -amp -> 0 (``cycles`` times)."""
    amplitude_V: float = param(1.0, unit="V", low=0, high=100, low_open=True, doc="peak sweep voltage")
    period_s: float = param(1e-3, unit="s", low=0, high=1e3, low_open=True, doc="period of one loop")
    points: int = param(400, unit="", low=20, high=100000, integer=True, doc="points per loop (max step)")
    cycles: int = param(1, unit="", low=1, high=100, integer=True, doc="loops")
    negative_amplitude_V: float = param(0.0, unit="V", low=0, high=100,
                                        doc="peak of the negative half (0: same as amplitude_V)")

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class ModelSpec:
    """Registry entry of one compact model."""
    name: str
    params_cls: type
    kind: str  # "two_terminal" or "fefet"
    description: str
    source: str
    drive: PulseDrive
    iv: IVDrive
    #: pulses per direction of the default characterisation
    n_pulses: int = 50
    #: ngspice options for accurate energies (findings: default reltol 1e-3 gave 40 % errors)
    options: str = ".options method=gear reltol=1e-4"
    #: many instances in one netlist are well-conditioned (timings: benchmarks/results/devices.md)
    many_in_one: bool = True

    def params(self, overrides: Mapping[str, Any] | None = None):
        """Default parameters with ``overrides`` applied (validated)."""
        from eqspike.params import replace_checked
        p = self.params_cls()
        return replace_checked(p, dict(overrides)) if overrides else p


def params_dict(p: Any) -> dict[str, Any]:
    """Parameters as a JSON-friendly dict."""
    out = {}
    for f in dataclasses.fields(p):
        v = getattr(p, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def sample_d2d(p: Any, rng: np.random.Generator, sigma: float) -> Any:
    """A copy of ``p`` with each of ``type(p).D2D_PARAMS`` multiplied by exp(sigma N(0,1))."""
    if sigma < 0 or not math.isfinite(sigma):
        raise ParameterError(f"parameter 'd2d_sigma' = {sigma!r} must be a finite value >= 0")
    names = getattr(type(p), "D2D_PARAMS", ())
    upd = {}
    for n in names:
        v = getattr(p, n)
        if isinstance(v, tuple):
            upd[n] = tuple(float(x * math.exp(sigma * rng.standard_normal())) for x in v)
        else:
            upd[n] = float(v * math.exp(sigma * rng.standard_normal()))
    return dataclasses.replace(p, **upd)
