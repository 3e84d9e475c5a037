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


#: Largest --span: the protocol runs 2 span + 1 simulations of ~2 span steps each
#: (time and memory grow as span^2; 1000 takes a few seconds).
MAX_SPAN = 1000


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
    p.add_argument("--overwrite", action="store_true",
                   help="replace the contents of an existing non-empty --out (removed first); "
                        "without it such a folder is refused")
    p.add_argument("--span", type=int, default=15,
                   help=f"largest |t_post - t_pre| in steps, integer in [1, {MAX_SPAN}] (default 15)")
    p.add_argument("--eps", type=float, default=0.2,
                   help="membrane leak per step, dimensionless, in (0, 1] (default 0.2)")
    p.add_argument("--amplitude", type=float, default=0.4,
                   help="size of the postsynaptic input change, dimensionless, in [-10, 10] (default 0.4)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from eqspike.outdir import claim
    from eqspike.params import check
    check("span", args.span, unit="steps", low=1, high=MAX_SPAN, integer=True)
    check("eps", args.eps, low=0, low_open=True, high=1)
    check("amplitude", args.amplitude, low=-10, high=10)
    pairings = args.pairing or ["same_step", "delayed", "both"]
    shapes = args.shape or ["step", "pulse"]
    with claim(Path(args.out), "--out", overwrite=args.overwrite, resumable=False,
               command="eqspike stdp", what="STDP window") as out:
        _write(out, pairings, shapes, args)
    return 0


def _write(out, pairings, shapes, args) -> None:
    from eqspike import atomic
    from eqspike.network.stdp import plot_window, stdp_table
    for pairing in pairings:
        df = stdp_table((pairing,), span=args.span, shapes=tuple(shapes), eps=args.eps,
                        amplitude=args.amplitude)
        atomic.write_csv(out / f"stdp_{pairing}.csv", df)
        atomic.save_figure(out / f"stdp_{pairing}.png",
                           plot_window(df, f"eqspike STDP window, pairing={pairing}"))
        print(f"wrote {out / f'stdp_{pairing}.csv'} and .png")
