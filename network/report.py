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

from .baselines import digital_rows
from .energy import feedforward_assumptions, gpu_assumptions, headline_ratios

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
    # chip mode's digital and driver rows (network/hardware.py::record_chip)
    if c.endswith("line pulse drivers"):
        return "update line drivers"
    if c.startswith("residual register"):
        return "residual registers"
    if c == "neuron update logic" or c.startswith(("+beta trace", "bias registers", "restart-state")):
        return "per-neuron logic and registers"
    if c.startswith("refresh reads"):
        return "refresh reads"
    return c


_BAR_COMPONENTS = ("spikes", "neuron active floor", "synaptic events", "read-out conveyance",
                   "row wire", "read-out hold", "bias generators", "leakage",
                   "writes (programming pulses)", "refresh writes", "accumulator updates",
                   "update line drivers", "residual registers", "per-neuron logic and registers",
                   "refresh reads", "other")
_BAR_COLORS = ("#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f",
               "#d62728", "#9467bd", "#2ca02c", "#98df8a", "#17becf", "#c49c94", "#f7b6d2", "#c7c7c7")


def energy_bar_values(breakdown) -> dict[str, np.ndarray]:
    """Energy per example (J) by chart component for the two bars of
    :func:`plot_energy_bars` (inference, training example); rows the chart does not
    name go to ``other``, so the bars add up to the ledger's totals."""
    df = breakdown.copy()
    df["chart"] = df["component"].map(_chart_component)
    df.loc[~df["chart"].isin(_BAR_COMPONENTS), "chart"] = "other"
    inf_phase = "inference" if (df.phase == "inference").any() else "free"
    cols = (df[df.phase == inf_phase], df[df.phase.isin(["free", "nudged", "write"])])
    return {c: np.array([d.loc[d.chart == c, "energy_per_example_J"].sum() for d in cols])
            for c in _BAR_COMPONENTS}


