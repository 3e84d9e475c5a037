"""The vectorised model's free (inference) phase, with every spike recorded.

Same dynamics as :func:`eqspike.network.event_reference.phase_dense` with beta = 0 and
no learning, built from the same pieces (:func:`eqspike.network.spiking.encode_step`,
:func:`~eqspike.network.spiking.membrane_step`) and the rule's inference
encoders (sigma-delta by default), but keeping the spike raster
``S[t, b, neuron]`` that ngspice is compared with.  ``tests/test_validate.py``
checks that its predictions equal the rule's own ``predict``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqspike.network import spiking

__all__ = ["FreePhase", "free_phase"]


@dataclass
class FreePhase:
    """Spikes ``S`` (T, B, N) uint8 over all layers (layer 0 = input), membranes ``u_end``
    (B, N) after the last step, predicted class per image, and the layer offsets."""
    S: np.ndarray
    u_end: np.ndarray
    pred: np.ndarray
    offsets: np.ndarray
    #: steps each neuron spent with a positive membrane (B, N): its spike generator gets input
    #: current then (the transconductor passes ``clip(u, 0, 1)``); layer 0 counts its non-zero pixels
    active_steps: np.ndarray | None = None
    #: spikes registering at step T (B, N): drawn after the last update, outside the raster;
    #: a circuit simulated for T steps fires them in its last step (energy window)
    S_end: np.ndarray | None = None
    #: the images (B, n_0), clipped to [0, 1]
    x: np.ndarray | None = None

    def layer(self, k: int) -> np.ndarray:
        """Spikes of layer k, (T, B, n_k)."""
        return self.S[:, :, self.offsets[k]:self.offsets[k + 1]]

    def counts(self) -> np.ndarray:
        """Spikes per neuron over the phase, (B, N)."""
        return self.S.sum(axis=0).astype(np.int64)

    def first_spike_step(self) -> np.ndarray:
        """Step of each neuron's first spike (B, N); -1 when it never spikes."""
        any_ = self.S.any(axis=0)
        return np.where(any_, np.argmax(self.S, axis=0), -1)


def free_phase(net, x: np.ndarray, *, T: int | None = None, seed: int = 1) -> FreePhase:
    """Free phase of ``net`` (a :class:`~.runfolder.TrainedNetwork`) on images ``x`` (B, n_0).

    Uses the rule's inference spec (``infer_encoder``) and activation (the
    neuron profile's f-I curve when the run trained with it, see
    ``config.json``; here always the profile's curve unless the run used the
    hard sigmoid).
    """
    from eqspike.network.rules.eqspike_rule import EqSpikeRule
    rule = EqSpikeRule(net.cfg, np.random.default_rng(0), activation=activation_of(net))
    spec = rule.infer_spec
    T = int(net.cfg.T1 if T is None else T)
    x = np.clip(np.asarray(x, np.float32), 0.0, 1.0)
    B = x.shape[0]
    off = spec.offsets
    N = int(off[-1])
    L = len(spec.sizes) - 1
    u = np.zeros((B, N), np.float32)
    r = np.zeros((B, N), np.float32)
    r[:, off[0]:off[1]] = x
    for k in range(1, L + 1):
        r[:, off[k]:off[k + 1]] = spec.act_fn(u[:, off[k]:off[k + 1]].copy())
    acc = np.zeros((B, N), np.float32)
    b_idx = np.arange(B, dtype=np.uint64)[:, None]
    th = np.float32(spec.theta)

    def draw(t):
        out = np.zeros((B, N), np.float32)
        for k in range(L + 1):
            sl = slice(off[k], off[k + 1])
            g = np.arange(off[k], off[k + 1], dtype=np.uint64)[None, :]
            a = acc[:, sl]
            out[:, sl] = spiking.encode_step(r[:, sl], a, spec.enc[k], spec.theta, seed, t, b_idx, g, N)
            acc[:, sl] = a
        return out

    raster = np.zeros((T, B, N), np.uint8)
    active = np.zeros((B, N), np.int64)
    active[:, off[0]:off[1]] = T * (x > 0)
    S = draw(0)
    for t in range(T):
        raster[t] = S
        drives = []
        for k in range(1, L + 1):
            d = th * (S[:, off[k - 1]:off[k]] @ net.W[k - 1]) + net.b[k - 1]
            if k < L:
                d += th * (S[:, off[k + 1]:off[k + 2]] @ net.W[k].T)
            drives.append(d)
        for k in range(1, L + 1):
            sl = slice(off[k], off[k + 1])
            uk = u[:, sl]
            spiking.membrane_step(uk, drives[k - 1], spec.eps)
            u[:, sl] = uk
            active[:, sl] += uk > 0
            r[:, sl] = spec.act_fn(uk.copy())
        S = draw(t + 1)
    p = rule.p
    window = min(int(p.readout_window), T)
    out_counts = raster[T - window:, :, off[L]:off[L + 1]].sum(axis=0).astype(np.int64)
    pred = spiking.readout(u[:, off[L]:off[L + 1]], out_counts, p.readout)
    return FreePhase(S=raster, u_end=u, pred=np.asarray(pred), offsets=np.asarray(off), active_steps=active,
                     S_end=S.astype(np.uint8), x=x)


def activation_of(net):
    """rho of the run as ``config.json`` records it: the neuron profile's f-I curve
    (``"neuron:<name>"``), else None (the config's built-in activation, e.g. the hard sigmoid)."""
    from eqspike.network.neuron_transfer import NeuronTransfer
    cfg_json = (net.run_dir / "config.json") if net.run_dir is not None else None
    act = "neuron:"
    if cfg_json is not None and cfg_json.exists():
        import json
        try:
            act = str(json.loads(cfg_json.read_text()).get("activation", act))
        except ValueError:
            pass
    return NeuronTransfer(net.neuron) if act.startswith("neuron:") else None
