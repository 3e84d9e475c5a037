"""Energy per training example of recorded chip-mode runs, with the register-file what-if.

Reads ``benchmarks/results/chip/<tag>_breakdown.csv`` and ``<tag>_summary.json``
(written by ``bench_chip.py accuracy``) and prints: the energy per training
example as priced by the run (its register-file configuration), the
residual-register part, the ratios to an H100 running the same EP training and
the feed-forward + backprop baseline, and the what-if of the other
register-file organisation (``per_layer``: one SRAM per layer), re-priced from
the same recorded RMW counts with :func:`eqspike.network.chip_costs.register_rmw_J`
(a computation on measured counts, not a run).

    .venv/bin/python benchmarks/chip_energy_table.py taox_rram_chip_residual8_e12 ideal1024_chip_pulses_e12
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "chip"


def main(tags) -> int:
    from eqspike.network import chip_costs as cc
    for tag in tags:
        s = json.loads((RESULTS / f"{tag}_summary.json").read_text())
        bd = pd.read_csv(RESULTS / f"{tag}_breakdown.csv")
        e = s["energy_per_training_example_J"]
        h = s["h100_energy_per_training_example_J"]
        bp = s.get("h100_backprop_energy_per_training_example_J")
        print(f"{tag}: test {100 * s['test_acc']:.2f} %, {e * 1e9:.1f} nJ / training example, "
              f"vs H100 same EP {h / e:.0f}x" + (f", vs H100 backprop {bp / e:.1f}x" if bp else ""))
        print(f"   register file: {s.get('register_file', 'n/a')}")
        w = bd[bd["phase"] == "write"].groupby("component")["energy_per_example_J"].sum()
        for comp, v in w.sort_values(ascending=False).items():
            if v > 0:
                print(f"   {comp}: {v * 1e9:.2f} nJ")
        rmw = bd[bd["component"].str.startswith("residual register RMW")]
        if len(rmw):
            bits = int(s.get("residual_bits", 8))
            sizes = [784, 500, 10]
            alt = cc.ChipCostConfig(register_file="per_layer")
            new = sum(r.count_per_example * cc.register_rmw_J(bits, sizes[k] * sizes[k + 1], alt)
                      for k, r in enumerate(rmw.itertuples()))
            old = float(rmw["energy_per_example_J"].sum())
            e_alt = e - old + new
            print(f"   what-if per_layer registers (one SRAM per layer, 392 KB for W0): RMW "
                  f"{new * 1e9:.1f} nJ, total {e_alt * 1e9:.1f} nJ, vs H100 same EP {h / e_alt:.0f}x"
                  + (f", vs backprop {bp / e_alt:.2f}x" if bp else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
