"""MNIST (and other IDX-format datasets): find, download, verify, load.

A dataset is a folder holding the four files in the original IDX layout,
under their standard names, gzip-compressed (``.gz``) or not::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

or with one common prefix (``emnist-digits-train-images-idx3-ubyte.gz``, ...).
Images may have any size (flattened to rows), labels any number of classes.

:func:`load_dataset` looks for it, in order, in

1. an explicit ``data_dir`` (``eqspike train --data-dir``): the folder with
   the files, or a root holding ``<name>/``;
2. ``$EQSPIKE_DATA_DIR`` (same two forms);
3. the user cache, ``eqspike.cache.cache_dir()/datasets/<name>``
   (``$EQSPIKE_CACHE_DIR`` or ``~/.cache/eqspike``);

and otherwise (``download=True``, MNIST only) downloads the gzip files from
public mirrors tried in turn (:data:`MNIST_MIRRORS`, or
``$EQSPIKE_MNIST_MIRRORS``, a comma-separated list of base URLs), verifies
the SHA-256 of each decompressed file and moves them into the cache
atomically.  Offline with no copy, one :class:`DataError` names the folders
searched and where to put the files.

Every file is checked before use: gzip integrity, IDX magic number, data
type, number of dimensions, image size, that the data length matches the
header, that image and label counts agree, and (for MNIST, or where the
folder has a ``SHA256SUMS`` file) the SHA-256 checksum.  A bad file raises
:class:`DataError` naming the file and what is wrong; it is never used.

MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of
handwritten digits" (CC BY-SA 3.0).
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from eqspike.errors import DataError

#: roles -> standard IDX file names (without ``.gz``)
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of the *decompressed* IDX files of known datasets (independent of
#: the gzip level, so the same for every mirror).
KNOWN_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
}

#: Public MNIST mirrors (base URLs holding the four ``.gz`` files), tried in turn.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: datasets that can be downloaded: name -> mirrors
DOWNLOADABLE = {"mnist": MNIST_MIRRORS}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test split: images as float32 rows in [0, 1], labels int64.

    ``x_*`` have shape ``(n, n_features)`` (784 for MNIST), ``y_*`` ``(n,)``;
    ``source_dir`` is the folder the files were read from."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    source_dir: Path
    #: how the files were verified: "built-in SHA-256 (mnist)", "SHA256SUMS", or
    #: "no checksum (IDX structure only)"
    verified: str = "no checksum (IDX structure only)"

    @property
    def n_features(self) -> int:
        """Pixels per image (784 for MNIST)."""
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (largest label + 1)."""
        return int(max(self.y_train.max(initial=0), self.y_test.max(initial=0)) + 1)

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first ``n_train`` training and ``n_test`` test examples.

        Asking for more examples than the dataset holds is an error (a run
        would otherwise silently train on fewer images than requested).
        """
        from eqspike.errors import ParameterError
        for name, n, have in (("n_train", n_train, len(self.x_train)),
                              ("n_test", n_test, len(self.x_test))):
            if n is not None and not (1 <= n <= have):
                raise ParameterError(f"parameter '{name}' = {n!r} is outside the allowed range "
                                     f"[1, {have}] ({self.name} has {have} examples)")
        return Dataset(self.x_train[:n_train], self.y_train[:n_train],
                       self.x_test[:n_test], self.y_test[:n_test], self.name, self.source_dir,
                       self.verified)

    def describe(self) -> str:
        """One line for reports: name, folder, sizes, classes and how it was verified."""
        return (f"{self.name} ({len(self.x_train)} train / {len(self.x_test)} test images of "
                f"{self.n_features} pixels, {self.n_classes} classes; from {self.source_dir}; "
                f"verified: {self.verified})")


# --------------------------------------------------------------------- reading
def _read_bytes(path: Path) -> bytes:
    """File content, decompressed if gzip; DataError on a bad/truncated gzip."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except EOFError:
            raise DataError(f"{path}: truncated gzip file (incomplete download?); "
                            "delete it and fetch it again") from None
        except (OSError, zlib.error) as e:
            raise DataError(f"{path}: corrupted gzip file ({e}); delete it and fetch it again") from None
    if path.suffix == ".gz":
        raise DataError(f"{path}: not a gzip file (bad gzip magic bytes {raw[:2]!r}); "
                        "delete it and fetch it again")
    return raw


