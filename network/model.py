"""Layered network state and the synapse backend that receives updates.

Conventions (used by every rule, the trainer and the energy ledger):

- ``sizes = (n_0, n_1, ..., n_L)``: layer 0 is the clamped input, layer L
  the output.
- ``W[k]`` has shape ``(n_k, n_{k+1})`` (float32) and connects layer k to
  layer k+1; it is used in both directions (symmetric EP weights).  The
  forward drive of layer k+1 is ``s_k @ W[k]``, the feedback drive of
  layer k is ``s_{k+1} @ W[k].T``.
- ``b[k]`` has shape ``(n_{k+1},)``: bias of layer k+1.
- States are batch-major: ``s[k]`` has shape ``(batch, n_k)``.

A learning rule never writes ``W`` directly: it computes the desired
changes ``dW`` and ``db`` and calls :meth:`Network.apply_update`, which
hands them to the synapse backend.  :class:`IdealSynapses` adds them; a
device backend (``network.synapses``) turns them into programming pulses on
conductance pairs and writes back the realised weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np


class SynapseBackend(Protocol):
    """Receives weight updates and owns how they are realised."""

    def apply(self, net: "Network", dW: Sequence[np.ndarray], db: Sequence[np.ndarray]) -> None:
        """Apply desired changes ``dW``/``db`` to ``net.W``/``net.b`` in place."""

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to checkpoint (empty for ideal synapses)."""

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` returned."""


class IdealSynapses:
    """Floating-point weights: ``W += dW``, ``b += db``."""

    def apply(self, net: "Network", dW, db) -> None:
        for k, (dw, dbk) in enumerate(zip(dW, db)):
            if dw is not None:
                net.W[k] += dw.astype(net.W[k].dtype, copy=False)
            if dbk is not None:
                net.b[k] += dbk.astype(net.b[k].dtype, copy=False)

    def state(self) -> dict[str, np.ndarray]:
        return {}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        return None


@dataclass
class Network:
    """Weights and biases of a layered symmetric network (see module doc)."""
    sizes: tuple[int, ...]
    W: list[np.ndarray]
    b: list[np.ndarray]
    synapses: SynapseBackend = field(default_factory=IdealSynapses)

    @property
    def n_layers(self) -> int:
        """Number of weight layers (L)."""
        return len(self.W)

    def apply_update(self, dW: Sequence[np.ndarray], db: Sequence[np.ndarray]) -> None:
        """Hand desired weight/bias changes to the synapse backend."""
        self.synapses.apply(self, dW, db)

    @classmethod
    def init(cls, sizes: Sequence[int], rng: np.random.Generator,
             dtype=np.float32, synapses: SynapseBackend | None = None) -> "Network":
        """Glorot-uniform-like initialisation, ``U(-a, a)``, a = sqrt(6/(n_in+n_out))/2."""
        sizes = tuple(int(n) for n in sizes)
        W, b = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            a = np.sqrt(6.0 / (n_in + n_out)) / 2
            W.append(rng.uniform(-a, a, size=(n_in, n_out)).astype(dtype))
            b.append(np.zeros(n_out, dtype=dtype))
        return cls(sizes, W, b, synapses or IdealSynapses())
