"""Pulse-response characterisation: N potentiating then N depressing pulses,
conductance read at a small voltage after each, in ngspice.

:func:`simulate_train` runs the train (one or many instances in one netlist);
:func:`analyse_train` turns the conductance sequence into the figures a
device paper reports: G_min, G_max, on/off, NeuroSim nonlinearity per
direction (fit of G(p) = B(1 - e^(-p/A)) + G_min with scipy.optimize, see
:mod:`eqspike.devices.neurosim`), distinguishable levels and up/down
asymmetry; :func:`pulse_response` does both and returns a tidy DataFrame
(columns with units) plus a PNG.

Distinguishable levels: walking the (mean, noise-free) potentiation train,
a new level is counted when G exceeds the last counted level by the
resolution ``resolution_frac (G_max - G_min)``, 1/256 by default (an 8-bit
read).  Cycle-to-cycle noise is reported separately (``c2c_sigma``), as
device papers and NeuroSim do.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from eqspike.errors import ParameterError

from . import neurosim as ns
from .energy import write_energies
from .models import ModelSpec, PulseDrive, get_model
from .netlists import PulseSchedule, pulse_netlist, pulse_schedule

__all__ = ["TrainRun", "simulate_train", "analyse_train", "pulse_response", "train_frame",
           "plot_train", "resolve", "MAX_PULSES"]

#: Most pulses per direction in one train (one ngspice transient; ~10^4 pulses
#: already take minutes and gigabytes of vectors).
MAX_PULSES = 10_000


@dataclass
class TrainRun:
    """Result of one pulse-train simulation (``k`` instances)."""
    schedule: PulseSchedule
    conductance_S: np.ndarray    # (k, N + 1): G read before any pulse and after each
    write_energy_J: np.ndarray   # (k, N)
    netlist: str
    wall_s: float
    attempts: int
    time_s: np.ndarray | None = None
    drive_V: np.ndarray | None = None
    current_A: np.ndarray | None = None  # (k, T) device (gate for FeFET) current


def resolve(model: str | ModelSpec, params: Any = None,
            overrides: Mapping[str, Any] | None = None) -> tuple[ModelSpec, Any]:
    """Model spec and validated parameters from a name/spec, params and overrides."""
    spec = get_model(model) if isinstance(model, str) else model
    if params is None:
        params = spec.params(overrides)
    elif overrides:
        from eqspike.params import replace_checked
        params = replace_checked(params, dict(overrides))
    if not isinstance(params, spec.params_cls) and not issubclass(spec.params_cls, type(params)):
        raise ParameterError(f"parameters of type {type(params).__name__} do not belong to model '{spec.name}'")
    return spec, params


def _check_counts(n_up: Any, n_down: Any) -> None:
    from eqspike.params import check
    for nm, v in (("n_up", n_up), ("n_down", n_down)):
        check(nm, v, unit="pulses", low=0, high=MAX_PULSES, integer=True)
    if n_up + n_down < 1:
        raise ParameterError("the pulse train needs at least one pulse: n_up + n_down >= 1")


def build_train_netlist(spec: ModelSpec, params: Any, drive: PulseDrive, n_up: int, n_down: int, *,
                        instances: Sequence[Any] | None = None, seed: int | None = None,
                        options: str | None = None, max_step_s: float | None = None
                        ) -> tuple[str, PulseSchedule]:
    """The pulse-train netlist (and its schedule) that :func:`simulate_train` runs."""
    _check_counts(n_up, n_down)
    sched = pulse_schedule(drive, n_up, n_down, fefet=spec.kind == "fefet")
    insts = list(instances) if instances is not None else [params]
    tmax = max_step_s or min(drive.pulse_width_s, drive.read_s) / 4
    net = pulse_netlist(params, spec.kind, sched, title=f"eqspike device {spec.name} pulse train "
                        f"{n_up}+{n_down}", instances=insts, options=spec.options if options is None else options,
                        max_step_s=tmax, seed=seed)
    return net, sched


def simulate_train(model: str | ModelSpec, params: Any = None, *, drive: PulseDrive | None = None,
                   n_up: int | None = None, n_down: int | None = None,
                   instances: Sequence[Any] | None = None, seed: int | None = None,
                   options: str | None = None, max_step_s: float | None = None,
                   timeout_s: float = 600.0, keep_waveforms: bool = False) -> TrainRun:
    """Simulate the pulse train on one device (or ``instances``, in one netlist)."""
    from eqspike.spice import run_netlist
    spec, params = resolve(model, params)
    drive = drive or spec.drive
    n_up = spec.n_pulses if n_up is None else n_up
    n_down = n_up if n_down is None else n_down
    fefet = spec.kind == "fefet"
    net, sched = build_train_netlist(spec, params, drive, n_up, n_down, instances=instances,
                                     seed=seed, options=options, max_step_s=max_step_s)
    insts = list(instances) if instances is not None else [params]
    k = len(insts)
    names = vector_names(k, fefet)
    res = run_netlist(net, names, timeout_s=timeout_s)
    G, E, cur = extract(res, sched, drive, k, fefet, keep_waveforms)
    t = res["time"]
    return TrainRun(sched, G, E, net, res.wall_s, res.attempts,
                    time_s=t if keep_waveforms else None,
                    drive_V=(res["g"] if fefet else res["in"]) if keep_waveforms else None,
                    current_A=cur)


def vector_names(k: int, fefet: bool) -> list[str]:
    """Vectors a pulse-train netlist with ``k`` instances must return."""
    if fefet:
        return ["time", "g", "dd"] + [f"vsg{j}#branch" for j in range(k)] + [f"vsd{j}#branch" for j in range(k)]
    return ["time", "in"] + [f"vs{j}#branch" for j in range(k)]


def extract(res: Any, sched: PulseSchedule, drive: PulseDrive, k: int, fefet: bool,
            keep_waveforms: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read conductances (k, N+1), write energies (k, N) [and currents] from a run."""
    t = res["time"]
    G = np.empty((k, sched.read_s.size))
    E = np.empty((k, sched.amplitudes_V.size))
    cur = np.empty((k, t.size)) if keep_waveforms else None
    for j in range(k):
        if fefet:
            i_g, i_d = res[f"vsg{j}#branch"], res[f"vsd{j}#branch"]
            G[j] = np.interp(sched.read_s, t, i_d) / drive.read_V
            E[j] = write_energies(t, res["g"], i_g, sched.write_start_s, sched.write_end_s,
                                  res["dd"], i_d)
            if cur is not None:
                cur[j] = i_g
        else:
            i = res[f"vs{j}#branch"]
            G[j] = np.interp(sched.read_s, t, i) / drive.read_V
            E[j] = write_energies(t, res["in"], i, sched.write_start_s, sched.write_end_s)
            if cur is not None:
                cur[j] = i
    return G, E, cur


