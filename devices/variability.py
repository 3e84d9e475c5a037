"""Device-to-device and cycle-to-cycle variability by Monte Carlo in ngspice.

- d2d: each instance's ``D2D_PARAMS`` (e.g. VTEAM's R_on, R_off, k_set,
  k_reset) are multiplied by ``exp(d2d_sigma N(0, 1))``, drawn in numpy from
  ``seed`` (reproducible; each instance gets its own subcircuit).
- c2c: the model's ``c2c_sigma`` turns on a ``trrandom`` Gaussian source in
  every instance that multiplies the switching rate by
  ``exp(c2c_sigma n(t))``, ``n`` redrawn once per pulse period (ngspice
  ``.options seed`` makes it reproducible).

Two ways to run N instances (``strategy``):

- ``one_netlist``: all instances in one netlist sharing the drive source
  (one 0 V sense source each).  Good for well-conditioned models (VTEAM,
  RRAM).
- ``batched``: the instances split into shared netlists of ~``batch_size``
  (100) instances, at least one per worker process, run with
  :func:`eqspike.spice.run_many`: one netlist's economy on every core.
  Measured (VTEAM, 100 + 100 pulses, CPU per instance): 52-68 ms at 25-200
  instances per netlist, but 128 ms at 500 (ngspice's cost grows faster
  than linearly in very large netlists), hence the batch size.
- ``per_device``: one small netlist per device, run across worker processes
  with :func:`eqspike.spice.run_many`.  Needed for the stiff multi-domain
  ferroelectric models: in one netlist every instance's fast domain
  transients shrink the common time step for all (findings: 100 FeFETs in
  one netlist aborted or ran ~100x slower).

``auto`` (``batched`` or ``per_device``) takes the model's ``many_in_one`` flag, set from the timings in
``benchmarks/results/devices.md`` (:func:`compare_strategies` measures them).

Summary figures: ``d2d_g_max_rel`` / ``d2d_g_min_rel`` (std/mean across
devices of G_max / G_min), ``d2d_step_rel`` (std/mean of each device's mean
potentiation step: the profile's ``d2d_sigma``), ``c2c_sigma`` (std of each
step about the device's locally smoothed step, a 9-pulse moving median,
relative to that device's G range, pooled: the profile's ``c2c_sigma``).
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from eqspike.errors import ParameterError
from eqspike.params import check

from .models import sample_d2d
from .pulses import MAX_PULSES, build_train_netlist, extract, resolve, vector_names

__all__ = ["VariabilityResult", "monte_carlo", "compare_strategies", "c2c_from_train", "STRATEGIES"]

#: ways to run the instances (see the module doc)
STRATEGIES = ("auto", "one_netlist", "batched", "per_device")


@dataclass
class VariabilityResult:
    table: pd.DataFrame          # device, pulse, direction, conductance_S, write_energy_J
    summary: dict[str, Any]
    conductance_S: np.ndarray    # (devices, 2N + 1)
    write_energy_J: np.ndarray   # (devices, 2N)


def c2c_from_train(g_up: np.ndarray, window: int = 9) -> float:
    """Std of potentiation steps about their moving median, relative to the G range."""
    steps = np.diff(np.asarray(g_up, dtype=float))
    span = float(np.ptp(g_up))
    if steps.size < 3 or span <= 0:
        return 0.0
    h = window // 2
    pad = np.pad(steps, h, mode="edge")
    smooth = np.array([np.median(pad[i:i + window]) for i in range(steps.size)])
    return float(np.std(steps - smooth) / span)


#: Most Monte Carlo instances of one run (each is a subcircuit in an ngspice netlist).
MAX_DEVICES = 100_000


def batch_groups(n_devices: int, workers: int, batch_size: int = 100) -> list[list[int]]:
    """Instance indices per shared netlist: ~``batch_size`` each, at least one per worker."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ParameterError(f"parameter 'batch_size' = {batch_size!r} must be an integer >= 1")
    nb = max(math.ceil(n_devices / batch_size), min(workers, n_devices), 1)
    return [list(map(int, g)) for g in np.array_split(np.arange(n_devices), nb)]


def _instances(params: Any, n: int, d2d_sigma: float, c2c_sigma: float, period_s: float, seed: int) -> list:
    rng = np.random.default_rng(seed)
    base = params
    if c2c_sigma > 0:
        if not hasattr(params, "c2c_sigma"):
            raise ParameterError(f"model {type(params).__name__} has no c2c noise parameter")
        base = dataclasses.replace(params, c2c_sigma=c2c_sigma, noise_period_s=period_s)
    return [sample_d2d(base, rng, d2d_sigma) if d2d_sigma > 0 else base for _ in range(n)]


