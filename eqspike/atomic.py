"""Atomic file writes: a result file is either complete or absent.

Each writer writes to a temporary file in the same folder, flushes it to disk
and renames it over the target (``os.replace`` is atomic on POSIX).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def _atomic(path: str | os.PathLike, write: Callable[[Any], None], mode: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def ensure_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """Create output folder ``path`` (with parents) and check it is writable, so a
    bad ``--out`` fails at once with a :class:`~eqspike.errors.ParameterError`
    naming the option, instead of an ``OSError`` after the work is done."""
    from eqspike.errors import ParameterError
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {str(path)!r} is an existing file, not a folder; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".write-test.", dir=path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise ParameterError(f"{option} {str(path)!r}: cannot create or write the output folder "
                             f"({e.strerror or e}); give a writable folder") from None
    return path



@contextlib.contextmanager
def output_dir(path: str | os.PathLike, option: str = "--out"):
    """:func:`ensure_dir` as a context: the folder is created (and checked) at
    once, and removed again if it was created here and is still empty when the
    block raises, so a run refused for a bad parameter leaves nothing behind."""
    path = Path(path)
    existed = path.exists()
    out = ensure_dir(path, option)
    try:
        yield out
    except BaseException:
        if not existed:
            try:
                out.rmdir()   # only succeeds when empty
            except OSError:
                pass
        raise

def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return _atomic(path, lambda fh: fh.write(data), "wb")


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return _atomic(path, lambda fh: fh.write(text.encode("utf-8")), "wb")


def write_json(path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically (numpy scalars/arrays allowed)."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"cannot serialise {type(o).__name__} to JSON")


def write_npz(path, **arrays) -> Path:
    """Save numpy arrays as an ``.npz`` atomically."""
    import numpy as np
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return write_bytes(path, buf.getvalue())


def write_parquet(path, df) -> Path:
    """Save a pandas DataFrame as Parquet (pyarrow) atomically."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return write_bytes(path, buf.getvalue())


def write_csv(path, df) -> Path:
    """Save a pandas DataFrame as CSV atomically."""
    return write_text(path, df.to_csv(index=False))


def save_figure(path, fig) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return write_bytes(path, buf.getvalue())
