"""``eqspike run`` (the main job) and ``eqspike compare`` (profiles side by side).

``eqspike run``: characterise the default device (ngspice, cached) and the
default neuron and crossbar circuits (cached), train EqSpike on MNIST with
them, and write a report folder (report.md, energy table and bar chart, GPU
ratio, pulse response, f-I curve, STDP window).

``eqspike compare --profile A.json --profile B.json``: the same network with
ideal synapses and with each device, accuracy and energy side by side.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DEFAULTS = {"n_train": None, "n_test": None, "epochs": 3}
FULL = {"n_train": None, "n_test": None, "epochs": 12}

_EPILOG = """\
Units: conductances in siemens (S), energies in joules (J), times in seconds
(s), rates in hertz (Hz); learning rates, beta, eps and w_max are
dimensionless (weights W = (G+ - G-) / G_ref).

Training recipe: the eqspike rule's defaults (docs/eqspike-rule.md: Bernoulli
spikes with common noise in the +-beta phases, pairing both, end-of-phase
averaging over 10 steps, sigma-delta inference), beta 1, lr 0.1 / 0.03,
cosine schedule; synapse pulses by the accumulate policy (a digital residual
per synapse: docs/hardware.md).  Default size: all 60,000 training / 10,000
test images x 3 epochs (2.0 min on 2 idle cores once the ngspice
characterisations are cached); --full: 12 epochs (about 7.5 min).  Use
--n-train/--n-test/--epochs for a quicker look.

