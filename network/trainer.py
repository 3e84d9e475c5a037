"""The training loop: mini-batches, schedule, evaluation, checkpoints, run folder.

:func:`train` runs any registered learning rule (``cfg.rule``) on a
:class:`eqspike.datasets.Dataset`:

- mini-batches of ``cfg.batch_size`` in an order shuffled each epoch;
  seeded and reproducible: three independent random streams (weight init,
  shuffling, rule noise) spawned from ``cfg.seed``; the same seed gives
  identical weights, and resuming from the checkpoint after epoch k gives the
  same result as the uninterrupted run;
- learning rates per layer from ``cfg.lrs`` and ``cfg.lr_schedule``
  (:func:`lr_at`; cosine: ``lr * (1 + cos(pi e / epochs)) / 2`` for epoch
  index e = 0..epochs-1);
- ``train_acc`` is the accuracy of the free-phase predictions made during
  the epoch (each batch before its own update, so it costs nothing extra);
  ``test_acc`` runs the free phase only (:func:`evaluate`);
- divergence guard: NaN/inf or any ``|W|`` or ``|b|`` above ``cfg.max_weight``
  (checked every 50 batches and at the end of each epoch) stops training
  with :class:`TrainingDiverged`; the run folder keeps the last good
  checkpoint.

BLAS threads: the mini-batch matrices are small (20 x 784 x 500), where
OpenBLAS's threads cost more than they give and collapse when the cores are
shared; training runs with ``$EQSPIKE_BLAS_THREADS`` BLAS threads (default 1,
``0`` = leave the library's setting), via threadpoolctl, for numpy's BLAS
and the one numba's kernel uses (``network._fast``). Results do not depend
on it.

Run folder (``run_dir``): ``config.json`` (resolved config plus dataset,
rule options and versions), ``metrics.csv`` (one row per epoch),
``checkpoint.npz`` (weights, biases, synapse-backend state ``syn__*``, rule
state ``rule__*``, recorder state ``rec__*`` (the energy ledger of a
device-aware run), random-generator states, epoch, metrics so far; written
atomically after each epoch) and ``accuracy.png`` (accuracy vs epoch).
"""
from __future__ import annotations

import io
import json
import math
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from eqspike import atomic
from eqspike.errors import DataError, EqspikeError, ParameterError

from .config import TrainConfig
from .model import IdealSynapses, Network

CHECKPOINT = "checkpoint.npz"
#: config fields that may change when a run is resumed
RESUMABLE_CHANGES = ("epochs", "n_test", "eval_batch_size")
_CHECK_EVERY = 50  # batches between divergence checks


class TrainingDiverged(EqspikeError):
    """Weights became NaN/inf or exceeded ``max_weight``; training was stopped."""


@dataclass
class TrainResult:
    """What :func:`train` returns."""
    net: Network
    metrics: Any  # pandas.DataFrame, one row per epoch
    test_acc: float
    train_acc: float
    config: TrainConfig
    rule: Any
    run_dir: Path | None = None


# --------------------------------------------------------------------- helpers
def lr_at(cfg: TrainConfig, epoch: int) -> tuple[float, ...]:
    """Per-layer learning rates for epoch index ``epoch`` (0-based)."""
    if cfg.lr_schedule == "cosine":
        f = 0.5 * (1.0 + math.cos(math.pi * epoch / cfg.epochs))
    else:
        f = 1.0
    return tuple(float(lr) * f for lr in cfg.lrs)