def monte_carlo(model: str = "vteam", params: Any = None, *, overrides: Mapping[str, Any] | None = None,
                n_devices: int = 20, n_pulses: int | None = None, d2d_sigma: float = 0.1,
                c2c_sigma: float = 0.0, strategy: str = "auto", workers: int | None = None,
                seed: int = 0, progress: bool = False, timeout_s: float = 600.0,
                options: str | None = None, max_step_s: float | None = None,
                batch_size: int = 100, png: str | None = None) -> VariabilityResult:
    """Run ``n_devices`` instances through ``n_pulses`` up + down pulses."""
    from eqspike.spice import run_many, run_netlist
    spec, params = resolve(model, params, overrides)
    if isinstance(n_devices, bool) or not isinstance(n_devices, (int, np.integer)) or n_devices < 1:
        raise ParameterError(f"parameter 'n_devices' = {n_devices!r} must be an integer >= 1")
    check("n_devices", int(n_devices), unit="devices", low=1, high=MAX_DEVICES, integer=True)
    for nm, v in (("d2d_sigma", d2d_sigma), ("c2c_sigma", c2c_sigma)):
        if not isinstance(v, (int, float)) or not math.isfinite(v) or not (0 <= v <= 2):
            raise ParameterError(f"parameter '{nm}' = {v!r} is outside the allowed range [0, 2]")
    check("seed", seed, low=0, integer=True)
    if workers is not None:
        check("workers", workers, unit="processes", low=1, high=1024, integer=True)
    if strategy not in STRATEGIES:
        raise ParameterError(f"parameter 'strategy' = {strategy!r}; allowed: {', '.join(STRATEGIES)}")
    n = spec.n_pulses if n_pulses is None else n_pulses
    check("n_pulses", n, unit="pulses per direction", low=1, high=MAX_PULSES, integer=True)
    drive = spec.drive
    fefet = spec.kind == "fefet"
    if strategy == "auto":
        strategy = "batched" if spec.many_in_one else "per_device"
    insts = _instances(params, n_devices, d2d_sigma, c2c_sigma, drive.period_s, seed)
    t0 = time.monotonic()
    if strategy == "one_netlist":
        net, sched = build_train_netlist(spec, params, drive, n, n, instances=insts, seed=seed + 1,
                                         options=options, max_step_s=max_step_s)
        res = run_netlist(net, vector_names(len(insts), fefet), timeout_s=timeout_s)
        G, E, _ = extract(res, sched, drive, len(insts), fefet)
    else:
        if strategy == "batched":
            groups = batch_groups(n_devices, workers or os.cpu_count() or 1, batch_size)
        else:
            groups = [[j] for j in range(n_devices)]
        nets = []
        for b, grp in enumerate(groups):
            net, sched = build_train_netlist(spec, params, drive, n, n, instances=[insts[j] for j in grp],
                                             seed=seed + 1 + b, options=options, max_step_s=max_step_s)
            nets.append(net)
        # one vector list for all: the largest group's names (smaller groups ask for fewer)
        results = run_many(nets, None if len({len(g) for g in groups}) > 1 else vector_names(len(groups[0]), fefet),
                           workers=workers, timeout_s=timeout_s, progress=progress)
        G = np.empty((n_devices, 2 * n + 1))
        E = np.empty((n_devices, 2 * n))
        for grp, r in zip(groups, results):
            g, e, _ = extract(r, sched, drive, len(grp), fefet)
            G[grp], E[grp] = g, e
    wall = time.monotonic() - t0
    rows = []
    direction = np.r_[["init"], ["up"] * n, ["down"] * n]
    for j in range(n_devices):
        rows.append(pd.DataFrame({"device": j, "pulse": np.arange(2 * n + 1), "direction": direction,
                                  "conductance_S": G[j], "write_energy_J": np.r_[0.0, E[j]]}))
    table = pd.concat(rows, ignore_index=True)
    g_max, g_min = G.max(axis=1), G.min(axis=1)
    step = np.mean(np.diff(G[:, : n + 1], axis=1), axis=1)
    c2c = float(np.sqrt(np.mean([c2c_from_train(G[j, : n + 1]) ** 2 for j in range(n_devices)])))
    rel = lambda x: float(np.std(x) / np.mean(x)) if n_devices > 1 and np.mean(x) != 0 else 0.0  # noqa: E731
    summary = {"model": spec.name, "n_devices": n_devices, "n_pulses": n, "strategy": strategy,
               "wall_s": wall, "d2d_sigma_param": d2d_sigma, "c2c_sigma_param": c2c_sigma,
               "d2d_g_max_rel": rel(g_max), "d2d_g_min_rel": rel(g_min), "d2d_step_rel": rel(step),
               "c2c_sigma": c2c, "g_max_mean_S": float(np.mean(g_max)), "g_min_mean_S": float(np.mean(g_min)),
               "write_energy_mean_J": float(np.mean(E)), "seed": seed}
    if png:
        from eqspike.atomic import save_figure
        save_figure(png, plot_mc(G, spec.name, summary))
    return VariabilityResult(table, summary, G, E)


def plot_mc(G: np.ndarray, title: str, s: Mapping[str, Any]):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for j in range(min(G.shape[0], 100)):
        ax.plot(G[j] * 1e6, "-", lw=0.6, alpha=0.5)
    ax.set_xlabel("pulse number")
    ax.set_ylabel("conductance (uS)")
    ax.set_title(f"{title}: {s['n_devices']} devices, d2d {s['d2d_step_rel']:.2g}, c2c {s['c2c_sigma']:.2g}")
    fig.tight_layout()
    return fig


def compare_strategies(model: str, n_devices: int, n_pulses: int, *, workers: int | None = None,
                       d2d_sigma: float = 0.1, seed: int = 0, timeout_s: float = 600.0) -> dict[str, Any]:
    """Wall time (s) of both strategies, or the error one of them raised."""
    out: dict[str, Any] = {"model": model, "n_devices": n_devices, "n_pulses": n_pulses}
    for strat in ("one_netlist", "batched", "per_device"):
        t0 = time.monotonic()
        try:
            monte_carlo(model, n_devices=n_devices, n_pulses=n_pulses, d2d_sigma=d2d_sigma,
                        strategy=strat, workers=workers, seed=seed, timeout_s=timeout_s)
            out[f"{strat}_s"] = time.monotonic() - t0
        except Exception as e:  # report, do not hide: a strategy that fails is the finding
            out[f"{strat}_s"] = None
            out[f"{strat}_error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return out
