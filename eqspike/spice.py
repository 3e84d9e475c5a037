"""The one ngspice runner of the project (PySpice 1.5 shared-library mode).

``run_netlist(netlist, vectors)`` takes SPICE netlist text (a title line,
elements, one analysis line such as ``.tran``, ``.end``) and returns the named
vectors of the last plot as float64 numpy arrays (SI units: V, A, s).

What it handles, from ``shared/docs/ngspice-findings.md``:

- PySpice raises ``NgSpiceCommandError`` on any stderr line that is not a
  "Warning:", e.g. gmin/source-stepping "Note:" lines, even when the run
  finished.  We call ``ngSpice_Command`` directly and judge the run by its
  log (``Timestep too small``, ``aborted``, ``singular matrix`` ...) and by
  whether the transient reached its stop time.
- A loaded circuit leaks memory unless removed: every run ends with
  ``remove_circuit`` and ``destroy all``.
- Debian's ngspice runs 2 OpenMP threads per simulation; with several
  processes that made each simulation ~30x slower.  Each process sets
  ``num_threads=1``.
- One ngspice per process: :func:`run_many` parallelises with a process
  pool, each worker owning its own ngspice.
- Time limit: the run goes to ngspice's background thread (``bg_run``) and
  is halted when ``timeout_s`` passes (:class:`SpiceTimeout`).
- Non-convergence: retried with a tighter maximum time step and relaxed
  tolerances (``method=gear``), then :class:`SpiceConvergenceError` names
  the circuit and shows the netlist lines of the nodes/instances ngspice
  blamed.

Vector names follow the shared library: node ``out`` (not ``v(out)``) and
branch current ``v1#branch`` (positive into the + terminal, so a supply's
delivered power is ``-V*I``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["SpiceError", "SpiceConvergenceError", "SpiceTimeout", "SpiceUnavailable", "SpiceResult",
           "run_netlist", "run_many", "ngspice_version", "netlist_hash", "RETRY_OPTIONS"]


from eqspike.errors import EqspikeError


class SpiceError(EqspikeError, RuntimeError):
    """ngspice could not run a netlist (syntax, missing vector, engine error)."""


class SpiceConvergenceError(SpiceError):
    """ngspice did not converge, even after the retries."""


class SpiceTimeout(SpiceError):
    """A simulation exceeded its wall-clock time limit."""


class SpiceUnavailable(SpiceError):
    """The ngspice shared library (or PySpice) cannot be loaded in this process."""


#: How to get ngspice, printed when it cannot be loaded.
INSTALL_HINT = ("install it: Debian/Ubuntu `sudo apt-get install ngspice libngspice0` "
                "(or `bash scripts/setup.sh`), conda `conda install -c conda-forge ngspice-lib`, "
                "macOS `brew install libngspice`; or point $NGSPICE_LIBRARY_PATH at libngspice.so")


_FAIL_PATTERNS = ("timestep too small", "simulation(s) aborted", "aborted",
                  "singular matrix", "iteration limit reached", "no convergence",
                  "gmin stepping failed", "source stepping failed")
_SYNTAX_PATTERNS = ("error on line", "unknown subckt", "could not find",
                    "error:", "unable to find definition", "too few parameters",
                    "syntax error", "unknown parameter")

#: Retry ladder on non-convergence: (max-step divisor, extra .options line).
RETRY_OPTIONS: tuple[tuple[float, str], ...] = (
    (10.0, ".options method=gear reltol=1e-3 abstol=1e-12 vntol=1e-6 itl4=200 itl1=500"),
    (100.0, ".options method=gear reltol=1e-2 abstol=1e-10 vntol=1e-5 itl4=500 itl1=1000 gmin=1e-12"),
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpiceResult:
    """Vectors of one run plus what ngspice printed."""
    vectors: dict[str, np.ndarray]
    log: str
    attempts: int
    wall_s: float

    def __getitem__(self, name: str) -> np.ndarray:
        return self.vectors[name]


def netlist_hash(netlist: str) -> str:
    """SHA-256 (hex, 16 chars) of a netlist with whitespace normalised; cache key."""
    norm = "\n".join(" ".join(l.split()) for l in netlist.strip().splitlines() if l.strip())
    return hashlib.sha256(norm.encode()).hexdigest()[:16]


class _Engine:
    """One ngspice shared-library instance (one per process)."""

    def __init__(self) -> None:
        logging.getLogger("PySpice").setLevel(logging.CRITICAL)
        os.environ.setdefault("NGSPICE_LIBRARY_PATH", "libngspice.so.0")
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

        class _Shared(NgSpiceShared):
            # PySpice 1.5's callback returns None where cffi needs an int
            @staticmethod
            def _background_thread_running(is_running, ngspice_id, user_data):
                ffi.from_handle(user_data)._is_running = is_running
                return 0

        # PySpice looks for 'libngspice{}.so'; Debian's runtime package has .so.0
        if NgSpiceShared.LIBRARY_PATH and "{}" in NgSpiceShared.LIBRARY_PATH:
            NgSpiceShared.LIBRARY_PATH = "libngspice.so.0"
        self.ng = _Shared(ngspice_id=0, send_data=False)
        self.lib = self.ng._ngspice_shared
        self.command("set num_threads=1")
        self.command("set nomoremode")
        self.version = self._version()

    def command(self, cmd: str) -> str:
        """Send one ngspice command; return what it printed (never raises on Note:)."""
        self.ng.clear_output()
        rc = self.lib.ngSpice_Command(cmd.encode("ascii"))
        out = "\n".join(self.ng._stdout + self.ng._stderr)
        if rc:
            raise SpiceError(f"ngspice command {cmd!r} returned {rc}: {out[-2000:]}")
        return out

    def _version(self) -> str:
        out = self.command("version -s")
        m = re.search(r"ngspice[- ](?:version\s*)?(\d+(?:\.\d+)?)", out, re.I)
        return m.group(1) if m else "unknown"

    def load(self, netlist: str) -> str:
        from PySpice.Spice.NgSpice.Shared import ffi, FFI
        lines = [l for l in netlist.splitlines() if l.strip()] + [""]
        keep = [ffi.new("char[]", l.encode("utf8")) for l in lines] + [FFI.NULL]
        self.ng.clear_output()
        rc = self.lib.ngSpice_Circ(ffi.new("char *[]", keep))
        out = "\n".join(self.ng._stdout + self.ng._stderr)
        if rc:
            raise SpiceError(f"ngspice could not load the circuit (rc={rc}): {out[-2000:]}")
        return out

    def run(self, timeout_s: float) -> str:
        self.ng.clear_output()
        rc = self.lib.ngSpice_Command(b"bg_run")
        if rc:
            raise SpiceError(f"ngspice bg_run returned {rc}")
        t0 = time.monotonic()
        time.sleep(0.001)
        # bg_run returns before the background thread starts: wait until it
        # runs or has produced a plot (a short run may already be over), else
        # an early ngSpice_running() == False reads no results at all.
        # The start wait is not cut short by a tiny timeout_s: leaving while the
        # thread has not started yet read no results (a wrong error) and let the
        # thread run on into the next circuit (segfault under load).
        while not self.lib.ngSpice_running() and self._cur_plot() in ("const", "") \
                and time.monotonic() - t0 < 5.0:
            time.sleep(0.001)
        while self.lib.ngSpice_running():
            if time.monotonic() - t0 > timeout_s:
                self.lib.ngSpice_Command(b"bg_halt")
                for _ in range(3000):  # up to ~30 s on a loaded machine
                    if not self.lib.ngSpice_running():
                        break
                    time.sleep(0.01)
                if self.lib.ngSpice_running():
                    # removing the circuit under a running thread crashes ngspice
                    raise SpiceTimeout(f"simulation exceeded its time limit of {timeout_s:g} s "
                                       f"(and did not stop when halted)")
                self.cleanup()
                raise SpiceTimeout(f"simulation exceeded its time limit of {timeout_s:g} s")
            time.sleep(0.002)
        return "\n".join(self.ng._stdout + self.ng._stderr)

    def _cur_plot(self) -> str:
        from PySpice.Spice.NgSpice.Shared import ffi
        ptr = self.lib.ngSpice_CurPlot()
        return ffi.string(ptr).decode("ascii", "replace") if ptr != ffi.NULL else ""

    def vectors(self, names: Sequence[str] | None) -> dict[str, np.ndarray]:
        plot_name = self.ng.last_plot
        plot = self.ng.plot(None, plot_name)
        available = {k.lower(): k for k in plot}
        out = {}
        wanted = list(plot) if names is None else names
        for name in wanted:
            key = available.get(name.lower())
            if key is None:
                raise SpiceError(f"vector {name!r} not in the results; available: "
                                 f"{', '.join(sorted(available))}")
            data = np.asarray(plot[key]._data if hasattr(plot[key], "_data") else plot[key])
            out[name] = np.real(data).astype(np.float64, copy=True)
        return out

    def cleanup(self) -> None:
        for cmd in (b"remove_circuit", b"destroy all"):
            try:
                self.lib.ngSpice_Command(cmd)
            except Exception:  # pragma: no cover - best effort
                pass


_ENGINE: _Engine | None = None  # one per process, created on first use
_ENGINE_ERROR: SpiceUnavailable | None = None  # why it could not be created (kept: see _engine)


def _engine() -> _Engine:
    """This process's engine.  If ngspice cannot be loaded, a one-line
    :class:`SpiceUnavailable` saying how to install it; the failure is kept and
    raised again on later calls, because a second load attempt in the same
    process fails inside PySpice/cffi with a misleading ``CDefError: duplicate
    declaration`` (one failed sweep point must not spoil the next)."""
    global _ENGINE, _ENGINE_ERROR
    if _ENGINE is None:
        if _ENGINE_ERROR is not None:
            raise SpiceUnavailable(str(_ENGINE_ERROR))
        try:
            _ENGINE = _Engine()
        except ImportError as e:
            _ENGINE_ERROR = SpiceUnavailable(f"PySpice is not installed ({e}); "
                                             "`pip install PySpice==1.5`, and ngspice: " + INSTALL_HINT)
            raise SpiceUnavailable(str(_ENGINE_ERROR)) from None
        except (OSError, AttributeError) as e:  # cffi dlopen: library not found / not ngspice
            lib = os.environ.get("NGSPICE_LIBRARY_PATH", "libngspice.so.0")
            why = (str(e).splitlines() or [type(e).__name__])[0].split("  Additionally")[0][:200]
            _ENGINE_ERROR = SpiceUnavailable(f"the ngspice shared library {lib!r} cannot be loaded "
                                             f"({why}); " + INSTALL_HINT)
            raise SpiceUnavailable(str(_ENGINE_ERROR)) from None
    return _ENGINE


def ngspice_version() -> str:
    """Version of the ngspice shared library in use (e.g. '39')."""
    return _engine().version


def _title(netlist: str) -> str:
    first = netlist.strip().splitlines()[0] if netlist.strip() else "(empty)"
    return first.strip()


def _tran_stop(netlist: str) -> float | None:
    m = re.search(r"^\s*\.tran\s+(\S+)\s+(\S+)", netlist, re.I | re.M)
    return _spice_number(m.group(2)) if m else None


_SUFFIX = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "m": 1e-3, "u": 1e-6,
           "n": 1e-9, "p": 1e-12, "f": 1e-15}


def _spice_number(tok: str) -> float:
    m = re.match(r"^([+-]?[\d.]+(?:e[+-]?\d+)?)(meg|[tgkmunpf])?", tok.strip().lower())
    if not m:
        raise ValueError(tok)
    return float(m.group(1)) * _SUFFIX.get(m.group(2) or "", 1.0)


def _with_retry_options(netlist: str, divisor: float, options: str) -> str:
    """Tighten the .tran max step by ``divisor`` and add relaxed .options."""
    lines = netlist.rstrip().splitlines()
    out = []
    for line in lines:
        m = re.match(r"^\s*\.tran\s+(.*)$", line, re.I)
        if m:
            toks = m.group(1).split()
            uic = [t for t in toks if t.lower() == "uic"]
            nums = [t for t in toks if t.lower() != "uic"]
            tstep, tstop = _spice_number(nums[0]), _spice_number(nums[1])
            tstart = _spice_number(nums[2]) if len(nums) > 2 else 0.0
            tmax = _spice_number(nums[3]) if len(nums) > 3 else min(tstep, (tstop - tstart) / 50)
            line = f".tran {tstep:.6g} {tstop:.6g} {tstart:.6g} {tmax / divisor:.6g} {' '.join(uic)}".rstrip()
        if line.strip().lower() == ".end":
            out.append(options)
        out.append(line)
    if not any(l.strip().lower() == ".end" for l in lines):
        out.append(options)
    return "\n".join(out) + "\n"


def _failed(log: str, vectors: Mapping[str, np.ndarray] | None, tstop: float | None) -> bool:
    low = log.lower()
    if any(p in low for p in _FAIL_PATTERNS):
        return True
    if tstop is not None and vectors is not None and "time" in vectors:
        t = vectors["time"]
        if t.size == 0 or t[-1] < tstop * (1 - 1e-6):
            return True
    return False


def _blamed_lines(netlist: str, log: str) -> list[str]:
    names = set(re.findall(r"trouble with (?:node|instance)\s+\"?([\w.:#]+)\"?", log, re.I))
    names |= set(re.findall(r"singular matrix:\s+check node\s+([\w.:#]+)", log, re.I))
    if not names:
        return []
    out = []
    for i, line in enumerate(netlist.splitlines(), 1):
        toks = [t.lower() for t in re.split(r"[\s(),=]+", line)]
        for name in names:
            leaf = name.lower().split(".")[-1].split(":")[-1]
            if leaf in toks:
                out.append(f"{i:4d}: {line}")
                break
    return out[:20]


def run_netlist(netlist: str, vectors: Sequence[str] | None = None, *,
                timeout_s: float = 120.0, retries: bool = True) -> SpiceResult:
    """Run one netlist in this process's ngspice; return the named vectors.

    Parameters
    ----------
    netlist : SPICE text; its first line is the title (used in errors).
    vectors : names to return (case-insensitive; ``time``, node names,
        ``vname#branch``); ``None`` returns all vectors of the last plot.
    timeout_s : wall-clock limit per attempt, seconds.
    retries : on non-convergence retry with :data:`RETRY_OPTIONS`.
    """
    if not isinstance(netlist, str) or not netlist.strip():
        raise SpiceError("netlist must be non-empty SPICE text")
    if timeout_s <= 0:
        raise SpiceError(f"timeout_s = {timeout_s!r} must be > 0 s")
    eng = _engine()
    title = _title(netlist)
    tstop = _tran_stop(netlist)
    attempts = [netlist] + ([_with_retry_options(netlist, d, o) for d, o in RETRY_OPTIONS]
                            if retries and tstop is not None else [])
    t0 = time.monotonic()
    log = ""
    for n, text in enumerate(attempts, 1):
        try:
            load_log = eng.load(text)
            low = load_log.lower()
            if any(p in low for p in _SYNTAX_PATTERNS) and "warning" not in low.split("error")[0][-20:]:
                # ngspice reports netlist errors on stdout; a real error stops here
                if "error" in low:
                    eng.cleanup()
                    raise SpiceError(f"circuit '{title}': ngspice rejected the netlist:\n"
                                     f"{load_log.strip()[-3000:]}")
            log = load_log + "\n" + eng.run(timeout_s)
            try:
                vecs = eng.vectors(vectors)
            except SpiceError:
                if _failed(log, None, None):
                    vecs = None
                else:
                    raise
            if vecs is not None and not _failed(log, vecs, tstop):
                return SpiceResult(vecs, log, n, time.monotonic() - t0)
            _log.info("circuit '%s' did not converge (attempt %d)", title, n)
        finally:
            eng.cleanup()
    blamed = _blamed_lines(netlist, log)
    where = ("\nnetlist lines ngspice blamed:\n" + "\n".join(blamed)) if blamed else \
        "\nnetlist:\n" + "\n".join(f"{i:4d}: {l}" for i, l in enumerate(netlist.splitlines()[:40], 1))
    tail = "\n".join(l for l in log.splitlines() if l.strip())[-1500:]
    raise SpiceConvergenceError(
        f"circuit '{title}' did not converge after {len(attempts)} attempt(s) "
        f"(default options, then tighter max step with relaxed tolerances).\n"
        f"ngspice said:\n{tail}{where}")


def _worker_run(args):
    netlist, vectors, timeout_s, retries = args
    return run_netlist(netlist, vectors, timeout_s=timeout_s, retries=retries)


def run_many(netlists: Iterable[str], vectors: Sequence[str] | None = None, *,
             workers: int | None = None, timeout_s: float = 120.0, retries: bool = True,
             return_exceptions: bool = False, progress: bool = False) -> list:
    """Run many netlists across worker processes (one ngspice each).

    Results come back in input order.  With ``return_exceptions`` a failed
    netlist yields its exception instead of stopping the batch.  ``workers``
    defaults to the number of CPU cores; ``workers=1`` runs in this process.
    """
    items = [(n, vectors, timeout_s, retries) for n in netlists]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(items) <= 1:
        out = []
        it = items
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(items, desc="ngspice", unit="run")
        for a in it:
            try:
                out.append(_worker_run(a))
            except Exception as e:
                if not return_exceptions:
                    raise
                out.append(e)
        return out
    import multiprocessing as mp
    ctx = mp.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=ctx) as pool:
        futures = [pool.submit(_worker_run, a) for a in items]
        if progress:
            from tqdm.auto import tqdm
            from concurrent.futures import as_completed
            for _ in tqdm(as_completed(futures), total=len(futures), desc="ngspice", unit="run"):
                pass
        out = []
        for f in futures:
            try:
                out.append(f.result())
            except Exception as e:
                if not return_exceptions:
                    raise
                out.append(e)
        return out
