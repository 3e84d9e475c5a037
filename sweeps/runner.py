"""Run a sweep on Dask distributed and store one row per (point, repeat).

By default a :class:`distributed.LocalCluster` with ``n_workers`` worker
*processes* of one thread each (so each worker owns one ngspice engine,
:mod:`eqspike.spice`, and one Python interpreter); given a scheduler
address, the same sweep runs on a real cluster (the workers must have
eqspike installed).  Numpy/BLAS/OpenMP/numba threads are limited to one per
worker (environment set before the worker processes start), so N workers
use N cores without oversubscription.

Points run as independent futures; the client collects them with
``as_completed`` (tqdm progress bar over points) and writes each row
atomically as it arrives (:class:`~eqspike.sweeps.store.ResultStore`): the
workers need no shared file system.  A point that raises becomes a
``status = "failed"`` row with its error; a worker that dies (e.g. a crash
inside ngspice) marks its point failed too.  Rerunning skips every id
already stored (``retry_failed=True`` reruns the failed ones).
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from eqspike.errors import ParameterError
from eqspike.threads import SINGLE_THREAD_ENV, scoped_env
from eqspike.sweeps.spec import SweepSpec, Task
from eqspike.sweeps.store import ResultStore

#: Environment of each local worker process: one thread per numeric library.
THREAD_ENV = SINGLE_THREAD_ENV

_log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _version() -> str:
    from eqspike import __version__
    return __version__


def base_row(task: Task) -> dict[str, Any]:
    """The identifying and configuration columns of a task's row."""
    row: dict[str, Any] = {"point_id": task.point_id, "config_id": task.config_id,
                           "point_index": task.point_index,
                           "repeat": task.repeat, "seed": task.seed, "sweep": task.sweep,
                           "point": task.point}
    for k, v in task.params:
        row[k] = ",".join(str(x) for x in v) if isinstance(v, (tuple, list)) else v
    row.update(task.budget.as_dict())
    return row


def failed_row(task: Task, error: str, tb: str = "", started: str | None = None,
               wall_s: float = float("nan"), worker: str = "") -> dict[str, Any]:
    """A ``status = "failed"`` row for ``task``."""
    row = base_row(task)
    row.update({"test_acc": float("nan"), "train_acc": float("nan"), "wall_s": wall_s,
                "status": "failed", "error": error, "device_profile_hash": None,
                "neuron_profile_hash": None, "eqspike_version": _version(), "worker": worker,
                "started": started or _now(), "finished": _now(), "traceback": tb})
    return row


def execute_task(task: Task, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run one (point, repeat) and return its row; never raises for point errors.

    Runs inside a worker process (or inline with ``workers=0``).
    """
    from eqspike.sweeps.points import check_metrics, get_point
    started = _now()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        pf = get_point(task.point)
        metrics = check_metrics(task.point, pf.run(task.params_dict, seed=task.seed,
                                                   budget=task.budget, context=context))
    except Exception as e:                     # recorded; the sweep goes on
        msg = f"{type(e).__name__}: {e}".strip()
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
        row = failed_row(task, msg, tb, started, time.perf_counter() - t0, worker)
        row["cpu_s"] = time.process_time() - c0
        return row
    row = base_row(task)
    for k, v in metrics.items():
        if k in row:
            # a metric may not overwrite the configuration columns
            k = f"result_{k}"
        row[k] = v
    row.setdefault("device_profile_hash", None)
    row.setdefault("neuron_profile_hash", None)
    row.update({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                "status": "ok", "error": None,
                "eqspike_version": _version(), "worker": worker, "started": started,
                "finished": _now(), "traceback": None})
    return row


@dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did."""
    out: Path
    n_tasks: int
    n_skipped: int
    n_ok: int
    n_failed: int
    wall_s: float
    workers: int

    def text(self) -> str:
        return (f"sweep: {self.n_tasks} (point, repeat) rows in spec; {self.n_skipped} already done, "
                f"{self.n_ok} ok, {self.n_failed} failed this run, in {self.wall_s:.1f} s on "
                f"{self.workers} worker(s) -> {self.out}")


def pending_tasks(spec: SweepSpec, store: ResultStore, retry_failed: bool = False) -> tuple[list[Task], int]:
    """Tasks not yet in ``store`` (duplicates in the spec run once) and how many were skipped."""
    done = store.done_ids(retry_failed=retry_failed)
    seen: set[str] = set()
    todo, skipped = [], 0
    for t in spec.tasks():
        if t.point_id in seen:
            continue
        seen.add(t.point_id)
        if t.point_id in done:
            skipped += 1
        else:
            todo.append(t)
    return todo, skipped


@contextlib.contextmanager
def local_cluster(n_workers: int):
    """A LocalCluster of ``n_workers`` one-thread processes with thread-limited numerics.

    Workers are started non-daemonic (``distributed.worker.daemon: False``)
    so that a point may use a process pool once, e.g. a circuit
    characterisation on a cold cache (daemonic processes cannot have
    children); they still exit with this process.
    """
    import dask
    from distributed import LocalCluster
    # the workers (and their nannies) inherit THREAD_ENV; this process's environment is
    # restored when the cluster closes
    with scoped_env(THREAD_ENV), dask.config.set({"distributed.worker.daemon": False}):
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR,
                          env=dict(THREAD_ENV)) as cluster:
            yield cluster


