"""Summary table and plots of a sweep's results.

- :func:`summarize`: one line per point configuration (``config_id``):
  swept parameters, repeats ok/failed (``n_ok``, ``n_failed``), mean, std,
  min and max of test accuracy over repeats (``mean_test_acc`` ...), mean
  train accuracy, mean of every energy column (``mean_<name>_J``), mean wall
  time (``mean_wall_s``).
- :func:`plot_results`: ``acc_vs_<param>.png`` for each swept parameter
  (mean +- std over repeats, every repeat drawn faintly; one line per value
  of the other axis when the sweep has two), ``heatmap_<p1>_<p2>.png`` when
  the sweep has two axes (a ``[sweep.zip]`` group is one axis, named by its
  first parameter), and ``pareto_<energy column>.png``
  (mean accuracy vs mean energy of every configuration, the non-dominated
  front highlighted; also written as CSV) for the energy per inference and
  per training example.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from eqspike import atomic
from eqspike.errors import DataError

ACC = "test_acc"
#: Energy columns drawn as Pareto fronts by default (when present).
PARETO_ENERGY = ("energy_per_inference_J", "energy_per_train_example_J")


def ok_rows(df):
    """Rows whose point finished (``status == "ok"``)."""
    return df[df["status"] == "ok"] if "status" in df.columns else df


def param_columns(df, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """Columns that are parameters of the point function (not results)."""
    names = list((manifest or {}).get("params") or [])
    if not names and "point" in df.columns and len(df):
        try:
            from eqspike.sweeps.points import get_point
            names = list(get_point(str(df["point"].iloc[0])).param_names())
        except Exception:
            names = []
    return [c for c in names if c in df.columns]


def swept_params(df, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """Swept parameter names: from the manifest, else the parameter columns that vary."""
    names = [c for c in (manifest or {}).get("swept", []) if c in df.columns]
    if names:
        return names
    return [c for c in param_columns(df, manifest) if df[c].nunique(dropna=False) > 1]


def energy_columns(df, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """Numeric energy result columns (names ending in ``_J``; parameters and the
    ``device_*`` / ``neuron_*`` profile figures excluded)."""
    params = set(param_columns(df, manifest))
    return [c for c in df.columns if c.endswith("_J") and c not in params
            and not c.startswith(("device_", "neuron_")) and _is_numeric(df[c])]


def summarize(df, swept: Sequence[str], manifest: Mapping[str, Any] | None = None):
    """Per-configuration table (see module docstring), ordered as in the spec."""
    import pandas as pd
    if "config_id" not in df.columns:
        raise DataError("sweep results lack the 'config_id' column; not an eqspike sweep table")
    rows = []
    ecols = energy_columns(df, manifest)
    for cid, g in df.groupby("config_id", sort=False):
        ok = ok_rows(g)
        r: dict[str, Any] = {"config_id": cid}
        if "point_index" in g.columns:
            r["point_index"] = int(g["point_index"].min())
        for p in swept:
            r[p] = g[p].iloc[0]
        r["n_ok"] = int(len(ok))
        r["n_failed"] = int(len(g) - len(ok))
        accs = ok[ACC].astype(float) if len(ok) else pd.Series(dtype=float)
        r["mean_test_acc"] = float(accs.mean()) if len(accs) else math.nan
        r["std_test_acc"] = float(accs.std(ddof=1)) if len(accs) > 1 else math.nan
        r["min_test_acc"] = float(accs.min()) if len(accs) else math.nan
        r["max_test_acc"] = float(accs.max()) if len(accs) else math.nan
        if "train_acc" in ok.columns:
            r["mean_train_acc"] = float(ok["train_acc"].astype(float).mean()) if len(ok) else math.nan
        for c in ecols:
            r[f"mean_{c}"] = float(ok[c].astype(float).mean()) if len(ok) else math.nan
        if "wall_s" in ok.columns:
            r["mean_wall_s"] = float(ok["wall_s"].astype(float).mean()) if len(ok) else math.nan
        if len(g) > len(ok) and "error" in g.columns:
            r["first_error"] = str(g.loc[g["status"] != "ok", "error"].iloc[0])[:120]
        rows.append(r)
    out = pd.DataFrame(rows)
    if "point_index" in out.columns:
        out = out.sort_values("point_index", kind="stable").reset_index(drop=True)
    return out


def pareto_front(energy: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated points (lower energy, higher accuracy).

    A point is dominated when another has energy <= and accuracy >= with one
    of them strict.  NaNs are never on the front.
    """
    energy = np.asarray(energy, float)
    acc = np.asarray(acc, float)
    ok = np.isfinite(energy) & np.isfinite(acc)
    mask = np.zeros(len(energy), bool)
    idx = np.flatnonzero(ok)
    for i in idx:
        dom = ((energy[idx] <= energy[i]) & (acc[idx] >= acc[i]) &
               ((energy[idx] < energy[i]) | (acc[idx] > acc[i])))
        mask[i] = not dom.any()
    return mask


