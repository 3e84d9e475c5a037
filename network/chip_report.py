"""Report lines for the training mode (simulator or chip) and the side-by-side table.

:func:`mode_lines` says which mode produced a report's figures and, when the
same settings were also trained in the other mode, shows both side by side
(accuracy, energy per training example and its write part, pulses, ratio to
an H100); used by :func:`eqspike.network.report.write_report`.
"""
from __future__ import annotations

from typing import Any, Mapping

_MODE_TEXT = {
    "simulator": "simulator mode: the rule's updates of a mini-batch are summed in floating "
                 "point, then turned into pulses by the pulse policy",
    "chip": "chip mode: examples one at a time (batch 1), weights changed only by programming "
            "pulses from spike coincidences, every update operation priced "
            "(eqspike.network.chip_costs): line drivers, neuron update logic, residual "
            "registers, per-neuron registers (+beta traces, biases, restart state; 8 KB SRAM "
            "banks, an upper bound) and refresh reads; peripheral control (sequencing, "
            "clocking) is not priced",
}


def mode_text(summary: Mapping[str, Any]) -> str:
    """One line naming the mode (and the chip policy) of a run's summary."""
    mode = summary.get("mode", "simulator")
    txt = _MODE_TEXT.get(mode, mode)
    if mode == "chip":
        pol = summary.get("chip_policy", "pulses")
        if pol == "residual":
            pol += f", {summary.get('residual_bits')}-bit register per synapse"
        txt += f"; update policy {pol}"
    return txt


def _h100_ratio(result) -> float:
    g = result.gpu
    if "baseline" in g:   # the same EP training, not the backprop baseline
        g = g[~g["baseline"].astype(str).str.contains("backprop")]
    row = g[g["reference"].str.contains("H100")]
    return float(row["ratio_training"].iloc[0]) if len(row) else float("nan")


def mode_lines(result, others: Mapping[str, Any] | None = None) -> list[str]:
    """Markdown lines: the mode of ``result``; with ``others`` (label -> HardwareResult of
    the same settings in another mode) a side-by-side table."""
    from .report import fmt_J
    lines = [f"- **Mode: {result.summary.get('mode', 'simulator')}** ({mode_text(result.summary)}).", ""]
    if not others:
        return lines
    runs = {f"{result.summary.get('mode', 'simulator')} (this report)": result, **dict(others)}
    lines += ["## Simulator mode and chip mode side by side", "",
              "| run | mode | test acc | energy / training example | of which writes | "
              "pulses / example | vs H100 (training) |", "|---|---|---|---|---|---|---|"]
    for label, r in runs.items():
        s = r.summary
        lines.append(f"| {label} | {mode_text(s)} | {100 * s['test_acc']:.2f} % | "
                     f"{fmt_J(s['energy_per_training_example_J'])} | {fmt_J(s['train_write_J'])} | "
                     f"{s.get('pulses_per_training_example', float('nan')):.4g} | "
                     f"{_h100_ratio(r):.3g}x |")
    return lines + [""]
