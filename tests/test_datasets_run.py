"""Any IDX dataset through `eqspike run`, `compare` and sweep points (issue 15).

Each test writes its own tiny IDX set (6x6 images, 3 classes with a distinct
bright region each, plus noise), so it can tell whether the data, the
network sizes and the report follow the dataset.  No ngspice: device profile
from a file, analytic neuron and crossbar stand-ins; the fail-fast tests
replace every characterisation entry point by one that records the call.
"""
import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from eqspike.cli import main

SIDE, N_CLASSES = 6, 3


def _idx(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return (b"\x00\x00\x08" + bytes([arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
            + arr.tobytes())


def write_tiny(folder: Path, n_train=90, n_test=30, seed=0, sums: str | None = None) -> dict:
    """Write the four gzip IDX files; ``sums``: None (no SHA256SUMS), 'good' or 'bad'."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def split(n):
        y = rng.integers(0, N_CLASSES, n)
        x = rng.integers(0, 60, (n, SIDE, SIDE))
        for c in range(N_CLASSES):  # class c: rows 2c, 2c+1 bright
            x[y == c, 2 * c:2 * c + 2, :] += 180
        return np.clip(x, 0, 255), y

    (xtr, ytr), (xte, yte) = split(n_train), split(n_test)
    files = {"train-images-idx3-ubyte": xtr, "train-labels-idx1-ubyte": ytr,
             "t10k-images-idx3-ubyte": xte, "t10k-labels-idx1-ubyte": yte}
    lines = []
    for stem, arr in files.items():
        blob = gzip.compress(_idx(arr))
        (folder / (stem + ".gz")).write_bytes(blob)
        lines.append(f"{hashlib.sha256(blob).hexdigest()}  {stem}.gz")
    if sums == "bad":
        lines[2] = "0" * 64 + lines[2][64:]
    if sums is not None:
        (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return files


@pytest.fixture
def no_spice(monkeypatch):
    """Record (and refuse) any ngspice characterisation."""
    calls = []

    def refuse(*a, **k):
        calls.append(a)
        raise AssertionError("a characterisation started")
    import eqspike.circuits.characterize as cc
    import eqspike.devices.characterize as dc
    import eqspike.spice as sp
    monkeypatch.setattr(dc, "default_profile", refuse)
    monkeypatch.setattr(cc, "default_neuron_profile", refuse)
    monkeypatch.setattr(cc, "default_crossbar_profile", refuse)
    monkeypatch.setattr(sp, "run_netlist", refuse)
    monkeypatch.setattr(sp, "run_many", refuse)
    return calls


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No shared data, an empty cache, and a download mirror that refuses connections."""
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EQSPIKE_DATA_DIR", raising=False)
    monkeypatch.setenv("EQSPIKE_MNIST_MIRRORS", "http://127.0.0.1:9/")


TINY = ["--n-train", "90", "--n-test", "30", "--epochs", "1", "--hidden", "8", "--T1", "20",
        "--T2", "8", "--neuron", "ideal", "--crossbar", "ideal", "--no-progress"]


@pytest.mark.slow
@pytest.mark.parametrize("sums", [None, "good"])
def test_run_trains_and_reports_on_another_idx_dataset(tmp_path, isolated, no_spice, profile_json,
                                                       sums, capsys):
    write_tiny(tmp_path / "data" / "blobs", sums=sums)
    out = tmp_path / "rep"
    rc = main(["run", "--dataset-name", "blobs", "--data-dir", str(tmp_path / "data"),
               "--device", profile_json, "--out", str(out)] + TINY)
    assert rc == 0, capsys.readouterr().err
    text = (out / "report.md").read_text()
    # sizes follow the data (36 pixels, 3 classes), and the report names the dataset
    assert "36-8-3 on blobs" in text.splitlines()[0]
    assert "Dataset: blobs (90 train / 30 test images of 36 pixels, 3 classes" in text
    assert ("SHA256SUMS (4 of 4 files listed)" in text) == (sums == "good")
    import json
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["dataset"]["name"] == "blobs"
    assert not no_spice


@pytest.mark.slow
def test_compare_uses_the_dataset(tmp_path, isolated, no_spice, profile_json, capsys):
    write_tiny(tmp_path / "blobs", sums="good")
    out = tmp_path / "cmp"
    rc = main(["compare", "--dataset-name", "blobs", "--data-dir", str(tmp_path / "blobs"),
               "--profile", profile_json, "--out", str(out)] + TINY)
    assert rc == 0, capsys.readouterr().err
    import pandas as pd
    df = pd.read_csv(out / "compare.csv")
    assert list(df.synapses) == ["ideal", "nl1_64"] and (df.dataset == "blobs").all()
    assert not no_spice


@pytest.mark.parametrize("cmd", ["run", "compare"])
def test_wrong_sum_refused_before_anything(tmp_path, isolated, no_spice, cmd, capsys):
    write_tiny(tmp_path / "blobs", sums="bad")
    out = tmp_path / "never"
    rc = main([cmd, "--dataset-name", "blobs", "--data-dir", str(tmp_path / "blobs"),
               "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "t10k-images-idx3-ubyte.gz: SHA-256 checksum mismatch" in err and "SHA256SUMS" in err
    assert "Traceback" not in err
    assert not out.exists() and not no_spice


@pytest.mark.parametrize("cmd", ["run", "compare"])
def test_no_data_fails_before_any_characterisation(tmp_path, isolated, no_spice, cmd, capsys):
    """Default device (taox_rram) and default circuits: all three would be ngspice runs."""
    rc = main([cmd, "--out", str(tmp_path / "never"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "dataset 'mnist' not found" in err and "Put the four files" in err
    assert not no_spice, "a characterisation started before the data were checked"
    assert not (tmp_path / "never").exists()


def test_mnist_name_on_other_data_points_to_dataset_name(tmp_path, isolated, no_spice, capsys):
    write_tiny(tmp_path / "mnist")
    rc = main(["run", "--data-dir", str(tmp_path), "--no-progress", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and "checksum mismatch" in err and "--dataset-name" in err and not no_spice


def test_too_many_examples_refused_before_characterisation(tmp_path, isolated, no_spice, capsys):
    write_tiny(tmp_path / "blobs")
    rc = main(["run", "--dataset-name", "blobs", "--data-dir", str(tmp_path / "blobs"),
               "--n-train", "1000", "--no-progress", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and "n_train" in err and "[1, 90]" in err and not no_spice


SWEEP = """
[sweep]
name = "blobs_sweep"
point = "eqspike_device"
data_dir = "{data}"
[sweep.budget]
n_train = 60
n_test = 30
[sweep.vary]
d2d_sigma = [0.0, 0.2]
[base]
dataset_name = "blobs"
device_source = "neurosim"
neuron = "ideal"
crossbar = "ideal"
hidden = [8]
T1 = 20
T2 = 8
"""


@pytest.mark.slow
def test_sweep_points_take_the_dataset_from_the_spec(tmp_path, isolated, no_spice, capsys):
    write_tiny(tmp_path / "blobs", sums="good")
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP.format(data=tmp_path / "blobs"))
    rc = main(["sweep", "run", str(spec), "--out", str(tmp_path / "res"), "--workers", "0",
               "--no-progress"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "dataset: blobs (90 train / 30 test images of 36 pixels, 3 classes" in out.out
    from eqspike.sweeps.store import read_results
    df = read_results(tmp_path / "res")
    assert len(df) == 2 and (df["status"] == "ok").all(), df.get("error")
    assert (df["dataset_name"] == "blobs").all()


def test_sweep_refuses_missing_data_before_any_point(tmp_path, isolated, no_spice, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP.format(data=tmp_path / "nothing"))
    rc = main(["sweep", "run", str(spec), "--out", str(tmp_path / "res"), "--workers", "0",
               "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "does not hold the blobs files" in err and not no_spice
    assert not (tmp_path / "res").exists()


def test_prefixed_file_names_and_other_image_sizes(tmp_path, isolated):
    """EMNIST-style names (<prefix>-train-images-idx3-ubyte.gz), 5x7 images, 4 classes."""
    from eqspike.datasets import load_dataset
    from eqspike.errors import DataError
    rng = np.random.default_rng(1)
    folder = tmp_path / "odd"
    folder.mkdir()
    for split, n in (("train", 20), ("t10k", 8)):
        (folder / f"odd-{split}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(_idx(rng.integers(0, 256, (n, 5, 7)))))
        (folder / f"odd-{split}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(_idx(np.arange(n) % 4)))
    d = load_dataset(folder, name="odd", download=False)
    assert d.n_features == 35 and d.n_classes == 4 and len(d.x_train) == 20
    (folder / "other-t10k-labels-idx1-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataError, match="several files end in t10k-labels-idx1-ubyte"):
        load_dataset(folder, name="odd", download=False)


def test_point_ids_of_mnist_points_unchanged():
    """Adding `dataset_name` must not change the ids of existing (MNIST) sweeps."""
    from eqspike.sweeps.spec import loads_spec, point_id
    spec = loads_spec('[sweep]\npoint = "eqspike_device"\n[sweep.vary]\nd2d_sigma = [0.0]\n')
    t = spec.tasks()[0]
    params = {k: v for k, v in t.params if k != "dataset_name"}
    assert t.point_id == point_id("eqspike_device", params, t.budget, t.seed)
    other = loads_spec('[sweep]\npoint = "eqspike_device"\n[sweep.vary]\nd2d_sigma = [0.0]\n'
                       '[base]\ndataset_name = "blobs"\n').tasks()[0]
    assert other.point_id != t.point_id