def make_rngs(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for weight init, shuffling and the rule."""
    init, shuffle, rule = np.random.SeedSequence(seed).spawn(3)
    return {"init": np.random.default_rng(init), "shuffle": np.random.default_rng(shuffle),
            "rule": np.random.default_rng(rule)}


def _make_backend(synapses, net: Network):
    if synapses is None:
        return IdealSynapses()
    if hasattr(synapses, "apply") and not isinstance(synapses, type):
        return synapses
    if callable(synapses):
        return synapses(net)
    raise ParameterError(f"synapses={synapses!r} is neither a synapse backend nor a factory net -> backend")


def check_weights(net: Network, max_weight: float) -> str | None:
    """``None`` when all weights/biases are finite and within ``max_weight``,
    else a description of the first offending layer."""
    for name, arrs in (("W", net.W), ("b", net.b)):
        for k, a in enumerate(arrs):
            m = float(np.max(np.abs(a))) if a.size else 0.0
            if not m <= max_weight:  # also catches NaN
                what = "NaN/inf" if not math.isfinite(m) else f"max |{name}[{k}]| = {m:.3g}"
                return f"{what} in {name}[{k}] (max_weight = {max_weight:g})"
    return None


def evaluate(net: Network, rule, x: np.ndarray, y: np.ndarray, batch_size: int = 1000,
             *, return_stats: bool = False):
    """Test accuracy (fraction in [0, 1]) from the free phase only (``rule.predict``).

    With ``return_stats`` returns ``(accuracy, stats)``, the rule's statistics
    summed over the batches (e.g. spike counts per layer).
    """
    n = len(x)
    if n == 0:
        raise DataError("evaluate: no examples")
    correct = 0
    sums: dict[str, Any] = {}
    for i in range(0, n, batch_size):
        pred, st = rule.predict(net, x[i:i + batch_size])
        correct += int(np.count_nonzero(np.asarray(pred) == y[i:i + batch_size]))
        _accumulate(sums, st)
    acc = correct / n
    return (acc, sums) if return_stats else acc


def _accumulate(sums: dict[str, Any], stats: dict[str, Any]) -> None:
    for k, v in (stats or {}).items():
        if k == "pred" or v is None:
            continue
        if isinstance(v, (list, tuple, np.ndarray)):
            arr = np.asarray(v, dtype=np.float64)
            sums[k] = sums[k] + arr if k in sums else arr.copy()
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            sums[k] = sums.get(k, 0.0) + float(v)


def _stat_columns(sums: dict[str, Any], n_images: int, prefix: str = "") -> dict[str, float]:
    """Summed stats as flat columns; spike counts also per image."""
    row: dict[str, float] = {}
    for k, v in sums.items():
        if np.ndim(v) == 0:
            row[prefix + k] = float(v)
            if k.startswith("spikes"):
                row[f"{prefix}{k}_per_image"] = float(v) / n_images
        else:
            for i, x in enumerate(np.ravel(v)):
                row[f"{prefix}{k}_{i}"] = float(x)
                if k.startswith("spikes"):
                    row[f"{prefix}{k}_per_image_{i}"] = float(x) / n_images
    return row


# --------------------------------------------------------------------- checkpoints
def save_checkpoint(path: Path, net: Network, rule, rngs: dict[str, np.random.Generator],
                    epoch: int, cfg: TrainConfig, rows: list[dict], recorder: Any = None) -> Path:
    """Write ``checkpoint.npz`` atomically (see module doc for its content)."""
    arrays: dict[str, np.ndarray] = {}
    for k, (w, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W_{k}"] = w
        arrays[f"b_{k}"] = b
    for k, v in (net.synapses.state() or {}).items():
        arrays[f"syn__{k}"] = np.asarray(v)
    if hasattr(rule, "state"):
        for k, v in (rule.state() or {}).items():
            arrays[f"rule__{k}"] = np.asarray(v)
    if recorder is not None:
        for k, v in (recorder.state() or {}).items():
            arrays[f"rec__{k}"] = np.asarray(v)
    meta = {"epoch": epoch, "config": cfg.to_dict(),
            "rng": {k: g.bit_generator.state for k, g in rngs.items()},
            "metrics": rows}
    arrays["meta_json"] = np.array(json.dumps(meta, default=atomic._json_default))
    return atomic.write_npz(path, **arrays)


def load_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, meta)`` of a checkpoint; :class:`DataError` if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta_json")))
    except FileNotFoundError:
        raise DataError(f"no checkpoint at {path}: nothing to resume") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        # e.g. a file truncated by a full disk or a copy cut short (writes here are atomic)
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise DataError(f"checkpoint {path} is unreadable or incomplete ({type(e).__name__}: {why}); "
                        "restore it from a backup or start the run again with --overwrite") from None
    if not isinstance(meta, dict) or not {"epoch", "config", "rng", "metrics"} <= set(meta):
        raise DataError(f"checkpoint {path} is incomplete (its metadata lacks epoch/config/rng/metrics)")
    return arrays, meta


def _restore(arrays, meta, net: Network, rule, rngs) -> None:
    for k in range(net.n_layers):
        for name, lst in (("W", net.W), ("b", net.b)):
            a = arrays.get(f"{name}_{k}")
            if a is None or a.shape != lst[k].shape:
                raise DataError(f"checkpoint does not match the network: {name}_{k} "
                                f"{None if a is None else a.shape} vs {lst[k].shape}")
            lst[k][...] = a
    net.synapses.load_state({k[5:]: v for k, v in arrays.items() if k.startswith("syn__")})
    if hasattr(rule, "load_state"):
        rule.load_state({k[6:]: v for k, v in arrays.items() if k.startswith("rule__")})
    for k, st in meta["rng"].items():
        rngs[k].bit_generator.state = st


def _check_backend(arrays: dict[str, np.ndarray], run_dir: Path, synapses, recorder) -> None:
    """Refuse to resume a device-aware run (device synapses / energy ledger in its
    checkpoint) without them: it would go on with float synapses and the hard
    sigmoid, silently training a different network."""
    has_syn = any(k.startswith("syn__") for k in arrays)
    has_rec = any(k.startswith("rec__") for k in arrays)
    if (has_syn and synapses is None) or (has_rec and recorder is None):
        what = " and ".join(w for w, h in (("device synapses", has_syn), ("an energy ledger", has_rec))
                            if h)
        raise ParameterError(f"cannot resume {str(run_dir)!r} here: its checkpoint holds {what} of "
                             "a device-aware `eqspike run`; continue it with "
                             f"`eqspike run --resume --out {run_dir}`")
    if recorder is not None and not has_rec:
        raise ParameterError(f"cannot resume {str(run_dir)!r} as a device-aware run: its checkpoint "
                             "holds no energy-ledger state (a run of `eqspike train`?); continue it "
                             f"with `eqspike train --resume --out {run_dir}`")


def _check_resumable(saved: dict[str, Any], cfg: TrainConfig) -> None:
    now = cfg.to_dict()
    diff = [f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in now
            if k not in RESUMABLE_CHANGES and saved.get(k) != now[k]]
    if diff:
        raise ParameterError("cannot resume: the configuration differs from the checkpoint's "
                             f"({'; '.join(diff)}); only {', '.join(RESUMABLE_CHANGES)} may change")


def plot_accuracy(path: Path, metrics) -> Path:
    """Accuracy (%) vs epoch, train and test, as PNG (atomic)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5, 3.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(metrics["epoch"], 100 * metrics["train_acc"], "o-", label="train (during epoch)")
    ax.plot(metrics["epoch"], 100 * metrics["test_acc"], "s-", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return atomic.write_bytes(path, buf.getvalue())


# --------------------------------------------------------------------- training
def blas_threads():
    """Context manager limiting BLAS threads to ``$EQSPIKE_BLAS_THREADS`` (default 1)."""
    import contextlib
    import os
    try:
        n = int(os.environ.get("EQSPIKE_BLAS_THREADS", "1"))
    except ValueError:
        raise ParameterError("EQSPIKE_BLAS_THREADS must be an integer (0 = library default)") from None
    if n <= 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional at run time: results do not depend on it
        return contextlib.nullcontext()
    from .dynamics import _use_numba
    if _use_numba():
        from . import _fast  # noqa: F401  (loads the BLAS numba calls, so it is limited too)
    return threadpool_limits(limits=n, user_api="blas")


def check_memory(cfg: TrainConfig, device: bool = False) -> None:
    """Refuse (one line) a network whose training would not fit in the memory
    available now (:mod:`eqspike.memory`); called before anything is allocated."""
    from eqspike.memory import network_bytes, require
    require(network_bytes(cfg.sizes, device=device, batch_size=cfg.batch_size),
            f"training a network of sizes {'-'.join(map(str, cfg.sizes))}"
            f"{' with device synapses' if device else ''}", "give smaller --sizes / --hidden")


def train(cfg: TrainConfig, data, run_dir: str | Path | None = None, *,
          synapses: Any = None, activation: Callable | str | None = None,
          resume: bool = False, progress: bool = True,
          on_epoch: Callable[[dict, Network], Any] | None = None,
          recorder: Any = None) -> TrainResult:
    """Train ``cfg.rule`` on ``data`` (a :class:`eqspike.datasets.Dataset`).

    ``synapses``: a synapse backend, or a factory ``net -> backend`` (called
    once after weight initialisation, before a checkpoint is restored).
    ``activation``: a custom rho callable replacing ``cfg.activation``.
    ``resume``: continue from ``run_dir/checkpoint.npz`` (only
    :data:`RESUMABLE_CHANGES` may differ from the saved config).
    ``on_epoch(row, net)`` is called after each epoch with the metrics row.
    ``recorder``: an object with ``record(row, net)`` (called after each
    epoch, *before* the checkpoint is written), ``state() -> dict of arrays``
    and ``load_state(arrays)``; its state goes into the checkpoint (keys
    ``rec__*``), so what it counts resumes exactly (the energy ledger of
    :func:`eqspike.network.hardware.train_on_hardware`).  A checkpoint holding
    recorder or device-synapse state is refused for a resume without them.
    """
    import pandas as pd

    if not isinstance(cfg, TrainConfig):
        raise ParameterError(f"train: cfg must be a TrainConfig, got {type(cfg).__name__}")
    data = data.subset(cfg.n_train, cfg.n_test)
    n_in, n_out = cfg.sizes[0], cfg.sizes[-1]
    if data.x_train.shape[1] != n_in:
        raise ParameterError(f"parameter 'sizes'[0] = {n_in} does not match the dataset "
                             f"({data.name}: {data.x_train.shape[1]} pixels per image)")
    if data.n_classes > n_out:
        raise ParameterError(f"parameter 'sizes'[-1] = {n_out} output neurons is fewer than "
                             f"the {data.n_classes} classes of {data.name}")
    run_dir = Path(run_dir) if run_dir is not None else None
    if resume and run_dir is None:
        raise ParameterError("resume needs a run folder")

    check_memory(cfg, device=synapses is not None)
    rngs = make_rngs(cfg.seed)
    net = Network.init(cfg.sizes, rngs["init"])
    net.synapses = _make_backend(synapses, net)
    rule = cfg.rule_class()(cfg, rngs["rule"], activation=activation)

    rows: list[dict] = []
    start = 0
    if resume:
        arrays, meta = load_checkpoint(run_dir / CHECKPOINT)
        _check_resumable(meta["config"], cfg)
        _check_backend(arrays, run_dir, synapses, recorder)
        _restore(arrays, meta, net, rule, rngs)
        if recorder is not None:
            recorder.load_state({k[5:]: v for k, v in arrays.items() if k.startswith("rec__")})
        bad = check_weights(net, cfg.max_weight)
        if bad:
            raise DataError(f"checkpoint {run_dir / CHECKPOINT} holds unusable weights ({bad}); "
                            "nothing to resume from: start the run again with --overwrite")
        start = int(meta["epoch"])
        rows = list(meta["metrics"])
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic.write_json(run_dir / "config.json", _resolved(cfg, data, rule, activation, synapses, net))

    with blas_threads():
        _epochs(cfg, data, net, rule, rngs, rows, start, run_dir, progress, on_epoch, recorder)
    if resume and start >= cfg.epochs and rows and run_dir is not None:
        # a run killed between its last checkpoint and metrics.csv: the checkpoint's rows win
        atomic.write_csv(run_dir / "metrics.csv", pd.DataFrame(rows))

    metrics = pd.DataFrame(rows)
    if len(metrics):
        test_acc, train_acc = float(metrics["test_acc"].iloc[-1]), float(metrics["train_acc"].iloc[-1])
    else:  # resumed a finished run with no more epochs
        test_acc, train_acc = evaluate(net, rule, data.x_test, data.y_test, cfg.eval_batch_size), float("nan")
    return TrainResult(net=net, metrics=metrics, test_acc=test_acc, train_acc=train_acc,
                       config=cfg, rule=rule, run_dir=run_dir)


def _epochs(cfg, data, net, rule, rngs, rows, start, run_dir, progress, on_epoch,
            recorder=None) -> None:
    import pandas as pd
    from tqdm import tqdm

    n_out = cfg.sizes[-1]
    x, y = data.x_train, data.y_train
    Y = np.eye(n_out, dtype=np.float32)[y]
    n = len(x)
    bs = cfg.batch_size
    n_batches = (n + bs - 1) // bs
    for epoch in range(start, cfg.epochs):
        lrs = lr_at(cfg, epoch)
        perm = rngs["shuffle"].permutation(n)
        sums: dict[str, Any] = {}
        correct = 0
        t0 = time.perf_counter()
        bar = tqdm(total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                   disable=not progress, leave=False, mininterval=0.5)
        try:
            for bi in range(n_batches):
                idx = perm[bi * bs:(bi + 1) * bs]
                st = rule.train_batch(net, x[idx], Y[idx], lrs)
                correct += int(np.count_nonzero(np.asarray(st["pred"]) == y[idx]))
                _accumulate(sums, st)
                if (bi + 1) % _CHECK_EVERY == 0 or bi == n_batches - 1:
                    bad = check_weights(net, cfg.max_weight)
                    if bad:
                        raise TrainingDiverged(
                            f"training diverged in epoch {epoch + 1}, batch {bi + 1}: {bad}. "
                            f"Stopped; {_kept(run_dir, epoch)} Try smaller learning rates "
                            "(--lr), a smaller beta, or a larger max_weight.")
                    bar.set_postfix(train_acc=f"{correct / min(n, (bi + 1) * bs):.3f}", refresh=False)
                bar.update(1)
        finally:
            bar.close()
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        test_acc, test_stats = evaluate(net, rule, data.x_test, data.y_test, cfg.eval_batch_size,
                                        return_stats=True)
        row = {"epoch": epoch + 1, "train_acc": correct / n, "test_acc": test_acc,
               "seconds": seconds, "eval_seconds": time.perf_counter() - t1,
               "n_train": n, "n_test": len(data.x_test)}
        row.update({f"lr_{k}": lr for k, lr in enumerate(lrs)})
        row.update(_stat_columns(sums, n))
        row.update(_stat_columns(test_stats, len(data.x_test), prefix="test_"))
        rows.append(row)
        if recorder is not None:
            recorder.record(row, net)
        if run_dir is not None:
            save_checkpoint(run_dir / CHECKPOINT, net, rule, rngs, epoch + 1, cfg, rows, recorder)
            df = pd.DataFrame(rows)
            atomic.write_csv(run_dir / "metrics.csv", df)
            plot_accuracy(run_dir / "accuracy.png", df)
        if on_epoch is not None:
            on_epoch(row, net)


def _kept(run_dir: Path | None, epoch: int) -> str:
    if run_dir is None:
        return "no run folder, nothing saved."
    if (run_dir / CHECKPOINT).exists() and epoch > 0:
        return f"{run_dir / CHECKPOINT} keeps the last good state (after epoch {epoch})."
    return "no epoch had completed, so no checkpoint was written."


def _resolved(cfg: TrainConfig, data, rule, activation, synapses, net) -> dict[str, Any]:
    import dataclasses
    import platform

    from eqspike import __version__
    opts = cfg.rule_options()
    d = {"config": cfg.to_dict(),
         "rule_options": dataclasses.asdict(opts) if dataclasses.is_dataclass(opts) else dict(opts),
         "activation": (getattr(activation, "__name__", repr(activation)) if activation is not None
                        else cfg.activation),
         "synapses": type(net.synapses).__name__,
         "dataset": {"name": data.name, "source_dir": str(data.source_dir),
                     "n_train": int(len(data.x_train)), "n_test": int(len(data.x_test))},
         "versions": {"eqspike": __version__, "numpy": np.__version__,
                      "python": platform.python_version()}}
    return d
