"""Energy ledger: spikes, synaptic events and programming pulses times circuit-level energies.

What is counted (per phase: ``inference`` (test-set free phases), ``free``
and ``nudged`` (training), ``write``; and per layer)
-----------------------------------------------------------------------------

- **Spikes** of every neuron layer 0..L (layer 0: the input pixels' spike
  encoders, the same neuron circuit), from the rule's statistics
  ``spikes_free`` / ``spikes_nudged`` (totals over a batch).  Energy:
  ``NeuronProfile.energy_per_spike_J`` each.
- **Synaptic events**: a spike of layer k is delivered to its fan-out cells
  through the symmetric weights: forward to the ``n_{k+1}`` cells of its
  row of ``W[k]`` (k < L) and backward to the ``n_{k-1}`` cells of its
  column of ``W[k-1]`` (k >= 1).  The clamped input layer integrates nothing,
  so by default spikes of layer 1 are **not** counted backward into layer 0
  (``feedback_to_input=True`` counts them).  Each event reads one
  differential pair, i.e. two cells:
  ``E_event = CrossbarProfile.read_energy_J(G+) + read_energy_J(G-)``
  (``V_read^2 G t_pulse`` plus the wire/driver part, per cell), evaluated at
  the layer's mean G+ and mean G- (exact for the linear ``read_energy_J``
  when spikes are spread evenly over rows).  With ideal (float) synapses the
  pair is mapped as ``G+ = g_ref_S max(W, 0)``, ``G- = g_ref_S max(-W, 0)``
  with the crossbar profile's ``g_ref_S``.
- **Programming pulses** per weight layer from the device backend
  (``up``, ``down``, ``refresh_up``, ``refresh_down``), times the device
  profile's ``write_energy_up_J`` / ``write_energy_down_J``.
- **Accumulator updates** (``accumulate`` pulse policy only): the digital
  residual of every synapse is read, added to and written back at each
  update; priced at ``accumulator_energy_J`` each (default 0.9 pJ, the
  Horowitz 45 nm fp32 add, ISSCC 2014, ../shared/docs/device-anchors.md:
  arithmetic only, a floor; SRAM access would add to it).  Counted in the
  ``write`` phase, i.e. in the training energy.
- **Chip-mode operations** (``mode="chip"``, :meth:`EnergyLedger.record_extra`):
  row and column line pulse drivers, neuron update logic and residual
  register read-modify-writes, counted by the chip kernel and priced by
  :mod:`eqspike.network.chip_costs` (Horowitz ISSCC 2014); ``write`` phase.
- **Leakage**: ``NeuronProfile.leakage_power_W`` for every neuron of the
  network (``sum(sizes)``, input encoders included) during the phase:
  ``steps * step_time_s`` per example, ``step_time_s = 1 / (theta *
  max_rate_Hz)`` (:mod:`eqspike.network.neuron_transfer`).  Examples are
  processed one after another on the chip, so a batch of B costs B phases.

Reports: energy per inference (free phase of one test example) and per
training example (free + nudged phases + writes), broken down by phase,
component and layer (:meth:`EnergyLedger.breakdown`, a tidy DataFrame).

GPU comparison (:func:`gpu_macs`, :func:`gpu_comparison`): the same network
run as rate-based EP with the same T1, T2 on a GPU, MACs counted explicitly
and multiplied by named GPUs' energy per operation (peak-efficiency figures,
marked approximate; ../shared/docs/device-anchors.md), plus the Horowitz
45 nm fp32 MAC as an arithmetic-only floor.  Every assumption is returned as
text (:func:`gpu_assumptions`) so reports can print it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from eqspike.errors import ParameterError

from .neuron_transfer import step_time_s

__all__ = ["EnergyLedger", "GPU_REFERENCES", "GpuReference", "gpu_macs", "gpu_comparison",
           "gpu_assumptions", "synaptic_events"]

PHASES = ("inference", "free", "nudged")


# --------------------------------------------------------------------------- counting

def synaptic_events(sizes: Sequence[int], spikes: Sequence[float],
                    feedback_to_input: bool = False) -> np.ndarray:
    """Synaptic events per weight layer j (reads of ``W[j]`` cells) from spikes per neuron layer.

    ``events[j] = spikes[j] * n_{j+1}`` (forward) ``+ spikes[j+1] * n_j`` (backward;
    for j = 0 only when ``feedback_to_input``).
    """
    sizes = [int(n) for n in sizes]
    sp = np.asarray(spikes, dtype=np.float64)
    if sp.shape != (len(sizes),):
        raise ParameterError(f"spike counts have shape {sp.shape}; expected one per layer "
                             f"({len(sizes)} layers)")
    ev = np.zeros(len(sizes) - 1)
    for j in range(len(sizes) - 1):
        ev[j] = sp[j] * sizes[j + 1]
        if j >= 1 or feedback_to_input:
            ev[j] += sp[j + 1] * sizes[j]
    return ev


@dataclass
class EnergyLedger:
    """Accumulates counts during training/evaluation and prices them (see module doc).

    ``neuron``: NeuronProfile; ``crossbar``: CrossbarProfile; ``device``:
    DeviceProfile or None (ideal synapses: no write energy); ``theta``: rate
    carried by one spike in the rule (sets circuit time per step).
    """
    sizes: tuple
    neuron: Any
    crossbar: Any
    device: Any = None
    theta: float = 1.0
    feedback_to_input: bool = False
    accumulator_energy_J: float = 0.9e-12   # J per residual update (accumulate policy)
    spikes: dict = field(default_factory=dict)      # phase -> per neuron layer
    examples: dict = field(default_factory=dict)    # phase -> examples seen
    steps: dict = field(default_factory=dict)       # phase -> sum over examples of steps
    pulses: dict = field(default_factory=dict)      # kind -> per weight layer
    g_samples: list = field(default_factory=list)   # [(G+ mean, G- mean) per weight layer]
    acc_updates: Any = None                         # accumulator updates per weight layer
    #: further write-phase operations (chip mode): component -> [counts, unit energy J] per layer
    extra: dict = field(default_factory=dict)
    #: chip mode: the kernel's raw operation counters per weight layer (chip_kernel.COUNTER_NAMES)
    chip_counters: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sizes = tuple(int(n) for n in self.sizes)
        L = len(self.sizes)
        for ph in PHASES:
            self.spikes.setdefault(ph, np.zeros(L))
            self.examples.setdefault(ph, 0)
            self.steps.setdefault(ph, 0.0)
        for kind in ("up", "down", "refresh_up", "refresh_down"):
            self.pulses.setdefault(kind, np.zeros(L - 1))
        if self.acc_updates is None:
            self.acc_updates = np.zeros(L - 1)
        if not (self.accumulator_energy_J >= 0):
            raise ParameterError(f"parameter 'accumulator_energy_J' = {self.accumulator_energy_J!r} "
                                 "must be >= 0 (J)")
        self.train_examples = 0
        self.step_time_s = step_time_s(self.neuron, self.theta)

    # ------------------------------------------------------------ recording
    def record(self, stats: dict, batch_size: int, *, training: bool) -> None:
        """Add one batch's rule statistics (spikes summed over the batch, steps per phase).

        ``training=True``: a ``train_batch`` result (free + nudged phases);
        ``False``: a ``predict`` result (counted as ``inference``).
        """
        B = int(batch_size)
        if training:
            self.train_examples += B
            pairs = (("free", "spikes_free", "steps_free"), ("nudged", "spikes_nudged", "steps_nudged"))
        else:
            pairs = (("inference", "spikes_free", "steps_free"),)
        for ph, sk, tk in pairs:
            if sk not in stats:
                raise ParameterError(f"rule statistics hold no '{sk}': the energy ledger needs a "
                                     "spiking rule (rule 'eqspike')")
            self.spikes[ph] = self.spikes[ph] + np.asarray(stats[sk], dtype=np.float64)
            self.examples[ph] += B
            self.steps[ph] += float(stats.get(tk, 0)) * B

    def record_pulses(self, counts: Sequence[dict]) -> None:
        """Add programming pulses per weight layer (``DeviceSynapses.take_counts()``)."""
        for j, c in enumerate(counts):
            for kind in self.pulses:
                self.pulses[kind][j] += float(c.get(kind, 0))
            self.acc_updates[j] += float(c.get("accumulator", 0))

    def record_extra(self, component: str, counts: Sequence[float],
                     unit_energy_J: Sequence[float]) -> None:
        """Add counts per weight layer of a further write-phase operation priced at
        ``unit_energy_J`` per operation (per layer), e.g. chip mode's line drivers,
        neuron update logic and residual register accesses
        (:mod:`eqspike.network.chip_costs`)."""
        c = np.asarray(counts, dtype=np.float64)
        e = np.broadcast_to(np.asarray(unit_energy_J, dtype=np.float64), c.shape).copy()
        if component in self.extra:
            self.extra[component][0] = self.extra[component][0] + c
            self.extra[component][1] = e
        else:
            self.extra[component] = [c, e]

    def sample_conductances(self, net: Any) -> None:
        """Record the mean G+ and G- of each weight layer (device pairs or ideal mapping)."""
        syn = getattr(net, "synapses", None)
        row = []
        for j, W in enumerate(net.W):
            if hasattr(syn, "conductances") and getattr(syn, "attached", False):
                gp, gm = syn.conductances(j)
                row.append((float(gp.mean(dtype=np.float64)), float(gm.mean(dtype=np.float64))))
            else:
                g = float(self.crossbar.g_ref_S)
                Wd = np.asarray(W, dtype=np.float64)
                row.append((g * float(np.maximum(Wd, 0).mean()), g * float(np.maximum(-Wd, 0).mean())))
        self.g_samples.append(row)

    # ------------------------------------------------------------ pricing
    def mean_pair_conductance_S(self) -> np.ndarray:
        """(L, 2) mean (G+, G-) per weight layer over the samples taken."""
        if not self.g_samples:
            raise ParameterError("energy ledger: no conductance sample; call sample_conductances(net)")
        return np.mean(np.asarray(self.g_samples, dtype=np.float64), axis=0)

    def event_energy_J(self) -> np.ndarray:
        """Energy of one synaptic event (one pair read) per weight layer, J."""
        g = self.mean_pair_conductance_S()
        return (np.asarray(self.crossbar.read_energy_J(g[:, 0]), dtype=np.float64)
                + np.asarray(self.crossbar.read_energy_J(g[:, 1]), dtype=np.float64))

    def breakdown(self):
        """Tidy DataFrame: phase, component, layer, count, unit_energy_J, energy_J, and per-example
        columns (``count_per_example``, ``energy_per_example_J``; per test example for
        ``inference``, per training example otherwise)."""
        import pandas as pd
        rows = []
        e_spike = float(self.neuron.energy_per_spike_J)
        e_event = self.event_energy_J()
        n_neurons = sum(self.sizes)
        for ph in PHASES:
            n_ex = self.examples[ph]
            if n_ex == 0:
                continue
            for k, c in enumerate(self.spikes[ph]):
                rows.append((ph, "spikes", f"layer {k}", c, e_spike, n_ex))
            ev = synaptic_events(self.sizes, self.spikes[ph], self.feedback_to_input)
            for j, c in enumerate(ev):
                rows.append((ph, "synaptic events", f"W{j}", c, e_event[j], n_ex))
            dur = self.steps[ph] * self.step_time_s  # summed over examples
            rows.append((ph, "leakage", "all neurons", dur * n_neurons,
                         float(self.neuron.leakage_power_W), n_ex))
        if self.train_examples and self.device is not None:
            for kind, e_unit in (("up", self.device.write_energy_up_J),
                                 ("down", self.device.write_energy_down_J),
                                 ("refresh_up", self.device.write_energy_up_J),
                                 ("refresh_down", self.device.write_energy_down_J)):
                for j, c in enumerate(self.pulses[kind]):
                    rows.append(("write", f"pulses {kind}", f"W{j}", c, float(e_unit),
                                 self.train_examples))
            if self.acc_updates.sum() > 0:
                for j, c in enumerate(self.acc_updates):
                    rows.append(("write", "accumulator updates", f"W{j}", c,
                                 float(self.accumulator_energy_J), self.train_examples))
        if self.train_examples:
            for comp, (cnt, e_unit) in self.extra.items():
                for j, c in enumerate(cnt):
                    rows.append(("write", comp, f"W{j}", c, float(e_unit[j]), self.train_examples))
        df = pd.DataFrame(rows, columns=["phase", "component", "layer", "count", "unit_energy_J",
                                         "examples"])
        df["energy_J"] = df["count"] * df["unit_energy_J"]
        df["count_per_example"] = df["count"] / df["examples"]
        df["energy_per_example_J"] = df["energy_J"] / df["examples"]
        df.loc[df["component"] == "leakage", "unit_energy_J"] = np.nan  # it is a power (W) x neuron-seconds
        df["unit"] = np.where(df["component"] == "leakage", "neuron-s x W", "events x J")
        return df

    def summary(self) -> dict[str, float]:
        """Energy per inference and per training example (J), and their parts."""
        df = self.breakdown()
        per = df.groupby(["phase", "component"])["energy_per_example_J"].sum()

        def tot(phase: str) -> float:
            return float(per[phase].sum()) if phase in per.index.get_level_values(0) else 0.0

        inf_phase = "inference" if self.examples["inference"] else "free"
        out = {"energy_per_inference_J": tot(inf_phase),
               "energy_per_training_example_J": tot("free") + tot("nudged") + tot("write"),
               "train_free_J": tot("free"), "train_nudged_J": tot("nudged"), "train_write_J": tot("write"),
               "step_time_s": self.step_time_s,
               "inference_time_s": (self.steps[inf_phase] / max(self.examples[inf_phase], 1))
               * self.step_time_s}
        for ph in PHASES:
            if ph in per.index.get_level_values(0):
                for comp, v in per[ph].items():
                    out[f"{ph}:{comp}_J"] = float(v)
        if "write" in per.index.get_level_values(0):
            for comp, v in per["write"].items():
                out[f"write:{comp}_J"] = float(v)
        n_inf = max(self.examples[inf_phase], 1)
        out["spikes_per_inference"] = float(self.spikes[inf_phase].sum() / n_inf)
        out["events_per_inference"] = float(synaptic_events(
            self.sizes, self.spikes[inf_phase], self.feedback_to_input).sum() / n_inf)
        if self.train_examples:
            out["pulses_per_training_example"] = float(sum(v.sum() for v in self.pulses.values())
                                                       / self.train_examples)
            out["accumulator_updates_per_training_example"] = float(self.acc_updates.sum()
                                                                    / self.train_examples)
        return out


# --------------------------------------------------------------------------- GPU estimate

@dataclass(frozen=True)
class GpuReference:
    """Energy per multiply-accumulate of a reference processor."""
    name: str
    energy_per_mac_J: float
    basis: str
    approximate: bool = True


#: pJ per FLOP from vendor peak specifications (board power / peak throughput), 2 FLOP per MAC.
GPU_REFERENCES: tuple[GpuReference, ...] = (
    GpuReference("NVIDIA V100 (fp32)", 2 * 19e-12,
                 "~19 pJ/FLOP fp32 (300 W / 15.7 TFLOP/s peak), 2 FLOP per MAC"),
    GpuReference("NVIDIA A100 (fp16 tensor)", 2 * 1.3e-12,
                 "~1.3 pJ/FLOP fp16 tensor core (400 W / 312 TFLOP/s peak), 2 FLOP per MAC"),
    GpuReference("NVIDIA H100 (bf16 tensor)", 2 * 0.7e-12,
                 "~0.7 pJ/FLOP bf16 dense (700 W / ~990 TFLOP/s peak), 2 FLOP per MAC"),
    GpuReference("Horowitz 45 nm fp32 MAC (floor)", 3.7e-12 + 0.9e-12,
                 "fp32 mult 3.7 pJ + add 0.9 pJ (Horowitz, ISSCC 2014), arithmetic only, "
                 "no memory access", approximate=False),
)


def gpu_macs(sizes: Sequence[int], T1: int, T2: int, n_nudged_phases: int = 2) -> dict[str, float]:
    """MACs of rate-based EP on a digital processor, counted explicitly.

    Per time step: forward matvec of every weight layer (``n_j n_{j+1}``) and
    the feedback matvec ``W[j]^T s_{j+1}`` into every hidden/output layer
    ``j >= 1`` (the clamped input needs none).  Inference: ``T1`` steps.
    Training: ``T1 + n_nudged_phases * T2`` steps, plus the two-phase EP
    update per weight layer: two outer products (``2 n_j n_{j+1}``) and the
    weight write ``W += lr dW`` (``n_j n_{j+1}``).  Element-wise neuron
    updates (a few ops per neuron per step) are listed, not added.
    """
    sizes = [int(n) for n in sizes]
    prods = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    per_step = sum(prods) + sum(prods[1:])
    inference = T1 * per_step
    dyn = (T1 + n_nudged_phases * T2) * per_step
    update = 3 * sum(prods)
    neuron_ops = 3 * sum(sizes[1:])  # bias add, leak/mix, activation per neuron per step
    return {"macs_per_step": float(per_step), "macs_inference": float(inference),
            "macs_training_dynamics": float(dyn), "macs_training_update": float(update),
            "macs_training": float(dyn + update), "elementwise_ops_per_step": float(neuron_ops)}


def gpu_assumptions(sizes, T1, T2, n_nudged_phases) -> list[str]:
    """The assumptions behind :func:`gpu_comparison`, as printable lines."""
    m = gpu_macs(sizes, T1, T2, n_nudged_phases)
    return [
        f"network {'-'.join(str(int(n)) for n in sizes)}, rate-based EP with T1 = {T1}, "
        f"T2 = {T2}, {n_nudged_phases} nudged phase(s) per example (same as the spiking run)",
        f"MACs per step = forward (sum n_j n_j+1) + feedback into layers >= 1 = {m['macs_per_step']:.4g}",
        f"MACs per inference = T1 x per-step = {m['macs_inference']:.4g}",
        f"MACs per training example = (T1 + {n_nudged_phases} T2) x per-step + update "
        f"(2 outer products + weight write per layer) = {m['macs_training']:.4g}",
        f"element-wise neuron ops ({m['elementwise_ops_per_step']:.0f} per step) are not counted "
        f"(< {100 * m['elementwise_ops_per_step'] / m['macs_per_step']:.2f} % of the MACs)",
        "GPU energy per op = board power / peak throughput (vendor specifications, approximate, "
        "../shared/docs/device-anchors.md); real small-batch utilisation is far below peak, "
        "so these GPU energies are lower bounds and the ratios conservative",
        "memory traffic (weights re-read each step), host overheads and idle power are not counted "
        "for the GPU (again favouring the GPU)",
        "Horowitz 45 nm fp32 MAC: arithmetic only, a floor for any digital fp32 implementation",
    ]


def gpu_comparison(sizes, T1: int, T2: int, n_nudged_phases: int,
                   energy_per_inference_J: float, energy_per_training_example_J: float,
                   references: Sequence[GpuReference] = GPU_REFERENCES):
    """DataFrame: per reference processor, MACs and energy per inference / training
    example, and the ratio reference / EqSpike (how many times less EqSpike uses)."""
    import pandas as pd
    m = gpu_macs(sizes, T1, T2, n_nudged_phases)
    rows = []
    for ref in references:
        e_inf = m["macs_inference"] * ref.energy_per_mac_J
        e_tr = m["macs_training"] * ref.energy_per_mac_J
        rows.append({"reference": ref.name, "approximate": ref.approximate,
                     "energy_per_mac_J": ref.energy_per_mac_J, "basis": ref.basis,
                     "macs_inference": m["macs_inference"], "macs_training": m["macs_training"],
                     "energy_per_inference_J": e_inf, "energy_per_training_example_J": e_tr,
                     "ratio_inference": e_inf / energy_per_inference_J if energy_per_inference_J > 0 else np.inf,
                     "ratio_training": (e_tr / energy_per_training_example_J
                                        if energy_per_training_example_J > 0 else np.inf)})
    return pd.DataFrame(rows)
