"""Spiking neurons of the EqSpike rule: encoders, leaky membranes, readout.

A neuron of layer k keeps an analog membrane ``u`` and emits binary spikes
``S(t)`` in {0, 1}; its activation ``r = rho(u)`` (dimensionless rate in
[0, 1], spikes per step) is what the spike train encodes.  A spike carries
``theta`` units of rate, so the spike rate is ``r / theta`` and
``theta * S`` is an unbiased (Bernoulli) or error-bounded (sigma-delta)
estimate of ``r``.  Input pixels (intensity in [0, 1]) are encoded the same
way with the pixel as rate.

Encoders (selected by name, ``ENCODERS``):

- ``sigma_delta``: integrate-and-fire with reset by subtraction, i.e. a
  first-order sigma-delta modulator of the neuron's own activation
  (``../shared/docs/eqspike-algorithm.md`` section 2)::

      a += r;  S = [a >= theta];  a -= theta * S

  deterministic; the running spike count never differs from the integral of
  ``r / theta`` by more than one spike.
- ``bernoulli``: stochastic, ``S = [U < r / theta]`` with ``U`` uniform in
  [0, 1); memoryless, so a spike emitted at step t+1 is independent of
  everything that happened up to step t given ``r(t+1)`` (the property the
  ``delayed`` pairing of the rule relies on).

The uniform numbers come from a counter-based hash (splitmix64 finaliser of
``seed`` and the (image, step, neuron) counter), not from a stateful
generator: the dense numpy path and the compiled event-driven path
(``network/event.py``) draw exactly the same numbers in any order and on
any number of threads, so they produce the same spikes.

Membrane (leaky integration of incoming spikes, eps the leak per step)::

    u(t+1) = (1 - eps) u(t) + eps * drive(t),
    drive_k(t) = theta * (S_{k-1}(t) @ W[k-1] + S_{k+1}(t) @ W[k].T) + b[k-1]

Readout of the output layer (``READOUTS``): ``membrane`` (argmax of the
output membranes at the end of the free phase) or ``spike_count`` (argmax of
output spikes counted over the last ``window`` steps, ties broken by the
membrane).
"""
from __future__ import annotations

import numpy as np

from eqspike.errors import ParameterError

#: spike encoders by name, with the integer code used by compiled kernels
ENCODERS: dict[str, int] = {"sigma_delta": 0, "bernoulli": 1}
#: output readouts by name
READOUTS = ("membrane", "spike_count")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
#: steps per image reserved in the random counter (phases never exceed this)
COUNTER_STEPS = 1 << 16


def encoder_code(name: str) -> int:
    """Integer code of encoder ``name``; clear error if unknown."""
    if name not in ENCODERS:
        raise ParameterError(f"parameter 'encoder' = {name!r} is not a known spike encoder; "
                             f"allowed: {', '.join(repr(k) for k in ENCODERS)}")
    return ENCODERS[name]


def uniform_hash(seed: int, counter: np.ndarray) -> np.ndarray:
    """Uniform float32 numbers in [0, 1) from ``seed`` and uint64 ``counter``s.

    splitmix64 finaliser of ``seed + GOLDEN * (counter + 1)``, top 24 bits.
    The compiled kernel (``event._uniform``) computes the same function.
    """
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + _GOLDEN * (np.asarray(counter, dtype=np.uint64) + np.uint64(1))
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / (1 << 24))


def spike_counter(b: np.ndarray, t: int, g: np.ndarray, n_total: int) -> np.ndarray:
    """Counter of (image ``b``, step ``t``, flat neuron index ``g``) for :func:`uniform_hash`."""
    b = np.asarray(b, dtype=np.uint64)
    g = np.asarray(g, dtype=np.uint64)
    return (b * np.uint64(COUNTER_STEPS) + np.uint64(t)) * np.uint64(n_total) + g


def encode_step(rate: np.ndarray, acc: np.ndarray, code: int, theta: float,
                seed: int, t: int, b_idx: np.ndarray, g_idx: np.ndarray,
                n_total: int) -> np.ndarray:
    """Spikes (float32 0/1, shape of ``rate``) of one step; updates ``acc`` in place.

    ``rate`` (B, n) in [0, 1]; ``acc`` (B, n) sigma-delta accumulators;
    ``b_idx`` (B, 1) image indices and ``g_idx`` (1, n) flat neuron indices
    (they key the Bernoulli random numbers).
    """
    if code == 0:  # sigma-delta, reset by subtraction
        acc += rate
        s = (acc >= theta).astype(np.float32)
        acc -= theta * s
        return s
    u = uniform_hash(seed, spike_counter(b_idx, t, g_idx, n_total))
    return (u * np.float32(theta) < rate).astype(np.float32)


def membrane_step(u: np.ndarray, drive: np.ndarray, eps: float) -> np.ndarray:
    """Leaky integration in place: ``u += eps * (drive - u)``; returns ``u``."""
    u += np.float32(eps) * (drive - u)
    return u


def readout(u_out: np.ndarray, counts_out: np.ndarray | None, mode: str) -> np.ndarray:
    """Predicted class per image from output membranes or output spike counts."""
    if mode == "membrane" or counts_out is None:
        return np.argmax(u_out, axis=1)
    if mode == "spike_count":
        # counts are integers; the membrane (|u| << 1e3) only breaks ties
        return np.argmax(counts_out.astype(np.float64) + 1e-3 * np.tanh(u_out), axis=1)
    raise ParameterError(f"parameter 'readout' = {mode!r} is not allowed; allowed: {READOUTS}")


def averaging_weights(T: int, n_avg: int) -> np.ndarray:
    """End-of-phase averaging weights ``w(t)``, t = 0..T-1, of the per-step updates.

    ``w(t) = min(1, (T - t) / n)`` with ``n = min(n_avg, T)``: the weighted
    sum of ``f(t+1) - f(t)`` telescopes to ``mean(f(T-n+1..T)) - f(0)``,
    i.e. the phase end point is replaced by its average over the last n
    steps.  ``n_avg = 0`` gives all ones (plain C-EP accumulation).
    """
    t = np.arange(T, dtype=np.float64)
    if n_avg <= 0:
        return np.ones(T, dtype=np.float32)
    n = min(int(n_avg), T)
    return np.minimum(1.0, (T - t) / n).astype(np.float32)
