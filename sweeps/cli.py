"""``eqspike sweep``: run, plot and summarise parameter sweeps on Dask.

    eqspike sweep run SPEC.toml [--scheduler ADDR] [--workers N] [--out DIR] [--retry-failed]
    eqspike sweep plot RESULTS [--out DIR]
    eqspike sweep summary RESULTS [--csv PATH]
    eqspike sweep points [NAME]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from eqspike.errors import ParameterError

DEFAULT_OUT_ROOT = Path("runs") / "sweeps"
#: Mean columns printed by `summary` (the CSV holds them all).
SHOWN_MEANS = ("mean_test_acc", "mean_train_acc", "mean_energy_per_inference_J",
               "mean_energy_per_train_example_J", "mean_wall_s")

RUN_EPILOG = """\
The spec (TOML) names the point function, the base parameters, the varied
parameters (grid / lists / random), the repeats (seeds) and the training
budget; see docs/sweeps.md and the examples in sweeps/examples/.  Each
finished (point, repeat) is written at once as RESULTS/rows/<point_id>.parquet;
rerunning the same command skips them (a killed sweep resumes where it
stopped), --retry-failed reruns the failed ones.
"""


def _formatter():
    from eqspike.cli import HelpFormatter

    class _Formatter(HelpFormatter):
        """Shows defaults, except None/False ones (their help says what happens)."""
        def _get_help_string(self, action):
            if action.default in (None, False):
                return action.help
            return super()._get_help_string(action)
    return _Formatter


def register(subparsers) -> None:
    sp = subparsers.add_parser("sweep", help="parameter sweeps on Dask (run, plot, summary)",
                               description=__doc__, formatter_class=_formatter())
    sub = sp.add_subparsers(dest="sweep_command", metavar="SWEEP_COMMAND")
    sp.set_defaults(func=lambda args: (sp.print_help(), 2)[1])

    r = sub.add_parser("run", help="run (or resume) a sweep from a TOML spec",
                       description="Run every (point, repeat) of a sweep spec on Dask and "
                                   "store one Parquet row each.", epilog=RUN_EPILOG,
                       formatter_class=_formatter())
    r.add_argument("spec", help="sweep specification (TOML)")
    r.add_argument("--out", default=None,
                   help="results folder (default: runs/sweeps/<sweep name>)")
    r.add_argument("--workers", type=int, default=None,
                   help="local Dask worker processes, one thread each (default: CPU count "
                        f"= {os.cpu_count()}, capped at the number of pending points; 0 = run "
                        "inline without Dask); ignored with --scheduler")
    r.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(default: start a LocalCluster)")
    r.add_argument("--connect-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="with --scheduler: seconds to wait for the scheduler to answer, in "
                        "(0, 3600] (default: 30)")
    r.add_argument("--retry-failed", action="store_true",
                   help="rerun points recorded as failed (default: skip every stored point)")
    r.add_argument("--overwrite", action="store_true",
                   help="clear --out first (default: a folder holding this sweep's results is "
                        "resumed; a non-empty folder holding anything else is refused)")
    r.add_argument("--data-dir", default=None,
                   help="dataset folder for the point function (default: searched as by "
                        "eqspike.datasets.load_dataset: the spec's [sweep] data_dir, "
                        "$EQSPIKE_DATA_DIR, then the user cache); the dataset itself is the "
                        "point parameter dataset_name; not part of the point ids")
    r.add_argument("--limit", type=int, default=None, metavar="N",
                   help="run only the first N pending (point, repeat) tasks (default: all)")
    r.add_argument("--dry-run", action="store_true",
                   help="list the points and which are already done; run nothing")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    p = sub.add_parser("plot", help="plot accuracy vs swept parameters, heatmap, Pareto front",
                       description="PNG plots of a sweep's results: accuracy vs each swept "
                                   "parameter (mean +- std over repeats), a heatmap when two "
                                   "parameters are swept, the accuracy-energy Pareto front.",
                       formatter_class=_formatter())
    p.add_argument("results", help="results folder of `eqspike sweep run`")
    p.add_argument("--out", default=None, help="folder for the PNGs (default: RESULTS/plots)")
    p.add_argument("--overwrite", action="store_true",
                   help="clear a non-empty --out first (default: refused; the default folder "
                        "RESULTS/plots is always redrawn from scratch)")
    p.add_argument("--energy", nargs="+", default=None, metavar="COLUMN",
                   help="energy columns (J) for Pareto fronts (default: energy_per_inference_J "
                        "and energy_per_train_example_J)")
    p.set_defaults(func=cmd_plot)

    s = sub.add_parser("summary", help="print a per-point table (and write it as CSV)",
                       description="One line per point configuration: swept parameters, "
                                   "repeats ok/failed, test accuracy mean/std/min/max (fraction), "
                                   "mean energy per inference and per training example (J), mean "
                                   "wall time (s); the CSV also holds the mean of every energy column.",
                       formatter_class=_formatter())
    s.add_argument("results", help="results folder of `eqspike sweep run`")
    s.add_argument("--csv", default=None, help="CSV path (default: RESULTS/summary.csv)")
    s.set_defaults(func=cmd_summary)

    pts = sub.add_parser("points", help="list point functions and their parameters (units, defaults)",
                         formatter_class=_formatter())
    pts.add_argument("name", nargs="?", default=None, help="one point function (default: all)")
    pts.set_defaults(func=cmd_points)


def cmd_run(args) -> int:
    from eqspike.sweeps.runner import pending_tasks, run_sweep
    from eqspike.sweeps.spec import load_spec
    from eqspike.sweeps.store import ResultStore
    spec = load_spec(args.spec)
    out = Path(args.out) if args.out else DEFAULT_OUT_ROOT / spec.name
    _check_sweep_out(out, spec, args.overwrite)
    if args.dry_run:
        todo, skipped = pending_tasks(spec, ResultStore(out), args.retry_failed)
        todo_ids = {t.point_id for t in todo}
        for t in spec.tasks():
            mark = "todo" if t.point_id in todo_ids else "done"
            vals = " ".join(f"{k}={dict(t.params)[k]!r}" for k in spec.swept)
            print(f"{t.point_id} point {t.point_index} repeat {t.repeat} seed {t.seed} {mark}: {vals}")
        print(f"{len(todo)} to run, {skipped} already done -> {out}")
        return 0
    context = {}
    if args.data_dir or spec.data_dir:
        context["data_dir"] = str(Path(args.data_dir or spec.data_dir).expanduser().resolve())
    if spec.point == "eqspike_device":   # fail fast: data located and verified before any point
        from eqspike.sweeps.device_point import check_datasets
        for line in check_datasets(spec.tasks(), context):
            print(f"dataset: {line}")
    report = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler,
                       connect_timeout_s=args.connect_timeout,
                       retry_failed=args.retry_failed, progress=not args.no_progress,
                       context=context, limit=args.limit, overwrite=args.overwrite)
    print(report.text())
    if report.n_failed:
        print(f"eqspike: {report.n_failed} of {report.n_ok + report.n_failed} point(s) failed: see "
              f"`eqspike sweep summary {out}`; rerun with --retry-failed to try them again",
              file=sys.stderr)
        return 1
    return 0


def _check_sweep_out(out: Path, spec, overwrite: bool) -> None:
    """Resume a folder holding this sweep's results; refuse any other non-empty one
    (unless --overwrite); refuse a file or an unwritable folder, before any work."""
    from eqspike import outdir
    from eqspike.atomic import ensure_dir
    from eqspike.sweeps.store import MANIFEST, ResultStore
    same = False
    if (out / MANIFEST).is_file() and not overwrite:
        m = ResultStore(out).manifest()
        same = m.get("name") == spec.name and m.get("point") == spec.point
        if not same:
            raise ParameterError(f"--out {str(out)!r} holds the results of sweep {m.get('name')!r} "
                                 f"(point {m.get('point')!r}), not of {spec.name!r} "
                                 f"({spec.point!r}); give --overwrite to replace them, or another --out")
    outdir.check(out, "--out", resume=same, overwrite=overwrite, resumable=False, what="sweep")
    existed = out.exists()
    ensure_dir(out)          # creatable and writable: checked now, not after the first point
    if not existed:
        out.rmdir()          # created when the sweep starts (nothing left if it cannot)


def cmd_plot(args) -> int:
    from eqspike.sweeps.plots import plot_results
    from eqspike.sweeps.store import ResultStore, read_results
    from eqspike.outdir import claim
    df = read_results(args.results)
    manifest = ResultStore(args.results).manifest()
    out = Path(args.out) if args.out else Path(args.results) / "plots"
    # RESULTS/plots is derived from RESULTS and redrawn whole (no stale plot stays)
    with claim(out, "--out", overwrite=args.overwrite or not args.out, resumable=False, lock=False,
               command="eqspike sweep plot", what="plot") as out:
        for p in plot_results(df, out, manifest, energy=args.energy):
            print(p)
    return 0


def cmd_summary(args) -> int:
    import pandas as pd
    from eqspike import atomic
    from eqspike.outdir import file_target
    from eqspike.sweeps.plots import summarize, swept_params
    from eqspike.sweeps.store import ResultStore, read_results
    df = read_results(args.results)
    manifest = ResultStore(args.results).manifest()
    table = summarize(df, swept_params(df, manifest), manifest)
    csv = file_target(Path(args.csv) if args.csv else Path(args.results) / "summary.csv", "--csv")
    atomic.write_csv(csv, table)
    keep = [c for c in table.columns if c not in ("config_id", "point_index") and
            (not c.startswith("mean_") or c in SHOWN_MEANS)]
    show = table[keep]
    with pd.option_context("display.max_columns", None, "display.width", 200,
                           "display.float_format", "{:.4g}".format):
        print(show.to_string(index=False))
    n_ok, n_failed = int(table["n_ok"].sum()), int(table["n_failed"].sum())
    print(f"{len(table)} configurations, {n_ok} rows ok, {n_failed} failed; table -> {csv}")
    return 0


def cmd_points(args) -> int:
    from eqspike.params import describe
    from eqspike.sweeps.points import POINTS, get_point
    names = [args.name] if args.name else None
    if names:
        get_point(names[0])
    else:
        get_point("toy")  # loads the built-in ones
        names = sorted(POINTS)
    for n in names:
        pf = POINTS[n]
        print(f"{n}: {pf.doc}")
        for row in describe(pf.params_cls):
            print(f"  {row['name']:<22} default {row['default']!r:<12} {row['range']:<26} {row['doc']}")
    return 0
