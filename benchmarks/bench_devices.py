"""Device-level benchmarks (not tests): Monte Carlo throughput and energy accuracy.

    .venv/bin/python benchmarks/bench_devices.py [--only vteam|fefet|energy|strategies] [--workers 2]

1. VTEAM Monte Carlo: 1,000 instances (d2d 10 %, c2c rate noise 0.2) with
   100 up + 100 down pulses, all in one netlist.  Target <= 60 s.
2. FeFET Monte Carlo: 100 instances (d2d 5 %) with 50 + 50 pulses, one
   netlist per device over worker processes.  Target <= 90 s.
3. Write energy vs solver tolerance: mean write energy per pulse at the
   models' reltol (1e-4) and tenfold tighter (1e-5); also ngspice's default
   (1e-3) for reference.  Target change < 2 %.
4. Strategy timings behind the ``many_in_one`` flags: one netlist vs
   per-device netlists for small batches.

Prints a Markdown block to paste into benchmarks/results/devices.md, with
``uptime`` load before and after (2-core machine shared with others).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time

import numpy as np


def load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "n/a"


def bench_vteam(workers):
    from eqspike.devices.variability import monte_carlo
    t0 = time.monotonic()
    r = monte_carlo("vteam", n_devices=1000, n_pulses=100, d2d_sigma=0.1, c2c_sigma=0.2,
                    strategy="one_netlist", seed=1, timeout_s=900)
    wall = time.monotonic() - t0
    s = r.summary
    return (f"| VTEAM MC, 1000 instances, 100+100 pulses, one netlist | {wall:.1f} s | <= 60 s | "
            f"spice {s['wall_s']:.1f} s; d2d G_max {s['d2d_g_max_rel']:.3f}, step {s['d2d_step_rel']:.3f}; "
            f"c2c {s['c2c_sigma']:.2e} |")


def bench_fefet(workers):
    from eqspike.devices.variability import monte_carlo
    t0 = time.monotonic()
    r = monte_carlo("fefet", n_devices=100, n_pulses=50, d2d_sigma=0.05, strategy="per_device",
                    workers=workers, seed=1, progress=False, timeout_s=900)
    wall = time.monotonic() - t0
    s = r.summary
    return (f"| FeFET MC, 100 instances, 50+50 pulses, per-device netlists, {workers} workers | {wall:.1f} s | "
            f"<= 90 s | d2d G_max {s['d2d_g_max_rel']:.3f}, step {s['d2d_step_rel']:.3f}; "
            f"mean write energy {s['write_energy_mean_J']:.3g} J |")


def bench_energy(workers):
    from eqspike.devices.models import get_model
    from eqspike.devices.pulses import simulate_train
    rows = []
    for model, n in (("taox_rram", 127), ("fefet", 50), ("vteam", 100), ("ftj", 40)):
        spec = get_model(model)
        e = {}
        for rel in ("1e-3", "1e-4", "1e-5"):
            run = simulate_train(spec, n_up=n, n_down=n, options=f".options method=gear reltol={rel}")
            e[rel] = float(np.mean(run.write_energy_J[0]))
        d10 = abs(e["1e-5"] - e["1e-4"]) / e["1e-5"] * 100
        d3 = abs(e["1e-3"] - e["1e-5"]) / e["1e-5"] * 100
        rows.append(f"| {model}, {n}+{n} pulses, gear | {e['1e-3']:.4g} | {e['1e-4']:.4g} | {e['1e-5']:.4g} | "
                    f"{d10:.2f} % | {d3:.2f} % |")
    head = ("| model | E/pulse reltol 1e-3 (J) | E/pulse 1e-4 (used) | E/pulse 1e-5 | change 1e-4 -> 1e-5 "
            "(target < 2 %) | change 1e-3 -> 1e-5 |\n|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


def bench_strategies(workers):
    from eqspike.devices.variability import compare_strategies
    rows = []
    for model, n, p in (("vteam", 20, 100), ("taox_rram", 20, 50), ("fefet", 10, 20), ("ftj", 10, 20)):
        r = compare_strategies(model, n, p, workers=workers)
        one = f"{r['one_netlist_s']:.1f} s" if r["one_netlist_s"] is not None else r.get("one_netlist_error")
        per = f"{r['per_device_s']:.1f} s" if r["per_device_s"] is not None else r.get("per_device_error")
        rows.append(f"| {model} | {n} | {p}+{p} | {one} | {per} |")
    return ("| model | instances | pulses | one netlist | per-device netlists |\n|---|---|---|---|---|\n"
            + "\n".join(rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("vteam", "fefet", "energy", "strategies"), action="append")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    todo = args.only or ["vteam", "fefet", "energy", "strategies"]
    from eqspike.spice import ngspice_version
    print(f"machine: {platform.node()} {os.cpu_count()} cores, ngspice {ngspice_version()}, "
          f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for name in todo:
        before = load()
        out = {"vteam": bench_vteam, "fefet": bench_fefet, "energy": bench_energy,
               "strategies": bench_strategies}[name](args.workers)
        print(f"\n## {name}\nload before: {before}\nload after:  {load()}\n\n{out}", flush=True)


if __name__ == "__main__":
    main()
