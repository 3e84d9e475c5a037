"""Activation functions rho of the EP neurons, chosen by name or given as a callable.

Every activation is a pure numpy function ``rho(x, out=None) -> array``
(dimensionless: the neuron's normalised state / firing rate in [0, 1]).
``out`` lets the dynamics apply rho in place (``rho(pre, out=pre)``), which
saves an allocation per step in the hot loop.

- ``hard_sigmoid``: ``clip(x, 0, 1)`` (Ernoult et al. 2019; the reference
  rate-based EP setting of this project).
- ``sigmoid``: logistic ``1 / (1 + exp(-4 (x - 0.5)))``, centred on 0.5 with
  slope 1 there so it matches the hard sigmoid's linear part.

A custom callable (issue 6 plugs a neuron circuit's normalised f-I curve) is
wrapped by :func:`get_activation`; it only needs ``f(x) -> array`` of the same
shape. :func:`tabulated` builds one from a measured table (linear
interpolation, clamped at the ends).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from eqspike.errors import ParameterError

Activation = Callable[..., np.ndarray]


def hard_sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``clip(x, 0, 1)``; in place when ``out is x``."""
    if isinstance(x, np.ndarray):
        return x.clip(0.0, 1.0, out=out)  # the method skips np.clip's dispatch (hot loop)
    return np.clip(x, 0.0, 1.0, out=out)


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic ``1 / (1 + exp(-4 (x - 0.5)))`` (slope 1 at x = 0.5)."""
    if out is None:
        out = np.empty_like(x)
    np.subtract(x, 0.5, out=out)
    out *= -4.0
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


ACTIVATIONS: dict[str, Activation] = {"hard_sigmoid": hard_sigmoid, "sigmoid": sigmoid}


class CustomActivation:
    """Wraps ``f(x) -> array`` so it accepts ``out=`` like the built-ins."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], name: str | None = None):
        if not callable(fn):
            raise ParameterError(f"activation {fn!r} is neither a known name nor callable; "
                                 f"known: {', '.join(ACTIVATIONS)}")
        self.fn = fn
        self.__name__ = name or getattr(fn, "__name__", "custom")

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        y = np.asarray(self.fn(x))
        if y.shape != np.shape(x):
            raise ParameterError(f"custom activation {self.__name__} returned shape {y.shape} "
                                 f"for input shape {np.shape(x)}")
        if out is None:
            return y.astype(np.asarray(x).dtype, copy=False)
        out[...] = y
        return out


def get_activation(spec: str | Callable | None) -> Activation:
    """The activation for a name (``hard_sigmoid``, ``sigmoid``) or a callable.

    ``None`` gives ``hard_sigmoid``. Built-ins are returned as they are;
    callables that do not take ``out=`` are wrapped in :class:`CustomActivation`.
    """
    if spec is None:
        return hard_sigmoid
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ParameterError(f"parameter 'activation' = {spec!r} is not allowed; "
                                 f"allowed: {', '.join(repr(k) for k in ACTIVATIONS)}")
        return ACTIVATIONS[spec]
    if spec in ACTIVATIONS.values() or isinstance(spec, CustomActivation):
        return spec
    return CustomActivation(spec)


def tabulated(x_points: Sequence[float], y_points: Sequence[float],
              name: str = "tabulated") -> CustomActivation:
    """Activation from a table (e.g. a normalised f-I curve): linear interpolation,
    constant beyond the ends. ``x_points`` must be strictly increasing."""
    xp = np.asarray(x_points, dtype=np.float64)
    yp = np.asarray(y_points, dtype=np.float64)
    if xp.ndim != 1 or xp.shape != yp.shape or xp.size < 2:
        raise ParameterError("tabulated activation needs two 1-D tables of equal length >= 2")
    if not np.all(np.diff(xp) > 0):
        raise ParameterError("tabulated activation: x_points must be strictly increasing")
    if not (np.all(np.isfinite(xp)) and np.all(np.isfinite(yp))):
        raise ParameterError("tabulated activation: tables must be finite")

    def f(x: np.ndarray) -> np.ndarray:
        return np.interp(x, xp, yp).astype(np.asarray(x).dtype, copy=False)

    return CustomActivation(f, name=name)
