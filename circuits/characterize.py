"""Characterise a neuron circuit in ngspice and reduce it to a NeuronProfile.

:func:`fi_sweep` runs one transient per input current (in parallel with
:func:`eqspike.spice.run_many`), sizes each stop time from the expected rate,
reruns points with too few spikes for longer, and measures rate and energy
per spike with :func:`eqspike.circuits.measure.spike_metrics` (whole periods
between kept threshold crossings, start-up spikes dropped, standby power from
a zero-input operating point subtracted and reported apart).

:func:`characterize` writes the f-I / energy table (Parquet + CSV), membrane
waveforms (Parquet), PNG plots and ``profile.json`` to a folder, cached by the
hash of all netlists (``eqspike.cache.entry_dir("circuit", hash)``).

:func:`default_neuron_profile` and :func:`default_crossbar_profile` are what
the network level calls.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from eqspike import atomic
from eqspike.errors import ParameterError
from eqspike.params import check
from eqspike.spice import SpiceError, netlist_hash, run_many, run_netlist

from .measure import spike_metrics
from .neurons import SolverOptions, make_neuron
from .profile import CrossbarProfile, NeuronProfile

__all__ = ["standby_power_W", "bias_branch_power_W", "fit_energy_law", "plan_point", "fi_sweep", "waveforms", "profile_from_sweep", "fi_summary",
           "characterize", "Characterization", "default_neuron_profile", "default_crossbar_profile",
           "DEFAULT_CIRCUIT"]

#: Circuit behind :func:`default_neuron_profile`.
DEFAULT_CIRCUIT = "axon_hillock"
#: Bumped when the measurement method changes (part of the cache key).
METHOD_VERSION = "circuits-v2"  # v2: E(f) law, measured bias branch, table up to the peak


# --------------------------------------------------------------------------- simulation planning

def run_batch(netlists: Sequence[str], vectors, *, workers: int, **kw) -> list:
    """:func:`eqspike.spice.run_many`, falling back to this process if the pool breaks.

    ``run_many``'s forkserver pool re-imports the calling script; a script
    without an ``if __name__ == "__main__":`` guard kills the workers
    (BrokenProcessPool).  Then the batch is rerun serially, with a warning.
    """
    from concurrent.futures.process import BrokenProcessPool
    if workers is not None:
        check("workers", workers, unit="processes", low=1, high=1024, integer=True)
    kw.setdefault("return_exceptions", True)
    try:
        res = run_many(netlists, vectors, workers=workers, **kw)
    except BrokenProcessPool:
        res = [BrokenProcessPool()]
    if workers != 1 and any(isinstance(r, BrokenProcessPool) for r in res):
        import warnings
        warnings.warn("ngspice worker pool broke (is the calling script missing an "
                      "'if __name__ == \"__main__\":' guard?); running serially", RuntimeWarning, stacklevel=3)
        res = run_many(netlists, vectors, workers=1, **kw)
    return res


def standby_power_W(neuron, solver: SolverOptions | None = None) -> float:
    """Static supply power (W) with zero input, from a ``.op`` analysis."""
    r = run_netlist(neuron.op_netlist(solver), ["vdd", "vdd#branch"], retries=False)
    return float(-r["vdd"][-1] * r["vdd#branch"][-1])


def bias_branch_power_W(neuron, solver: SolverOptions | None = None) -> float:
    """Power (W) the bias supply ``vddb`` delivers at zero input (the reference branches), from ``.op``."""
    r = run_netlist(neuron.op_netlist(solver), ["vddb", "vddb#branch"], retries=False)
    return float(-r["vddb"][-1] * r["vddb#branch"][-1])


def fit_energy_law(rates_Hz, energies_J) -> tuple[float, float, float]:
    """Fit ``E(f) = E0 + P / f`` to (rate, energy per spike) points by relative least squares.

    Returns ``(E0_J, P_W, max_relative_error)``; both coefficients are kept
    >= 0 (a negative one is set to 0 and the other refitted).  Fewer than two
    points: ``(mean energy, 0, spread)``.
    """
    f = np.asarray(rates_Hz, dtype=np.float64)
    e = np.asarray(energies_J, dtype=np.float64)
    ok = (f > 0) & (e > 0) & np.isfinite(f) & np.isfinite(e)
    f, e = f[ok], e[ok]
    if f.size == 0:
        return 0.0, 0.0, 0.0
    if f.size < 2:
        return float(e[0]), 0.0, 0.0
    A = np.c_[np.ones_like(f), 1.0 / f] / e[:, None]
    (e0, pw), *_ = np.linalg.lstsq(A, np.ones_like(f), rcond=None)
    if pw < 0:
        e0, pw = float(np.mean(e)), 0.0
    elif e0 < 0:
        e0, pw = 0.0, float(np.sum(e * f) / f.size)
    err = float(np.max(np.abs((e0 + pw / f) / e - 1.0)))
    return float(e0), float(pw), err


def plan_point(neuron, i_in_A: float, solver: SolverOptions, *, n_spikes: int = 6,
               stretch: float = 1.0) -> tuple[str, float]:
    """Netlist and stop time for one f-I point: first spike + ``n_spikes`` expected periods."""
    f = neuron.expected_rate_Hz(i_in_A)
    period = 1.0 / f if f > 0 else 10 * neuron.first_spike_s(i_in_A)
    t_stop = (1.5 * neuron.first_spike_s(i_in_A) + (n_spikes + 1) * period) * stretch
    t_max = min(period / solver.steps_per_period, t_stop / 200)
    return neuron.netlist(i_in_A, t_stop, t_max, solver), t_stop


def _vectors(neuron) -> list[str]:
    return ["time", neuron.supply, f"{neuron.supply}#branch", neuron.output_node, neuron.membrane_node]


def fi_sweep(neuron, currents_A: Sequence[float], *, solver: SolverOptions | None = None,
             workers: int = 2, n_spikes: int = 6, n_drop: int = 2, standby_W: float | None = None,
             progress: bool = False, timeout_s: float = 120.0) -> pd.DataFrame:
    """f-I curve with energy per spike: one row per input current.

    Columns: ``i_in_A, rate_Hz, n_spikes, n_periods, isi_cv, energy_per_spike_J``
    (dynamic), ``energy_per_spike_gross_J``, ``standby_power_W``, ``t_stop_s``,
    ``n_points``, ``attempts``, ``wall_s``, ``v_end_V``, ``netlist_hash``.
    Points with fewer than 3 measured periods are rerun once with a 4x
    longer stop time.  A point ngspice cannot run (no convergence, time
    limit) gets ``rate_Hz`` NaN, ``attempts`` -1 and its message in ``error``;
    ``attempts`` > 1 marks points that needed the runner's relaxed tolerances.
    """
    solver = solver or SolverOptions()
    currents = [neuron.check_input(i) for i in currents_A]
    if standby_W is None:
        standby_W = standby_power_W(neuron, solver)
    vecs = _vectors(neuron)
    level = 0.5 * neuron.vdd_V
    rows: list[dict[str, Any] | None] = [None] * len(currents)
    todo = list(range(len(currents)))
    for stretch in (1.0, 4.0):
        if not todo:
            break
        plans = [plan_point(neuron, currents[k], solver, n_spikes=n_spikes, stretch=stretch) for k in todo]
        results = run_batch([p[0] for p in plans], vecs, workers=workers, timeout_s=timeout_s,
                            progress=progress)
        again = []
        for k, (net, t_stop), r in zip(todo, plans, results):
            if isinstance(r, Exception):
                if not isinstance(r, SpiceError):
                    raise r
                # one failed point (no convergence / time limit) does not sink the sweep
                rows[k] = {"i_in_A": currents[k], "n_spikes": 0, "n_periods": 0, "rate_Hz": float("nan"),
                           "standby_power_W": standby_W, "t_stop_s": t_stop, "attempts": -1,
                           "netlist_hash": netlist_hash(net), "error": str(r).splitlines()[0][:300]}
                continue
            m = spike_metrics(r["time"], r[neuron.output_node], r[neuron.supply],
                              r[f"{neuron.supply}#branch"], level, n_drop=n_drop,
                              standby_power_W=standby_W)
            rows[k] = {"i_in_A": currents[k], **m, "standby_power_W": standby_W, "t_stop_s": t_stop,
                       "n_points": int(len(r["time"])), "attempts": r.attempts, "wall_s": r.wall_s,
                       "netlist_hash": netlist_hash(net)}
            if m["n_periods"] < 3 and m["n_spikes"] >= 1 and stretch == 1.0:
                again.append(k)
        todo = again
    df = pd.DataFrame(rows)
    if "error" not in df:
        df["error"] = ""
    df["error"] = df["error"].fillna("").astype(str)
    df.insert(0, "circuit", neuron.name)
    return df


def waveforms(neuron, currents_A: Sequence[float], *, solver: SolverOptions | None = None,
              n_spikes: int = 3, workers: int = 2) -> pd.DataFrame:
    """Membrane and output waveforms (tidy: ``i_in_A, time_s, node, voltage_V``)."""
    solver = solver or SolverOptions()
    plans = [plan_point(neuron, neuron.check_input(i), solver, n_spikes=n_spikes) for i in currents_A]
    res = run_batch([p[0] for p in plans], _vectors(neuron), workers=workers, return_exceptions=False)
    frames = []
    for i, r in zip(currents_A, res):
        for node in (neuron.membrane_node, neuron.output_node):
            frames.append(pd.DataFrame({"i_in_A": float(i), "time_s": r["time"], "node": node,
                                        "voltage_V": r[node]}))
        frames.append(pd.DataFrame({"i_in_A": float(i), "time_s": r["time"], "node": "supply_current",
                                    "voltage_V": -r[f"{neuron.supply}#branch"]}))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- reduction to a profile

def profile_from_sweep(neuron, df: pd.DataFrame, *, standby_W: float, ngspice_version: str = "",
                       netlist_key: str = "", name: str | None = None,
                       bias_W: float | None = None) -> NeuronProfile:
    """Reduce an f-I/energy table to a :class:`NeuronProfile`.

    The table runs up to the peak rate (``input_scale_A`` = current at the
    peak, ``max_rate_Hz`` = peak rate); rates are made non-decreasing by a
    running maximum (an Axon-Hillock neuron latches above its reset current:
    the network must stay below ``input_scale_A``).  The threshold current is
    interpolated between the last silent and the first spiking input.  The
    nominal rate is half the maximum; its energy is interpolated (log-log)
    from the measured energy-vs-rate pairs.
    """
    d = df[np.isfinite(df["rate_Hz"])].sort_values("i_in_A").reset_index(drop=True)
    if len(d) == 0:
        raise ParameterError(f"circuit '{neuron.name}': no f-I point could be simulated")
    i = d["i_in_A"].to_numpy(float)
    f = d["rate_Hz"].to_numpy(float)
    if not np.any(f > 0):
        raise ParameterError(f"circuit '{neuron.name}' did not spike at any input in "
                             f"[{i.min():g}, {i.max():g}] A: no profile")
    k_peak = int(np.argmax(f))
    f_max, i_scale = float(f[k_peak]), float(i[k_peak])
    i_t, f_t = i[:k_peak + 1], np.maximum.accumulate(f[:k_peak + 1])
    spiking = np.nonzero(f > 0)[0]
    k0 = int(spiking[0])
    thr = float(i[k0]) if k0 == 0 else float(0.5 * (i[k0 - 1] + i[k0]))
    if k0 == 0:
        thr = 0.0  # spikes down to the lowest characterised input: no measurable threshold
    x = np.concatenate([[0.0], i_t / i_scale])
    y = np.concatenate([[0.0], f_t / f_max])
    keep = np.concatenate([[True], np.diff(x) > 0])
    x, y = x[keep], np.clip(y[keep], 0, 1)
    ok = ((d["rate_Hz"] > 0) & np.isfinite(d["energy_per_spike_J"]) & (d["energy_per_spike_J"] > 0)
          & (d["i_in_A"] <= i_scale))  # up to the peak: beyond it the neuron latches
    pairs = sorted((float(a), float(b)) for a, b in zip(d.loc[ok, "rate_Hz"], d.loc[ok, "energy_per_spike_J"]))
    nominal = 0.5 * f_max
    if pairs:
        pr = np.array(pairs)
        e_nom = float(np.exp(np.interp(np.log(nominal), np.log(pr[:, 0]), np.log(pr[:, 1]))))
    else:
        e_nom = float(np.nanmedian(d["energy_per_spike_gross_J"]))
    e0, p_act, fit_err = fit_energy_law(*(np.array(pairs).T if pairs else ([], [])))
    prov = {"circuit": neuron.name, "parameters": neuron.params_dict(),
            "model_card": neuron.tech.model_file, "model_card_source": neuron.tech.source,
            "technology": neuron.tech.name, "ngspice_version": ngspice_version,
            "netlist_hash": netlist_key, "method": METHOD_VERSION,
            "bias_power_W": neuron.bias_power_W(),
            "energy_law": "E(f) = energy_fit_E0_J + active_power_W / f, relative least squares over the "
                          f"{len(pairs)} characterised rates up to the peak "
                          f"({pairs[0][0] if pairs else 0:.3g}-{pairs[-1][0] if pairs else 0:.3g} Hz)",
            "energy_note": "dynamic supply energy per spike over whole periods, standby power subtracted; "
                           "bias branch (vddb) measured apart (bias_power_W, shared by the neurons of one bias generator); input current excluded",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    return NeuronProfile(name=name or f"{neuron.name}_{neuron.tech.name}", circuit=neuron.name,
                         input_norm=tuple(x), rate_norm=tuple(y), max_rate_Hz=f_max,
                         input_scale_A=i_scale, threshold_current_A=thr,
                         energy_per_spike_J=e_nom, leakage_power_W=max(float(standby_W), 0.0),
                         supply_V=neuron.vdd_V, energy_per_spike_vs_rate=tuple(pairs),
                         nominal_rate_Hz=nominal, energy_fit_E0_J=e0, active_power_W=p_act,
                         energy_fit_max_error=fit_err,
                         bias_power_W=-1.0 if bias_W is None else max(float(bias_W), 0.0), provenance=prov)


def fi_summary(df: pd.DataFrame, profile: NeuronProfile) -> dict[str, Any]:
    """Headline numbers of an f-I sweep: threshold, saturation, gain, energy range."""
    s = df[df["rate_Hz"] > 0].sort_values("i_in_A")
    low = s[s["i_in_A"] <= 0.05 * profile.input_scale_A]
    gain = float(np.median(low["rate_Hz"] / low["i_in_A"])) if len(low) else float("nan")
    return {"circuit": profile.circuit, "threshold_current_A": profile.threshold_current_A,
            "saturation_rate_Hz": profile.max_rate_Hz, "current_at_max_rate_A": profile.input_scale_A,
            "gain_below_5pct_of_scale_Hz_per_A": gain,
            "charge_per_spike_C": 1.0 / gain if gain > 0 else float("nan"),
            "energy_per_spike_nominal_J": profile.energy_per_spike_J,
            "nominal_rate_Hz": profile.nominal_rate_Hz,
            "energy_per_spike_min_J": float(s["energy_per_spike_J"].min()) if len(s) else float("nan"),
            "energy_per_spike_max_J": float(s["energy_per_spike_J"].max()) if len(s) else float("nan"),
            "standby_power_W": profile.leakage_power_W,
            "bias_power_W": profile.provenance.get("bias_power_W"),
            "max_isi_cv": float(s["isi_cv"].max()) if len(s) else float("nan"),
            "points": int(len(df)), "relaxed_tolerance_points": int((df["attempts"] > 1).sum())}


# --------------------------------------------------------------------------- plots

def plot_fi(df: pd.DataFrame, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    s = df[df["rate_Hz"] > 0]
    ax[0].loglog(s["i_in_A"], s["rate_Hz"], "o-", ms=3)
    ax[0].set(xlabel="input current (A)", ylabel="spike rate (Hz)", title="f-I (log-log)")
    ax[0].grid(True, which="both", alpha=0.3)
    ax[1].plot(df["i_in_A"] * 1e9, df["rate_Hz"] / 1e3, "o-", ms=3)
    ax[1].set(xlabel="input current (nA)", ylabel="spike rate (kHz)", title="f-I (linear)")
    ax[1].grid(True, alpha=0.3)
    fig.suptitle(title)
    return fig


def plot_energy(df: pd.DataFrame, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    s = df[(df["rate_Hz"] > 0) & (df["energy_per_spike_J"] > 0)]
    ax.loglog(s["rate_Hz"], s["energy_per_spike_J"], "o-", ms=3, label="dynamic (standby subtracted)")
    ax.loglog(s["rate_Hz"], s["energy_per_spike_gross_J"], "x--", ms=3, label="gross (incl. standby)")
    ax.set(xlabel="spike rate (Hz)", ylabel="energy per spike (J)", title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def plot_waveforms(wf: pd.DataFrame, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    levels = sorted(wf["i_in_A"].unique())
    fig, axes = plt.subplots(len(levels), 1, figsize=(8, 2.2 * len(levels)), squeeze=False)
    for ax, lev in zip(axes[:, 0], levels):
        w = wf[wf["i_in_A"] == lev]
        for node in w["node"].unique():
            if node == "supply_current":
                continue
            ww = w[w["node"] == node]
            ax.plot(ww["time_s"] * 1e6, ww["voltage_V"], label=node)
        ax.set(ylabel="V", title=f"input {lev:.3g} A")
        ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("time (us)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- full characterisation

@dataclass
class Characterization:
    """Result of :func:`characterize` (tables, profile, folder)."""
    profile: NeuronProfile
    fi: pd.DataFrame
    waveforms: pd.DataFrame | None
    out_dir: Path
    cached: bool


def _sweep_currents(neuron, n_points: int) -> np.ndarray:
    return np.geomspace(neuron.i_min_A, neuron.i_max_A, int(n_points))


def characterize(neuron_or_name: Any = DEFAULT_CIRCUIT, *, params: Mapping[str, Any] | None = None,
                 n_points: int = 40, out_dir: str | Path | None = None, cache: bool = True,
                 workers: int = 2, solver: SolverOptions | None = None, with_waveforms: bool = True,
                 progress: bool = False) -> Characterization:
    """Full characterisation of a neuron: f-I + energy table, waveforms, PNGs, profile JSON.

    Results are cached under ``entry_dir("circuit", key)``, ``key`` being the
    hash of every sweep netlist plus the method version; ``out_dir`` (if
    given) receives a copy.
    """
    from eqspike.cache import building, entry_dir, lookup
    from eqspike.spice import ngspice_version
    neuron = (make_neuron(neuron_or_name, **dict(params or {})) if isinstance(neuron_or_name, str)
              else neuron_or_name)
    check("n_points", n_points, unit="input currents", low=3, high=10_000, integer=True)
    check("workers", workers, unit="processes", low=1, high=1024, integer=True)
    if out_dir is not None:
        atomic.ensure_dir(out_dir, "out_dir (--out)")
    solver = solver or SolverOptions()
    currents = _sweep_currents(neuron, n_points)
    key_text = "\n".join([METHOD_VERSION, f"waveforms={with_waveforms}"] +
                         [plan_point(neuron, i, solver)[0] for i in currents])
    key = netlist_hash(key_text)
    files = ("profile.json", "fi.parquet")
    hit = lookup("circuit", key, required=files) if cache else None
    if hit is not None:
        d = hit
        prof = NeuronProfile.from_json(d / "profile.json")
        fi = pd.read_parquet(d / "fi.parquet")
        wf = pd.read_parquet(d / "waveforms.parquet") if (d / "waveforms.parquet").exists() else None
        cached = True
    else:
        standby = standby_power_W(neuron, solver)
        bias = bias_branch_power_W(neuron, solver)
        fi = fi_sweep(neuron, currents, solver=solver, workers=workers, standby_W=standby, progress=progress)
        prof = profile_from_sweep(neuron, fi, standby_W=standby, ngspice_version=ngspice_version(),
                                  netlist_key=key, bias_W=bias)
        wf = None
        title = f"{neuron.name} ({neuron.tech.name}, VDD {neuron.vdd_V:g} V)"
        if with_waveforms:
            lv = [x * prof.input_scale_A for x in (0.05, 0.3, 1.0)]
            lv = [min(max(v, neuron.i_min_A), neuron.i_max_A) for v in lv]
            wf = waveforms(neuron, lv, solver=solver, workers=workers)
        # the entry is complete or absent: written in a temp folder, renamed at the end
        with building("circuit", key) as tmp:
            if wf is not None:
                atomic.write_parquet(tmp / "waveforms.parquet", wf)
                atomic.save_figure(tmp / "waveforms.png", plot_waveforms(wf, title))
            atomic.write_parquet(tmp / "fi.parquet", fi)
            atomic.write_csv(tmp / "fi.csv", fi)
            atomic.save_figure(tmp / "fi.png", plot_fi(fi, title))
            atomic.save_figure(tmp / "energy_vs_rate.png", plot_energy(fi, title))
            atomic.write_json(tmp / "netlist_example.json",
                              {"netlist": plan_point(neuron, currents[len(currents) // 2], solver)[0]})
            atomic.write_json(tmp / "summary.json", fi_summary(fi, prof))
            prof.to_json(tmp / "profile.json")
        d = entry_dir("circuit", key)
        cached = False
    out = d
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            if f.is_file() and not f.name.startswith("."):
                shutil.copyfile(f, out / f.name)
    return Characterization(profile=prof, fi=fi, waveforms=wf, out_dir=out, cached=cached)


def default_neuron_profile(cache: bool = True, *, n_points: int = 24, workers: int = 2,
                           progress: bool = False) -> NeuronProfile:
    """NeuronProfile of the default neuron (Axon-Hillock, PTM 180 nm), cached by netlist hash.

    First call runs ngspice (a few seconds on 2 cores); later calls read the cache.
    """
    return characterize(DEFAULT_CIRCUIT, n_points=n_points, cache=cache, workers=workers,
                        with_waveforms=False, progress=progress).profile


def default_crossbar_profile(cache: bool = True, **params: Any) -> CrossbarProfile:
    """CrossbarProfile of the default crossbar column (see :mod:`eqspike.circuits.crossbar`)."""
    from .crossbar import crossbar_profile
    return crossbar_profile(cache=cache, **params)
