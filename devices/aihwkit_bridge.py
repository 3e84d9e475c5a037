"""DeviceProfile <-> IBM aihwkit pulsed-device configurations (aihwkit not required).

aihwkit (Rasch et al., "A flexible and fast PyTorch toolkit for simulating
training and inference on analog crossbar arrays", AICAS 2021;
github.com/IBM/aihwkit, MIT licence) describes a device in dimensionless
weight units ``w`` in ``[w_min, w_max]``.  The bridge maps one device's
conductance affinely onto that range (docs/aihwkit.md has the equations):

    w = w_min + (G - g_min) / (g_max - g_min) * W,      W = w_max - w_min

so a step ``dG`` is ``dw = dG W / R`` with ``R = g_max - g_min``.

- :func:`export_config` writes a short Python file: a ``PARAMETERS`` dict
  (plain literals, readable without aihwkit) and ``device()``, which
  imports aihwkit and builds the configuration: a ``PiecewiseStepDevice``
  from the tabulated steps (default) or a least-squares ``SoftBoundsDevice``.
- :func:`import_preset` builds a DeviceProfile from aihwkit's published preset
  parameters (:data:`PRESETS`, copied from ``src/aihwkit/simulator/presets/
  devices.py`` at commit 4545f11, with the paper each preset was fitted to);
  :func:`import_parameters` from any parameter dict of the supported
  classes; :func:`import_config` from an exported file (its ``PARAMETERS``
  are read with :func:`ast.literal_eval`, nothing is executed).

What does not carry over is said in the profile's provenance
(``aihwkit.not_modelled``): aihwkit's ``write_noise_std`` (read-back noise
that does not accumulate), ``up_down_dtod``, independent spreads of
``w_min`` / ``w_max`` (here d2d scales step and range together), and
multiplicative vs additive c2c noise (matched at the mean step).
"""
from __future__ import annotations

import ast
import datetime as _dt
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from eqspike.errors import DataError, ParameterError

from .profile import DeviceProfile

__all__ = ["PRESETS", "CLASSES", "export_parameters", "export_config", "import_parameters",
           "import_preset", "import_config", "mean_steps", "effective_steps", "AIHWKIT_COMMIT"]

AIHWKIT_COMMIT = "4545f11b5214c5e3c6b9d293053bbf8baf74e110"
_PRESET_FILE = "src/aihwkit/simulator/presets/devices.py"

#: PulsedDevice defaults (aihwkit src/aihwkit/simulator/configs/devices.py)
_PULSED = {"dw_min": 0.001, "dw_min_dtod": 0.3, "dw_min_std": 0.3, "up_down": 0.0,
           "up_down_dtod": 0.01, "w_max": 0.6, "w_min": -0.6, "w_max_dtod": 0.3,
           "w_min_dtod": 0.3, "write_noise_std": 0.0}
#: supported classes: extra defaults, and whether c2c noise is multiplicative by default
CLASSES: dict[str, dict[str, Any]] = {
    "ConstantStepDevice": {"defaults": {}, "mult": False},
    "LinearStepDevice": {"defaults": {"gamma_up": 0.0, "gamma_down": 0.0, "mult_noise": True}, "mult": None},
    "SoftBoundsDevice": {"defaults": {"mult_noise": True}, "mult": None},
    "SoftBoundsReferenceDevice": {"defaults": {"mult_noise": False}, "mult": None},
    "ExpStepDevice": {"defaults": {"A_up": 0.00081, "A_down": 0.36833, "gamma_up": 12.44625,
                                   "gamma_down": 12.78785, "a": 0.244, "b": 0.2425,
                                   "dw_min_std_add": 0.0, "dw_min_std_slope": 0.0}, "mult": True},
    "PiecewiseStepDevice": {"defaults": {"piecewise_up": [1.0], "piecewise_down": [1.0]}, "mult": True},
}

