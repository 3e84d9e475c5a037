"""Benchmarks of the ``eqspike`` rule (results in benchmarks/results/eqspike.md).

speed    : the event kernel against this machine's limits, in one run: for each
           thread count (1, 2, ..., all usable CPUs; ``--threads``) the row-add
           and memory-bandwidth references (``benchmarks/roofline.py``) and one
           training epoch on MNIST (784-500-10, T1 60, T2 20, +beta and -beta
           nudged phases, batch 20), wall and CPU, float adds done (counted
           from the spikes, :func:`kernel_adds`), the achieved fraction of
           each reference and the speed-up over 1 thread; then batch 1 against
           batch 20 (1 thread); the input pixel intensities scaled by 1, 0.5,
           0.25 (the epoch time falls with the input spike rate); the dense
           (BLAS) path on a few batches.  The epochs of the thread counts run
           interleaved by default (``--schedule``): 1,000 images at 1 thread,
           1,000 at 2, ... in turn, so that the machine's drifting speed (a
           shared VM) falls on each alike.  The machine, thread settings
           (``eqspike/threads.py``), load before/after and the CPU time the host
           took from the VM during each epoch (steal, /proc/stat) are recorded; a
           Markdown summary is printed at the end.
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
import sys
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


def _steal_s() -> float | None:
    """CPU time the hypervisor took from this VM so far, all CPUs (``steal`` of the ``cpu``
    line of /proc/stat, in s); None where there is no such file.  A slow benchmark run
    with steal time was slowed by other tenants of the host, not by the code."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class _EpochRun:
    """One training run of the ``eqspike`` rule on the first ``n`` images (batch ``batch``),
    trained block by block (:meth:`block`) so that runs at several thread counts can be
    interleaved; wall / CPU s, spikes and per-1,000-image block times add up."""

    def __init__(self, data, n, scale=1.0, compute="event", rule_params=None, seed=0,
                 batch=20):
        from eqspike.network.config import TrainConfig
        from eqspike.network.model import Network
        from eqspike.network.rules import get_rule
        rp = {"compute": compute, **(rule_params or {})}
        self.cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.05), batch_size=batch,
                               rule_params=rp)
        self.net = Network.init(self.cfg.sizes, np.random.default_rng(seed))
        self.rule = get_rule("eqspike")(self.cfg, np.random.default_rng(seed + 1))
        self.x = np.ascontiguousarray(data.x_train[:n] * np.float32(scale))
        self.Y = np.eye(10, dtype=np.float32)[data.y_train[:n]]
        self.n, self.batch, self.pos = n, batch, 0
        self.wall = self.cpu = 0.0
        self.steal = 0.0 if _steal_s() is not None else None   # s, during the blocks
        self.free, self.nudged, self.blocks = np.zeros(3), np.zeros(3), []
        # compile / warm-up, not timed (and not counted: the timed run starts afresh)
        self.rule.train_batch(self.net, self.x[:batch], self.Y[:batch], self.cfg.lrs)

    def block(self, n_images: int) -> None:
        """Train the next ``n_images`` (a multiple of the batch; fewer at the end)."""
        end = min(self.n, self.pos + n_images)
        s0 = _steal_s()
        t0, c0 = time.perf_counter(), time.process_time()
        tb = t0
        for i in range(self.pos, end, self.batch):
            st = self.rule.train_batch(self.net, self.x[i:i + self.batch],
                                       self.Y[i:i + self.batch], self.cfg.lrs)
            self.free += st["spikes_free"]
            self.nudged += st["spikes_nudged"]
            if (i + self.batch) % 1000 == 0:   # wall time per 1,000 images
                now = time.perf_counter()
                self.blocks.append(now - tb)
                tb = now
        self.wall += time.perf_counter() - t0
        self.cpu += time.process_time() - c0
        s1 = _steal_s()
        if self.steal is not None and s0 is not None and s1 is not None:
            self.steal += s1 - s0
        self.pos = end

    @property
    def done(self) -> bool:
        return self.pos >= self.n

    def adds(self) -> dict:
        """Float adds the event kernel did (:func:`kernel_adds`)."""
        return kernel_adds(self.free, self.nudged, self.cfg.sizes, replicas=2,
                           pairing=self.rule.spec.pairing)

    def spikes_per_image(self) -> list:
        return ((self.free + self.nudged) / max(self.pos, 1)).tolist()


