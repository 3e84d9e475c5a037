"""Quasi-static I-V loop in ngspice.

Two-terminal devices: a triangular sweep 0 -> +V -> 0 -> -V -> 0 across the
device, the current through it: a memristor gives a pinched hysteresis loop.
FeFET: the gate is swept with the drain at the read voltage; the drain
current against the gate voltage shows the polarisation-shifted threshold
(a counter-clockwise memory-window loop).

Loop figures (:func:`loop_metrics`): ``i_at_zero_A`` (largest |I| where the
sweep crosses V = 0 after the start), ``i_peak_A``, ``pinch_ratio`` (their
ratio), and ``max_branch_ratio``: the largest ratio of |I| on the two
branches (rising and falling |V|) at equal voltage within each half-cycle.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .models import IVDrive, ModelSpec
from .netlists import iv_netlist
from .pulses import resolve

__all__ = ["iv_loop", "loop_metrics", "plot_iv"]


def iv_loop(model: str | ModelSpec = "vteam", params: Any = None, *,
            overrides: Mapping[str, Any] | None = None, iv: IVDrive | None = None,
            png: str | None = None, timeout_s: float = 300.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run the sweep; return (DataFrame time_s/voltage_V/current_A/branch, metrics)."""
    from eqspike.spice import run_netlist
    spec, params = resolve(model, params, overrides)
    iv = iv or spec.iv
    fefet = spec.kind == "fefet"
    net = iv_netlist(params, spec.kind, iv, title=f"eqspike device {spec.name} I-V loop",
                     options=spec.options, read_drain_V=spec.drive.read_V)
    names = ["time", "g", "vsd0#branch"] if fefet else ["time", "in", "vs0#branch"]
    res = run_netlist(net, names, timeout_s=timeout_s)
    t = res["time"]
    v = res["g"] if fefet else res["in"]
    i = res["vsd0#branch"] if fefet else res["vs0#branch"]
    phase = (t % iv.period_s) / iv.period_s
    branch = np.where((phase < 0.25) | ((phase >= 0.5) & (phase < 0.75)), "rising", "falling")
    df = pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i, "branch": branch,
                       "cycle": np.minimum((t // iv.period_s).astype(int), iv.cycles - 1)})
    if fefet:
        df = df.rename(columns={"voltage_V": "gate_voltage_V", "current_A": "drain_current_A"})
    m = loop_metrics(t, v, i, iv)
    m["wall_s"] = res.wall_s
    if png:
        from eqspike.atomic import save_figure
        save_figure(png, plot_iv(v, i, spec.name, m, fefet))
    return df, m


def loop_metrics(t: np.ndarray, v: np.ndarray, i: np.ndarray, iv: IVDrive) -> dict[str, Any]:
    """Pinch and hysteresis figures of a triangular loop (see module doc)."""
    T = iv.period_s
    peak = float(np.max(np.abs(i)))
    zeros = [c * T + f * T for c in range(iv.cycles) for f in (0.5, 1.0)]
    i0 = float(np.max(np.abs(np.interp(zeros, t, i))))
    ratios = []
    amp_n = iv.negative_amplitude_V or iv.amplitude_V
    for c in range(iv.cycles):
        for (a, b, c2, amp) in ((0.0, 0.25, 0.5, iv.amplitude_V), (0.5, 0.75, 1.0, -amp_n)):
            vs = np.linspace(0.05, 0.95, 91) * amp
            t_up = c * T + a * T + (vs / amp) * 0.25 * T
            t_dn = c * T + c2 * T - (vs / amp) * 0.25 * T
            iu = np.abs(np.interp(t_up, t, i))
            idn = np.abs(np.interp(t_dn, t, i))
            floor = 1e-6 * peak + 1e-30
            r = np.maximum(iu, floor) / np.maximum(idn, floor)
            ratios.append(float(np.max(np.maximum(r, 1 / r))))
    return {"i_at_zero_A": i0, "i_peak_A": peak, "pinch_ratio": i0 / peak if peak > 0 else 0.0,
            "max_branch_ratio": max(ratios) if ratios else 1.0,
            "amplitude_V": iv.amplitude_V, "period_s": iv.period_s}


def plot_iv(v, i, title: str, m: Mapping[str, Any], fefet: bool):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(v, np.asarray(i) * 1e6, "-")
    ax.set_xlabel("gate voltage (V)" if fefet else "voltage (V)")
    ax.set_ylabel("drain current (uA)" if fefet else "current (uA)")
    ax.set_title(f"{title}: I-V loop (branch ratio {m['max_branch_ratio']:.3g})")
    ax2.semilogy(v, np.abs(i) + 1e-18, "-")
    ax2.set_xlabel(ax.get_xlabel())
    ax2.set_ylabel("|I| (A)")
    fig.tight_layout()
    return fig
