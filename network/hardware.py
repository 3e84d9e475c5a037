"""Training on characterised hardware: profiles in, accuracy and an energy ledger out.

:func:`train_on_hardware` joins the levels:

- the **device profile** becomes the synapse backend
  (:class:`eqspike.network.synapses.DeviceSynapses`), or ideal float
  synapses when it is ``None``;
- the **neuron profile**'s normalised f-I curve becomes the activation rho
  (:class:`eqspike.network.neuron_transfer.NeuronTransfer`) and its maximum
  rate sets the circuit time of one step;
- after every epoch the trainer's spike statistics, the backend's pulse
  counts and the mean conductances go into an
  :class:`eqspike.network.energy.EnergyLedger` priced with the neuron,
  crossbar and device profiles.

:func:`load_device`, :func:`load_neuron`, :func:`load_crossbar` resolve what
the CLI is given (a registry name, ``ideal``, or a JSON file) and fall back,
loudly, to documented stand-ins when a characterisation cannot run.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from eqspike.errors import ParameterError

from .energy import EnergyLedger, gpu_comparison, headline_ratios
from .neuron_transfer import NeuronTransfer
from .synapses import DeviceSynapseConfig, DeviceSynapses

__all__ = ["HardwareResult", "train_on_hardware", "LedgerRecorder", "load_device", "load_neuron", "load_crossbar",
           "fallback_neuron", "fallback_crossbar", "n_nudged_phases"]

DEVICE_MODELS = ("taox_rram", "fefet")


@dataclass
class HardwareResult:
    """What :func:`train_on_hardware` returns."""
    train: Any                 # eqspike.network.trainer.TrainResult
    ledger: EnergyLedger
    synapses: DeviceSynapses | None
    summary: dict = field(default_factory=dict)
    gpu: Any = None            # DataFrame from energy.gpu_comparison


# --------------------------------------------------------------------------- profiles
def _noted(prof, note: str, progress: Callable[[str], None]):
    """``(prof, note)``; an older profile's one-line assumption note is printed and appended."""
    extra = prof.assumption_note() if hasattr(prof, "assumption_note") else ""
    if extra:
        progress(f"note: {extra}")
        note = f"{note} ({extra})"
    return prof, note


def load_device(spec: str | None, *, progress: Callable[[str], None] = print):
    """``(DeviceProfile | None, note)``; ``ideal``/None -> ideal float synapses.

    ``spec``: a characterised model name (``taox_rram``, ``fefet``: ngspice,
    cached) or a path to a profile JSON (validated: :class:`ProfileError`).
    """
    if spec is None or spec == "ideal":
        return None, "ideal float synapses (no device)"
    from eqspike.devices.profile import DeviceProfile
    if spec.endswith(".json") or Path(spec).exists():
        return _noted(DeviceProfile.from_json(spec), f"device profile file {spec}", progress)
    from eqspike.devices.characterize import default_profile
    progress(f"characterising device '{spec}' in ngspice (cached after the first run) ...")
    prof = default_profile(spec)
    return prof, f"device '{spec}' characterised in ngspice ({prof.provenance.get('ngspice_version') or 'ngspice'})"


def fallback_neuron():
    """Stand-in neuron when the circuit characterisation cannot run (stated in reports).

    Hard-sigmoid transfer, 1 MHz maximum rate, 0.4 pJ per spike (the ~0.4 pJ
    90 nm analog neuron of ../shared/docs/device-anchors.md, approximate),
    1 nW leakage.
    """
    from eqspike.circuits.profile import NeuronProfile
    p = NeuronProfile.ideal_hard_sigmoid(max_rate_Hz=1e6, input_scale_A=1e-9,
                                         energy_per_spike_J=0.4e-12, leakage_power_W=1e-9,
                                         supply_V=1.0, n_points=2)
    return dataclasses.replace(p, name="fallback_hard_sigmoid",
                               provenance={**p.provenance, "note": "stand-in: ~0.4 pJ/spike 90 nm "
                                           "analog neuron (device-anchors.md, approximate)"})


def fallback_crossbar():
    """Stand-in crossbar: analytic V^2 G t, 0.1 V, 10 ns read pulse, no wire energy."""
    from eqspike.circuits.profile import CrossbarProfile
    return CrossbarProfile.ideal(read_voltage_V=0.1, read_pulse_width_s=10e-9, g_ref_S=1e-6)