Report folder (--out, default reports/<UTC timestamp>): report.md (slides-
ready summary), energy_breakdown.csv/.png, energy_summary.json,
gpu_comparison.csv, gpu_ratio.png, device_pulse_response.png,
neuron_fi.png, stdp_window.png/.csv, the three profiles as JSON, the
options (run_args.json) and the training run (metrics.csv, accuracy.png,
checkpoint.npz).  An existing non-empty --out is refused unless --overwrite
(cleared first) or, for run, --resume (continue an interrupted run with its
saved options and profiles); the folder is locked while the run writes.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps line breaks; defaults are written into each help text."""


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _add_common(p) -> None:
    from eqspike.network.synapses import POLICIES, SCHEMES
    g = p.add_argument_group("data and output")
    g.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder holding <dataset-name>/ or the four IDX files (default: "
                        "$EQSPIKE_DATA_DIR, then the user cache)")
    g.add_argument("--dataset-name", default="mnist", metavar="NAME",
                   help="IDX dataset name: 'mnist' is checked against its built-in SHA-256 sums "
                        "and can be downloaded; any other name loads the four IDX files from "
                        "--data-dir (or DIR/NAME), verified by a SHA256SUMS file beside them when "
                        "present; input and output layer sizes follow the data (default: mnist)")
    g.add_argument("--out", default=None, metavar="DIR", help="report folder (default reports/<UTC time>)")
    g.add_argument("--overwrite", action="store_true",
                   help="replace the contents of an existing non-empty --out (removed first); "
                        "without it such a folder is refused")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    g = p.add_argument_group("circuits")
    g.add_argument("--neuron", default="default", metavar="JSON|default|ideal",
                   help="neuron profile: 'default' characterises the default neuron circuit in "
                        "ngspice (cached), 'ideal' a hard-sigmoid stand-in, or a NeuronProfile JSON "
                        "(default: default)")
    g.add_argument("--crossbar", default="default", metavar="JSON|default|ideal",
                   help="crossbar profile: 'default' (ngspice, cached), 'ideal' (analytic V^2 G t, "
                        "0.1 V, 10 ns) or a CrossbarProfile JSON (default: default)")
    g.add_argument("--rho", default="neuron", choices=("neuron", "hard_sigmoid"),
                   help="activation: the neuron's f-I curve, or the hard sigmoid (default: neuron)")
    g = p.add_argument_group("synapses (differential device pairs)")
    g.add_argument("--policy", default="accumulate", choices=POLICIES,
                   help="pulse count from dW: sign (Manhattan), round, stochastic rounding, "
                        "accumulate (mixed precision: a digital residual per synapse, pulses "
                        "for whole steps only; its adds are priced in the ledger at 0.9 pJ each) "
                        "(default: accumulate, measured best: docs/hardware.md)")
    g.add_argument("--scheme", default="potentiate", choices=SCHEMES,
                   help="which device gets the pulses (default: potentiate)")
    g.add_argument("--w-max", type=_floats, default=(0.07, 0.14), metavar="W1[,W2]",
                   help="weight of one device swept over its full range, per weight layer "
                        "(dimensionless; G_ref = (g_max - g_min) / w_max) (default: 0.07,0.14)")
    g.add_argument("--accumulator-energy", type=float, default=0.9e-12, metavar="J",
                   help="energy of one update of a synapse's digital residual (accumulate policy), "
                        "in J, >= 0 (default: 9e-13 = Horowitz 45 nm fp32 add, a floor; "
                        "a narrower fixed-point residual costs less)")
    g.add_argument("--bias-share", type=int, default=128, metavar="N",
                   help="neurons sharing one bias generator (each generator draws the neuron's measured bias "
                        "branch power), integer >= 1 (default: 128)")
    g.add_argument("--max-pulses", type=int, default=8, help="most pulses per synapse per update (default: 8)")
    g.add_argument("--refresh", default="periodic", choices=("none", "periodic"),
                   help="re-program saturating pairs to the same W (default: periodic)")
    g.add_argument("--refresh-every", type=int, default=50, help="updates between refreshes (default: 50)")
    g.add_argument("--quantize", default="levels", choices=("levels", "none"),
                   help="snap G to the device's n_levels states (default: levels)")
    g = p.add_argument_group("training mode")
    g.add_argument("--mode", default="simulator", choices=("simulator", "chip", "both"),
                   help="simulator: a mini-batch's updates summed in float, then pulses (--policy); "
                        "chip: as a chip would, batch 1, weights changed only by pulses from spike "
                        "coincidences, every update operation priced (--chip-policy); both: train "
                        "both and report them side by side (default: simulator)")
    g.add_argument("--chip-policy", default="pulses", choices=("pulses", "residual", "residual_float"),
                   help="chip mode: pulses (in-situ, no per-synapse state), residual (B-bit "
                        "fixed-point register per synapse, --residual-bits) or residual_float "
                        "(float32 register, reference) (default: pulses)")
    g.add_argument("--residual-bits", type=int, default=8, metavar="B",
                   help="chip mode, residual policy: register width in bits, 2-32 (default: 8)")
    g.add_argument("--prob-scale", type=float, default=1.0,
                   help="chip mode: multiplies the coincidence pulse probability, > 0 "
                        "(default: 1 = unbiased for the nominal step)")
    g.add_argument("--chip-phases", default="difference", choices=("difference", "separate"),
                   help="chip mode: the -beta phase pulses its difference to the +beta phase "
                        "(per-neuron traces), or each phase pulses on its own (default: difference)")
    g.add_argument("--register-file", default="banked", choices=("banked", "per_layer"),
                   help="chip mode, residual policies: where the registers sit, for their "
                        "pricing: banked (SRAM banks of --register-bank-bytes next to the arrays) "
                        "or per_layer (one SRAM per layer: a what-if) (default: banked)")
    g.add_argument("--register-bank-bytes", type=int, default=8192, metavar="BYTES",
                   help="chip mode, banked register file: bytes per SRAM bank, 8192-1048576 "
                        "(Horowitz ISSCC 2014 table range) (default: 8192)")
    g.add_argument("--neuron-register-bytes", type=int, default=8192, metavar="BYTES",
                   help="chip mode: bytes of the SRAM bank holding the per-neuron registers "
                        "(+beta traces, biases, restart state), 8192-1048576; 8192 is the "
                        "table's smallest point, an upper bound for such small stores (default: 8192)")
    g.add_argument("--bias-bits", type=int, default=16, metavar="BITS",
                   help="chip mode: width of a neuron's bias register, 1-32 bits (default: 16)")
    g.add_argument("--trace-bits", type=int, default=8, metavar="BITS",
                   help="chip mode: width of a stored +beta activity change, 1-32 bits (default: 8)")
    g.add_argument("--sense-energy", type=float, default=1.94e-12, metavar="J",
                   help="chip mode: energy of one current-sense device read during refresh, J "
                        "(default: 1.94e-12 = 64.67 uW x 30 ns, Hu et al. 2025, 180 nm)")
    g = p.add_argument_group("training")
    g.add_argument("--full", action="store_true",
                   help="paper scale: 12 epochs instead of 3 (about 7.5 min on 2 idle cores)")
    g.add_argument("--n-train", type=int, default=None,
                   help="training images (default: all 60,000)")
    g.add_argument("--n-test", type=int, default=None,
                   help="test images (default: all 10,000)")
    g.add_argument("--epochs", type=int, default=None, help=f"epochs (default {DEFAULTS['epochs']}; --full: 12)")
    g.add_argument("--hidden", type=int, default=500, help="hidden neurons of the pixels-H-classes network (784-H-10 on MNIST) (default: 500)")
    g.add_argument("--T1", type=int, default=60, help="free-phase steps (default: 60)")
    g.add_argument("--T2", type=int, default=20, help="nudged-phase steps, each (default: 20)")
    g.add_argument("--beta", type=float, default=1.0, help="nudging strength, dimensionless (default: 1.0)")
    g.add_argument("--lr", type=_floats, default=(0.1, 0.03), metavar="LR1,LR2",
                   help="learning rates per weight layer, dimensionless (default: 0.1,0.03)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    g.add_argument("--set", dest="rule_params", action="append", default=None, metavar="KEY=VALUE",
                   type=_rule_param,
                   help="an eqspike rule option (repeatable), e.g. --set pairing=delayed; "
                        "see `eqspike train --help` for the options, their units and defaults "
                        "(default: the rule's defaults: Bernoulli spikes, pairing both, "
                        "common noise, end-of-phase averaging over 10 steps)")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="main job: characterise device + neuron, train EqSpike on MNIST (or --dataset-name), energy report",
        description="Characterise the default device and neuron circuits (ngspice, cached), train\n"
                    "EqSpike on MNIST with them and write a report folder with accuracy, energy\n"
                    "per inference and per training example, and the GPU comparison.",
        epilog=_EPILOG.format(**DEFAULTS), formatter_class=_Formatter)
    p.add_argument("--device", default="taox_rram", metavar="MODEL|JSON|ideal",
                   help="synapse device: a model characterised in ngspice (taox_rram: 128-level "
                        "RRAM, fefet: 32-level FeFET), a DeviceProfile JSON, or 'ideal' float "
                        "synapses (default: taox_rram)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out from its checkpoint.npz, with the "
                        "options, device, neuron and crossbar profiles saved there "
                        f"({RUN_ARGS}, *_profile.json); the result equals the uninterrupted run's")
    _add_common(p)
    p.set_defaults(func=run_main)
    p.set_defaults(_option_defaults={a.dest: a.default for a in p._actions})

    c = subparsers.add_parser(
        "compare", help="train the same network with ideal synapses and with each device profile",
        description="Train the same EqSpike network with ideal synapses and with each given device\n"
                    "profile; plot accuracy and energy side by side and write compare.csv.",
        epilog=_EPILOG.format(**DEFAULTS), formatter_class=_Formatter)
    c.add_argument("--profile", action="append", default=[], metavar="JSON|MODEL",
                   help="device profile JSON or characterised model name (repeatable; "
                        "default: taox_rram and fefet)")
    c.add_argument("--no-ideal", action="store_true", help="skip the ideal-synapse baseline")
    _add_common(c)
    c.set_defaults(func=run_compare)


# --------------------------------------------------------------------------- helpers
def _say(msg: str) -> None:
    from tqdm import tqdm
    tqdm.write(f"eqspike: {msg}")
    sys.stdout.flush()


def _rule_param(text: str):
    from eqspike.errors import ParameterError
    from eqspike.params import parse_overrides
    try:
        return next(iter(parse_overrides([text]).items()))
    except ParameterError:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. pairing=delayed), got {text!r}") from None


def _train_config(args):
    from eqspike.network.config import TrainConfig
    sz = FULL if args.full else DEFAULTS
    n_train = args.n_train if args.n_train is not None else sz["n_train"]
    n_test = args.n_test if args.n_test is not None else sz["n_test"]
    epochs = args.epochs if args.epochs is not None else sz["epochs"]
    return TrainConfig(sizes=(784, int(args.hidden), 10), rule="eqspike", epochs=epochs,
                       batch_size=20, T1=args.T1, T2=args.T2, beta=args.beta, lrs=args.lr,
                       lr_schedule="cosine", symmetric_nudging=True, seed=args.seed,
                       n_train=n_train, n_test=n_test,
                       rule_params=dict(args.rule_params or {}))


def _syn_config(args, n_layers: int = 2):
    from eqspike.errors import ParameterError
    from eqspike.network.synapses import DeviceSynapseConfig
    e = args.accumulator_energy
    if not (e >= 0 and e < 1e-6):
        raise ParameterError(f"--accumulator-energy = {e!r} is outside the allowed range "
                             "[0, 1e-6) J")
    if len(args.w_max) not in (1, n_layers):  # checked before ngspice and MNIST, not after
        raise ParameterError(f"--w-max = {','.join(map(str, args.w_max)) or '(empty)'} has "
                             f"{len(args.w_max)} values; the network has {n_layers} weight layers "
                             f"(give 1 or {n_layers})")
    return DeviceSynapseConfig(policy=args.policy, scheme=args.scheme, w_max=args.w_max,
                               max_pulses=args.max_pulses, refresh=args.refresh,
                               refresh_every=args.refresh_every, quantize=args.quantize, seed=args.seed)


def _chip_config(args):
    from eqspike.network.policies.chip import ChipSynapseConfig
    _chip_costs(args)
    return ChipSynapseConfig(policy=args.chip_policy, residual_bits=args.residual_bits,
                             prob_scale=args.prob_scale, phases=args.chip_phases)


def _chip_costs(args):
    """The chip-mode pricing assumptions of the command line (register files, sense reads)."""
    from eqspike.network.chip_costs import ChipCostConfig
    return ChipCostConfig(register_file=getattr(args, "register_file", "banked"),
                          register_bank_bytes=getattr(args, "register_bank_bytes", 8192),
                          neuron_register_bytes=getattr(args, "neuron_register_bytes", 8192),
                          bias_bits=getattr(args, "bias_bits", 16),
                          value_bits=getattr(args, "trace_bits", 8),
                          sense_J=getattr(args, "sense_energy", 1.94e-12))


def _out_dir(args, kind: str) -> Path:
    if args.out:
        return Path(args.out)
    return Path("reports") / f"{kind}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"


def _epoch_printer(cfg, label: str = ""):
    def on_epoch(row, net):
        _say(f"{label}epoch {int(row['epoch'])}/{cfg.epochs}: train acc {100 * row['train_acc']:.2f} %, "
             f"test acc {100 * row['test_acc']:.2f} %, {row['seconds']:.0f} s")
    return on_epoch


def _load_data(args, cfg, progress: bool):
    """The dataset (``--dataset-name``, ``--data-dir``), found and checked: checksums,
    IDX structure, and that ``--n-train`` / ``--n-test`` fit in it.  Called before any
    characterisation, so missing or bad data costs no ngspice time."""
    from eqspike.datasets import load_dataset
    data = load_dataset(args.data_dir, name=getattr(args, "dataset_name", "mnist"), progress=progress)
    data.subset(cfg.n_train, cfg.n_test)  # refuses more examples than the dataset holds
    return data


def _data_first(args, cfg, progress: bool, device: bool):
    """Dataset first (after the output folder is claimed, before any ngspice run), then
    ``cfg`` sized to it; the memory estimate is checked again when the sizes changed."""
    data = _load_data(args, cfg, progress)
    sized = _sized_for(cfg, data)
    if sized is not cfg:
        from eqspike.network.trainer import check_memory
        check_memory(sized, device=device)
    return data, sized


def _sized_for(cfg, data):
    """``cfg`` with input and output layers sized to the dataset (pixels, classes)."""
    import dataclasses
    sizes = (data.n_features, *cfg.sizes[1:-1], data.n_classes)
    return cfg if tuple(cfg.sizes) == sizes else dataclasses.replace(cfg, sizes=sizes)


def _circuits(args):
    from eqspike.network.hardware import load_crossbar, load_neuron
    neuron, n_note = load_neuron(args.neuron, progress=_say)
    xbar, x_note = load_crossbar(args.crossbar, progress=_say)
    return neuron, n_note, xbar, x_note


# --------------------------------------------------------------------------- resume
RUN_ARGS = "run_args.json"
#: not saved in run_args.json
_NOT_SAVED = ("out", "resume", "overwrite", "func", "_option_defaults", "command")
#: saved, but may differ on --resume (they do not change the result)
_RESUME_FREE = ("no_progress", "data_dir")


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _resumed_args(args):
    """--resume: the options saved in --out/run_args.json, refusing conflicting new ones."""
    from eqspike.errors import DataError, ParameterError
    if not getattr(args, "resume", False):
        return args
    if not args.out:
        raise ParameterError("--resume needs --out REPORT_FOLDER (the run to continue)")
    path = Path(args.out) / RUN_ARGS
    try:
        saved = json.loads(path.read_text())["args"]
    except FileNotFoundError:
        raise ParameterError(f"--resume: {str(path)!r} not found: {args.out!r} is not the folder of an "
                             "interrupted `eqspike run` (a folder of `eqspike train` resumes with "
                             "`eqspike train --resume`)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"--resume: {str(path)!r} is unreadable ({e})") from None
    defaults = getattr(args, "_option_defaults", {})
    merged = dict(vars(args))
    for k, v in saved.items():
        if k in _NOT_SAVED:
            continue
        v = _tuples(v)
        given = merged.get(k, defaults.get(k))
        if k in _RESUME_FREE:
            merged[k] = v if given == defaults.get(k) else given
            continue
        if k in merged and given != defaults.get(k) and given != v:
            raise ParameterError(f"--resume continues the run as it was started: --{k.replace('_', '-')} "
                                 f"= {given!r} differs from the saved {v!r}; drop the option, or start "
                                 "a new run in another folder")
        merged[k] = v
    return argparse.Namespace(**merged)


def _save_run_args(args, out: Path, notes: dict) -> None:
    from eqspike import atomic
    keep = {k: v for k, v in vars(args).items() if k not in _NOT_SAVED and not callable(v)}
    atomic.write_json(out / RUN_ARGS, {"args": keep, "notes": notes})


def _resumed_profiles(args, out: Path):
    """Profiles of a resumed run: the JSON files saved at its start (no new characterisation)."""
    from eqspike.circuits.profile import CrossbarProfile, NeuronProfile
    from eqspike.devices.profile import DeviceProfile
    from eqspike.errors import DataError
    notes = json.loads((out / RUN_ARGS).read_text()).get("notes", {})
    dev_json = out / "device_profile.json"
    try:
        device = DeviceProfile.from_json(dev_json) if args.device != "ideal" else None
        neuron = NeuronProfile.from_json(out / "neuron_profile.json")
        xbar = CrossbarProfile.from_json(out / "crossbar_profile.json")
    except FileNotFoundError as e:
        raise DataError(f"--resume: {e.filename} is missing from {str(out)!r}; cannot continue "
                        "the run with the same profiles (start it again with --overwrite)") from None
    return device, notes.get("device", ""), neuron, notes.get("neuron", ""), xbar, notes.get("crossbar", "")


def _claim(args, out: Path, command: str):
    from eqspike import outdir
    return outdir.claim(out, "--out", resume=getattr(args, "resume", False),
                        overwrite=getattr(args, "overwrite", False), command=command,
                        resumable=hasattr(args, "resume"), what="report")


# --------------------------------------------------------------------------- run
def run_main(args) -> int:
    t0 = time.perf_counter()
    args = _resumed_args(args)     # --resume: the options the run was started with
    cfg = _train_config(args)      # bad values are refused before the report folder exists
    syn_cfg = _syn_config(args, len(cfg.sizes) - 1)
    _chip_config(args)             # chip-mode options checked before the folder is claimed
    from eqspike.network.trainer import check_memory
    check_memory(cfg, device=args.device != "ideal")   # before ngspice and MNIST
    with _claim(args, _out_dir(args, "run"), "eqspike run") as out:   # refused if in use / not empty
        try:
            return _run_main(args, cfg, syn_cfg, out, t0)
        except Exception:
            # refused before the first checkpoint (a bad profile file, ngspice missing):
            # what this attempt wrote goes, so the folder is free again; an
            # interruption (Ctrl-C, kill) keeps it for --resume
            from eqspike import outdir
            from eqspike.network.trainer import CHECKPOINT
            if not (out / CHECKPOINT).exists():
                outdir.clear(out)
            raise


def _run_main(args, cfg, syn_cfg, out: Path, t0: float) -> int:
    from eqspike import atomic
    from eqspike.network import report as rp
    from eqspike.network.hardware import load_device, train_on_hardware
    from eqspike.network.trainer import CHECKPOINT

    progress = not args.no_progress
    chip_cfg = _chip_config(args)
    modes = ("simulator", "chip") if args.mode == "both" else (args.mode,)
    data, cfg = _data_first(args, cfg, progress, device=args.device != "ideal")
    # resume from the checkpoint with the profiles saved beside it; a run stopped
    # before its first checkpoint (characterisation, MNIST, epoch 1) starts again
    resume = bool(args.resume) and (out / CHECKPOINT).exists()
    if args.resume and not resume:
        _say("no checkpoint yet (stopped before the first epoch ended): starting the run again")
    if resume:
        _say(f"[1-2/5] resuming {out}: device, neuron and crossbar profiles saved there")
        device, d_note, neuron, n_note, xbar, x_note = _resumed_profiles(args, out)
    else:
        _save_run_args(args, out, {})   # first: an interrupted run can be resumed from here on
        _say(f"[1/5] device: {args.device}")
        device, d_note = load_device(args.device, progress=_say)
        _say("[2/5] neuron and crossbar circuits")
        neuron, n_note, xbar, x_note = _circuits(args)
    for prof, fn in ((device, "device_profile.json"), (neuron, "neuron_profile.json"),
                     (xbar, "crossbar_profile.json")):
        if prof is not None:
            prof.to_json(out / fn)
    if not resume:
        _save_run_args(args, out, {"device": d_note, "neuron": n_note, "crossbar": x_note})
    _say(f"[3/5] dataset (located and verified before the characterisations): {data.describe()}")
    _say(f"[4/5] training EqSpike {'-'.join(map(str, cfg.sizes))} on {cfg.n_train or 'all'} images x "
         f"{cfg.epochs} epoch(s) with {device.name if device is not None else 'ideal synapses'} "
         f"and neuron '{neuron.name}'")
    results = {}
    for m in modes:   # the last mode is the report's; the others are shown beside it
        rd = out if m == modes[-1] else out / m
        results[m] = train_on_hardware(cfg, data, device=device, neuron=neuron, crossbar=xbar,
                                       accumulator_energy_J=args.accumulator_energy,
                                       syn_config=syn_cfg, run_dir=rd,
                                       use_neuron_transfer=args.rho == "neuron", progress=progress,
                                       on_epoch=_epoch_printer(cfg, f"{m} mode: "),
                                       resume=resume and (rd / CHECKPOINT).exists(),
                                       bias_share_neurons=getattr(args, "bias_share", 128),
                                       mode=m, chip_config=chip_cfg, chip_costs=_chip_costs(args))
    res = results[modes[-1]]
    others = {f"{m} mode (run folder {m}/)": results[m] for m in modes[:-1]}
    _say("[5/5] energy ledger and report")
    bd = res.ledger.breakdown()
    atomic.write_csv(out / "energy_breakdown.csv", bd)
    atomic.write_json(out / "energy_summary.json", res.summary)
    atomic.write_csv(out / "gpu_comparison.csv", res.gpu)
    atomic.write_json(out / "ledger_counts.json", res.ledger.counts_dict())
    figures = {}
    rp.plot_energy_bars(bd, out / "energy_breakdown.png")
    rp.plot_gpu_ratio(res.gpu, res.summary, out / "gpu_ratio.png")
    figures["Accuracy per epoch"] = "accuracy.png"
    if device is not None:
        rp.plot_device(device, out / "device_pulse_response.png")
        figures["Device pulse response used"] = "device_pulse_response.png"
    rp.plot_neuron(neuron, out / "neuron_fi.png")
    figures["Neuron f-I curve used as rho"] = "neuron_fi.png"
    try:
        from eqspike.network.neuron_transfer import NeuronTransfer
        act = NeuronTransfer(neuron) if args.rho == "neuron" else None
        opts = cfg.rule_options()
        if rp.plot_stdp(out / "stdp_window.png", out / "stdp_window.csv", opts.pairing, cfg.eps, act):
            figures["STDP window of the spike-driven update"] = "stdp_window.png"
    except Exception as e:  # noqa: BLE001 - the STDP figure is optional; say why it is missing
        _say(f"WARNING: STDP window not drawn ({type(e).__name__}: {e})")
    notes = {"device": d_note, "neuron": n_note, "crossbar": x_note}
    cmd = "eqspike " + " ".join(sys.argv[1:]) if sys.argv and "eqspike" in sys.argv[0] else "eqspike run"
    rp.write_report(out, cfg=cfg, syn_cfg=syn_cfg, result=res, notes=notes, device=device,
                    neuron=neuron, crossbar=xbar, figures=figures,
                    elapsed_s=time.perf_counter() - t0, command=cmd, dataset=data,
                    others=others)
    s = res.summary
    print(f"test accuracy {100 * s['test_acc']:.2f} %; energy per inference "
          f"{rp.fmt_J(s['energy_per_inference_J'])}, per training example "
          f"{rp.fmt_J(s['energy_per_training_example_J'])}; {rp.gpu_headline(res.gpu)}")
    print(f"report: {out / 'report.md'}")
    return 0


# --------------------------------------------------------------------------- compare
def run_compare(args) -> int:
    progress = not args.no_progress
    cfg = _train_config(args)      # bad values are refused before the report folder exists
    syn_cfg = _syn_config(args, len(cfg.sizes) - 1)
    _chip_config(args)             # chip-mode options checked before the folder is claimed
    from eqspike.network.trainer import check_memory
    check_memory(cfg, device=True)
    with _claim(args, _out_dir(args, "compare"), "eqspike compare") as out:
        return _compare(args, cfg, syn_cfg, out, progress)


def _compare(args, cfg, syn_cfg, out: Path, progress: bool) -> int:
    import pandas as pd

    from eqspike import atomic
    from eqspike.network.hardware import load_device, train_on_hardware

    data, cfg = _data_first(args, cfg, progress, device=True)
    specs = (["ideal"] if not args.no_ideal else []) + (args.profile or ["taox_rram", "fefet"])
    devices = []
    for spec in specs:  # resolve every profile first: a bad file fails before any training
        dev, note = load_device(spec, progress=_say)
        devices.append((spec, dev, note))
    neuron, n_note, xbar, x_note = _circuits(args)
    rows = []
    for i, (spec, dev, note) in enumerate(devices):
        name = dev.name if dev is not None else "ideal"
        _say(f"[{i + 1}/{len(devices)}] training with {name} ({note})")
        run_dir = out / f"{i:02d}-{name}"
        res = train_on_hardware(cfg, data, device=dev, neuron=neuron, crossbar=xbar, syn_config=syn_cfg,
                                accumulator_energy_J=args.accumulator_energy,
                                run_dir=run_dir, use_neuron_transfer=args.rho == "neuron",
                                progress=progress, on_epoch=_epoch_printer(cfg, f"{name}: "))
        atomic.write_csv(run_dir / "energy_breakdown.csv", res.ledger.breakdown())
        s = res.summary
        rows.append({"synapses": name, "source": note, "dataset": data.name,
                     "test_acc": s["test_acc"], "train_acc": s["train_acc"],
                     "energy_per_inference_J": s["energy_per_inference_J"],
                     "energy_per_training_example_J": s["energy_per_training_example_J"],
                     "write_energy_per_training_example_J": s["train_write_J"],
                     "pulses_per_training_example": s.get("pulses_per_training_example", 0.0),
                     "ratio_inference_vs_V100": float(res.gpu.ratio_inference.iloc[0]),
                     "ratio_training_vs_V100": float(res.gpu.ratio_training.iloc[0]),
                     "seconds_per_epoch": float(res.train.metrics["seconds"].mean())})
        df = pd.DataFrame(rows)
        atomic.write_csv(out / "compare.csv", df)
    _plot_compare(df, out / "compare.png")
    print(df[["synapses", "test_acc", "energy_per_inference_J", "energy_per_training_example_J"]]
          .to_string(index=False))
    print(f"results: {out / 'compare.csv'}, {out / 'compare.png'}")
    return 0


def _plot_compare(df, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eqspike import atomic
    from eqspike.network.report import fmt_J
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    x = range(len(df))
    a1.bar(x, 100 * df["test_acc"], color="#1f77b4")
    for i, v in enumerate(df["test_acc"]):
        a1.text(i, 100 * v, f"{100 * v:.2f} %", ha="center", va="bottom", fontsize=8)
    a1.set_xticks(list(x))
    a1.set_xticklabels(df["synapses"], fontsize=8)
    a1.set_ylabel("test accuracy (%)")
    a1.set_ylim(max(0, 100 * df["test_acc"].min() - 10), 100)
    w = 0.4
    a2.bar([i - w / 2 for i in x], df["energy_per_inference_J"], w, label="per inference")
    a2.bar([i + w / 2 for i in x], df["energy_per_training_example_J"], w, label="per training example")
    for i, (a, b) in enumerate(zip(df["energy_per_inference_J"], df["energy_per_training_example_J"])):
        a2.text(i - w / 2, a, fmt_J(a), ha="center", va="bottom", fontsize=7)
        a2.text(i + w / 2, b, fmt_J(b), ha="center", va="bottom", fontsize=7)
    a2.set_yscale("log")
    a2.set_xticks(list(x))
    a2.set_xticklabels(df["synapses"], fontsize=8)
    a2.set_ylabel("energy (J)")
    a2.legend(fontsize=8)
    fig.suptitle("Same EqSpike network, different synapses", fontsize=10)
    return atomic.save_figure(path, fig)