_GONG18 = "Gong et al., Nat. Commun. 9, 2102 (2018)"
_GONG22 = "Gong, Rasch et al., IEDM 2022"
#: aihwkit's published device presets (values as in aihwkit at AIHWKIT_COMMIT; class
#: defaults filled in at import)
PRESETS: dict[str, dict[str, Any]] = {
    "ReRamES": {"class": "ExpStepDevice", "paper": _GONG18, "params": {
        "dw_min": 0.00135, "up_down": 0.259359, "w_max": 1.0, "w_min": -1.0, "a": -0.5, "b": -0.5,
        "gamma_up": 5.0, "gamma_down": 5.0, "A_up": -1.18445, "A_down": -0.081404,
        "dw_min_dtod": 0.2, "up_down_dtod": 0.05, "w_max_dtod": 0.3, "w_min_dtod": 0.3,
        "dw_min_std": 5.0, "write_noise_std": 75.0}},
    "ReRamSB": {"class": "SoftBoundsReferenceDevice", "paper": _GONG18 + " (loose fit)", "params": {
        "dw_min": 0.002, "up_down": 0.0, "w_max": 1.25, "w_min": -0.75, "mult_noise": False,
        "dw_min_dtod": 0.3, "up_down_dtod": 0.01, "w_max_dtod": 0.3 / 1.25, "w_min_dtod": 0.3 / 0.75,
        "dw_min_std": 3.75, "write_noise_std": 56.0}},
    "Capacitor": {"class": "LinearStepDevice", "paper": "Li et al., VLSI 2018", "params": {
        "dw_min": 0.005, "up_down": 0.0, "w_max": 1.0, "w_min": -1.0, "mult_noise": False,
        "gamma_up": 0.05, "gamma_down": 0.05, "dw_min_dtod": 0.1, "up_down_dtod": 0.06,
        "w_max_dtod": 0.07, "w_min_dtod": 0.07, "dw_min_std": 0.3, "write_noise_std": 0.0,
        "gamma_up_dtod": 0.01, "gamma_down_dtod": 0.01, "mean_bound_reference": True,
        "lifetime": 1.0e6, "lifetime_dtod": 0.3}},
    "EcRam": {"class": "LinearStepDevice", "paper": "Tang et al., IEDM 2018", "params": {
        "dw_min": 0.002, "up_down": 0.0, "w_max": 1.1724, "w_min": -0.8276, "mult_noise": True,
        "gamma_up": 0.1153, "gamma_down": 0.5085, "dw_min_dtod": 0.1, "up_down_dtod": 0.01,
        "w_max_dtod": 0.05, "w_min_dtod": 0.05, "dw_min_std": 0.3, "write_noise_std": 0.0,
        "gamma_up_dtod": 0.05, "gamma_down_dtod": 0.05, "mean_bound_reference": True}},
    "EcRamMO": {"class": "LinearStepDevice", "paper": "Kim et al., IEDM 2019", "params": {
        "dw_min": 2.8214e-4, "up_down": 0.0, "w_max": 1.1714, "w_min": -0.8286, "mult_noise": True,
        "gamma_up": 0.4152, "gamma_down": 0.7342, "dw_min_dtod": 0.1, "up_down_dtod": 0.01,
        "w_max_dtod": 0.05, "w_min_dtod": 0.05, "dw_min_std": 2.0, "write_noise_std": 0.0,
        "gamma_up_dtod": 0.05, "gamma_down_dtod": 0.05, "mean_bound_reference": True}},
    "Idealized": {"class": "ConstantStepDevice", "paper": "Gokmen & Vlasov, Front. Neurosci. 2016 "
                  "(10000 states)", "params": {
        "dw_min": 0.0002, "dw_min_dtod": 0.3, "dw_min_std": 0.3, "up_down": 0.0, "up_down_dtod": 0.0,
        "w_max": 1.0, "w_min": -1.0, "w_max_dtod": 0.3, "w_min_dtod": 0.3}},
    "GokmenVlasov": {"class": "ConstantStepDevice", "paper": "Gokmen & Vlasov, Front. Neurosci. 2016",
                     "params": {
        "dw_min": 0.0016, "dw_min_dtod": 0.3, "dw_min_std": 0.3, "up_down": 0.0, "up_down_dtod": 0.01,
        "w_max": 1.0, "w_min": -1.0, "w_max_dtod": 0.3, "w_min_dtod": 0.3}},
    "PCM": {"class": "ExpStepDevice", "paper": "Nandakumar et al., Front. Neurosci. 2020 (GST; "
            "uni-directional: aihwkit pairs it with refresh)", "params": {
        "dw_min": 0.01, "up_down": 0.0, "w_max": 2.0, "w_min": 0.0, "a": -1.0, "b": 0.0,
        "gamma_up": 2.5, "gamma_down": 2.5, "A_up": -27.235, "A_down": -2.235, "dw_min_dtod": 0.2,
        "up_down_dtod": 0.05, "w_max_dtod": 0.1, "w_min_dtod": 0.0, "dw_min_std": 0.6,
        "dw_min_std_add": 0.042, "dw_min_std_slope": 0.108, "write_noise_std": 0.0,
        "reset": 0.01, "reset_dtod": 0.02}},
    "ReRamArrayOM": {"class": "SoftBoundsReferenceDevice", "paper": _GONG22 + " (optimized material)",
                     "params": {
        "dw_min": 0.0949, "up_down": 0.0, "w_max": 1.0, "w_min": -1.0, "mult_noise": False,
        "dw_min_dtod": 0.7829, "up_down_dtod": 0.01, "w_max_dtod": 0.3499, "w_min_dtod": 0.5695,
        "dw_min_std": 0.4158, "write_noise_std": 1.4113, "enforce_consistency": True,
        "dw_min_dtod_log_normal": True, "corrupt_devices_range": 0.01, "corrupt_devices_prob": 0.0,
        "subtract_symmetry_point": True, "reference_std": 0.05}},
    "ReRamArrayHfO2": {"class": "SoftBoundsReferenceDevice", "paper": _GONG22 + " (baseline HfO2)",
                       "params": {
        "dw_min": 0.4622, "up_down": 0.0, "w_max": 1.0, "w_min": -1.0, "mult_noise": False,
        "dw_min_dtod": 0.7125, "up_down_dtod": 0.01, "w_max_dtod": 0.4295, "w_min_dtod": 0.5990,
        "dw_min_std": 0.2174, "write_noise_std": 0.5841, "enforce_consistency": True,
        "dw_min_dtod_log_normal": True, "corrupt_devices_range": 0.01, "corrupt_devices_prob": 0.0,
        "subtract_symmetry_point": True, "reference_std": 0.05}},
}


