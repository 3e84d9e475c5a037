"""The ``eqspike_device`` point function: device profile -> brief EqSpike training -> row.

One sweep point:

1. builds the synapse :class:`~eqspike.devices.profile.DeviceProfile`
   (``device_source``):

   - ``"spice"`` (default): the compact model ``device_model`` (default
     ``taox_rram``, the project's default RRAM: 128 levels, TaOx/HfOx-like,
     c2c 3.7 % from the literature) characterised in ngspice by
     :func:`eqspike.devices.characterize.default_profile`, with
     ``device_params`` as model-parameter overrides.  ngspice runs inside
     the Dask worker process (one engine per process), once per distinct
     model: the result is cached on disk (``eqspike.cache``).
     ``c2c_sigma`` / ``d2d_sigma`` >= 0 replace the profile's spreads;
   - ``"spice_nl"``: that characterised profile with its pulse response
     replaced by the NeuroSim curve of ``nl_ltp`` / ``nl_ltd``, keeping its
     levels, conductance range, write energies, voltages and spreads (a
     nonlinearity study "for the default RRAM");
   - ``"neurosim"``: synthetic, :meth:`DeviceProfile.from_neurosim` from
     ``nl_ltp``, ``nl_ltd``, ``n_levels``, ``g_min_S``, ``g_max_S``,
     ``c2c_sigma``, ``d2d_sigma``, ``write_energy_J`` (no ngspice);
   - ``"ideal"``: constant step, ``n_levels`` levels, no nonlinearity;

2. gets the neuron and crossbar profiles: ``"default"`` = the
   ngspice-characterised default neuron (Axon-Hillock, PTM 180 nm) and
   crossbar column (cached; the first point of a worker may run ngspice),
   ``"ideal"`` = the documented stand-ins of :mod:`eqspike.network.hardware`,
   or a profile JSON path;
3. trains EqSpike on the first ``n_train`` MNIST images for ``epochs`` with
   :func:`eqspike.network.hardware.train_on_hardware`: device-aware
   synapses (:class:`~eqspike.network.synapses.DeviceSynapses`), the
   neuron's f-I curve as activation, the energy ledger fed every epoch; all
   seeded by the sweep seed (weight init, shuffling, d2d draw, c2c noise,
   stochastic rounding);
4. evaluates on the first ``n_test`` test images and returns the accuracies,
   the ledger's energy figures and the energy ratio to an H100 GPU running
   the same network (:mod:`eqspike.network.energy`).

The NeuroSim-label defaults (``nl_ltp`` 0.04, ``nl_ltd`` -0.63, 1-10 uS,
128 levels, 1.6 V / 50 ns) are the TaOx/HfOx row of NeuroSim's device table
(Chen et al., "NeuroSim: a circuit-level macro model for benchmarking
neuro-inspired architectures in online learning", IEEE TCAD 2018;
``shared/docs/device-anchors.md``).
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from eqspike.errors import ParameterError
from eqspike.network.synapses import POLICIES, SCHEMES
from eqspike.params import param, validate
from eqspike.sweeps.points import Budget, register_point

DEVICE_SOURCES = ("spice", "spice_nl", "neurosim", "ideal")


@dataclass(frozen=True)
class DevicePointParams:
    """Parameters of the ``eqspike_device`` point (device, synapse policy, network)."""
    # ---- device
    device_source: str = param("spice", unit="", choices=DEVICE_SOURCES,
                               doc="spice: characterise device_model in ngspice (cached); spice_nl: "
                                   "that profile with its pulse response replaced by the NeuroSim "
                                   "curve of nl_ltp/nl_ltd; neurosim: synthetic from the labels "
                                   "below; ideal: constant step")
    device_model: str = param("taox_rram", unit="",
                              doc="compact model for spice/spice_nl (eqspike device list)")
    device_params: str = param("", unit="",
                               doc="model parameter overrides for spice/spice_nl, "
                                   "'name=value,name=value' (SI units)")
    nl_ltp: float = param(0.04, unit="", low=-9, high=9,
                          doc="NeuroSim nonlinearity label, potentiation (neurosim, spice_nl)")
    nl_ltd: float = param(-0.63, unit="", low=-9, high=9,
                          doc="NeuroSim nonlinearity label, depression; saturating: negative "
                              "(neurosim, spice_nl)")
    n_levels: int = param(128, unit="levels", low=2, high=65536, integer=True,
                          doc="conductance levels (neurosim, ideal)")
    g_min_S: float = param(1e-6, unit="S", low=0, high=1, low_open=True, high_open=True,
                           doc="lowest conductance (neurosim, ideal)")
    g_max_S: float = param(1e-5, unit="S", low=0, high=1, low_open=True, high_open=True,
                           doc="highest conductance (neurosim, ideal)")
    c2c_sigma: float = param(-1.0, unit="", low=-1, high=1,
                             doc="cycle-to-cycle step noise std / (g_max - g_min), per pulse; "
                                 "< 0: the characterised profile's value (spice*) or 0")
    d2d_sigma: float = param(-1.0, unit="", low=-1, high=1,
                             doc="device-to-device relative spread of the step scale; "
                                 "< 0: the characterised profile's value (spice*) or 0")
    write_energy_J: float = param(1.3e-12, unit="J", low=0,
                                  doc="energy per programming pulse (neurosim, ideal; "
                                      "TaOx: 1.6 V, 50 ns at ~10 uS)")
    # ---- synapse programming
    policy: str = param("stochastic", unit="", choices=POLICIES,
                        doc="pulse count from dW: sign, round, stochastic, accumulate (a digital "
                            "residual per synapse; see network/synapses.py)")
    scheme: str = param("potentiate", unit="", choices=SCHEMES,
                        doc="which device of the pair is pulsed")
    w_max: float = param(1.0, unit="", low=0, low_open=True,
                         doc="weight of one device over its full range")
    max_pulses: int = param(8, unit="pulses", low=1, high=10000, integer=True,
                            doc="most pulses per synapse per update")
    refresh_every: int = param(50, unit="updates", low=0, integer=True,
                               doc="updates between refreshes of saturating pairs (0 = never)")
    # ---- training mode (chip mode: network/policies/chip.py)
    mode: str = param("simulator", unit="", choices=("simulator", "chip"),
                      doc="simulator: a batch's summed dW becomes pulses (policy); chip: batch 1, "
                          "coincidence pulses only, every update operation priced (chip_policy)")
    chip_policy: str = param("pulses", unit="", choices=("pulses", "residual", "residual_float"),
                             doc="chip mode: in-situ pulses, B-bit residual register, or float32 "
                                 "register")
    residual_bits: int = param(8, unit="bits", low=2, high=32, integer=True,
                               doc="chip mode, residual: register width B")
    # ---- circuits
    neuron: str = param("default", unit="",
                        doc="neuron profile: default (ngspice-characterised Axon-Hillock), "
                            "ideal (stand-in hard sigmoid, 0.4 pJ/spike) or a JSON path")
    crossbar: str = param("default", unit="",
                          doc="crossbar profile: default (ngspice-characterised column), "
                              "ideal (analytic V^2 G t) or a JSON path")
    # ---- data
    dataset_name: str = param("mnist", unit="",
                              doc="IDX dataset (eqspike.datasets): mnist (built-in checksums) or "
                                  "the name of a folder of four IDX files (SHA256SUMS checked when "
                                  "present); its folder: [sweep] data_dir or --data-dir")
    # ---- network / training
    rule: str = param("eqspike", unit="", choices=("eqspike",),
                      doc="learning rule (the ledger counts spikes: eqspike)")
    hidden: tuple = param((100,), unit="neurons", low=1, integer=True,
                          doc="hidden layer widths (pixels-hidden-classes; 784-hidden-10 on MNIST)")
    batch_size: int = param(20, unit="images", low=1, integer=True, doc="mini-batch size")
    T1: int = param(60, unit="steps", low=1, integer=True, doc="free-phase length")
    T2: int = param(20, unit="steps", low=1, integer=True, doc="nudged-phase length")
    beta: float = param(0.5, unit="", low=0, low_open=True, doc="nudging strength")
    lrs: tuple = param((0.1, 0.05), unit="", low=0, doc="learning rate per weight layer")

    def __post_init__(self) -> None:
        for name in ("hidden", "lrs"):
            v = getattr(self, name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = (v,)
            if not isinstance(v, (list, tuple)) or not v:
                raise ParameterError(f"parameter '{name}' = {v!r} must be a non-empty list")
            object.__setattr__(self, name, tuple(v))
        validate(self)
        if not self.g_min_S < self.g_max_S:
            raise ParameterError(f"parameter 'g_min_S' = {self.g_min_S!r} must be below "
                                 f"g_max_S = {self.g_max_S!r}")
        overrides = self.model_overrides()  # checks the syntax of device_params
        if self.device_source in ("spice", "spice_nl"):
            # model name and parameter overrides are checked when the spec loads, not per point
            from eqspike.devices.pulses import resolve
            try:
                resolve(self.device_model, None, overrides)
            except ParameterError as e:
                raise ParameterError(f"device_model = {self.device_model!r}, device_params = "
                                     f"{self.device_params!r}: {e}") from None
        for name in ("neuron", "crossbar"):
            v = getattr(self, name)
            if v not in ("default", "ideal") and not Path(v).is_file():
                raise ParameterError(f"parameter '{name}' = {v!r}: not 'default', 'ideal' or an "
                                     "existing profile JSON file")


    def model_overrides(self) -> dict[str, Any]:
        """``device_params`` as a dict (values parsed as numbers where possible)."""
        from eqspike.params import parse_overrides
        items = [x for x in (t.strip() for t in self.device_params.split(",")) if x]
        return parse_overrides(items)


def profile_hash(profile: Any) -> str:
    """SHA-256 (16 hex) of a profile's content, without its creation time."""
    d = profile.to_dict()
    prov = dict(d.get("provenance") or {})
    prov.pop("created", None)
    d["provenance"] = prov
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_device_profile(p: DevicePointParams):
    """The point's :class:`DeviceProfile` (see the module doc)."""
    import dataclasses
    from eqspike.devices.profile import DeviceProfile
    spread = {k: max(getattr(p, k), 0.0) for k in ("c2c_sigma", "d2d_sigma")}
    if p.device_source == "neurosim":
        return DeviceProfile.from_neurosim(p.nl_ltp, p.nl_ltd, p.n_levels, p.g_min_S, p.g_max_S,
                                           write_energy_J=p.write_energy_J, **spread)
    if p.device_source == "ideal":
        prof = DeviceProfile.ideal(p.n_levels, p.g_min_S, p.g_max_S, write_energy_J=p.write_energy_J)
        return dataclasses.replace(prof, **spread)
    prof = characterized_profile(p.device_model, p.model_overrides())
    over = {k: getattr(p, k) for k in ("c2c_sigma", "d2d_sigma") if getattr(p, k) >= 0}
    if p.device_source == "spice_nl":
        prof = DeviceProfile.from_neurosim(
            p.nl_ltp, p.nl_ltd, prof.n_levels, prof.g_min_S, prof.g_max_S,
            c2c_sigma=over.get("c2c_sigma", prof.c2c_sigma),
            d2d_sigma=over.get("d2d_sigma", prof.d2d_sigma),
            write_energy_J=prof.write_energy_up_J, write_energy_down_J=prof.write_energy_down_J,
            pulse_up_V=prof.pulse_up_V, pulse_down_V=prof.pulse_down_V,
            pulse_width_s=prof.pulse_width_s, read_voltage_V=prof.read_voltage_V,
            name=f"{prof.name}_nl{p.nl_ltp:g}_{p.nl_ltd:g}",
            source=f"NeuroSim curve on the ngspice-characterised {prof.name} profile "
                   f"(levels, G range, write energies, voltages kept)")
        return prof
    return dataclasses.replace(prof, **over) if over else prof