def run_sweep(spec: SweepSpec, out: str | os.PathLike, *, workers: int | None = None,
              scheduler: str | None = None, client=None, retry_failed: bool = False,
              progress: bool = True, context: Mapping[str, Any] | None = None,
              spec_text: str | None = None, limit: int | None = None,
              connect_timeout_s: float = 30.0, overwrite: bool = False) -> SweepReport:
    """Run every (point, repeat) of ``spec`` not yet stored under ``out``.

    ``client``: an existing :class:`distributed.Client` (used as is);
    ``scheduler``: address of a running scheduler (``tcp://host:8786``),
    connected to (within ``connect_timeout_s`` seconds) before anything is
    written under ``out``;
    otherwise a LocalCluster of ``workers`` processes (default: CPU count;
    ``workers=0`` runs inline in this process, no Dask).  ``context`` is
    passed to the point function and does not enter the point ids (e.g.
    ``{"data_dir": ...}``).  ``limit``: run at most this many of the pending
    (point, repeat) tasks, in spec order (quick tries, benchmarks).
    ``overwrite``: remove what ``out`` holds first (under the folder's lock).
    """
    t0 = time.perf_counter()
    if scheduler is not None and client is None:
        with connect(scheduler, connect_timeout_s) as cl:
            return run_sweep(spec, out, workers=workers, client=cl, retry_failed=retry_failed,
                             progress=progress, context=context, spec_text=spec_text,
                             limit=limit, overwrite=overwrite)
    store = ResultStore(out)
    with store.lock():
        if overwrite:
            from eqspike.outdir import clear
            clear(store.root)
        return _run_locked(spec, store, t0, workers=workers, scheduler=scheduler, client=client,
                           retry_failed=retry_failed, progress=progress, context=context,
                           spec_text=spec_text, limit=limit)


def _run_locked(spec: SweepSpec, store: ResultStore, t0: float, *, workers, scheduler, client,
                retry_failed, progress, context, spec_text, limit) -> SweepReport:
    if spec_text is None and spec.source and Path(spec.source).exists():
        spec_text = Path(spec.source).read_text()
    store.prepare(spec.manifest(), spec_text)
    todo, skipped = pending_tasks(spec, store, retry_failed)
    n_tasks = len(todo) + skipped
    if limit is not None:
        if limit < 1:
            raise ParameterError(f"--limit = {limit}: expected >= 1")
        todo = todo[:limit]
    if workers is not None and workers < 0:
        raise ParameterError(f"--workers = {workers}: expected >= 0 (0 runs inline)")
    context = dict(context or {})
    counts = {"ok": 0, "failed": 0}
    from tqdm.auto import tqdm
    bar = tqdm(total=len(todo), desc=f"sweep {spec.name}", unit="point", disable=not progress,
               dynamic_ncols=True)

    def record(row: Mapping[str, Any]) -> None:
        store.write_row(row)
        counts["ok" if row["status"] == "ok" else "failed"] += 1
        bar.update(1)
        bar.set_postfix(failed=counts["failed"], refresh=False)

    n_workers_used = 0
    try:
        if not todo:
            pass
        elif client is None and scheduler is None and workers == 0:
            n_workers_used = 0
            for t in todo:
                record(execute_task(t, context))
        elif client is not None:
            n_workers_used = len(client.scheduler_info().get("workers", {}))
            _run_on_client(client, todo, context, record)
        else:
            n = workers if workers else (os.cpu_count() or 1)
            n = max(1, min(n, len(todo)))
            n_workers_used = n
            from distributed import Client
            with local_cluster(n) as cluster, Client(cluster) as cl:
                _run_on_client(cl, todo, context, record)
    finally:
        bar.close()
    return SweepReport(out=store.root, n_tasks=n_tasks, n_skipped=skipped, n_ok=counts["ok"],
                       n_failed=counts["failed"], wall_s=time.perf_counter() - t0,
                       workers=n_workers_used)


def connect(scheduler: str, timeout_s: float = 30.0):
    """A :class:`distributed.Client` of the scheduler at ``scheduler``; a
    :class:`ParameterError` naming the address if none answers in ``timeout_s`` s."""
    if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s <= 3600):
        raise ParameterError(f"--connect-timeout = {timeout_s!r} is outside the allowed range "
                             "(0, 3600] s")
    from distributed import Client
    try:
        return Client(scheduler, timeout=f"{float(timeout_s)}s")
    except (OSError, TimeoutError, ValueError) as e:
        raise ParameterError(f"--scheduler {scheduler!r}: cannot connect ({e})") from None


def _run_on_client(client, todo: list[Task], context: Mapping[str, Any], record) -> None:
    from distributed import as_completed
    run_tag = uuid.uuid4().hex[:8]
    futures = {}
    for t in todo:
        f = client.submit(execute_task, t, context, key=f"sweep-point-{t.point_id}-{run_tag}",
                          pure=False)
        futures[f.key] = (f, t)
    try:
        for fut in as_completed([f for f, _ in futures.values()]):
            _, task = futures.pop(fut.key)
            try:
                row = fut.result()
            except Exception as e:          # worker died (KilledWorker), cancelled, ...
                row = failed_row(task, f"{type(e).__name__}: {e}".strip(),
                                 "".join(traceback.format_exception(type(e), e, e.__traceback__)[-4:]))
            record(row)
            fut.release()
    finally:
        for f, _ in futures.values():
            f.cancel()
