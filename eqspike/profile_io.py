"""JSON loading shared by the profiles (``DeviceProfile``, ``NeuronProfile``,
``CrossbarProfile``): read the file, check the field names, build the frozen
dataclass, and turn every problem into one :class:`ProfileError` that names
the file, the field and what is wrong (missing fields, unknown fields such as
a wrong unit suffix ``max_rate_kHz``, out-of-range values).

A profile class sets ``PROFILE_LABEL`` (e.g. ``"neuron profile"``), defines
``to_dict()`` and inherits :class:`JsonProfile` for ``to_json`` / ``from_json``;
its ``from_dict`` calls :func:`build`.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from eqspike.errors import ProfileError

__all__ = ["JsonProfile", "read_json", "check_fields", "build"]


def read_json(path: str | Path, label: str) -> Any:
    """Parsed JSON of ``path``; :class:`ProfileError` if absent, unreadable or not JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"cannot read {label} {str(path)!r}: the file does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"cannot read {label} {str(path)!r}: {getattr(e, 'strerror', None) or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ProfileError(f"{label} {str(path)!r} is not valid JSON: {e}") from None


def check_fields(cls: type, data: Any, label: str, *, schema: int | None = None,
                 optional: Iterable[str] | None = None) -> dict[str, Any]:
    """``data`` as a dict of ``cls``'s fields (``schema``/``kind`` keys dropped).

    Unknown keys (with a did-you-mean hint) and missing ones are reported
    together.  ``optional``: fields that may be absent (default: those with
    a default value).  ``schema``: the supported schema version, checked when
    given (an absent ``schema`` key is accepted).
    """
    if not isinstance(data, Mapping):
        raise ProfileError(f"a {label} must be a JSON object, got {type(data).__name__}")
    data = dict(data)
    found = data.pop("schema", schema)
    data.pop("kind", None)
    if schema is not None and found != schema:
        raise ProfileError(f"{label} schema {found!r} is not supported (expected {schema})")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if optional is None:
        optional = [n for n, f in fields.items()
                    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING]
    optional = set(optional)
    missing = [n for n in fields if n not in data and n not in optional]
    unknown = sorted(set(data) - set(fields))
    problems = []
    if missing:
        problems.append("missing field(s): " + ", ".join(missing))
    if unknown:
        hints = []
        for u in unknown:
            close = difflib.get_close_matches(u, list(fields), n=1, cutoff=0.6)
            hints.append(f"'{u}'" + (f" (did you mean '{close[0]}'? units are SI)" if close else ""))
        problems.append("unknown field(s): " + ", ".join(hints) + "; known fields: " + ", ".join(fields))
    if problems:
        raise ProfileError(f"{label} has " + "; ".join(problems))
    return data


def build(cls: type, data: Any, label: str, **kw: Any) -> Any:
    """``cls(**data)`` after :func:`check_fields`; wrong types become :class:`ProfileError`."""
    data = check_fields(cls, data, label, **kw)
    try:
        return cls(**data)
    except ProfileError:
        raise
    except (TypeError, ValueError) as e:
        raise ProfileError(f"{label}: invalid content: {e}") from None


class JsonProfile:
    """``to_json`` / ``from_json`` for a profile class with ``to_dict``/``from_dict``."""
    PROFILE_LABEL = "profile"

    def to_json(self, path: str | Path) -> Path:
        """Write the profile as JSON atomically; returns the path."""
        from eqspike.atomic import write_json
        return write_json(path, self.to_dict())  # type: ignore[attr-defined]

    @classmethod
    def from_json(cls, path: str | Path) -> Any:
        """Load and validate a profile JSON file; :class:`ProfileError` names file and field."""
        data = read_json(path, cls.PROFILE_LABEL)
        try:
            return cls.from_dict(data)  # type: ignore[attr-defined]
        except ProfileError as e:
            if str(path) in str(e):
                raise
            raise ProfileError(f"{path}: {e}") from None


def normalise_common(obj: Any, label: str, str_fields: Iterable[str] = ("name",)) -> None:
    """Checks and coercions every profile's ``__post_init__`` shares.

    ``str_fields`` must be non-empty strings; ``provenance`` (None allowed)
    must be a mapping and is stored as a plain dict; numpy scalars are
    replaced by Python numbers.  Raises :class:`ProfileError` naming
    ``label`` (e.g. ``"NeuronProfile"``) and the field.
    """
    import numpy as np
    for name in str_fields:
        v = getattr(obj, name)
        if not isinstance(v, str) or not v.strip():
            raise ProfileError(f"{label}: field '{name}' = {v!r} must be a non-empty string")
    prov = getattr(obj, "provenance")
    if prov is None:
        prov = {}
    if not isinstance(prov, Mapping):
        raise ProfileError(f"{label}: field 'provenance' must be a mapping, got {type(prov).__name__}")
    object.__setattr__(obj, "provenance", dict(prov))
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.generic):
            object.__setattr__(obj, f.name, v.item())