def _is_numeric(s) -> bool:
    """True for numeric, non-boolean columns (pandas extension dtypes such as the
    string dtype of a swept text parameter are not numeric)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype
    return bool(is_numeric_dtype(s.dtype) and not is_bool_dtype(s.dtype))


def _use_log(vals: np.ndarray) -> bool:
    vals = np.asarray(vals, float)
    vals = vals[np.isfinite(vals)]
    return len(vals) > 1 and (vals > 0).all() and vals.max() / vals.min() >= 50


def _label(name: str) -> str:
    for suffix, unit in (("_S", "S"), ("_J", "J"), ("_s", "s"), ("_V", "V"), ("_A", "A"),
                         ("_F", "F"), ("_Hz", "Hz"), ("_W", "W")):
        if name.endswith(suffix):
            return f"{name[:-len(suffix)]} ({unit})"
    return name


def _acc_vs(df, p: str, others: Sequence[str], title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    numeric = _is_numeric(df[p])
    if numeric:
        cats = None
    else:
        cats = list(dict.fromkeys(df[p].tolist()))
    def xs(v):
        return np.asarray(v, float) if numeric else np.array([cats.index(x) for x in v], float)
    groups = [("", df)]
    if len(others) == 1 and 1 < df[others[0]].nunique() <= 8:
        o = others[0]
        groups = [(f"{o}={v:g}" if isinstance(v, (int, float)) else f"{o}={v}", g)
                  for v, g in df.groupby(o, sort=True)]
    for lab, g in groups:
        agg = g.groupby(p, sort=True)[ACC].agg(["mean", "std", "count"]).reset_index()
        if numeric:
            agg = agg.sort_values(p)
        else:
            agg = agg.sort_values(p, key=lambda s: s.map(cats.index))
        line = ax.errorbar(xs(agg[p]), 100 * agg["mean"], yerr=100 * agg["std"].fillna(0),
                           marker="o", capsize=3, label=lab or "mean +- std over repeats")
        ax.scatter(xs(g[p]), 100 * g[ACC].astype(float), s=10, alpha=0.35,
                   color=line[0].get_color())
    if numeric and _use_log(df[p]):
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    ax.set_xlabel(_label(p))
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _heatmap(summary, p1: str, p2: str, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    piv = summary.pivot_table(index=p2, columns=p1, values="mean_test_acc", aggfunc="mean")
    fig, ax = plt.subplots(figsize=(1.1 * piv.shape[1] + 2.5, 0.6 * piv.shape[0] + 2))
    im = ax.imshow(100 * piv.values, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(piv.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in piv.columns])
    ax.set_yticks(range(piv.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in piv.index])
    for i in range(piv.shape[0]):
        for j in range(piv.shape[1]):
            v = piv.values[i, j]
            if np.isfinite(v):
                bright = v > np.nanmean(piv.values)
                ax.text(j, i, f"{100 * v:.1f}", ha="center", va="center",
                        color="k" if bright else "w", fontsize=8)
    ax.set_xlabel(_label(p1))
    ax.set_ylabel(_label(p2))
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="mean test accuracy (%)")
    return fig


def _pareto_plot(summary, ecol: str, swept: Sequence[str], title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    e = summary[f"mean_{ecol}"].to_numpy(float)
    a = summary["mean_test_acc"].to_numpy(float)
    front = pareto_front(e, a)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(e, 100 * a, s=18, color="0.6", label="configurations (mean over repeats)")
    order = np.argsort(e[front])
    ax.plot(e[front][order], 100 * a[front][order], "o-", color="C3", label="Pareto front")
    for i in np.flatnonzero(front):
        txt = ", ".join(f"{p}={summary[p].iloc[i]:g}" if isinstance(summary[p].iloc[i], (int, float, np.number))
                        else f"{p}={summary[p].iloc[i]}" for p in swept)
        ax.annotate(txt, (e[i], 100 * a[i]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    if _use_log(e):
        ax.set_xscale("log")
    ax.set_xlabel(_label(ecol))
    ax.set_ylabel("mean test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig, front


def plot_results(df, out_dir: str | Path, manifest: Mapping[str, Any] | None = None,
                 energy: Sequence[str] | None = None) -> list[Path]:
    """Write the PNG plots (and pareto CSVs) of a results table; returns the paths.

    ``energy``: energy columns to draw Pareto fronts for (default:
    :data:`PARETO_ENERGY` where present, else every energy column).
    """
    out_dir = Path(out_dir)
    swept = swept_params(df, manifest)
    ok = ok_rows(df)
    if ok.empty:
        raise DataError("no finished (status ok) rows to plot")
    name = (manifest or {}).get("name") or (str(df["sweep"].iloc[0]) if "sweep" in df.columns else "sweep")
    axes = [list(a) for a in (manifest or {}).get("axes") or [[p] for p in swept]
            if all(q in df.columns for q in a)] or [[p] for p in swept]
    written: list[Path] = []
    for p in swept:
        # one line per value of the other axis (its first parameter names the line)
        others = [a[0] for a in axes if p not in a]
        fig = _acc_vs(ok, p, others, f"{name}: test accuracy vs {p}")
        written.append(atomic.save_figure(out_dir / f"acc_vs_{p}.png", fig))
    summary = summarize(df, swept, manifest)
    if len(axes) == 2:
        p1, p2 = axes[0][0], axes[1][0]
        s_ok = summary[summary["n_ok"] > 0]
        if s_ok[p1].nunique() > 1 and s_ok[p2].nunique() > 1:
            fig = _heatmap(s_ok, p1, p2, f"{name}: mean test accuracy")
            written.append(atomic.save_figure(out_dir / f"heatmap_{p1}_{p2}.png", fig))
    ecols = energy_columns(ok, manifest)
    if energy:
        missing = [c for c in energy if c not in ecols]
        if missing:
            raise DataError(f"energy column(s) {', '.join(missing)} not in the results; "
                            f"available: {', '.join(ecols) or '(none)'}")
        ecols = list(energy)
    elif any(c in ecols for c in PARETO_ENERGY):
        ecols = [c for c in PARETO_ENERGY if c in ecols]
    for ecol in ecols:
        s_ok = summary[np.isfinite(summary[f"mean_{ecol}"].to_numpy(float))]
        if s_ok.empty:
            continue
        fig, front = _pareto_plot(s_ok, ecol, swept, f"{name}: accuracy-energy trade-off")
        written.append(atomic.save_figure(out_dir / f"pareto_{ecol}.png", fig))
        cols = ["config_id", *swept, "mean_test_acc", f"mean_{ecol}"]
        written.append(atomic.write_csv(out_dir / f"pareto_{ecol}.csv",
                                        s_ok.loc[front, cols].sort_values(f"mean_{ecol}")))
    return written