def characterized_profile(model: str, overrides: Mapping[str, Any]):
    """The ngspice-characterised profile of ``model`` (cached on disk; ngspice runs in
    this process, i.e. in the Dask worker, the first time)."""
    from eqspike.devices.characterize import default_profile
    return default_profile(model, overrides=dict(overrides) or None)


def build_circuit_profiles(p: DevicePointParams):
    """``(NeuronProfile, CrossbarProfile)`` of the point; no silent stand-ins."""
    from eqspike.network import hardware
    quiet = lambda msg: None  # noqa: E731
    if p.neuron == "default":
        from eqspike.circuits.characterize import default_neuron_profile
        neuron = default_neuron_profile(workers=1)   # ngspice in this (worker) process
    else:
        neuron, _ = hardware.load_neuron(p.neuron, progress=quiet, fallback=False)
    crossbar, _ = hardware.load_crossbar(p.crossbar, progress=quiet, fallback=False)
    return neuron, crossbar


@functools.lru_cache(maxsize=2)
def _dataset(data_dir: str | None, name: str = "mnist"):
    """The point's dataset, loaded (and verified) once per worker process."""
    from eqspike.datasets import load_dataset
    return load_dataset(data_dir, name=name, progress=False)


def check_datasets(tasks, context: Mapping[str, Any] | None = None) -> list[str]:
    """Locate and verify every dataset the tasks train on, before any point runs (and
    so before any ngspice characterisation); also that the budget fits in each.
    Returns one description line per dataset; raises DataError / ParameterError."""
    context = dict(context or {})
    seen: dict[str, str] = {}
    for t in tasks:
        name = str(t.params_dict.get("dataset_name", "mnist"))
        if name not in seen:
            data = _dataset(context.get("data_dir"), name)
            data.subset(t.budget.n_train, t.budget.n_test)
            seen[name] = data.describe()
    return list(seen.values())


