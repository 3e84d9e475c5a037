"""Where a training batch of the event path spends its wall time, per thread count.

Times, per mini-batch of 20 (784-500-10, the ``eqspike`` rule's defaults, fused
free + nudged call), the compiled kernel (``event_train._train_event``, its
dispatch included; by default it also applies the weight update, ideal synapses),
the weight update when it runs after the kernel (``event_batch.apply_buffers``,
``--apply-after``) and the rest (Python and numpy around them: the serial part), at each thread count of
``--threads`` in turn (repeated ``--rounds`` times, alternating).  Used for the
thread-scaling analysis of issue 14 (``benchmarks/results/eqspike.md``).

Usage (on an otherwise idle machine):
  EQSPIKE_DATA_DIR=... .venv/bin/python benchmarks/profile_event_batch.py --n-train 3000
  OMP_WAIT_POLICY=ACTIVE ... profile_event_batch.py --n-train 2000   # wait-policy what-if
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from eqspike import threads
from eqspike.datasets import load_dataset
from eqspike.network import event as ev
from eqspike.network import event_train as evtrain
from eqspike.network.config import TrainConfig
from eqspike.network.model import Network
from eqspike.network.rules import get_rule


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-train", type=int, default=3000, help="training images per round")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    ap.add_argument("--data-dir", default=None, help="folder holding mnist/")
    ap.add_argument("--apply-after", action="store_true",
                    help="weight update in its own pass after the kernel (the rule's "
                         "fuse_apply = False) instead of inside it")
    args = ap.parse_args(argv)
    if args.n_train < 20 or args.n_train % 20:
        ap.error(f"--n-train = {args.n_train}: need a positive multiple of 20 (the batch)")
    threads.configure(threads.ThreadConfig.from_env())
    import numba
    data = load_dataset(args.data_dir, progress=False)
    clock = {"kernel": 0.0, "apply": 0.0}
    kern, apply = evtrain._train_event, ev.apply_buffers

    def timed_kernel(*a):
        t = time.perf_counter()
        kern(*a)
        clock["kernel"] += time.perf_counter() - t

    def timed_apply(*a, **k):
        t = time.perf_counter()
        apply(*a, **k)
        clock["apply"] += time.perf_counter() - t

    evtrain._train_event, ev.apply_buffers = timed_kernel, timed_apply
    n = args.n_train
    x = np.ascontiguousarray(data.x_train[:n])
    Y = np.eye(data.n_classes, dtype=np.float32)[data.y_train[:n]]
    for _ in range(args.rounds):
        for th in [int(t) for t in args.threads.split(",")]:
            numba.set_num_threads(th)
            cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.05), batch_size=20,
                              rule_params={"compute": "event"})
            net = Network.init(cfg.sizes, np.random.default_rng(0))
            rule = get_rule("eqspike")(cfg, np.random.default_rng(1))
            rule.fuse_apply = not args.apply_after
            rule.train_batch(net, x[:20], Y[:20], cfg.lrs)   # compile / warm-up
            clock.update(kernel=0.0, apply=0.0)
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(0, n, 20):
                rule.train_batch(net, x[i:i + 20], Y[i:i + 20], cfg.lrs)
            w, c = time.perf_counter() - t0, time.process_time() - c0
            nb = n / 20
            print(json.dumps({"threads": th, "apply_after": args.apply_after, "batch_ms": 1e3 * w / nb, "cpu_ms": 1e3 * c / nb,
                              "kernel_ms": 1e3 * clock["kernel"] / nb,
                              "apply_ms": 1e3 * clock["apply"] / nb,
                              "other_ms": 1e3 * (w - clock["kernel"] - clock["apply"]) / nb}),
                  flush=True)


if __name__ == "__main__":
    main()
