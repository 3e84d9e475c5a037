"""Digital baselines for the energy comparison, side by side.

(a) ``same EP relaxation``: rate-based EP with the spiking run's T1, T2 on a
digital processor (:func:`gpu_macs`); (b) ``feed-forward + backprop``: the
same MLP as a GPU user would run it (:func:`feedforward_macs`); each times
a named processor's energy per MAC (:data:`GPU_REFERENCES`: vendor peak
efficiency, approximate, ../shared/docs/device-anchors.md, plus the
Horowitz 45 nm fp32 MAC as an arithmetic-only floor); (c) the published
Loihi on-chip-learning figures (:data:`LOIHI_REFERENCE`).  (d) the published
analog in-memory inference chip a user would pick for inference
(:data:`ANALOG_REFERENCE`: IBM's 14 nm PCM chip, 12.4 TOPS/W sustained) running
this MLP's forward pass; it does not train on chip, so it has no training
row.  (e) a measured GPU row (power read during the job times its duration)
is not produced here.
:func:`gpu_comparison` returns the table with the ratios to EqSpike;
:func:`headline_ratios` the conservative ratio (cheapest digital row) and the
same-algorithm ratio.  Every assumption is returned as text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["ANALOG_REFERENCE", "GPU_REFERENCES", "GpuReference", "LOIHI_REFERENCE", "PUBLISHED",
           "digital_rows", "gpu_macs", "feedforward_macs", "gpu_comparison", "headline_ratios",
           "gpu_assumptions", "feedforward_assumptions"]


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


def feedforward_macs(sizes: Sequence[int], batch_size: int = 1) -> dict[str, float]:
    """MACs of the digital alternative a GPU user would run: the same MLP, feed-forward
    inference and backprop training, counted explicitly.

    Inference: one forward pass, ``P = sum n_j n_{j+1}``.  Training per
    example: forward ``P`` + error back-propagated into every hidden layer
    (``sum_{j >= 1} n_j n_{j+1}``; none into the input) + weight gradients
    (outer products, ``P``) + the SGD weight write ``P / batch_size`` (one
    update per mini-batch, the same batch as the spiking run).
    """
    sizes = [int(n) for n in sizes]
    prods = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    P = float(sum(prods))
    back = float(sum(prods[1:]))
    B = max(int(batch_size), 1)
    return {"macs_inference": P, "macs_training": 2 * P + back + P / B, "macs_forward": P,
            "macs_backward_delta": back, "macs_gradients": P, "macs_update_per_example": P / B}


#: Published neuromorphic reference (not a MAC count): Loihi with on-chip learning on MNIST.
LOIHI_REFERENCE = {"reference": "Loihi, on-chip learning (published)", "energy_per_inference_J": 2.5e-6,
                   "energy_per_training_example_J": 0.59e-3, "accuracy": 0.963,
                   "basis": "Nat. Commun. 2024, s41467-024-53827-9, Table 1: 2.5 uJ per inference, 0.59 mJ per "
                            "training sample at 96.3 % MNIST (their network and chip, not this MLP)"}


#: The published analog in-memory inference chip (feed-forward only: weights trained off
#: chip).  2 ops per MAC.
ANALOG_REFERENCE = {"reference": "IBM 14 nm PCM analog-AI chip (published)", "ops_per_J": 12.4e12,
                    "basis": "Ambrogio et al., Nature 620, 768 (2023): 12.4 TOPS/W sustained, chip "
                             "level (../shared/docs/device-anchors.md), 2 ops per MAC, applied to this "
                             "MLP's forward pass; inference only (no on-chip training row)"}
#: baselines that are published chips, not a digital processor running our MACs
PUBLISHED = ("published neuromorphic", "published analog in-memory")


def digital_rows(gpu):
    """The rows of a :func:`gpu_comparison` table that are digital processors."""
    return gpu[~gpu["baseline"].isin(PUBLISHED)] if "baseline" in gpu else gpu


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


def feedforward_assumptions(sizes, batch_size: int) -> list[str]:
    """The assumptions behind the feed-forward + backprop baseline, as printable lines."""
    m = feedforward_macs(sizes, batch_size)
    return [
        f"feed-forward + backprop baseline: the same {'-'.join(str(int(n)) for n in sizes)} MLP as a GPU "
        "user would run it (no relaxation)",
        f"MACs per inference = one forward pass = sum n_j n_j+1 = {m['macs_inference']:.4g}",
        f"MACs per training example = forward {m['macs_forward']:.4g} + error into hidden layers "
        f"{m['macs_backward_delta']:.4g} + weight gradients {m['macs_gradients']:.4g} + SGD write once per "
        f"batch of {int(batch_size)} ({m['macs_update_per_example']:.4g}) = {m['macs_training']:.4g}",
        "same energy per MAC as the EP rows (peak efficiency: lower bounds for the GPU)",
        f"published neuromorphic row: {LOIHI_REFERENCE['basis']}",
        f"published analog in-memory row: {ANALOG_REFERENCE['basis']}",
        "measured GPU row (power read during the job x its duration): not run (no GPU in this session)",
    ]


def gpu_comparison(sizes, T1: int, T2: int, n_nudged_phases: int,
                   energy_per_inference_J: float, energy_per_training_example_J: float,
                   references: Sequence[GpuReference] = GPU_REFERENCES, batch_size: int = 20,
                   include_loihi: bool = True, include_analog: bool = True):
    """DataFrame: every baseline side by side, and the ratio baseline / EqSpike (how many
    times less EqSpike uses).

    ``baseline``: ``same EP relaxation`` (rate-based EP with the same T1, T2:
    :func:`gpu_macs`), ``feed-forward + backprop`` (the same MLP trained
    the usual way: :func:`feedforward_macs`), each on every reference
    processor; plus the published Loihi figures (``published neuromorphic``) and the
    published analog inference chip on this MLP's forward pass (``published analog
    in-memory``, no training row: NaN).
    ``conservative`` marks the digital row with the lowest energy (the best
    digital alternative): the headline ratio.
    """
    import pandas as pd
    m_ep = gpu_macs(sizes, T1, T2, n_nudged_phases)
    m_ff = feedforward_macs(sizes, batch_size)
    rows = []
    for label, m in (("same EP relaxation", m_ep), ("feed-forward + backprop", m_ff)):
        for ref in references:
            e_inf = m["macs_inference"] * ref.energy_per_mac_J
            e_tr = m["macs_training"] * ref.energy_per_mac_J
            rows.append({"baseline": label, "reference": ref.name, "approximate": ref.approximate,
                         "energy_per_mac_J": ref.energy_per_mac_J, "basis": ref.basis,
                         "macs_inference": m["macs_inference"], "macs_training": m["macs_training"],
                         "energy_per_inference_J": e_inf, "energy_per_training_example_J": e_tr})
    if include_loihi:
        rows.append({"baseline": "published neuromorphic", "reference": LOIHI_REFERENCE["reference"],
                     "approximate": False, "energy_per_mac_J": np.nan, "basis": LOIHI_REFERENCE["basis"],
                     "macs_inference": np.nan, "macs_training": np.nan,
                     "energy_per_inference_J": LOIHI_REFERENCE["energy_per_inference_J"],
                     "energy_per_training_example_J": LOIHI_REFERENCE["energy_per_training_example_J"]})
    if include_analog:
        e_mac = 2.0 / ANALOG_REFERENCE["ops_per_J"]
        rows.append({"baseline": "published analog in-memory", "reference": ANALOG_REFERENCE["reference"],
                     "approximate": False, "energy_per_mac_J": e_mac, "basis": ANALOG_REFERENCE["basis"],
                     "macs_inference": m_ff["macs_inference"], "macs_training": np.nan,
                     "energy_per_inference_J": m_ff["macs_inference"] * e_mac,
                     "energy_per_training_example_J": np.nan})
    df = pd.DataFrame(rows)
    df["ratio_inference"] = (df["energy_per_inference_J"] / energy_per_inference_J
                             if energy_per_inference_J > 0 else np.inf)
    df["ratio_training"] = (df["energy_per_training_example_J"] / energy_per_training_example_J
                            if energy_per_training_example_J > 0 else np.inf)
    digital = ~df["baseline"].isin(PUBLISHED)
    df["conservative_inference"] = False
    df["conservative_training"] = False
    df.loc[df[digital]["energy_per_inference_J"].idxmin(), "conservative_inference"] = True
    df.loc[df[digital]["energy_per_training_example_J"].idxmin(), "conservative_training"] = True
    return df


def headline_ratios(gpu) -> dict[str, Any]:
    """The conservative ratios (best digital alternative) and the same-algorithm ratios (EP
    relaxation on the most efficient reference) of a :func:`gpu_comparison` table."""
    ci = gpu[gpu["conservative_inference"]].iloc[0]
    ct = gpu[gpu["conservative_training"]].iloc[0]
    ep = gpu[gpu["baseline"] == "same EP relaxation"]
    ei = ep.loc[ep["energy_per_inference_J"].idxmin()]
    et = ep.loc[ep["energy_per_training_example_J"].idxmin()]
    return {"conservative_inference": float(ci.ratio_inference),
            "conservative_inference_ref": f"{ci.reference}, {ci.baseline}",
            "conservative_training": float(ct.ratio_training),
            "conservative_training_ref": f"{ct.reference}, {ct.baseline}",
            "same_ep_inference": float(ei.ratio_inference), "same_ep_inference_ref": ei.reference,
            "same_ep_training": float(et.ratio_training), "same_ep_training_ref": et.reference,
            **_analog_ratio(gpu)}


def _analog_ratio(gpu) -> dict[str, Any]:
    an = gpu[gpu["baseline"] == "published analog in-memory"] if "baseline" in gpu else gpu.iloc[:0]
    if not len(an):
        return {"analog_inference": float("nan"), "analog_inference_ref": ""}
    return {"analog_inference": float(an.iloc[0].ratio_inference),
            "analog_inference_ref": str(an.iloc[0].reference)}
