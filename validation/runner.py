"""K images through ngspice in parallel processes, resumable per image.

Each (circuit configuration, image) is one task: build the netlist, run it
in the worker's own ngspice (``eqspike.spice`` keeps one engine per
process), reduce the waveforms, and write ``<out>/images/<config>/img_<i>.json``
atomically.  A rerun skips every image whose file exists (``resume``), so an
interrupted validation loses at most the images in flight.  A failed image
(non-convergence, time limit) is written with its one-line error and is
retried only with ``retry_failed``.  Workers are a ``forkserver`` process
pool (the ngspice findings: fork/spawn/forkserver pools gave bit-identical
results); ``workers=1`` runs in this process.
"""
from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from eqspike import atomic

from .netlist import CircuitOptions

__all__ = ["Task", "run_tasks", "image_path", "load_results"]


def image_path(out: Path, config: str, index: int) -> Path:
    return Path(out) / "images" / config / f"img_{index:05d}.json"


class Task:
    """One image under one circuit configuration (picklable)."""

    def __init__(self, net, config: str, opts: CircuitOptions, index: int, x_spikes: np.ndarray,
                 out: Path, timeout_s: float):
        self.net, self.config, self.opts, self.index = net, config, opts, int(index)
        self.x_spikes = np.asarray(x_spikes, np.uint8)
        self.out, self.timeout_s = Path(out), float(timeout_s)

    @property
    def path(self) -> Path:
        return image_path(self.out, self.config, self.index)


def _run_task(task: Task) -> tuple[str, int, str | None]:
    from .simulate import simulate_image
    try:
        r = simulate_image(task.net, task.x_spikes, task.opts, timeout_s=task.timeout_s,
                           title=f"eqspike validate {task.config} image {task.index}")
        r.update({"index": task.index, "config": task.config, "options": asdict(task.opts)})
        err = None
    except Exception as e:  # noqa: BLE001 - one image's failure must not lose the others
        err = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
        r = {"index": task.index, "config": task.config, "error": err, "options": asdict(task.opts)}
    atomic.write_json(task.path, r)
    return task.config, task.index, err


def _pending(tasks: list[Task], retry_failed: bool) -> list[Task]:
    out = []
    for t in tasks:
        if t.path.exists():
            try:
                done = json.loads(t.path.read_text())
            except ValueError:
                done = {"error": "unreadable"}
            if "error" not in done or not retry_failed:
                continue
        out.append(t)
    return out


def run_tasks(tasks: list[Task], *, workers: int = 2, retry_failed: bool = False, progress: bool = True,
              say: Callable[[str], None] = print) -> dict:
    """Run the tasks not done yet; returns ``{"run": n, "skipped": n, "failed": [(config, i, err)]}``."""
    todo = _pending(tasks, retry_failed)
    skipped = len(tasks) - len(todo)
    if skipped:
        say(f"resuming: {skipped} of {len(tasks)} image runs already done")
    failed = []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(todo), desc="ngspice images", unit="image")
    workers = max(1, min(int(workers), len(todo))) if todo else 1
    try:
        if workers == 1:
            for t in todo:
                c, i, err = _run_task(t)
                if err:
                    failed.append((c, i, err))
                if bar:
                    bar.update(1)
        else:
            import multiprocessing as mp
            from eqspike.threads import single_thread_worker
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver"),
                                     initializer=single_thread_worker) as pool:
                futs = [pool.submit(_run_task, t) for t in todo]
                for f in as_completed(futs):
                    c, i, err = f.result()
                    if err:
                        failed.append((c, i, err))
                    if bar:
                        bar.update(1)
    finally:
        if bar:
            bar.close()
    for c, i, err in failed:
        say(f"WARNING: {c} image {i} failed: {err}")
    return {"run": len(todo), "skipped": skipped, "failed": failed}


def load_results(out: Path, config: str, indices) -> dict[int, dict]:
    """The per-image results of one configuration that exist (failed ones included)."""
    res = {}
    for i in indices:
        p = image_path(out, config, i)
        if p.exists():
            res[int(i)] = json.loads(p.read_text())
    return res
