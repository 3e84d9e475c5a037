"""Energy attribution of ``eqspike validate`` (issue 13): ngspice against the ledger, term by term.

Reads a validation folder's per-image ngspice results (``images/<config>/img_*.json``; no
simulation) and the run folder, and prints two tables (Markdown):

1. **From the first comparison to the like-for-like one**, on the chip configuration: the ratio
   ngspice / ledger after each change, cumulatively: (a) the first estimate (spike row at the
   rate-independent floor, leakage, Joule heat of the reads at the layer's mean G); (b) adds the
   ledger's ``neuron active floor`` as the ledger priced it before issue 13 (every hidden neuron
   active for the whole phase); (c) the active floor on the neuron-steps with a positive membrane;
   (d) the input rows' reads at the G of the rows that spike (pixel intensities); (e) the model's
   spikes in ngspice's window (those registering at step T); (f) the row wire.
2. **Ablations on the same images**: ratio of neurons, reads and total per configuration.

    .venv/bin/python benchmarks/validation_energy.py RUN_DIR VALIDATION_DIR [--out FILE.md]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def _parts(net, counts, T, **kw):
    from eqspike.validation.compare import ledger_estimate
    return ledger_estimate(net, counts, T, **kw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("validation_dir")
    ap.add_argument("--out", default=None, help="also write the tables to this Markdown file")
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args(argv)
    from eqspike.validation.cli import _dataset
    from eqspike.validation.reference import free_phase
    from eqspike.validation.runfolder import load_run
    from eqspike.validation.runner import load_results

    net = load_run(a.run_dir)
    data, _ = _dataset(net, a.data_dir)
    T = int(net.cfg.T1)
    vdir = Path(a.validation_dir)
    configs = [p.name for p in sorted((vdir / "images").iterdir()) if p.is_dir()]
    res = {c: load_results(vdir, c, range(len(data.x_test))) for c in configs}
    idx = np.array(sorted(res.get("chip", next(iter(res.values()))).keys()))
    model = free_phase(net, data.x_test[idx])
    cnt = model.counts()
    off = model.offsets
    L = len(net.sizes) - 1
    lines = []

    # ---- 1. cumulative changes, chip configuration
    rows = []
    for b, i in enumerate(idx):
        r = res["chip"][int(i)]
        if "error" in r:
            continue
        sp_n = r["energy_neurons_J"]
        sp_r = r["energy_read_input_rows_J"] + r["energy_read_neuron_rows_J"]
        base = _parts(net, cnt[b], T)                                  # mean G, all neurons active
        act = _parts(net, cnt[b], T, active_steps=model.active_steps[b])
        actx = _parts(net, cnt[b], T, active_steps=model.active_steps[b], x=model.x[b])
        full = _parts(net, cnt[b], T, active_steps=model.active_steps[b], x=model.x[b],
                      counts_end=model.S_end[b])
        leak = base["ledger_leakage_J"]
        joule_mean = base["ledger_reads_J"] - base["ledger_row_wire_J"]
        steps = {
            "(a) first estimate: spike row at the floor + leakage + Joule at mean G":
                (base["ledger_spikes_J"] + leak, joule_mean),
            "(b) + active floor, every hidden neuron active (ledger before issue 13)":
                (base["ledger_neurons_J"], joule_mean),
            "(c) active floor on the neuron-steps with positive membrane":
                (act["ledger_neurons_J"], joule_mean),
            "(d) input reads at the G of the rows that spike":
                (actx["ledger_neurons_J"], actx["ledger_reads_J"] - actx["ledger_row_wire_J"]),
            "(e) spikes in ngspice's window (step T included)":
                (full["ledger_neurons_J"], full["ledger_reads_J"] - full["ledger_row_wire_J"]),
            "(f) + row wire (= the like-for-like comparison of eqspike validate)":
                (full["ledger_neurons_J"], full["ledger_reads_J"]),
        }
        for name, (ln, lr) in steps.items():
            rows.append({"step": name, "image": int(i), "spice_neurons_J": sp_n, "ledger_neurons_J": ln,
                         "spice_reads_J": sp_r, "ledger_reads_J": lr})
    df = pd.DataFrame(rows)
    df["r_n"] = df.spice_neurons_J / df.ledger_neurons_J
    df["r_r"] = df.spice_reads_J / df.ledger_reads_J
    df["r_t"] = (df.spice_neurons_J + df.spice_reads_J) / (df.ledger_neurons_J + df.ledger_reads_J)
    g = df.groupby("step", sort=False)
    lines += [f"## Chip configuration, {df.image.nunique()} images: ngspice / ledger after each change "
              "(cumulative; medians over the images, means in pJ)", "",
              "| change | ledger neurons (pJ) | ngspice / ledger, neurons | ledger reads (pJ) | "
              "ngspice / ledger, reads | ngspice / ledger, total |", "|---|---|---|---|---|---|"]
    for name, d in g:
        lines.append(f"| {name} | {1e12 * d.ledger_neurons_J.mean():.3f} | {d.r_n.median():.4f} | "
                     f"{1e12 * d.ledger_reads_J.mean():.3f} | {d.r_r.median():.4f} | {d.r_t.median():.4f} |")
    d0 = df[df.step == df.step.iloc[0]]
    lines += ["", f"ngspice means: neurons {1e12 * d0.spice_neurons_J.mean():.3f} pJ, read drivers "
              f"{1e12 * d0.spice_reads_J.mean():.3f} pJ per inference.", ""]

    # ---- 2. ablations on the images every configuration has
    common = sorted(set.intersection(*[{i for i, r in res[c].items() if "error" not in r} for c in configs]))
    pos = {int(i): b for b, i in enumerate(idx)}
    common = [i for i in common if i in pos]
    lines += [f"## Ablations on the same {len(common)} images (images {common[0]}..{common[-1]}): "
              "ngspice / ledger (like for like), medians", "",
              "| configuration | neurons | reads | total | total spikes ngspice vs model (window-aligned) |",
              "|---|---|---|---|---|"]
    from eqspike.validation.compare import aligned_steps
    for c in ["ideal", "ideal_wires", "linear", "chip"]:
        if c not in res:
            continue
        rn, rr, rt, ns, nm = [], [], [], 0, 0
        for i in common:
            b = pos[i]
            r = res[c][i]
            p = _parts(net, cnt[b], T, active_steps=model.active_steps[b], x=model.x[b],
                       counts_end=model.S_end[b])
            e_r = r["energy_read_input_rows_J"] + r["energy_read_neuron_rows_J"]
            rn.append(r["energy_neurons_J"] / p["ledger_neurons_J"])
            rr.append(e_r / p["ledger_reads_J"])
            rt.append(r["energy_total_J"] / p["ledger_simulated_blocks_J"])
            ns += sum(len(aligned_steps(s, T)) for k in range(1, L + 1) for s in r["spike_steps"][str(k)])
            nm += int(cnt[b, off[1]:].sum())
        lines.append(f"| {c} | {np.median(rn):.4f} | {np.median(rr):.4f} | {np.median(rt):.4f} | "
                     f"{100 * (ns - nm) / nm:+.2f} % |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        from eqspike import atomic
        atomic.write_text(Path(a.out), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
