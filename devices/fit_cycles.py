"""Many devices x many cycles of measured pulse trains -> one DeviceProfile with
measured c2c and d2d (each with a confidence interval) and write energy.

Long-format CSV (one row per read; template ``devices/data/cycles_template.csv``,
example ``devices/data/cycles_example.csv``):

==============  ==========================================================
``device_id``   any label of the physical device (text)
``cycle``       integer >= 0; one cycle = one up train then one down train
``pulse``       integer >= 0; 0 = the read before the train's first pulse
``polarity``    ``up`` (``ltp``, ``potentiation``, ``set``, ``+``) or
                ``down`` (``ltd``, ``depression``, ``reset``, ``-``)
``G_S``         conductance read after that pulse (S), in (0, 1)
``V_V``         optional: write pulse amplitude (V) of that pulse
``I_A``         optional: current (A) during that write pulse
``energy_J``    optional: measured energy of that write pulse (J)
==============  ==========================================================

Before fitting, the data's physics is checked (one-line :class:`DataError`
naming device, cycle and row): every train has >= 3 reads and pulses
0, 1, 2, ... without gaps; ``up`` trains rise and ``down`` trains fall on
average per device (swapped labels are refused); a repeated
``(device_id, cycle, polarity, pulse)`` is refused, or with
``on_duplicate="merge"`` averaged with a warning.

The model fitted is the one the network simulates
(:mod:`eqspike.network.synapses`): device ``j`` is a scaled copy of the
nominal device, ``G = G_min,j + s_j u (G_max - G_min)`` with the normalised
state ``u`` in [0, 1] following the NeuroSim curve (one ``a`` per
direction, :mod:`eqspike.devices.neurosim`), and each pulse adds noise
``N(0, c2c)`` to ``u``.  Estimators:

1. **per device**: ``G_min,j`` / ``G_max,j`` = its lowest / highest read over
   all cycles (the profile's "reached by the train"; ``bound_quantile`` q
   takes the q / 1 - q quantiles instead, for data with read-noise
   outliers), then least squares of ``(a_up,j, a_down,j)`` to all its reads
   (up: ``G_min + (G_max - G_min) g(k / P)``, down: ``g(1 - k / P)``);
   R^2 and rms residual per device;
2. **d2d** = std / mean across devices of the fitted range
   ``G_max,j - G_min,j`` (the network's ``d2d_sigma``: ``s_j`` scales range
   and step); the same relative spread is reported for every fitted
   parameter (G_min, G_max, NL labels);
3. **mean dG(G)**: the NeuroSim curve of all devices' normalised reads pooled
   (``method="fit"``), or the mean measured steps (``method="table"``), on
   the nominal range ``G_min = mean G_min,j``, ``G_max = G_min + mean range``;
4. **c2c** from the per-pulse residuals ``r_k = u_{k+1} - u_k - dg(u_k)``
   (normalised by each device's own range, so d2d does not leak into c2c),
   over steps that start at least 3 c2c + one step away from the bounds
   (a device pinned at a bound cannot show its noise; iterated three times).
   A read error enters two consecutive residuals with opposite signs, so
   ``read_noise_sigma^2 = max(-cov(r_k, r_{k+1}), 0)`` and
   ``c2c^2 = var(r) - 2 read_noise_sigma^2`` (the read noise is reported,
   not put in the profile: the network models no read noise);
5. **write energy** per pulse and direction: ``energy_J`` when given, else
   ``|V_V I_A| pulse_width_s`` (a rectangular pulse at the measured current),
   mean over pulses of a device, then over devices;
6. **confidence intervals** (95 %, percentile): bootstrap over *devices*
   (``n_boot`` resamples; a device's cycles stay together), for c2c, d2d,
   G_min, G_max, the NL labels and the energies.  With 20 devices the
   interval of d2d is wide (about +-30 %): that is the data, not the fit.

:func:`simulate_cycles` is the toolkit's own Monte Carlo of that model (the
network's step tables and noise law, :class:`eqspike.network.synapses.
DeviceModel`, no quantisation) and writes the same long format, for the
round trip ``profile -> cycles -> fit -> profile``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from eqspike.errors import DataError, ParameterError

from . import neurosim as ns
from .fit import _DOWN, _UP, profile_from_train
from .profile import DeviceProfile

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "read_cycles_csv", "check_cycles", "fit_cycles",
           "CycleFit", "simulate_cycles", "plot_cycles", "is_cycles_csv"]

COLUMNS = ("device_id", "cycle", "pulse", "polarity", "G_S")
OPTIONAL_COLUMNS = ("V_V", "I_A", "energy_J")
_B_MAX = 50.0  # |1/a| bound of the per-device curvature (NL label ~9)


# --------------------------------------------------------------------------- reading
def is_cycles_csv(path) -> bool:
    """True when the CSV header holds the long-format columns (device_id, ..., G_S)."""
    try:
        head = pd.read_csv(path, nrows=0, skipinitialspace=True, comment="#")
    except Exception:  # noqa: BLE001 - not readable: let the reader give the error
        return False
    cols = {c.strip() for c in head.columns}
    return "device_id" in cols or "G_S" in cols


def _numeric(raw: pd.DataFrame, col: str, path, integer: bool = False) -> np.ndarray:
    v = pd.to_numeric(raw[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v) | ((v != np.round(v)) if integer else False) | ((v < 0) if integer else False)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        what = "an integer >= 0" if integer else "a finite number"
        raise DataError(f"{path}: row {i + 2}, column '{col}': {raw[col].iloc[i]!r} is not {what}")
    return v


def read_cycles_csv(path, *, on_duplicate: str = "refuse") -> tuple[pd.DataFrame, list[str]]:
    """Read and check a long-format CSV; returns (data, warnings).  See the module doc."""
    if on_duplicate not in ("refuse", "merge"):
        raise ParameterError(f"parameter 'on_duplicate' = {on_duplicate!r}; allowed: refuse, merge")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                          comment="#")
    except Exception as e:  # noqa: BLE001 - pandas parser errors: one clear line
        raise DataError(f"{path}: not a readable CSV ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    raw.columns = [c.strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; need {', '.join(COLUMNS)} "
                        f"(optional {', '.join(OPTIONAL_COLUMNS)}); columns present: {', '.join(raw.columns)}")
    if raw.empty:
        raise DataError(f"{path}: no data rows")
    df = pd.DataFrame({"device_id": raw["device_id"].str.strip(),
                       "cycle": _numeric(raw, "cycle", path, True).astype(np.int64),
                       "pulse": _numeric(raw, "pulse", path, True).astype(np.int64),
                       "row": np.arange(len(raw)) + 2})
    pol = raw["polarity"].str.strip().str.lower()
    up, dn = pol.isin(_UP), pol.isin(_DOWN)
    if not np.all(up | dn):
        i = int(np.flatnonzero(~(up | dn))[0])
        raise DataError(f"{path}: row {i + 2}, column 'polarity': {raw['polarity'].iloc[i]!r} is not "
                        "up/ltp/set/+ or down/ltd/reset/-")
    df["polarity"] = np.where(up, "up", "down")
    g = _numeric(raw, "G_S", path)
    if np.any((g <= 0) | (g >= 1)):
        i = int(np.flatnonzero((g <= 0) | (g >= 1))[0])
        raise DataError(f"{path}: row {i + 2}, column 'G_S': {float(g[i])!r} is outside (0, 1) S "
                        "(conductance in siemens)")
    df["G_S"] = g
    for c in OPTIONAL_COLUMNS:
        if c in raw.columns:
            empty = (raw[c].str.strip() == "").to_numpy()
            v = pd.to_numeric(raw[c].where(~empty, "nan"), errors="coerce").to_numpy(dtype=float)
            bad = ~empty & ~np.isfinite(v)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError(f"{path}: row {i + 2}, column '{c}': {raw[c].iloc[i]!r} is not a "
                                "finite number (leave it empty when not measured)")
            if c == "energy_J" and np.any(v < 0):
                i = int(np.flatnonzero(v < 0)[0])
                raise DataError(f"{path}: row {i + 2}, column 'energy_J': {float(v[i])!r} must be >= 0 J")
            df[c] = v
    if (df["device_id"] == "").any():
        i = int(np.flatnonzero(df["device_id"] == "")[0])
        raise DataError(f"{path}: row {i + 2}, column 'device_id' is empty")
    df, notes = check_cycles(df, on_duplicate=on_duplicate, where=str(path))
    return df, notes


def check_cycles(df: pd.DataFrame, *, on_duplicate: str = "refuse", where: str = "data"
                 ) -> tuple[pd.DataFrame, list[str]]:
    """The physics checks of the module doc; returns (sorted data, warnings)."""
    notes: list[str] = []
    key = ["device_id", "cycle", "polarity", "pulse"]
    if "row" not in df:
        df = df.assign(row=np.arange(len(df)) + 2)
    dup = df.duplicated(key, keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        n = int(df[dup].groupby(key).ngroups)
        if on_duplicate == "refuse":
            rows = df[dup & (df[key] == first[key]).all(axis=1)]["row"].tolist()
            raise DataError(f"{where}: {n} repeated (device_id, cycle, polarity, pulse) read(s), e.g. "
                            f"device {first.device_id!r} cycle {first.cycle} {first.polarity} pulse "
                            f"{first.pulse} in rows {rows}; remove them or merge them "
                            "(--on-duplicate merge averages repeated reads)")
        num = [c for c in df.columns if c not in key and c != "row"]
        df = df.groupby(key, as_index=False, sort=False).agg({**{c: "mean" for c in num}, "row": "min"})
        msg = f"{where}: merged {n} repeated (device_id, cycle, polarity, pulse) read(s) by their mean"
        notes.append(msg)
        warnings.warn(msg, stacklevel=2)
    df = df.sort_values(key[:3] + ["pulse"], kind="stable").reset_index(drop=True)
    for (dev, cyc, pol), t in df.groupby(["device_id", "cycle", "polarity"], sort=False):
        p = t["pulse"].to_numpy()
        if p.size < 3:
            raise DataError(f"{where}: device {dev!r} cycle {cyc} {pol} train has {p.size} read(s); "
                            "need >= 3 (pulse 0 = before the first pulse)")
        if not np.array_equal(p, np.arange(p.size)):
            gap = int(np.flatnonzero(p != np.arange(p.size))[0])
            raise DataError(f"{where}: device {dev!r} cycle {cyc} {pol} train: pulses must run "
                            f"0, 1, 2, ... without gaps; found {p[gap]} where {gap} was expected "
                            f"(row {int(t['row'].iloc[gap])})")
    for dev, d in df.groupby("device_id", sort=False):
        pols = set(d["polarity"])
        if pols != {"up", "down"}:
            raise DataError(f"{where}: device {dev!r} has only {', '.join(sorted(pols))} trains; "
                            "every device needs up and down trains")
        for pol, sign in (("up", 1), ("down", -1)):
            t = d[d["polarity"] == pol]
            change = t.groupby("cycle")["G_S"].agg(lambda g: g.iloc[-1] - g.iloc[0]).mean()
            if not sign * change > 0:
                raise DataError(f"{where}: device {dev!r}: '{pol}' trains "
                                f"{'fall' if sign > 0 else 'rise'} on average (G changes by "
                                f"{change:+.3g} S per train); polarity labels swapped?")
    return df, notes


# --------------------------------------------------------------------------- fitting
def _trains(d: pd.DataFrame, pol: str) -> list[np.ndarray]:
    return [t["G_S"].to_numpy() for _, t in d[d["polarity"] == pol].groupby("cycle", sort=True)]


def _model(theta, up_k, up_P, dn_k, dn_P):
    lo, hi, b_up, b_dn = theta
    a_up = 1 / b_up if abs(b_up) > 1e-9 else math.inf
    a_dn = 1 / b_dn if abs(b_dn) > 1e-9 else math.inf
    return (lo + (hi - lo) * ns.curve(up_k / up_P, a_up),
            lo + (hi - lo) * ns.curve(1 - dn_k / dn_P, a_dn))


def _b0(trains: list[np.ndarray], depress: bool) -> float:
    n = min(t.size for t in trains)
    mean = np.mean([t[:n] for t in trains], axis=0)
    span = np.ptp(mean)
    if span <= 0:
        return 0.0
    a, _ = ns.fit_direction((mean - mean.min()) / span, depress=depress)
    return float(np.clip(1 / a, -_B_MAX, _B_MAX)) if math.isfinite(a) and a != 0 else 0.0


def fit_device(up: list[np.ndarray], down: list[np.ndarray], bound_quantile: float = 0.0
               ) -> dict[str, float]:
    """One device's bounds (the lowest / highest read of all its cycles, the profile's
    definition "reached by the pulse train"; with ``bound_quantile`` q > 0 the q and
    1 - q quantiles, robust to read-noise outliers), and the least-squares NeuroSim
    labels of all its cycles with those bounds; R^2, rms residual (S)."""
    up_k = np.concatenate([np.arange(t.size) for t in up]).astype(float)
    dn_k = np.concatenate([np.arange(t.size) for t in down]).astype(float)
    up_P, dn_P = max(t.size for t in up) - 1, max(t.size for t in down) - 1
    y = np.concatenate(up + down)
    lo, hi = (float(v) for v in np.quantile(y, [bound_quantile, 1 - bound_quantile]))
    if not hi > lo:
        raise DataError(f"the trains do not change the conductance (G_max {hi:.4g} S <= G_min {lo:.4g} S)")

    def resid(b):
        a, c = _model((lo, hi, b[0], b[1]), up_k, up_P, dn_k, dn_P)
        return (np.concatenate([a, c]) - y) / (hi - lo)
    r = least_squares(resid, [_b0(up, False), _b0(down, True)],
                      bounds=([-_B_MAX, -_B_MAX], [_B_MAX, _B_MAX]))
    b_up, b_dn = map(float, r.x)
    res = r.fun * (hi - lo)
    a_up = 1 / b_up if abs(b_up) > 1e-9 else math.inf
    a_dn = 1 / b_dn if abs(b_dn) > 1e-9 else math.inf
    return {"g_min_S": lo, "g_max_S": hi, "g_range_S": hi - lo, "a_up": a_up, "a_down": a_dn,
            "nl_ltp": ns.a_to_nl(a_up), "nl_ltd": ns.a_to_nl(a_dn), "n_up": up_P, "n_down": dn_P,
            "rms_S": float(np.sqrt(np.mean(res ** 2))),
            "r2": float(1 - np.sum(res ** 2) / np.sum((y - y.mean()) ** 2)),
            "n_cycles": len(up)}


def _pooled_a(us: list[np.ndarray], depress: bool) -> float:
    """``a`` of the NeuroSim curve through all normalised trains of one direction."""
    k = np.concatenate([np.arange(u.size) / (u.size - 1) for u in us])
    x = 1 - k if depress else k
    y = np.concatenate(us)

    def resid(b):
        return ns.curve(x, 1 / b[0] if abs(b[0]) > 1e-9 else math.inf) - y
    b0 = _b0(us, depress)
    r = least_squares(resid, [b0], bounds=([-_B_MAX], [_B_MAX]))
    b = float(r.x[0])
    return 1 / b if abs(b) > 1e-9 else math.inf


def _step_residuals(us: list[np.ndarray], a: float, up: bool) -> list[tuple[np.ndarray, ...]]:
    """Per train: start states u_k, residuals u_{k+1} - u_k - dg(u_k), |dg(u_k)|."""
    out = []
    for u in us:
        P = u.size - 1
        u0 = u[:-1]
        m = ns.step_up(u0, a, P) if up else -ns.step_down(u0, a, P)
        out.append((u0, np.diff(u) - m, np.abs(m)))
    return out


def _c2c(trains: list[tuple[np.ndarray, ...]]) -> tuple[float, int, float]:
    """c2c and read noise from the residuals of steps starting >= 3 sigma + one
    step from a bound (iterated three times from all steps).

    A read error ``eta`` (independent per read) enters two consecutive residuals
    with opposite signs, ``r_k = eps_k + eta_{k+1} - eta_k``: their lag-1
    covariance is ``-sigma_read^2`` and their variance ``c2c^2 + 2 sigma_read^2``,
    so ``sigma_read^2 = max(-cov_1, 0)`` and ``c2c^2 = var - 2 sigma_read^2``.
    Returns (c2c, steps used, read noise), both relative to the device's range."""
    u0 = np.concatenate([t[0] for t in trains])
    r = np.concatenate([t[1] for t in trains])
    m = np.concatenate([t[2] for t in trains])
    # next step of the same train (lag-1 pairs never cross trains)
    nxt = np.concatenate([np.r_[np.ones(t[1].size - 1, bool), False] for t in trains])
    sigma, read, keep = float(np.std(r)), 0.0, np.ones(r.size, bool)
    for _ in range(3):
        margin = 3 * sigma + m
        keep = (u0 >= margin) & (u0 <= 1 - margin)
        if keep.sum() < 2:
            break
        rk = r - r[keep].mean()
        pair = keep & nxt & np.roll(keep, -1)
        var = float(np.mean(rk[keep] ** 2))
        cov1 = float(np.mean(rk[pair] * np.roll(rk, -1)[pair])) if pair.any() else 0.0
        read2 = max(-cov1, 0.0)
        sigma, read = math.sqrt(max(var - 2 * read2, 0.0)), math.sqrt(read2)
    return sigma, int(keep.sum()), read