def _epoch(data, n, scale=1.0, compute="event", rule_params=None, seed=0, batch=20):
    """Train ``n`` images (batch ``batch``) in one go; returns wall s, CPU s, spikes per
    image per layer.  Also sets ``_epoch.blocks`` (wall s per 1,000 images) and
    ``_epoch.adds`` (float adds the event kernel did, :func:`kernel_adds`)."""
    run = _EpochRun(data, n, scale, compute, rule_params, seed, batch)
    run.block(n)
    _epoch.blocks = run.blocks
    _epoch.adds = run.adds()
    return run.wall, run.cpu, run.spikes_per_image()


def kernel_adds(free, nudged, sizes, replicas=2, pairing=2) -> dict:
    """Float adds the event kernel does for the given spike counts (summed over images).

    Counts as the rule reports them: input spikes of the side-by-side nudged phases
    are counted once per replica, but their drive and update rows are computed once.
    Per input spike: one ``n_1``-wide row of ``W[0]`` (drive), and in the nudged phases
    one ``n_1``-wide update row; per hidden spike an ``n_2``-wide ``W[1]`` row; per
    output spike an ``n_1``-wide feedback row of ``W[1]^T``; in the nudged phases per
    hidden / output spike an ``n_2`` row / ``n_1`` column of ``dW[1]`` per paired
    step (2 for pairing ``both``).  Membrane updates, encoders and the per-step
    bias terms are not counted (they are O(neurons), not O(spikes))."""
    n1, n2 = int(sizes[1]), int(sizes[2])
    passes = 2 if pairing == 2 else 1
    in_unique = nudged[0] / replicas
    out = {"input_drive": n1 * (free[0] + in_unique),
           "input_update": n1 * in_unique,
           "hidden_drive": n2 * (free[1] + nudged[1]),
           "output_feedback": n1 * (free[2] + nudged[2]),
           "hidden_update": passes * (n2 * nudged[1] + n1 * nudged[2])}
    out["total"] = float(sum(out.values()))
    return {k: float(v) for k, v in out.items()}


def _row(label, n, w, c, adds, ref, bw, ref_cpu):
    """A result row: times per 60k images, achieved adds/s and roofline fractions."""
    rate = adds["total"] / w
    return {"label": label, "n_train": n, "wall_s": w, "cpu_s": c,
            "wall_s_per_60k": w * 60000 / n, "cpu_s_per_60k": c * 60000 / n,
            "adds_per_image": adds["total"] / n, "adds_per_s": rate,
            "rowadd_ref_adds_per_s": ref, "fraction_of_rowadd": rate / ref,
            # per CPU-second of all threads: what the kernel does while it has the CPUs
            # (a loaded machine lowers the wall-time rate, much less this one)
            "fraction_of_rowadd_per_cpu_s": adds["total"] / c / ref_cpu,
            "bytes_per_s_if_rows_from_dram": 4 * rate, "mem_bw_B_per_s": bw,
            "fraction_of_mem_bw": 4 * rate / bw}


