"""``eqspike device aihwkit ...``: export a DeviceProfile as an aihwkit configuration
file, import aihwkit presets or configuration files as DeviceProfiles, list presets."""
from __future__ import annotations

import argparse

__all__ = ["add_parser"]


def add_parser(sub) -> None:
    from eqspike.cli import HelpFormatter
    a = sub.add_parser("aihwkit", help="bridge to IBM aihwkit: export profiles, import presets",
                       description="DeviceProfile <-> aihwkit pulsed-device configuration; the "
                                   "mapping (equations) is in docs/aihwkit.md.  aihwkit itself "
                                   "is not needed.",
                       formatter_class=HelpFormatter)
    s = a.add_subparsers(dest="aihwkit_command", metavar="SUBCOMMAND")
    p = s.add_parser("export", help="write a DeviceProfile as a short aihwkit configuration file",
                     formatter_class=HelpFormatter)
    p.add_argument("profile", help="DeviceProfile JSON")
    p.add_argument("--out", required=True, metavar="FILE.py", help="Python file to write (required)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--model", choices=("piecewise", "softbounds"), default="piecewise",
                   help="PiecewiseStepDevice from the tabulated steps, or a least-squares "
                        "SoftBoundsDevice (default: piecewise)")
    p.add_argument("--nodes", type=int, default=63,
                   help="piecewise nodes over the range, integer in [2, 63]; aihwkit GPU kernels take < 64 (default: 63)")
    p.add_argument("--w-min", type=float, default=-1.0, help="aihwkit weight at g_min_S, dimensionless (default: -1)")
    p.add_argument("--w-max", type=float, default=1.0, help="aihwkit weight at g_max_S, dimensionless (default: 1)")
    p.set_defaults(func=_export)
    p = s.add_parser("import", help="DeviceProfile JSON from an aihwkit preset name or configuration file",
                     formatter_class=HelpFormatter)
    p.add_argument("source", help="preset name (see `eqspike device aihwkit presets`) or a file "
                                  "written by `export`")
    p.add_argument("--out", required=True, metavar="JSON", help="profile JSON to write (required)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--g-min-S", type=float, default=None,
                   help="conductance (S) at w_min, in (0, 1) (default: the file's, or 1e-6 for presets)")
    p.add_argument("--g-max-S", type=float, default=None,
                   help="conductance (S) at w_max, in (0, 1) (default: the file's, or 1e-5 for presets)")
    p.add_argument("--write-energy-J", type=float, default=None,
                   help="energy per programming pulse (J), >= 0 (default: the file's, or 0: unknown)")
    p.add_argument("--name", default=None, help="profile name (default: aihwkit_<preset> or the file's)")
    p.set_defaults(func=_import)
    p = s.add_parser("presets", help="list aihwkit's published presets known here, with sources",
                     formatter_class=HelpFormatter)
    p.set_defaults(func=_presets)
    a.set_defaults(func=lambda args: (a.print_help(), 2)[1])


def _out_file(args: argparse.Namespace):
    """``--out`` as a file: its folder writable, not a folder, not replaced unless
    ``--overwrite`` (checked before any work)."""
    from eqspike.errors import ParameterError
    from eqspike.outdir import file_target
    path = file_target(args.out, "--out")
    if path.exists() and not args.overwrite:
        raise ParameterError(f"--out {str(path)!r} exists; give --overwrite to replace it")
    return path


def _export(args: argparse.Namespace) -> int:
    from .aihwkit_bridge import export_config
    from .profile import DeviceProfile
    out = _out_file(args)
    prof = DeviceProfile.from_json(args.profile)
    path = export_config(prof, out, model=args.model, n_nodes=args.nodes,
                         w_min=args.w_min, w_max=args.w_max)
    print(f"{prof.name}: wrote {path} (aihwkit {args.model}; `from {path.stem} import device`)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path
    from .aihwkit_bridge import import_config, import_preset
    out = _out_file(args)
    kw = {k: v for k, v in (("g_min_S", args.g_min_S), ("g_max_S", args.g_max_S),
                            ("write_energy_J", args.write_energy_J), ("name", args.name))
          if v is not None}
    prof = import_config(args.source, **kw) if Path(args.source).is_file() else import_preset(args.source, **kw)
    prof.to_json(out)
    nm = prof.provenance["aihwkit"]["not_modelled"]
    print(f"{prof.name}: G {prof.g_min_S:.4g}-{prof.g_max_S:.4g} S (assumed), {prof.n_pulses} pulses "
          f"per direction, NL {prof.nl_ltp:.3g}/{prof.nl_ltd:.3g}, c2c {prof.c2c_sigma:.3g}, d2d "
          f"{prof.d2d_sigma:.3g}; wrote {out}")
    if nm:
        print("not modelled here (kept in the provenance): " + ", ".join(f"{k}={v}" for k, v in nm.items()))
    return 0


def _presets(args: argparse.Namespace) -> int:
    from .aihwkit_bridge import AIHWKIT_COMMIT, PRESETS
    for k, e in PRESETS.items():
        print(f"{k:16s} {e['class']:26s} {e['paper']}")
    print(f"values: github.com/IBM/aihwkit src/aihwkit/simulator/presets/devices.py @ {AIHWKIT_COMMIT[:7]}")
    return 0
