"""Point functions: what one sweep point computes, selected by name.

A *point function* takes the resolved parameters of one sweep point (a
frozen dataclass of :func:`eqspike.params.param` fields, so every knob has a
unit, a default and an allowed range), a seed, the training budget and a
context (paths that do not change the result, e.g. the data folder), and
returns a flat dict of scalar results::

    {"test_acc": 0.91, "train_acc": 0.93, "energy_per_inference_J": 2e-9, ...,
     "device_profile_hash": "...", "neuron_profile_hash": "..."}

``test_acc`` and ``train_acc`` (fractions in [0, 1]) are required; every
other key becomes a column of the results table (names carry their unit).
Raising marks the point as failed (the sweep goes on).

Registered functions:

- ``toy``: a fast synthetic point (accuracy = smooth function of ``x`` and
  ``y`` + noise); options to raise, sleep or burn CPU, for tests and for the
  Dask throughput benchmark.
- ``eqspike_device``: the real one (see :mod:`eqspike.sweeps.device_point`):
  build the device profile (NeuroSim pulse-response from nonlinearity,
  levels and variability, or an ngspice-characterised compact model), train
  EqSpike briefly with device-aware synapses on an MNIST subset, evaluate,
  and return accuracy and the energy ledger.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from eqspike.errors import ParameterError
from eqspike.params import param, validate

#: Names every point function must return.
REQUIRED_METRICS = ("test_acc", "train_acc")


@dataclass(frozen=True)
class Budget:
    """Training budget of one sweep point (same for every point of a sweep)."""
    epochs: int = param(1, unit="epoch", low=1, high=10_000, integer=True, doc="training epochs per point")
    n_train: int = param(1000, unit="image", low=1, high=100_000_000, integer=True,
                         doc="training images per point (first n of the training set)")
    n_test: int = param(1000, unit="image", low=1, high=100_000_000, integer=True,
                        doc="test images per point (first n of the test set)")

    def __post_init__(self) -> None:
        validate(self, prefix="sweep.budget.")

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class PointFunction:
    """A registered point function and the dataclass of its parameters."""
    name: str
    params_cls: type
    func: Callable[..., Mapping[str, Any]]
    doc: str

    def param_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.params_cls))

    def run(self, params: Mapping[str, Any], seed: int, budget: Budget,
            context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Build the parameter dataclass and call the function."""
        p = self.params_cls(**params)
        return dict(self.func(p, seed=seed, budget=budget, context=dict(context or {})))


POINTS: dict[str, PointFunction] = {}


def register_point(name: str, params_cls: type, doc: str = "") -> Callable:
    """Decorator: register ``func(params, *, seed, budget, context) -> dict``."""
    def deco(func: Callable) -> Callable:
        POINTS[name] = PointFunction(name, params_cls, func,
                                     doc or (func.__doc__ or "").strip().splitlines()[0])
        return func
    return deco


def get_point(name: str) -> PointFunction:
    """The point function registered as ``name``; clear error if unknown."""
    _load_builtin()
    if name not in POINTS:
        raise ParameterError(f"sweep.point: {name!r} is not a known point function; "
                             f"allowed: {', '.join(sorted(POINTS))}")
    return POINTS[name]


def _load_builtin() -> None:
    # the real point lives in its own module (it imports the trainer lazily)
    from eqspike.sweeps import device_point  # noqa: F401


# ---------------------------------------------------------------- toy point

@dataclass(frozen=True)
class ToyParams:
    """Parameters of the synthetic ``toy`` point."""
    x: float = param(0.0, unit="", low=0, high=1,
                     doc="first synthetic knob (think normalised variability)")
    y: float = param(0.0, unit="", low=0, high=1,
                     doc="second synthetic knob (think normalised nonlinearity)")
    noise: float = param(0.01, unit="", low=0, high=1,
                         doc="std of the Gaussian noise added to the accuracy (seeded)")
    fail_x_above: float = param(1.0, unit="", low=0, high=1,
                                doc="raise RuntimeError when x > this (tests failure handling)")
    sleep_s: float = param(0.0, unit="s", low=0, high=3600, doc="sleep this long (tests kills)")
    work_s: float = param(0.0, unit="s", low=0, high=3600,
                          doc="busy single-core numpy work this long (throughput benchmark)")
    variant: str = param("a", unit="", choices=("a", "b"),
                         doc="a text label that does not change the result (text-valued axes, "
                             "like a device's pulse policy)")

    def __post_init__(self) -> None:
        validate(self)


def toy_accuracy(x: float, y: float) -> float:
    """Noise-free toy test accuracy: 0.95 - 0.5 x^2 - 0.2 y (a fraction)."""
    return 0.95 - 0.5 * x * x - 0.2 * y


def toy_energy_J(x: float, y: float) -> float:
    """Toy energy per inference: cheaper when x (variability) is allowed to grow."""
    return 1e-9 * (1.0 + 4.0 * (1.0 - x) ** 2 + y)


@register_point("toy", ToyParams)
def toy_point(p: ToyParams, *, seed: int, budget: Budget, context: Mapping[str, Any]) -> dict:
    """Synthetic point: accuracy = 0.95 - 0.5 x^2 - 0.2 y + noise (for tests and benchmarks)."""
    import numpy as np
    if p.x > p.fail_x_above:
        raise RuntimeError(f"toy point asked to fail: x={p.x:g} > fail_x_above={p.fail_x_above:g}")
    if p.sleep_s > 0:
        time.sleep(p.sleep_s)
    if p.work_s > 0:
        a = np.random.default_rng(0).standard_normal((96, 96))
        t_end = time.perf_counter() + p.work_s
        while time.perf_counter() < t_end:
            for _ in range(20):
                a = np.tanh(a @ a * 1e-2)
    rng = np.random.default_rng(seed)
    acc = toy_accuracy(p.x, p.y) + p.noise * float(rng.standard_normal())
    acc = min(1.0, max(0.0, acc))
    train_acc = min(1.0, acc + 0.02)
    e_inf = toy_energy_J(p.x, p.y)
    return {"test_acc": acc, "train_acc": train_acc,
            "energy_per_inference_J": e_inf,
            "energy_per_train_example_J": 3.0 * e_inf * budget.epochs,
            "device_profile_hash": f"toy-{p.x:g}-{p.y:g}",
            "neuron_profile_hash": "toy"}


def check_metrics(name: str, metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Validate what a point function returned: required keys, scalar values."""
    if not isinstance(metrics, Mapping):
        raise TypeError(f"point function {name!r} returned {type(metrics).__name__}, not a dict")
    out: dict[str, Any] = {}
    for k in REQUIRED_METRICS:
        if k not in metrics:
            raise KeyError(f"point function {name!r} did not return {k!r}")
    for k, v in metrics.items():
        if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
            v = v.item()
        if v is not None and not isinstance(v, (bool, int, float, str)):
            raise TypeError(f"point function {name!r} returned {k!r} of type "
                            f"{type(v).__name__}; results must be scalars")
        out[k] = v
    for k in REQUIRED_METRICS:
        v = out[k]
        if not isinstance(v, (int, float)) or not (0.0 <= float(v) <= 1.0) or math.isnan(v):
            raise ValueError(f"point function {name!r} returned {k}={v!r}; expected a fraction in [0, 1]")
    return out