def speed(args):
    """Roofline, thread scaling, batch 1, input-rate scaling and dense path in one run."""
    import numba
    from eqspike import threads
    from roofline import memory_bandwidth, rowadd_reference
    tinfo = threads.configure(threads.ThreadConfig.from_env(None, args.threading_layer))
    data = _load(args.data_dir)
    cores = tinfo["usable_cpus"]
    tlist = [int(t) for t in args.threads.split(",")] if args.threads else \
        sorted({1, 2, cores} | set(range(4, cores + 1, 4))) if cores > 1 else [1]
    tlist = [t for t in tlist if t <= tinfo["numba_pool"]]
    out = {"machine": _machine(), "threads_info": tinfo, "load_before": _uptime(),
           "command": "benchmarks/bench_eqspike.py speed " + " ".join(args.argv)}
    print(f"# {out['machine']['cpu']}; {threads.describe(tinfo)}; {out['load_before']}", flush=True)
    n = args.n_train or len(data.x_train)
    roof, rows = {}, []
    for t in tlist:   # the references at each thread count, same run
        numba.set_num_threads(t)
        ref = rowadd_reference(sizes=(784, 500), n_rows=args.ref_rows, group=100)
        bw = memory_bandwidth()
        roof[t] = {**ref, **bw}
        print(json.dumps({"threads": t, **roof[t]}), flush=True)
    # one full epoch per thread count; interleaved (default): the epochs advance in turn,
    # args.block images at a time, so that a change of the machine's speed during the
    # run (other VMs on the host) falls on every thread count alike
    runs = {}
    for t in tlist:
        numba.set_num_threads(t)
        runs[t] = _EpochRun(data, n)
    out["schedule"] = args.schedule
    out["block_images"] = args.block if args.schedule == "interleaved" else n
    step = out["block_images"]
    while not all(r.done for r in runs.values()):
        for t in tlist:
            numba.set_num_threads(t)
            runs[t].block(step)
    for t in tlist:
        run = runs[t]
        adds = run.adds()
        r = _row(f"epoch, {t} thread(s)", n, run.wall, run.cpu, adds,
                 roof[t]["best_adds_per_s"], roof[t]["best_B_per_s"],
                 roof[t]["best_adds_per_cpu_s"])
        r.update(threads=t, spikes_per_image=run.spikes_per_image(), adds=adds,
                 fastest_1000_block_s_x60=min(run.blocks) * 60 if run.blocks else None,
                 median_1000_block_s_x60=(float(np.median(run.blocks)) * 60
                                          if run.blocks else None),
                 blocks_1000_s=[float(v) for v in run.blocks], steal_s=run.steal,
                 load_after=_uptime())
        rows.append(r)
        print(json.dumps(r), flush=True)
    t1 = rows[0]["wall_s"]
    for r in rows:
        r["speedup_vs_1_thread"] = t1 / r["wall_s"]
    out["roofline"] = {str(k): v for k, v in roof.items()}
    out["scaling"] = rows
    # batch 1 (chip mode trains image by image): per-image cost at 1 thread and at the most
    numba.set_num_threads(1)
    b1 = []
    for batch in (20, 1):
        w, c, _ = _epoch(data, args.n_batch1, batch=batch)
        b1.append({"batch": batch, "threads": 1, "n_train": args.n_batch1,
                   "ms_per_image": 1e3 * w / args.n_batch1, "wall_s_per_60k": w * 60000 / args.n_batch1,
                   "fraction_of_rowadd": _epoch.adds["total"] / w / roof[1]["best_adds_per_s"]})
        print(json.dumps(b1[-1]), flush=True)
    out["batch1"] = b1
    numba.set_num_threads(tlist[-1])
    scal = []
    for scale in (1.0, 0.5, 0.25) if args.n_scale else ():
        w, c, s = _epoch(data, args.n_scale, scale=scale)
        scal.append({"input_scale": scale, "threads": tlist[-1], "n_train": args.n_scale,
                     "wall_s_per_60k": w * 60000 / args.n_scale,
                     "cpu_s_per_60k": c * 60000 / args.n_scale, "input_spikes_per_image": s[0]})
        print(json.dumps(scal[-1]), flush=True)
    out["input_rate_scaling"] = scal
    if args.n_dense:
        w, c, s = _epoch(data, args.n_dense, compute="dense")
        out["dense"] = {"n_train": args.n_dense, "threads": tlist[-1],
                        "wall_s_per_60k": w * 60000 / args.n_dense,
                        "cpu_s_per_60k": c * 60000 / args.n_dense}
        print(json.dumps(out["dense"]), flush=True)
    out["load_after"] = _uptime()
    print(markdown(out))
    if args.out:
        from eqspike import atomic
        atomic.write_json(args.out, out)


