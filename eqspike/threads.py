"""Explicit thread configuration of the compiled (numba) kernels, set where a run starts.

The event kernels (``network/event.py``) and the synapse kernels run their
threads through numba's threading layer.  Three settings decide how fast
they are and whether two runs of the same code compare:

- ``threads``: numba threads (0 = all CPUs this process may run on);
- ``layer``: numba's threading layer, ``omp`` (GNU OpenMP, the usual one on
  Linux), ``tbb`` (Intel TBB, needs the ``tbb`` package and its library on
  the loader path), ``workqueue`` (numba's own, always present) or
  ``default`` (numba picks: tbb, then omp, then workqueue);
- ``wait_policy``: ``OMP_WAIT_POLICY`` for the ``omp`` layer.  ``PASSIVE``
  (default): a thread that waits at the end of a parallel region sleeps
  instead of spinning; on cores shared with other jobs spinning burns the
  CPU the working thread needs (measured: 2,000 training images in 4.4-5.4 s
  wall spinning vs 2.6-2.8 s passive at load 3.5).  ``ACTIVE`` spins (a few
  microseconds faster per wake-up on an idle machine); ``keep`` leaves the
  environment as it is.

Nothing here happens at import.  :func:`configure` is called once where a run
starts (``eqspike`` CLI, benchmarks); it must run before the first parallel
kernel, because the layer and ``OMP_WAIT_POLICY`` are read when numba starts
its threads.  Afterwards it can still change the thread count, and it reports
what is actually in force (:func:`info`), in one line on stdout.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

from eqspike.errors import ParameterError
from eqspike.params import param, validate

LAYERS = ("default", "omp", "tbb", "workqueue")
WAIT_POLICIES = ("PASSIVE", "ACTIVE", "keep")


@dataclass(frozen=True)
class ThreadConfig:
    """Threads of the compiled kernels."""
    threads: int = param(0, unit="threads", low=0, high=4096, integer=True,
                         doc="numba threads; 0 = all CPUs this process may use")
    layer: str = param("omp", choices=LAYERS,
                       doc="numba threading layer (default = numba's choice)")
    wait_policy: str = param("PASSIVE", choices=WAIT_POLICIES,
                             doc="OMP_WAIT_POLICY of the omp layer; keep = leave the environment")

    def __post_init__(self):
        validate(self)

    @classmethod
    def from_env(cls, threads: int | None = None, layer: str | None = None,
                 wait_policy: str | None = None) -> "ThreadConfig":
        """Given values, else ``$EQSPIKE_THREADS``, ``$EQSPIKE_THREADING_LAYER`` and a
        user-set ``$OMP_WAIT_POLICY``, else the defaults."""
        if threads is None:
            raw = os.environ.get("EQSPIKE_THREADS", "0")
            try:
                threads = int(raw)
            except ValueError:
                raise ParameterError(f"parameter 'EQSPIKE_THREADS' = {raw!r} is not an integer; "
                                     "allowed: [0, 4096] threads (0 = all CPUs)") from None
        if layer is None:
            layer = os.environ.get("EQSPIKE_THREADING_LAYER", "omp")
        if wait_policy is None:
            raw = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
            wait_policy = raw.strip().upper()
            if wait_policy not in ("PASSIVE", "ACTIVE"):
                raise ParameterError(f"parameter 'OMP_WAIT_POLICY' (environment) = {raw!r} is not an "
                                     "OpenMP wait policy; allowed: PASSIVE or ACTIVE (any case)")
        return cls(threads=threads, layer=layer, wait_policy=wait_policy)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _libgomp_loaded() -> bool:
    """Whether GNU OpenMP is already mapped into this process (it reads its
    environment once, when loaded)."""
    try:
        with open("/proc/self/maps") as f:
            return "libgomp" in f.read()
    except OSError:
        return False


def _started() -> bool:
    from numba.np.ufunc import parallel
    return bool(parallel._is_initialized)


def configure(cfg: ThreadConfig | None = None, *, announce: bool = True,
              stream=None) -> dict:
    """Apply ``cfg`` (default :meth:`ThreadConfig.from_env`) and return :func:`info`.

    Sets ``OMP_WAIT_POLICY`` and numba's threading layer if numba's threads are
    not started yet (then starts them, so the layer in force is known), and the
    thread count (at most numba's pool size, ``$NUMBA_NUM_THREADS``, which is the
    CPU count unless set).  A layer that cannot be loaded is a
    :class:`ParameterError`.  ``announce`` prints the result in one line."""
    cfg = cfg or ThreadConfig.from_env()
    import numba
    notes = []
    if not _started():
        if cfg.wait_policy != "keep":
            if _libgomp_loaded() and os.environ.get("OMP_WAIT_POLICY") != cfg.wait_policy:
                notes.append("OpenMP was loaded before: its wait policy is the one it read then")
            os.environ["OMP_WAIT_POLICY"] = cfg.wait_policy
        numba.config.THREADING_LAYER = cfg.layer
        from numba.np.ufunc import parallel
        try:
            parallel._launch_threads()
        except ValueError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else "not loadable"
            raise ParameterError(f"parameter 'layer' = {cfg.layer!r}: numba threading layer "
                                 f"not available ({first}); allowed: one of "
                                 f"{', '.join(LAYERS)} that is installed") from None
    else:
        notes.append("threads already started: layer and wait policy unchanged")
    pool = int(numba.config.NUMBA_NUM_THREADS)
    want = cfg.threads or min(usable_cpus(), pool)
    if want > pool:
        raise ParameterError(f"parameter 'threads' = {cfg.threads} is outside the allowed "
                             f"range [0, {pool}] threads (numba's pool, $NUMBA_NUM_THREADS)")
    numba.set_num_threads(want)
    out = info()
    if notes:
        out["note"] = "; ".join(notes)
    if announce:
        print("eqspike: " + describe(out), file=stream or sys.stdout, flush=True)
    return out


def info() -> dict:
    """The thread settings in force: threads, layer, OMP_WAIT_POLICY, CPUs."""
    import numba
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "not started"
    return {"threads": int(numba.get_num_threads()), "layer": layer,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
            "usable_cpus": usable_cpus(), "cpu_count": os.cpu_count(),
            "numba_pool": int(numba.config.NUMBA_NUM_THREADS)}


def describe(d: dict | None = None) -> str:
    """One line: ``threads: 2 numba threads (layer omp, OMP_WAIT_POLICY=PASSIVE), 2 CPUs usable``."""
    d = d or info()
    txt = (f"threads: {d['threads']} numba threads (layer {d['layer']}, "
           f"OMP_WAIT_POLICY={d['omp_wait_policy']}), {d['usable_cpus']} CPUs usable")
    return txt + (f"; {d['note']}" if d.get("note") else "")


#: Environment of a worker process that runs one job on one thread (sweep workers, ngspice
#: image runs): one thread per numeric library.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "BLIS_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1",
                     "NUMEXPR_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


@contextlib.contextmanager
def scoped_env(env: dict[str, str], *, override: bool = False):
    """Set ``env`` in ``os.environ`` for the ``with`` block only, so that the worker
    processes started inside it inherit it; every variable is restored (or removed) on
    exit.  ``override=False``: a variable the user already set is left as it is."""
    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if override or k not in os.environ:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def single_thread_worker() -> None:
    """Process-pool initializer: the worker's own environment gets
    :data:`SINGLE_THREAD_ENV` where unset (read by the libraries the worker loads
    afterwards); the worker process is the pool's, so nothing outside it changes."""
    for k, v in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(k, v)
