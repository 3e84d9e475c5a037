"""``eqspike train``: train a network with a learning rule on MNIST (or another IDX dataset)."""
from __future__ import annotations

import argparse
import dataclasses
import sys
import textwrap
import time


_EPILOG_HEAD = """\
Units: EP states, rates, beta, eps and learning rates are dimensionless
(states normalised to [0, 1]); T1/T2 count discrete time steps of the
network dynamics; batch sizes and --n-train/--n-test count images;
seconds are wall-clock seconds.

Data search order: --data-dir, $EQSPIKE_DATA_DIR (a folder holding mnist/
or the four IDX files), the user cache (~/.cache/eqspike/datasets/<name>);
MNIST is otherwise downloaded from public mirrors and verified (SHA-256).

Output folder (--out): config.json, metrics.csv (one row per epoch),
checkpoint.npz (after each epoch; --resume continues from it),
accuracy.png.

Example (the reference setting, 8 epochs, cosine schedule):
  eqspike train --epochs 8 --out runs/cep8
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's line breaks; defaults are written into each help text."""


def _rule_params_help() -> str:
    """'Rule parameters (--set KEY=VALUE)' section listing every rule's Params."""
    from eqspike.network.rules import RULES, _load_builtin
    from eqspike.params import describe
    try:
        _load_builtin()
    except Exception as e:  # a rule module under construction must not break --help
        return f"Rule parameters: (could not load all rules: {e})\n"
    lines = ["Rule parameters (--set KEY=VALUE):"]
    for name in sorted(RULES):
        pcls = getattr(RULES[name], "Params", None)
        rows = describe(pcls) if pcls is not None and dataclasses.is_dataclass(pcls) else []
        if not rows:
            lines.append(f"  {name}: (none)")
            continue
        lines.append(f"  {name}:")
        for r in rows:
            text = f"{r['name']} (default {r['default']!r}; {r['range']}): {r['doc']}"
            lines.extend(textwrap.wrap(text, 78, initial_indent="    ", subsequent_indent="        "))
    return "\n".join(lines) + "\n"


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _float_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def register(subparsers) -> None:
    from eqspike.network.config import TrainConfig
    D = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    p = subparsers.add_parser(
        "train", help="train a network (rate-based cep or spiking eqspike rule) on MNIST",
        description="Train a layered EP network on MNIST (or another IDX dataset);\n"
                    "prints train/test accuracy and seconds per epoch and writes a run folder.",
        epilog=_EPILOG_HEAD + "\n" + _rule_params_help(), formatter_class=_Formatter)
    a = p.add_argument
    g = p.add_argument_group("data and output")
    g.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder with the four IDX files (gz or raw), or a folder holding <name>/ "
                        "(default: the data search order below)")
    g.add_argument("--dataset-name", default="mnist", metavar="NAME",
                   help="dataset name: 'mnist' verifies the known SHA-256 sums and can download; "
                        "any other name loads an IDX folder without known checksums (default mnist)")
    g.add_argument("--out", default=None, metavar="DIR",
                   help="run folder (default: runs/<UTC timestamp>)")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint.npz (saved config is the "
                        "base; only --epochs, --n-test may change)")
    g.add_argument("--overwrite", action="store_true",
                   help="replace the contents of an existing non-empty --out (removed first); "
                        "without it (or --resume) such a folder is refused")
    g.add_argument("--no-progress", action="store_true",
                   help="no progress bar (default: shown when stderr is a terminal)")
    g = p.add_argument_group("network and rule")
    g.add_argument("--rule", default=None, help=f"learning rule: cep or eqspike (default {D['rule']})")
    g.add_argument("--sizes", type=_int_list, default=None, metavar="N0,N1,...,NL",
                   help="layer widths in neurons, input first (default "
                        f"{','.join(map(str, D['sizes']))})")
    g.add_argument("--activation", default=None, choices=("hard_sigmoid", "sigmoid"),
                   help=f"neuron activation rho (dimensionless; default {D['activation']})")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="set_params",
                   help="rule parameter (repeatable); see 'Rule parameters' below")
    g = p.add_argument_group("phases")
    g.add_argument("--T1", type=int, default=None, help=f"free-phase length in time steps (default {D['T1']})")
    g.add_argument("--T2", type=int, default=None,
                   help=f"nudged-phase length in time steps, per phase (default {D['T2']})")
    g.add_argument("--beta", type=float, default=None,
                   help=f"nudging strength, dimensionless, > 0 (default {D['beta']})")
    g.add_argument("--eps", type=float, default=None,
                   help=f"membrane step / leak per time step of spiking rules, dimensionless, "
                        f"in (0, 1] (default {D['eps']})")
    sym = g.add_mutually_exclusive_group()
    sym.add_argument("--symmetric", dest="symmetric", action="store_true", default=None,
                     help="+beta and -beta nudged phases, update = difference / (2 beta) (default)")
    sym.add_argument("--no-symmetric", dest="symmetric", action="store_false",
                     help="one +beta nudged phase, update = (nudged - free) / beta")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, help=f"passes over the training set (default {D['epochs']})")
    g.add_argument("--lr", type=_float_list, default=None, metavar="LR1,...,LRL",
                   help="learning rate per weight layer, dimensionless, >= 0; one value is "
                        f"used for all layers (default {','.join(map(str, D['lrs']))})")
    g.add_argument("--schedule", default=None, choices=("constant", "cosine"),
                   help=f"learning-rate schedule over the epochs (default {D['lr_schedule']})")
    g.add_argument("--batch-size", type=int, default=None, help=f"mini-batch size in images (default {D['batch_size']})")
    g.add_argument("--n-train", type=int, default=None,
                   help="use the first N training images (default: all 60,000 for MNIST)")
    g.add_argument("--n-test", type=int, default=None,
                   help="use the first N test images (default: all 10,000 for MNIST)")
    g.add_argument("--seed", type=int, default=None, help=f"random seed (default {D['seed']})")
    g.add_argument("--max-weight", type=float, default=None,
                   help=f"divergence guard: stop when any |W| (dimensionless weight) exceeds this, > 0 "
                        f"(default {D['max_weight']:g})")
    p.set_defaults(func=run)


