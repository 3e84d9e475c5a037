"""Pulse counts of the rounding policy family (simulator mode): ``sign``, ``round``,
``stochastic``.

:func:`pulse_counts` turns desired changes in units of the local device step,
``x = |dW| / step``, into whole pulse counts (the module doc of
:mod:`eqspike.network.synapses` defines the policies; the ``accumulate``
residual policy is applied by :class:`~eqspike.network.synapses.DeviceSynapses`
and its compiled kernel, :mod:`eqspike.network._synapse_kernels`).
"""
from __future__ import annotations

import numpy as np

from eqspike.errors import ParameterError

POLICIES = ("sign", "round", "stochastic", "accumulate")


def pulse_counts(x: np.ndarray, policy: str, *, max_pulses: int, sign_threshold: float = 0.5,
                 rng: np.random.Generator | None = None, inplace: bool = False,
                 out: np.ndarray | None = None) -> np.ndarray:
    """Number of pulses (int32 >= 0) for desired changes ``x`` = |dW| / local step (>= 0).

    ``sign``: 1 where ``x >= sign_threshold``; ``round``: ``floor(x + 0.5)``;
    ``stochastic``: ``floor(x + U)`` with ``U ~ Uniform[0, 1)`` from ``rng``,
    i.e. ``floor(x) + 1`` with probability ``frac(x)`` (stochastic rounding).
    All capped at ``max_pulses``.  ``inplace`` lets the function overwrite
    ``x`` (float32 work array) and ``out`` receives the counts, so the hot
    path allocates nothing.
    """
    x = np.asarray(x)
    if out is None:
        out = np.empty(x.shape, dtype=np.int32)
    if policy == "sign":
        np.greater_equal(x, sign_threshold, out=out, casting="unsafe")
        return out
    if not inplace:
        x = x.astype(np.float32 if x.dtype == np.float32 else np.float64, copy=True)
    np.minimum(x, np.float32(max_pulses), out=x)  # also maps inf -> max_pulses
    if policy == "round":
        x += np.float32(0.5)
    elif policy == "stochastic":
        if rng is None:
            raise ParameterError("stochastic pulse policy needs a random generator")
        if x.dtype == np.float32:
            u = rng.random(size=x.shape, dtype=np.float32)
        else:
            u = rng.random(size=x.shape)
        x += u
    else:
        raise ParameterError(f"parameter 'policy' = {policy!r} is not allowed; allowed: "
                             f"{', '.join(POLICIES)}")
    np.copyto(out, x, casting="unsafe")  # truncation = floor for x >= 0
    np.minimum(out, max_pulses, out=out)
    return out