def parse_idx(data: bytes, where: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes to an array (see http://yann.lecun.com/exdb/mnist/ for the format)."""
    if len(data) < 4:
        raise DataError(f"{where}: too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(f"{where}: bad IDX magic number {data[:4].hex()} (expected 0000TTNN); "
                        "not an IDX file or corrupted")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise DataError(f"{where}: unknown IDX data type code 0x{code:02x}")
    if ndim < 1:
        raise DataError(f"{where}: IDX header declares {ndim} dimensions")
    hdr = 4 + 4 * ndim
    if len(data) < hdr:
        raise DataError(f"{where}: truncated IDX header ({len(data)} bytes, need {hdr})")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(data) - hdr
    if have < need:
        raise DataError(f"{where}: truncated IDX data: header says {dims} "
                        f"({need} bytes) but only {have} bytes follow")
    if have > need:
        raise DataError(f"{where}: {have - need} unexpected bytes after the IDX data of shape {dims}")
    return np.frombuffer(data, dtype=dtype, count=need // dtype.itemsize, offset=hdr).reshape(dims)


def read_idx(path: str | os.PathLike, sha256: str | None = None) -> np.ndarray:
    """Read one IDX file (gzip or raw); verify its decompressed SHA-256 if given."""
    path = Path(path)
    data = _read_bytes(path)
    if sha256 is not None:
        got = hashlib.sha256(data).hexdigest()
        if got != sha256:
            raise DataError(f"{path}: SHA-256 checksum mismatch (got {got[:16]}..., expected "
                            f"{sha256[:16]}...): the file is corrupted or not the expected "
                            "dataset; delete it and fetch it again (for another IDX dataset "
                            "use a different dataset name, e.g. --dataset-name)")
    return parse_idx(data, str(path))


# --------------------------------------------------------------------- finding
def _file_in(folder: Path, stem: str) -> Path | None:
    """``stem[.gz]`` in ``folder``, else the one file named ``<prefix>-stem[.gz]``
    (e.g. EMNIST's ``emnist-digits-train-images-idx3-ubyte.gz``); several such
    files are ambiguous: an error listing them."""
    for cand in (folder / (stem + ".gz"), folder / stem):
        if cand.is_file():
            return cand
    if not folder.is_dir():
        return None
    found = sorted({p for pat in (f"*-{stem}.gz", f"*-{stem}") for p in folder.glob(pat) if p.is_file()})
    if len(found) > 1:
        raise DataError(f"{folder}: several files end in {stem}[.gz] ({', '.join(p.name for p in found)}); "
                        "keep one dataset per folder")
    return found[0] if found else None


def _complete(folder: Path) -> bool:
    return all(_file_in(folder, s) is not None for s in FILES.values())


def _candidates(root: Path, name: str) -> list[Path]:
    return [root / name, root]


def _folder_sums(folder: Path) -> dict[str, str]:
    """``SHA256SUMS`` in the folder (``hash  filename`` lines), if any."""
    f = folder / "SHA256SUMS"
    out: dict[str, str] = {}
    if f.is_file():
        for line in f.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 2 and len(parts[0]) == 64:
                out[parts[1].lstrip("*")] = parts[0].lower()
    return out


def default_cache_folder(name: str = "mnist", cache_dir: str | os.PathLike | None = None) -> Path:
    """``<cache root>/datasets/<name>``, where downloads are kept."""
    from eqspike.cache import cache_dir as _cache_root
    return _cache_root(cache_dir) / "datasets" / name


def find_dataset_dir(data_dir: str | os.PathLike | None = None, *, name: str = "mnist",
                     cache_dir: str | os.PathLike | None = None) -> tuple[Path | None, list[Path]]:
    """The first folder holding all four files, and the list of folders searched.

    An explicit ``data_dir`` that lacks the files is an error (no fall-back),
    so a typo in ``--data-dir`` is not silently replaced by another copy.
    """
    searched: list[Path] = []
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for c in _candidates(root, name):
            searched.append(c)
            if _complete(c):
                return c, searched
        missing = [s for s in FILES.values() if _file_in(root, s) is None]
        raise DataError(f"data folder {root} (--data-dir) does not hold the {name} files; "
                        f"missing: {', '.join(m + '[.gz]' for m in missing)} "
                        f"(also looked in {root / name})")
    env = os.environ.get("EQSPIKE_DATA_DIR")
    if env:
        for c in _candidates(Path(env).expanduser(), name):
            searched.append(c)
            if _complete(c):
                return c, searched
    c = default_cache_folder(name, cache_dir)
    searched.append(c)
    if _complete(c):
        return c, searched
    return None, searched


# --------------------------------------------------------------------- download
def mirrors_for(name: str) -> tuple[str, ...]:
    """Mirrors to try for ``name``: ``$EQSPIKE_MNIST_MIRRORS`` overrides for MNIST."""
    if name == "mnist" and os.environ.get("EQSPIKE_MNIST_MIRRORS"):
        return tuple(u.strip() for u in os.environ["EQSPIKE_MNIST_MIRRORS"].split(",") if u.strip())
    return DOWNLOADABLE.get(name, ())


def _fetch(url: str, dest: Path, timeout_s: float, progress: bool) -> None:
    with urllib.request.urlopen(url, timeout=timeout_s) as resp, open(dest, "wb") as fh:
        total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                       desc=f"download {dest.name}", leave=False)
        try:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                fh.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()


def download_dataset(name: str = "mnist", dest: str | os.PathLike | None = None, *,
             mirrors: Sequence[str] | None = None, cache_dir: str | os.PathLike | None = None,
             timeout_s: float = 30.0, progress: bool = True) -> Path:
    """Download the four gzip files into ``dest`` (default: the cache folder).

    For each file the mirrors are tried in turn; a download counts only when it
    decompresses, parses as IDX and (when known) matches its SHA-256. Files are
    assembled in a temporary folder beside ``dest`` and moved in one by one
    with ``os.replace`` (atomic), so ``dest`` never holds a partial file.
    Raises :class:`DataError` listing every mirror's failure.
    """
    mirrors = tuple(mirrors) if mirrors is not None else mirrors_for(name)
    if not mirrors:
        raise DataError(f"no download mirrors known for dataset {name!r}")
    dest = Path(dest) if dest is not None else default_cache_folder(name, cache_dir)
    dest.mkdir(parents=True, exist_ok=True)
    sums = KNOWN_SHA256.get(name, {})
    for stale in dest.glob(".download-*"):  # left by a killed download (> 1 h old)
        try:
            if time.time() - stale.stat().st_mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    tmpdir = Path(tempfile.mkdtemp(prefix=".download-", dir=dest))
    try:
        for stem in FILES.values():
            if _file_in(dest, stem) is not None:
                try:
                    read_idx(_file_in(dest, stem), sums.get(stem))
                    continue
                except DataError:
                    pass  # a bad cached copy: fetch it again
            errors = []
            for base in mirrors:
                url = base.rstrip("/") + "/" + stem + ".gz"
                part = tmpdir / (stem + ".gz")
                try:
                    _fetch(url, part, timeout_s, progress)
                    read_idx(part, sums.get(stem))
                except (urllib.error.URLError, OSError, ValueError) as e:
                    errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
                    continue
                except DataError as e:
                    errors.append(f"{url}: {e}")
                    continue
                os.replace(part, dest / (stem + ".gz"))
                raw = dest / stem
                if raw.exists():  # an old uncompressed copy would shadow nothing, but is stale
                    raw.unlink()
                break
            else:
                raise DataError(f"could not download {stem}.gz from any mirror:\n  " +
                                "\n  ".join(errors))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return dest


# --------------------------------------------------------------------- loading
def load_folder(folder: str | os.PathLike, name: str = "mnist") -> Dataset:
    """Load and check the four IDX files in ``folder`` (checksums where known)."""
    folder = Path(folder)
    sums = dict(KNOWN_SHA256.get(name, {}))
    listed = _folder_sums(folder)
    arrays = {}
    n_listed = 0
    for role, stem in FILES.items():
        path = _file_in(folder, stem)
        if path is None:
            raise DataError(f"{folder}: missing {stem}[.gz]")
        if path.name in listed:
            # SHA256SUMS lists the file as it lies (gz or raw): check the raw bytes
            n_listed += 1
            got = hashlib.sha256(path.read_bytes()).hexdigest()
            if got != listed[path.name]:
                raise DataError(f"{path}: SHA-256 checksum mismatch with {folder / 'SHA256SUMS'} "
                                f"(got {got[:16]}..., expected {listed[path.name][:16]}...): "
                                "the file is corrupted or SHA256SUMS is stale")
        elif stem in listed and path.name != stem:
            # SHA256SUMS lists the decompressed name: check the decompressed bytes
            n_listed += 1
            try:
                read_idx(path, listed[stem])
            except DataError as e:
                raise DataError(f"{e} [sum from {folder / 'SHA256SUMS'}]") from None
        arrays[role] = read_idx(path, sums.get(stem))
    out = {}
    for split in ("train", "test"):
        img, lab = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        ipath, lpath = FILES[f"{split}_images"], FILES[f"{split}_labels"]
        if img.ndim < 2:
            raise DataError(f"{folder / ipath}: images must have >= 2 dimensions "
                            f"(count, pixels...), got shape {img.shape}")
        if lab.ndim != 1:
            raise DataError(f"{folder / lpath}: labels must be 1-D, got shape {lab.shape}")
        if img.shape[0] != lab.shape[0]:
            raise DataError(f"{folder}: {ipath} holds {img.shape[0]} images but {lpath} "
                            f"holds {lab.shape[0]} labels")
        if img.shape[0] == 0:
            raise DataError(f"{folder / ipath}: holds no images")
        if lab.min() < 0:
            raise DataError(f"{folder / lpath}: negative label {int(lab.min())}")
        x = img.reshape(img.shape[0], -1)
        if x.dtype == np.uint8:
            x = x.astype(np.float32) * np.float32(1 / 255)
        else:
            x = x.astype(np.float32)
            lo, hi = float(x.min()), float(x.max())
            if lo < 0 or hi > 1:
                raise DataError(f"{folder / ipath}: non-uint8 pixel values must lie in [0, 1], "
                                f"got [{lo:g}, {hi:g}]")
        out[split] = (np.ascontiguousarray(x), lab.astype(np.int64))
    if out["train"][0].shape[1] != out["test"][0].shape[1]:
        raise DataError(f"{folder}: train images have {out['train'][0].shape[1]} pixels, "
                        f"test images {out['test'][0].shape[1]}")
    if name == "mnist" and out["train"][0].shape[1] != 784:
        raise DataError(f"{folder}: MNIST images must be 28x28, got "
                        f"{arrays['train_images'].shape[1:]}")
    how = []
    if sums:
        how.append(f"built-in SHA-256 ({name})")
    if n_listed:
        how.append(f"SHA256SUMS ({n_listed} of 4 files listed)")
    return Dataset(out["train"][0], out["train"][1], out["test"][0], out["test"][1], name, folder,
                   " + ".join(how) or "no checksum (IDX structure only)")


def load_dataset(data_dir: str | os.PathLike | None = None, *, name: str = "mnist",
                 download: bool = True, cache_dir: str | os.PathLike | None = None,
                 progress: bool = True, mirrors: Sequence[str] | None = None) -> Dataset:
    """Find (or download) and load a dataset; see the module docstring for the search order."""
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise DataError(f"dataset name {name!r} must be a plain folder name, e.g. 'mnist'")
    folder, searched = find_dataset_dir(data_dir, name=name, cache_dir=cache_dir)
    if folder is not None:
        return load_folder(folder, name)
    target = default_cache_folder(name, cache_dir)
    names = ", ".join(s + ".gz" for s in FILES.values())
    where = ("\n  ".join(str(s) for s in searched))
    hint = (f"Put the four files ({names}) in one of these folders, or pass "
            f"--data-dir FOLDER / set EQSPIKE_DATA_DIR=FOLDER.")
    mirrors = tuple(mirrors) if mirrors is not None else mirrors_for(name)
    if not download or not mirrors:
        why = "downloading is disabled" if mirrors else f"no download mirror is known for {name!r}"
        raise DataError(f"dataset {name!r} not found ({why}). Searched:\n  {where}\n{hint}")
    try:
        download_dataset(name, target, mirrors=mirrors, progress=progress)
    except DataError as e:
        raise DataError(f"dataset {name!r} not found locally and the download failed "
                        f"(offline?). Searched:\n  {where}\n{hint}\nDownload errors: {e}") from None
    return load_folder(target, name)
