"""Benchmarks of device-aware training (issue 6). Not a test: run by hand, record the output.

Two parts:

``speed``: seconds per epoch of EqSpike training with ideal float synapses
and with the characterised RRAM profile, same config and seed, on a subset
(bar: device-aware <= 1.5x ideal), plus the synapse backend's own cost per
``apply`` on the 784-500-10 weight shapes.  The two runs alternate
(ideal, device, ideal, device, ...) so that load from other users of the
machine hits both alike; the median of each is reported.

``accuracy``: MNIST 784-500-10 with the default characterised RRAM profile
(bar >= 97.0 %) and the 32-level FeFET profile (bar >= 95 %), with the
energy ledger; ``--n-train``/``--epochs`` shrink it to what fits.

Examples::

    .venv/bin/python benchmarks/bench_hardware.py speed --n-train 3000 --repeats 3
    .venv/bin/python benchmarks/bench_hardware.py accuracy --device taox_rram --epochs 12   # full
    .venv/bin/python benchmarks/bench_hardware.py accuracy --device fefet --n-train 10000 --epochs 1

Results are printed as Markdown and written as CSV/JSON under
benchmarks/results/hardware/ (copy the figures into
benchmarks/results/hardware.md with the command, machine load and date).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "hardware"


def _load():
    from eqspike.datasets import load_dataset
    return load_dataset(os.environ.get("EQSPIKE_DATA_DIR"), progress=False)


def _cfg(n_train, n_test, epochs, hidden=500, seed=0):
    from eqspike.network.config import TrainConfig
    return TrainConfig(sizes=(784, hidden, 10), rule="eqspike", epochs=epochs, n_train=n_train,
                       n_test=n_test, lrs=(0.1, 0.03), beta=1.0, seed=seed,
                       rule_params={"compute": "event"})   # else the rule's defaults, as `eqspike run`


def _syn_cfg(args):
    from eqspike.network.synapses import DeviceSynapseConfig
    return DeviceSynapseConfig(w_max=tuple(args.w_max), policy=args.policy)


def load_avg() -> str:
    try:
        return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "load average n/a"


def bench_backend(profile, syn_cfg, data, repeats: int = 20) -> tuple[float, float]:
    """(median seconds of one DeviceSynapses.apply, pulses per apply) on 784-500-10,
    replaying the dW of real EqSpike training batches (recorded with ideal synapses)."""
    from eqspike.network.model import IdealSynapses, Network
    from eqspike.network.synapses import DeviceSynapses
    from eqspike.network.trainer import train

    class Recorder(IdealSynapses):
        def __init__(self):
            self.dW = []

        def apply(self, net, dW, db):
            self.dW.append([d.copy() for d in dW])
            super().apply(net, dW, db)

    rec = Recorder()
    train(_cfg(20 * repeats, 100, 1), data, progress=False, synapses=rec)
    net = Network.init((784, 500, 10), np.random.default_rng(0))
    syn = DeviceSynapses(profile, syn_cfg)
    net.synapses = syn
    syn.attach(net)
    syn.take_counts()
    ts = []
    for dW in rec.dW:
        t = time.perf_counter()
        net.apply_update(dW, [None, None])
        ts.append(time.perf_counter() - t)
    pulses = sum(c[k] for c in syn.take_counts()
                 for k in ("up", "down", "refresh_up", "refresh_down")) / len(rec.dW)
    return statistics.median(ts), pulses


def speed(args) -> None:
    from eqspike.devices.characterize import default_profile
    from eqspike.network.synapses import DeviceSynapses
    from eqspike.network.trainer import train
    data = _load()
    prof = default_profile(args.device)
    cfg = _cfg(args.n_train, 500, 1)
    train(_cfg(200, 100, 1), data, progress=False)  # compile the numba kernels once
    times = {"ideal": [], "device": []}
    print(f"# speed: {args.n_train} images, 784-500-10, device {prof.name}; {load_avg()}", flush=True)
    for r in range(args.repeats):
        for kind in ("ideal", "device"):
            syn = DeviceSynapses(prof, _syn_cfg(args)) if kind == "device" else None
            res = train(cfg, data, progress=False, synapses=syn)
            s = float(res.metrics["seconds"].iloc[-1])
            times[kind].append(s)
            print(f"repeat {r + 1} {kind}: {s:.1f} s for {args.n_train} images ({load_avg()})", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    apply_s, pulses = bench_backend(prof, _syn_cfg(args), data)
    n_batches = -(-args.n_train // cfg.batch_size)
    out = {"n_train": args.n_train, "device": prof.name, "times_s": times, "median_s": med,
           "ratio": med["device"] / med["ideal"], "backend_apply_s": apply_s,
           "pulses_per_apply": pulses,
           "backend_share_of_device_epoch": apply_s * n_batches / med["device"],
           "load": load_avg()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(out, indent=2))
    print(f"\n| synapses | median s / {args.n_train} images | per 60k-image epoch (s) |\n|---|---|---|")
    for k in ("ideal", "device"):
        print(f"| {k} | {med[k]:.1f} | {med[k] * 60000 / args.n_train:.0f} |")
    print(f"\nratio device / ideal = {out['ratio']:.2f} (bar <= 1.5); backend apply "
          f"{1e3 * apply_s:.1f} ms per batch ({pulses:.0f} pulses, replayed EqSpike updates) = "
          f"{100 * out['backend_share_of_device_epoch']:.0f} % of the device epoch")


def accuracy(args) -> None:
    from eqspike.network.hardware import load_crossbar, load_device, load_neuron, train_on_hardware
    from eqspike.network.report import fmt_J
    data = _load()
    dev, d_note = load_device(args.device)
    neuron, n_note = load_neuron("default")
    xbar, x_note = load_crossbar("default")
    cfg = _cfg(args.n_train, args.n_test, args.epochs)
    t0 = time.time()

    def on_epoch(row, net):
        print(f"epoch {int(row['epoch'])}: train {100 * row['train_acc']:.2f} % test "
              f"{100 * row['test_acc']:.2f} % ({row['seconds']:.0f} s; {load_avg()})", flush=True)

    res = train_on_hardware(cfg, data, device=dev, neuron=neuron, crossbar=xbar,
                            syn_config=_syn_cfg(args), progress=False, on_epoch=on_epoch)
    tag = f"{dev.name if dev else 'ideal'}_{args.n_train or 60000}x{args.epochs}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    res.train.metrics.to_csv(RESULTS / f"metrics_{tag}.csv", index=False)
    res.ledger.breakdown().to_csv(RESULTS / f"energy_{tag}.csv", index=False)
    res.gpu.to_csv(RESULTS / f"gpu_{tag}.csv", index=False)
    (RESULTS / f"summary_{tag}.json").write_text(json.dumps(
        {**res.summary, "device": d_note, "neuron": n_note, "crossbar": x_note,
         "wall_s": time.time() - t0, "load": load_avg(), "w_max": list(args.w_max),
         "policy": args.policy}, indent=2, default=float))
    s = res.summary
    print(f"\n## {tag}: test accuracy {100 * s['test_acc']:.2f} %")
    print(f"energy per inference {fmt_J(s['energy_per_inference_J'])}, per training example "
          f"{fmt_J(s['energy_per_training_example_J'])} (writes {fmt_J(s['train_write_J'])})")
    for _, r in res.gpu.iterrows():
        print(f"- {r.reference}: {r.ratio_inference:.3g}x inference, {r.ratio_training:.3g}x training")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=("speed", "accuracy"))
    p.add_argument("--device", default="taox_rram", help="taox_rram | fefet | profile JSON")
    p.add_argument("--n-train", type=int, default=None, help="training images (default: all; speed: 3000)")
    p.add_argument("--n-test", type=int, default=None, help="test images (default: all)")
    p.add_argument("--epochs", type=int, default=12, help="epochs (accuracy part)")
    p.add_argument("--repeats", type=int, default=3, help="alternating repeats (speed part)")
    p.add_argument("--w-max", type=float, nargs="+", default=[0.07, 0.14],
                   help="w_max per weight layer (dimensionless)")
    p.add_argument("--policy", default="accumulate",
                   help="pulse policy (default: accumulate, as `eqspike run`)")
    args = p.parse_args(argv)
    if args.part == "speed":
        args.n_train = args.n_train or 3000
        speed(args)
    else:
        accuracy(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
