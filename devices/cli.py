"""``eqspike device ...``: list models, characterise one in ngspice, fit a CSV,
run a variability Monte Carlo."""
from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers) -> None:
    from eqspike.cli import HelpFormatter
    dev = subparsers.add_parser("device", help="synapse devices: compact models, characterisation, profiles",
                                description="Synapse device models in ngspice -> DeviceProfile JSON. "
                                            "All values SI (V, A, S, s, J).",
                                formatter_class=HelpFormatter)
    sub = dev.add_subparsers(dest="device_command", metavar="SUBCOMMAND")

    p = sub.add_parser("list", help="list compact models and their parameters (with units)",
                       formatter_class=HelpFormatter)
    p.add_argument("--model", default=None, help="show only this model (default: all models)")
    p.set_defaults(func=_list)

    p = sub.add_parser("characterize", help="characterise a model in ngspice and write its profile",
                       description="Runs an N up + N down pulse train (read after each pulse), the "
                                   "quasi-static I-V loop, fits the NeuroSim form and writes "
                                   "profile.json, pulses.parquet, iv.parquet, metrics.json, "
                                   "pulses.png, iv.png to --out.  Cached by netlist hash.",
                       formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, help="model name (required; see 'eqspike device list')")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="model parameter override in the parameter's SI unit (repeatable), e.g. "
                        "r_series_ohm=400; names, units, ranges and defaults: 'eqspike device list'")
    p.add_argument("--drive", action="append", default=[], metavar="NAME=VALUE",
                   help="pulse drive override (repeatable): pulse_up_V, pulse_down_V, read_V, "
                        "read_gate_V (V); pulse_width_s, rise_s, read_s, gap_s (s); defaults: the "
                        "model's drive shown by 'eqspike device list'")
    p.add_argument("--pulses", type=int, default=None,
                   help="pulses per direction, integer in [2, 10000]; default: the model's (e.g. 127 "
                        "for taox_rram)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (required; created if absent)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the contents of an existing non-empty --out (removed first); "
                        "without it such a folder is refused")
    p.add_argument("--name", default=None, help="profile name (default: the model name)")
    p.add_argument("--c2c-sigma", type=float, default=None,
                   help="c2c spread to record in the profile, dimensionless, relative to "
                        "(G_max - G_min), in [0, 1] (default: not measured, recorded as 0)")
    p.add_argument("--d2d-sigma", type=float, default=0.0,
                   help="d2d spread to record in the profile, dimensionless (relative), in [0, 1]")
    p.add_argument("--no-iv", action="store_true", help="skip the I-V loop")
    p.add_argument("--no-cache", action="store_true", help="run ngspice even if a cached result exists")
    p.set_defaults(func=_characterize)

    p = sub.add_parser("fit", help="fit measured pulse trains (one train, or many devices x cycles) to a profile",
                       description="Two CSV layouts, told apart by the header.  Many devices x many "
                                   "cycles (long format): device_id, cycle, pulse (0 = before the "
                                   "train), polarity (up/down), G_S (S); optional V_V (V), I_A (A), "
                                   "energy_J (J); template and example: devices/data/cycles_*.csv. "
                                   "It estimates the mean dG(G), c2c from the cycle-to-cycle "
                                   "residuals, d2d from the spread of the per-device fits (95 % "
                                   "bootstrap CIs) and the write energy per pulse, and writes "
                                   "profile.json, fit_summary.json, fit_devices.csv, fit.csv, fit.png. "
                                   "One train: pulse (integer), direction (up/ltp or down/ltd), "
                                   "conductance_S (S); optional write_energy_J (J); writes "
                                   "profile.json, fit.csv and fit.png.  Both check the physics first: "
                                   "'up' must raise G on average (swapped labels are refused), "
                                   "repeated reads are refused (or merged: --on-duplicate merge).",
                       formatter_class=HelpFormatter)
    p.add_argument("csv", help="pulse CSV (columns: see above)")
    p.add_argument("--on-duplicate", choices=("refuse", "merge"), default="refuse",
                   help="repeated reads of one pulse: refuse the file, or average them with a warning")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="long format: bootstrap resamples over devices for the 95 %% CIs, integer in "
                        "[0, 100000] (0 = none)")
    p.add_argument("--bound-quantile", type=float, default=0.0, metavar="Q",
                   help="long format: a device's G_min / G_max as the Q / 1-Q quantiles of its reads, "
                        "Q in [0, 0.25) (0 = lowest / highest read; raise it for read-noise outliers)")
    p.add_argument("--seed", type=int, default=0, help="long format: bootstrap seed, integer >= 0")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (required; created if absent)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the contents of an existing non-empty --out (removed first); "
                        "without it such a folder is refused")
    p.add_argument("--name", default=None, help="profile name (default: the CSV file name)")
    p.add_argument("--method", choices=("fit", "table"), default="fit",
                   help="step table from the fitted NeuroSim curve or from the raw steps")
    p.add_argument("--pulse-up-V", type=float, default=None,
                   help="potentiating amplitude (V) (default: mean |V_V| of up pulses, else 1.0)")
    p.add_argument("--pulse-down-V", type=float, default=None,
                   help="depressing amplitude (V), negative (default: -mean |V_V| of down pulses, else -1.0)")
    p.add_argument("--pulse-width-s", type=float, default=1e-7, help="write pulse width (s)")
    p.add_argument("--read-voltage-V", type=float, default=0.1, help="read voltage (V)")
    p.set_defaults(func=_fit)

    p = sub.add_parser("variability", help="d2d and c2c Monte Carlo of a model",
                       description="Device-to-device: log-normal spread of the model's D2D parameters; "
                                   "cycle-to-cycle: log-normal per-pulse jitter of the switching rate.",
                       formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, help="model name (required; see 'eqspike device list')")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="model parameter override in the parameter's SI unit (repeatable); see "
                        "'eqspike device list'")
    p.add_argument("--devices", type=int, default=20, help="Monte Carlo device instances, integer in [1, 100000]")
    p.add_argument("--pulses", type=int, default=None,
                   help="pulses per direction, integer in [1, 10000] (default: the model's)")
    p.add_argument("--d2d-sigma", type=float, default=0.1,
                   help="d2d spread: log-normal std of the model's D2D parameters, dimensionless, in [0, 2]")
    p.add_argument("--c2c-sigma", type=float, default=0.0,
                   help="c2c spread: log-normal std of the per-pulse switching rate, dimensionless, in [0, 2]")
    p.add_argument("--strategy", choices=("auto", "one_netlist", "batched", "per_device"), default="auto",
                   help="all instances in one netlist, shared netlists one per worker, or one netlist per device")
    p.add_argument("--workers", type=int, default=None,
                   help="ngspice worker processes, integer >= 1 (batched/per_device; default: CPU cores)")
    p.add_argument("--seed", type=int, default=0, help="random seed, integer >= 0")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (required; created if absent)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the contents of an existing non-empty --out (removed first); "
                        "without it such a folder is refused")
    p.set_defaults(func=_variability)

    from .cli_aihwkit import add_parser as _add_aihwkit
    _add_aihwkit(sub)

    dev.set_defaults(func=lambda args: (dev.print_help(), 2)[1])