# --------------------------------------------------------------------------- step laws
def _full(cls: str, params: Mapping[str, Any]) -> dict[str, Any]:
    if cls not in CLASSES:
        raise ParameterError(f"aihwkit device class {cls!r} is not supported; supported: "
                             f"{', '.join(CLASSES)}")
    p = {**_PULSED, **CLASSES[cls]["defaults"], **dict(params)}
    for k in ("dw_min", "w_min", "w_max", "dw_min_std", "dw_min_dtod"):
        v = p[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ParameterError(f"aihwkit parameter '{k}' = {v!r} must be a finite number")
    if not p["w_max"] > p["w_min"]:
        raise ParameterError(f"aihwkit parameters w_min = {p['w_min']!r}, w_max = {p['w_max']!r}: "
                             "w_max must be above w_min")
    if not p["dw_min"] > 0:
        raise ParameterError(f"aihwkit parameter 'dw_min' = {p['dw_min']!r} must be > 0")
    return p


def mean_steps(cls: str, params: Mapping[str, Any], w) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes of the mean device's up and down step at weight ``w`` (aihwkit's
    equations for ``cls`` without noise and device-to-device terms; docs/aihwkit.md)."""
    p = _full(cls, params)
    w = np.asarray(w, dtype=float)
    d_up, d_dn = p["dw_min"] * (1 + p["up_down"]), p["dw_min"] * (1 - p["up_down"])
    lo, hi = p["w_min"], p["w_max"]
    one = np.ones_like(w)
    if cls == "ConstantStepDevice":
        up, dn = one, one
    elif cls == "LinearStepDevice":
        up = 1 - abs(p["gamma_up"]) * w / hi if hi != 0 else one
        dn = 1 - abs(p["gamma_down"]) * w / lo if lo != 0 else one
    elif cls in ("SoftBoundsDevice", "SoftBoundsReferenceDevice"):
        up = 1 - w / hi if hi != 0 else one
        dn = 1 - w / lo if lo != 0 else one
    elif cls == "ExpStepDevice":
        z = 2 * p["a"] * w / (hi - lo) + p["b"]
        up = 1 - p["A_up"] * np.exp(p["gamma_up"] * z)
        dn = 1 - p["A_down"] * np.exp(-p["gamma_down"] * z)
    else:  # PiecewiseStepDevice: nodes equally spaced on [w_min, w_max]
        vu, vd = (np.asarray(p[k], dtype=float) for k in ("piecewise_up", "piecewise_down"))
        if vu.size != vd.size or vu.size < 1:
            raise ParameterError("aihwkit piecewise_up and piecewise_down need the same number (>= 1) "
                                 f"of values, got {vu.size} and {vd.size}")
        nodes = np.linspace(lo, hi, vu.size) if vu.size > 1 else np.array([lo])
        up = np.interp(w, nodes, vu) if vu.size > 1 else vu[0] * one
        dn = np.interp(w, nodes, vd) if vd.size > 1 else vd[0] * one
    return np.maximum(d_up * up, 0.0), np.maximum(d_dn * dn, 0.0)


def _noise_is_mult(cls: str, p: Mapping[str, Any]) -> bool:
    m = CLASSES[cls]["mult"]
    return bool(p.get("mult_noise", False)) if m is None else m


# --------------------------------------------------------------------------- import
def import_parameters(cls: str, params: Mapping[str, Any], *, g_min_S: float = 1e-6,
                      g_max_S: float = 1e-5, name: str | None = None, source: str = "",
                      n_grid: int = 129, write_energy_J: float = 0.0, pulse_up_V: float = 1.0,
                      pulse_down_V: float = -1.0, pulse_width_s: float = 1e-7,
                      read_voltage_V: float = 0.1, max_pulses: int = 100000) -> DeviceProfile:
    """DeviceProfile of an aihwkit device configuration (``cls`` + parameter dict).

    aihwkit is unitless: ``g_min_S`` / ``g_max_S`` (S) place ``[w_min, w_max]`` on
    a conductance range (an assumption, recorded).  Mapping (docs/aihwkit.md):
    ``dG(G) = step(w(G)) R / W``; ``c2c_sigma = sigma_w / W`` with ``sigma_w =
    dw_min_std dw_min`` (additive noise) or ``dw_min_std x`` the mean local step
    (multiplicative; ExpStep adds its ``dw_min_std_add`` / ``_slope`` terms);
    ``d2d_sigma = dw_min_dtod``; ``n_pulses`` = pulses of the noise-free up train
    from ``w_min`` to within 0.1 % of ``w_max``; ``n_levels = n_pulses + 1``.
    """
    from .pulses import analyse_train
    p = _full(cls, params)
    for nm, v in (("g_min_S", g_min_S), ("g_max_S", g_max_S)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise ParameterError(f"parameter '{nm}' = {v!r} is outside the allowed range (0, 1) S")
    if not g_min_S < g_max_S:
        raise ParameterError(f"parameter 'g_min_S' = {g_min_S!r} must be below g_max_S = {g_max_S!r}")
    lo, hi = p["w_min"], p["w_max"]
    W, R = hi - lo, g_max_S - g_min_S
    w_grid = np.linspace(lo, hi, n_grid)
    up, dn = mean_steps(cls, p, w_grid)
    if not up.max() > 0:
        raise DataError(f"aihwkit {cls}: the up step is zero over the whole range")
    # noise-free trains: pulses from the bottom to the top (and back down)
    step_up = lambda w: float(mean_steps(cls, p, w)[0])  # noqa: E731
    step_dn = lambda w: float(mean_steps(cls, p, w)[1])  # noqa: E731
    w, tr_up = lo, [lo]
    while w < hi - 1e-3 * W and len(tr_up) <= max_pulses:
        s = step_up(w)
        if s <= 1e-12 * W:
            break
        w = min(w + s, hi)
        tr_up.append(w)
    n = len(tr_up) - 1
    if n < 1:
        raise DataError(f"aihwkit {cls}: no up pulse changes the weight")
    w, tr_dn = hi, [hi]
    for _ in range(n):
        w = max(w - step_dn(w), lo)
        tr_dn.append(w)
    to_G = lambda x: g_min_S + (np.asarray(x) - lo) / W * R  # noqa: E731
    m = analyse_train(to_G(tr_up), to_G(tr_dn))
    mean_step = float(np.mean((up + dn) / 2))
    if _noise_is_mult(cls, p):
        sig = p["dw_min_std"] * mean_step
        if cls == "ExpStepDevice":
            sig = p["dw_min_std"] * (p["dw_min_std_add"] + mean_step
                                     + p["dw_min_std_slope"] * float(np.mean(np.abs(w_grid))))
        noise = "multiplicative (matched at the mean step)"
    else:
        sig = p["dw_min_std"] * p["dw_min"]
        noise = "additive"
    c2c = sig / W
    d2d = float(p["dw_min_dtod"])
    not_modelled = {k: p[k] for k in ("write_noise_std", "up_down_dtod", "w_min_dtod", "w_max_dtod")
                    if p.get(k)}
    for k in ("dw_min_dtod_log_normal", "reset", "reset_dtod", "lifetime", "lifetime_dtod",
              "corrupt_devices_prob", "reference_std", "subtract_symmetry_point", "gamma_up_dtod",
              "gamma_down_dtod"):
        if p.get(k):
            not_modelled[k] = p[k]
    prov = {"model": "aihwkit", "parameters": {"class": cls, **_plain(p)}, "ngspice_version": None,
            "netlist_hash": None, "source": source or f"aihwkit {cls} parameters",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "aihwkit": {"class": cls, "mapping": "w = w_min + (G - g_min_S)/(g_max_S - g_min_S) (w_max - w_min)",
                        "assumed_g_range_S": [g_min_S, g_max_S], "c2c_noise": noise,
                        "c2c_clipped": c2c > 1, "d2d_clipped": d2d > 1,
                        "not_modelled": not_modelled}}
    grid = to_G(w_grid)
    grid[0], grid[-1] = g_min_S, g_max_S
    return DeviceProfile(
        name=name or f"aihwkit_{cls}", model="aihwkit", g_min_S=g_min_S, g_max_S=g_max_S,
        g_grid_S=tuple(grid), dg_up_S=tuple(up * R / W), dg_down_S=tuple(dn * R / W),
        n_pulses=n, n_levels=n + 1, nl_ltp=float(np.clip(m["nl_ltp"], -9, 9)),
        nl_ltd=float(np.clip(m["nl_ltd"], -9, 9)), c2c_sigma=min(c2c, 1.0), d2d_sigma=min(d2d, 1.0),
        write_energy_up_J=write_energy_J, write_energy_down_J=write_energy_J, pulse_up_V=pulse_up_V,
        pulse_down_V=pulse_down_V, pulse_width_s=pulse_width_s, read_voltage_V=read_voltage_V,
        provenance=prov)


def import_preset(name: str, **kw) -> DeviceProfile:
    """DeviceProfile of one of aihwkit's published presets (:data:`PRESETS`)."""
    key = name[:-len("PresetDevice")] if name.endswith("PresetDevice") else name
    if key not in PRESETS:
        raise ParameterError(f"aihwkit preset {name!r} is unknown; known: {', '.join(PRESETS)}")
    e = PRESETS[key]
    src = (f"aihwkit {key}PresetDevice ({e['class']}), fit to {e['paper']}; values from "
           f"github.com/IBM/aihwkit {_PRESET_FILE} @ {AIHWKIT_COMMIT[:7]} (MIT licence)")
    kw.setdefault("name", f"aihwkit_{key}")
    return import_parameters(e["class"], e["params"], source=src, **kw)


