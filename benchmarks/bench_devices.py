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


def _timed_run(args):
    """Worker: run one netlist, return (vectors, CPU seconds of this process incl. ngspice's thread)."""
    from eqspike.spice import run_netlist
    net, names = args
    c0 = time.process_time()
    r = run_netlist(net, names, timeout_s=3600)
    return r, time.process_time() - c0


def _batched_cpu(model, n_devices, n_pulses, d2d_sigma, c2c_sigma, workers, per_device=False):
    """Like variability.monte_carlo(strategy='batched' or 'per_device') but also
    returning each worker's CPU time: wall on an idle machine ~ max worker CPU."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from eqspike.devices.models import get_model
    from eqspike.devices.pulses import build_train_netlist, extract, vector_names
    from eqspike.devices.variability import _instances, batch_groups
    spec = get_model(model)
    p = spec.params()
    insts = _instances(p, n_devices, d2d_sigma, c2c_sigma, spec.drive.period_s, 1)
    groups = [[j] for j in range(n_devices)] if per_device else batch_groups(n_devices, workers)
    fefet = spec.kind == "fefet"
    jobs, sched = [], None
    for b, g in enumerate(groups):
        net, sched = build_train_netlist(spec, p, spec.drive, n_pulses, n_pulses,
                                         instances=[insts[j] for j in g], seed=2 + b)
        jobs.append((net, vector_names(len(g), fefet)))
    t0 = time.monotonic()
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver")) as pool:
        out = list(pool.map(_timed_run, jobs))
    wall = time.monotonic() - t0
    cpu = [c for _, c in out]
    G = np.vstack([extract(r, sched, spec.drive, len(g), fefet)[0] for (r, _), g in zip(out, groups)])
    # jobs spread over the workers: per-worker CPU ~ total / workers
    per_worker = sum(cpu) / workers
    return wall, sum(cpu), per_worker, G


def bench_vteam(workers):
    wall, cpu, per_worker, G = _batched_cpu("vteam", 1000, 100, 0.1, 0.2, workers)
    return (f"| VTEAM MC, 1000 instances (d2d 10 %, c2c rate noise 0.2), 100+100 pulses, 10 shared "
            f"netlists of 100 on {workers} workers | wall {wall:.1f} s | CPU {cpu:.1f} s total, {per_worker:.1f} s "
            f"per worker (= idle-machine wall) | <= 60 s | G_max mean {G.max(axis=1).mean():.3g} S |")


def bench_vteam_mc_api(workers):
    from eqspike.devices.variability import monte_carlo
    t0 = time.monotonic()
    r = monte_carlo("vteam", n_devices=1000, n_pulses=100, d2d_sigma=0.1, c2c_sigma=0.2,
                    strategy="batched", workers=workers, seed=1, timeout_s=3600)
    wall = time.monotonic() - t0
    s = r.summary
    return (f"| VTEAM MC via monte_carlo(strategy='batched'), 1000 instances, 100+100 | {wall:.1f} s | "
            f"<= 60 s | d2d G_max {s['d2d_g_max_rel']:.3f}, step {s['d2d_step_rel']:.3f}; "
            f"c2c {s['c2c_sigma']:.2e} |")


def bench_fefet(workers):
    wall, cpu, per_worker, G = _batched_cpu("fefet", 100, 50, 0.05, 0.0, workers, per_device=True)
    return (f"| FeFET MC, 100 instances (d2d 5 %), 50+50 pulses, one netlist per device on {workers} workers | "
            f"wall {wall:.1f} s | CPU {cpu:.1f} s total, {per_worker:.1f} s per worker (= idle-machine wall) | "
            f"<= 90 s | G_max mean {G.max(axis=1).mean():.3g} S, d2d G_max {G.max(axis=1).std() / G.max(axis=1).mean():.3f} |")


def bench_energy(workers):
    from eqspike.devices.energy import write_energies
    from eqspike.devices.models import get_model
    from eqspike.devices.pulses import simulate_train
    rows = []
    for model, n in (("taox_rram", 127), ("fefet", 50), ("vteam", 100), ("ftj", 40)):
        spec = get_model(model)
        e, et = {}, {}
        for rel in ("1e-3", "1e-4", "1e-5"):
            run = simulate_train(spec, n_up=n, n_down=n, options=f".options method=gear reltol={rel}",
                                 keep_waveforms=True)
            s = run.schedule
            e[rel] = float(np.mean(run.write_energy_J[0]))
            # FeFET: gate term only (the drain is at 0 V during writes)
            tr = write_energies(run.time_s, run.drive_V, run.current_A[0], s.write_start_s,
                                s.write_end_s, rule="trapezoid")
            et[rel] = float(np.mean(tr))
        ch = lambda d, a, b: abs(d[a] - d[b]) / abs(d[b]) * 100  # noqa: E731
        rows.append(f"| {model}, {n}+{n} | {e['1e-3']:.4g} | {e['1e-4']:.4g} | {e['1e-5']:.4g} | "
                    f"{ch(e, '1e-4', '1e-5'):.2f} % | {ch(e, '1e-3', '1e-5'):.2f} % | "
                    f"{et['1e-3']:.4g} / {et['1e-4']:.4g} / {et['1e-5']:.4g} | {ch(et, '1e-3', '1e-5'):.1f} % |")
    head = ("| model, pulses | E/pulse reltol 1e-3 (J) | 1e-4 (used) | 1e-5 | change 1e-4 -> 1e-5 "
            "(target < 2 %) | change 1e-3 -> 1e-5 | plain trapezoid 1e-3 / 1e-4 / 1e-5 | trapezoid change "
            "1e-3 -> 1e-5 |\n|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


def bench_strategies(workers):
    from eqspike.devices.variability import compare_strategies
    rows = []
    for model, n, p in (("vteam", 20, 100), ("taox_rram", 20, 50), ("fefet", 10, 20), ("ftj", 10, 20)):
        r = compare_strategies(model, n, p, workers=workers)
        one = f"{r['one_netlist_s']:.1f} s" if r["one_netlist_s"] is not None else r.get("one_netlist_error")
        per = f"{r['per_device_s']:.1f} s" if r["per_device_s"] is not None else r.get("per_device_error")
        bat = f"{r['batched_s']:.1f} s" if r["batched_s"] is not None else r.get("batched_error")
        rows.append(f"| {model} | {n} | {p}+{p} | {one} | {bat} | {per} |")
    return ("| model | instances | pulses | one netlist (1 process) | batched (one netlist per worker) | "
            "per-device netlists |\n|---|---|---|---|---|---|\n"
            + "\n".join(rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("vteam", "vteam_api", "fefet", "energy", "strategies"), action="append")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    todo = args.only or ["vteam", "fefet", "energy", "strategies"]
    from eqspike.spice import ngspice_version
    print(f"machine: {platform.node()} {os.cpu_count()} cores, ngspice {ngspice_version()}, "
          f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for name in todo:
        before = load()
        out = {"vteam": bench_vteam, "vteam_api": bench_vteam_mc_api, "fefet": bench_fefet, "energy": bench_energy,
               "strategies": bench_strategies}[name](args.workers)
        print(f"\n## {name}\nload before: {before}\nload after:  {load()}\n\n{out}", flush=True)


if __name__ == "__main__":
    main()
