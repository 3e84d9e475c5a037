"""Sweep specification: a TOML file -> validated, frozen dataclasses.

Format (every key except ``sweep.point`` and ``sweep.vary``/``sweep.random``
is optional; see docs/sweeps.md)::

    [sweep]
    name = "rram_variability"      # default: the file's stem
    point = "eqspike_device"       # point function (eqspike.sweeps.points)
    mode = "grid"                  # grid | lists | random
    repeats = 3                    # seeds per point: seed, seed+1, ...
    seed = 0                       # first seed (or: seeds = [1, 7, 9])
    n_samples = 20                 # mode = "random": number of samples
    sample_seed = 0                # mode = "random": seed of the sampler

    [sweep.budget]                 # training budget of every point
    epochs = 1
    n_train = 2000                 # images
    n_test = 1000                  # images

    [sweep.vary]                   # mode grid (Cartesian product) or lists (zipped)
    d2d_sigma = [0.0, 0.05, 0.1]

    [sweep.zip]                    # mode grid: lists zipped into ONE axis of the product
    nl_ltp = [0.0, 2.0, 4.0]
    nl_ltd = [0.0, -2.0, -4.0]

    [sweep.random]                 # mode random: one distribution per parameter
    c2c_sigma = { dist = "uniform", low = 0.0, high = 0.05 }
    g_max_S = { dist = "loguniform", low = 1e-6, high = 1e-4 }
    n_levels = { dist = "choice", values = [16, 32, 64] }
    n_hidden = { dist = "randint", low = 50, high = 200 }   # inclusive

    [base]                         # fixed parameters of every point
    nl_ltp = 1.0
    [base.training]                # sub-tables only group keys: names stay flat
    rule = "eqspike"

Parameter names are those of the point function's parameter dataclass (so
they carry their unit, e.g. ``g_min_S``); missing ones take its defaults.
Malformed specs raise :class:`~eqspike.errors.ParameterError` naming the
field, e.g. ``sweep.vary.d2d_sigma: expected a list of numbers, got 'abc'``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from eqspike.errors import ParameterError
from eqspike.sweeps.points import Budget, PointFunction, get_point, REQUIRED_METRICS

MODES = ("grid", "lists", "random")
#: Most (point, repeat) tasks of one sweep: each is a row file and a Dask future.
MAX_TASKS = 1_000_000
DISTRIBUTIONS = ("uniform", "loguniform", "choice", "randint")
_SWEEP_KEYS = ("name", "point", "mode", "repeats", "seed", "seeds", "n_samples",
               "sample_seed", "budget", "vary", "zip", "random", "description", "data_dir")
_TOP_KEYS = ("sweep", "base")
#: Row columns a parameter may not shadow.
RESERVED_COLUMNS = ("point_id", "config_id", "point_index", "repeat", "seed", "sweep", "point", "status",
                    "error", "traceback", "wall_s", "cpu_s", "started", "finished", "worker",
                    "eqspike_version", "device_profile_hash", "neuron_profile_hash", "crossbar_profile_hash",
                    "epochs", "n_train", "n_test") + REQUIRED_METRICS


@dataclass(frozen=True)
class Distribution:
    """A random-mode distribution of one parameter."""
    dist: str
    low: float | None = None
    high: float | None = None
    values: tuple = ()

    def sample(self, rng) -> Any:
        if self.dist == "uniform":
            return _round_sig(float(rng.uniform(self.low, self.high)))
        if self.dist == "loguniform":
            return _round_sig(float(math.exp(rng.uniform(math.log(self.low), math.log(self.high)))))
        if self.dist == "randint":
            return int(rng.integers(int(self.low), int(self.high) + 1))
        return self.values[int(rng.integers(len(self.values)))]


@dataclass(frozen=True)
class Task:
    """One (point, repeat) to run: everything a worker needs, picklable."""
    point_id: str
    config_id: str
    point_index: int
    repeat: int
    seed: int
    point: str
    sweep: str
    params: tuple[tuple[str, Any], ...]
    budget: Budget

    @property
    def params_dict(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep specification (see module docstring)."""
    name: str
    point: str
    mode: str
    base: tuple[tuple[str, Any], ...]
    vary: tuple[tuple[str, tuple], ...] = ()
    zipped: tuple[tuple[str, tuple], ...] = ()
    random: tuple[tuple[str, Distribution], ...] = ()
    n_samples: int = 0
    sample_seed: int = 0
    seeds: tuple[int, ...] = (0,)
    budget: Budget = Budget()
    description: str = ""
    #: ``[sweep] data_dir``: dataset folder (context, not part of the point ids;
    #: relative paths are relative to the spec file; ``--data-dir`` overrides)
    data_dir: str = ""
    source: str = ""

    @property
    def swept(self) -> tuple[str, ...]:
        """Names of the varied parameters, in spec order."""
        if self.mode == "random":
            return tuple(k for k, _ in self.random)
        return tuple(k for k, _ in self.vary + self.zipped)

    @property
    def axes(self) -> tuple[tuple[str, ...], ...]:
        """Independent axes of the sweep: each grid list alone, zipped lists together."""
        if self.mode == "random":
            return tuple((k,) for k, _ in self.random)
        if self.mode == "lists":
            return (tuple(k for k, _ in self.vary),)
        axes = tuple((k,) for k, _ in self.vary)
        return axes + ((tuple(k for k, _ in self.zipped),) if self.zipped else ())

    @property
    def repeats(self) -> int:
        return len(self.seeds)

    def point_function(self) -> PointFunction:
        return get_point(self.point)

    def points(self) -> list[dict[str, Any]]:
        """Resolved parameters (defaults + base + varied) of every point, in order."""
        pf = self.point_function()
        base = dict(self.base)
        if self.mode == "grid":
            axes = [[{k: x} for x in vals] for k, vals in self.vary]
            if self.zipped:
                znames = [k for k, _ in self.zipped]
                axes.append([dict(zip(znames, vals)) for vals in zip(*(v for _, v in self.zipped))])
            combos = [{k: v for d in combo for k, v in d.items()} for combo in itertools.product(*axes)]
        elif self.mode == "lists":
            names = [k for k, _ in self.vary]
            combos = [dict(zip(names, vals)) for vals in zip(*(v for _, v in self.vary))]
        else:
            import numpy as np
            rng = np.random.default_rng(self.sample_seed)
            combos = [{k: d.sample(rng) for k, d in self.random} for _ in range(self.n_samples)]
        return [resolve_params(pf, {**base, **c}, where=f"sweep point {i} ({_fmt(c)})")
                for i, c in enumerate(combos)]

    def tasks(self) -> list[Task]:
        """Every (point, repeat) of the sweep with its deterministic id."""
        out = []
        for i, p in enumerate(self.points()):
            cid = point_id(self.point, p, self.budget, None)
            for r, seed in enumerate(self.seeds):
                out.append(Task(point_id=point_id(self.point, p, self.budget, seed), config_id=cid,
                                point_index=i, repeat=r, seed=int(seed), point=self.point,
                                sweep=self.name, params=tuple(p.items()), budget=self.budget))
        return out

    def manifest(self) -> dict[str, Any]:
        """JSON-able summary saved beside the results (used by plots)."""
        return {"name": self.name, "point": self.point, "mode": self.mode,
                "swept": list(self.swept), "axes": [list(a) for a in self.axes],
                "base": dict(self.base),
                "params": list(self.point_function().param_names()),
                "seeds": list(self.seeds), "budget": self.budget.as_dict(),
                "description": self.description, "source": self.source}


