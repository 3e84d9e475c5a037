"""Re-price the recorded chip-mode runs with the per-neuron registers and refresh reads.

The chip-mode runs in ``benchmarks/results/chip/`` were priced before the
ledger counted the +beta trace registers, the bias registers, the restart
state and the refresh reads (``network/chip_costs.py``, module doc).  Those
operations do not change training: their counts follow from the
configuration (neurons, ``T2``, phases, examples) and from the recorded
refresh pulses, so the runs are re-priced here from their stored breakdowns
instead of being re-run.  Writes ``chip/neuron_register_repricing.csv`` and
prints a markdown table.

    .venv/bin/python benchmarks/reprice_chip_registers.py
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_chip as bc  # noqa: E402

RESULTS = HERE / "results" / "chip"
RUNS = (("ideal1024_chip_pulses_e12", "ideal1024"), ("taox_rram_chip_residual8_e12", "taox_rram"),
        ("fefet_chip_residual8_e3", "fefet"), ("fefet_chip_pulses", "fefet"))


def reprice(tag: str, device_spec: str, costs=None) -> dict:
    from eqspike.network import chip_costs as cc
    from eqspike.network.synapses import DeviceSynapseConfig
    costs = costs or cc.ChipCostConfig()
    s = json.loads((RESULTS / f"{tag}_summary.json").read_text())
    bd = pd.read_csv(RESULTS / f"{tag}_breakdown.csv")
    cfg = bc._cfg(None, None, 1)
    sizes, T2, batch = cfg.sizes, cfg.T2, cfg.batch_size
    n_ex = int(bd.loc[bd["phase"] == "free", "examples"].iloc[0])
    cnt = cc.neuron_register_counts(sizes, T2, 1, 2, True, n_ex)
    dev = bc._device(device_spec)
    units = cc.chip_unit_energies(sizes, dev, 8, "pulses", costs)
    _, xbar = bc._circuits()
    e = {key: float(np.sum(cnt[key] * units[key])) for key in cnt}
    # refresh: every refresh_every kernel calls (one call per trainer batch) over all epochs
    syn = DeviceSynapseConfig()
    calls = math.ceil(n_ex / batch)
    n_refresh = calls // syn.refresh_every if syn.refresh == "periodic" else 0
    scan = n_refresh * 2 * sum(sizes[k] * sizes[k + 1] for k in range(len(sizes) - 1))
    verify = float(bd.loc[bd["component"].isin(["pulses refresh_up", "pulses refresh_down"]), "count"].sum())
    e["refresh_reads"] = (scan + verify) * cc.refresh_read_J(
        float(xbar.joule_energy_J(dev.g_max_S)), costs)
    added = sum(e.values()) / n_ex
    old = float(s["energy_per_training_example_J"])
    new = old + added
    h100 = float(s["h100_energy_per_training_example_J"])   # the run's own H100 figures
    bp = float(s.get("h100_backprop_energy_per_training_example_J", np.nan))   # absent: 1st session
    return {"run": tag, "test_acc": s["test_acc"], "examples": n_ex,
            "old_energy_per_training_example_J": old,
            **{f"{k}_J_per_example": v / n_ex for k, v in e.items()},
            "added_J_per_example": added, "energy_per_training_example_J": new,
            "h100_same_ep_ratio_old": h100 / old, "h100_same_ep_ratio": h100 / new,
            "h100_backprop_ratio_old": bp / old, "h100_backprop_ratio": bp / new}


def main() -> int:
    from eqspike import atomic
    rows = [reprice(tag, dev) for tag, dev in RUNS if (RESULTS / f"{tag}_summary.json").exists()]
    df = pd.DataFrame(rows)
    atomic.write_csv(RESULTS / "neuron_register_repricing.csv", df)
    print("| run | test acc | old nJ/ex | traces nJ | bias nJ | restart nJ | refresh reads nJ | "
          "new nJ/ex | H100 same EP | H100 backprop |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tr = r["trace_spike_bits_J_per_example"] + r["trace_values_J_per_example"]
        print(f"| {r['run']} | {100 * r['test_acc']:.2f} % | {1e9 * r['old_energy_per_training_example_J']:.1f} | "
              f"{1e9 * tr:.1f} | {1e9 * r['bias_rmw_J_per_example']:.1f} | "
              f"{1e9 * r['restart_values_J_per_example']:.1f} | {1e9 * r['refresh_reads_J_per_example']:.2f} | "
              f"{1e9 * r['energy_per_training_example_J']:.1f} | "
              f"{r['h100_same_ep_ratio_old']:.0f}x -> {r['h100_same_ep_ratio']:.0f}x | " +
              (f"{r['h100_backprop_ratio_old']:.1f}x -> {r['h100_backprop_ratio']:.1f}x |"
               if np.isfinite(r["h100_backprop_ratio"]) else "not recorded |"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