def import_config(path, **kw) -> DeviceProfile:
    """DeviceProfile from a file written by :func:`export_config` (or any file holding
    ``DEVICE_CLASS = "..."`` and a literal ``PARAMETERS = {...}``); nothing is executed."""
    path = Path(path)
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError) as e:
        raise DataError(f"{path}: not a readable Python file ({e})") from None
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("DEVICE_CLASS", "PARAMETERS", "EQSPIKE"):
                try:
                    found[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    raise DataError(f"{path}: {node.targets[0].id} must be a plain literal") from None
    if "DEVICE_CLASS" not in found or "PARAMETERS" not in found:
        raise DataError(f"{path}: needs DEVICE_CLASS = '...' and PARAMETERS = {{...}} (as written by "
                        "`eqspike device aihwkit export`)")
    meta = found.get("EQSPIKE", {})
    for k in ("g_min_S", "g_max_S", "write_energy_J", "pulse_up_V", "pulse_down_V", "pulse_width_s",
              "read_voltage_V"):
        if k in meta:
            kw.setdefault(k, meta[k])
    kw.setdefault("name", meta.get("name", path.stem))
    return import_parameters(found["DEVICE_CLASS"], found["PARAMETERS"],
                             source=f"aihwkit configuration file {path.name}", **kw)


# --------------------------------------------------------------------------- export
def export_parameters(profile: DeviceProfile, *, model: str = "piecewise", n_nodes: int = 63,
                      w_min: float = -1.0, w_max: float = 1.0) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(class name, parameters, notes)`` of the aihwkit configuration of ``profile``.

    ``piecewise``: ``PiecewiseStepDevice`` with the profile's steps on ``n_nodes``
    equally spaced nodes (aihwkit's GPU kernels take < 64), ``dw_min`` = their mean;
    ``softbounds``: ``SoftBoundsDevice`` (additive noise) whose ``alpha_up (1 - w/w_max)``
    / ``alpha_down (1 - w/w_min)`` are least-squares fits of the steps (R^2 in notes).
    Both: ``dw_min_std = c2c W / dw_min``, ``dw_min_dtod = d2d``, ``w_max_dtod =
    d2d W / |w_max|`` (a device's range scales with its step), ``w_min_dtod = 0``.
    """
    if model not in ("piecewise", "softbounds"):
        raise ParameterError(f"parameter 'model' = {model!r}; allowed: piecewise, softbounds")
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) or not 2 <= n_nodes <= 63:
        raise ParameterError(f"parameter 'n_nodes' = {n_nodes!r} is outside the allowed range [2, 63]")
    if not (isinstance(w_min, (int, float)) and isinstance(w_max, (int, float)) and w_max > w_min
            and w_max != 0):
        raise ParameterError(f"parameters w_min = {w_min!r}, w_max = {w_max!r}: need w_max > w_min, "
                             "w_max != 0")
    W, R = w_max - w_min, profile.g_max_S - profile.g_min_S
    d2d, c2c = float(profile.d2d_sigma), float(profile.c2c_sigma)
    spread = {"dw_min_dtod": d2d, "w_max_dtod": d2d * W / abs(w_max), "w_min_dtod": 0.0,
              "up_down_dtod": 0.0, "write_noise_std": 0.0}
    notes: dict[str, Any] = {}
    if model == "piecewise":
        G = np.linspace(profile.g_min_S, profile.g_max_S, n_nodes)
        su, sd = _unclipped_steps(profile, G)
        su, sd = su * W / R, sd * W / R
        dw = float(np.mean((su + sd) / 2))
        params = {"dw_min": dw, "up_down": 0.0, "w_min": float(w_min), "w_max": float(w_max),
                  "dw_min_std": c2c * W / dw, **spread,
                  "piecewise_up": [float(v) for v in su / dw],
                  "piecewise_down": [float(v) for v in sd / dw]}
        return "PiecewiseStepDevice", params, notes
    G = np.asarray(profile.g_grid_S)
    w = w_min + (G - profile.g_min_S) / R * W
    fits = {}
    su, sd = _unclipped_steps(profile, G)
    for tag, s, f in (("up", su * W / R, 1 - w / w_max),
                      ("down", sd * W / R, 1 - w / w_min if w_min != 0 else np.ones_like(w))):
        alpha = float(np.sum(s * f) / np.sum(f * f))
        ss = float(np.sum((s - s.mean()) ** 2))
        fits[tag] = alpha
        notes[f"r2_{tag}"] = float(1 - np.sum((s - alpha * f) ** 2) / ss) if ss > 0 else 1.0
    dw = (fits["up"] + fits["down"]) / 2
    params = {"dw_min": dw, "up_down": (fits["up"] - fits["down"]) / (2 * dw), "w_min": float(w_min),
              "w_max": float(w_max), "mult_noise": False, "dw_min_std": c2c * W / dw, **spread}
    return "SoftBoundsDevice", params, notes


def export_config(profile: DeviceProfile, path, **kw) -> Path:
    """Write the aihwkit configuration of ``profile`` as a short Python file (atomic)."""
    from eqspike.atomic import write_text
    cls, params, notes = export_parameters(profile, **kw)
    meta = {"name": profile.name, "g_min_S": profile.g_min_S, "g_max_S": profile.g_max_S,
            "write_energy_J": profile.write_energy_up_J, "pulse_up_V": profile.pulse_up_V,
            "pulse_down_V": profile.pulse_down_V, "pulse_width_s": profile.pulse_width_s,
            "read_voltage_V": profile.read_voltage_V}
    lines = [f'"""aihwkit device configuration of eqspike profile {profile.name!r} '
             f'({profile.model}; {profile.provenance.get("source", "")}).'.rstrip(),
             "",
             "Written by `eqspike device aihwkit export`; mapping (docs/aihwkit.md):",
             f"w = w_min + (G - {profile.g_min_S:.6g} S) / {profile.g_max_S - profile.g_min_S:.6g} S "
             f"* (w_max - w_min); c2c {profile.c2c_sigma:.4g}, d2d {profile.d2d_sigma:.4g}.",
             *(f"{k}: {v:.4f}" for k, v in notes.items()),
             "Usage: from this_file import device; rpu_config.device = device()",
             '"""', "",
             f"DEVICE_CLASS = {cls!r}", "",
             f"PARAMETERS = {_literal(params)}", "",
             "#: eqspike's side of the mapping (not an aihwkit parameter)",
             f"EQSPIKE = {_literal(meta)}", "", "",
             "def device():",
             f'    """The aihwkit {cls} (needs aihwkit installed)."""',
             f"    from aihwkit.simulator.configs.devices import {cls}",
             f"    return {cls}(**PARAMETERS)", ""]
    return write_text(path, "\n".join(lines))


def _unclipped_steps(profile: DeviceProfile, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The profile's up / down steps (S) at ``G``, where a step only fills the room left
    to the bound (``dg_up(G) >= g_max - G``: the table's end is the bound, not device
    physics) continued linearly from the inner points: aihwkit clips at its bounds
    itself, so the change one pulse makes, ``min(dG, room)``, is the same."""
    out = []
    for up in (True, False):
        v = np.asarray(profile.dg_up(G) if up else profile.dg_down(G), dtype=float).copy()
        room = (profile.g_max_S - G) if up else (G - profile.g_min_S)
        lim = v >= room * (1 - 1e-9)
        order = np.arange(G.size)[::-1] if up else np.arange(G.size)
        k = 0                     # room-limited points contiguous from the bound
        while k < G.size and lim[order[k]]:
            k += 1
        if 0 < k <= G.size - 2:
            i1, i2 = order[k], order[k + 1]
            slope = (v[i1] - v[i2]) / (G[i1] - G[i2])
            for j in order[:k]:
                v[j] = max(v[i1] + slope * (G[j] - G[i1]), 0.0)
        out.append(v)
    return out[0], out[1]


def effective_steps(profile: DeviceProfile, G) -> tuple[np.ndarray, np.ndarray]:
    """The change one pulse makes at ``G`` (S): ``min(dG_up, g_max - G)``,
    ``min(dG_down, G - g_min)`` (what the network applies after its hard bounds)."""
    G = np.asarray(G, dtype=float)
    return (np.minimum(profile.dg_up(G), profile.g_max_S - G),
            np.minimum(profile.dg_down(G), G - profile.g_min_S))


def _plain(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in d.items()}


def _literal(d: Mapping[str, Any]) -> str:
    items = []
    for k, v in d.items():
        if isinstance(v, list):
            v = "[" + ", ".join(f"{x:.8g}" for x in v) + "]"
        elif isinstance(v, float):
            v = f"{v:.10g}"
        else:
            v = repr(v)
        items.append(f"    {k!r}: {v},")
    return "{\n" + "\n".join(items) + "\n}"
