"""Benchmark of ``eqspike validate`` (issue 13). Not a test: run by hand, record the output.

``train``: trains the network that is validated: MNIST at 14 x 14
(196 inputs, 2 x 2 mean pooling), 196-H-10, with the characterised TaOx
RRAM pairs (accumulate policy), the Axon-Hillock neuron's f-I curve and
the characterised crossbar, i.e. ``eqspike run``'s recipe at a size that
ngspice can simulate whole (docs/validation.md says why).

``validate``: ``eqspike validate RUN_DIR --images K ...`` on it (the same
code path as the CLI), with the load before and after.

Examples::

    nice -n 5 .venv/bin/python benchmarks/bench_validate.py train --out benchmarks/results/validation/run_196_16_10
    nice -n 5 .venv/bin/eqspike validate benchmarks/results/validation/run_196_16_10 --images 50 \\
        --out benchmarks/results/validation/report_196_16_10

Results: benchmarks/results/validation.md (command, machine, load, wall time).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=("train",))
    ap.add_argument("--out", required=True, help="run folder to write")
    ap.add_argument("--hidden", type=int, default=16, help="hidden neurons (default 16)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs (default 3)")
    ap.add_argument("--n-train", type=int, default=None, help="training images (default all 60,000)")
    ap.add_argument("--n-test", type=int, default=2000, help="test images for the accuracy (default 2,000)")
    ap.add_argument("--T1", type=int, default=40, help="free-phase steps (default 40)")
    ap.add_argument("--T2", type=int, default=16, help="nudged-phase steps (default 16)")
    ap.add_argument("--w-max", type=float, nargs=2, default=(0.25, 0.5),
                    help="weight of one device's full range per layer (default 0.25 0.5)")
    ap.add_argument("--lr", type=float, nargs=2, default=(0.1, 0.05), help="learning rates (default 0.1 0.05)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    from eqspike.datasets import load_dataset
    from eqspike.network.config import TrainConfig
    from eqspike.network.synapses import DeviceSynapseConfig
    from eqspike.validation.cli import report_load as load_avg
    from eqspike.validation.small_net import downsample, train_run
    data = downsample(load_dataset(os.environ.get("EQSPIKE_DATA_DIR"), progress=False), 2)
    cfg = TrainConfig(sizes=(196, a.hidden, 10), rule="eqspike", epochs=a.epochs, n_train=a.n_train,
                      n_test=a.n_test, T1=a.T1, T2=a.T2, lrs=tuple(a.lr), beta=1.0, seed=a.seed,
                      lr_schedule="cosine")
    syn = DeviceSynapseConfig(policy="accumulate", w_max=tuple(a.w_max), seed=a.seed)
    t0, l0 = time.perf_counter(), load_avg()
    res = train_run(cfg, data, a.out, syn_config=syn, progress=True)
    rec = {"command": "python " + " ".join(sys.argv), "load_before": l0, "load_after": load_avg(),
           "wall_s": time.perf_counter() - t0, "test_acc": res.summary["test_acc"],
           "train_acc": res.summary["train_acc"], "sizes": list(cfg.sizes), "T1": cfg.T1,
           "energy_per_inference_J": res.summary["energy_per_inference_J"]}
    Path(a.out, "train_benchmark.json").write_text(json.dumps(rec, indent=2))
    print(json.dumps(rec, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