def load_neuron(spec: str | None, *, progress: Callable[[str], None] = print, fallback: bool = True):
    """``(NeuronProfile, note)`` from a JSON path, or the default characterised neuron."""
    from eqspike.circuits.profile import NeuronProfile
    if spec and spec != "default":
        if spec == "ideal":
            return fallback_neuron(), "ideal hard-sigmoid neuron (stand-in figures)"
        return _noted(NeuronProfile.from_json(spec), f"neuron profile file {spec}", progress)
    progress("characterising the default neuron circuit in ngspice (cached after the first run) ...")
    try:
        from eqspike.circuits.characterize import default_neuron_profile
        prof = default_neuron_profile()
        return prof, f"neuron '{prof.name}' characterised in ngspice"
    except Exception as e:  # noqa: BLE001 - report and fall back, never hide
        if not fallback:
            raise
        why = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        progress(f"WARNING: neuron characterisation failed ({why}); using the stand-in neuron")
        return fallback_neuron(), f"STAND-IN neuron (characterisation failed: {why})"


def load_crossbar(spec: str | None, *, progress: Callable[[str], None] = print, fallback: bool = True):
    """``(CrossbarProfile, note)`` from a JSON path, or the default characterised column."""
    from eqspike.circuits.profile import CrossbarProfile
    if spec and spec != "default":
        if spec == "ideal":
            return fallback_crossbar(), "analytic crossbar V^2 G t (0.1 V, 10 ns)"
        return _noted(CrossbarProfile.from_json(spec), f"crossbar profile file {spec}", progress)
    progress("characterising the default crossbar column in ngspice (cached after the first run) ...")
    try:
        from eqspike.circuits.characterize import default_crossbar_profile
        prof = default_crossbar_profile()
        return prof, f"crossbar '{prof.name}' characterised in ngspice"
    except Exception as e:  # noqa: BLE001
        if not fallback:
            raise
        why = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        progress(f"WARNING: crossbar characterisation failed ({why}); using the analytic crossbar")
        return fallback_crossbar(), f"STAND-IN analytic crossbar (characterisation failed: {why})"


# --------------------------------------------------------------------------- ledger in checkpoints
#: Ledger attributes fixed by its construction (profiles, sizes): not checkpointed.
_LEDGER_FIXED = ("sizes", "neuron", "crossbar", "device", "theta", "feedback_to_input",
                 "accumulator_energy_J", "step_time_s", "bias_share_neurons", "holds_per_neuron")
_SKIP = object()


