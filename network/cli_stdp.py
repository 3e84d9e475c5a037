"""``eqspike stdp``: the STDP window of the spike-driven update (see ``network/stdp.py``)."""
from __future__ import annotations

import argparse

EPILOG = """\
Protocol: one synapse; a presynaptic spike at t_pre; the postsynaptic leaky
membrane's input steps up (state rising) or down (falling) at t_post, or gets a
one-step pulse (--shape pulse). dW is accumulated by the same pairing and
update functions the eqspike trainer uses, per unit learning rate / beta.
Time is in discrete network steps (dimensionless); dW is dimensionless.

Writes, per pairing option P: stdp_P.csv (pairing, shape, polarity, dt_steps,
dW) and stdp_P.png.

Example:
  eqspike stdp --out runs/stdp
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "stdp", help="STDP window (dW vs t_post - t_pre) of the eqspike update, per pairing",
        description="Run the controlled pre/post protocol through the eqspike update code "
                    "and write dW vs t_post - t_pre as CSV and PNG for each pairing option.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/stdp", metavar="DIR",
                   help="output folder (default runs/stdp)")
    p.add_argument("--pairing", action="append", default=None,
                   choices=("same_step", "delayed", "both"),
                   help="pairing option(s) (repeatable; default: all three)")
    p.add_argument("--shape", action="append", default=None, choices=("step", "pulse"),
                   help="postsynaptic input change at t_post (repeatable; default: step and pulse)")
    p.add_argument("--span", type=int, default=15,
                   help="largest |t_post - t_pre| in steps (default 15)")
    p.add_argument("--eps", type=float, default=0.2,
                   help="membrane leak per step, dimensionless, in (0, 1] (default 0.2)")
    p.add_argument("--amplitude", type=float, default=0.4,
                   help="size of the postsynaptic input change, dimensionless (default 0.4)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from eqspike import atomic
    from eqspike.errors import ParameterError
    from eqspike.network.stdp import plot_window, stdp_table
    if args.span < 1:
        raise ParameterError(f"parameter 'span' = {args.span} must be >= 1 step")
    out = Path(args.out)
    pairings = args.pairing or ["same_step", "delayed", "both"]
    shapes = args.shape or ["step", "pulse"]
    for pairing in pairings:
        df = stdp_table((pairing,), span=args.span, shapes=tuple(shapes), eps=args.eps,
                        amplitude=args.amplitude)
        atomic.write_csv(out / f"stdp_{pairing}.csv", df)
        atomic.save_figure(out / f"stdp_{pairing}.png",
                           plot_window(df, f"eqspike STDP window, pairing={pairing}"))
        print(f"wrote {out / f'stdp_{pairing}.csv'} and .png")
    return 0
