"""Characterise a compact model in ngspice and reduce it to a DeviceProfile.

:func:`characterize` runs the pulse train (and the I-V loop), fits the
NeuroSim form, integrates the write energy and builds the profile.  Results
are cached under ``eqspike.cache.entry_dir("device", key)`` where ``key`` is
the :func:`eqspike.spice.netlist_hash` of the netlists plus the analysis
settings: a repeated call loads the files instead of running ngspice.

:func:`default_profile` is what the rest of eqspike calls::

    from eqspike.devices.characterize import default_profile
    prof = default_profile("taox_rram")   # 128-level TaOx/HfOx-like RRAM
    prof = default_profile("fefet")       # 32-level multi-domain FeFET
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from eqspike.errors import ParameterError
from eqspike.params import check

from .fit import profile_from_train
from .iv import iv_loop
from .models import ModelSpec, PulseDrive, params_dict
from .netlists import iv_netlist
from .profile import DeviceProfile
from .pulses import build_train_netlist, plot_train, resolve, simulate_train, split_train, train_frame

__all__ = ["Characterization", "characterize", "default_profile", "LITERATURE_C2C", "CACHE_VERSION"]

#: Bump when the analysis changes so old cache entries are not reused.
CACHE_VERSION = 2  # 2: write energy vs G tables in the profile

#: Cycle-to-cycle spreads from the anchor table (published, not simulated);
#: :func:`default_profile` puts them in the profile (noise-free ngspice runs
#: cannot measure them) and says so in the provenance.
LITERATURE_C2C = {"taox_rram": (0.037, "TaOx/HfOx c2c 3.7 % (NeuroSim device table; Wu et al. IEEE EDL 2017)"),
                  "fefet": (0.003, "HZO FeFET c2c 0.3 % (NeuroSim device table; Jerry et al. IEDM 2017)")}


@dataclass
class Characterization:
    """Profile, tables and figure paths of one characterisation."""
    profile: DeviceProfile
    pulses: pd.DataFrame
    metrics: dict[str, Any]
    iv: pd.DataFrame | None = None
    iv_metrics: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    cached: bool = False
    key: str = ""


def _drive_with(spec: ModelSpec, drive: PulseDrive | None, drive_overrides: Mapping[str, Any] | None) -> PulseDrive:
    d = drive or spec.drive
    if drive_overrides:
        from eqspike.params import replace_checked
        d = replace_checked(d, dict(drive_overrides))
    return d


def characterize(model: str | ModelSpec = "taox_rram", params: Any = None, *,
                 overrides: Mapping[str, Any] | None = None, drive: PulseDrive | None = None,
                 drive_overrides: Mapping[str, Any] | None = None, n_pulses: int | None = None,
                 out_dir: str | Path | None = None, cache: bool = True, cache_root: str | Path | None = None,
                 iv: bool = True, c2c_sigma: float | None = None, c2c_source: str | None = None,
                 d2d_sigma: float = 0.0, name: str | None = None, timeout_s: float = 600.0) -> Characterization:
    """Characterise ``model`` (registry name or spec) and build its profile.

    ``overrides``: model parameters (``{"r_series_ohm": 400}``);
    ``drive``/``drive_overrides``: pulse settings; ``n_pulses``: per direction
    (default: the model's); ``c2c_sigma``/``d2d_sigma``: spreads to record in
    the profile (measure them with :mod:`eqspike.devices.variability`);
    ``out_dir``: also write profile.json, pulses.parquet, iv.parquet,
    metrics.json and the PNGs there.
    """
    from eqspike.cache import building, entry_dir, lookup
    from eqspike.spice import netlist_hash, ngspice_version
    spec, params = resolve(model, params, overrides)
    d = _drive_with(spec, drive, drive_overrides)
    n = spec.n_pulses if n_pulses is None else n_pulses
    from .pulses import MAX_PULSES
    check("n_pulses", n, unit="pulses per direction", low=2, high=MAX_PULSES, integer=True)
    for nm, v in (("c2c_sigma", c2c_sigma), ("d2d_sigma", d2d_sigma)):
        if v is not None and (not isinstance(v, (int, float)) or not (0 <= v <= 1)):
            raise ParameterError(f"parameter '{nm}' = {v!r} is outside the allowed range [0, 1]")
    if out_dir is not None:
        from eqspike.atomic import ensure_dir
        ensure_dir(out_dir, "out_dir (--out)")
    net, sched = build_train_netlist(spec, params, d, n, n)
    iv_net = iv_netlist(params, spec.kind, spec.iv, title=f"eqspike device {spec.name} I-V loop",
                        options=spec.options, read_drain_V=d.read_V) if iv else ""
    settings = {"cache_version": CACHE_VERSION, "model": spec.name, "n_pulses": n, "iv": iv,
                "c2c_sigma": c2c_sigma, "d2d_sigma": d2d_sigma, "name": name}
    key = netlist_hash(net + iv_net + json.dumps(settings, sort_keys=True))
    # a cache entry is complete or absent (eqspike.cache.building: temp folder, then rename)
    cdir = lookup("device", key, cache_root, ("profile.json", "pulses.parquet")) if cache else None
    if cdir is not None:
        res = _load(cdir, key)
    else:
        res = _run(spec, params, d, n, iv, c2c_sigma, c2c_source, d2d_sigma, name, net, key, timeout_s,
                   ngspice_version())
        if cache:
            with building("device", key, cache_root) as tmp:
                _save(res, tmp)
            cdir = entry_dir("device", key, cache_root)
            res.files = {k: cdir / p.name for k, p in res.files.items()}
    if out_dir is not None:
        if res.cached and cdir is not None:
            _copy(cdir, Path(out_dir), res)
        else:
            _save(res, Path(out_dir))
    return res


def _copy(src: Path, dst: Path, res: Characterization) -> None:
    """Copy cached result files (atomically) instead of re-rendering them."""
    from eqspike.atomic import write_bytes
    files = {}
    for k, p in res.files.items():
        files[k] = write_bytes(dst / p.name, p.read_bytes())
    res.files = files


def _run(spec, params, d, n, iv, c2c_sigma, c2c_source, d2d_sigma, name, net, key, timeout_s, ngv) -> Characterization:
    from eqspike.spice import netlist_hash
    run = simulate_train(spec, params, drive=d, n_up=n, n_down=n, timeout_s=timeout_s)
    df = train_frame(run)
    g_up, g_down = split_train(run.conductance_S[0], n)
    e_up = float(np.mean(run.write_energy_J[0][:n]))
    e_dn = float(np.mean(run.write_energy_J[0][n:]))
    prov = {"model": spec.name, "parameters": params_dict(params),
            "drive": dataclasses.asdict(d), "ngspice_version": ngv,
            "netlist_hash": netlist_hash(net), "cache_key": key,
            "source": spec.source,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "c2c_source": c2c_source or ("not measured (noise-free ngspice run)" if c2c_sigma is None
                                         else "given by the caller"),
            "d2d_source": "given by the caller" if d2d_sigma else "not measured"}
    prof, metrics = profile_from_train(
        name or spec.name, spec.name, g_up, g_down, method="table", c2c_sigma=c2c_sigma or 0.0,
        d2d_sigma=d2d_sigma, write_energy_up_J=e_up, write_energy_down_J=e_dn,
        pulse_up_V=d.pulse_up_V, pulse_down_V=d.pulse_down_V, pulse_width_s=d.pulse_width_s,
        read_voltage_V=d.read_V, provenance=prov)
    # write energy as a function of the conductance before each pulse, per polarity
    e_all = np.asarray(run.write_energy_J[0], dtype=np.float64)
    prof = prof.with_energy_tables(g_up[:-1], e_all[:n], g_down[:-1], e_all[n:2 * n])
    metrics.update({"write_energy_up_J": e_up, "write_energy_down_J": e_dn,
                    "pulse_wall_s": run.wall_s, "spice_attempts": run.attempts})
    res = Characterization(prof, df, metrics, key=key)
    if iv:
        res.iv, res.iv_metrics = iv_loop(spec, params, timeout_s=timeout_s)
    return res


def _save(res: Characterization, d: Path) -> None:
    from eqspike.atomic import save_figure, write_json, write_parquet
    d.mkdir(parents=True, exist_ok=True)
    files = {"profile": res.profile.to_json(d / "profile.json"),
             "pulses": write_parquet(d / "pulses.parquet", res.pulses)}
    if res.iv is not None:
        files["iv"] = write_parquet(d / "iv.parquet", res.iv)
    files["metrics"] = write_json(d / "metrics.json", {"pulses": _jsonable(res.metrics),
                                                       "iv": _jsonable(res.iv_metrics or {})})
    files["pulses_png"] = save_figure(d / "pulses.png", plot_train(res.pulses, res.metrics, res.profile.name))
    if res.iv is not None:
        from .iv import plot_iv
        fefet = "gate_voltage_V" in res.iv.columns
        v = res.iv["gate_voltage_V" if fefet else "voltage_V"].to_numpy()
        i = res.iv["drain_current_A" if fefet else "current_A"].to_numpy()
        files["iv_png"] = save_figure(d / "iv.png", plot_iv(v, i, res.profile.name, res.iv_metrics, fefet))
    res.files = files


def _jsonable(m: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in m.items():
        if isinstance(v, (np.floating, np.integer)):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = str(v)
        out[k] = v
    return out


def _load(d: Path, key: str) -> Characterization:
    prof = DeviceProfile.from_json(d / "profile.json")
    pulses = pd.read_parquet(d / "pulses.parquet")
    m = json.loads((d / "metrics.json").read_text()) if (d / "metrics.json").exists() else {}
    iv = pd.read_parquet(d / "iv.parquet") if (d / "iv.parquet").exists() else None
    files = {p.stem if p.suffix != ".png" else p.stem + "_png": p for p in d.iterdir() if not p.name.startswith(".")}
    return Characterization(prof, pulses, m.get("pulses", {}), iv, m.get("iv") or None, files, cached=True, key=key)


def default_profile(model: str = "taox_rram", cache: bool = True, **kwargs: Any) -> DeviceProfile:
    """The profile the network uses by default for ``model``.

    ``"taox_rram"``: 128 levels (127 + 127 pulses of +-1.6 V / 50 ns),
    ``"fefet"``: 32 levels (31 + 31 gate pulses of +-4 V / 100 ns); both with
    the anchor table's c2c spread (literature value, recorded as such in
    ``provenance["c2c_source"]``).  Other registry models get their defaults
    and c2c 0.  Cached: only the first call runs ngspice (~2 s).
    """
    if model in LITERATURE_C2C and "c2c_sigma" not in kwargs:
        kwargs["c2c_sigma"], kwargs["c2c_source"] = LITERATURE_C2C[model]
    kwargs.setdefault("iv", False)
    return characterize(model, cache=cache, **kwargs).profile
