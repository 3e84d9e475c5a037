"""Sweep results on disk: one Parquet file per finished (point, repeat).

Layout of a results folder::

    RESULTS/
      sweep.json              manifest (name, point function, swept names, base, budget)
      spec.toml               copy of the spec last run into this folder
      rows/<point_id>.parquet one row each, written atomically (temp + rename)
      .lock                   held (flock) by the sweep writing here

The file name is the point's deterministic id (hash of its resolved config
and seed, :func:`eqspike.sweeps.spec.point_id`), so a row is either there
complete or absent, never duplicated: a killed sweep loses at most the
points in flight, and rerunning skips every id already present.  Failed
points are rows too (``status = "failed"`` and the error text); a rerun
with ``retry_failed`` overwrites them.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from eqspike import atomic
from eqspike.errors import DataError, ParameterError

ROWS = "rows"
MANIFEST = "sweep.json"
SPEC_COPY = "spec.toml"
LOCK = ".lock"

#: Leading columns, in this order; parameters, metrics and the rest follow.
LEAD_COLUMNS = ("point_id", "config_id", "point_index", "repeat", "seed", "sweep", "point")
TAIL_COLUMNS = ("wall_s", "cpu_s", "status", "error", "device_profile_hash", "neuron_profile_hash",
                "crossbar_profile_hash",
                "eqspike_version", "worker", "started", "finished", "traceback")


class ResultStore:
    """A sweep results folder (see module docstring)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.rows_dir = self.root / ROWS

    # ------------------------------------------------------------ writing
    @contextlib.contextmanager
    def lock(self):
        """Hold ``RESULTS/.lock`` (:func:`eqspike.locks.hold`) while a sweep writes here.

        A second sweep into the same folder is refused with a clear error; the
        lock goes away with its process, even when that is killed.
        """
        from eqspike import locks
        with locks.hold(self.root, "sweep"):
            yield self

    def prepare(self, manifest: Mapping[str, Any] | None = None, spec_text: str | None = None) -> None:
        """Create the folder, remove temp files a killed writer left, save manifest/spec."""
        self.rows_dir.mkdir(parents=True, exist_ok=True)
        for p in self.rows_dir.glob(".*.tmp"):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        if manifest is not None:
            atomic.write_json(self.root / MANIFEST, dict(manifest))
        if spec_text is not None:
            atomic.write_text(self.root / SPEC_COPY, spec_text)

    def row_path(self, point_id: str) -> Path:
        return self.rows_dir / f"{point_id}.parquet"

    def write_row(self, row: Mapping[str, Any]) -> Path:
        """Write one result row atomically as ``rows/<point_id>.parquet``."""
        import pandas as pd
        pid = row["point_id"]
        if not isinstance(pid, str) or not pid or "/" in pid or pid.startswith("."):
            raise ValueError(f"bad point_id {pid!r}")
        df = pd.DataFrame([order_row(row)])
        return atomic.write_parquet(self.row_path(pid), df)

    # ------------------------------------------------------------ reading
    def ids(self) -> set[str]:
        """Ids of every row present (finished or failed)."""
        if not self.rows_dir.is_dir():
            return set()
        return {p.stem for p in self.rows_dir.glob("*.parquet") if not p.name.startswith(".")}

    def statuses(self) -> dict[str, str]:
        """``{point_id: status}`` for every row present (reads one column per file)."""
        import pyarrow.parquet as pq
        out = {}
        for p in self._files():
            try:
                t = pq.read_table(p, columns=["status"])
                out[p.stem] = str(t.column("status")[0].as_py())
            except Exception:       # unreadable file: treat as absent, it will be redone
                continue
        return out

    def done_ids(self, retry_failed: bool = False) -> set[str]:
        """Ids a rerun should skip: all rows, or only the ``ok`` ones with ``retry_failed``."""
        st = self.statuses()
        if retry_failed:
            return {k for k, v in st.items() if v == "ok"}
        return set(st)

    def _files(self) -> list[Path]:
        if not self.rows_dir.is_dir():
            return []
        return sorted(p for p in self.rows_dir.glob("*.parquet") if not p.name.startswith("."))

    def manifest(self) -> dict[str, Any]:
        p = self.root / MANIFEST
        if not p.exists():
            return {}
        try:
            m = json.loads(p.read_text())
        except (OSError, ValueError) as e:
            raise DataError(f"sweep results: {str(p)!r} is unreadable ({e})") from None
        if not isinstance(m, dict):
            raise DataError(f"sweep results: {str(p)!r} is not a JSON object")
        return m

    def read(self):
        """All rows as one DataFrame (sorted by point index, repeat)."""
        import pandas as pd
        files = self._files()
        if not files:
            raise DataError(f"no sweep results under {str(self.rows_dir)!r} "
                            f"(expected rows/<point_id>.parquet files)")
        frames = []
        for p in files:
            try:
                frames.append(pd.read_parquet(p))
            except Exception as e:
                raise DataError(f"sweep results: cannot read {str(p)!r} ({e})") from None
        cols: list[str] = []
        for f in frames:
            cols += [c for c in f.columns if c not in cols]
        # all-missing columns (e.g. metrics of a failed row) would make concat guess dtypes
        frames = [f.dropna(axis=1, how="all") for f in frames]
        df = pd.concat(frames, ignore_index=True, sort=False).reindex(columns=order_columns(cols))
        sort = [c for c in ("point_index", "repeat", "point_id") if c in df.columns]
        return df.sort_values(sort, kind="stable").reset_index(drop=True)


def order_columns(cols: Iterable[str]) -> list[str]:
    """Lead columns, then the rest in given order, then the tail columns."""
    cols = list(cols)
    lead = [c for c in LEAD_COLUMNS if c in cols]
    tail = [c for c in TAIL_COLUMNS if c in cols]
    mid = [c for c in cols if c not in lead and c not in tail]
    return lead + mid + tail


def order_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in order_columns(row.keys())}


def read_results(path: str | os.PathLike):
    """Rows of a results folder (or of its ``rows/`` folder) as a DataFrame."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"sweep results folder {str(path)!r} does not exist")
    if path.name == ROWS and not (path / ROWS).exists():
        path = path.parent
    return ResultStore(path).read()
