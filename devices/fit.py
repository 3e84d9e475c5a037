"""From a conductance-vs-pulse train (simulated or measured) to a DeviceProfile.

:func:`profile_from_train` is shared by the ngspice characterisation and the
``eqspike device fit pulses.csv`` command.  Step tables:

- ``method="table"`` (noise-free simulations): the measured step of each
  pulse, ``G[k+1] - G[k]`` at ``G[k]``, interpolated onto a uniform grid
  (the grid ends take the nearest measured step);
- ``method="fit"`` (noisy measurements): the step of the fitted NeuroSim
  curve (one ``A`` per direction) on the grid; the cycle-to-cycle spread is
  the standard deviation of the measured steps about the fitted ones,
  relative to ``G_max - G_min`` (NeuroSim's sigma_c2c).

CSV format for :func:`fit_csv` (header required, one row per read):
``pulse`` (integer, 0 = before the first pulse of that direction),
``direction`` (``up``/``ltp``/``potentiation`` or ``down``/``ltd``/``depression``),
``conductance_S`` (S); optional ``write_energy_J``.  A malformed file raises
:class:`eqspike.errors.DataError` naming the row and column.
"""
from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from eqspike.errors import DataError, ParameterError, ProfileError

from . import neurosim as ns
from .profile import DeviceProfile
from .pulses import analyse_train

__all__ = ["profile_from_train", "read_pulses_csv", "fit_csv", "plot_fit"]

_UP = {"up", "ltp", "potentiation", "set", "+"}
_DOWN = {"down", "ltd", "depression", "reset", "-"}


def _steps_on_grid(g: np.ndarray, steps: np.ndarray, grid: np.ndarray) -> np.ndarray:
    order = np.argsort(g, kind="stable")
    gs, ss = g[order], steps[order]
    # merge equal G (np.interp needs increasing x)
    uniq, inv = np.unique(gs, return_inverse=True)
    mean = np.bincount(inv, weights=ss) / np.bincount(inv)
    if uniq.size == 1:
        return np.full(grid.size, max(float(mean[0]), 0.0))
    return np.maximum(np.interp(grid, uniq, mean), 0.0)


def profile_from_train(name: str, model: str, g_up, g_down, *, method: str = "table",
                       c2c_sigma: float | None = None, d2d_sigma: float = 0.0,
                       write_energy_up_J: float = 0.0, write_energy_down_J: float = 0.0,
                       pulse_up_V: float = 1.0, pulse_down_V: float = -1.0,
                       pulse_width_s: float = 1e-7, read_voltage_V: float = 0.1,
                       n_grid: int = 65, provenance: Mapping[str, Any] | None = None
                       ) -> tuple[DeviceProfile, dict[str, Any]]:
    """Profile and metrics from ``g_up`` (G before + after each up pulse) and
    ``g_down`` (G from the top + after each down pulse)."""
    if method not in ("table", "fit"):
        raise ParameterError(f"parameter 'method' = {method!r}; allowed: 'table', 'fit'")
    g_up = np.asarray(g_up, dtype=float)
    g_down = np.asarray(g_down, dtype=float)
    if g_up.size < 2 or g_down.size < 2:
        raise DataError("need at least one potentiating and one depressing pulse (2 reads each)")
    if np.any(np.r_[g_up, g_down] <= 0):
        raise DataError("conductances must be > 0 S")
    m = analyse_train(g_up, g_down)
    g_min, g_max = m["g_min_S"], m["g_max_S"]
    if not g_max > g_min:
        raise DataError("the train does not change the conductance (G_max == G_min)")
    span = g_max - g_min
    grid = np.linspace(g_min, g_max, n_grid)
    up_steps = np.diff(g_up)
    dn_steps = -np.diff(g_down)
    n_up, n_dn = g_up.size - 1, g_down.size - 1
    a_up = m["A_ltp_pulses"] / n_up if math.isfinite(m["A_ltp_pulses"]) else math.inf
    a_dn = m["A_ltd_pulses"] / n_dn if math.isfinite(m["A_ltd_pulses"]) else math.inf
    # fitted-curve steps (in S) of each direction over that direction's own range
    r_up, r_dn = np.ptp(g_up), np.ptp(g_down)
    lo_up, lo_dn = g_up.min(), g_down.min()
    fit_up = lambda G: ns.step_up((G - lo_up) / r_up, a_up, n_up) * r_up if r_up > 0 else 0 * G  # noqa: E731
    fit_dn = lambda G: ns.step_down((G - lo_dn) / r_dn, a_dn, n_dn) * r_dn if r_dn > 0 else 0 * G  # noqa: E731
    if method == "table":
        dg_up = _steps_on_grid(g_up[:-1], up_steps, grid)
        dg_dn = _steps_on_grid(g_down[:-1], dn_steps, grid)
    else:
        dg_up = np.asarray(fit_up(grid), dtype=float)
        dg_dn = np.asarray(fit_dn(grid), dtype=float)
    if method == "fit":
        # levels on the fitted mean curve, not on the noisy reads
        k = np.arange(n_up + 1) / n_up
        m = analyse_train(g_up, g_down, level_train=lo_up + ns.curve(k, a_up) * r_up)
    if c2c_sigma is None:
        if method == "fit":
            resid = np.r_[up_steps - fit_up(g_up[:-1]), dn_steps - fit_dn(g_down[:-1])]
            c2c_sigma = float(np.std(resid) / span)
        else:
            c2c_sigma = 0.0
    m["c2c_sigma"] = c2c_sigma
    prov = dict(provenance or {})
    prov.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    prov.setdefault("model", model)
    prov.setdefault("method", method)
    prov.setdefault("fit", {k: m[k] for k in ("nl_ltp", "nl_ltd", "A_ltp_pulses", "A_ltd_pulses",
                                                 "fit_rms_ltp", "fit_rms_ltd", "on_off", "asymmetry")})
    try:
        prof = DeviceProfile(
            name=name, model=model, g_min_S=g_min, g_max_S=g_max, g_grid_S=tuple(grid),
            dg_up_S=tuple(dg_up), dg_down_S=tuple(dg_dn), n_pulses=max(n_up, n_dn),
            n_levels=int(m["n_levels"]), nl_ltp=float(np.clip(m["nl_ltp"], -9, 9)),
            nl_ltd=float(np.clip(m["nl_ltd"], -9, 9)), c2c_sigma=min(float(c2c_sigma), 1.0),
            d2d_sigma=float(d2d_sigma), write_energy_up_J=max(float(write_energy_up_J), 0.0),
            write_energy_down_J=max(float(write_energy_down_J), 0.0), pulse_up_V=pulse_up_V,
            pulse_down_V=pulse_down_V, pulse_width_s=pulse_width_s, read_voltage_V=read_voltage_V,
            provenance=prov)
    except ProfileError as e:
        raise DataError(f"cannot build a profile from this train: {e}") from None
    return prof, m