_MAP = {"rule": "rule", "sizes": "sizes", "activation": "activation", "T1": "T1", "T2": "T2",
        "beta": "beta", "eps": "eps", "symmetric": "symmetric_nudging", "epochs": "epochs",
        "lr": "lrs", "schedule": "lr_schedule", "batch_size": "batch_size", "n_train": "n_train",
        "n_test": "n_test", "seed": "seed", "max_weight": "max_weight"}


def build_config(args, base=None):
    """TrainConfig from parsed args over ``base`` (defaults, or a resumed run's config)."""
    from eqspike.network.config import TrainConfig
    from eqspike.params import parse_overrides
    d = base.to_dict() if base is not None else TrainConfig().to_dict()
    for opt, field in _MAP.items():
        v = getattr(args, opt, None)
        if v is not None:
            d[field] = v
    if args.set_params:
        rp = dict(d.get("rule_params") or {})
        for item in args.set_params:
            # parse_overrides names the option --param; give our own message first
            if "=" not in item:
                from eqspike.errors import ParameterError
                raise ParameterError(f"--set {item!r}: expected KEY=VALUE")
        rp.update(parse_overrides(args.set_params))
        d["rule_params"] = rp
    return TrainConfig.from_dict(d)


def run(args) -> int:
    from pathlib import Path

    from eqspike.network.config import TrainConfig
    from eqspike.network.trainer import CHECKPOINT, load_checkpoint
    from eqspike.outdir import claim

    progress = not args.no_progress and sys.stderr.isatty()
    if args.resume:
        if not args.out:
            from eqspike.errors import ParameterError
            raise ParameterError("--resume needs --out RUN_FOLDER (the run to continue)")
        _, meta = load_checkpoint(Path(args.out) / CHECKPOINT)
        cfg = build_config(args, TrainConfig.from_dict(meta["config"]))
    else:
        cfg = build_config(args)
    out = Path(args.out) if args.out else Path("runs") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    # refused if another process writes there, or if it holds a run and neither
    # --resume nor --overwrite was given; locked while this run writes
    with claim(out, "--out", resume=args.resume, overwrite=args.overwrite,
               command="eqspike train", what="training run"):
        return _run(args, cfg, out, progress)


def _run(args, cfg, out, progress: bool) -> int:
    from tqdm import tqdm

    from eqspike.datasets import load_dataset
    from eqspike.network.trainer import check_memory, train

    check_memory(cfg)   # before the dataset is loaded
    data = load_dataset(args.data_dir, name=args.dataset_name, progress=progress)
    print(f"eqspike train: rule {cfg.rule}, sizes {'-'.join(map(str, cfg.sizes))}, "
          f"{min(len(data.x_train), cfg.n_train or len(data.x_train))} training / "
          f"{min(len(data.x_test), cfg.n_test or len(data.x_test))} test images "
          f"from {data.source_dir}; run folder {out}", flush=True)

    def on_epoch(row, net):
        tqdm.write(f"epoch {row['epoch']:3d}/{cfg.epochs}: train acc {100 * row['train_acc']:6.2f} %  "
                   f"test acc {100 * row['test_acc']:6.2f} %  {row['seconds']:7.1f} s/epoch "
                   f"(+{row['eval_seconds']:.1f} s test)")
        sys.stdout.flush()

    res = train(cfg, data, out, resume=args.resume, progress=progress, on_epoch=on_epoch)
    print(f"final test accuracy {100 * res.test_acc:.2f} %; results in {out}")
    return 0
