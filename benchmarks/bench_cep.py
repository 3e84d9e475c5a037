"""Benchmark: rate-based C-EP (``cep``) on full MNIST, 784-500-10.

Measures seconds per epoch, the achieved GFLOP/s of the training loop and,
in the same run, numpy's own float32 matrix-multiply GFLOP/s (a large square
product with the library's threads and with one thread, and the training's
own small shape 20 x 784 x 500). Appends a Markdown section to
``benchmarks/results/cep.md`` with the exact command, machine load and
figures. Reference setting (findings doc): T1 60, T2 20, batch 20, beta 0.5,
symmetric nudging, lr 0.1 / 0.05, cosine schedule.

    .venv/bin/python benchmarks/bench_cep.py --epochs 1     # speed only
    .venv/bin/python benchmarks/bench_cep.py --epochs 8     # accuracy bar (>= 98 %)
    make bench-cep BENCH_ARGS="--epochs 8"
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    try:
        return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "load average unknown"


def sgemm_gflops(m: int, k: int, n: int, threads: int | None, min_time_s: float = 1.0) -> float:
    """float32 ``(m,k) @ (k,n)`` GFLOP/s (2 FLOP per multiply-add), best of repeats."""
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    ctx = threadpool_limits(limits=threads, user_api="blas") if threads else None
    try:
        if ctx:
            ctx.__enter__()
        a @ b
        reps, best, t_all = 0, float("inf"), time.perf_counter()
        while time.perf_counter() - t_all < min_time_s or reps < 3:
            t = time.perf_counter()
            for _ in range(10):
                a @ b
            best = min(best, (time.perf_counter() - t) / 10)
            reps += 1
    finally:
        if ctx:
            ctx.__exit__(None, None, None)
    return 2.0 * m * k * n / best / 1e9


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=8, help="epochs (cosine schedule over them)")
    ap.add_argument("--data-dir", default=None, help="MNIST folder (default: the loader's search order)")
    ap.add_argument("--update", default="batch", choices=("batch", "step"), help="cep update mode")
    ap.add_argument("--run-dir", default=str(ROOT / "runs" / "bench-cep"), help="run folder")
    ap.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "cep.md"),
                    help="Markdown file the results section is appended to")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    from eqspike import atomic
    from eqspike.datasets import load_dataset
    from eqspike.network.config import TrainConfig
    from eqspike.network.rules.cep import flops_per_batch
    from eqspike.network.trainer import train

    command = "python benchmarks/bench_cep.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    load_before = load()
    t_start = time.perf_counter()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; {os.cpu_count()} CPUs; {load_before}")
    g_big_all = sgemm_gflops(1024, 1024, 1024, None)
    g_big_1 = sgemm_gflops(1024, 1024, 1024, 1)
    g_small_1 = sgemm_gflops(20, 784, 500, 1)
    print(f"numpy float32 matmul: 1024^3 {g_big_all:.1f} GFLOP/s (library threads), "
          f"{g_big_1:.1f} (1 thread); 20x784x500 {g_small_1:.1f} (1 thread)")

    data = load_dataset(args.data_dir, progress=not args.no_progress)
    cfg = TrainConfig(epochs=args.epochs, rule_params={"update": args.update})
    n_batches = -(-len(data.x_train) // cfg.batch_size)
    flops_epoch = flops_per_batch(cfg.sizes, cfg.batch_size, cfg.T1, cfg.T2, cfg.symmetric_nudging) * n_batches

    def on_epoch(row, net):
        print(f"epoch {row['epoch']}: train {100 * row['train_acc']:.2f} %  test {100 * row['test_acc']:.2f} %  "
              f"{row['seconds']:.1f} s  ({flops_epoch / row['seconds'] / 1e9:.1f} GFLOP/s)  {load()}",
              flush=True)

    res = train(cfg, data, args.run_dir, progress=not args.no_progress, on_epoch=on_epoch)
    wall = time.perf_counter() - t_start
    m = res.metrics
    sec = m["seconds"]
    load_after = load()

    lines = [
        f"## cep, 784-500-10, {args.epochs} epoch(s), update={args.update} "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"- command: `{command}` (run folder `{Path(args.run_dir).name}`)",
        f"- machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"numpy {np.__version__}, BLAS threads during training: "
        f"{os.environ.get('EQSPIKE_BLAS_THREADS', '1')}; {load_before} before, {load_after} after "
        "(other engineers' jobs share the 2 cores)",
        f"- setting: T1 {cfg.T1}, T2 {cfg.T2} (+beta and -beta), batch {cfg.batch_size}, beta {cfg.beta}, "
        f"lr {cfg.lrs[0]} / {cfg.lrs[1]}, {cfg.lr_schedule} schedule, hard sigmoid, seed {cfg.seed}",
        f"- numpy float32 matmul in the same run: 1024x1024x1024 {g_big_all:.1f} GFLOP/s "
        f"(library threads), {g_big_1:.1f} GFLOP/s (1 thread); 20x784x500 {g_small_1:.1f} GFLOP/s (1 thread)",
        f"- training FLOPs per epoch (matmuls only): {flops_epoch / 1e9:.1f} GFLOP",
        f"- seconds per epoch: mean {sec.mean():.1f}, min {sec.min():.1f}, max {sec.max():.1f}; "
        f"achieved {flops_epoch / sec.mean() / 1e9:.1f} GFLOP/s (mean), {flops_epoch / sec.min() / 1e9:.1f} (best epoch)",
        f"- final test accuracy {100 * res.test_acc:.2f} %, best {100 * m['test_acc'].max():.2f} % "
        f"(epoch {int(m.loc[m['test_acc'].idxmax(), 'epoch'])}); total wall time {wall:.0f} s",
        "",
        "| epoch | train acc % | test acc % | s/epoch | GFLOP/s |",
        "|---|---|---|---|---|",
    ]
    for _, r in m.iterrows():
        lines.append(f"| {int(r['epoch'])} | {100 * r['train_acc']:.2f} | {100 * r['test_acc']:.2f} | "
                     f"{r['seconds']:.1f} | {flops_epoch / r['seconds'] / 1e9:.1f} |")
    section = "\n".join(lines) + "\n\n"
    out = Path(args.results)
    old = out.read_text() if out.exists() else "# Benchmark: rate-based C-EP (`cep`) on MNIST\n\n"
    atomic.write_text(out, old + section)
    print(section)
    print(f"appended to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