def count_levels(g_up: np.ndarray, resolution_S: float) -> int:
    """Distinguishable levels along a potentiation train (greedy, see module doc)."""
    levels, last = 1, float(g_up[0])
    for g in g_up[1:]:
        if g - last >= resolution_S:
            levels += 1
            last = float(g)
    return levels


def analyse_train(g_up: np.ndarray, g_down: np.ndarray, *, resolution_frac: float = 1 / 256,
                  level_train: np.ndarray | None = None) -> dict[str, Any]:
    """Figures of one train: ``g_up`` = G before and after each up pulse
    (N_up + 1 values), ``g_down`` = G from the top and after each down pulse.

    ``level_train`` (default ``g_up``) is the train the levels are counted on
    (the fitted curve for noisy data)."""
    g_up = np.asarray(g_up, dtype=float)
    g_down = np.asarray(g_down, dtype=float)
    allg = np.r_[g_up, g_down]
    if not np.all(np.isfinite(allg)):
        raise ParameterError("conductance train holds non-finite values")
    g_min, g_max = float(allg.min()), float(allg.max())
    span = g_max - g_min
    out: dict[str, Any] = {"g_min_S": g_min, "g_max_S": g_max,
                           "on_off": g_max / g_min if g_min > 0 else math.inf,
                           "n_up": g_up.size - 1, "n_down": g_down.size - 1}
    for tag, y, dep in (("ltp", g_up, False), ("ltd", g_down, True)):
        if y.size >= 3 and (y.max() - y.min()) > 0:
            gn = (y - y.min()) / (y.max() - y.min())
            a, rms = ns.fit_direction(gn, depress=dep)
            out[f"nl_{tag}"] = ns.a_to_nl(a)
            out[f"A_{tag}_pulses"] = a * (y.size - 1) if math.isfinite(a) else math.inf
            out[f"fit_rms_{tag}"] = rms
            out[f"g_range_{tag}_S"] = float(y.max() - y.min())
        else:
            out[f"nl_{tag}"], out[f"A_{tag}_pulses"], out[f"fit_rms_{tag}"] = 0.0, math.inf, math.nan
            out[f"g_range_{tag}_S"] = float(y.max() - y.min()) if y.size else 0.0
    res = resolution_frac * span if span > 0 else math.inf
    out["resolution_S"] = res
    lt = g_up if level_train is None else np.asarray(level_train, dtype=float)
    out["n_levels"] = max(count_levels(lt, res), 2) if span > 0 else 1
    up_steps = np.diff(g_up)
    dn_steps = -np.diff(g_down)
    mu, md = float(np.mean(up_steps)) if up_steps.size else 0.0, float(np.mean(dn_steps)) if dn_steps.size else 0.0
    out["mean_step_up_S"], out["mean_step_down_S"] = mu, md
    # asymmetry: (up range - down range)/(sum) per pulse count, 0 = symmetric
    out["asymmetry"] = (mu - md) / (mu + md) if (mu + md) > 0 else 0.0
    out["monotone_up"] = bool(np.all(up_steps >= -1e-12 * g_max))
    out["monotone_down"] = bool(np.all(dn_steps >= -1e-12 * g_max))
    return out


