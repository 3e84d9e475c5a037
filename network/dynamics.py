"""Rate-based discrete-time EP dynamics shared by the learning rules.

Discrete-time EP (Ernoult et al. 2019, arXiv:1905.13633), synchronous update
of all layers from the states of the previous step::

    s_k(t+1) = rho( s_{k-1}(t) W[k-1] + s_{k+1}(t) W[k]^T + b[k-1] )      (hidden)
    s_L(t+1) = rho( s_{L-1}(t) W[L-1] + b[L-1] ) + beta (y - s_L(t))      (output)

with the input ``s_0 = x`` clamped, so its drive ``x W[0] + b[0]`` is
computed once per mini-batch (:func:`input_drive`).  States are
batch-major float32; ``states`` lists layers 1..L (the input is not in it).

``beta`` may be a scalar or a per-row column ``(B, 1)``: stacking the +beta
and -beta copies of a batch into one ``(2B, n)`` batch lets symmetric
nudging run both nudged phases in one loop (half the Python overhead).

One hidden layer with the hard sigmoid (the 784-500-10 reference) runs in
a numba kernel (``network._fast``, ~2x faster per step); other shapes and
activations use the numpy loop below. Both follow the same equations.

Used by ``rules.cep`` (training and inference) and available to the spiking
rule (rate inference, reference fixed points).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .activations import hard_sigmoid


def input_drive(net, x: np.ndarray) -> np.ndarray:
    """``x @ W[0] + b[0]``: the constant drive of layer 1 by the clamped input."""
    ff = x @ net.W[0]
    ff += net.b[0]
    return ff


def zero_states(sizes: Sequence[int], batch: int, dtype=np.float32) -> list[np.ndarray]:
    """All-zero states of layers 1..L for a batch."""
    return [np.zeros((batch, n), dtype=dtype) for n in sizes[1:]]


def relax(net, ff: np.ndarray, states: list[np.ndarray], steps: int,
          rho: Callable = hard_sigmoid, *, beta: float | np.ndarray | None = None,
          y: np.ndarray | None = None) -> list[np.ndarray]:
    """Run ``steps`` synchronous steps from ``states``; returns the new states.

    ``ff`` is :func:`input_drive` (rows matching the states). With ``beta``
    (scalar or ``(B, 1)``) and target ``y`` ``(B, n_L)`` the output layer is
    nudged. The input list is not modified.
    """
    W, b = net.W, net.b
    L = len(states)
    if L == 2 and rho is hard_sigmoid and ff.dtype == np.float32 and _use_numba():
        from ._fast import relax_fast
        return relax_fast(net, ff, states, steps, beta if nudge_on(beta, y) else None, y)
    WT = [w.T for w in W]
    s = list(states)
    nudge = nudge_on(beta, y)
    if nudge:
        by = (beta * y).astype(s[-1].dtype, copy=False)
    for _ in range(steps):
        new = [None] * L
        for i in range(L):  # i -> layer i+1
            if i + 1 < L:
                pre = s[i + 1] @ WT[i + 1]
                if i == 0:
                    pre += ff
                else:
                    pre += s[i - 1] @ W[i]
                    pre += b[i]
            elif i == 0:
                pre = ff.copy()
            else:
                pre = s[i - 1] @ W[i]
                pre += b[i]
            rho(pre, out=pre)
            new[i] = pre
        if nudge:
            out = new[-1]
            out += by
            out -= beta * s[-1]
        s = new
    return s


def nudge_on(beta, y) -> bool:
    """Whether ``beta``/``y`` ask for nudging."""
    return beta is not None and y is not None and not (np.isscalar(beta) and beta == 0)


def _use_numba() -> bool:
    """The compiled 1-hidden-layer kernel (``network._fast``) unless ``$EQSPIKE_NUMBA=0``."""
    import os
    if os.environ.get("EQSPIKE_NUMBA", "1") == "0":
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def free_phase(net, x: np.ndarray, steps: int, rho: Callable = hard_sigmoid,
               states: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Free phase from zero (or given) states: ``(states, ff)``."""
    ff = input_drive(net, x)
    if states is None:
        states = zero_states(net.sizes, x.shape[0], ff.dtype)
    return relax(net, ff, states, steps, rho), ff