def markdown(out) -> str:
    """The speed results as Markdown tables (for benchmarks/results/eqspike.md)."""
    L = [f"Machine: {out['machine']['cpu']}, {out['machine']['cores']} CPUs, "
         f"L2 {out['machine'].get('l2', '?')}, L3 {out['machine'].get('l3', '?')}; "
         f"numba layer {out['threads_info']['layer']}, "
         f"OMP_WAIT_POLICY={out['threads_info']['omp_wait_policy']}.",
         f"Load: {out['load_before']} (before); {out['load_after']} (after).",
         f"Epochs: {out.get('schedule', 'sequential')}"
         + (f", {out['block_images']} images per turn" if out.get('schedule') == 'interleaved'
            else "") + ".", "",
         "| threads | row-add ref, numpy / numba (G adds/s) | ref speedup | memory bw (GB/s) "
         "| epoch wall s / 60k "
         "| CPU s / 60k | kernel G adds/s | % of row-add ref (wall) | same per CPU-s | % of mem bw "
         "| speedup vs 1 thread | steal s (host) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ref1 = out["roofline"][str(out["scaling"][0]["threads"])]["best_adds_per_s"]
    for r in out["scaling"]:
        rf = out["roofline"][str(r["threads"])]
        L.append(f"| {r['threads']} | {rf['numpy_adds_per_s'] / 1e9:.1f} / "
                 f"{rf['numba_adds_per_s'] / 1e9:.1f} | {rf['best_adds_per_s'] / ref1:.2f} | "
                 f"{rf['best_B_per_s'] / 1e9:.1f} | "
                 f"{r['wall_s_per_60k']:.1f} | {r['cpu_s_per_60k']:.1f} | "
                 f"{r['adds_per_s'] / 1e9:.1f} | {100 * r['fraction_of_rowadd']:.0f} | "
                 f"{100 * r['fraction_of_rowadd_per_cpu_s']:.0f} | "
                 f"{100 * r['fraction_of_mem_bw']:.0f} | {r['speedup_vs_1_thread']:.2f} | "
                 + (f"{r['steal_s']:.2f} |" if r.get("steal_s") is not None else "- |"))
    L += ["", "| batch | threads | ms / image | s / 60k | % of 1-thread row-add ref |", "|---|---|---|---|---|"]
    for r in out["batch1"]:
        L.append(f"| {r['batch']} | {r['threads']} | {r['ms_per_image']:.3f} | "
                 f"{r['wall_s_per_60k']:.1f} | {100 * r['fraction_of_rowadd']:.0f} |")
    if out["input_rate_scaling"]:
        L += ["", "| input scale | input spikes / image | wall s / 60k | CPU s / 60k |", "|---|---|---|---|"]
        for r in out["input_rate_scaling"]:
            L.append(f"| {r['input_scale']} | {r['input_spikes_per_image']:.0f} | "
                     f"{r['wall_s_per_60k']:.1f} | {r['cpu_s_per_60k']:.1f} |")
    if out.get("dense"):
        L.append(f"\nDense (BLAS) path, {out['dense']['n_train']} images: "
                 f"{out['dense']['wall_s_per_60k']:.0f} s / 60k wall.")
    return "\n".join(L)


def _machine() -> dict:
    """CPU model, CPU count and cache sizes (from lscpu where present)."""
    import platform
    d = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}
    try:
        txt = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return d
    for line in txt.splitlines():
        k, _, v = line.partition(":")
        v = v.strip()
        if k.strip() == "Model name":
            d["cpu"] = v
        elif k.strip() == "L2 cache":
            d["l2"] = v
        elif k.strip() == "L3 cache":
            d["l3"] = v
        elif k.strip() == "Thread(s) per core":
            d["threads_per_core"] = v
    return d


def device_speed(args):
    """Device-aware path (``DeviceSynapses``, default profile, policy ``accumulate``)
    against ideal synapses at each thread count, same run; the synapse backend's
    own share (time in ``apply``) is reported separately."""
    import numba
    from eqspike import threads
    from eqspike.devices.characterize import default_profile
    from eqspike.network.config import TrainConfig
    from eqspike.network.model import Network
    from eqspike.network.rules import get_rule
    from eqspike.network.synapses import DeviceSynapseConfig, DeviceSynapses
    tinfo = threads.configure(threads.ThreadConfig.from_env(None, args.threading_layer))
    data = _load(args.data_dir)
    prof = default_profile(args.device)
    tlist = [int(t) for t in args.threads.split(",")] if args.threads else [1, tinfo["threads"]]
    n = args.n_train or 1000
    rows = []
    print(f"# device-aware speed, {args.device}, {n} images; {_uptime()}", flush=True)
    batches = [int(v) for v in args.batches.split(",")]
    for batch in batches:
        for t in tlist:
            numba.set_num_threads(t)
            for kind in ("ideal", "device", "device, all rows"):
                cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.03), batch_size=batch,
                                  rule_params={"compute": "event"})
                net = Network.init(cfg.sizes, np.random.default_rng(0))
                if kind != "ideal":
                    net.synapses = DeviceSynapses(prof, DeviceSynapseConfig(
                        w_max=(0.07, 0.14), policy="accumulate"))   # as bench_hardware.py
                    net.synapses.skip_idle_rows = kind == "device"   # rows with activity only
                    net.synapses.attach(net)
                rule = get_rule("eqspike")(cfg, np.random.default_rng(1))
                syn = net.synapses
                spent = [0.0]
                apply0 = syn.apply

                def timed(*a, _f=apply0, **k):
                    t0 = time.perf_counter()
                    r = _f(*a, **k)
                    spent[0] += time.perf_counter() - t0
                    return r
                if kind != "ideal":   # (ideal: the fused update in event_batch.apply_buffers)
                    syn.apply = timed
                Y = np.eye(10, dtype=np.float32)[data.y_train[:n]]
                rule.train_batch(net, data.x_train[:batch], Y[:batch], cfg.lrs)   # compile
                spent[0] = 0.0
                t0, c0 = time.perf_counter(), time.process_time()
                for i in range(0, n, batch):
                    rule.train_batch(net, data.x_train[i:i + batch], Y[i:i + batch], cfg.lrs)
                w, c = time.perf_counter() - t0, time.process_time() - c0
                rows.append({"batch": batch, "threads": t, "synapses": kind, "n_train": n,
                             "wall_s_per_60k": w * 60000 / n, "cpu_s_per_60k": c * 60000 / n,
                             "apply_s_per_60k": spent[0] * 60000 / n,
                             "W0_sum": float(net.W[0].sum()), "load": _uptime()})
                print(json.dumps(rows[-1]), flush=True)
    print("\n| batch | threads | synapses | wall s / 60k | CPU s / 60k | of which synapse apply s / 60k |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['batch']} | {r['threads']} | {r['synapses']} | {r['wall_s_per_60k']:.1f} | "
              f"{r['cpu_s_per_60k']:.1f} | {r['apply_s_per_60k']:.1f} |")
    if args.out:
        from eqspike import atomic
        atomic.write_json(args.out, {"device": args.device, "threads_info": tinfo, "rows": rows})


