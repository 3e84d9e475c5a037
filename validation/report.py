"""``report.md`` and plots of a validation (Markdown + PNG, tables as CSV next to them)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eqspike import atomic

__all__ = ["plot_spike_scatter", "plot_images", "plot_energy", "write_report", "BARS"]

#: (figure, bar, moonshot) of issue 13 for the chip configuration
BARS = {"class_agreement": 0.98, "spike_count_median_rel_diff": 0.05, "energy_ratio": 0.10}


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_spike_scatter(neurons: pd.DataFrame, path: Path) -> Path:
    """Spike count per neuron and image, ngspice against the model, one panel per configuration."""
    plt = _plt()
    cfgs = list(dict.fromkeys(neurons.config))
    fig, axes = plt.subplots(1, len(cfgs), figsize=(4 * len(cfgs), 4), squeeze=False)
    for ax, c in zip(axes[0], cfgs):
        d = neurons[neurons.config == c]
        rng = np.random.default_rng(0)
        jit = rng.uniform(-0.2, 0.2, (2, len(d)))
        for k, col in ((1, "#1f77b4"), (2, "#d62728"), (3, "#2ca02c")):
            s = d.layer.values == k
            if s.any():
                ax.scatter(d.count_model.values[s] + jit[0, s], d.count_spice.values[s] + jit[1, s],
                           s=6, alpha=0.4, color=col, label=f"layer {k}")
        hi = max(int(d[["count_model", "count_spice"]].values.max()), 1) + 1
        ax.plot([0, hi], [0, hi], "k-", lw=0.8)
        ax.plot([0, hi], [0, 1.05 * hi], "k:", lw=0.6)
        ax.plot([0, hi], [0, 0.95 * hi], "k:", lw=0.6)
        ax.set(xlabel="spikes per neuron, vectorised model", ylabel="spikes per neuron, ngspice", title=c)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Spike counts (jittered by +-0.2 to show overlaps; dotted: +-5 %)", fontsize=9)
    fig.tight_layout()
    return atomic.save_figure(path, fig)


def plot_images(images: pd.DataFrame, path: Path) -> Path:
    """Per image: class agreement and the median relative spike-count difference."""
    plt = _plt()
    ok = images[images.get("error", pd.Series(index=images.index, dtype=object)).isna()]
    cfgs = list(dict.fromkeys(ok.config))
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for i, c in enumerate(cfgs):
        d = ok[ok.config == c]
        a1.scatter(d.image, np.full(len(d), i), c=np.where(d.class_agrees, "#2ca02c", "#d62728"), s=14,
                   marker="s")
        a2.plot(d.image, 100 * d.median_rel_diff, "o-", ms=3, lw=0.8, label=c)
    a1.set_yticks(range(len(cfgs)))
    a1.set_yticklabels(cfgs, fontsize=8)
    a1.set_title("class agreement per image (green: ngspice and the model predict the same class)", fontsize=9)
    a2.axhline(5, color="k", ls=":", lw=0.8)
    a2.set(xlabel="test image", ylabel="median |dN| / N (%)")
    a2.legend(fontsize=7)
    fig.tight_layout()
    return atomic.save_figure(path, fig)


def plot_energy(images: pd.DataFrame, path: Path) -> Path:
    """Energy per inference: ngspice against the ledger's estimate, per image."""
    plt = _plt()
    ok = images[images.get("error", pd.Series(index=images.index, dtype=object)).isna()]
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for c in dict.fromkeys(ok.config):
        d = ok[ok.config == c]
        ax.scatter(d.ledger_simulated_blocks_J, d.energy_spice_J, s=10, label=f"{c}: ledger (same blocks)")
        ax.scatter(d.ledger_rate_aware_J, d.energy_spice_J, s=10, marker="x", label=f"{c}: rate-aware estimate")
    lo = float(np.nanmin(ok[["energy_spice_J", "ledger_simulated_blocks_J", "ledger_rate_aware_J"]].values))
    hi = float(np.nanmax(ok[["energy_spice_J", "ledger_simulated_blocks_J", "ledger_rate_aware_J"]].values))
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.fill_between([lo, hi], [0.9 * lo, 0.9 * hi], [1.1 * lo, 1.1 * hi], color="k", alpha=0.08, label="+-10 %")
    ax.set(xscale="log", yscale="log", xlabel="estimate for the image (J)", ylabel="ngspice supply energy (J)",
           title="Energy per inference")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return atomic.save_figure(path, fig)