@dataclass
class CycleFit:
    """What :func:`fit_cycles` returns."""
    profile: DeviceProfile
    devices: pd.DataFrame               # one row per device: fitted parameters, R^2, energies
    summary: dict[str, Any]             # estimates with 95 % CIs, goodness of fit, assumptions
    data: pd.DataFrame                  # the reads with the per-device fitted G (fit_G_S)
    warnings: list[str] = field(default_factory=list)


def _rel_spread(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / abs(np.mean(x))) if x.size > 1 and np.mean(x) != 0 else 0.0


def fit_cycles(data, *, name: str = "measured", method: str = "fit", pulse_width_s: float = 1e-7,
               read_voltage_V: float = 0.1, pulse_up_V: float | None = None,
               pulse_down_V: float | None = None, n_boot: int = 1000, seed: int = 0,
               on_duplicate: str = "refuse", bound_quantile: float = 0.0,
               source: str = "") -> CycleFit:
    """Fit a long-format table (DataFrame or CSV path); see the module doc."""
    notes: list[str] = []
    if not isinstance(data, pd.DataFrame):
        source = source or Path(data).name
        data, notes = read_cycles_csv(data, on_duplicate=on_duplicate)
    else:
        data, notes = check_cycles(data.copy(), on_duplicate=on_duplicate)
    if method not in ("fit", "table"):
        raise ParameterError(f"parameter 'method' = {method!r}; allowed: 'fit', 'table'")
    if not (isinstance(pulse_width_s, (int, float)) and 0 < pulse_width_s < 1):
        raise ParameterError(f"parameter 'pulse_width_s' = {pulse_width_s!r} is outside (0, 1) s")
    if not (isinstance(bound_quantile, (int, float)) and 0 <= bound_quantile < 0.25):
        raise ParameterError(f"parameter 'bound_quantile' = {bound_quantile!r} is outside [0, 0.25)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or not 0 <= n_boot <= 100000:
        raise ParameterError(f"parameter 'n_boot' = {n_boot!r} is outside the allowed range [0, 100000]")
    devs = list(dict.fromkeys(data["device_id"]))
    rows, us_up, us_dn, dev_of_up, dev_of_dn = [], [], [], [], []
    fitted = np.empty(len(data))
    for j, dev in enumerate(devs):
        d = data[data["device_id"] == dev]
        up, down = _trains(d, "up"), _trains(d, "down")
        f = fit_device(up, down, bound_quantile)
        f["device_id"] = dev
        span = f["g_range_S"]
        us_up += [(t - f["g_min_S"]) / span for t in up]
        us_dn += [(t - f["g_min_S"]) / span for t in down]
        dev_of_up += [j] * len(up)
        dev_of_dn += [j] * len(down)
        k = d["pulse"].to_numpy(float)
        isup = (d["polarity"] == "up").to_numpy()
        P = np.where(isup, f["n_up"], f["n_down"])
        x = np.where(isup, k / P, 1 - k / P)
        g = np.where(isup, ns.curve(x, f["a_up"]), ns.curve(x, f["a_down"]))
        fitted[d.index.to_numpy()] = f["g_min_S"] + span * g
        for pol, col in (("up", "energy_up_J"), ("down", "energy_down_J")):
            f[col] = _energy(d[(d["polarity"] == pol) & (d["pulse"] > 0)], pulse_width_s)
        for pol, col in (("up", "pulse_up_V"), ("down", "pulse_down_V")):
            v = d.loc[(d["polarity"] == pol) & (d["pulse"] > 0), "V_V"] if "V_V" in d else pd.Series([], dtype=float)
            f[col] = float(np.nanmean(np.abs(v))) if v.notna().any() else math.nan
        rows.append(f)
    per = pd.DataFrame(rows).set_index("device_id")
    a_up, a_dn = _pooled_a(us_up, False), _pooled_a(us_dn, True)
    dev_up, dev_dn = np.array(dev_of_up), np.array(dev_of_dn)

    res_up, res_dn = _step_residuals(us_up, a_up, True), _step_residuals(us_dn, a_dn, False)

    def c2c_of(sel_up, sel_dn) -> float:
        return _c2c([res_up[i] for i in sel_up] + [res_dn[i] for i in sel_dn])[0]

    c2c, n_kept, read_noise = _c2c(res_up + res_dn)
    # nominal device: shared G_min, mean range (the network's d2d scales the range)
    g_min = float(per["g_min_S"].mean())
    span = float(per["g_range_S"].mean())
    d2d = _rel_spread(per["g_range_S"])
    est = {"c2c_sigma": c2c, "d2d_sigma": d2d, "read_noise_sigma": read_noise, "g_min_S": g_min, "g_max_S": g_min + span,
           "nl_ltp": ns.a_to_nl(a_up), "nl_ltd": ns.a_to_nl(a_dn),
           "write_energy_up_J": _nanmean(per["energy_up_J"]),
           "write_energy_down_J": _nanmean(per["energy_down_J"])}
    ci = _bootstrap(per, devs, dev_up, dev_dn, c2c_of, n_boot, seed)
    if len(devs) > 2:  # normal-theory interval of a std, for comparison with the bootstrap
        from scipy.stats import chi2
        k = len(devs) - 1
        ci["d2d_sigma_chi2"] = [d2d * math.sqrt(k / chi2.ppf(0.975, k)), d2d * math.sqrt(k / chi2.ppf(0.025, k))]
    spreads = {f"d2d_{c}_rel": _rel_spread(per[c]) for c in ("g_min_S", "g_max_S", "g_range_S")}
    spreads.update({f"d2d_{c}_std": float(np.std(per[c], ddof=1)) if len(per) > 1 else 0.0
                    for c in ("nl_ltp", "nl_ltd")})
    # the profile: nominal trains from the pooled fit (method fit) or the mean reads (table)
    P_up, P_dn = int(per["n_up"].max()), int(per["n_down"].max())
    if method == "fit":
        g_up = g_min + span * ns.curve(np.arange(P_up + 1) / P_up, a_up)
        g_dn = g_min + span * ns.curve(1 - np.arange(P_dn + 1) / P_dn, a_dn)
    else:
        g_up = g_min + span * _mean_train(us_up)
        g_dn = g_min + span * _mean_train(us_dn)
    vu = pulse_up_V if pulse_up_V is not None else _nanmean(per["pulse_up_V"], 1.0)
    vd = pulse_down_V if pulse_down_V is not None else -_nanmean(per["pulse_down_V"], 1.0)
    gof = {"r2_min": float(per["r2"].min()), "r2_median": float(per["r2"].median()),
           "rms_median_S": float(per["rms_S"].median()),
           "pooled_rms_norm": float(np.sqrt(np.mean(np.concatenate(
               [u - ns.curve(np.arange(u.size) / (u.size - 1), a_up) for u in us_up] +
               [u - ns.curve(1 - np.arange(u.size) / (u.size - 1), a_dn) for u in us_dn]) ** 2)))}
    prov = {"model": "measured", "parameters": {}, "ngspice_version": None, "netlist_hash": None,
            "source": f"fitted from {source or 'a long-format table'}: {len(devs)} devices x "
                      f"{int(per['n_cycles'].median())} cycles (eqspike.devices.fit_cycles)",
            "fit": {"method": method, "n_devices": len(devs), "n_cycles_total": int(per["n_cycles"].sum()),
                    "n_residual_steps": int(n_kept), "goodness_of_fit": gof,
                    "ci95": ci, **spreads}}
    prof, _ = profile_from_train(
        name, "measured", g_up, g_dn, method="fit" if method == "fit" else "table", c2c_sigma=c2c,
        d2d_sigma=min(d2d, 1.0), write_energy_up_J=_nanmean(per["energy_up_J"], 0.0),
        write_energy_down_J=_nanmean(per["energy_down_J"], 0.0), pulse_up_V=vu, pulse_down_V=vd,
        pulse_width_s=pulse_width_s, read_voltage_V=read_voltage_V, provenance=prov)
    out = data.drop(columns=["row"]).assign(fit_G_S=fitted)
    summary = {"estimates": est, "ci95": ci, "spreads": spreads, "goodness_of_fit": gof,
               "n_devices": len(devs), "n_residual_steps": int(n_kept), "method": method,
               "assumptions": [
                   "device j = scaled copy of the nominal device: G = G_min,j + s_j u (G_max - G_min) "
                   "(the network's d2d law); d2d_sigma = std/mean of the fitted ranges",
                   "c2c: per-pulse noise of u relative to the device's own range, steps within "
                   "3 c2c + one step of a bound excluded; read noise (independent per read) "
                   "separated by the lag-1 covariance of the residuals",
                   "G_min,j / G_max,j: lowest / highest read (or the bound_quantile quantiles); "
                   "read noise biases them outwards by about 2-3 read-noise sigmas",
                   "write energy = |V I| x pulse_width_s (rectangular pulse) unless energy_J is given",
                   f"95 % CIs: percentile bootstrap over devices ({n_boot} resamples, seed {seed})"],
               "warnings": notes}
    return CycleFit(prof, per.reset_index(), summary, out, notes)


def _mean_train(us: list[np.ndarray]) -> np.ndarray:
    n = min(u.size for u in us)
    return np.clip(np.mean([u[:n] for u in us], axis=0), 0.0, 1.0)


def _nanmean(x, default=math.nan) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.nanmean(x)) if np.isfinite(x).any() else default