def train_frame(run: TrainRun, instance: int = 0) -> pd.DataFrame:
    """Tidy table of one instance: pulse, direction, amplitude_V, read time, G, energy."""
    s = run.schedule
    n = s.amplitudes_V.size
    amps = np.r_[0.0, s.amplitudes_V]
    direction = np.r_[["init"], np.where(s.amplitudes_V > 0, "up", "down")]
    energy = np.r_[0.0, run.write_energy_J[instance]]
    return pd.DataFrame({"pulse": np.arange(n + 1), "direction": direction, "amplitude_V": amps,
                         "read_time_s": s.read_s, "conductance_S": run.conductance_S[instance],
                         "write_energy_J": energy})


def split_train(G: np.ndarray, n_up: int) -> tuple[np.ndarray, np.ndarray]:
    """(g_up, g_down) from one read sequence (N_up + N_down + 1 values)."""
    return G[: n_up + 1], G[n_up:]


def plot_train(df: pd.DataFrame, metrics: Mapping[str, Any], title: str):
    """Figure: G vs pulse with the NeuroSim fits; write energy per pulse."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(df["pulse"], df["conductance_S"] * 1e6, "o", ms=3, label="ngspice read")
    n_up = int(metrics.get("n_up", 0))
    g0, g1 = metrics["g_min_S"], metrics["g_max_S"]
    for tag, sl, dep in (("ltp", slice(0, n_up + 1), False), ("ltd", slice(n_up, None), True)):
        y = df["conductance_S"].to_numpy()[sl]
        p = df["pulse"].to_numpy()[sl]
        A = metrics.get(f"A_{tag}_pulses", math.inf)
        if y.size >= 3:
            a = A / (y.size - 1) if math.isfinite(A) else math.inf
            k = np.arange(y.size) / (y.size - 1)
            x = 1 - k if dep else k
            fit = y.min() + ns.curve(x, a) * (y.max() - y.min())
            ax.plot(p, fit * 1e6, "-", label=f"NeuroSim fit {tag.upper()} NL {metrics.get('nl_' + tag, 0):.2f}")
    ax.set_xlabel("pulse number")
    ax.set_ylabel("conductance (uS)")
    ax.set_title(f"{title}: G {g0 * 1e6:.3g}-{g1 * 1e6:.3g} uS, {metrics.get('n_levels')} levels")
    ax.legend(fontsize=8)
    e = df[df["direction"] != "init"]
    ax2.plot(e["pulse"], e["write_energy_J"] * 1e15, ".")
    ax2.set_xlabel("pulse number")
    ax2.set_ylabel("write energy per pulse (fJ)")
    fig.tight_layout()
    return fig


def pulse_response(model: str | ModelSpec = "taox_rram", params: Any = None, *,
                   overrides: Mapping[str, Any] | None = None, drive: PulseDrive | None = None,
                   n_pulses: int | None = None, png: str | None = None,
                   timeout_s: float = 600.0) -> tuple[pd.DataFrame, dict[str, Any], TrainRun]:
    """Run ``n_pulses`` up then down; return (tidy DataFrame, metrics, raw run)."""
    spec, params = resolve(model, params, overrides)
    n = spec.n_pulses if n_pulses is None else n_pulses
    _check_counts(n, n)
    if n < 1:
        raise ParameterError(f"parameter 'n_pulses' = {n!r} must be >= 1")
    run = simulate_train(spec, params, drive=drive, n_up=n, n_down=n, timeout_s=timeout_s)
    df = train_frame(run)
    g_up, g_down = split_train(run.conductance_S[0], n)
    metrics = analyse_train(g_up, g_down)
    metrics["write_energy_up_J"] = float(np.mean(run.write_energy_J[0][:n]))
    metrics["write_energy_down_J"] = float(np.mean(run.write_energy_J[0][n:]))
    metrics["wall_s"] = run.wall_s
    if png:
        from eqspike.atomic import save_figure
        save_figure(png, plot_train(df, metrics, spec.name))
    return df, metrics, run
