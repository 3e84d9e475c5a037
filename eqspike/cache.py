"""Where eqspike caches downloads and characterisation results.

Order: an explicit path, ``$EQSPIKE_CACHE_DIR``, then ``$XDG_CACHE_HOME/eqspike``
(``~/.cache/eqspike``).  Characterisations are cached by netlist hash
(:func:`eqspike.spice.netlist_hash`) under ``cache_dir()/<kind>/<hash>/``.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The cache root (created if missing)."""
    if explicit:
        root = Path(explicit)
    elif os.environ.get("EQSPIKE_CACHE_DIR"):
        root = Path(os.environ["EQSPIKE_CACHE_DIR"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
        root = Path(base) / "eqspike"
    root.mkdir(parents=True, exist_ok=True)
    return root


def entry_dir(kind: str, key: str, explicit: str | os.PathLike | None = None) -> Path:
    """Folder for one cached result of ``kind`` (e.g. 'device') under ``key``."""
    d = cache_dir(explicit) / kind / key
    d.mkdir(parents=True, exist_ok=True)
    return d