def train_config(p: DevicePointParams, seed: int, budget: Budget, data=None):
    from eqspike.network.config import TrainConfig
    sizes = ((784, *p.hidden, 10) if data is None
             else (data.n_features, *p.hidden, data.n_classes))
    lrs = p.lrs if len(p.lrs) != 1 else p.lrs * (len(sizes) - 1)
    return TrainConfig(sizes=sizes, rule=p.rule, epochs=budget.epochs, batch_size=p.batch_size,
                       T1=p.T1, T2=p.T2, beta=p.beta, lrs=lrs, seed=int(seed),
                       n_train=budget.n_train, n_test=budget.n_test)


@register_point("eqspike_device", DevicePointParams)
def device_point(p: DevicePointParams, *, seed: int, budget: Budget,
                 context: Mapping[str, Any]) -> dict[str, Any]:
    """Build the device profile, train EqSpike briefly with device-aware synapses, evaluate."""
    from eqspike.network.hardware import train_on_hardware
    from eqspike.network.synapses import DeviceSynapseConfig

    data = _dataset(context.get("data_dir"), p.dataset_name)  # before any ngspice run
    device = build_device_profile(p)
    neuron, crossbar = build_circuit_profiles(p)
    cfg = train_config(p, seed, budget, data)
    syn_cfg = DeviceSynapseConfig(policy=p.policy, scheme=p.scheme, w_max=p.w_max,
                                  max_pulses=p.max_pulses,
                                  refresh="periodic" if p.refresh_every > 0 else "none",
                                  refresh_every=max(1, p.refresh_every), seed=int(seed))
    from eqspike.network.policies.chip import ChipSynapseConfig
    chip_cfg = ChipSynapseConfig(policy=p.chip_policy, residual_bits=p.residual_bits)
    res = train_on_hardware(cfg, data, device=device, neuron=neuron, crossbar=crossbar,
                            syn_config=syn_cfg, progress=False, mode=p.mode, chip_config=chip_cfg)
    out: dict[str, Any] = {"test_acc": float(res.train.test_acc),
                           "train_acc": float(res.train.train_acc)}
    out.update(energy_columns(res.summary, res.gpu))
    out.update(profile_columns(device, neuron))
    out["device_profile_hash"] = profile_hash(device)
    out["neuron_profile_hash"] = profile_hash(neuron)
    out["crossbar_profile_hash"] = profile_hash(crossbar)
    return out


