"""MNIST / IDX loader: good files, corruption, truncation, offline, mirrors, cache.

All tests except the last write their own tiny IDX files; downloads are
served from 127.0.0.1 (http.server) or file:// URLs, never the internet.
"""
import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from eqspike import datasets as ds
from eqspike.errors import DataError

STEMS = list(ds.FILES.values())


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return (b"\x00\x00\x08" + bytes([arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
            + arr.tobytes())


def make_set(seed=0, n_train=30, n_test=10, side=4):
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, side, side)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, side, side)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }


def write_set(folder: Path, arrays=None, gz=True, **kw) -> dict[str, bytes]:
    arrays = arrays or make_set(**kw)
    folder.mkdir(parents=True, exist_ok=True)
    raw = {}
    for stem, arr in arrays.items():
        b = idx_bytes(arr)
        raw[stem] = b
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(b))
        else:
            (folder / stem).write_bytes(b)
    return raw


def sums_of(raw: dict[str, bytes]) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in raw.items()}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Never touch the user's cache or the shared data through the environment."""
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EQSPIKE_DATA_DIR", raising=False)
    monkeypatch.delenv("EQSPIKE_MNIST_MIRRORS", raising=False)


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connection refused
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def http_mirror():
    """Serve folders over HTTP on 127.0.0.1; yields a function folder -> base URL."""
    servers = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    def serve(folder: Path) -> str:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                              functools.partial(Quiet, directory=str(folder)))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"

    yield serve
    for s in servers:
        s.shutdown()
        s.server_close()


