"""``eqspike validate RUN_DIR``: re-simulate a trained network in ngspice and compare.

Steps: read the run folder (:mod:`.runfolder`); run the vectorised model's
free phase on K test images with every spike recorded (:mod:`.reference`);
build one netlist per image and circuit configuration with the model's own
input spikes (:mod:`.netlist`); run them in worker processes, resumable per
image (:mod:`.runner`); compare (:mod:`.compare`) and write the report
(:mod:`.report`).
"""
from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
from pathlib import Path

#: circuit configurations: (synapse, wires, what it tests)
CONFIGS = {
    "chip": ("compact", "resistive", "compact-model read I-V at the programmed state, resistive columns"),
    "linear": ("linear", "resistive", "linear resistors of the same read G, resistive columns (ablation: read I-V)"),
    "ideal_wires": ("compact", "ideal", "compact-model cells, ideal wires (ablation: IR drop)"),
    "ideal": ("linear", "ideal", "linear cells, ideal wires: only the neuron circuit and continuous time differ "
                                "from the model (ablation: neuron)"),
}

_EPILOG = """\
Units: resistances in ohm, capacitances in F, times in s, energies in J.

The run folder is what `eqspike run --out DIR` writes (checkpoint.npz,
config.json, neuron/crossbar/device profiles).  The 784-500-10 network of
`eqspike run` is far too large to simulate whole (2 x 397,000 cells); train a
small one with the same toolkit (benchmarks/bench_validate.py train: MNIST
14 x 14, 196-16-10) and validate that (docs/validation.md).

Output folder (--out, default RUN_DIR/validation): report.md, summary.csv,
images.csv, neurons.csv, spike_counts.png, per_image.png, energy.png and
images/<configuration>/img_*.json (one per image: a rerun with --resume
continues from them).
"""


def register(subparsers) -> None:
    from eqspike.cli import HelpFormatter
    p = subparsers.add_parser(
        "validate", help="re-simulate a trained network's inference in ngspice and compare with the model",
        description="Build the ngspice netlist of a trained network's free phase (device pairs at the\n"
                    "held conductances, resistive columns, transistor-level neurons, feedback arrays),\n"
                    "run K test images and compare class, spike counts, first-spike times and energy\n"
                    "with the vectorised model on the same input spikes.",
        epilog=_EPILOG, formatter_class=HelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="trained run folder (eqspike run --out)")
    p.add_argument("--images", type=int, default=50, help="test images K")
    p.add_argument("--first", type=int, default=0, help="index of the first test image")
    p.add_argument("--configs", default="chip", metavar="LIST",
                   help=f"circuit configurations on all K images, comma-separated; known: {', '.join(CONFIGS)}")
    p.add_argument("--ablations", default="linear,ideal_wires,ideal", metavar="LIST",
                   help="configurations run on the first --ablation-images images ('' for none)")
    p.add_argument("--ablation-images", type=int, default=10, help="images of each ablation")
    p.add_argument("--workers", type=int, default=2, help="ngspice worker processes (one engine each)")
    p.add_argument("--time-limit", type=float, default=900.0, metavar="S",
                   help="wall-clock limit per image, s: each of its ngspice runs gets what is left of "
                        "it (a run that does not converge is retried at most twice, each try with that limit)")
    p.add_argument("--r-wire-ohm", type=float, default=None, metavar="OHM",
                   help="column wire resistance per cell for resistive wires, ohm (None: the crossbar "
                        "profile's, or 10 ohm when it has none)")
    p.add_argument("--c-wire", type=float, default=None, metavar="F",
                   help="wire capacitance per cell, F (None: the crossbar characterisation's)")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding mnist/ (default: $EQSPIKE_DATA_DIR)")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (None: RUN_DIR/validation)")
    p.add_argument("--resume", action="store_true",
                   help="continue the validation in --out: images already simulated are kept and skipped")
    p.add_argument("--overwrite", action="store_true",
                   help="clear --out first (its earlier validation's files are removed)")
    p.add_argument("--retry-failed", action="store_true", help="with --resume: rerun images whose earlier run failed")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=main)


def _say(msg: str) -> None:
    from tqdm import tqdm
    tqdm.write(f"eqspike validate: {msg}")
    sys.stdout.flush()


def _names(text: str, option: str) -> list[str]:
    from eqspike.errors import ParameterError
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in CONFIGS]
    if bad:
        raise ParameterError(f"{option} = {text!r}: unknown configuration(s) {', '.join(bad)}; "
                             f"known: {', '.join(CONFIGS)}")
    return names


