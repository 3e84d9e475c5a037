"""Time the chip-mode kernel on one captured trainer batch, and compare kernel versions.

``capture``: trains chip mode with the speed benchmark's settings
(``bench_chip.py speed``: 784-500-10, constant learning rate) and stores the
arguments of one kernel call (one trainer batch, 20 examples) in a pickle.

``time``: runs the kernel of this checkout on fresh copies of the captured
arguments (min and median over repeats, ms per example), at each of
``--threads`` worker counts (outputs compared bit for bit).  With ``--compare
FILE.py`` (a copy of ``network/chip_kernel.py`` to try, imported by path,
``cache=True`` turned off) both kernels run interleaved in one process, and
every output array (weights, device states, registers, counters,
predictions) is compared bit for bit.

    .venv/bin/python benchmarks/profile_chip_kernel.py capture --device taox_rram --policy residual
    .venv/bin/python benchmarks/profile_chip_kernel.py time --reps 11 --threads 1 2 [--compare /tmp/k.py]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DEFAULT_ARGS = Path(tempfile.gettempdir()) / "eqspike_chip_kernel_args.pkl"


def _copy(a):
    return [tuple(np.array(y) for y in x) if isinstance(x, tuple)
            else (np.array(x) if isinstance(x, np.ndarray) else x) for x in a]


def _arrays(a):
    out = []
    for x in a:
        out += list(x) if isinstance(x, tuple) else ([x] if isinstance(x, np.ndarray) else [])
    return out


def capture(args) -> None:
    import bench_chip as bc
    from eqspike.network import chip_kernel as ck
    orig, calls = ck.chip_examples, []

    def wrap(*a, **kw):
        if len(calls) == args.batch:
            calls.append(_copy(a))
        else:
            calls.append(None)
        return orig(*a, **kw)
    ck.chip_examples = wrap
    try:
        data = bc._load()
        dev = bc._device(args.device)
        neuron, xbar = bc._circuits()
        cfg = bc._cfg((args.batch + 2) * 20, 100, 1, schedule="constant")
        bc._train(cfg, data, dev, neuron, xbar, "chip", args.policy, args.bits, args.w_max)
    finally:
        ck.chip_examples = orig
    Path(args.args).write_bytes(pickle.dumps(calls[args.batch]))
    print(f"captured batch {args.batch} ({args.device}, {args.policy}) -> {args.args}")


def _load_kernel(path: str):
    # numba cannot reload a cached function of a module imported by path: compile afresh
    src = Path(path).read_text().replace("cache=True", "cache=False")
    tmp = Path(tempfile.mkdtemp()) / Path(path).name
    tmp.write_text(src)
    spec = importlib.util.spec_from_file_location(f"kernel_{abs(hash(path))}", tmp)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.chip_examples


def time_kernels(args) -> None:
    from eqspike.network.chip_kernel import chip_examples
    a0 = pickle.loads(Path(args.args).read_bytes())
    kernels = {f"this checkout, {n} thread(s)": (chip_examples, n) for n in args.threads}
    if args.compare:
        kernels[args.compare] = (_load_kernel(args.compare), None)

    def call(fn, n, a):
        return fn(*a) if n is None else fn(*a, n_threads=n)
    for fn, n in kernels.values():   # compile
        call(fn, n, _copy(a0))
    times = {name: [] for name in kernels}
    outs = {}
    for _ in range(args.reps):
        for name, (fn, n) in kernels.items():
            a = _copy(a0)
            t0 = time.perf_counter()
            call(fn, n, a)
            times[name].append(time.perf_counter() - t0)
            outs[name] = a
    B = a0[0].shape[0]
    print(f"# {B} examples per call, {args.reps} repeats, interleaved; load {os.getloadavg()[0]:.2f}")
    first = next(iter(kernels))
    for name, ts in times.items():
        ts = sorted(ts)
        print(f"{name}: min {1e3 * ts[0] / B:.3f} ms / example, median "
              f"{1e3 * ts[len(ts) // 2] / B:.3f}, speed-up over the first {min(times[first]) / ts[0]:.2f}x")
        if name != first:
            same = all(np.array_equal(x, y) for x, y in zip(_arrays(outs[first]), _arrays(outs[name])))
            print(f"  outputs bit-identical to the first: {same}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture", help="store one kernel call's arguments")
    c.add_argument("--device", default="taox_rram", help="taox_rram, fefet, idealN or a JSON profile")
    c.add_argument("--policy", default="residual", choices=("pulses", "residual", "residual_float"))
    c.add_argument("--bits", type=int, default=8, help="residual register bits")
    c.add_argument("--w-max", type=float, nargs="+", default=[0.07, 0.14],
                   help="largest |W| per weight layer (weight units)")
    c.add_argument("--batch", type=int, default=25, help="which trainer batch to capture (0-based)")
    c.add_argument("--args", default=str(DEFAULT_ARGS), help="pickle to write")
    t = sub.add_parser("time", help="time the kernel (and a candidate) on the captured call")
    t.add_argument("--args", default=str(DEFAULT_ARGS), help="pickle written by capture")
    t.add_argument("--reps", type=int, default=9, help="repeats per kernel")
    t.add_argument("--threads", type=int, nargs="+", default=[1],
                   help="worker thread counts to time this checkout's kernel at")
    t.add_argument("--compare", default=None,
                   help="a kernel module file to compare with (its own signature)")
    args = ap.parse_args(argv)
    if args.cmd == "capture":
        capture(args)
    else:
        time_kernels(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
