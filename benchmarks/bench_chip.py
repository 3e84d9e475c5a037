"""Benchmarks of chip-mode training (issue 11). Not a test: run by hand, record the output.

``accuracy``: MNIST 784-500-10 in chip mode (batch 1, coincidence pulses or a
B-bit residual) with a device profile (a JSON path, ``taox_rram`` / ``fefet``
characterised in ngspice, or ``ideal<N>`` = ideal linear device with N levels,
no noise), with the energy ledger (every chip operation priced) and the GPU
ratios; writes metrics CSV and summary JSON under benchmarks/results/chip/.

``speed``: seconds per epoch-slice of today's device-aware training
(simulator mode, accumulate policy, batch 20) and of chip mode, same device,
config and seed, alternating (simulator, chip, simulator, chip, ...) in one
process so that machine load hits both alike; reports the median ratio.

``sweep-plot``: heatmaps of the device-requirements sweep
(``sweeps/examples/chip_device_requirements.toml``): accuracy and training
energy vs levels and c2c, one panel per chip policy.

Examples::

    .venv/bin/python benchmarks/bench_chip.py accuracy --device taox_rram --policy residual --epochs 1
    .venv/bin/python benchmarks/bench_chip.py speed --device taox_rram --n-train 4000 --repeats 2
    .venv/bin/python benchmarks/bench_chip.py sweep-plot runs/sweeps/chip_device_requirements
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "chip"


def _load():
    from eqspike.datasets import load_dataset
    return load_dataset(os.environ.get("EQSPIKE_DATA_DIR"), progress=False)


def _cfg(n_train, n_test, epochs, hidden=500, seed=0, schedule="cosine"):
    from eqspike.network.config import TrainConfig
    return TrainConfig(sizes=(784, hidden, 10), rule="eqspike", epochs=epochs, n_train=n_train,
                       n_test=n_test, lrs=(0.1, 0.03), beta=1.0, seed=seed, lr_schedule=schedule,
                       rule_params={"compute": "event"})


def _device(spec: str):
    from eqspike.devices.profile import DeviceProfile
    if spec.startswith("ideal"):
        return DeviceProfile.ideal(n_levels=int(spec[5:] or 1024), write_energy_J=1.3e-12,
                                   pulse_up_V=1.6, name=spec)
    from eqspike.network.hardware import load_device
    return load_device(spec, progress=lambda m: None)[0]


def _circuits():
    from eqspike.network.hardware import load_crossbar, load_neuron
    quiet = lambda m: None  # noqa: E731
    return load_neuron("default", progress=quiet)[0], load_crossbar("default", progress=quiet)[0]


def _threads() -> int:
    import numba
    return int(numba.get_num_threads())


def _machine() -> str:
    import platform
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                     if ln.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} CPUs"


def load_avg() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def _train(cfg, data, device, neuron, xbar, mode, policy, bits, w_max, run_dir=None, on_epoch=None,
           resume=False):
    from eqspike.network.hardware import train_on_hardware
    from eqspike.network.policies.chip import ChipSynapseConfig
    from eqspike.network.synapses import DeviceSynapseConfig
    return train_on_hardware(cfg, data, device=device, neuron=neuron, crossbar=xbar,
                             syn_config=DeviceSynapseConfig(w_max=tuple(w_max), policy="accumulate"),
                             chip_config=ChipSynapseConfig(policy=policy, residual_bits=bits),
                             mode=mode, progress=False, run_dir=run_dir, on_epoch=on_epoch,
                             resume=resume)


def accuracy(args) -> None:
    import pandas as pd
    from eqspike import atomic
    data = _load()
    device = _device(args.device)
    neuron, xbar = _circuits()
    cfg = _cfg(args.n_train, args.n_test, args.epochs, seed=args.seed)
    tag = f"{Path(args.device).stem.replace('i11_', '')}_{args.mode}_{args.policy}" + (
        f"{args.bits}" if args.policy == "residual" else "") + (f"_e{args.epochs}" if args.epochs > 1 else "")
    run_dir = Path(args.run_dir) if args.run_dir else RESULTS / f"run_{tag}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"load before: {load_avg()}", flush=True)
    t0 = time.perf_counter()

    def on_epoch(row, net):
        print(f"epoch {int(row['epoch'])}: train {100 * row['train_acc']:.2f} %, test "
              f"{100 * row['test_acc']:.2f} %, {row['seconds']:.0f} s (load {load_avg()})", flush=True)

    res = _train(cfg, data, device, neuron, xbar, args.mode, args.policy, args.bits, args.w_max,
                 run_dir=run_dir, on_epoch=on_epoch, resume=args.resume)
    wall = time.perf_counter() - t0
    s = dict(res.summary)
    g = res.gpu
    h100 = g[g["reference"].str.contains("H100") & (g["baseline"] == "same EP relaxation")].iloc[0]
    bp = g[g["reference"].str.contains("H100") & (g["baseline"] == "feed-forward + backprop")].iloc[0]
    from eqspike.network.chip_costs import ChipCostConfig
    s.update({"wall_s": wall, "load_after": load_avg(), "device": args.device, "seed": args.seed,
              "h100_energy_per_training_example_J": float(h100["energy_per_training_example_J"]),
              "h100_ratio_training": float(h100["ratio_training"]),
              "h100_backprop_energy_per_training_example_J": float(bp["energy_per_training_example_J"]),
              "h100_backprop_ratio_training": float(bp["ratio_training"]),
              "register_file": ChipCostConfig().describe(args.bits if args.policy == "residual"
                                                         else None) if args.policy != "pulses"
              else "none (in-situ pulses)",
              "command": " ".join(sys.argv)})
    atomic.write_json(RESULTS / f"{tag}_summary.json", s)
    atomic.write_csv(RESULTS / f"{tag}_breakdown.csv", res.ledger.breakdown())
    atomic.write_csv(RESULTS / f"{tag}_metrics.csv", pd.DataFrame(res.train.metrics))
    print(json.dumps({k: s[k] for k in ("test_acc", "energy_per_training_example_J", "train_write_J",
                                        "h100_ratio_training", "h100_backprop_ratio_training",
                                        "wall_s", "load_after")}), flush=True)


def speed(args) -> None:
    from eqspike import atomic
    from eqspike.network.chip_threads import chip_threads
    data = _load()
    device = _device(args.device)
    neuron, xbar = _circuits()
    cfg = _cfg(args.n_train, 100, 1, schedule="constant")
    import numba
    n_thr = numba.get_num_threads()
    # chip mode with its worker threads (one per CPU) and on one thread (the scaling)
    modes = ("simulator", "chip", "chip_1thread") if n_thr > 1 else ("simulator", "chip")
    times = {m: [] for m in modes}
    cpu = {m: [] for m in modes}   # process CPU seconds of the same runs
    print(f"load before: {load_avg()}", flush=True)
    _train(cfg.with_updates(n_train=200), data, device, neuron, xbar, "chip", args.policy,
           args.bits, args.w_max)   # compile warm-up (cached kernels)
    _train(cfg.with_updates(n_train=200), data, device, neuron, xbar, "simulator", args.policy,
           args.bits, args.w_max)
    for rep in range(args.repeats):
        for mode in modes:
            c0 = time.process_time()
            numba.set_num_threads(1 if mode == "chip_1thread" else n_thr)
            res = _train(cfg, data, device, neuron, xbar, mode.split("_")[0], args.policy,
                         args.bits, args.w_max)
            numba.set_num_threads(n_thr)
            cpu[mode].append(time.process_time() - c0)
            times[mode].append(float(res.train.metrics["seconds"].iloc[0]))
            print(f"{mode}: {times[mode][-1]:.1f} s / {args.n_train} images (load {load_avg()})",
                  flush=True)
    med = {m: statistics.median(v) for m, v in times.items()}
    out = {"n_train": args.n_train, "device": args.device, "chip_policy": args.policy,
           "times_s": times, "median_s": med, "ratio_chip_over_simulator": med["chip"] / med["simulator"],
           "per_60k_epoch_s": {m: v * 60000 / args.n_train for m, v in med.items()},
           "cpu_s": cpu, "ratio_cpu_chip_over_simulator":
               statistics.median(cpu["chip"]) / statistics.median(cpu["simulator"]),
           "threads": _threads(), "chip_threads": chip_threads(),
           "chip_thread_scaling": med["chip_1thread"] / med["chip"] if "chip_1thread" in med
           else None, "machine": _machine(),
           "load_after": load_avg(), "command": " ".join(sys.argv)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    # one file per run (device, policy, register bits, UTC time): runs do not overwrite
    bits = f"{args.bits}" if args.policy == "residual" else ""
    stamp = time.strftime("%Y%m%d_%H%M", time.gmtime())
    atomic.write_json(RESULTS / f"speed_{Path(args.device).stem}_{args.policy}{bits}_{stamp}.json",
                      out)
    print(json.dumps(out), flush=True)


def sweep_plot(args) -> None:
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure
    from eqspike import atomic
    from eqspike.sweeps.store import read_results
    df = read_results(Path(args.folder))
    df = df[df["status"] == "ok"] if "status" in df else df
    pols = sorted(df["chip_policy"].unique())
    fig = Figure(figsize=(5 * len(pols), 8))
    for c, pol in enumerate(pols):
        d = df[df["chip_policy"] == pol]
        for r, (col, lab) in enumerate((("test_acc", "test accuracy (%)"),
                                        ("energy_per_train_example_J", "J / training example"))):
            piv = d.pivot_table(index="c2c_sigma", columns="n_levels", values=col)
            ax = fig.add_subplot(2, len(pols), r * len(pols) + c + 1)
            vals = piv.values * (100 if col == "test_acc" else 1)
            im = ax.imshow(vals if col == "test_acc" else np.log10(vals), origin="lower",
                           aspect="auto", cmap="viridis")
            ax.set_xticks(range(piv.shape[1]), [str(v) for v in piv.columns])
            ax.set_yticks(range(piv.shape[0]), [f"{100 * v:g} %" for v in piv.index])
            for i in range(piv.shape[0]):
                for j in range(piv.shape[1]):
                    txt = f"{vals[i, j]:.1f}" if col == "test_acc" else f"{vals[i, j]:.2g}"
                    ax.text(j, i, txt, ha="center", va="center", color="w", fontsize=8)
            ax.set_xlabel("device levels")
            ax.set_ylabel("c2c sigma (of range, per pulse)")
            ax.set_title(f"{pol}: {lab}" + ("" if col == "test_acc" else " (colour: log10)"),
                         fontsize=10)
            fig.colorbar(im, ax=ax)
    fig.tight_layout()
    out = Path(args.out)
    atomic.save_figure(out, fig)
    cols = ["chip_policy", "n_levels", "c2c_sigma", "test_acc", "energy_per_train_example_J",
            "pulses_per_train_example", "gpu_h100_ratio_training"]
    tab = df[[c for c in cols if c in df]].sort_values(["chip_policy", "c2c_sigma", "n_levels"])
    atomic.write_csv(out.with_suffix(".csv"), tab)
    print(pd.DataFrame(tab).to_string(index=False))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("accuracy", "speed"):
        p = sub.add_parser(name)
        p.add_argument("--device", default="taox_rram", help="JSON, taox_rram, fefet or idealN")
        p.add_argument("--policy", default="pulses", choices=("pulses", "residual", "residual_float"))
        p.add_argument("--bits", type=int, default=8, help="residual register bits")
        p.add_argument("--w-max", type=float, nargs="+", default=[0.07, 0.14])
        p.add_argument("--n-train", type=int, default=None if name == "accuracy" else 4000)
        p.add_argument("--seed", type=int, default=0)
        if name == "accuracy":
            p.add_argument("--n-test", type=int, default=None)
            p.add_argument("--epochs", type=int, default=1)
            p.add_argument("--mode", default="chip", choices=("chip", "simulator"))
            p.add_argument("--run-dir", default=None,
                           help="run folder (checkpoint after each epoch; default "
                                "benchmarks/results/chip/run_<tag>)")
            p.add_argument("--resume", action="store_true",
                           help="continue the run in --run-dir from its checkpoint")
        else:
            p.add_argument("--repeats", type=int, default=2)
    p = sub.add_parser("sweep-plot")
    p.add_argument("folder")
    p.add_argument("--out", default=str(HERE / "results" / "chip_device_requirements.png"))
    args = ap.parse_args(argv)
    if args.cmd != "sweep-plot":
        # threads set where the run starts, and printed (EQSPIKE_THREADS, default one per
        # CPU): the chip kernel runs as many workers (network/chip_threads.py)
        from eqspike import threads
        threads.configure(threads.ThreadConfig.from_env())
    {"accuracy": accuracy, "speed": speed, "sweep-plot": sweep_plot}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
