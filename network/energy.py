"""Energy ledger: every block on the chip, priced at the network's states and rates.

What is counted (per phase: ``inference`` (test-set free phases), ``free``
and ``nudged`` (training), ``write``; and per layer).  Phase duration =
``steps * step_time_s`` per example, ``step_time_s = 1 / (theta *
max_rate_Hz)`` (:mod:`eqspike.network.neuron_transfer`); examples are
processed one after another on the chip, so a batch of B costs B phases.
---------------------------------------------------------------------------

- **Spikes** of every neuron layer 0..L (layer 0: the input pixels' spike
  encoders, the same neuron circuit), from the rule's ``spikes_free`` /
  ``spikes_nudged``.  The energy is the characterised E(f)
  (``NeuronProfile.energy_per_spike_at``, the table of ngspice points) at the
  layer's mean rate over its *active* neurons (input non-zero: layer 0 the
  fraction of non-zero pixels, measured on the data; hidden and output layers
  the neuron-steps with a positive membrane that the rule reports as
  ``active_free``, else all neurons, an upper bound: issue 13's ngspice
  validation found 13 % of the hidden neuron-steps active on its 196-16-10
  network, and the upper bound priced its neurons 38 % above ngspice).  It is
  booked in two rows: ``spikes`` at the
  rate-independent ``spike_floor_J`` (the most efficient characterised rate)
  and ``neuron active floor`` (the rest: what a neuron with input draws
  whatever it fires, ~5 nW for the default Axon-Hillock; with the law
  E0 + P/f this split is exact whatever the distribution of rates).
- **Synaptic events**: a spike of layer k is delivered to its fan-out cells
  through the symmetric weights: forward to the ``n_{k+1}`` pairs of its
  row of ``W[k]`` (k < L) and backward to the ``n_{k-1}`` pairs of its
  column of ``W[k-1]`` (k >= 1; not into the clamped input unless
  ``feedback_to_input``).  Each event reads two cells (G+ and G-), priced
  at the conductance of the lines the spikes drive: forward reads of
  ``W[0]`` at the rows' G weighted by the input pixels' mean intensity (their
  spike rates, :meth:`EnergyLedger.record_input_activity`; the layer mean
  priced issue 13's network 29 % below the per-cell sum (4.51 vs 6.33 pJ), because the pixels that
  spike are the ones whose weights grew), other reads at the layer's mean
  G+ and G- (no per-neuron rates are counted): Joule heat ``V_read^2 G t``
  (``synaptic events``) and the **conveyance** ``V_rest G V_read t``
  (``read-out conveyance``): the held line rests at ``V_rest``, so the read
  rail sits at ``V_rest + V_read``.
- **Row wire**: once per spike per driven line (not per cell read): a line
  of ``2 n`` cells costs ``2 n C_cell V_read (V_rest + V_read)``
  (``CrossbarProfile.line_energy_J``).
- **Read-out hold**: every non-input neuron has ``holds_per_neuron`` (2: G+
  and G- columns) held lines, each an active line hold simulated in ngspice
  (:mod:`eqspike.circuits.readout`), drawing ``CrossbarProfile.readout_power_W``
  for the whole phase.
- **Bias generators**: one per ``bias_share_neurons`` neurons (default 128),
  each drawing the neuron's measured bias branch (``bias_branch_W``, the
  reference transistors on ``vddb``; the neurons mirror it at no extra
  current), for the whole phase.
- **Leakage**: ``NeuronProfile.leakage_power_W`` (zero-input standby) for every
  neuron (``sum(sizes)``, input encoders included) during the phase.
- **Programming pulses** per weight layer from the device backend
  (``up``, ``down``, ``refresh_up``, ``refresh_down``), priced on the device
  profile's E(G) tables (``write_energy_up(G)`` / ``write_energy_down(G)``)
  at the layer's mean device conductance (exact for an E(G) linear in G with
  pulses spread evenly over the devices); flat means for older profiles.
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
- Not priced here: the nudging current, controller and routing (and, in
  simulator mode, the write drivers and update logic of on-chip learning,
  which only chip mode counts).

Reports: energy per inference (free phase of one test example) and per
training example (free + nudged phases + writes), broken down by phase,
component and layer (:meth:`EnergyLedger.breakdown`, a tidy DataFrame);
:meth:`EnergyLedger.priced_with` re-prices the same counts with other
profiles (the levers of docs/hardware.md), :meth:`counts_dict` /
:meth:`from_counts` store and reload them.

Digital baselines (:mod:`eqspike.network.baselines`, re-exported here:
:func:`gpu_comparison`), side by side: (a) the same EP
relaxation on a GPU (:func:`gpu_macs`, same T1, T2); (b) the same MLP run
the usual way, one feed-forward pass per inference and backprop per
training example (:func:`feedforward_macs`); each multiplied by named
processors' energy per MAC (peak-efficiency figures, approximate;
../shared/docs/device-anchors.md) and the Horowitz 45 nm fp32 MAC; (c) the
published Loihi on-chip-learning figures (:data:`LOIHI_REFERENCE`).  The
conservative ratio (:func:`headline_ratios`) is against the cheapest digital
row.  Every assumption is returned as text (:func:`gpu_assumptions`,
:func:`feedforward_assumptions`) so reports can print it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from eqspike.errors import ParameterError
from eqspike.params import check

from .baselines import (GPU_REFERENCES, LOIHI_REFERENCE, GpuReference, feedforward_assumptions,  # noqa: F401
                        feedforward_macs, gpu_assumptions, gpu_comparison, gpu_macs, headline_ratios)
from .neuron_transfer import step_time_s

__all__ = ["EnergyLedger", "GPU_REFERENCES", "GpuReference", "gpu_macs", "gpu_comparison",
           "feedforward_macs", "headline_ratios", "LOIHI_REFERENCE", "POWER_COMPONENTS",
           "gpu_assumptions", "feedforward_assumptions", "synaptic_events"]

PHASES = ("inference", "free", "nudged")
#: Components priced as power x time (count = unit-seconds).
POWER_COMPONENTS = ("leakage", "neuron active floor", "read-out hold", "bias generators",
                    "residual register retention")


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
    bias_share_neurons: int = 128           # neurons sharing one bias generator
    holds_per_neuron: int = 2               # held lines (line holds) per non-input neuron: G+ and G- columns
    input_active_fraction: float = 1.0      # fraction of input encoders with non-zero input
    spikes: dict = field(default_factory=dict)      # phase -> per neuron layer
    examples: dict = field(default_factory=dict)    # phase -> examples seen
    steps: dict = field(default_factory=dict)       # phase -> sum over examples of steps
    pulses: dict = field(default_factory=dict)      # kind -> per weight layer
    g_samples: list = field(default_factory=list)   # [(G+ mean, G- mean) per weight layer]
    #: [(forward, backward) pair conductance G+ + G- per read event, per weight layer]: the lines'
    #: G weighted by how often they are driven (sample_conductances); empty: from g_samples
    read_g_samples: list = field(default_factory=list)
    #: mean intensity of each input pixel (n_0,) over the data (record_input_activity), or None
    input_activity: Any = None
    #: phase -> neuron-steps with positive input per neuron layer (rule's ``active_free``),
    #: summed over examples; ``active_examples``: examples whose phase reported it
    active: dict = field(default_factory=dict)
    active_examples: dict = field(default_factory=dict)
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
            self.active.setdefault(ph, np.zeros(L))
            self.active_examples.setdefault(ph, 0)
        for kind in ("up", "down", "refresh_up", "refresh_down"):
            self.pulses.setdefault(kind, np.zeros(L - 1))
        if self.acc_updates is None:
            self.acc_updates = np.zeros(L - 1)
        if not (self.accumulator_energy_J >= 0):
            raise ParameterError(f"parameter 'accumulator_energy_J' = {self.accumulator_energy_J!r} "
                                 "must be >= 0 (J)")
        check("bias_share_neurons", self.bias_share_neurons, unit="neurons per bias generator", low=1,
              high=10**9, integer=True)
        check("holds_per_neuron", self.holds_per_neuron, unit="line holds per neuron", low=0, high=64,
              integer=True)
        check("input_active_fraction", self.input_active_fraction, unit="", low=0.0, high=1.0)
        self.train_examples = 0
        self.step_time_s = step_time_s(self.neuron, self.theta)

    # ------------------------------------------------------------ recording
    def record(self, stats: dict, batch_size: int, *, training: bool) -> None:
        """Add one batch's rule statistics (spikes summed over the batch, steps per phase).

        ``training=True``: a ``train_batch`` result (free + nudged phases);
        ``False``: a ``predict`` result (counted as ``inference``).
        """
        B = int(batch_size)
        act = stats.get("active_free")
        if act is not None:
            act = np.asarray(act, dtype=np.float64)
            if act.shape != (len(self.sizes),):
                raise ParameterError(f"rule statistics 'active_free' have shape {act.shape}; expected "
                                     f"one per layer ({len(self.sizes)} layers)")
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
            if act is not None:
                # the free phase's active neuron-steps; a nudged phase starts from its end state:
                # the same share of its steps
                t_free = float(stats.get("steps_free", 0)) or 1.0
                self.active[ph] = self.active[ph] + act * (float(stats.get(tk, 0)) / t_free)
                self.active_examples[ph] += B

    def record_input_activity(self, x) -> None:
        """Set ``input_active_fraction`` from input images ``x`` (values in [0, 1]): the mean
        fraction of non-zero pixels (their encoders get input current and draw the active floor)."""
        xa = np.asarray(x)
        self.input_active_fraction = float(np.count_nonzero(xa > 0) / xa.size) if xa.size else 1.0
        if xa.size and xa.size % self.sizes[0] == 0:
            # mean intensity per pixel: the input encoders' spike rates are proportional to it
            self.input_activity = np.clip(xa.reshape(-1, self.sizes[0]).astype(np.float64), 0, 1).mean(axis=0)

    def priced_with(self, **changes) -> "EnergyLedger":
        """A copy holding the same counts, priced with other profiles or parameters
        (``neuron=``, ``crossbar=``, ``device=``, ``bias_share_neurons=`` ...): the levers."""
        import copy
        new = copy.deepcopy(self)
        for k, v in changes.items():
            if not hasattr(self, k):
                raise ParameterError(f"energy ledger has no parameter {k!r}")
            setattr(new, k, v)
        new.step_time_s = step_time_s(new.neuron, new.theta)
        return new

    def counts_dict(self) -> dict[str, Any]:
        """Everything counted (JSON-ready), so a run can be re-priced later (:meth:`from_counts`)."""
        return {"sizes": list(self.sizes), "theta": self.theta, "feedback_to_input": self.feedback_to_input,
                "accumulator_energy_J": self.accumulator_energy_J,
                "bias_share_neurons": self.bias_share_neurons, "holds_per_neuron": self.holds_per_neuron,
                "input_active_fraction": self.input_active_fraction, "train_examples": self.train_examples,
                "spikes": {k: list(map(float, v)) for k, v in self.spikes.items()},
                "examples": dict(self.examples), "steps": dict(self.steps),
                "pulses": {k: list(map(float, v)) for k, v in self.pulses.items()},
                "g_samples": [[list(map(float, p)) for p in row] for row in self.g_samples],
                "read_g_samples": [[list(map(float, p)) for p in row] for row in self.read_g_samples],
                "input_activity": None if self.input_activity is None else list(map(float, self.input_activity)),
                "active": {k: list(map(float, v)) for k, v in self.active.items()},
                "active_examples": dict(self.active_examples),
                "acc_updates": list(map(float, self.acc_updates))}

    @classmethod
    def from_counts(cls, counts: dict, neuron: Any, crossbar: Any, device: Any = None) -> "EnergyLedger":
        """Rebuild a ledger from :meth:`counts_dict` output, priced with the given profiles."""
        c = dict(counts)
        led = cls(tuple(c["sizes"]), neuron, crossbar, device, theta=c["theta"],
                  feedback_to_input=c["feedback_to_input"], accumulator_energy_J=c["accumulator_energy_J"],
                  bias_share_neurons=c["bias_share_neurons"], holds_per_neuron=c["holds_per_neuron"],
                  input_active_fraction=c["input_active_fraction"],
                  spikes={k: np.asarray(v) for k, v in c["spikes"].items()}, examples=dict(c["examples"]),
                  steps=dict(c["steps"]), pulses={k: np.asarray(v) for k, v in c["pulses"].items()},
                  g_samples=[[tuple(p) for p in row] for row in c["g_samples"]],
                  acc_updates=np.asarray(c["acc_updates"]),
                  read_g_samples=[[tuple(p) for p in row] for row in c.get("read_g_samples", [])],
                  input_activity=(None if c.get("input_activity") is None
                                  else np.asarray(c["input_activity"], dtype=np.float64)),
                  active={k: np.asarray(v) for k, v in c.get("active", {}).items()},
                  active_examples=dict(c.get("active_examples", {})))
        led.train_examples = int(c["train_examples"])
        return led

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
        row, pairs = [], []
        for j, W in enumerate(net.W):
            if hasattr(syn, "conductances") and getattr(syn, "attached", False):
                gp, gm = syn.conductances(j)
                gp, gm = np.asarray(gp, dtype=np.float64), np.asarray(gm, dtype=np.float64)
            else:
                g = float(self.crossbar.g_ref_S)
                Wd = np.asarray(W, dtype=np.float64)
                gp, gm = g * np.maximum(Wd, 0), g * np.maximum(-Wd, 0)
            row.append((float(gp.mean()), float(gm.mean())))
            pairs.append(gp + gm)
        self.sample_read_conductances(pairs)
        self.g_samples.append(row)

    def sample_read_conductances(self, pair_G: Sequence[np.ndarray]) -> None:
        """Record the (forward, backward) conductance G+ + G- per read event of each weight layer
        from the pair conductances ``pair_G[j]`` (n_j, n_{j+1}) in S: forward reads of ``W[0]``
        weighted by the input pixels' mean intensity (:meth:`record_input_activity`; uniform
        before it is known), every other read at the layer's mean."""
        out = []
        for j, P in enumerate(pair_G):
            P = np.asarray(P, dtype=np.float64)
            g_mean = float(P.mean())
            g_fwd = g_mean
            a = self.input_activity
            if j == 0 and a is not None and len(a) == P.shape[0] and float(np.sum(a)) > 0:
                g_fwd = float(np.asarray(a) @ P.mean(axis=1) / np.sum(a))
            out.append((g_fwd, g_mean))
        self.read_g_samples.append(out)

    # ------------------------------------------------------------ pricing
    def mean_pair_conductance_S(self) -> np.ndarray:
        """(L, 2) mean (G+, G-) per weight layer over the samples taken."""
        if not self.g_samples:
            raise ParameterError("energy ledger: no conductance sample; call sample_conductances(net)")
        return np.mean(np.asarray(self.g_samples, dtype=np.float64), axis=0)

    def read_pair_conductance_S(self) -> np.ndarray:
        """(L, 2) conductance G+ + G- of one forward and one backward read event per weight layer
        (S): the activity-weighted samples, else the mean pair of ``g_samples``."""
        if self.read_g_samples:
            return np.mean(np.asarray(self.read_g_samples, dtype=np.float64), axis=0)
        g = self.mean_pair_conductance_S().sum(axis=1)
        return np.stack([g, g], axis=1)

    def event_energy_J(self) -> np.ndarray:
        """Energy of one synaptic event (one pair read) per weight layer, J: Joule heat plus
        read-out conveyance of the two cells (the wire is booked per spike, not per event)."""
        g = self.mean_pair_conductance_S()
        cb = self.crossbar
        return sum(np.asarray(cb.joule_energy_J(g[:, i]), dtype=np.float64)
                   + np.asarray(cb.conveyance_energy_J(g[:, i]), dtype=np.float64) for i in (0, 1))

    def layer_conductance_S(self) -> np.ndarray:
        """Mean device conductance per weight layer (S): the mean of G+ and G- (where write
        pulses are priced on the E(G) tables)."""
        return self.mean_pair_conductance_S().mean(axis=1)

    def active_neurons(self) -> np.ndarray:
        """Neurons per layer whose input is non-zero (they draw the active floor), without the
        rule's activity counts: layer 0 ``input_active_fraction`` of the encoders (measured on
        the data), other layers all of them (an upper bound: a neuron with negative net input
        draws no input current)."""
        n = np.asarray(self.sizes, dtype=np.float64).copy()
        n[0] *= float(self.input_active_fraction)
        return n

    def active_seconds(self, ph: str) -> np.ndarray:
        """Neuron-seconds with non-zero input per layer in phase ``ph`` (summed over examples):
        layer 0 from ``input_active_fraction``; other layers the rule's ``active_free``
        neuron-steps when every example of the phase reported them, else all neurons for the
        whole phase (:meth:`active_neurons`)."""
        dur = self.steps[ph] * self.step_time_s
        act = self.active_neurons() * dur
        n_ex = self.examples[ph]
        if n_ex and self.active_examples.get(ph, 0) == n_ex:
            measured = np.asarray(self.active[ph], dtype=np.float64)[1:] * self.step_time_s
            # a neuron that spiked had input for at least its spikes' periods at the maximum rate
            # (the end-state estimate misses a neuron that fired and then fell silent)
            floor = np.asarray(self.spikes[ph], dtype=np.float64)[1:] / float(self.neuron.max_rate_Hz)
            act[1:] = np.minimum(np.maximum(measured, floor), act[1:])
        return act

    def _neuron_rows(self, ph: str, dur: float, n_ex: int) -> list:
        """Spike rows (rate-independent part) and active-floor rows of one phase.

        Total per layer = spikes x E(f) at the layer's mean rate over its active neurons
        (``NeuronProfile.energy_per_spike_at``, the characterised table), split into the
        rate-independent part ``spike_floor_J`` per spike and the remainder, booked as the
        active floor (neuron-seconds x effective power).  Without spikes the active floor is
        ``active_power_W`` (the fitted law) x active neuron-seconds.
        """
        rows = []
        e_floor = self.neuron.spike_floor_J()
        for k, (c, act_s) in enumerate(zip(self.spikes[ph], self.active_seconds(ph))):
            rate = c / act_s if act_s > 0 else 0.0
            if c > 0 and act_s > 0:
                e_tot = c * float(self.neuron.energy_per_spike_at(rate))
                rest = max(e_tot - c * e_floor, 0.0)
            else:
                rest = float(self.neuron.active_power_W) * act_s
            rows.append((ph, "spikes", f"layer {k}", c, e_floor, n_ex, rate))
            rows.append((ph, "neuron active floor", f"layer {k}", act_s,
                         rest / act_s if act_s > 0 else 0.0, n_ex, rate))
        return rows

    def breakdown(self):
        """Tidy DataFrame: phase, component, layer, count, unit_energy_J, energy_J, and per-example
        columns (``count_per_example``, ``energy_per_example_J``; per test example for
        ``inference``, per training example otherwise); ``rate_Hz`` (spike rows: mean rate of
        the layer's active neurons).  Power terms (``leakage``, ``neuron active floor``,
        ``read-out hold``, ``bias generators``) count unit-seconds and carry their power (W) in
        ``unit_power_W``."""
        import pandas as pd
        rows = []
        cb = self.crossbar
        g_rd = self.read_pair_conductance_S()   # (L, 2): forward, backward read of a pair
        e_joule = np.asarray(cb.joule_energy_J(g_rd), dtype=np.float64)
        e_conv = np.asarray(cb.conveyance_energy_J(g_rd), dtype=np.float64)
        n_neurons = sum(self.sizes)
        n_holds = self.holds_per_neuron * sum(self.sizes[1:])
        n_gen = math.ceil(n_neurons / self.bias_share_neurons)
        for ph in PHASES:
            n_ex = self.examples[ph]
            if n_ex == 0:
                continue
            dur = self.steps[ph] * self.step_time_s  # summed over examples
            rows += self._neuron_rows(ph, dur, n_ex)
            ev = synaptic_events(self.sizes, self.spikes[ph], self.feedback_to_input)
            fwd = np.array([self.spikes[ph][j] * self.sizes[j + 1] for j in range(len(ev))])
            bwd = ev - fwd

            def per_event(e):   # forward and backward reads priced at their own G
                return np.where(ev > 0, (fwd * e[:, 0] + bwd * e[:, 1]) / np.where(ev > 0, ev, 1.0),
                                e[:, 0])
            for j, c in enumerate(ev):
                rows.append((ph, "synaptic events", f"W{j}", c, per_event(e_joule)[j], n_ex, np.nan))
            for j, c in enumerate(ev):
                rows.append((ph, "read-out conveyance", f"W{j}", c, per_event(e_conv)[j], n_ex, np.nan))
            for j in range(len(self.sizes) - 1):
                # a spike charges its driven line once: forward a row of W[j] (G+ and G- cells of
                # its n_{j+1} pairs), backward a column of W[j] (2 n_j cells)
                rows.append((ph, "row wire", f"W{j} fwd", self.spikes[ph][j],
                             float(cb.line_energy_J(2 * self.sizes[j + 1])), n_ex, np.nan))
                if j >= 1 or self.feedback_to_input:
                    rows.append((ph, "row wire", f"W{j} bwd", self.spikes[ph][j + 1],
                                 float(cb.line_energy_J(2 * self.sizes[j])), n_ex, np.nan))
            rows.append((ph, "read-out hold", f"{n_holds} line holds", dur * n_holds,
                         float(cb.hold_power_W()), n_ex, np.nan))
            rows.append((ph, "bias generators", f"{n_gen} x {self.bias_share_neurons} neurons", dur * n_gen,
                         float(self.neuron.bias_branch_W()), n_ex, np.nan))
            rows.append((ph, "leakage", "all neurons", dur * n_neurons,
                         float(self.neuron.leakage_power_W), n_ex, np.nan))
        if self.train_examples and self.device is not None:
            gl = self.layer_conductance_S()
            for kind in ("up", "down", "refresh_up", "refresh_down"):
                fn = self.device.write_energy_up if kind.endswith("up") else self.device.write_energy_down
                for j, c in enumerate(self.pulses[kind]):
                    rows.append(("write", f"pulses {kind}", f"W{j}", c, float(fn(gl[j])),
                                 self.train_examples, np.nan))
            if self.acc_updates.sum() > 0:
                for j, c in enumerate(self.acc_updates):
                    rows.append(("write", "accumulator updates", f"W{j}", c,
                                 float(self.accumulator_energy_J), self.train_examples, np.nan))
        if self.train_examples:
            for comp, (cnt, e_unit) in self.extra.items():
                for j, c in enumerate(cnt):
                    rows.append(("write", comp, f"W{j}", c, float(e_unit[j]), self.train_examples,
                                 np.nan))
        df = pd.DataFrame(rows, columns=["phase", "component", "layer", "count", "unit_energy_J",
                                         "examples", "rate_Hz"])
        df["energy_J"] = df["count"] * df["unit_energy_J"]
        df["count_per_example"] = df["count"] / df["examples"]
        df["energy_per_example_J"] = df["energy_J"] / df["examples"]
        power = df["component"].isin(POWER_COMPONENTS)
        df["unit_power_W"] = np.where(power, df["unit_energy_J"], np.nan)
        df.loc[power, "unit_energy_J"] = np.nan  # a power (W) x unit-seconds
        df["unit"] = np.where(power, "unit-s x W", "events x J")
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