# ------------------------------------------------------------------ ids

def _canon(v: Any) -> Any:
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    return v


def point_id(point: str, params: Mapping[str, Any], budget: Budget, seed: int | None) -> str:
    """Deterministic id (16 hex chars) of a point's resolved config and seed.

    With ``seed=None``: the *config id*, shared by the repeats of a point.
    """
    # the default dataset is left out, so ids from before `dataset_name` existed still match
    params = {k: v for k, v in params.items() if not (k == "dataset_name" and v == "mnist")}
    cfg = {"point": point, "params": {k: _canon(v) for k, v in params.items()},
           "budget": budget.as_dict()}
    if seed is not None:
        cfg["seed"] = int(seed)
    blob = json.dumps(cfg, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ------------------------------------------------------------ validation

def _fmt(d: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in d.items())


def _round_sig(x: float, sig: int = 6) -> float:
    return float(f"{x:.{sig}g}")


def _field_kind(pf: PointFunction, name: str) -> str:
    """'int', 'float', 'bool', 'str' or 'any' from the parameter's default/metadata."""
    f = {f.name: f for f in dataclasses.fields(pf.params_cls)}[name]
    default = f.default if f.default is not dataclasses.MISSING else None
    if isinstance(default, (tuple, list)):
        return "seq"
    if f.metadata.get("integer"):
        return "int"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, float) or f.metadata.get("low") is not None or f.metadata.get("high") is not None:
        return "float"
    if isinstance(default, int):
        return "int"
    if isinstance(default, str):
        return "str"
    return "any"