def estimator(args):
    """Cosine / gain of one 20-image update against rate C-EP, per variant."""
    from eqspike.network import event as ev
    from eqspike.network import event_reference as evref
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
        _, _, u0 = evref.phase_rate(spec, net.W, net.b, u0, xb, np.zeros((B, 10), np.float32), 60, 0.0,
                                 np.zeros(60))
        plus, _, _ = evref.phase_rate(spec, net.W, net.b, u0, xb, yb, 20, beta, rule.wsched)
        minus, _, _ = evref.phase_rate(spec, net.W, net.b, u0, xb, yb, 20, -beta, rule.wsched)
        ref = [(p - m) / (2 * beta) for p, m in zip(plus, minus)]
        ests = []
        for rep in range(REP):
            bufs = ev.event_buffers(spec.sizes, B)
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
    from eqspike.network import event_reference as evref
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
        _, _, u = evref.phase_rate(rule.spec, net.W, net.b, u0, x, np.zeros((len(x), sizes[-1]), np.float32),
                                cfg.T1, 0.0, np.zeros(cfg.T1))
        ok += int((u[:, off[L]:].argmax(1) == data.y_test[i:i + 1000]).sum())
    print("rate inference of the same leaky network:", ok / n, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("speed", "device-speed", "estimator", "evaluate"))
    ap.add_argument("--device", default="taox_rram", help="device-speed: characterised model")
    ap.add_argument("--checkpoint", default=None, help="checkpoint.npz for evaluate")
    ap.add_argument("--data-dir", default=os.environ.get("EQSPIKE_DATA_DIR"))
    ap.add_argument("--n-train", type=int, default=None,
                    help="images per thread-count epoch timing (default all 60,000)")
    ap.add_argument("--schedule", default="interleaved", choices=("interleaved", "sequential"),
                    help="speed: the thread counts' epochs advance in turn, --block images "
                         "at a time (interleaved), or one whole epoch after the other")
    ap.add_argument("--block", type=int, default=1000,
                    help="speed, interleaved: images per turn (a multiple of the batch, 20)")
    ap.add_argument("--threads", default=None,
                    help="comma-separated thread counts of the scaling curve (default 1, 2, "
                         "every 4th, all usable CPUs)")
    ap.add_argument("--threading-layer", default=None, choices=("default", "omp", "tbb", "workqueue"),
                    help="numba threading layer (default $EQSPIKE_THREADING_LAYER or omp)")
    ap.add_argument("--batches", default="20,1", help="device-speed: batch sizes")
    ap.add_argument("--ref-rows", type=int, default=2_000_000,
                    help="rows added by the row-add reference per repeat")
    ap.add_argument("--n-batch1", type=int, default=1000, help="images for the batch-1 timing")
    ap.add_argument("--n-scale", type=int, default=6000,
                    help="images per input-scale timing (0 = skip)")
    ap.add_argument("--n-dense", type=int, default=400,
                    help="images for the dense-path timing (0 = skip)")
    ap.add_argument("--pretrain", type=int, default=3000, help="images trained before the estimator test")
    ap.add_argument("--reps", type=int, default=6, help="stochastic repeats per estimator variant")
    ap.add_argument("--out", default=None, help="JSON file for the speed results")
    args = ap.parse_args()
    if args.block < 20 or args.block % 20:
        ap.error(f"--block = {args.block}: need a positive multiple of 20 (the batch)")
    args.argv = sys.argv[2:]
    {"speed": speed, "device-speed": device_speed, "estimator": estimator,
     "evaluate": evaluate}[args.mode](args)


if __name__ == "__main__":
    main()
