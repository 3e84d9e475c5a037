"""Where eqspike caches downloads and characterisation results.

Order: an explicit path, ``$EQSPIKE_CACHE_DIR``, then ``$XDG_CACHE_HOME/eqspike``
(``~/.cache/eqspike``).  Characterisations are cached by netlist hash
(:func:`eqspike.spice.netlist_hash`) under ``cache_dir()/<kind>/<hash>/``.

A cache entry is complete or absent: :func:`building` writes it in a
temporary folder beside it, puts the marker file :data:`COMPLETE` in last and
renames the folder into place, so a run killed half-way (say while drawing
the plots) leaves no entry that later runs would take for a finished one.
:func:`lookup` returns only entries holding the marker; folders written
before the marker existed are rebuilt once.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

#: Marker file written last into a finished cache entry.
COMPLETE = ".complete"


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
    """Path of the cached result of ``kind`` (e.g. 'device') under ``key``; not
    created (use :func:`building`), and complete only if :func:`lookup` says so."""
    d = cache_dir(explicit) / kind
    d.mkdir(parents=True, exist_ok=True)
    return d / key


def lookup(kind: str, key: str, explicit: str | os.PathLike | None = None,
           required: tuple[str, ...] = ()) -> Path | None:
    """The complete entry's folder (marker and every ``required`` file present), or None."""
    d = entry_dir(kind, key, explicit)
    if (d / COMPLETE).is_file() and all((d / f).exists() for f in required):
        return d
    return None


@contextlib.contextmanager
def building(kind: str, key: str, explicit: str | os.PathLike | None = None) -> Iterator[Path]:
    """Yield a temporary folder to write an entry into; on success it becomes
    ``entry_dir(kind, key)`` (an incomplete older folder there is replaced; a
    complete one written meanwhile by another process is kept), on error or
    interruption the temporary folder is removed."""
    final = entry_dir(kind, key, explicit)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
        (tmp / COMPLETE).write_text("")
        if final.exists() and not (final / COMPLETE).is_file():
            shutil.rmtree(final, ignore_errors=True)   # an incomplete entry of an older version
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / COMPLETE).is_file():
                raise
            # another process finished the same entry first: keep its copy
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