_KIND_TEXT = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
              "seq": "a list of values (or one value)"}


def _coerce(pf: PointFunction, name: str, value: Any, where: str) -> Any:
    """Check the TOML value's type against the parameter and normalise it."""
    kind = _field_kind(pf, name)
    isnum = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "float" and isnum:
        return float(value)
    if kind == "int" and isnum and float(value).is_integer():
        return int(value)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "seq":
        f = {f.name: f for f in dataclasses.fields(pf.params_cls)}[name]
        numeric = any(f.metadata.get(k) not in (None, False) for k in ("low", "high", "integer"))
        items = value if isinstance(value, list) else [value]
        ok_item = ((lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)) if numeric
                   else (lambda x: isinstance(x, (int, float, str, bool))))
        if items and all(ok_item(x) for x in items):
            return tuple(items)
        raise ParameterError(f"{where}: expected a {'number or a list of numbers' if numeric else 'list of values'}"
                             f", got {value!r}")
    if kind == "any" and isinstance(value, (int, float, str, bool)):
        return value
    if kind == "any" and isinstance(value, list):
        return tuple(value)
    raise ParameterError(f"{where}: expected {_KIND_TEXT.get(kind, 'a value')}, got {value!r}")


def resolve_params(pf: PointFunction, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Defaults + ``values`` checked by the parameter dataclass; ordered dict."""
    try:
        obj = pf.params_cls(**values)
    except ParameterError as e:
        raise ParameterError(f"{where}: {e}") from None
    except TypeError as e:
        raise ParameterError(f"{where}: {e}") from None
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _require_table(d: Any, where: str) -> dict:
    if not isinstance(d, dict):
        raise ParameterError(f"{where}: expected a table, got {d!r}")
    return d


def _check_keys(d: Mapping, allowed, where: str) -> None:
    for k in d:
        if k not in allowed:
            raise ParameterError(f"{where}{k}: unknown key; allowed: {', '.join(allowed)}")


def _int(d: Mapping, key: str, default: int, where: str, low: int | None = None,
         high: int | None = None) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ParameterError(f"{where}{key}: expected an integer, got {v!r}")
    if low is not None and v < low:
        raise ParameterError(f"{where}{key}: expected an integer >= {low}, got {v!r}")
    if high is not None and v > high:
        raise ParameterError(f"{where}{key}: expected an integer <= {high}, got {v!r}")
    return v


def _check_param_name(pf: PointFunction, name: str, where: str) -> None:
    if name not in pf.param_names():
        raise ParameterError(f"{where}: unknown parameter for point function {pf.name!r}; "
                             f"known: {', '.join(pf.param_names())}")


def _flatten_base(base: Mapping, where: str = "base.") -> dict[str, tuple[Any, str]]:
    out: dict[str, tuple[Any, str]] = {}
    for k, v in base.items():
        if isinstance(v, dict):
            for kk, (vv, w) in _flatten_base(v, f"{where}{k}.").items():
                if kk in out:
                    raise ParameterError(f"{w}: parameter {kk!r} given twice (also at {out[kk][1]})")
                out[kk] = (vv, w)
        else:
            if k in out:
                raise ParameterError(f"{where}{k}: parameter {k!r} given twice (also at {out[k][1]})")
            out[k] = (v, f"{where}{k}")
    return out


def _list_of(pf: PointFunction, name: str, v: Any, where: str) -> tuple:
    kind = _field_kind(pf, name)
    what = {"int": "integers", "float": "numbers", "bool": "booleans", "str": "strings",
            "seq": "lists (or single values)"}.get(kind, "values")
    if not isinstance(v, list):
        raise ParameterError(f"{where}: expected a list of {what}, got {v!r}")
    if not v:
        raise ParameterError(f"{where}: expected a non-empty list of {what}, got []")
    out = []
    for i, x in enumerate(v):
        try:
            out.append(_coerce(pf, name, x, f"{where}[{i}]"))
        except ParameterError:
            raise ParameterError(f"{where}: expected a list of {what}, got {x!r} at index {i}") from None
    return tuple(out)


def _distribution(pf: PointFunction, name: str, v: Any, where: str) -> Distribution:
    if not isinstance(v, dict):
        raise ParameterError(f"{where}: expected a table like {{ dist = \"uniform\", low = 0, high = 1 }}, got {v!r}")
    dist = v.get("dist")
    if dist not in DISTRIBUTIONS:
        raise ParameterError(f"{where}.dist: expected one of {', '.join(DISTRIBUTIONS)}, got {dist!r}")
    if dist == "choice":
        _check_keys(v, ("dist", "values"), where + ".")
        return Distribution(dist, values=_list_of(pf, name, v.get("values"), where + ".values"))
    _check_keys(v, ("dist", "low", "high"), where + ".")
    lh = []
    for key in ("low", "high"):
        x = v.get(key)
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ParameterError(f"{where}.{key}: expected a finite number, got {x!r}")
        if dist == "randint" and not float(x).is_integer():
            raise ParameterError(f"{where}.{key}: expected an integer for randint, got {x!r}")
        lh.append(x)
    low, high = lh
    ordered = low <= high if dist == "randint" else low < high
    if not ordered:
        rel = "<=" if dist == "randint" else "<"
        raise ParameterError(f"{where}: expected low {rel} high, got low={low!r}, high={high!r}")
    if dist == "loguniform" and low <= 0:
        raise ParameterError(f"{where}.low: loguniform needs low > 0, got {low!r}")
    return Distribution(dist, low=low, high=high)


def parse_spec(data: Mapping[str, Any], source: str = "", default_name: str = "sweep") -> SweepSpec:
    """Validate a spec already parsed from TOML (a nested dict)."""
    _check_keys(data, _TOP_KEYS, "")
    sw = _require_table(data.get("sweep"), "sweep") if "sweep" in data else None
    if sw is None:
        raise ParameterError("sweep: missing [sweep] table")
    _check_keys(sw, _SWEEP_KEYS, "sweep.")
    if "point" not in sw:
        raise ParameterError("sweep.point: missing; name a point function (e.g. \"eqspike_device\", \"toy\")")
    if not isinstance(sw["point"], str):
        raise ParameterError(f"sweep.point: expected a string, got {sw['point']!r}")
    pf = get_point(sw["point"])
    name = sw.get("name", default_name)
    if not isinstance(name, str) or not name or any(c in name for c in "/\\\0"):
        raise ParameterError(f"sweep.name: expected a non-empty string without slashes, got {name!r}")
    description = sw.get("description", "")
    if not isinstance(description, str):
        raise ParameterError(f"sweep.description: expected a string, got {description!r}")
    data_dir = sw.get("data_dir", "")
    if not isinstance(data_dir, str):
        raise ParameterError(f"sweep.data_dir: expected a folder path (string), got {data_dir!r}")
    if data_dir and source and not Path(data_dir).expanduser().is_absolute():
        data_dir = str(Path(source).parent / data_dir)
    mode = sw.get("mode", "random" if "random" in sw and "vary" not in sw else "grid")
    if mode not in MODES:
        raise ParameterError(f"sweep.mode: expected one of {', '.join(MODES)}, got {mode!r}")

    # seeds
    if "seeds" in sw:
        if "repeats" in sw or "seed" in sw:
            raise ParameterError("sweep.seeds: give either seeds = [...] or repeats/seed, not both")
        s = sw["seeds"]
        if (not isinstance(s, list) or not s or
                any(isinstance(x, bool) or not isinstance(x, int) or x < 0 for x in s)):
            raise ParameterError(f"sweep.seeds: expected a non-empty list of integers >= 0, got {s!r}")
        if len(set(s)) != len(s):
            raise ParameterError(f"sweep.seeds: seeds must be distinct, got {s!r}")
        seeds = tuple(s)
    else:
        repeats = _int(sw, "repeats", 1, "sweep.", low=1, high=MAX_TASKS)
        seed0 = _int(sw, "seed", 0, "sweep.", low=0)
        seeds = tuple(range(seed0, seed0 + repeats))

    # budget
    b = _require_table(sw.get("budget", {}), "sweep.budget")
    _check_keys(b, [f.name for f in dataclasses.fields(Budget)], "sweep.budget.")
    for k, v in b.items():
        if isinstance(v, bool) or not isinstance(v, int):
            raise ParameterError(f"sweep.budget.{k}: expected an integer, got {v!r}")
    budget = Budget(**b)

    # base
    base_raw = _require_table(data.get("base", {}), "base")
    base: dict[str, Any] = {}
    for k, (v, where) in _flatten_base(base_raw).items():
        _check_param_name(pf, k, where)
        base[k] = _coerce(pf, k, v, where)
    resolve_params(pf, base, "base")  # range errors in base name base

    vary: list[tuple[str, tuple]] = []
    zipped: list[tuple[str, tuple]] = []
    rand: list[tuple[str, Distribution]] = []
    n_samples, sample_seed = 0, 0
    if mode in ("grid", "lists"):
        if "random" in sw:
            raise ParameterError(f"sweep.random: only used with mode = \"random\" (mode is {mode!r})")
        v = _require_table(sw.get("vary"), "sweep.vary") if "vary" in sw else {}
        z = _require_table(sw.get("zip"), "sweep.zip") if "zip" in sw else {}
        if z and mode != "grid":
            raise ParameterError("sweep.zip: only used with mode = \"grid\" (mode \"lists\" "
                                 "zips every [sweep.vary] list already)")
        if not v and not z:
            raise ParameterError("sweep.vary: missing or empty; give at least one parameter list")
        for k, vals in v.items():
            where = f"sweep.vary.{k}"
            _check_param_name(pf, k, where)
            vary.append((k, _list_of(pf, k, vals, where)))
        for k, vals in z.items():
            where = f"sweep.zip.{k}"
            _check_param_name(pf, k, where)
            if k in v:
                raise ParameterError(f"{where}: also in [sweep.vary]; a parameter belongs to one axis")
            zipped.append((k, _list_of(pf, k, vals, where)))
        zl = {k: len(vals) for k, vals in zipped}
        if len(set(zl.values())) > 1:
            raise ParameterError(f"sweep.zip: the zipped lists must have equal lengths; got {zl}")
        if mode == "lists":
            lens = {k: len(vals) for k, vals in vary}
            if len(set(lens.values())) != 1:
                raise ParameterError(f"sweep.vary: mode \"lists\" zips the lists, which must have "
                                     f"equal lengths; got {lens}")
        for key in ("n_samples", "sample_seed"):
            if key in sw:
                raise ParameterError(f"sweep.{key}: only used with mode = \"random\"")
    else:
        for key in ("vary", "zip"):
            if key in sw:
                raise ParameterError(f"sweep.{key}: not used with mode = \"random\"; use [sweep.random]")
        r = _require_table(sw.get("random"), "sweep.random") if "random" in sw else None
        if not r:
            raise ParameterError("sweep.random: missing or empty; give one distribution per parameter")
        for k, d in r.items():
            where = f"sweep.random.{k}"
            _check_param_name(pf, k, where)
            rand.append((k, _distribution(pf, k, d, where)))
        if "n_samples" not in sw:
            raise ParameterError("sweep.n_samples: missing; mode = \"random\" needs the number of samples")
        n_samples = _int(sw, "n_samples", 0, "sweep.", low=1, high=MAX_TASKS)
        sample_seed = _int(sw, "sample_seed", 0, "sweep.", low=0)

    swept = [k for k, _ in vary] + [k for k, _ in zipped] + [k for k, _ in rand]
    for k in swept:
        if k in RESERVED_COLUMNS:
            raise ParameterError(f"sweep: parameter name {k!r} clashes with a results column")
        if k in base:
            table = "vary" if k in dict(vary) else "zip" if k in dict(zipped) else "random"
            raise ParameterError(f"sweep.{table}.{k}: also given in [base] ({base[k]!r}); a swept "
                                 "parameter takes its values from the sweep only: remove one of the two")
    n_points = (n_samples if mode == "random" else
                len(vary[0][1]) if mode == "lists" and vary else
                math.prod(len(v) for _, v in vary) * (len(zipped[0][1]) if zipped else 1))
    if n_points * len(seeds) > MAX_TASKS:
        raise ParameterError(f"sweep: {n_points} points x {len(seeds)} repeats = "
                             f"{n_points * len(seeds)} (point, repeat) tasks, more than the "
                             f"{MAX_TASKS} allowed; split the sweep or use mode = \"random\"")

    spec = SweepSpec(name=name, point=sw["point"], mode=mode, base=tuple(base.items()),
                     vary=tuple(vary), zipped=tuple(zipped), random=tuple(rand), n_samples=n_samples,
                     sample_seed=sample_seed, seeds=seeds, budget=budget,
                     description=description, source=source, data_dir=data_dir)
    spec.points()  # every point must validate now, not on a worker
    return spec


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep spec (clear :class:`ParameterError` if malformed)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ParameterError(f"sweep spec {str(path)!r}: cannot read ({e.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ParameterError(f"sweep spec {str(path)!r}: not valid TOML ({e})") from None
    return parse_spec(data, source=str(path), default_name=path.stem)


def loads_spec(text: str, name: str = "sweep") -> SweepSpec:
    """Validate a spec given as TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"sweep spec: not valid TOML ({e})") from None
    return parse_spec(data, default_name=name)
