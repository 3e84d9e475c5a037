"""Documented, range-checked configuration fields for frozen dataclasses.

Every physical parameter in eqspike is a dataclass field made with
:func:`param`, which records its SI unit, its allowed range and a one-line
description (the way aihwkit documents device configs).  A dataclass calls
:func:`validate` in ``__post_init__``; bad values raise :class:`ParameterError`
naming the parameter, the value and the allowed range.

Example::

    @dataclass(frozen=True)
    class RC:
        r_ohm: float = param(1e3, unit="ohm", low=0, low_open=True, doc="resistance")
        def __post_init__(self):
            validate(self)
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable, Mapping


from eqspike.errors import ParameterError  # noqa: F401  (re-exported)


def param(default: Any = dataclasses.MISSING, *, unit: str = "", doc: str = "",
          low: float | None = None, high: float | None = None,
          low_open: bool = False, high_open: bool = False,
          choices: Iterable[Any] | None = None, integer: bool = False,
          default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with unit, documentation and allowed range.

    ``low``/``high`` bound the value (inclusive unless ``low_open``/``high_open``);
    ``choices`` restricts it to a set; ``integer`` requires an int.  Sequences
    (tuples) are checked element-wise.
    """
    meta = {"unit": unit, "doc": doc, "low": low, "high": high,
            "low_open": low_open, "high_open": high_open,
            "choices": tuple(choices) if choices is not None else None,
            "integer": integer}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def range_text(meta: Mapping[str, Any]) -> str:
    """Human-readable allowed range of a field, e.g. ``(0, 1] V``."""
    if meta.get("choices") is not None:
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    lo, hi = meta.get("low"), meta.get("high")
    if lo is None and hi is None:
        txt = "any finite value"
    else:
        left = "(" if (meta.get("low_open") or lo is None) else "["
        right = ")" if (meta.get("high_open") or hi is None) else "]"
        txt = f"{left}{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}{right}"
    if meta.get("integer"):
        txt += " (integer)"
    unit = meta.get("unit")
    return f"{txt} {unit}".strip()


def check_value(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    """Raise :class:`ParameterError` unless ``value`` satisfies ``meta``."""
    if isinstance(value, (tuple, list)) and meta.get("choices") is None:
        for i, v in enumerate(value):
            check_value(f"{name}[{i}]", v, meta)
        return
    choices = meta.get("choices")
    if choices is not None:
        if value not in choices:
            raise ParameterError(f"parameter '{name}' = {value!r} is not allowed; "
                                 f"allowed: {range_text(meta)}")
        return
    if meta.get("low") is None and meta.get("high") is None and not meta.get("integer"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ParameterError(f"parameter '{name}' = {value!r} must be finite")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np
            if isinstance(value, np.generic):
                value = value.item()
            else:
                raise TypeError
        except TypeError:
            raise ParameterError(f"parameter '{name}' = {value!r} must be a number; "
                                 f"allowed range {range_text(meta)}") from None
    if meta.get("integer") and not float(value).is_integer():
        raise ParameterError(f"parameter '{name}' = {value!r} must be an integer; "
                             f"allowed range {range_text(meta)}")
    if not math.isfinite(value):
        raise ParameterError(f"parameter '{name}' = {value!r} is not finite; "
                             f"allowed range {range_text(meta)}")
    lo, hi = meta.get("low"), meta.get("high")
    bad = ((lo is not None and (value <= lo if meta.get("low_open") else value < lo)) or
           (hi is not None and (value >= hi if meta.get("high_open") else value > hi)))
    if bad:
        raise ParameterError(f"parameter '{name}' = {value!r} is outside the allowed "
                             f"range {range_text(meta)}")


def check(name: str, value: Any, *, unit: str = "", low: float | None = None,
          high: float | None = None, low_open: bool = False, high_open: bool = False,
          choices: Iterable[Any] | None = None, integer: bool = False) -> Any:
    """Check a loose value (a function argument, a CLI option) like a :func:`param`
    field; return it unchanged or raise :class:`ParameterError`.

    ``check("workers", 0, low=1, integer=True)`` -> ``parameter 'workers' = 0 is
    outside the allowed range [1, inf) (integer)``.
    """
    meta = {"unit": unit, "low": low, "high": high, "low_open": low_open, "high_open": high_open,
            "choices": tuple(choices) if choices is not None else None, "integer": integer}
    if integer and isinstance(value, float):
        raise ParameterError(f"parameter '{name}' = {value!r} must be an integer; "
                             f"allowed range {range_text(meta)}")
    check_value(name, value, meta)
    return value


def validate(obj: Any, prefix: str = "") -> None:
    """Check every :func:`param` field of dataclass instance ``obj``."""
    for f in dataclasses.fields(obj):
        if "unit" not in f.metadata:
            continue
        check_value(prefix + f.name, getattr(obj, f.name), f.metadata)


def describe(cls: type) -> list[dict[str, Any]]:
    """Rows (name, default, unit, range, doc) documenting a dataclass's params."""
    rows = []
    for f in dataclasses.fields(cls):
        if "unit" not in f.metadata:
            continue
        default = (f.default if f.default is not dataclasses.MISSING else
                   (f.default_factory() if f.default_factory is not dataclasses.MISSING else None))
        rows.append({"name": f.name, "default": default, "unit": f.metadata["unit"],
                     "range": range_text(f.metadata), "doc": f.metadata["doc"]})
    return rows


def describe_lines(cls: type, *, indent: str = "    ", widths: tuple[int, int, int] = (18, 16, 26)
                   ) -> list[str]:
    """:func:`describe` as aligned text lines ``name = default unit  range ...  doc``
    (what the ``list`` commands print); ``widths``: name, value and range columns."""
    wn, wv, wr = widths
    lines = []
    for row in describe(cls):
        unit = f" {row['unit']}" if row["unit"] else ""
        val = f"{row['default']!r}{unit}"
        lines.append(f"{indent}{row['name']:<{wn}} = {val:<{wv}} range {row['range']:<{wr}} {row['doc']}")
    return lines


def parse_overrides(pairs: Iterable[str] | None) -> dict[str, Any]:
    """Turn CLI ``k=v`` strings into a dict, values parsed as numbers/bools."""
    out: dict[str, Any] = {}
    for item in pairs or ():
        if "=" not in item:
            raise ParameterError(f"--param {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        k, v = k.strip(), v.strip()
        if not k:
            raise ParameterError(f"--param {item!r}: empty parameter name")
        out[k] = _parse_scalar(v)
    return out


def _parse_scalar(v: str) -> Any:
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        if low.lstrip("+-").isdigit():
            return int(v)
        return float(v)
    except ValueError:
        if "," in v:
            return tuple(_parse_scalar(x) for x in v.split(","))
        return v


def replace_checked(obj: Any, overrides: Mapping[str, Any]) -> Any:
    """``dataclasses.replace`` that names unknown parameters clearly."""
    names = {f.name for f in dataclasses.fields(obj)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for "
                             f"{type(obj).__name__}; known: {', '.join(sorted(names))}")
    return dataclasses.replace(obj, **overrides)
