"""Chip mode: batch-1 training whose weights change only through device pulses.

:class:`ChipSynapses` is the synapse backend of the ``eqspike_chip`` rule
(:mod:`eqspike.network.rules.eqspike_chip`), which runs every example on
its own through the compiled kernel :mod:`eqspike.network.chip_kernel`.  No
``dW`` is ever formed: during the nudged phases a presynaptic spike on a row
that coincides with an update pulse of the postsynaptic neuron's column
moves a device (and the reverse term of the symmetric rule the other way
round); the neuron sets the pulse's sign and count from its own activity
change (stochastic coincidence, Gokmen & Vlasov 2016).  See the kernel's
module doc for the arithmetic.

What the chip holds (and all that this backend holds):

- **per synapse**: the two devices of the pair, ``u_p``/``u_m`` (normalised
  conductance state, float32) and their d2d scales ``s_p``/``s_m`` (a
  physical property of each device, drawn once); with the ``residual``
  policy also the ``B``-bit register ``regs[k]`` (int32 holding B bits;
  ``residual_float``: float32).  ``net.W`` is the crossbar's read-out view
  ``(G+ - G-)/G_ref``, rewritten by every pulse; nothing else per synapse.
- **per neuron** (in the kernel, not kept between examples): membrane,
  activity, its previous value (for drho), sigma-delta accumulator, the
  free-phase end state from which each nudged phase restarts, and the bias
  (a per-neuron register, float).

Pulse probability: ``x = prob_scale * lr * theta * w(t) |drho| / (beta
n_phases batch_size n_samples) / step_nominal`` pulses per slot (expected),
``step_nominal`` = one mean step of the level train, ``1 / (n_levels - 1)``
of the range (the neuron cannot know a device's present G; the device
applies its actual step at the present G).  ``batch_size`` only normalises
the learning rate (the same ``lr`` and ``batch_size`` give the same expected
weight change per epoch as simulator mode) and sets how many examples one
compiled call processes (one after another).  Refresh of saturating pairs
runs between calls, every ``refresh_every`` calls, as in simulator mode.
Only the ``potentiate`` scheme (a positive pulse potentiates G+, a negative
one G-) is supported: ``balanced`` would need each synapse to read its pair.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from eqspike.errors import ParameterError
from eqspike.params import param, validate

from ..chip_kernel import COUNTER_NAMES, N_COUNTERS, POLICY_CODES
from ..synapses import DeviceSynapseConfig, DeviceSynapses
from . import residual as rsd

CHIP_POLICIES = tuple(POLICY_CODES)
#: operations counted outside the kernel (per weight layer): per-neuron register accesses
#: (see :func:`eqspike.network.chip_costs.neuron_register_counts`) and refresh reads
EXTRA_COUNTER_NAMES = ("trace_spike_bits", "trace_values", "bias_rmw", "restart_values",
                       "refresh_reads")
MODES = ("simulator", "chip")


def check_mode(mode: str) -> str:
    """``mode`` if it is a known training mode, else a clear :class:`ParameterError`."""
    if mode not in MODES:
        raise ParameterError(f"parameter 'mode' = {mode!r} is not allowed; allowed: "
                             f"{', '.join(MODES)}")
    return mode


@dataclass(frozen=True)
class ChipSynapseConfig:
    """Chip-mode update options (module doc)."""
    policy: str = param("pulses", unit="", choices=CHIP_POLICIES,
                        doc="pulses: in-situ coincidence pulses (no per-synapse state); "
                            "residual: B-bit fixed-point register per synapse, pulses on "
                            "overflow; residual_float: float32 register (reference)")
    residual_bits: int = param(8, unit="bits", low=rsd.MIN_BITS, high=rsd.MAX_BITS, integer=True,
                               doc="B, width of the residual register (policy residual)")
    phases: str = param("difference", unit="", choices=("difference", "separate"),
                        doc="difference: the -beta phase pulses the difference to the +beta "
                            "phase, kept as per-neuron traces (no pulses in the +beta phase); "
                            "separate: each nudged phase pulses on its own")
    prob_scale: float = param(1.0, unit="", low=0, low_open=True, high=1e6,
                              doc="multiplies the pulse probability (1 = unbiased for a device "
                                  "with the nominal step)")

    def __post_init__(self) -> None:
        validate(self)


class ChipSynapses(DeviceSynapses):
    """Device pairs for chip mode; updated only by the chip kernel (module doc)."""

    def __init__(self, profile: Any, config: DeviceSynapseConfig | None = None,
                 chip: ChipSynapseConfig | None = None):
        super().__init__(profile, config)
        self.chip = chip or ChipSynapseConfig()
        if not isinstance(self.chip, ChipSynapseConfig):
            raise ParameterError(f"chip must be a ChipSynapseConfig, got {type(self.chip).__name__}")
        if self.config.scheme != "potentiate":
            raise ParameterError(f"parameter 'scheme' = {self.config.scheme!r}: chip mode supports "
                                 "only 'potentiate' (balanced needs each synapse to read its pair)")
        #: per weight layer: the residual registers (policy residual / residual_float), else none
        self.regs: list[np.ndarray] = []
        self.chip_counts = np.zeros((0, N_COUNTERS))
        self.extra_counts = np.zeros((0, len(EXTRA_COUNTER_NAMES)))

    # -- no per-synapse caches in chip mode
    def _refresh_cache(self, k: int, idx: np.ndarray | None = None, which: str = "pm") -> None:
        return None

    def attach(self, net: Any) -> None:
        super().attach(net)
        self._inv, self.resid, self._work = [], [], {}
        self.regs = [self._new_register(W.shape) for W in net.W] if self.chip.policy != "pulses" else []
        self.chip_counts = np.zeros((net.n_layers, N_COUNTERS))
        self.extra_counts = np.zeros((net.n_layers, len(EXTRA_COUNTER_NAMES)))

    def _new_register(self, shape) -> np.ndarray:
        return np.zeros(shape, np.float32 if self.chip.policy == "residual_float" else np.int32)

    def apply(self, net: Any, dW, db) -> None:
        raise ParameterError("chip mode: weights change only through coincidence pulses; "
                             "train with rule 'eqspike_chip' (train_on_hardware(mode='chip'))")

    # -- what the kernel needs
    def step_nominal(self) -> float:
        """Nominal step, normalised: one mean step of the level train."""
        return 1.0 / max(self.device.levels.size - 1, 1)

    def step_weight(self, k: int) -> float:
        """Nominal step of layer k in weight units."""
        return self.step_nominal() * self._w_scale(k)

    def kernel_args(self) -> dict[str, Any]:
        """Device arrays and tables for :func:`eqspike.network.chip_kernel.chip_examples`."""
        L = len(self.u_p)
        dummy_i = np.zeros((1, 1), np.int32)
        dummy_f = np.zeros((1, 1), np.float32)
        pol = self.chip.policy
        bits = self.chip.residual_bits
        dev = self.device
        qlut = dev._qlut if dev._qlut is not None else np.zeros(2, np.float32)
        quant = self.config.quantize == "levels" and dev._qlut is not None
        if self.config.quantize == "levels" and dev._qlut is None:
            raise ParameterError(f"device {self.profile.name!r} has {dev.levels.size} levels: too "
                                 "many for chip mode's level table; use quantize='none'")
        return {
            "policy": POLICY_CODES[pol],
            "ups": tuple(self.u_p), "ums": tuple(self.u_m), "sps": tuple(self.s_p),
            "sms": tuple(self.s_m),
            "rqs": tuple(self.regs) if pol == "residual" else tuple(dummy_i for _ in range(L)),
            "rfs": tuple(self.regs) if pol == "residual_float" else tuple(dummy_f for _ in range(L)),
            "wscs": np.asarray([self._w_scale(k) for k in range(L)], np.float64),
            "reg_max": rsd.register_max(bits), "thr": rsd.lsb_per_step(bits),
            "lsb_per_step": float(rsd.lsb_per_step(bits)), "K": int(self.config.max_pulses),
            "lut_up": dev.lut_up, "qlut": qlut, "quant": bool(quant), "c2c": float(dev.c2c),
        }

    def after_examples(self, net: Any, counters: np.ndarray,
                       extra: dict[str, np.ndarray] | None = None) -> None:
        """Book one kernel call: counters, per-neuron register operations ``extra``
        (names in :data:`EXTRA_COUNTER_NAMES`, per weight layer), pulse counts, periodic
        refresh (its reads: two per pair scanned, one verify per re-programming pulse)."""
        self.chip_counts += counters
        for name, v in (extra or {}).items():
            self.extra_counts[:, EXTRA_COUNTER_NAMES.index(name)] += np.asarray(v, np.float64)
        for k in range(len(self.u_p)):
            self.counts[k]["up"] += int(counters[k, 0] + counters[k, 1])
        self.n_updates += 1
        cfg = self.config
        if cfg.refresh == "periodic" and self.n_updates % cfg.refresh_every == 0:
            before = [c["refresh_up"] + c["refresh_down"] for c in self.counts]
            self.refresh(net)
            col = EXTRA_COUNTER_NAMES.index("refresh_reads")
            for k in range(len(self.u_p)):
                verify = self.counts[k]["refresh_up"] + self.counts[k]["refresh_down"] - before[k]
                self.extra_counts[k, col] += 2.0 * self.u_p[k].size + verify

    def take_chip_counts(self) -> dict[str, np.ndarray]:
        """Chip operation counters per weight layer since the last call (then reset): the
        kernel's (:data:`~eqspike.network.chip_kernel.COUNTER_NAMES`) and those counted
        here (:data:`EXTRA_COUNTER_NAMES`)."""
        out = {name: self.chip_counts[:, i].copy() for i, name in enumerate(COUNTER_NAMES)}
        out.update({name: self.extra_counts[:, i].copy()
                    for i, name in enumerate(EXTRA_COUNTER_NAMES)})
        self.chip_counts[...] = 0.0
        self.extra_counts[...] = 0.0
        return out

    # -- checkpoint
    def state(self) -> dict[str, np.ndarray]:
        out = super().state()
        for k, r in enumerate(self.regs):
            out[f"chip_reg{k}"] = r
        out["chip_counts"] = self.chip_counts
        out["chip_extra_counts"] = self.extra_counts
        out["chip_meta"] = np.frombuffer(json.dumps({"policy": self.chip.policy}).encode(), np.uint8)
        return out

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        super().load_state(arrays)
        self._inv, self.resid, self._work = [], [], {}
        L = len(self.u_p)
        if self.chip.policy != "pulses":
            dt = np.float32 if self.chip.policy == "residual_float" else np.int32
            self.regs = [np.array(arrays[f"chip_reg{k}"], dtype=dt) if f"chip_reg{k}" in arrays
                         else self._new_register(self.u_p[k].shape) for k in range(L)]
        cc = arrays.get("chip_counts")
        self.chip_counts = np.array(cc, np.float64) if cc is not None else np.zeros((L, N_COUNTERS))
        ec = arrays.get("chip_extra_counts")   # absent in checkpoints of older versions
        self.extra_counts = (np.array(ec, np.float64) if ec is not None
                             else np.zeros((L, len(EXTRA_COUNTER_NAMES))))

    def held_arrays(self) -> dict[str, list[np.ndarray]]:
        """Every per-synapse array this backend holds (documented in the module doc)."""
        out = {"u_p": self.u_p, "u_m": self.u_m, "s_p": self.s_p, "s_m": self.s_m}
        if self.regs:
            out["regs"] = self.regs
        return out
