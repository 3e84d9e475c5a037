"""What ``eqspike validate`` reads from a trained run folder.

A run folder of ``eqspike run`` (or of :func:`eqspike.network.hardware.train_on_hardware`
with ``run_dir``) holds ``checkpoint.npz`` (weights, biases, the synapse
backend's device states), ``config.json`` and the three profiles
``device_profile.json`` (absent for ideal synapses), ``neuron_profile.json``
and ``crossbar_profile.json``.

The conductance pair of each weight (siemens):

- device synapses: ``G+ = g_min + s+ u+ (g_max - g_min)`` and the same for
  ``G-`` from the checkpoint's device states (``DeviceSynapses.conductances``),
  with the layer's ``G_ref`` so that ``W = (G+ - G-) / G_ref``;
- ideal synapses: the energy ledger's mapping ``G+ = g_ref max(W, 0)``,
  ``G- = g_ref max(-W, 0)`` with the crossbar profile's ``g_ref_S``, plus
  ``g_floor_S`` on both devices (a real device has no zero conductance; the
  floor cancels in the difference).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eqspike.errors import DataError

__all__ = ["TrainedNetwork", "load_run"]


@dataclass
class TrainedNetwork:
    """A trained network as the chip holds it (see module doc). Conductances in S."""
    sizes: tuple
    W: list                 # realised weights per layer (n_k, n_k+1), dimensionless
    b: list                 # biases per layer (n_k+1,), dimensionless drive units
    g_pos: list             # G+ per layer, S
    g_neg: list             # G- per layer, S
    g_ref: list             # G_ref per layer, S (W = (G+ - G-) / G_ref)
    cfg: Any                # eqspike.network.config.TrainConfig
    neuron: Any             # NeuronProfile
    crossbar: Any           # CrossbarProfile
    device: Any = None      # DeviceProfile or None (ideal synapses)
    run_dir: Path | None = None
    notes: dict = field(default_factory=dict)

    @property
    def device_model(self) -> str | None:
        """Compact-model name of the synapse device (``taox_rram`` ...), None for ideal synapses."""
        if self.device is None:
            return None
        return (self.device.provenance or {}).get("model") or getattr(self.device, "model", None)

    @property
    def device_parameters(self) -> dict:
        return dict((self.device.provenance or {}).get("parameters") or {}) if self.device else {}

    def rule_options(self):
        return self.cfg.rule_options()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"run folder: {path.name} is missing in {path.parent}") from None
    except (OSError, ValueError) as e:
        raise DataError(f"run folder: {path} is unreadable ({e})") from None


def load_run(run_dir: str | Path, *, g_floor_S: float = 1e-7) -> TrainedNetwork:
    """Read a run folder (module doc); :class:`DataError` naming what is missing."""
    from eqspike.circuits.profile import CrossbarProfile, NeuronProfile
    from eqspike.network.config import TrainConfig
    from eqspike.network.trainer import CHECKPOINT, load_checkpoint

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run folder {str(run_dir)!r} does not exist or is not a folder")
    arrays, meta = load_checkpoint(run_dir / CHECKPOINT)
    cfg = TrainConfig.from_dict(meta["config"])
    if cfg.rule != "eqspike":
        raise DataError(f"run folder {run_dir}: rule {cfg.rule!r}; validate needs the spiking rule 'eqspike'")
    for fn in ("neuron_profile.json", "crossbar_profile.json"):
        if not (run_dir / fn).exists():
            raise DataError(f"run folder {run_dir}: {fn} is missing (validate needs the profiles the "
                            "network was trained with; eqspike run writes them)")
    neuron = NeuronProfile.from_json(run_dir / "neuron_profile.json")
    crossbar = CrossbarProfile.from_json(run_dir / "crossbar_profile.json")
    device = None
    if (run_dir / "device_profile.json").exists():
        from eqspike.devices.profile import DeviceProfile
        device = DeviceProfile.from_json(run_dir / "device_profile.json")
    sizes = tuple(int(n) for n in cfg.sizes)
    L = len(sizes) - 1
    W = [np.asarray(arrays[f"W_{k}"], np.float32) for k in range(L)]
    b = [np.asarray(arrays[f"b_{k}"], np.float32) for k in range(L)]
    notes = {}
    if device is not None and "syn__dev_meta" in arrays:
        dm = json.loads(bytes(np.asarray(arrays["syn__dev_meta"], dtype=np.uint8)).decode("utf-8"))
        g_ref = [float(g) for g in dm["g_ref"]]
        g_pos, g_neg = [], []
        g_min = float(device.g_min_S)
        rng = float(device.g_max_S - device.g_min_S)
        for k in range(L):
            up, um = arrays[f"syn__dev_u_p{k}"], arrays[f"syn__dev_u_m{k}"]
            sp, sm = arrays[f"syn__dev_s_p{k}"], arrays[f"syn__dev_s_m{k}"]
            g_pos.append(g_min + sp.astype(np.float64) * up * rng)
            g_neg.append(g_min + sm.astype(np.float64) * um * rng)
        notes["synapses"] = f"device pairs of '{device.name}' from the checkpoint's device states"
    else:
        if device is not None:
            raise DataError(f"run folder {run_dir}: device_profile.json is present but the checkpoint "
                            "holds no device states (syn__dev_meta)")
        g = float(crossbar.g_ref_S)
        g_ref = [g] * L
        g_pos = [g_floor_S + g * np.maximum(w.astype(np.float64), 0.0) for w in W]
        g_neg = [g_floor_S + g * np.maximum(-w.astype(np.float64), 0.0) for w in W]
        notes["synapses"] = (f"ideal synapses mapped as G+- = {g_floor_S:g} S + g_ref max(+-W, 0), "
                             f"g_ref = {g:g} S (crossbar profile)")
    return TrainedNetwork(sizes=sizes, W=W, b=b, g_pos=g_pos, g_neg=g_neg, g_ref=g_ref, cfg=cfg,
                          neuron=neuron, crossbar=crossbar, device=device, run_dir=run_dir, notes=notes)
