"""Sweep throughput on Dask: 2 worker processes vs 1 on the example spec.

    .venv/bin/python benchmarks/bench_sweeps.py [--spec sweeps/examples/rram_variability.toml]
        [--workers 1 2] [--limit N] [--repeat 1] [--md benchmarks/results/sweeps.md]

Each measurement runs the first ``--limit`` (point, repeat) tasks of the spec
(all by default) into a fresh temporary results folder with
``run_sweep(..., workers=n)``: wall time from the call to the last row
written, LocalCluster start-up included (that is what a user waits for).
Throughput = rows / wall time; speedup = throughput(n) / throughput(1).
The load average (/proc/loadavg) before and after each run is recorded,
since other jobs on the machine disturb the figures; so are two figures
that tell a busy machine from a bad scheduler: *worker occupancy* (sum of
the points' wall times / (run wall time x workers): how busy Dask kept the
workers) and *cores used by points* (sum of the points' CPU times / time from
the first point's start to the last one's end: how much CPU they got).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(spec, n_workers: int, limit: int | None, context: dict, keep: str | None = None) -> dict:
    from eqspike.sweeps.runner import run_sweep
    from eqspike.sweeps.store import read_results
    with tempfile.TemporaryDirectory(prefix="bench_sweeps_") as d:
        if keep:   # a fresh folder that is kept afterwards
            import shutil
            d = str(Path(keep) / f"workers_{n_workers}")
            shutil.rmtree(d, ignore_errors=True)
        load0 = loadavg()
        t0 = time.perf_counter()
        rep = run_sweep(spec, d, workers=n_workers, progress=False, context=context, limit=limit)
        wall = time.perf_counter() - t0
        load1 = loadavg()
        df = read_results(d)
    import pandas as pd
    ok = df[df.status == "ok"]
    rows = rep.n_ok + rep.n_failed
    start = pd.to_datetime(df["started"]).min()
    end = pd.to_datetime(df["finished"]).max()
    span = (end - start).total_seconds()
    return {"workers": n_workers, "rows": rows, "failed": rep.n_failed, "wall_s": wall,
            "rows_per_min": 60.0 * rows / wall, "mean_point_s": float(ok["wall_s"].mean()),
            "mean_point_cpu_s": float(ok["cpu_s"].mean()),
            # fraction of the run during which the workers were inside a point
            "occupancy": float(df["wall_s"].sum()) / (wall * n_workers),
            # cores' worth of CPU the points got (1.0 per fully served worker)
            "cores_used": float(df["cpu_s"].sum()) / span if span > 0 else float("nan"),
            "span_s": span, "load_before": load0, "load_after": load1}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default=str(ROOT / "sweeps" / "examples" / "rram_variability.toml"))
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--limit", type=int, default=None, help="first N tasks only (default: all)")
    ap.add_argument("--repeat", type=int, default=1, help="measurements per worker count")
    ap.add_argument("--data-dir", default=os.environ.get("EQSPIKE_DATA_DIR"))
    ap.add_argument("--md", default=None, help="append a Markdown section to this file")
    ap.add_argument("--keep", default=None, metavar="DIR",
                    help="keep the results of each worker count in DIR/workers_<n> (default: temporary)")
    args = ap.parse_args(argv)

    from eqspike.sweeps.spec import load_spec
    spec = load_spec(args.spec)
    context = {"data_dir": args.data_dir} if args.data_dir else {}
    results = []
    for _ in range(args.repeat):
        for n in args.workers:
            r = measure(spec, n, args.limit, context, args.keep)
            results.append(r)
            print(f"workers={n}: {r['rows']} rows in {r['wall_s']:.1f} s = {r['rows_per_min']:.2f} rows/min "
                  f"(mean point {r['mean_point_s']:.2f} s wall, {r['mean_point_cpu_s']:.2f} s CPU; "
                  f"occupancy {r['occupancy']:.2f}; cores used {r['cores_used']:.2f}; "
                  f"load {r['load_before']} -> {r['load_after']})", flush=True)
    base = [r["rows_per_min"] for r in results if r["workers"] == 1]
    lines = []
    cmd = "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sweeps.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines += [f"## {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}: {spec.name}",
              "", f"- command: `{cmd.strip()}`",
              f"- spec: `{os.path.relpath(args.spec, ROOT)}`, first {args.limit or 'all'} tasks; "
              f"budget {spec.budget.as_dict()}",
              f"- machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}",
              "", "| workers | rows | failed | wall (s) | rows/min | speedup vs 1 | mean point wall / CPU (s) "
              "| worker occupancy | cores used by points | load avg before -> after |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        sp = r["rows_per_min"] / (sum(base) / len(base)) if base else float("nan")
        lines.append(f"| {r['workers']} | {r['rows']} | {r['failed']} | {r['wall_s']:.1f} | "
                     f"{r['rows_per_min']:.2f} | {sp:.2f} | {r['mean_point_s']:.2f} / "
                     f"{r['mean_point_cpu_s']:.2f} | {r['occupancy']:.2f} | {r['cores_used']:.2f} | "
                     f"{r['load_before']} -> {r['load_after']} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        p = Path(args.md)
        old = p.read_text() if p.exists() else ""
        from eqspike.atomic import write_text
        write_text(p, old + ("\n" if old else "") + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
