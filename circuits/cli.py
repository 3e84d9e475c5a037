"""``eqspike circuit ...``: list the neuron/crossbar circuits, characterise one in ngspice."""
from __future__ import annotations

import argparse

__all__ = ["register"]

CROSSBAR = "crossbar_column"


def register(subparsers) -> None:
    from eqspike.cli import HelpFormatter
    cir = subparsers.add_parser("circuit", help="neuron and crossbar circuits: f-I, energy per spike, profiles",
                                description="Transistor-level neurons (PTM 180 nm) and crossbar columns in "
                                            "ngspice -> NeuronProfile / CrossbarProfile JSON.  All values SI "
                                            "(V, A, F, S, s, J, Hz, W).",
                                formatter_class=HelpFormatter)
    sub = cir.add_subparsers(dest="circuit_command", metavar="SUBCOMMAND")

    p = sub.add_parser("list", help="list circuits and their parameters (with units and ranges)",
                       formatter_class=HelpFormatter)
    p.add_argument("--circuit", default=None, help="show only this circuit (default: all circuits)")
    p.set_defaults(func=_list)

    p = sub.add_parser("characterize", help="characterise a circuit in ngspice and write its profile",
                       description="Neurons: f-I sweep over [i_min_A, i_max_A] (log-spaced), energy per "
                                   "spike (supply energy over whole periods, standby subtracted), "
                                   "membrane waveforms; writes profile.json, fi.parquet/.csv, "
                                   "waveforms.parquet, fi.png, energy_vs_rate.png, waveforms.png.  "
                                   f"'{CROSSBAR}': charge per read event, read energy, IR drop vs wire "
                                   "resistance; writes profile.json, ir_drop.csv/.png.  Cached by netlist hash.",
                       formatter_class=HelpFormatter)
    p.add_argument("--circuit", required=True, help="circuit name (required; see 'eqspike circuit list')")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="circuit parameter override in the parameter's SI unit (repeatable), e.g. "
                        "c_fb_F=20e-15; names, units, ranges and defaults: 'eqspike circuit list'")
    p.add_argument("--points", type=int, default=40,
                   help="input currents in the f-I sweep (neurons; log-spaced over [i_min_A, i_max_A]), "
                        "integer in [3, 10000]")
    p.add_argument("--workers", type=int, default=2, help="ngspice worker processes, integer in [1, 1024]")
    p.add_argument("--tol-scale", type=float, default=1.0,
                   help="dimensionless factor on reltol/abstol/vntol, in (0, 10] (0.1 = ten times tighter)")
    p.add_argument("--no-waveforms", action="store_true", help="skip the membrane waveforms")
    p.add_argument("--no-cache", action="store_true", help="run ngspice even if a cached result exists")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (required; created if absent)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the contents of an existing non-empty --out (removed first); "
                        "without it such a folder is refused")
    p.set_defaults(func=_characterize)

    cir.set_defaults(func=lambda args: (cir.print_help(), 2)[1])


def _list(args: argparse.Namespace) -> int:
    from eqspike.errors import ParameterError
    from eqspike.params import describe_lines
    from .crossbar import CrossbarColumn
    from .neurons import NEURONS
    from .technology import TECHNOLOGIES
    table = {**{k: v for k, v in NEURONS.items()}, CROSSBAR: CrossbarColumn}
    names = [args.circuit] if args.circuit else list(table)
    for n in names:
        if n not in table:
            raise ParameterError(f"unknown circuit {n!r}; known circuits: {', '.join(table)}")
        cls = table[n]
        first = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{n} - {first}")
        print("\n".join(describe_lines(cls, widths=(20, 18, 24))))
        print()
    for t in TECHNOLOGIES.values():
        print(f"technology {t.name}: {t.model_file}, VDD {t.vdd_nominal_V:g} V; {t.source}")
    return 0


def _characterize(args: argparse.Namespace) -> int:
    from eqspike.errors import ParameterError
    from eqspike.outdir import claim
    from eqspike.params import parse_overrides
    from .neurons import NEURONS
    if args.circuit not in NEURONS and args.circuit != CROSSBAR:
        raise ParameterError(f"unknown circuit {args.circuit!r}; known circuits: "
                             f"{', '.join([*NEURONS, CROSSBAR])}")
    overrides = parse_overrides(args.param)
    with claim(args.out, "--out", overwrite=args.overwrite, resumable=False, lock=False,
               command="eqspike circuit characterize", what="characterisation") as out:
        return _characterize_into(args, overrides, out)


def _characterize_into(args: argparse.Namespace, overrides: dict, out) -> int:
    if args.circuit == CROSSBAR:
        from pathlib import Path
        import shutil
        from eqspike.cache import entry_dir
        from .crossbar import crossbar_profile
        prof = crossbar_profile(cache=not args.no_cache, **overrides)
        src = entry_dir("circuit", prof.provenance["netlist_hash"])
        for f in src.iterdir():
            if f.is_file() and not f.name.startswith("."):
                shutil.copyfile(f, out / f.name)
        print(f"{CROSSBAR}: read energy {prof.read_energy_per_event_J:.4g} J at G = {prof.g_ref_S:g} S "
              f"(wire part {prof.wire_energy_per_event_J:.3g} J); IR-drop error {prof.ir_drop_error:.3g} "
              f"at {prof.wire_resistance_ohm:g} ohm per cell")
        print(f"wrote {out}/profile.json")
        return 0
    from .characterize import characterize
    from .neurons import SolverOptions, make_neuron
    neuron = make_neuron(args.circuit, **overrides)
    res = characterize(neuron, n_points=args.points, out_dir=args.out, cache=not args.no_cache,
                       workers=args.workers, solver=SolverOptions(tol_scale=args.tol_scale),
                       with_waveforms=not args.no_waveforms, progress=True)
    p = res.profile
    print(f"{p.name}: max rate {p.max_rate_Hz:.4g} Hz at {p.input_scale_A:.3g} A, threshold "
          f"{p.threshold_current_A:.3g} A, {p.energy_per_spike_J:.3g} J/spike at {p.nominal_rate_Hz:.3g} Hz, "
          f"leakage {p.leakage_power_W:.3g} W{' (cached)' if res.cached else ''}")
    print(f"wrote {res.out_dir}/profile.json and tables/plots")
    return 0