def _list(args: argparse.Namespace) -> int:
    from eqspike.params import describe_lines
    from .models import MODELS, get_model
    names = [args.model] if args.model else list(MODELS)
    for n in names:
        spec = get_model(n)
        print(f"{spec.name}  ({spec.kind}) - {spec.description}")
        print(f"    source: {spec.source}")
        d = spec.drive
        print(f"    default drive: {d.pulse_up_V:g} V / {d.pulse_down_V:g} V, {d.pulse_width_s:g} s pulses, "
              f"read {d.read_V:g} V; {spec.n_pulses} pulses per direction")
        print("\n".join(describe_lines(spec.params_cls, widths=(18, 16, 26))))
        print()
    return 0


def _characterize(args: argparse.Namespace) -> int:
    from eqspike.outdir import claim
    from eqspike.params import parse_overrides, replace_checked
    from .characterize import characterize
    from .pulses import resolve
    # characterize() checks every value, then that --out is a writable folder, before ngspice runs
    spec, params = resolve(args.model, None, parse_overrides(args.param))
    drive = replace_checked(spec.drive, parse_overrides(args.drive))
    with claim(args.out, "--out", overwrite=args.overwrite, resumable=False,
               command="eqspike device characterize", what="characterisation"):
        res = characterize(spec, params, drive=drive, n_pulses=args.pulses,
                           out_dir=args.out, cache=not args.no_cache, iv=not args.no_iv,
                           c2c_sigma=args.c2c_sigma, d2d_sigma=args.d2d_sigma, name=args.name)
    p = res.profile
    print(f"{p.name}: G {p.g_min_S:.4g}-{p.g_max_S:.4g} S (on/off {p.on_off:.3g}), {p.n_levels} levels, "
          f"NL {p.nl_ltp:.3g}/{p.nl_ltd:.3g}, write energy {p.write_energy_up_J:.3g}/{p.write_energy_down_J:.3g} J"
          f"{' (cached)' if res.cached else ''}")
    print(f"wrote {args.out}/profile.json and tables/plots")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from pathlib import Path
    from eqspike.atomic import write_csv
    from eqspike.outdir import claim
    from .fit import fit_csv
    from .fit_cycles import is_cycles_csv
    if is_cycles_csv(args.csv):
        return _fit_cycles(args)
    with claim(args.out, "--out", overwrite=args.overwrite, resumable=False, lock=False,
               command="eqspike device fit", what="fit") as out:   # removed again if the data are refused
        prof, data, m = fit_csv(args.csv, name=args.name, method=args.method,
                                pulse_up_V=1.0 if args.pulse_up_V is None else args.pulse_up_V,
                                pulse_down_V=-1.0 if args.pulse_down_V is None else args.pulse_down_V,
                                pulse_width_s=args.pulse_width_s, on_duplicate=args.on_duplicate,
                                read_voltage_V=args.read_voltage_V, png=str(out / "fit.png"))
    prof.to_json(out / "profile.json")
    write_csv(out / "fit.csv", data)
    print(f"{prof.name}: G {prof.g_min_S:.4g}-{prof.g_max_S:.4g} S, NL {prof.nl_ltp:.3g}/{prof.nl_ltd:.3g}, "
          f"c2c {prof.c2c_sigma:.3g}, {prof.n_levels} levels; wrote {out}/profile.json, fit.csv, fit.png")
    return 0