def _fmt(v, pct=False):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    return f"{100 * v:.2f} %" if pct else f"{v:.4g}"


def write_report(out: Path, *, net, summary: pd.DataFrame, images: pd.DataFrame, context: dict) -> Path:
    """report.md: setup, bars, ablations, energy, assumptions."""
    out = Path(out)
    s = summary.set_index("config")
    chip = context["chip_config"]
    lines = [f"# ngspice re-simulation of `{net.run_dir}`", "",
             f"Command: `{context['command']}`  ", f"Date (UTC): {context['date']}; machine: {context['machine']}; "
             f"load before/after: {context['load_before']} / {context['load_after']}; wall time "
             f"{context['wall_s']:.0f} s with {context['workers']} worker process(es).", "",
             "## Network and circuit", "",
             f"- Network {'-'.join(map(str, net.sizes))}, free phase T1 = {context['T']} steps of "
             f"{context['step_s'] * 1e6:.3g} us (circuit time {context['T'] * context['step_s'] * 1e6:.3g} us), "
             f"eps {net.cfg.eps}, theta {net.rule_options().theta}, readout `{net.rule_options().readout}`, "
             f"inference encoder `{net.rule_options().infer_encoder}`.",
             f"- Synapses: {net.notes.get('synapses')}; {context['n_cells']} cells in the netlist "
             "(forward arrays plus the feedback array of each hidden weight layer).",
             f"- Neuron: `{net.neuron.name}` (transistor level, {net.neuron.provenance.get('circuit')}), "
             f"input scale {net.neuron.input_scale_A:.4g} A, max rate {net.neuron.max_rate_Hz:.4g} Hz.",
             f"- Read pulses: {net.crossbar.read_voltage_V} V, effective width {net.crossbar.read_pulse_width_s:.3g} s; "
             f"charge of one unit of weight per spike {context['q_unit_C']:.4g} C.",
             f"- Dataset: {context['dataset']}; test images {context['first']}..{context['first'] + context['images'] - 1}.",
             "", "## Agreement (ngspice vs the vectorised model on the same input spikes)", "",
             "| configuration | images | failed | class agreement | median rel. spike-count diff | p90 | "
             "within 5 % | total spikes diff | first-spike median abs diff (steps) | energy ngspice / ledger "
             "(median) | ngspice / rate-aware estimate | mean s per image |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c, r in s.iterrows():
        lines.append(f"| {c} | {int(r.images)} | {int(r.failed)} | {_fmt(r.class_agreement, True)} | "
                     f"{_fmt(r.spike_count_median_rel_diff, True)} | {_fmt(r.spike_count_p90_rel_diff, True)} | "
                     f"{_fmt(r.spike_count_within_5pct, True)} | {_fmt(r.total_spikes_rel_diff, True)} | "
                     f"{_fmt(r.first_spike_median_abs_diff_steps)} | {_fmt(r.energy_ratio_median)} | "
                     f"{_fmt(r.energy_ratio_rate_aware_median)} | {_fmt(r.wall_s_mean)} |")
    lay = [c for c in s.columns if c.startswith("layer") and c.endswith("_median_rel_diff")]
    if lay:
        lines += ["", "Per layer (median relative spike-count difference; total spikes ngspice vs model): " + "; ".join(
            f"`{c}`: " + ", ".join(f"layer {col[5:-16]} {_fmt(r[col], True)} "
                                   f"({_fmt(r[col.replace('median', 'total_spikes')], True)})" for col in lay)
            for c, r in s.iterrows()) + ".  Layer 1 receives the input array's measured charge; a difference "
            "there is the neuron's (membrane in continuous time and the transistor spike generator)."]
    lines += ["", "Configurations: " + "; ".join(f"`{k}`: {v}" for k, v in context["config_text"].items()) + ".", ""]
    if chip in s.index:
        r = s.loc[chip]
        e_err = abs(r.energy_ratio_median - 1)
        lines += ["## Bars (issue 13), configuration `" + chip + "`", "",
                  "| figure | measured | bar | met |", "|---|---|---|---|",
                  f"| class agreement | {_fmt(r.class_agreement, True)} | >= 98 % | "
                  f"{'yes' if r.class_agreement >= 0.98 else 'NO'} |",
                  f"| median relative spike-count difference | {_fmt(r.spike_count_median_rel_diff, True)} | "
                  f"<= 5 % (moonshot 2 %) | {'yes' if r.spike_count_median_rel_diff <= 0.05 else 'NO'} |",
                  f"| energy per inference vs ledger | {_fmt(e_err, True)} off (ratio {r.energy_ratio_median:.3f}) | "
                  f"<= 10 % (moonshot 5 %) | {'yes' if e_err <= 0.10 else 'NO'} |",
                  f"| images | {int(r.images)} | >= 50 | {'yes' if r.images >= 50 else 'NO'} |", ""]
    lines += ["## Energy per inference (means over the images of each configuration)", "",
              "Like for like, block by block: the spike generators' supply `vdd` against the ledger's "
              "`spikes` + `neuron active floor` of layers 1..L and their leakage; the read drivers against "
              "`synaptic events` + `row wire`.  Ratios are medians over the images.", "",
              "| configuration | ngspice neurons (vdd) | ledger neurons (spikes + active floor + leakage) | ratio "
              "| ngspice read drivers | ledger reads (Joule + row wire) | ratio | ngspice total | ledger, same blocks "
              "| ratio | ledger, not in the netlist (input encoders, bias generators, line holds, conveyance) "
              "| ledger, whole network |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ok = images[images.get("error", pd.Series(index=images.index, dtype=object)).isna()]
    for c in dict.fromkeys(ok.config):
        d = ok[ok.config == c]
        lines.append(f"| {c} | {d.energy_spice_neurons_J.mean():.4g} J | {d.ledger_neurons_J.mean():.4g} J "
                     f"({d.ledger_spikes_J.mean():.3g} + {d.ledger_active_floor_J.mean():.3g} + "
                     f"{d.ledger_leakage_J.mean():.3g}) | {d.energy_ratio_neurons.median():.4f} | "
                     f"{d.energy_spice_reads_J.mean():.4g} J | {d.ledger_reads_J.mean():.4g} J | "
                     f"{d.energy_ratio_reads.median():.4f} | {d.energy_spice_J.mean():.4g} J | "
                     f"{d.ledger_simulated_blocks_J.mean():.4g} J | {d.energy_ratio.median():.4f} | "
                     f"{d.ledger_not_simulated_J.mean():.4g} J | {d.ledger_total_J.mean():.4g} J |")
    lines += ["", "## Plots", "", "![spike counts](spike_counts.png)", "", "![per image](per_image.png)", "",
              "![energy](energy.png)", "", "## Assumptions and what is not simulated", ""]
    lines += [f"- {a}" for a in context["assumptions"]]
    lines += ["", "Files: `summary.csv` (this table), `images.csv` (per image), `neurons.csv` (per neuron and "
              "image), `images/<configuration>/img_*.json` (raw per-image results; a rerun resumes from them)."]
    return atomic.write_text(out / "report.md", "\n".join(lines) + "\n")
