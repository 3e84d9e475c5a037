"""Circuit-level benchmark (not a test): a 40-point f-I curve with energy per spike.

    .venv/bin/python benchmarks/bench_circuits.py [--points 40] [--workers 2] [--serial] [--ablation]

Times ``eqspike.circuits.characterize.fi_sweep`` on the default neuron
(Axon-Hillock, PTM 180 nm) over [i_min_A, i_max_A] with 2 worker processes
(target <= 10 s), optionally the same serially, and optionally an ablation
(first two stages not current-starved) to show what the starving saves in
energy per spike.  Appends a Markdown section to
``benchmarks/results/circuits.md`` with the command, machine load and figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    try:
        return "load average (1/5/15 min) " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def timed_sweep(neuron, n_points: int, workers: int):
    from eqspike.circuits.characterize import fi_sweep, standby_power_W
    t0 = time.perf_counter()
    standby = standby_power_W(neuron)
    cur = np.geomspace(neuron.i_min_A, neuron.i_max_A, n_points)
    df = fi_sweep(neuron, cur, workers=workers, standby_W=standby)
    return time.perf_counter() - t0, df, standby


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=40, help="input currents in the f-I sweep")
    ap.add_argument("--workers", type=int, default=2, help="ngspice worker processes")
    ap.add_argument("--serial", action="store_true", help="also time the sweep with one process")
    ap.add_argument("--ablation", action="store_true", help="also run an unstarved neuron for comparison")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "circuits.md"))
    args = ap.parse_args(argv)

    from eqspike.circuits.characterize import profile_from_sweep
    from eqspike.circuits.neurons import AxonHillock
    from eqspike.spice import ngspice_version

    n = AxonHillock()
    load_before = load()
    wall, df, standby = timed_sweep(n, args.points, args.workers)
    load_after = load()
    prof = profile_from_sweep(n, df, standby_W=standby, ngspice_version=ngspice_version(), netlist_key="bench")
    lines = [f"## {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
             "", f"Command: `.venv/bin/python benchmarks/{Path(__file__).name} {shlex.join(argv or sys.argv[1:])}`",
             f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"ngspice {ngspice_version()}; {load_before} before, {load_after} after "
             "(other engineers' jobs were running: timings are disturbed).", "",
             f"- {args.points}-point f-I curve with energy per spike, Axon-Hillock (PTM 180 nm, defaults), "
             f"{args.workers} workers: **{wall:.2f} s** wall (target <= 10 s); "
             f"sum of per-run ngspice time {df['wall_s'].sum():.2f} s; "
             f"{int(df['n_points'].sum())} simulator time points in all.",
             f"- Rate {df['rate_Hz'][df['rate_Hz'] > 0].min():.3g}-{df['rate_Hz'].max():.3g} Hz over "
             f"{n.i_min_A:g}-{n.i_max_A:g} A; max rate {prof.max_rate_Hz:.4g} Hz at {prof.input_scale_A:.3g} A; "
             f"energy per spike {prof.energy_per_spike_J:.3g} J at the nominal {prof.nominal_rate_Hz:.3g} Hz; "
             f"standby power {standby:.3g} W; bias branch (excluded) {n.bias_power_W():.3g} W.", ""]
    if args.serial:
        load_s = load()
        wall1, _, _ = timed_sweep(n, args.points, 1)
        lines.insert(-1, f"- Same sweep, 1 process: {wall1:.2f} s ({load_s} before); speed-up {wall1 / wall:.2f}x.")
    lines += ["| input (A) | rate (Hz) | energy/spike (J) | ISI CV |", "|---|---|---|---|"]
    for _, r in df.iloc[::max(1, len(df) // 10)].iterrows():
        lines.append(f"| {r.i_in_A:.3g} | {r.rate_Hz:.4g} | {r.energy_per_spike_J:.3g} | {r.isi_cv:.2g} |")
    lines.append("")
    if args.ablation:
        plain = AxonHillock(i_starve1_A=1e-4, i_starve2_A=1e-4)
        cur = [1e-11, 1e-10, 1e-9, 1e-8, 1e-7]
        from eqspike.circuits.characterize import fi_sweep, standby_power_W
        sb = standby_power_W(plain)
        d2 = fi_sweep(plain, cur, workers=args.workers, standby_W=sb)
        d1 = fi_sweep(n, cur, workers=args.workers, standby_W=standby)
        lines += ["Ablation: energy per spike with the two inverters current-starved (defaults: "
                  f"{n.i_starve1_A:g} A / {n.i_starve2_A:g} A) vs effectively unstarved (1e-4 A heads/feet):", "",
                  "| input (A) | rate starved (Hz) | E starved (J) | rate unstarved (Hz) | E unstarved (J) |",
                  "|---|---|---|---|---|"]
        for a, b in zip(d1.itertuples(), d2.itertuples()):
            lines.append(f"| {a.i_in_A:.3g} | {a.rate_Hz:.4g} | {a.energy_per_spike_J:.3g} | "
                         f"{b.rate_Hz:.4g} | {b.energy_per_spike_J:.3g} |")
        lines.append("")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    prev = out.read_text() if out.exists() else "# Circuit benchmarks\n\n"
    from eqspike.atomic import write_text
    write_text(out, prev + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
