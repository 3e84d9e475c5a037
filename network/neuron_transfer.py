"""A neuron circuit's measured f-I curve as the network's activation rho, and circuit time.

The network's neurons are dimensionless: a neuron with membrane (net input)
``x`` fires at the normalised rate ``rho(x)`` in [0, 1].  A
:class:`eqspike.circuits.profile.NeuronProfile` measured in ngspice gives the
same thing for a circuit: ``rate_norm = rate / max_rate_Hz`` against
``input_norm = I_in / input_scale_A``.  We identify the network's ``x`` with
``input_norm`` (the crossbar column current divided by the profile's input
scale), so

    rho(x) = interp(x, input_norm, rate_norm), clipped to [0, 1]

(piecewise linear, end values held outside the table: no firing below the
table's start, saturation above its end).  The hard sigmoid ``clip(x, 0, 1)``
is the special case of a perfectly linear circuit that saturates at
``input_scale_A``.

Circuit time
------------
With the rule's sigma-delta / Bernoulli encoders a neuron at ``rho = 1``
emits ``1 / theta`` spikes per simulation step (``theta`` = the rule's rate
carried by one spike, 1 by default).  The circuit at full rate emits
``max_rate_Hz`` spikes per second.  So one simulation step lasts the time in
which a neuron at maximum rate emits ``1 / theta`` spikes:

    step_time_s = 1 / (theta * max_rate_Hz),   steps_per_second = theta * max_rate_Hz

and a phase of ``T`` steps lasts ``T * step_time_s`` of circuit time (used by
the energy ledger for leakage).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from eqspike.errors import ParameterError, ProfileError

__all__ = ["NeuronTransfer", "neuron_activation", "step_time_s", "steps_per_second"]


class NeuronTransfer:
    """Callable activation ``rho(x, out=None)`` from a neuron profile's f-I table.

    Vectorised (any shape; float32 stays float32); ``out`` may be ``x`` (in
    place), as the network's built-in activations allow.  :meth:`derivative`
    gives the slope (0 outside the table).
    """

    def __init__(self, profile: Any):
        for f in ("input_norm", "rate_norm", "max_rate_Hz"):
            if not hasattr(profile, f):
                raise ProfileError(f"neuron profile {profile!r} has no field '{f}'; "
                                   "expected a NeuronProfile")
        xs = np.asarray(profile.input_norm, dtype=np.float64)
        ys = np.asarray(profile.rate_norm, dtype=np.float64)
        if xs.ndim != 1 or xs.shape != ys.shape or xs.size < 2:
            raise ProfileError("neuron profile: input_norm and rate_norm must be 1-D tables of "
                               f"equal length >= 2 (got {xs.shape} and {ys.shape})")
        if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))) or np.any(np.diff(xs) <= 0):
            raise ProfileError("neuron profile: input_norm must be finite and strictly increasing")
        self.profile = profile
        self.xs = xs
        self.ys = np.clip(ys, 0.0, 1.0)
        self.__name__ = f"neuron:{getattr(profile, 'name', 'profile')}"

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        xa = np.asarray(x)
        y = np.interp(xa, self.xs, self.ys)
        dtype = xa.dtype if np.issubdtype(xa.dtype, np.floating) else np.float64
        if out is None:
            return y.astype(dtype, copy=False)
        out[...] = y
        return out

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """d rho / dx (slope of the segment right of x; 0 outside the table)."""
        xa = np.asarray(x, dtype=np.float64)
        slopes = np.diff(self.ys) / np.diff(self.xs)
        i = np.searchsorted(self.xs, xa, side="right") - 1
        inside = (i >= 0) & (i < slopes.size)
        return np.where(inside, slopes[np.clip(i, 0, slopes.size - 1)], 0.0)

    def __repr__(self) -> str:
        return f"NeuronTransfer({self.__name__}, {self.xs.size} points)"


def neuron_activation(profile: Any) -> NeuronTransfer:
    """The network activation rho for ``profile`` (see the module doc)."""
    return NeuronTransfer(profile)


def step_time_s(profile: Any, theta: float = 1.0) -> float:
    """Circuit time of one simulation step (s): ``1 / (theta * max_rate_Hz)``."""
    f = float(profile.max_rate_Hz)
    if not (f > 0 and np.isfinite(f)):
        raise ProfileError(f"neuron profile: max_rate_Hz = {f!r} must be positive and finite")
    if not (theta > 0 and np.isfinite(theta)):
        raise ParameterError(f"parameter 'theta' = {theta!r} must be positive")
    return 1.0 / (float(theta) * f)


def steps_per_second(profile: Any, theta: float = 1.0) -> float:
    """Simulation steps per second of circuit time: ``theta * max_rate_Hz``."""
    return 1.0 / step_time_s(profile, theta)