#: figures of the profiles actually used, as ``device_<field>`` / ``neuron_<field>`` columns
DEVICE_FIGURES = ("g_min_S", "g_max_S", "n_levels", "nl_ltp", "nl_ltd", "c2c_sigma", "d2d_sigma",
                  "write_energy_up_J", "write_energy_down_J")
NEURON_FIGURES = ("energy_per_spike_J", "max_rate_Hz", "leakage_power_W")


def profile_columns(device, neuron) -> dict[str, Any]:
    """What the profiles really were (a spice device ignores ``g_min_S`` & co. of the point)."""
    out: dict[str, Any] = {"device_name": str(device.name)}
    out.update({f"device_{k}": getattr(device, k) for k in DEVICE_FIGURES})
    if hasattr(device, "write_energy_up"):   # E(G) range: writes are priced at the layer's conductance
        g = np.asarray(device.energy_grid_S)
        e = np.concatenate([device.write_energy_up(g), device.write_energy_down(g)])
        out["device_write_energy_min_J"], out["device_write_energy_max_J"] = float(e.min()), float(e.max())
    out["neuron_name"] = str(neuron.name)
    out.update({f"neuron_{k}": float(getattr(neuron, k)) for k in NEURON_FIGURES})
    return out


#: ledger summary key -> results column
_RENAME = {"energy_per_training_example_J": "energy_per_train_example_J",
           "pulses_per_training_example": "pulses_per_train_example"}
_SKIP = ("test_acc", "train_acc")


def energy_columns(summary: Mapping[str, Any], gpu=None) -> dict[str, float]:
    """Row columns from the ledger summary (names cleaned: ``inference:spikes_J`` ->
    ``inference_spikes_J``) and the energy ratio to an H100 (``gpu_h100_ratio_*``)."""
    out: dict[str, float] = {}
    for k, v in summary.items():
        if k in _SKIP or not isinstance(v, (int, float)):
            continue
        k = _RENAME.get(k, k).replace(":", "_").replace(" ", "_")
        out[k] = float(v)
    if gpu is not None and len(gpu):
        h100 = gpu[gpu["reference"].str.contains("H100")]
        if len(h100):
            out["gpu_h100_ratio_inference"] = float(h100["ratio_inference"].iloc[0])
            out["gpu_h100_ratio_training"] = float(h100["ratio_training"].iloc[0])
    return out
