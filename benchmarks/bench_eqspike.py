"""Benchmarks of the ``eqspike`` rule (results in benchmarks/results/eqspike.md).

speed    : seconds for one training epoch on MNIST (784-500-10, T1 60, T2 20,
           +beta and -beta nudged phases, batch 20), wall and CPU, with the
           machine load; then the same on a subset with the pixel intensities
           scaled by 1, 0.5, 0.25 (input spike rate scaled alike), showing that
           the event-driven epoch time falls with the input spike rate; and the
           dense (BLAS) path on a few batches for comparison.
estimator: quality of one mini-batch update against the rate-based C-EP
           update of the same network state (cosine, gain) per variant.
accuracy : is the training CLI (``eqspike train --rule eqspike ...``); see
           the results file for the exact command.
evaluate : test accuracy of a run's checkpoint.npz with sigma-delta, Bernoulli
           and rate inference of the same weights.

Usage:
  .venv/bin/python benchmarks/bench_eqspike.py speed [--n-train N] [--data-dir DIR]
  .venv/bin/python benchmarks/bench_eqspike.py estimator
  .venv/bin/python benchmarks/bench_eqspike.py evaluate --checkpoint RUN/checkpoint.npz
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

import numpy as np


def _load(data_dir):
    from eqspike.datasets import load_dataset
    return load_dataset(data_dir, progress=False)


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def _epoch(data, n, scale=1.0, compute="event", rule_params=None, seed=0):
    """Train ``n`` images (batch 20); returns wall s, CPU s, spikes per image per layer."""
    from eqspike.network.config import TrainConfig
    from eqspike.network.model import Network
    from eqspike.network.rules import get_rule
    rp = {"compute": compute, **(rule_params or {})}
    cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.05), rule_params=rp)
    net = Network.init(cfg.sizes, np.random.default_rng(seed))
    rule = get_rule("eqspike")(cfg, np.random.default_rng(seed + 1))
    x = np.ascontiguousarray(data.x_train[:n] * np.float32(scale))
    Y = np.eye(10, dtype=np.float32)[data.y_train[:n]]
    rule.train_batch(net, x[:20], Y[:20], cfg.lrs)   # compile / warm-up, not timed
    spikes = np.zeros(3)
    t0, c0 = time.perf_counter(), time.process_time()
    blocks, tb = [], time.perf_counter()
    for i in range(0, n, 20):
        st = rule.train_batch(net, x[i:i + 20], Y[i:i + 20], cfg.lrs)
        spikes += np.asarray(st["spikes_free"]) + np.asarray(st["spikes_nudged"])
        if (i + 20) % 1000 == 0:   # wall time per 1,000 images
            blocks.append(time.perf_counter() - tb)
            tb = time.perf_counter()
    _epoch.blocks = blocks
    return time.perf_counter() - t0, time.process_time() - c0, (spikes / n).tolist()


def speed(args):
    import numba
    data = _load(args.data_dir)
    out = {"threads": numba.get_num_threads(), "cpus": os.cpu_count()}
    out["load_before"] = _uptime()
    n = args.n_train or len(data.x_train)
    wall, cpu, sp = _epoch(data, n)
    bl = _epoch.blocks
    out["epoch"] = {"n_train": n, "wall_s": wall, "cpu_s": cpu,
                    "wall_s_per_60k": wall * 60000 / n, "spikes_per_image": sp,
                    "fastest_1000_block_s_x60": min(bl) * 60 if bl else None,
                    "median_1000_block_s_x60": float(np.median(bl)) * 60 if bl else None}
    out["load_after_epoch"] = _uptime()
    print(json.dumps(out["epoch"]), flush=True)
    rows = []
    for scale in (1.0, 0.5, 0.25):
        w, c, s = _epoch(data, args.n_scale, scale=scale)
        bl = _epoch.blocks
        rows.append({"input_scale": scale, "n_train": args.n_scale, "wall_s_per_60k": w * 60000 / args.n_scale,
                     "cpu_s_per_60k": c * 60000 / args.n_scale, "input_spikes_per_image": s[0],
                     "fastest_1000_block_s_x60": min(bl) * 60 if bl else None,
                     "median_1000_block_s_x60": float(np.median(bl)) * 60 if bl else None})
        print(json.dumps(rows[-1]), flush=True)
    out["input_rate_scaling"] = rows
    w, c, s = _epoch(data, args.n_dense, compute="dense")
    out["dense"] = {"n_train": args.n_dense, "wall_s_per_60k": w * 60000 / args.n_dense,
                    "cpu_s_per_60k": c * 60000 / args.n_dense}
    print(json.dumps(out["dense"]), flush=True)
    out["load_after"] = _uptime()
    print(json.dumps(out, indent=1))
    if args.out:
        from eqspike import atomic
        atomic.write_json(args.out, out)


def estimator(args):
    """Cosine / gain of one 20-image update against rate C-EP, per variant."""
    from eqspike.network import event as ev
    from eqspike.network.config import TrainConfig
    from eqspike.network.model import Network
    from eqspike.network.rules import get_rule
    data = _load(args.data_dir)
    Y = np.eye(10, dtype=np.float32)[data.y_train]
    cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.05), rule_params={"compute": "event"})
    net = Network.init(cfg.sizes, np.random.default_rng(0))
    pre = get_rule("eqspike")(cfg, np.random.default_rng(1))
    for i in range(0, args.pretrain, 20):   # a partly trained state
        pre.train_batch(net, data.x_train[i:i + 20], Y[i:i + 20], cfg.lrs)
    variants = {
        "same_step": dict(pairing="same_step"),
        "delayed": dict(pairing="delayed"),
        "both": dict(pairing="both"),
        "delayed, independent noise": dict(pairing="delayed", common_noise=False),
        "both, independent noise": dict(pairing="both", common_noise=False),
        "delayed, no end averaging": dict(pairing="delayed", avg_steps=0),
        "delayed, sigma-delta": dict(pairing="delayed", encoder="sigma_delta"),
        "same_step, sigma-delta": dict(pairing="same_step", encoder="sigma_delta"),
        "delayed, sigma-delta input": dict(pairing="delayed", input_encoder="sigma_delta"),
    }
    B, REP, beta = 20, args.reps, 1.0
    i0 = 50000
    xb, yb = data.x_train[i0:i0 + B], Y[i0:i0 + B]
    print("| variant | W0 cos (one batch) | W0 cos (mean of %d) | W0 gain | W1 cos (one batch) | W1 cos (mean) | W1 gain |" % REP)
    print("|---|---|---|---|---|---|---|")
    for name, rp in variants.items():
        c = TrainConfig(rule="eqspike", beta=beta, rule_params=dict(rp, compute="event"))
        rule = get_rule("eqspike")(c, np.random.default_rng(5))
        spec = rule.spec
        off = spec.offsets
        N = int(off[-1])
        u0 = np.zeros((B, N), np.float32)
        _, _, u0 = ev.phase_rate(spec, net.W, net.b, u0, xb, np.zeros((B, 10), np.float32), 60, 0.0,
                                 np.zeros(60))
        plus, _, _ = ev.phase_rate(spec, net.W, net.b, u0, xb, yb, 20, beta, rule.wsched)
        minus, _, _ = ev.phase_rate(spec, net.W, net.b, u0, xb, yb, 20, -beta, rule.wsched)
        ref = [(p - m) / (2 * beta) for p, m in zip(plus, minus)]
        ests = []
        for rep in range(REP):
            bufs = ev.make_buffers(spec.sizes, ev.n_event_chunks(B))
            for sgn in (1.0, -1.0):
                st = ev.PhaseState(u0.copy(), np.zeros((B, N), np.float32), np.zeros((B, N), np.float32),
                                   np.full((B, N), np.nan, np.float32))
                st.r[:, off[0]:off[1]] = xb
                st.r[:, off[1]:] = spec.act_fn(u0[:, off[1]:].copy())
                seed = 1000 + rep if (rp.get("common_noise", True) or sgn > 0) else 9000 + rep
                ev.phase_event(spec, net.W, net.b, st, yb, 20, 60, sgn * beta, seed, True,
                               rule.wsched, sgn, bufs[0], bufs[1])
            ests.append([b_.sum(0) / (2 * beta) for b_ in bufs[0]])
        cells = []
        for k in range(2):
            e = np.array([x[k].ravel() for x in ests])
            r = ref[k].ravel()
            cos1 = np.mean([v @ r / np.linalg.norm(v) / np.linalg.norm(r) for v in e])
            m = e.mean(0)
            cells += [f"{cos1:.3f}", f"{m @ r / np.linalg.norm(m) / np.linalg.norm(r):.3f}",
                      f"{m @ r / (r @ r):.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def evaluate(args):
    """Accuracy of a checkpoint's weights with several inference encoders."""
    from eqspike.network import event as ev
    from eqspike.network.config import TrainConfig
    from eqspike.network.model import Network
    from eqspike.network.rules import get_rule
    data = _load(args.data_dir)
    with np.load(args.checkpoint) as z:
        L = sum(1 for k in z.files if k.startswith("W_"))
        W = [z[f"W_{k}"].copy() for k in range(L)]
        b = [z[f"b_{k}"].copy() for k in range(L)]
    sizes = (W[0].shape[0],) + tuple(w.shape[1] for w in W)
    net = Network(sizes, W, b)
    n = len(data.x_test)

    def acc(rp, seed=7):
        cfg = TrainConfig(rule="eqspike", sizes=sizes, lrs=(0.1,) * L, rule_params=rp)
        rule = get_rule("eqspike")(cfg, np.random.default_rng(seed))
        ok, sp = 0, np.zeros(L + 1)
        for i in range(0, n, 1000):
            p, st = rule.predict(net, data.x_test[i:i + 1000])
            ok += int((p == data.y_test[i:i + 1000]).sum())
            sp += st["spikes_free"]
        return ok / n, (sp / n).round(1).tolist()
    print("sigma-delta inference (default):", acc({}), flush=True)
    print("Bernoulli inference, seeds 7, 8:", acc({"infer_encoder": "same"}),
          acc({"infer_encoder": "same"}, 8), flush=True)
    cfg = TrainConfig(rule="eqspike", sizes=sizes, lrs=(0.1,) * L)
    rule = get_rule("eqspike")(cfg, np.random.default_rng(0))
    off = rule.spec.offsets
    ok = 0
    for i in range(0, n, 1000):
        x = data.x_test[i:i + 1000]
        u0 = np.zeros((len(x), int(off[-1])), np.float32)
        _, _, u = ev.phase_rate(rule.spec, net.W, net.b, u0, x, np.zeros((len(x), sizes[-1]), np.float32),
                                cfg.T1, 0.0, np.zeros(cfg.T1))
        ok += int((u[:, off[L]:].argmax(1) == data.y_test[i:i + 1000]).sum())
    print("rate inference of the same leaky network:", ok / n, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("speed", "estimator", "evaluate"))
    ap.add_argument("--checkpoint", default=None, help="checkpoint.npz for evaluate")
    ap.add_argument("--data-dir", default=os.environ.get("EQSPIKE_DATA_DIR"))
    ap.add_argument("--n-train", type=int, default=None, help="images for the epoch timing (default all)")
    ap.add_argument("--n-scale", type=int, default=6000, help="images per input-scale timing")
    ap.add_argument("--n-dense", type=int, default=400, help="images for the dense-path timing")
    ap.add_argument("--pretrain", type=int, default=3000, help="images trained before the estimator test")
    ap.add_argument("--reps", type=int, default=6, help="stochastic repeats per estimator variant")
    ap.add_argument("--out", default=None, help="JSON file for the speed results")
    args = ap.parse_args()
    {"speed": speed, "estimator": estimator, "evaluate": evaluate}[args.mode](args)


if __name__ == "__main__":
    main()