def plot_energy_bars(breakdown, path: Path) -> Path:
    """Stacked bars: energy per inference and per training example by component."""
    fig, ax = _fig(8.0, 4.2)
    labels = ["inference", "training example"]
    bottoms = np.zeros(len(labels))
    for (c, vals), color in zip(energy_bar_values(breakdown).items(), _BAR_COLORS):
        if not vals.any():
            continue
        ax.bar(labels, vals, bottom=bottoms, label=c, color=color)
        bottoms += vals
    for i, tot in enumerate(bottoms):
        ax.text(i, tot, fmt_J(tot), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, 1.15 * bottoms.max() if bottoms.max() > 0 else 1)
    ax.set_ylabel("energy per example (J)")
    ax.set_title("EqSpike energy per example (ledger)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return atomic.save_figure(path, fig)


def plot_gpu_ratio(gpu, summary: dict, path: Path) -> Path:
    """Log-scale bars: EqSpike vs reference processors, per inference and training example."""
    _fig()  # selects the Agg backend
    import matplotlib.pyplot as plt
    plt.close("all")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, col, key, title in ((axes[0], "energy_per_inference_J", "energy_per_inference_J", "per inference"),
                                (axes[1], "energy_per_training_example_J", "energy_per_training_example_J",
                                 "per training example")):
        short = {"same EP relaxation": "EP", "feed-forward + backprop": "FF/BP",
                 "published neuromorphic": "published"}
        short["published analog in-memory"] = "inference"
        rows = gpu[np.isfinite(gpu[col].astype(float))]   # no training row for inference chips
        names = ["EqSpike"] + [_short_ref(n) + " " + short.get(b, b)
                               for n, b in zip(rows["reference"], rows.get("baseline", [""] * len(rows)))]
        vals = [summary[key]] + list(rows[col])
        colors = ["#2ca02c"] + [{"same EP relaxation": "#d62728", "feed-forward + backprop": "#ff7f0e",
                                 "published analog in-memory": "#9467bd"}
                                .get(b, "#1f77b4") for b in rows.get("baseline", [""] * len(rows))]
        ax.bar(range(len(vals)), vals, color=colors)
        ax.set_yscale("log")
        ax.set_xticks(range(len(vals)))
        ax.set_xticklabels(names, fontsize=7, rotation=60, ha="right")
        ax.set_ylabel("energy (J)")
        ax.set_title(title)
        for i, v in enumerate(vals):
            ax.text(i, v, fmt_J(v), ha="center", va="bottom", fontsize=7)
        ax.set_ylim(min(vals) / 3, max(vals) * 5)
    fig.suptitle("EqSpike on characterised circuits vs digital baselines: same EP relaxation (red), "
                 "feed-forward/backprop (orange), published Loihi (blue), published analog inference "
                 "chip (purple); GPU figures approximate", fontsize=8)
    return atomic.save_figure(path, fig)


def _num(spec: str, suffix: str = ""):
    """Formatter for a table column: ``n/a`` where the value is missing (NaN)."""
    return lambda v: f"{v:{spec}}{suffix}" if np.isfinite(v) else "n/a"


def _short_ref(name: str) -> str:
    for key in ("V100", "A100", "H100", "Loihi"):
        if key in name:
            return key
    if "PCM" in name:
        return "IBM PCM"
    return "45 nm MAC" if "Horowitz" in name else name


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
    same sentence on the console.  The conservative ratio (the best digital
    alternative, :func:`eqspike.network.baselines.headline_ratios`) comes first,
    the same-algorithm ratio (the EP relaxation on the most efficient GPU) second."""
    b = "**" if bold else ""
    h = headline_ratios(gpu)
    return (f"vs GPU: {b}{h['conservative_inference']:.3g}x{b} less energy per inference and "
            f"{b}{h['conservative_training']:.3g}x{b} per training example than the best digital "
            f"alternative ({h['conservative_inference_ref']}); {h['same_ep_inference']:.3g}x / "
            f"{h['same_ep_training']:.3g}x against the same EP relaxation ({h['same_ep_inference_ref']}).")


def write_report(out: Path, *, cfg, syn_cfg, result, notes: dict[str, str], device, neuron,
                 crossbar, figures: dict[str, str], elapsed_s: float, command: str,
                 dataset=None, others: dict | None = None) -> Path:
    """report.md: accuracy, energy, GPU ratio with assumptions, figures, provenance.

    ``dataset``: the :class:`eqspike.datasets.Dataset` trained on (named in the title
    and the headline; ``None``: MNIST, as before).  ``others``: label -> HardwareResult
    of the same settings in the other training mode, shown side by side
    (:func:`eqspike.network.chip_report.mode_lines`)."""
    from .chip_report import mode_lines
    s = result.summary
    gpu = result.gpu
    metrics = result.train.metrics
    bd = result.ledger.breakdown()
    nph = 2 if cfg.symmetric_nudging else 1
    ds_name = dataset.name if dataset is not None else "mnist"
    lines = [f"# EqSpike on characterised hardware: {'-'.join(map(str, cfg.sizes))} on {ds_name}", "",
             f"Generated {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')} by "
             f"`{command}` in {elapsed_s / 60:.1f} min.", "",
             "## Headline", "", *mode_lines(result, others),
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
    h = headline_ratios(gpu)
    lines += [f"- {gpu_headline(gpu, bold=True)}", ""]
    loihi = gpu[gpu["baseline"] == "published neuromorphic"]
    if len(loihi):
        lo = loihi.iloc[0]
        lines += [f"- Published neuromorphic reference, {lo.reference}: {fmt_J(lo.energy_per_inference_J)} per "
                  f"inference, {fmt_J(lo.energy_per_training_example_J)} per training sample (their network): "
                  f"{lo.ratio_inference:.3g}x / {lo.ratio_training:.3g}x.", ""]
    analog = gpu[gpu["baseline"] == "published analog in-memory"] if "baseline" in gpu else gpu.iloc[:0]
    if len(analog):
        an = analog.iloc[0]
        lines += [f"- The inference chip a user would pick instead, {an.reference}: "
                  f"{fmt_J(an.energy_per_inference_J)} per inference for this MLP's forward pass "
                  f"({an.macs_inference:.4g} MACs at {fmt_J(an.energy_per_mac_J)} per MAC): "
                  f"**{an.ratio_inference:.3g}x** more than EqSpike's inference; it does not train "
                  "on chip.", ""]
    ok_inf = h["conservative_inference"] >= 1000
    ok_tr = h["conservative_training"] >= 100
    lines += [f"- Paper's claims (>= 1000x inference, >= 100x training) against the best digital "
              f"alternative: inference {'MET' if ok_inf else '**NOT met**'} "
              f"({h['conservative_inference']:.3g}x), training {'MET' if ok_tr else '**NOT met**'} "
              f"({h['conservative_training']:.3g}x)."
              + ("" if ok_inf and ok_tr else
                 " Against the same EP relaxation on a GPU: inference "
                 f"{'met' if h['same_ep_inference'] >= 1000 else 'not met'}, training "
                 f"{'met' if h['same_ep_training'] >= 100 else 'not met'}."), ""]
    if not (ok_inf and ok_tr):
        lines += [_why_not(s, bd, gpu), ""]
    lines += ["## Accuracy per epoch", "",
              _table(metrics, ["epoch", "train_acc", "test_acc", "seconds"],
                     {"epoch": lambda v: str(int(v)), "train_acc": lambda v: f"{100 * v:.2f} %",
                      "test_acc": lambda v: f"{100 * v:.2f} %", "seconds": lambda v: f"{v:.0f}"}), "",
              "## Energy breakdown (per example)", "",
              "![energy](energy_breakdown.png)", "",
              _table(bd.assign(unit_J_or_W=np.where(np.isfinite(bd["unit_energy_J"]), bd["unit_energy_J"],
                                                   bd["unit_power_W"])),
                     ["phase", "component", "layer", "count_per_example", "unit", "unit_J_or_W",
                      "energy_per_example_J"],
                     {"count_per_example": lambda v: f"{v:.4g}",
                      "unit_J_or_W": lambda v: f"{v:.3g}",
                      "energy_per_example_J": lambda v: fmt_J(v)}), "",
              "Power terms (unit `unit-s x W`): the count is unit-seconds per example (neurons, line "
              "holds or bias generators times the phase's circuit time), the unit a power in W.", "",
              "Per component (J per example):", "",
              _component_table(bd), "",
              "Full table: `energy_breakdown.csv`; totals: `energy_summary.json`.", "",
              "## Comparison with digital hardware", "", "![gpu](gpu_ratio.png)", "",
              _table(gpu, ["baseline", "reference", "energy_per_mac_J", "macs_inference", "macs_training",
                           "energy_per_inference_J",
                           "energy_per_training_example_J", "ratio_inference", "ratio_training"],
                     {"energy_per_mac_J": lambda v: fmt_J(v),
                      "macs_inference": _num(".4g"), "macs_training": _num(".4g"),
                      "energy_per_inference_J": lambda v: fmt_J(v),
                      "energy_per_training_example_J": lambda v: fmt_J(v),
                      "ratio_inference": _num(".3g", "x"), "ratio_training": _num(".3g", "x")}),
              "", "Assumptions:", ""]
    lines += [f"- same EP relaxation: {a}" for a in gpu_assumptions(cfg.sizes, cfg.T1, cfg.T2,
                                                                      nph * _n_samples(cfg))]
    lines += [f"- {a}" for a in feedforward_assumptions(cfg.sizes, cfg.batch_size)]
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
              f"{fmt_J(neuron.energy_per_spike_J)} per spike at {neuron.nominal_rate_Hz / 1e3:.4g} kHz "
              f"(E(f) = {fmt_J(neuron.energy_fit_E0_J)} + {neuron.active_power_W:.3g} W / f, within "
              f"{100 * neuron.energy_fit_max_error:.2g} % of the characterised points), leakage "
              f"{neuron.leakage_power_W:.3g} W, bias branch {neuron.bias_branch_W():.3g} W, "
              f"input scale {neuron.input_scale_A:.3g} A",
              f"- crossbar: {crossbar.name}, read {crossbar.read_voltage_V:g} V x "
              f"{crossbar.read_pulse_width_s * 1e9:.3g} ns, Joule heat "
              f"{fmt_J(float(crossbar.joule_energy_J(crossbar.g_ref_S)))} and conveyance "
              f"{fmt_J(float(crossbar.conveyance_energy_J(crossbar.g_ref_S)))} per cell read at "
              f"{crossbar.g_ref_S * 1e6:.3g} uS, wire {fmt_J(crossbar.cell_wire_energy_J())} per cell per line "
              f"charge at 0 V rest; line hold {crossbar.hold_power_W():.3g} W at "
              f"{crossbar.readout_rest_V:.3g} V (simulated charge error "
              f"{100 * crossbar.readout_charge_error:.2g} %)",
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
    n_gen = -(-sum(led.sizes) // led.bias_share_neurons)
    out = [f"one step = 1 / (theta x max rate) = {led.step_time_s * 1e6:.3g} us of circuit time",
           "a spike of layer k reads its fan-out pairs: n_k+1 cells forward, n_k-1 backward "
           "(none into the clamped input); each pair = 2 cells read",
           "Joule and conveyance energy per cell at the layer's mean G: " + ", ".join(
               f"W{j}: G+ {gp * 1e6:.3g} uS, G- {gm * 1e6:.3g} uS" for j, (gp, gm) in enumerate(g))
           + "; except the input rows' forward reads, at the G of the rows weighted by the pixels' mean "
             "intensity (their spike rates): " + ", ".join(
               f"W{j} fwd pair {gf * 1e6:.3g} uS (mean {gb * 1e6:.3g} uS)"
               for j, (gf, gb) in enumerate(led.read_pair_conductance_S()) if j == 0),
           f"spikes: E(f) from the neuron's characterised table at each layer's mean rate over its active "
           f"neurons, split into {fmt_J(neuron.spike_floor_J())} per spike (the most efficient characterised "
           f"rate) and the rest, booked as the 'neuron active floor'; fitted law E(f) = "
           f"{fmt_J(neuron.energy_fit_E0_J)} + {neuron.active_power_W:.3g} W / f (max deviation "
           f"{100 * neuron.energy_fit_max_error:.2g} % from a characterised point)",
           f"active neurons: {100 * led.input_active_fraction:.3g} % of the input encoders (non-zero pixels "
           "of the test images); hidden and output neurons: "
           + ("the neuron-steps with a positive membrane the rule reports (end state of the free phase x T1)"
              if led.active_examples.get("inference", 0) and led.active_examples["inference"] == led.examples["inference"]
              else "all of them (an upper bound: the rule reported no active counts)"),
           f"row wire: once per spike per driven line, {fmt_J(crossbar.cell_wire_energy_J())} x "
           f"(V_rest + V_read) / V_read per cell on the line",
           f"read-out: every non-input neuron has {led.holds_per_neuron} held lines (G+ and G- columns; its "
           f"backward lines are assumed to share them), each a simulated line hold of "
           f"{crossbar.hold_power_W():.3g} W at V_rest {crossbar.readout_rest_V:.3g} V (charge error "
           f"{100 * crossbar.readout_charge_error:.2g} %); a read pulse takes its row from V_rest to "
           "V_rest + V_read (drivers switched off between pulses: idle rows float), so each read also "
           "costs V_rest G V_read t (conveyance)",
           f"bias: one shared bias generator per {led.bias_share_neurons} neurons ({n_gen} generators), each "
           f"drawing the neuron's measured bias branch {neuron.bias_branch_W():.3g} W",
           "write pulses priced on the device's E(G) tables at the layer's mean conductance" if
           (device is not None and getattr(device, "has_energy_tables", False)) else
           "write pulses priced at the device's flat mean energy per pulse",
           "leakage (standby) of every neuron (input encoders included) over each phase",
           "examples processed one after another (no batching on chip); the nudging current, controller, "
           "routing and write drivers are not priced here"]
    for p in (device, neuron, crossbar):
        note = p.assumption_note() if p is not None and hasattr(p, "assumption_note") else ""
        if note:
            out.append("older profile: " + note)
    if device is None:
        out.append("ideal synapses: no write energy; reads priced with G = g_ref_S |W|")
    return out


def _component_table(bd) -> str:
    inf_phase = "inference" if (bd.phase == "inference").any() else "free"
    inf = bd[bd.phase == inf_phase].groupby("component", sort=False)["energy_per_example_J"].sum()
    tr = bd[bd.phase.isin(["free", "nudged", "write"])].groupby("component", sort=False)[
        "energy_per_example_J"].sum()
    comps = list(dict.fromkeys(list(inf.index) + list(tr.index)))
    ti, tt = float(inf.sum()), float(tr.sum())
    lines = ["| component | per inference | share | per training example | share |", "|---|---|---|---|---|"]
    for c in comps:
        a, b = float(inf.get(c, 0.0)), float(tr.get(c, 0.0))
        lines.append(f"| {c} | {fmt_J(a)} | {100 * a / ti if ti else 0:.1f} % | {fmt_J(b)} | "
                     f"{100 * b / tt if tt else 0:.1f} % |")
    lines.append(f"| **total** | **{fmt_J(ti)}** | | **{fmt_J(tt)}** | |")
    return "\n".join(lines)


def _why_not(s: dict, bd, gpu) -> str:
    comp = bd.groupby(["phase", "component"])["energy_per_example_J"].sum()
    top = comp.sort_values(ascending=False).head(3)
    parts = ", ".join(f"{ph}/{c} {fmt_J(v)}" for (ph, c), v in top.items())
    digital = digital_rows(gpu)
    return ("Why a bar is not met, in numbers: the largest ledger items per example are " + parts +
            f"; the best digital alternative needs {fmt_J(digital['energy_per_inference_J'].min())} per "
            f"inference and {fmt_J(digital['energy_per_training_example_J'].min())} per training example, "
            f"so the circuits would need below {fmt_J(digital['energy_per_inference_J'].min() / 1000)} per "
            f"inference for 1000x and below {fmt_J(digital['energy_per_training_example_J'].min() / 100)} "
            "per training example for 100x (levers: docs/hardware.md).")
