"""The ``eqspike`` console command.

Each command group lives in its own module exposing
``register(subparsers)``; that function adds its sub-parser(s) and sets
``func`` (called with the parsed ``args``; returns an exit code or None).
Heavy imports happen inside ``func`` so ``eqspike --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: Modules that register sub-commands, in the order shown by --help.
COMMAND_MODULES = [
    "eqspike.devices.cli",
    "eqspike.circuits.cli",
    "eqspike.network.cli_run",
    "eqspike.network.cli_train",
    "eqspike.network.cli_stdp",
    "eqspike.sweeps.cli",
    "eqspike.validation.cli",
]

#: Commands that run the compiled (numba) kernels: their threads are configured
#: (``eqspike/threads.py``) and announced before the command starts.
THREADED_COMMANDS = {"run", "compare", "train", "sweep", "validate"}

DESCRIPTION = """\
eqspike: spike-driven Equilibrium Propagation from ngspice device and circuit
models to a trained network, with an energy ledger.

All physical quantities are SI: volts (V), amperes (A), siemens (S),
seconds (s), joules (J), farads (F), hertz (Hz).  Every sub-command has its
own --help listing each option with its unit and default.
"""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults and keeps the description's line breaks.

    No "(default: None)" / "(default: False)" / "(default: [])" is appended:
    such an option's help says itself what happens when it is not given
    (required, a flag, repeatable, or "None: ...")."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default == []:
            return action.help or ""
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eqspike", description=DESCRIPTION,
                                     formatter_class=HelpFormatter)
    from eqspike import __version__
    parser.add_argument("--version", action="version", version=f"eqspike {__version__}")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of the compiled kernels (0 = all usable CPUs; "
                             "default $EQSPIKE_THREADS or 0); see eqspike/threads.py")
    parser.add_argument("--threading-layer", default=None,
                        choices=("default", "omp", "tbb", "workqueue"),
                        help="numba threading layer (default $EQSPIKE_THREADING_LAYER or omp)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _refuse_non_finite(args: argparse.Namespace) -> None:
    """No option takes NaN or infinity: argparse's ``float`` accepts 'nan' and
    'inf', which would flow silently into the physics (empty dW columns, NaN
    energies); refused here once for every command."""
    import math
    from eqspike.errors import ParameterError
    for dest, value in vars(args).items():
        vals = value if isinstance(value, (list, tuple)) else (value,)
        for v in vals:
            if isinstance(v, float) and not math.isfinite(v):
                raise ParameterError(f"--{dest.replace('_', '-')} = {value!r}: expected a finite "
                                     "number (nan and inf are refused)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from eqspike.errors import EqspikeError
    try:
        _refuse_non_finite(args)
        if args.command in THREADED_COMMANDS:   # compiled kernels: threads set here, shown
            from eqspike import threads
            threads.configure(threads.ThreadConfig.from_env(args.threads, args.threading_layer))
        rc = args.func(args)
    except EqspikeError as e:
        print(f"eqspike: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eqspike: interrupted; results already written are kept", file=sys.stderr)
        return 130
    except (OSError, MemoryError) as e:
        # the machine, not the input: a full disk, a folder made read-only meanwhile,
        # memory taken by other jobs.  One line (EQSPIKE_DEBUG=1 shows the traceback);
        # files are written atomically, so what was written before is complete.
        import os
        if os.environ.get("EQSPIKE_DEBUG"):
            raise
        if isinstance(e, MemoryError):
            what = "out of memory (the estimate allowed it, other processes may hold memory now)"
        else:
            what = f"{e.strerror or e}" + (f": {e.filename!r}" if e.filename else "")
        print(f"eqspike: error: {what}; results already written are kept", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