# ------------------------------------------------------------------ good files
@pytest.mark.parametrize("gz", [True, False])
def test_load_good_folder(tmp_path, gz):
    arrays = make_set()
    write_set(tmp_path / "tiny", arrays, gz=gz)
    d = ds.load_dataset(tmp_path / "tiny", name="tiny", download=False)
    assert d.x_train.shape == (30, 16) and d.x_test.shape == (10, 16)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_allclose(d.x_train, arrays["train-images-idx3-ubyte"].reshape(30, 16) / 255,
                               rtol=1e-6)
    np.testing.assert_array_equal(d.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert 0 <= d.x_train.min() and d.x_train.max() <= 1
    assert d.source_dir == tmp_path / "tiny" and d.name == "tiny"



def test_subset_beyond_the_dataset_is_refused(tmp_path):
    from eqspike.errors import ParameterError
    write_set(tmp_path / "tiny", make_set(), gz=True)
    d = ds.load_dataset(tmp_path / "tiny", name="tiny", download=False)
    assert d.subset(12, 4).x_train.shape == (12, 16)
    with pytest.raises(ParameterError, match=r"'n_train' = 31 .*\[1, 30\]"):
        d.subset(31, None)
    with pytest.raises(ParameterError, match=r"'n_test' = 11 .*\[1, 10\]"):
        d.subset(None, 11)

def test_search_order_root_and_env(tmp_path, monkeypatch):
    write_set(tmp_path / "root" / "tiny", seed=1)
    # explicit root holding <name>/
    d1 = ds.load_dataset(tmp_path / "root", name="tiny", download=False)
    assert d1.source_dir == tmp_path / "root" / "tiny"
    # env var, both forms
    monkeypatch.setenv("EQSPIKE_DATA_DIR", str(tmp_path / "root"))
    assert ds.load_dataset(name="tiny", download=False).source_dir == tmp_path / "root" / "tiny"
    monkeypatch.setenv("EQSPIKE_DATA_DIR", str(tmp_path / "root" / "tiny"))
    assert ds.load_dataset(name="tiny", download=False).source_dir == tmp_path / "root" / "tiny"
    # explicit dir wins over the env var
    write_set(tmp_path / "other", seed=2)
    d2 = ds.load_dataset(tmp_path / "other", name="tiny", download=False)
    assert d2.source_dir == tmp_path / "other"
    assert not np.array_equal(d1.y_train, d2.y_train)


def test_explicit_dir_missing_files_is_an_error(tmp_path):
    write_set(tmp_path / "t")
    (tmp_path / "t" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        ds.load_dataset(tmp_path / "t", name="tiny", download=False)


def test_known_checksums_verified(tmp_path, monkeypatch):
    raw = write_set(tmp_path / "t")
    monkeypatch.setitem(ds.KNOWN_SHA256, "tiny", sums_of(raw))
    ds.load_dataset(tmp_path / "t", name="tiny", download=False)  # passes
    # a valid gzip and valid IDX, but one pixel changed: only the checksum can tell
    b = bytearray(raw["t10k-images-idx3-ubyte"])
    b[-1] ^= 0xFF
    (tmp_path / "t" / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(b)))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: SHA-256 checksum mismatch"):
        ds.load_dataset(tmp_path / "t", name="tiny", download=False)


def test_folder_sha256sums_file_is_checked(tmp_path):
    write_set(tmp_path / "t")
    f = tmp_path / "t" / "train-labels-idx1-ubyte.gz"
    good = hashlib.sha256(f.read_bytes()).hexdigest()
    (tmp_path / "t" / "SHA256SUMS").write_text(f"{good}  {f.name}\n")
    ds.load_dataset(tmp_path / "t", name="tiny", download=False)
    (tmp_path / "t" / "SHA256SUMS").write_text(f"{'0' * 64}  {f.name}\n")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: SHA-256 checksum mismatch"):
        ds.load_dataset(tmp_path / "t", name="tiny", download=False)


# ------------------------------------------------------------------ bad files
def _corrupt(folder, stem, data: bytes, gz=True):
    (folder / (stem + ".gz")).write_bytes(gzip.compress(data) if gz else data)


@pytest.mark.parametrize("case, pattern", [
    ("truncated_gzip", r"train-images-idx3-ubyte\.gz: truncated gzip"),
    ("corrupted_gzip", r"train-images-idx3-ubyte\.gz: corrupted gzip"),
    ("not_gzip", r"train-images-idx3-ubyte\.gz: not a gzip file"),
    ("bad_magic", r"train-images-idx3-ubyte\.gz: bad IDX magic"),
    ("short_data", r"train-images-idx3-ubyte\.gz: truncated IDX data"),
    ("extra_data", r"train-images-idx3-ubyte\.gz: 5 unexpected bytes"),
    ("count_mismatch", r"holds 29 images but train-labels-idx1-ubyte holds 30 labels"),
    ("labels_2d", r"train-labels-idx1-ubyte: labels must be 1-D"),
])
def test_corrupted_files_are_reported(tmp_path, case, pattern):
    folder = tmp_path / "t"
    raw = write_set(folder)
    stem = "train-images-idx3-ubyte"
    gzb = (folder / (stem + ".gz")).read_bytes()
    img = raw[stem]
    if case == "truncated_gzip":
        (folder / (stem + ".gz")).write_bytes(gzb[: len(gzb) // 2])
    elif case == "corrupted_gzip":
        b = bytearray(gzb)
        for i in range(20, min(len(b) - 8, 60)):
            b[i] ^= 0x5A
        (folder / (stem + ".gz")).write_bytes(bytes(b))
    elif case == "not_gzip":
        _corrupt(folder, stem, img, gz=False)
    elif case == "bad_magic":
        _corrupt(folder, stem, b"\x01\x02" + img[2:])
    elif case == "short_data":
        _corrupt(folder, stem, img[:-3])
    elif case == "extra_data":
        _corrupt(folder, stem, img + b"\x00" * 5)
    elif case == "count_mismatch":
        _corrupt(folder, stem, idx_bytes(np.zeros((29, 4, 4))))
    elif case == "labels_2d":
        _corrupt(folder, "train-labels-idx1-ubyte", idx_bytes(np.zeros((30, 2))))
    with pytest.raises(DataError, match=pattern):
        ds.load_dataset(folder, name="tiny", download=False)


def test_real_mnist_name_rejects_other_data(tmp_path):
    """Files that are not MNIST under the name 'mnist' fail the known checksums."""
    write_set(tmp_path / "mnist", side=28, n_train=3, n_test=2)
    with pytest.raises(DataError, match="SHA-256 checksum mismatch"):
        ds.load_dataset(tmp_path, download=False)


# ------------------------------------------------------------------ offline / download
def test_missing_offline_one_clear_message(tmp_path):
    with pytest.raises(DataError) as e:
        ds.load_dataset(mirrors=[closed_port_url(), (tmp_path / "nowhere").as_uri() + "/"],
                        progress=False)
    msg = str(e.value)
    assert "not found" in msg and "download failed" in msg
    assert str(tmp_path / "cache" / "datasets" / "mnist") in msg  # folder searched
    assert "Put the four files" in msg and "train-images-idx3-ubyte.gz" in msg
    assert "EQSPIKE_DATA_DIR" in msg
    with pytest.raises(DataError, match="downloading is disabled"):
        ds.load_dataset(download=False)
    with pytest.raises(DataError, match="no download mirror is known"):
        ds.load_dataset(name="fashion")


def test_download_mirror_fallback_verify_and_cache(tmp_path, monkeypatch, http_mirror):
    arrays = make_set(seed=3, n_train=6, n_test=4, side=28)
    raw = write_set(tmp_path / "good", arrays)
    monkeypatch.setitem(ds.KNOWN_SHA256, "mnist", sums_of(raw))
    # a mirror that serves a corrupted copy of one file (and nothing else)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train-images-idx3-ubyte.gz").write_bytes(
        (tmp_path / "good" / "train-images-idx3-ubyte.gz").read_bytes()[:40])
    mirrors = [closed_port_url(), http_mirror(bad), (tmp_path / "missing").as_uri() + "/",
               http_mirror(tmp_path / "good")]
    d = ds.load_dataset(mirrors=mirrors, progress=False)
    cache = tmp_path / "cache" / "datasets" / "mnist"
    assert d.source_dir == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(s + ".gz" for s in STEMS)  # no temp left
    np.testing.assert_array_equal(d.y_train, arrays["train-labels-idx1-ubyte"])
    # second call: served from the cache, all mirrors dead
    d2 = ds.load_dataset(mirrors=[closed_port_url()], progress=False)
    np.testing.assert_array_equal(d2.x_test, d.x_test)


def test_download_rejects_bad_checksum_everywhere(tmp_path, monkeypatch):
    raw = write_set(tmp_path / "srv", side=28, n_train=3, n_test=2)
    sums = sums_of(raw)
    sums["t10k-labels-idx1-ubyte"] = "0" * 64
    monkeypatch.setitem(ds.KNOWN_SHA256, "mnist", sums)
    monkeypatch.setenv("EQSPIKE_MNIST_MIRRORS", (tmp_path / "srv").as_uri() + "/")
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz.*checksum mismatch"):
        ds.load_dataset(progress=False)
    cache = tmp_path / "cache" / "datasets" / "mnist"
    assert not (cache / "t10k-labels-idx1-ubyte.gz").exists()  # never cached


# ------------------------------------------------------------------ real MNIST
def test_real_mnist(mnist_dir):
    d = ds.load_dataset(mnist_dir, download=False)  # verifies the published SHA-256 sums
    assert d.x_train.shape == (60000, 784) and d.x_test.shape == (10000, 784)
    assert abs(float(d.x_train.mean()) - 0.1307) < 1e-4
    assert abs(float(d.x_train.std()) - 0.3081) < 1e-4
    assert np.bincount(d.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