def read_pulses_csv(path, on_duplicate: str = "refuse") -> pd.DataFrame:
    """Read and check a pulse CSV (see module doc); DataError names row and column.

    Physics checks: a repeated ``(direction, pulse)`` is refused, or with
    ``on_duplicate="merge"`` averaged with a warning; the ``up`` train must
    raise and the ``down`` train lower the conductance on average (swapped
    labels are refused)."""
    if on_duplicate not in ("refuse", "merge"):
        raise ParameterError(f"parameter 'on_duplicate' = {on_duplicate!r}; allowed: refuse, merge")
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as e:  # pandas parser errors: one clear line
        raise DataError(f"{path}: not a readable CSV ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    raw.columns = [c.strip() for c in raw.columns]
    need = ["pulse", "direction", "conductance_S"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        hint = [c for c in raw.columns if c.lower().startswith("conductance") and c != "conductance_S"]
        extra = f" (found {hint[0]!r}: give conductance in siemens as 'conductance_S')" if hint else ""
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}{extra}; "
                        f"columns present: {', '.join(raw.columns)}")
    if raw.empty:
        raise DataError(f"{path}: no data rows")
    out = {"pulse": [], "direction": [], "conductance_S": [], "write_energy_J": []}
    has_e = "write_energy_J" in raw.columns
    for i, row in enumerate(raw.itertuples(index=False), start=2):  # row 1 is the header
        r = row._asdict()
        try:
            p = float(r["pulse"])
            if not p.is_integer() or p < 0:
                raise ValueError
        except ValueError:
            raise DataError(f"{path}: row {i}, column 'pulse': {r['pulse']!r} is not a pulse number "
                            f"(integer >= 0)") from None
        d = str(r["direction"]).strip().lower()
        if d in _UP:
            d = "up"
        elif d in _DOWN:
            d = "down"
        else:
            raise DataError(f"{path}: row {i}, column 'direction': {r['direction']!r} is not up/ltp or down/ltd")
        try:
            g = float(r["conductance_S"])
        except ValueError:
            raise DataError(f"{path}: row {i}, column 'conductance_S': {r['conductance_S']!r} is not a number") from None
        if not math.isfinite(g) or g <= 0 or g >= 1:
            raise DataError(f"{path}: row {i}, column 'conductance_S': {g!r} is outside (0, 1) S")
        e = 0.0
        if has_e and str(r["write_energy_J"]).strip() != "":
            try:
                e = float(r["write_energy_J"])
            except ValueError:
                raise DataError(f"{path}: row {i}, column 'write_energy_J': {r['write_energy_J']!r} "
                                f"is not a number") from None
            if not math.isfinite(e) or e < 0:
                raise DataError(f"{path}: row {i}, column 'write_energy_J': {e!r} must be >= 0 J")
        out["pulse"].append(int(p)); out["direction"].append(d)
        out["conductance_S"].append(g); out["write_energy_J"].append(e)
    df = pd.DataFrame(out)
    df["row"] = np.arange(len(df)) + 2
    dup = df.duplicated(["direction", "pulse"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        rows = df[dup & (df["direction"] == first.direction) & (df["pulse"] == first.pulse)]["row"].tolist()
        n = int(df[dup].groupby(["direction", "pulse"]).ngroups)
        if on_duplicate == "refuse":
            raise DataError(f"{path}: {n} repeated (direction, pulse) read(s), e.g. {first.direction} "
                            f"pulse {first.pulse} in rows {rows}; remove them or merge them "
                            "(--on-duplicate merge averages repeated reads)")
        import warnings
        warnings.warn(f"{path}: merged {n} repeated (direction, pulse) read(s) by their mean",
                      stacklevel=2)
        df = df.groupby(["direction", "pulse"], as_index=False, sort=False).agg(
            {"conductance_S": "mean", "write_energy_J": "mean", "row": "min"})
    for d in ("up", "down"):
        n = int((df["direction"] == d).sum())
        if n < 3:
            raise DataError(f"{path}: need >= 3 '{d}' rows (reads), found {n}")
    for d, sign in (("up", 1), ("down", -1)):
        g = df[df["direction"] == d].sort_values("pulse")["conductance_S"].to_numpy()
        change = float(np.mean(np.diff(g)))
        if not sign * change > 0:
            raise DataError(f"{path}: the '{d}' train {'lowers' if sign > 0 else 'raises'} the "
                            f"conductance on average ({change:+.3g} S per pulse); direction labels "
                            "swapped?")
    return df.drop(columns="row")


def fit_csv(path, *, name: str | None = None, method: str = "fit", pulse_up_V: float = 1.0,
            pulse_down_V: float = -1.0, pulse_width_s: float = 1e-7, read_voltage_V: float = 0.1,
            png: str | None = None, on_duplicate: str = "refuse"
            ) -> tuple[DeviceProfile, pd.DataFrame, dict[str, Any]]:
    """Profile from a measured pulse CSV; returns (profile, data with fit column, metrics).

    The profile's ``provenance["fit"]["goodness_of_fit"]`` holds R^2 and the rms
    residual (S) of the fitted NeuroSim curve per direction (``metrics`` too)."""
    df = read_pulses_csv(path, on_duplicate=on_duplicate)
    up = df[df["direction"] == "up"].sort_values("pulse", kind="stable")
    dn = df[df["direction"] == "down"].sort_values("pulse", kind="stable")
    eu = up["write_energy_J"].to_numpy()
    ed = dn["write_energy_J"].to_numpy()
    prof, m = profile_from_train(
        name or Path(path).stem, "measured", up["conductance_S"].to_numpy(),
        dn["conductance_S"].to_numpy(), method=method,
        write_energy_up_J=float(eu[eu > 0].mean()) if np.any(eu > 0) else 0.0,
        write_energy_down_J=float(ed[ed > 0].mean()) if np.any(ed > 0) else 0.0,
        pulse_up_V=pulse_up_V, pulse_down_V=pulse_down_V, pulse_width_s=pulse_width_s,
        read_voltage_V=read_voltage_V,
        provenance={"model": "measured", "parameters": {}, "ngspice_version": None,
                    "netlist_hash": None, "source": f"fitted from {Path(path).name}"})
    fits = []
    for sub, tag, dep in ((up, "ltp", False), (dn, "ltd", True)):
        y = sub["conductance_S"].to_numpy()
        A = m[f"A_{tag}_pulses"]
        a = A / (y.size - 1) if math.isfinite(A) else math.inf
        k = np.arange(y.size) / (y.size - 1)
        fits.append(y.min() + ns.curve(1 - k if dep else k, a) * np.ptp(y))
    data = pd.concat([up, dn], ignore_index=True)
    data["fit_conductance_S"] = np.r_[fits[0], fits[1]]
    gof = {}
    for tag, sub, f in (("ltp", up, fits[0]), ("ltd", dn, fits[1])):
        y = sub["conductance_S"].to_numpy()
        ss = float(np.sum((y - y.mean()) ** 2))
        gof[f"r2_{tag}"] = float(1 - np.sum((y - f) ** 2) / ss) if ss > 0 else math.nan
        gof[f"rms_{tag}_S"] = float(np.sqrt(np.mean((y - f) ** 2)))
    m.update(gof)
    prov = dict(prof.provenance)
    prov["fit"] = {**prov.get("fit", {}), "goodness_of_fit": gof}
    import dataclasses
    prof = dataclasses.replace(prof, provenance=prov)
    if png:
        from eqspike.atomic import save_figure
        save_figure(png, plot_fit(data, m, prof.name))
    return prof, data, m


def plot_fit(data: pd.DataFrame, m: Mapping[str, Any], title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    n_up = int((data["direction"] == "up").sum())
    x = np.arange(len(data))
    ax.plot(x, data["conductance_S"] * 1e6, "o", ms=3, label="data")
    ax.plot(x[:n_up], data["fit_conductance_S"][:n_up] * 1e6, "-", label=f"fit LTP NL {m['nl_ltp']:.2f}")
    ax.plot(x[n_up:], data["fit_conductance_S"][n_up:] * 1e6, "-", label=f"fit LTD NL {m['nl_ltd']:.2f}")
    ax.set_xlabel("read number (up train, then down train)")
    ax.set_ylabel("conductance (uS)")
    ax.set_title(f"{title}: NeuroSim fit, c2c {m.get('c2c_sigma', 0):.3g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