def _fit_cycles(args: argparse.Namespace) -> int:
    from pathlib import Path
    from eqspike.atomic import save_figure, write_csv, write_json
    from eqspike.outdir import claim
    from .fit_cycles import fit_cycles, plot_cycles
    with claim(args.out, "--out", overwrite=args.overwrite, resumable=False, lock=False,
               command="eqspike device fit", what="fit") as out:   # removed again if the data are refused
        fit = fit_cycles(args.csv, name=args.name or Path(args.csv).stem, method=args.method,
                         pulse_width_s=args.pulse_width_s, read_voltage_V=args.read_voltage_V,
                         pulse_up_V=args.pulse_up_V, pulse_down_V=args.pulse_down_V,
                         n_boot=args.bootstrap, seed=args.seed, on_duplicate=args.on_duplicate,
                         bound_quantile=args.bound_quantile)
        save_figure(out / "fit.png", plot_cycles(fit))
    fit.profile.to_json(out / "profile.json")
    write_json(out / "fit_summary.json", fit.summary)
    write_csv(out / "fit_devices.csv", fit.devices)
    write_csv(out / "fit.csv", fit.data)
    for w in fit.warnings:
        print(f"warning: {w}")
    p, e, ci = fit.profile, fit.summary["estimates"], fit.summary["ci95"]
    rng = lambda k: (f" (95 % CI {ci[k][0]:.3g}-{ci[k][1]:.3g})" if k in ci else "")  # noqa: E731
    gof = fit.summary["goodness_of_fit"]
    print(f"{p.name}: {fit.summary['n_devices']} devices; G {p.g_min_S:.4g}-{p.g_max_S:.4g} S, "
          f"NL {p.nl_ltp:.3g}/{p.nl_ltd:.3g}, {p.n_levels} levels; c2c {e['c2c_sigma']:.3g}"
          f"{rng('c2c_sigma')}, d2d {e['d2d_sigma']:.3g}{rng('d2d_sigma')}; write "
          f"{p.write_energy_up_J:.3g}/{p.write_energy_down_J:.3g} J per pulse; per-device R^2 "
          f"median {gof['r2_median']:.3f}, min {gof['r2_min']:.3f}")
    print(f"wrote {out}/profile.json, fit_summary.json, fit_devices.csv, fit.csv, fit.png")
    return 0


def _variability(args: argparse.Namespace) -> int:
    from pathlib import Path
    from eqspike.atomic import write_json, write_parquet
    from eqspike.outdir import claim
    from eqspike.params import parse_overrides
    from .pulses import resolve
    from .variability import monte_carlo
    spec, params = resolve(args.model, None, parse_overrides(args.param))
    with claim(args.out, "--out", overwrite=args.overwrite, resumable=False, lock=False,
               command="eqspike device variability", what="Monte Carlo"):   # removed again if refused
        res = monte_carlo(spec, params, n_devices=args.devices,
                          n_pulses=args.pulses, d2d_sigma=args.d2d_sigma,
                          c2c_sigma=args.c2c_sigma, strategy=args.strategy,
                          workers=args.workers, seed=args.seed, progress=True,
                          png=str(Path(args.out) / "variability.png"))
    write_parquet(Path(args.out) / "variability.parquet", res.table)
    write_json(Path(args.out) / "variability.json", res.summary)
    s = res.summary
    print(f"{args.model}: {args.devices} devices ({s['strategy']}, {s['wall_s']:.1f} s): "
          f"d2d G_max spread {s['d2d_g_max_rel']:.3g}, step-scale spread {s['d2d_step_rel']:.3g}, "
          f"c2c {s['c2c_sigma']:.3g}")
    return 0