def _dataset(net, data_dir):
    """The test images of the run's dataset (config.json names it)."""
    import json

    from eqspike.errors import DataError
    from .small_net import downsample, tiny_dataset
    name = "mnist"
    cfg = net.run_dir / "config.json"
    if cfg.exists():
        name = json.loads(cfg.read_text()).get("dataset", {}).get("name", name)
    if name == "tiny":
        return tiny_dataset(), name
    if name.startswith("mnist"):
        from eqspike.datasets import load_dataset
        data = load_dataset(data_dir, progress=False)
        if name == "mnist":
            return data, name
        side = int(name.split("-")[1].split("x")[0])
        return downsample(data, 28 // side), name
    raise DataError(f"run folder {net.run_dir}: dataset {name!r} is not one validate can rebuild "
                    "(mnist, mnist-14x14, tiny)")


def _check(args) -> None:
    from eqspike.errors import ParameterError
    for name, v, lo, hi in (("--images", args.images, 1, 10000), ("--first", args.first, 0, 10 ** 6),
                            ("--ablation-images", args.ablation_images, 0, 10000),
                            ("--workers", args.workers, 1, 64)):
        if not (lo <= v <= hi):
            raise ParameterError(f"{name} = {v!r} is outside the allowed range [{lo}, {hi}]")
    if not (args.time_limit > 0):
        raise ParameterError(f"--time-limit = {args.time_limit!r} must be > 0 s")


def main(args) -> int:
    """Check the arguments and claim the output folder before any work, then validate."""
    from eqspike import outdir
    from eqspike.errors import DataError
    _check(args)
    if not Path(args.run_dir).is_dir():
        raise DataError(f"run folder {str(args.run_dir)!r} does not exist or is not a folder")
    out = Path(args.out) if args.out else Path(args.run_dir) / "validation"
    with outdir.claim(out, "--out", resume=args.resume, overwrite=args.overwrite, what="validation",
                      command="eqspike validate") as out:
        return _validate(args, out)


def _validate(args, out: Path) -> int:
    import numpy as np
    import pandas as pd

    from eqspike import atomic
    from eqspike.errors import ParameterError
    from . import compare, report
    from .netlist import CircuitOptions, network_scale
    from .reference import free_phase
    from .runfolder import load_run
    from .runner import Task, load_results, run_tasks

    configs = _names(args.configs, "--configs")
    ablations = [c for c in _names(args.ablations, "--ablations") if c not in configs]
    t0 = time.perf_counter()
    load0 = report_load()
    net = load_run(args.run_dir)
    compact_ok = net.device_model in ("taox_rram", "pku_rram")
    if not compact_ok:
        dropped = [c for c in configs + ablations if CONFIGS[c][0] == "compact"]
        if dropped:
            _say(f"synapses have no compact read model ({net.notes['synapses']}): "
                 f"skipping {', '.join(dropped)}; the chip configuration uses linear cells")
        configs = [c for c in configs if CONFIGS[c][0] != "compact"] or ["linear"]
        ablations = [c for c in ablations if CONFIGS[c][0] != "compact"]
    data, ds_name = _dataset(net, args.data_dir)
    n_test = len(data.x_test)
    if args.first + args.images > n_test:
        raise ParameterError(f"--first + --images = {args.first + args.images} exceeds the {n_test} test images")
    idx = np.arange(args.first, args.first + args.images)
    x = data.x_test[idx]
    model = free_phase(net, x)
    model.index_of = {int(i): b for b, i in enumerate(idx)}
    model.labels = data.y_test[idx]
    xb_par = (net.crossbar.provenance or {}).get("parameters", {})
    r_wire = args.r_wire_ohm if args.r_wire_ohm is not None else (net.crossbar.wire_resistance_ohm or 10.0)
    c_wire = args.c_wire if args.c_wire is not None else float(xb_par.get("c_wire_F", 0.1e-15))
    base = CircuitOptions(r_wire_ohm=r_wire, c_wire_F=c_wire)
    tasks, plan = [], {}
    for c in ablations + configs:   # the short ablation runs first: a cut-short validation has them
        syn, wires, _ = CONFIGS[c]
        opts = dataclasses.replace(base, synapse=syn, wires=wires)
        n = args.images if c in configs else min(args.ablation_images, args.images)
        plan[c] = (opts, idx[:n])
        tasks += [Task(net, c, opts, int(i), model.layer(0)[:, b, :], out, args.time_limit)
                  for b, i in enumerate(idx[:n])]
    # image-major: a validation cut short holds the same images in every ablation
    order = {c: n for n, c in enumerate(ablations + configs)}
    tasks.sort(key=lambda t: (t.index, order[t.config]))
    T = int(net.cfg.T1)
    _say(f"{len(tasks)} image runs ({', '.join(f'{c}: {len(v[1])}' for c, v in plan.items())}) "
         f"on {args.workers} worker(s); results in {out}")
    status = run_tasks(tasks, workers=args.workers, retry_failed=args.retry_failed,
                       progress=not args.no_progress, say=_say)
    imgs, neus = [], []
    plan = {c: plan[c] for c in configs + ablations}
    for c, (opts, ii) in plan.items():
        im, ne = compare.image_rows(net, model, load_results(out, c, ii), c, T)
        imgs.append(im)
        neus.append(ne)
    images = pd.concat(imgs, ignore_index=True)
    neurons = pd.concat(neus, ignore_index=True)
    if neurons.empty:
        raise ParameterError(f"no image could be simulated ({len(status['failed'])} failed; first: "
                             f"{status['failed'][0][2] if status['failed'] else 'none'})")
    summary = compare.summarize(images, neurons)
    atomic.write_csv(out / "images.csv", images)
    atomic.write_csv(out / "neurons.csv", neurons)
    atomic.write_csv(out / "summary.csv", summary)
    report.plot_spike_scatter(neurons, out / "spike_counts.png")
    report.plot_images(images, out / "per_image.png")
    report.plot_energy(images, out / "energy.png")
    sc = network_scale(net, base)
    n_cells = next((r.get("n_cells") for r in load_results(out, configs[0], idx[:1]).values()), 0)
    ctx = {"command": "eqspike " + " ".join(sys.argv[1:]) if "eqspike" in (sys.argv[0] if sys.argv else "")
           else "eqspike validate " + str(args.run_dir),
           "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
           "machine": f"{platform.node()} ({platform.machine()}, {_cores()} cores)",
           "load_before": load0, "load_after": report_load(), "wall_s": time.perf_counter() - t0,
           "workers": args.workers, "T": T, "step_s": sc.step_s, "n_cells": n_cells,
           "q_unit_C": sc.i_unit_A[0] * net.rule_options().theta * sc.step_s,
           "dataset": ds_name, "first": args.first, "images": args.images, "chip_config": configs[0],
           "config_text": {c: CONFIGS[c][2] + (f" ({len(v[1])} images)") for c, v in plan.items()},
           "assumptions": assumptions(net, base)}
    report.write_report(out, net=net, summary=summary, images=images, context=ctx)
    cols = ["config", "images", "class_agreement", "spike_count_median_rel_diff", "energy_ratio_median"]
    print(summary[cols].to_string(index=False))
    print(f"report: {out / 'report.md'}")
    return 0 if not status["failed"] else 1


def assumptions(net, opts) -> list[str]:
    """What the netlist idealises, stated in every report."""
    return [
        "Input pixels' spikes are the model's own sigma-delta spikes of the image (ideal PWL drivers); "
        "the input encoder neurons are not simulated (their ledger energy is listed apart).",
        "Membrane = behavioural leaky integrator (C_u, R_u, tau = step / eps) fed by ideal current mirrors "
        "(+ column minus - column) and an ideal bias current; transconductor = behavioural, "
        "input_scale_A * clip(u, 0, 1) (an OTA saturating at its tail current). Not priced in ngspice nor "
        "in the ledger; a DPI/OTA-C integrator at ~10 nA bias would add ~18 nW per neuron, "
        "~1 pJ per neuron per inference of this length.",
        "Column ends are ideal virtual grounds (a current conveyor not modelled)"
        + (f", input resistance {opts.r_in_ohm:g} ohm" if opts.r_in_ohm else "") + ".",
        "Hidden/output rows are driven by a behavioural one-shot (pulse of the crossbar's effective width "
        "at each rising edge of the neuron output); its logic is not priced, its driver's supply is "
        "(V_read x sourced charge).",
        f"Resistive wires: {opts.r_wire_ohm:g} ohm per cell along each column, {opts.c_wire_F:g} F per cell on "
        "rows and columns; row wire resistance is not modelled.",
        "Compact cells: the device's read I-V at its programmed state (PKU/TaOx equation as an antiparallel "
        "ideal-diode pair, the series resistance folded into the prefactor to first order, < 1e-4 over "
        "0..V_read); the state is held during the read: read disturb is not simulated (not measured here).",
        "Two stages per image: the input array alone under the input pulses (one netlist per layer-1 "
        "neuron's column pair: rows are ideal sources, so columns are independent), then the neurons and "
        "upper arrays with each step's measured net column charge injected as a trapezoid at the input "
        "pulse's time (exact for the charge; the pulse's shape within its 10 ns is not carried over).",
        "Feedback W^T: a second array holding the same conductances transposed (two arrays, not one read "
        "both ways); the ledger counts the same feedback events.",
        "One corner (TT, 27 C), no device noise during reads, bias generator and supplies ideal; "
        "the spike generators' bias branch power (vddb) is not in the energy (as in the neuron profile).",
        "Energy, like for like (docs/validation.md): ngspice's vdd against the ledger's spikes, active "
        "floor and leakage of layers 1..L; its read drivers against the ledger's synaptic events and row "
        "wire.  The ledger is given the model's spikes in ngspice's window (those registering at step T "
        "included), the image's pixels (the input rows' read conductance) and each neuron's steps with a "
        "positive membrane (the active floor).  Listed apart, not in the netlist: input encoders, bias "
        "generators (the netlist's one bias branch is ideal), line holds (ideal virtual grounds) and the "
        "read-out conveyance (columns held at 0 V).",
    ]


def report_load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _cores() -> int:
    import os
    return os.cpu_count() or 1
