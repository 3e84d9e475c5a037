"""Round trip of the many-devices x many-cycles fit over many seeds (issue 15).

For each case, profile -> simulate_cycles (the toolkit's own Monte Carlo of the
network's device law) -> long CSV -> fit_cycles; records per seed the fitted c2c,
d2d, G_min, G_max against what the Monte Carlo realised and against the
profile's nominal values, and whether the 95 % intervals cover the nominal.

    python benchmarks/bench_fit_cycles.py --seeds 30 --out benchmarks/results/fit_cycles.csv
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np
import pandas as pd
from tqdm import tqdm

from eqspike.atomic import write_csv
from eqspike.devices.fit_cycles import fit_cycles, simulate_cycles
from eqspike.devices.profile import DeviceProfile

CASES = {  # name: (nl_ltp, nl_ltd, levels, c2c, d2d, read noise)
    "nl1_c2c0.01_d2d0.1": (1.0, -1.0, 33, 0.01, 0.1, 0.0),
    "nl0_c2c0.02_d2d0.2": (0.0, 0.0, 33, 0.02, 0.2, 0.0),
    "nl3_c2c0.005_d2d0.05": (3.0, -3.0, 65, 0.005, 0.05, 0.0),
    "nl1_c2c0.01_d2d0.1_read0.005": (1.0, -1.0, 33, 0.01, 0.1, 0.005),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=30, help="seeds per case (default 30)")
    ap.add_argument("--devices", type=int, default=20, help="devices (default 20)")
    ap.add_argument("--cycles", type=int, default=5, help="cycles (default 5)")
    ap.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200)")
    ap.add_argument("--out", default="benchmarks/results/fit_cycles.csv", help="per-seed CSV")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, (nu, nd, L, c2c, d2d, rn) in CASES.items():
            prof = DeviceProfile.from_neurosim(nu, nd, L, 1e-6, 1e-5, c2c_sigma=c2c, d2d_sigma=d2d)
            for seed in tqdm(range(args.seeds), desc=case):
                df, truth = simulate_cycles(prof, n_devices=args.devices, n_cycles=args.cycles,
                                            seed=seed, read_noise_sigma=rn)
                path = os.path.join(tmp, "c.csv")
                df.to_csv(path, index=False)
                t0 = time.perf_counter()
                fit = fit_cycles(path, n_boot=args.bootstrap, seed=seed)
                wall = time.perf_counter() - t0
                e, ci = fit.summary["estimates"], fit.summary["ci95"]
                rows.append({
                    "case": case, "seed": seed, "fit_s": wall,
                    "c2c_fit": e["c2c_sigma"], "c2c_realised": truth["c2c_realised"], "c2c_nominal": c2c,
                    "d2d_fit": e["d2d_sigma"], "d2d_realised": truth["d2d_realised"], "d2d_nominal": d2d,
                    "g_min_fit_S": e["g_min_S"], "g_min_true_S": truth["g_min_S"],
                    "g_max_fit_S": e["g_max_S"], "g_max_realised_S": truth["g_max_realised_S"],
                    "c2c_ci_covers_nominal": ci["c2c_sigma"][0] <= c2c <= ci["c2c_sigma"][1],
                    "d2d_boot_ci_covers_nominal": ci["d2d_sigma"][0] <= d2d <= ci["d2d_sigma"][1],
                    "d2d_chi2_ci_covers_nominal": ci["d2d_sigma_chi2"][0] <= d2d <= ci["d2d_sigma_chi2"][1],
                    "r2_min": fit.summary["goodness_of_fit"]["r2_min"]})
    df = pd.DataFrame(rows)
    write_csv(args.out, df)
    rel = lambda a, b: (df[a] / df[b] - 1).abs()  # noqa: E731
    summary = df.assign(
        c2c_in15_realised=rel("c2c_fit", "c2c_realised") <= 0.15,
        c2c_in15_nominal=rel("c2c_fit", "c2c_nominal") <= 0.15,
        d2d_in15_realised=rel("d2d_fit", "d2d_realised") <= 0.15,
        d2d_in15_nominal=rel("d2d_fit", "d2d_nominal") <= 0.15,
        bounds_in2=(rel("g_min_fit_S", "g_min_true_S") <= 0.02) & (rel("g_max_fit_S", "g_max_realised_S") <= 0.02),
        c2c_err_realised_max=rel("c2c_fit", "c2c_realised"),
        d2d_err_realised_max=rel("d2d_fit", "d2d_realised"),
    ).groupby("case").agg(
        n=("seed", "size"), c2c_in15_realised=("c2c_in15_realised", "mean"),
        c2c_in15_nominal=("c2c_in15_nominal", "mean"), d2d_in15_realised=("d2d_in15_realised", "mean"),
        d2d_in15_nominal=("d2d_in15_nominal", "mean"), bounds_in2=("bounds_in2", "mean"),
        c2c_err_realised_max=("c2c_err_realised_max", "max"),
        d2d_err_realised_max=("d2d_err_realised_max", "max"),
        c2c_ci_cov=("c2c_ci_covers_nominal", "mean"), d2d_boot_cov=("d2d_boot_ci_covers_nominal", "mean"),
        d2d_chi2_cov=("d2d_chi2_ci_covers_nominal", "mean"), fit_s=("fit_s", "mean"))
    print(f"machine: {platform.node()} {os.cpu_count()} cores; devices {args.devices}, cycles "
          f"{args.cycles}, bootstrap {args.bootstrap}, seeds 0..{args.seeds - 1}")
    print(summary.to_string(float_format=lambda v: f"{v:.3g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