def _energy(rows: pd.DataFrame, pulse_width_s: float) -> float:
    if "energy_J" in rows and rows["energy_J"].notna().any():
        return float(rows["energy_J"].mean())
    if "V_V" in rows and "I_A" in rows and (rows["V_V"].notna() & rows["I_A"].notna()).any():
        return float(np.nanmean(np.abs(rows["V_V"] * rows["I_A"])) * pulse_width_s)
    return math.nan


def _bootstrap(per, devs, dev_up, dev_dn, c2c_of, n_boot: int, seed: int) -> dict[str, list[float]]:
    if n_boot == 0 or len(devs) < 2:
        return {}
    rng = np.random.default_rng(seed)
    idx_up = [np.flatnonzero(dev_up == j) for j in range(len(devs))]
    idx_dn = [np.flatnonzero(dev_dn == j) for j in range(len(devs))]
    keys = ("c2c_sigma", "d2d_sigma", "g_min_S", "g_max_S", "nl_ltp_mean", "nl_ltd_mean",
            "write_energy_up_J", "write_energy_down_J")
    draws = {k: [] for k in keys}
    P = per.reset_index(drop=True)
    for _ in range(n_boot):
        pick = rng.integers(0, len(devs), len(devs))
        s = P.iloc[pick]
        draws["c2c_sigma"].append(c2c_of(np.concatenate([idx_up[j] for j in pick]),
                                         np.concatenate([idx_dn[j] for j in pick])))
        draws["d2d_sigma"].append(_rel_spread(s["g_range_S"]))
        gm = float(s["g_min_S"].mean())
        draws["g_min_S"].append(gm)
        draws["g_max_S"].append(gm + float(s["g_range_S"].mean()))
        draws["nl_ltp_mean"].append(float(s["nl_ltp"].mean()))
        draws["nl_ltd_mean"].append(float(s["nl_ltd"].mean()))
        draws["write_energy_up_J"].append(_nanmean(s["energy_up_J"]))
        draws["write_energy_down_J"].append(_nanmean(s["energy_down_J"]))
    out = {}
    for k, v in draws.items():
        v = np.asarray(v, dtype=float)
        if np.isfinite(v).any():
            out[k] = [float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))]
    return out


