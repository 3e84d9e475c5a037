"""Output folders: never overwrite a finished run silently, never mix two runs.

Every command that writes a run or report folder claims it with
:func:`claim`:

- an existing *file* as the folder, or a folder that cannot be created or
  written, is refused at once with one line naming the option;
- an existing folder that is not empty is refused unless the command was
  given ``--resume`` (continue what is there) or ``--overwrite`` (clear its
  old contents first, so no stale file of the earlier run stays beside the
  new one);
- with ``lock=True`` the folder's lock (:mod:`eqspike.locks`) is held while
  the command writes, so a second writer is refused instead of mixing its
  files with the first one's.

Hidden bookkeeping files (the lock file, temp files of atomic writes) do not
make a folder "not empty".
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator

from eqspike import locks
from eqspike.errors import ParameterError

__all__ = ["claim", "check", "contents", "clear", "file_target"]


def contents(path: Path) -> list[str]:
    """Names in folder ``path`` other than the lock file and temp files (sorted)."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n != locks.LOCK_NAME
                  and not (n.startswith(".") and n.endswith(".tmp")))


def _refuse_clear(path: Path) -> str | None:
    p = path.resolve()
    cwd = Path.cwd().resolve()
    if p == Path(p.anchor) or p == Path.home().resolve():
        return "it is the file-system root or the home folder"
    if p == cwd or p in cwd.parents:
        return "it is the current folder or one of its parents"
    if (p / ".git").exists():
        return "it holds a .git repository"
    return None


def check(path: str | os.PathLike, option: str = "--out", *, resume: bool = False,
          overwrite: bool = False, resumable: bool = True, what: str = "run") -> Path:
    """The refusals of the module doc, without side effects; returns the path."""
    path = Path(path)
    if resume and overwrite:
        raise ParameterError("--resume and --overwrite exclude each other: continue the run in "
                             f"{str(path)!r} or replace it, not both")
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {str(path)!r} is an existing file, not a folder; give a folder")
    names = contents(path) if path.is_dir() else []
    if names:
        info = locks.holder(path)
        if info is not None:
            raise locks._busy(path, info, info.get("command") or "eqspike process")
        if not resume and not overwrite:
            raise _not_empty(path, names, option, resumable, what)
        if overwrite:
            why = _refuse_clear(path)
            if why:
                raise ParameterError(f"--overwrite refuses to clear {option} {str(path)!r}: {why}; "
                                     "give a dedicated output folder")
    return path


def _not_empty(path: Path, names: list[str], option: str, resumable: bool, what: str) -> ParameterError:
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    alts = "--resume to continue it, or --overwrite" if resumable else "--overwrite"
    return ParameterError(f"{option} {str(path)!r} already holds {len(names)} file(s) ({shown}) "
                          f"of an earlier {what}; give {alts} to replace them (the old contents "
                          "are removed first), or another folder")


def clear(path: Path) -> None:
    """Remove everything in ``path`` except the lock file."""
    for name in os.listdir(path):
        if name == locks.LOCK_NAME:
            continue
        p = path / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


@contextlib.contextmanager
def claim(path: str | os.PathLike, option: str = "--out", *, resume: bool = False,
          overwrite: bool = False, lock: bool = True, resumable: bool = True,
          what: str = "run", command: str = "eqspike") -> Iterator[Path]:
    """Check, create, lock and (with ``overwrite``) clear output folder ``path``
    for the block (module doc).  ``command`` names the writer in the lock;
    ``what`` the kind of output in messages ("run", "report", "sweep", ...).
    A folder created here and left empty by an error is removed again."""
    from eqspike.atomic import ensure_dir
    path = check(path, option, resume=resume, overwrite=overwrite, resumable=resumable, what=what)
    existed = path.exists()
    ensure_dir(path, option)
    stack = contextlib.ExitStack()
    try:
        with stack:
            if lock:
                stack.enter_context(locks.hold(path, command))
            if not resume and not overwrite and contents(path):  # filled since the check
                raise _not_empty(path, contents(path), option, resumable, what)
            if overwrite and contents(path):
                clear(path)
            yield path
    except BaseException:
        if not existed and not contents(path):
            with contextlib.suppress(OSError):
                (path / locks.LOCK_NAME).unlink(missing_ok=True)
                path.rmdir()
        raise


def file_target(path: str | os.PathLike, option: str) -> Path:
    """Check that output *file* ``path`` can be written (its folder created and
    writable, the path not a folder); an existing file is replaced atomically."""
    from eqspike.atomic import ensure_dir
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{option} {str(path)!r} is an existing folder; give a file path")
    ensure_dir(path.parent if str(path.parent) else Path("."), f"{option} {str(path)!r}: its folder")
    return path