def _to_json(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return {"__ndarray__": v.tolist(), "dtype": str(v.dtype)}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        out = {str(k): _to_json(x) for k, x in v.items()}
        return _SKIP if any(x is _SKIP for x in out.values()) else out
    if isinstance(v, (list, tuple)):
        out = [_to_json(x) for x in v]
        return _SKIP if any(x is _SKIP for x in out) else out
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return _SKIP   # an object (a profile): rebuilt from the arguments, not saved


def _from_json(v: Any) -> Any:
    if isinstance(v, dict):
        if "__ndarray__" in v:
            return np.asarray(v["__ndarray__"], dtype=v["dtype"])
        return {k: _from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    return v


class LedgerRecorder:
    """Feeds the energy ledger after each epoch and checkpoints its counts.

    Passed to :func:`eqspike.network.trainer.train` as ``recorder``: it records
    the epoch's spikes, the backend's pulse counts and the mean conductances
    *before* the checkpoint is written, and its :meth:`state` (every counting
    attribute of the ledger, exactly, as JSON) goes into that checkpoint, so a
    resumed run prices the same counts as an uninterrupted one.
    """

    def __init__(self, ledger: EnergyLedger, cfg, backend=None, *, chip: bool = False,
                 chip_costs=None) -> None:
        self.ledger, self.cfg, self.backend = ledger, cfg, backend
        self.chip, self.chip_costs = chip, chip_costs   # chip mode: price its operations

    def record(self, row: dict, net) -> None:
        record_epoch(self.ledger, row, self.cfg)
        if self.backend is not None:
            self.ledger.record_pulses(self.backend.take_counts())
        if self.chip:
            record_chip(self.ledger, self.backend, self.cfg, self.chip_costs)
        self.ledger.sample_conductances(net)

    def state(self) -> dict[str, np.ndarray]:
        d = {}
        for k, v in vars(self.ledger).items():
            if k in _LEDGER_FIXED:
                continue
            j = _to_json(v)
            if j is not _SKIP:
                d[k] = j
        return {"ledger_json": np.frombuffer(json.dumps(d).encode("utf-8"), dtype=np.uint8)}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        if "ledger_json" not in arrays:
            raise ParameterError("checkpoint holds no energy-ledger state (ledger_json missing)")
        d = json.loads(bytes(np.asarray(arrays["ledger_json"], dtype=np.uint8)).decode("utf-8"))
        for k, v in d.items():
            setattr(self.ledger, k, _from_json(v))


# --------------------------------------------------------------------------- training
def n_nudged_phases(cfg) -> int:
    """Nudged phases per example of the spiking rule (symmetric nudging x samples)."""
    opts = cfg.rule_options()
    n_samples = int(getattr(opts, "n_samples", 1)) if not isinstance(opts, dict) else int(opts.get("n_samples", 1))
    return (2 if cfg.symmetric_nudging else 1) * n_samples


def _theta(cfg) -> float:
    opts = cfg.rule_options()
    return float(opts.get("theta", 1.0) if isinstance(opts, dict) else getattr(opts, "theta", 1.0))


def _layer_values(row: dict, prefix: str, n_layers: int) -> list[float]:
    return [float(row.get(f"{prefix}_{k}", 0.0)) for k in range(n_layers)]


def record_epoch(ledger: EnergyLedger, row: dict, cfg) -> None:
    """Put one epoch's metrics row (sums over the epoch) into the ledger.

    Training phases accumulate over epochs; the inference record is replaced
    by the latest test evaluation (the trained network's inference cost).
    """
    L1 = len(cfg.sizes)
    n = int(row["n_train"])
    n_batches = math.ceil(n / cfg.batch_size)
    stats = {"spikes_free": _layer_values(row, "spikes_free", L1),
             "spikes_nudged": _layer_values(row, "spikes_nudged", L1),
             "steps_free": float(row.get("steps_free", 0.0)) / n_batches,
             "steps_nudged": float(row.get("steps_nudged", 0.0)) / n_batches}
    if "active_free_1" in row:   # neuron-steps with positive input (rule 'eqspike')
        stats["active_free"] = _layer_values(row, "active_free", L1)
    ledger.record(stats, n, training=True)
    n_test = int(row.get("n_test", 0))
    if n_test:
        n_eval = math.ceil(n_test / cfg.eval_batch_size)
        ledger.spikes["inference"] = np.zeros(L1)
        ledger.examples["inference"] = 0
        ledger.steps["inference"] = 0.0
        ledger.active["inference"] = np.zeros(L1)
        ledger.active_examples["inference"] = 0
        st = {"spikes_free": _layer_values(row, "test_spikes_free", L1),
              "steps_free": float(row.get("test_steps_free", 0.0)) / n_eval}
        if "test_active_free_1" in row:
            st["active_free"] = _layer_values(row, "test_active_free", L1)
        ledger.record(st, n_test, training=False)


def record_chip(ledger: EnergyLedger, backend, cfg, costs=None) -> None:
    """Put a chip-mode backend's operation counters into the ledger, priced by
    :func:`eqspike.network.chip_costs.chip_unit_energies` (one row per operation)."""
    from .chip_costs import chip_unit_energies, refresh_read_J
    counts = backend.take_chip_counts()
    pol = backend.chip.policy
    units = chip_unit_energies(cfg.sizes, backend.profile, backend.chip.residual_bits, pol, costs)
    ledger.record_extra("row line pulse drivers", counts["row_line_pulses"],
                        units["row_line_pulses"])
    ledger.record_extra("column line pulse drivers", counts["col_line_pulses"],
                        units["col_line_pulses"])
    ledger.record_extra("neuron update logic", counts["neuron_decisions"],
                        units["neuron_decisions"])
    if pol != "pulses":
        name = (f"residual register RMW ({backend.chip.residual_bits}-bit SRAM)" if pol == "residual"
                else "residual register RMW (fp32 SRAM)")
        ledger.record_extra(name, counts["register_rmw"], units["register_rmw"])
        # retention: every register bit leaks for the whole training time so far (all phases
        # of every training example); set, not added, so a re-pricing stays exact
        train_s = (ledger.steps.get("free", 0.0) + ledger.steps.get("nudged", 0.0)) * ledger.step_time_s
        ledger.extra["residual register retention"] = [
            np.asarray(units["register_bits"], np.float64) * train_s,
            np.asarray(units["register_leakage_W_per_bit"], np.float64)]
    # per-neuron registers and refresh reads (chip_costs module doc); rows only where counted
    cell_read_J = (float(ledger.crossbar.joule_energy_J(backend.profile.g_max_S))
                   if ledger.crossbar is not None else 0.0)
    for name, key, unit in (
            ("+beta trace registers (spike bits)", "trace_spike_bits", units["trace_spike_bits"]),
            ("+beta trace registers (activity changes)", "trace_values", units["trace_values"]),
            ("bias registers RMW", "bias_rmw", units["bias_rmw"]),
            ("restart-state registers", "restart_values", units["restart_values"]),
            ("refresh reads (scan + verify)", "refresh_reads",
             np.full(len(cfg.sizes) - 1, refresh_read_J(cell_read_J, costs)))):
        c = counts.get(key)
        if c is not None and np.any(c > 0):
            ledger.record_extra(name, c, unit)
    for k, v in counts.items():
        ledger.chip_counters[k] = ledger.chip_counters.get(k, 0.0) + v


def train_on_hardware(cfg, data, *, device=None, neuron, crossbar,
                      syn_config: DeviceSynapseConfig | None = None, run_dir: str | Path | None = None,
                      use_neuron_transfer: bool = True, progress: bool = True,
                      on_epoch: Callable[[dict, Any], Any] | None = None,
                      accumulator_energy_J: float = 0.9e-12, resume: bool = False,
                      bias_share_neurons: int = 128, holds_per_neuron: int = 2,
                      mode: str = "simulator", chip_config=None, chip_costs=None) -> HardwareResult:
    """Train ``cfg`` (rule ``eqspike``) with the given profiles and price it (module doc).

    ``accumulator_energy_J``: energy of one update of a synapse's digital
    residual (``accumulate`` pulse policy only), J; default the Horowitz 45 nm
    fp32 add (a floor).  ``bias_share_neurons``: neurons sharing one bias
    generator; ``holds_per_neuron``: held read-out lines per non-input neuron
    (see :class:`eqspike.network.energy.EnergyLedger`).

    ``device=None``: ideal float synapses (reads priced with the crossbar's
    ``g_ref_S`` mapping, no write energy).

    ``resume``: continue from ``run_dir/checkpoint.npz``; the device states,
    residuals, counters and RNG of the synapses and the ledger's counts come
    back from it (:class:`LedgerRecorder`), so the result equals the
    uninterrupted run's (same profiles and configuration).

    ``mode``: ``simulator`` (the rule's summed dW becomes pulses,
    :class:`DeviceSynapses`) or ``chip`` (batch 1, coincidence pulses only:
    rule ``eqspike_chip`` with :class:`eqspike.network.policies.chip.ChipSynapses`
    configured by ``chip_config``; every update operation priced, assumptions in
    :mod:`eqspike.network.chip_costs`, ``chip_costs`` a ``ChipCostConfig``).
    """
    from .policies.chip import check_mode
    from .trainer import train
    check_mode(mode)
    if cfg.rule not in ("eqspike", "eqspike_chip"):
        raise ParameterError(f"parameter 'rule' = {cfg.rule!r}: hardware runs need the spiking rule "
                             "'eqspike' (the ledger counts spikes)")
    backend = None
    if mode == "chip":
        from .policies.chip import ChipSynapseConfig, ChipSynapses
        if device is None:
            raise ParameterError("parameter 'mode' = 'chip' needs a device profile (chip mode "
                                 "moves devices; 'ideal' float synapses have none)")
        cfg = cfg.with_updates(rule="eqspike_chip")
        backend = ChipSynapses(device, syn_config or DeviceSynapseConfig(),
                               chip_config or ChipSynapseConfig())
    elif cfg.rule == "eqspike_chip":
        raise ParameterError("rule 'eqspike_chip' runs only in mode 'chip'")
    elif device is not None:
        backend = DeviceSynapses(device, syn_config or DeviceSynapseConfig())

    def factory(net):
        backend.attach(net)
        return backend

    ledger = EnergyLedger(tuple(cfg.sizes), neuron, crossbar, device, theta=_theta(cfg),
                          accumulator_energy_J=accumulator_energy_J, bias_share_neurons=bias_share_neurons,
                          holds_per_neuron=holds_per_neuron)
    sub = data.subset(cfg.n_train, cfg.n_test) if hasattr(data, "subset") else data
    x_seen = getattr(sub, "x_test", None)
    if x_seen is not None and len(x_seen):
        ledger.record_input_activity(x_seen)
    act = NeuronTransfer(neuron) if use_neuron_transfer else None

    res = train(cfg, data, run_dir, synapses=factory if backend is not None else None,
                activation=act, progress=progress, on_epoch=on_epoch, resume=resume,
                recorder=LedgerRecorder(ledger, cfg, backend,
                                        chip_costs=chip_costs if mode == "chip" else None,
                                        chip=mode == "chip"))
    summary = ledger.summary()
    summary.update({"test_acc": float(res.test_acc), "train_acc": float(res.train_acc)})
    gpu = gpu_comparison(cfg.sizes, cfg.T1, cfg.T2, n_nudged_phases(cfg),
                         summary["energy_per_inference_J"], summary["energy_per_training_example_J"],
                         batch_size=cfg.batch_size)
    summary.update(headline_ratios(gpu))
    summary["input_active_fraction"] = ledger.input_active_fraction
    summary["mode"] = mode
    if mode == "chip":
        summary["chip_policy"] = backend.chip.policy
        if backend.chip.policy == "residual":
            summary["residual_bits"] = backend.chip.residual_bits
    if backend is not None:
        summary["init_programming_pulses"] = float(sum(c["refresh_up"] + c["refresh_down"]
                                                       for c in backend.init_counts))
    return HardwareResult(train=res, ledger=ledger, synapses=backend, summary=summary, gpu=gpu)