# --------------------------------------------------------------------------- Monte Carlo
def simulate_cycles(profile: DeviceProfile, *, n_devices: int = 20, n_cycles: int = 5,
                    n_pulses: int | None = None, seed: int = 0, with_iv: bool = True,
                    read_noise_sigma: float = 0.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Long-format reads of ``n_devices`` x ``n_cycles`` (up train, down train) of ``profile``.

    The network's device law (:mod:`eqspike.network.synapses`, quantize none):
    ``s_j = max(1 + d2d N(0, 1), 0.05)`` per device, per pulse
    ``u += dg(u) + c2c N(0, 1)``, clipped to [0, 1]; ``G = g_min + s_j u (g_max - g_min)``.
    With ``with_iv``: ``V_V`` = the profile's pulse amplitude and ``I_A = G V`` (ohmic
    device at the read-back conductance), so ``|V I| t`` is the write energy.
    ``read_noise_sigma``: std of a measurement error added to each read (relative to
    ``g_max - g_min``; not part of the device state, not in the network's model).
    Returns (table, truth) with the realised per-device scales and noise draws.
    """
    from eqspike.network.synapses import DeviceModel
    for nm, v in (("n_devices", n_devices), ("n_cycles", n_cycles)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= 100000:
            raise ParameterError(f"parameter '{nm}' = {v!r} is outside the allowed range [1, 100000]")
    dev = DeviceModel(profile)
    n = int(n_pulses or profile.n_pulses)
    rng = np.random.default_rng(seed)
    s = np.maximum(1.0 + profile.d2d_sigma * rng.standard_normal(n_devices), 0.05)
    R = profile.g_max_S - profile.g_min_S
    u = np.zeros(n_devices)
    cols: dict[str, list] = {k: [] for k in ("device_id", "cycle", "pulse", "polarity", "G_S")}
    noise = []
    for c in range(n_cycles):
        for pol in ("up", "down"):
            for k in range(n + 1):
                if k > 0:
                    step = (dev.step_up(u.astype(np.float32)) if pol == "up"
                            else -dev.step_down(u.astype(np.float32))).astype(float)
                    e = profile.c2c_sigma * rng.standard_normal(n_devices)
                    noise.append(e)
                    u = np.clip(u + step + e, 0.0, 1.0)
                cols["device_id"] += [f"d{j:02d}" for j in range(n_devices)]
                cols["cycle"] += [c] * n_devices
                cols["pulse"] += [k] * n_devices
                cols["polarity"] += [pol] * n_devices
                g = profile.g_min_S + s * u * R
                if read_noise_sigma > 0:
                    g = np.maximum(g + read_noise_sigma * R * rng.standard_normal(n_devices), 1e-15)
                cols["G_S"] += list(g)
    df = pd.DataFrame(cols)
    if with_iv:
        v = np.where(df["polarity"] == "up", profile.pulse_up_V, profile.pulse_down_V)
        df["V_V"] = np.where(df["pulse"] > 0, v, np.nan)
        df["I_A"] = df["V_V"] * df["G_S"]
    df = df.sort_values(["device_id", "cycle", "polarity", "pulse"], kind="stable",
                        key=lambda c: c.map({"up": 0, "down": 1}) if c.name == "polarity" else c)
    truth = {"d2d_scales": s, "d2d_realised": _rel_spread(s),
             "c2c_realised": float(np.std(np.concatenate(noise))) if noise else 0.0,
             "g_min_S": profile.g_min_S, "g_max_realised_S": profile.g_min_S + float(np.mean(s)) * R,
             "c2c_sigma": profile.c2c_sigma, "d2d_sigma": profile.d2d_sigma}
    return df.reset_index(drop=True), truth


# --------------------------------------------------------------------------- plot
def plot_cycles(fit: CycleFit, title: str | None = None):
    """Measured vs fitted: every device's reads and its fit (uS) per pulse, up then down;
    per-device ranges with the d2d estimate; the c2c residual histogram."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    d = fit.data
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    ax = axes[0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, (dev, t) in enumerate(d.groupby("device_id", sort=False)):
        if j >= 12:
            break
        off = np.where(t["polarity"] == "up", 0, t[t["polarity"] == "up"]["pulse"].max() + 1)
        x = t["pulse"] + off
        col = colors[j % len(colors)]
        ax.plot(x, t["G_S"] * 1e6, ".", ms=2, color=col, alpha=0.4)
        one = t[t["cycle"] == t["cycle"].min()]
        o1 = np.where(one["polarity"] == "up", 0, one[one["polarity"] == "up"]["pulse"].max() + 1)
        order = np.argsort(one["pulse"].to_numpy() + o1, kind="stable")
        ax.plot((one["pulse"].to_numpy() + o1)[order], one["fit_G_S"].to_numpy()[order] * 1e6, "-",
                lw=1, color=col)
    ax.set_xlabel("pulse (up train, then down train)")
    ax.set_ylabel("conductance (uS)")
    ax.set_title("measured (dots) vs fitted (lines)", fontsize=9)
    e, ci = fit.summary["estimates"], fit.summary["ci95"]
    ax = axes[1]
    ax.bar(range(len(fit.devices)), fit.devices["g_range_S"] * 1e6, color="#1f77b4")
    ax.axhline(fit.devices["g_range_S"].mean() * 1e6, color="k", lw=1)
    lo, hi = ci.get("d2d_sigma", [math.nan, math.nan])
    ax.set_title(f"fitted range per device: d2d {e['d2d_sigma']:.3g} (95 % CI {lo:.3g}-{hi:.3g})",
                 fontsize=9)
    ax.set_xlabel("device")
    ax.set_ylabel("G_max - G_min (uS)")
    ax = axes[2]
    prof = fit.profile
    ax.plot(np.asarray(prof.g_grid_S) * 1e6, np.asarray(prof.dg_up_S) * 1e9, label="dG up (fit)")
    ax.plot(np.asarray(prof.g_grid_S) * 1e6, np.asarray(prof.dg_down_S) * 1e9, label="dG down (fit)")
    lo, hi = ci.get("c2c_sigma", [math.nan, math.nan])
    ax.set_title(f"mean step; c2c {e['c2c_sigma']:.3g} (95 % CI {lo:.3g}-{hi:.3g}) of range",
                 fontsize=9)
    ax.set_xlabel("conductance (uS)")
    ax.set_ylabel("step per pulse (nS)")
    ax.legend(fontsize=8)
    fig.suptitle(title or f"{prof.name}: {fit.summary['n_devices']} devices", fontsize=10)
    fig.tight_layout()
    return fig
