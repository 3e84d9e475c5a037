"""Report folder of a hardware run: tables, figures and a Markdown summary.

Everything is written atomically (:mod:`eqspike.atomic`).  Figures use the
Agg backend (no display needed).
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from eqspike import atomic

from .energy import gpu_assumptions

__all__ = ["gpu_headline", "plot_energy_bars", "plot_gpu_ratio", "plot_device", "plot_neuron", "plot_stdp",
           "write_report", "fmt_J"]


def _fig(w=6.0, h=3.8):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt.subplots(figsize=(w, h))


def fmt_J(e: float) -> str:
    """Energy with an SI prefix, e.g. ``3.2 nJ``."""
    if e is None or not np.isfinite(e):
        return "n/a"
    if e == 0:
        return "0 J"
    for f, p in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a")):
        if abs(e) >= f:
            return f"{e / f:.3g} {p}J"
    return f"{e:.3g} J"


def _chart_component(c: str) -> str:
    if c.startswith("pulses refresh"):
        return "refresh writes"
    if c.startswith("pulses"):
        return "writes (programming pulses)"
    return c


def plot_energy_bars(breakdown, path: Path) -> Path:
    """Stacked bars: energy per inference and per training example by component."""
    fig, ax = _fig()
    df = breakdown.copy()
    df["chart"] = df["component"].map(_chart_component)
    inf_phase = "inference" if (df.phase == "inference").any() else "free"
    cols = {"inference": df[df.phase == inf_phase],
            "training example": df[df.phase.isin(["free", "nudged", "write"])]}
    comps = ["spikes", "synaptic events", "leakage", "writes (programming pulses)", "refresh writes",
             "accumulator updates"]
    colors = ["#1f77b4", "#ff7f0e", "#7f7f7f", "#d62728", "#9467bd", "#2ca02c"]
    bottoms = np.zeros(len(cols))
    for c, color in zip(comps, colors):
        vals = np.array([d[d.chart == c]["energy_per_example_J"].sum() for d in cols.values()])
        if not vals.any():
            continue
        ax.bar(list(cols), vals, bottom=bottoms, label=c, color=color)
        bottoms += vals
    for i, tot in enumerate(bottoms):
        ax.text(i, tot, fmt_J(tot), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, 1.15 * bottoms.max() if bottoms.max() > 0 else 1)
    ax.set_ylabel("energy per example (J)")
    ax.set_title("EqSpike energy per example (ledger)")
    ax.legend(fontsize=8, loc="upper left")
    return atomic.save_figure(path, fig)


def plot_gpu_ratio(gpu, summary: dict, path: Path) -> Path:
    """Log-scale bars: EqSpike vs reference processors, per inference and training example."""
    _fig()  # selects the Agg backend
    import matplotlib.pyplot as plt
    plt.close("all")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, col, key, title in ((axes[0], "energy_per_inference_J", "energy_per_inference_J", "per inference"),
                                (axes[1], "energy_per_training_example_J", "energy_per_training_example_J",
                                 "per training example")):
        names = ["EqSpike\n(ledger)"] + [n.replace("NVIDIA ", "").replace("Horowitz 45 nm fp32 MAC",
                                                                              "45 nm fp32\nMAC")
                                         .replace(" (", "\n(") for n in gpu["reference"]]
        vals = [summary[key]] + list(gpu[col])
        ax.bar(range(len(vals)), vals, color=["#2ca02c"] + ["#d62728"] * len(gpu))
        ax.set_yscale("log")
        ax.set_xticks(range(len(vals)))
        ax.set_xticklabels(names, fontsize=7)
        ax.set_ylabel("energy (J)")
        ax.set_title(title)
        for i, v in enumerate(vals):
            ax.text(i, v, fmt_J(v), ha="center", va="bottom", fontsize=7)
        ax.set_ylim(min(vals) / 3, max(vals) * 5)
    fig.suptitle("Same network: EqSpike on characterised circuits vs rate-based EP on digital hardware "
                 "(GPU figures approximate)", fontsize=9)
    return atomic.save_figure(path, fig)


def plot_device(profile, path: Path) -> Path:
    """Noise-free pulse response (G vs pulse number, LTP then LTD) and the step tables."""
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    g = profile.pulse_train()
    a1.plot(np.arange(g.size), g * 1e6, ".-", ms=3)
    a1.set_xlabel("pulse number (potentiate, then depress)")
    a1.set_ylabel("G (uS)")
    a1.set_title(f"{profile.name}: pulse response (NL {profile.nl_ltp:.2g} / {profile.nl_ltd:.2g})")
    grid = np.asarray(profile.g_grid_S)
    a2.plot(grid * 1e6, np.asarray(profile.dg_up_S) * 1e9, label="dG up per pulse")
    a2.plot(grid * 1e6, np.asarray(profile.dg_down_S) * 1e9, label="|dG| down per pulse")
    a2.set_xlabel("G (uS)")
    a2.set_ylabel("step (nS)")
    a2.set_title(f"{profile.n_levels} levels, c2c {100 * profile.c2c_sigma:.2g} % of range")
    a2.legend(fontsize=8)
    return atomic.save_figure(path, fig)


def plot_neuron(profile, path: Path) -> Path:
    """Neuron f-I curve used as rho: rate (Hz) vs input current (A), and normalised."""
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    x = np.asarray(profile.input_norm)
    y = np.asarray(profile.rate_norm)
    a1.plot(x * profile.input_scale_A * 1e9, y * profile.max_rate_Hz / 1e3, "o-", ms=3)
    a1.set_xlabel("input current (nA)")
    a1.set_ylabel("spike rate (kHz)")
    a1.set_title(f"{profile.name}: f-I curve")
    xs = np.linspace(-0.2, max(1.5, x[-1] * 1.1), 200)
    a2.plot(xs, np.interp(xs, x, y), label="rho used (interpolated)")
    a2.plot(xs, np.clip(xs, 0, 1), "--", label="hard sigmoid")
    a2.set_xlabel("x = I / input_scale_A")
    a2.set_ylabel("rho = rate / max_rate")
    a2.legend(fontsize=8)
    return atomic.save_figure(path, fig)


def plot_stdp(path_png: Path, path_csv: Path, pairing: str, eps: float, activation=None):
    """STDP window of the spike-driven update (network/stdp.py); returns (png, csv) or None."""
    try:
        from .stdp import plot_window, stdp_table
    except ImportError:
        return None
    df = stdp_table(pairings=(pairing,), span=15, shapes=("step", "pulse"), eps=eps,
                    activation=activation)
    atomic.write_csv(path_csv, df)
    fig = plot_window(df, f"STDP window of the EqSpike update ({pairing} pairing)")
    return atomic.save_figure(path_png, fig), path_csv


def _table(df, cols: Sequence[str], fmts: dict[str, Any] | None = None) -> str:
    fmts = fmts or {}
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            f = fmts.get(c)
            cells.append(f(v) if f else (f"{v:.4g}" if isinstance(v, float) else str(v)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gpu_headline(gpu, bold: bool = False) -> str:
    """The GPU-ratio sentence of the report's headline; ``eqspike run`` prints the
    same sentence on the console, so both name the same references (the first
    row, and the most efficient one: the README's H100 figure)."""
    b = "**" if bold else ""
    best = gpu.iloc[gpu["energy_per_inference_J"].argmin()]
    first = gpu.iloc[0]
    return (f"vs GPU: {b}{first.ratio_inference:.3g}x{b} less energy per inference and "
            f"{b}{first.ratio_training:.3g}x{b} per training example than {first.reference}; "
            f"{best.ratio_inference:.3g}x / {best.ratio_training:.3g}x vs the most efficient "
            f"reference ({best.reference}).")


def write_report(out: Path, *, cfg, syn_cfg, result, notes: dict[str, str], device, neuron,
                 crossbar, figures: dict[str, str], elapsed_s: float, command: str,
                 dataset=None) -> Path:
    """report.md: accuracy, energy, GPU ratio with assumptions, figures, provenance.

    ``dataset``: the :class:`eqspike.datasets.Dataset` trained on (named in the title
    and the headline; ``None``: MNIST, as before)."""
    s = result.summary
    gpu = result.gpu
    metrics = result.train.metrics
    bd = result.ledger.breakdown()
    nph = 2 if cfg.symmetric_nudging else 1
    ds_name = dataset.name if dataset is not None else "mnist"
    lines = [f"# EqSpike on characterised hardware: {'-'.join(map(str, cfg.sizes))} on {ds_name}", "",
             f"Generated {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')} by "
             f"`{command}` in {elapsed_s / 60:.1f} min.", "",
             "## Headline", "",
             f"- Dataset: {dataset.describe() if dataset is not None else 'mnist'}.",
             f"- **Test accuracy: {100 * s['test_acc']:.2f} %** "
             f"({int(metrics['n_test'].iloc[-1])} test images; trained on "
             f"{int(metrics['n_train'].iloc[-1])} images x {len(metrics)} epoch(s)).",
             f"- **Energy per inference: {fmt_J(s['energy_per_inference_J'])}** "
             f"({s['spikes_per_inference']:.0f} spikes, {s['events_per_inference']:.3g} synaptic events, "
             f"{1e6 * s['inference_time_s']:.3g} us of circuit time).",
             f"- **Energy per training example: {fmt_J(s['energy_per_training_example_J'])}** "
             f"(free {fmt_J(s['train_free_J'])}, nudged {fmt_J(s['train_nudged_J'])}, "
             f"writes {fmt_J(s['train_write_J'])}).", ""]
    lines += [f"- {gpu_headline(gpu, bold=True)}", ""]
    ok_inf = bool((gpu.ratio_inference[gpu.reference.str.startswith("NVIDIA")] >= 1000).all())
    ok_tr = bool((gpu.ratio_training[gpu.reference.str.startswith("NVIDIA")] >= 100).all())
    lines += [f"- Paper's claims (>= 1000x inference, >= 100x training, vs GPUs): inference "
              f"{'MET' if ok_inf else 'NOT met'}, training {'MET' if ok_tr else 'NOT met'} for all "
              "listed GPUs.", ""]
    if not (ok_inf and ok_tr):
        lines += [_why_not(s, bd, gpu), ""]
    lines += ["## Accuracy per epoch", "",
              _table(metrics, ["epoch", "train_acc", "test_acc", "seconds"],
                     {"epoch": lambda v: str(int(v)), "train_acc": lambda v: f"{100 * v:.2f} %",
                      "test_acc": lambda v: f"{100 * v:.2f} %", "seconds": lambda v: f"{v:.0f}"}), "",
              "## Energy breakdown (per example)", "",
              "![energy](energy_breakdown.png)", "",
              _table(bd, ["phase", "component", "layer", "count_per_example", "unit_energy_J",
                          "energy_per_example_J"],
                     {"count_per_example": lambda v: f"{v:.4g}",
                      "unit_energy_J": lambda v: "power x time" if not np.isfinite(v) else f"{v:.3g}",
                      "energy_per_example_J": lambda v: fmt_J(v)}), "",
              "Full table: `energy_breakdown.csv`; totals: `energy_summary.json`.", "",
              "## Comparison with digital hardware", "", "![gpu](gpu_ratio.png)", "",
              _table(gpu, ["reference", "energy_per_mac_J", "energy_per_inference_J",
                           "energy_per_training_example_J", "ratio_inference", "ratio_training"],
                     {"energy_per_mac_J": lambda v: fmt_J(v),
                      "energy_per_inference_J": lambda v: fmt_J(v),
                      "energy_per_training_example_J": lambda v: fmt_J(v),
                      "ratio_inference": lambda v: f"{v:.3g}x", "ratio_training": lambda v: f"{v:.3g}x"}),
              "", "Assumptions:", ""]
    lines += [f"- {a}" for a in gpu_assumptions(cfg.sizes, cfg.T1, cfg.T2, nph * _n_samples(cfg))]
    lines += [f"- EqSpike side: {a}" for a in _ledger_assumptions(result, neuron, crossbar, device)]
    lines += ["", "## Hardware used", ""]
    for k, v in notes.items():
        lines.append(f"- {k}: {v}")
    if device is not None:
        lines += [f"- device '{device.name}' ({device.model}): G {device.g_min_S * 1e6:.3g}-{device.g_max_S * 1e6:.3g} uS, "
                  f"{device.n_levels} levels, NL {device.nl_ltp:.2g} / {device.nl_ltd:.2g}, c2c "
                  f"{100 * device.c2c_sigma:.2g} %, d2d {100 * device.d2d_sigma:.2g} %, write "
                  f"{fmt_J(device.write_energy_up_J)} / {fmt_J(device.write_energy_down_J)} per pulse "
                  f"({device.pulse_up_V:g} / {device.pulse_down_V:g} V, {device.pulse_width_s * 1e9:.3g} ns)",
                  f"- synapse policy: {syn_cfg.policy} pulses, {syn_cfg.scheme} scheme, w_max {syn_cfg.w_max}, "
                  f"max {syn_cfg.max_pulses} pulses per update, refresh {syn_cfg.refresh} every "
                  f"{syn_cfg.refresh_every} updates, quantize {syn_cfg.quantize}"]
        if syn_cfg.policy == "accumulate":
            lines.append("- accumulate policy: one digital residual per synapse, read-added-written "
                         "at every update; priced as 'accumulator updates' at "
                         f"{fmt_J(result.ledger.accumulator_energy_J)} each (Horowitz 45 nm fp32 add, "
                         "arithmetic only: a floor; SRAM access would add to it)")
    lines += [f"- neuron: {neuron.name} ({neuron.circuit}), max rate {neuron.max_rate_Hz / 1e3:.4g} kHz, "
              f"{fmt_J(neuron.energy_per_spike_J)} per spike, leakage {neuron.leakage_power_W:.3g} W, "
              f"input scale {neuron.input_scale_A:.3g} A",
              f"- crossbar: {crossbar.name}, read {crossbar.read_voltage_V:g} V x "
              f"{crossbar.read_pulse_width_s * 1e9:.3g} ns, {fmt_J(float(crossbar.read_energy_J(crossbar.g_ref_S)))} "
              f"per cell read at {crossbar.g_ref_S * 1e6:.3g} uS (wire part "
              f"{fmt_J(crossbar.wire_energy_per_event_J)})",
              f"- training: rule {cfg.rule}, T1 {cfg.T1}, T2 {cfg.T2}, beta {cfg.beta}, eps {cfg.eps}, "
              f"lrs {cfg.lrs}, batch {cfg.batch_size}, {cfg.lr_schedule} schedule, seed {cfg.seed}, "
              f"rule options {dict(cfg.rule_params)}", ""]
    lines += ["## Figures", ""]
    for title, fn in figures.items():
        lines += [f"### {title}", "", f"![{title}]({fn})", ""]
    lines += ["## Files", "", "- `metrics.csv`, `accuracy.png`, `config.json`, `checkpoint.npz`: training run",
              "- `energy_breakdown.csv`, `energy_summary.json`, `gpu_comparison.csv`: energy",
              "- `device_profile.json`, `neuron_profile.json`, `crossbar_profile.json`: the profiles used", ""]
    return atomic.write_text(out / "report.md", "\n".join(lines))


def _n_samples(cfg) -> int:
    opts = cfg.rule_options()
    return int(opts.get("n_samples", 1) if isinstance(opts, dict) else getattr(opts, "n_samples", 1))


def _ledger_assumptions(result, neuron, crossbar, device) -> list[str]:
    led = result.ledger
    g = led.mean_pair_conductance_S()
    out = [f"one step = 1 / (theta x max rate) = {led.step_time_s * 1e6:.3g} us of circuit time",
           "a spike of layer k reads its fan-out pairs: n_k+1 cells forward, n_k-1 backward "
           "(none into the clamped input); each pair = 2 cells read",
           "read energy per cell at the layer's mean G: " + ", ".join(
               f"W{j}: G+ {gp * 1e6:.3g} uS, G- {gm * 1e6:.3g} uS" for j, (gp, gm) in enumerate(g)),
           "leakage of every neuron (input encoders included) over each phase",
           "examples processed one after another (no batching on chip); biases and the nudging "
           "current are not priced; peripheral ADC/DAC, controller and routing energy are not "
           "counted (analog spiking read-out needs no ADC, but write drivers/controller are omitted)"]
    if device is None:
        out.append("ideal synapses: no write energy; reads priced with G = g_ref_S |W|")
    return out


def _why_not(s: dict, bd, gpu) -> str:
    comp = bd.groupby(["phase", "component"])["energy_per_example_J"].sum()
    top = comp.sort_values(ascending=False).head(3)
    parts = ", ".join(f"{ph}/{c} {fmt_J(v)}" for (ph, c), v in top.items())
    return ("Why a bar is not met, in numbers: the largest ledger items per example are " + parts +
            f"; per inference the GPU side needs {gpu['macs_inference'].iloc[0]:.3g} MACs, i.e. the "
            f"circuits would need below {fmt_J(gpu['energy_per_inference_J'].min() / 1000)} per inference "
            f"for 1000x vs the most efficient GPU listed, and below "
            f"{fmt_J(gpu['energy_per_training_example_J'].min() / 100)} per training example for 100x.")
