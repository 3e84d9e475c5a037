"""One writer per output folder: a lock file with a stale-lock check.

:func:`hold` takes ``FOLDER/.lock`` for the duration of a ``with`` block.  A
second eqspike process that wants to write into the same folder is refused
with a one-line :class:`~eqspike.errors.ParameterError` naming the holder
(pid, host, command, start time, all recorded in the lock file).

The lock is a POSIX ``flock`` on the file, which the kernel drops when its
process ends, even by ``kill -9``: a lock file whose process is gone is
*stale* and taken over (the takeover is said on stderr).  Where ``flock`` is
not supported (some network file systems) the lock falls back to an
exclusive-create pid file, and a pid file whose process is no longer running
on this host is the stale case.

The file stays in the folder after the block (removing it would open a race
with a process that has just opened it); :data:`LOCK_NAME` is ignored when a
folder is checked for being empty (:mod:`eqspike.outdir`).
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterator

from eqspike.errors import ParameterError

__all__ = ["LOCK_NAME", "hold", "holder", "LockBusy"]

LOCK_NAME = ".lock"


class LockBusy(ParameterError):
    """Another live process holds the folder's lock."""


def _info(what: str) -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "command": what,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _read(path: Path) -> dict:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return {}
    if not text:
        return {}
    try:
        d = json.loads(text)
        return d if isinstance(d, dict) else {}
    except ValueError:  # older lock files hold just the pid
        return {"pid": text} if text.isdigit() else {}


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, TypeError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _busy(folder: Path, info: dict, what: str) -> LockBusy:
    who = f"pid {info.get('pid', '?')}"
    if info.get("command") and info["command"] != what:
        who = f"{info['command']}, {who}"
    if info.get("host") and info.get("host") != socket.gethostname():
        who += f" on {info['host']}"
    if info.get("started"):
        who += f", since {info['started']}"
    return LockBusy(f"another {what} ({who}) is writing to {str(folder)!r}; wait for it to "
                    "finish or choose another --out")


def holder(folder: str | os.PathLike) -> dict | None:
    """What the live holder of ``folder``'s lock recorded, or None when nobody
    holds it (no lock file, or a stale one).  Probes without taking the lock."""
    import fcntl
    path = Path(folder) / LOCK_NAME
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path) or {"pid": "?"}
        except OSError:  # flock unsupported: the pid-file rule
            info = _read(path)
            same_host = info.get("host") in (None, socket.gethostname())
            return info if info and (not same_host or _alive(info.get("pid"))) else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def hold(folder: str | os.PathLike, what: str = "eqspike run") -> Iterator[Path]:
    """Hold ``folder/.lock`` while the block runs (module doc); ``what`` names
    the writer in the lock file and in the refusal message, e.g. ``"eqspike train"``."""
    import fcntl
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    before = _read(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    pidfile = acquired = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            acquired = True
        except BlockingIOError:
            raise _busy(folder, _read(path), what) from None
        except OSError as e:
            if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
            pidfile = True
            _take_pidfile(path, folder, what)
            acquired = True
        if before.get("pid") and not pidfile and str(before.get("pid")) != str(os.getpid()):
            print(f"eqspike: note: stale lock in {folder} (pid {before.get('pid')}, "
                  f"{before.get('command', 'unknown command')}, no longer running) taken over",
                  file=sys.stderr)
        if not pidfile:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(_info(what)).encode(), 0)
            os.fsync(fd)
        yield folder
    finally:
        try:  # released cleanly: an empty lock file is not reported as stale later
            if not acquired:
                pass
            elif pidfile:
                path.write_text("")
            else:
                os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)


def _take_pidfile(path: Path, folder: Path, what: str) -> None:
    info = _read(path)
    same_host = info.get("host") in (None, socket.gethostname())
    if info.get("pid") and str(info.get("pid")) != str(os.getpid()) and (
            not same_host or _alive(info["pid"])):
        raise _busy(folder, info, what)
    path.write_text(json.dumps(_info(what)))
