"""Sweeps on a real Dask LocalCluster (2 worker processes) and the kill/resume bar."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eqspike.sweeps.runner import local_cluster, run_sweep
from eqspike.sweeps.spec import load_spec, loads_spec
from eqspike.sweeps.store import ResultStore, read_results

distributed = pytest.importorskip("distributed")

SPEC = """
[sweep]
name = "dask_toy"
point = "toy"
repeats = 2
[sweep.vary]
x = [0.0, 0.3, 0.6, 0.9]
[base]
sleep_s = 0.2
fail_x_above = 0.8
"""


@pytest.fixture(scope="module")
def client():
    with local_cluster(2) as cluster, distributed.Client(cluster) as cl:
        cl.wait_for_workers(2, timeout=60)
        yield cl


def test_workers_are_two_single_thread_processes(client):
    info = client.scheduler_info()["workers"]
    assert len(info) == 2
    assert all(w["nthreads"] == 1 for w in info.values())
    env = client.run(lambda: {k: os.environ.get(k) for k in
                              ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    for e in env.values():
        assert e == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_dask_sweep_one_row_per_point_and_failures_recorded(client, tmp_path):
    spec = loads_spec(SPEC)
    rep = run_sweep(spec, tmp_path, client=client, progress=False)
    assert (rep.n_tasks, rep.n_ok, rep.n_failed) == (8, 6, 2)
    df = read_results(tmp_path)
    assert len(df) == 8 and df["point_id"].is_unique
    assert set(df["point_id"]) == {t.point_id for t in spec.tasks()}
    assert set(df.loc[df.status == "failed", "x"]) == {0.9}
    assert df.loc[df.status == "failed", "error"].str.startswith("RuntimeError: toy point asked to fail").all()
    assert (df.loc[df.status == "ok", "test_acc"].notna()).all()
    # the points ran in the worker processes, not in this one
    pids = {int(w.rsplit(":", 1)[1]) for w in df["worker"]}
    assert os.getpid() not in pids and pids <= set(client.run(os.getpid).values())
    # same seeds give the same results as an inline run (the seed reaches the point)
    inline = tmp_path / "inline"
    run_sweep(spec, inline, workers=0, progress=False)
    a = df.set_index("point_id")["test_acc"]
    b = read_results(inline).set_index("point_id")["test_acc"]
    assert a.sort_index().equals(b.sort_index())
    # resume: nothing left to do
    rep = run_sweep(spec, tmp_path, client=client, progress=False)
    assert (rep.n_skipped, rep.n_ok, rep.n_failed) == (8, 0, 0)


def test_killed_sweep_resumes_to_exactly_the_full_set(tmp_path):
    spec_path = tmp_path / "kill.toml"
    spec_path.write_text("""
[sweep]
name = "kill_toy"
point = "toy"
[sweep.vary]
x = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55]
[base]
sleep_s = 0.6
""")
    out = tmp_path / "out"
    expected = {t.point_id for t in load_spec(spec_path).tasks()}
    assert len(expected) == 12
    cmd = [sys.executable, "-m", "eqspike", "sweep", "run", str(spec_path), "--workers", "2",
           "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    rows = out / "rows"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if rows.is_dir() and len(list(rows.glob("*.parquet"))) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "sweep ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)   # the CLI and its worker processes
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    first = {p.stem: p.stat().st_mtime_ns for p in rows.glob("*.parquet")}
    assert 3 <= len(first) < 12, len(first)
    assert set(first) <= expected
    # what survived the kill is complete: every file reads as one full row
    df = read_results(out)
    assert len(df) == len(first) and (df["status"] == "ok").all()

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{len(first)} already done, {12 - len(first)} ok, 0 failed" in r.stdout
    df = read_results(out)
    assert len(df) == 12 and df["point_id"].is_unique
    assert set(df["point_id"]) == expected
    assert not list(rows.glob(".*"))
    # the rows written before the kill were kept, not recomputed
    assert {k: (rows / f"{k}.parquet").stat().st_mtime_ns for k in first} == first


DEVICE_SPEC = """
[sweep]
name = "tiny_device"
point = "eqspike_device"
repeats = 2
[sweep.budget]
n_train = 100
n_test = 100
[sweep.vary]
d2d_sigma = [0.0, 0.3]
[base]
hidden = [16]
T1 = 20
T2 = 8
"""


@pytest.mark.spice
@pytest.mark.slow
def test_real_point_tiny_network_on_two_workers(client, tmp_path, mnist_dir):
    """ngspice characterises the default RRAM inside the workers (or loads it from the cache).

    ~10 s with warm caches; up to ~2 min when numba must compile the EqSpike
    kernels in both workers (fresh checkout) on a busy machine: marked slow.
    """
    spec = loads_spec(DEVICE_SPEC)
    rep = run_sweep(spec, tmp_path, client=client, progress=False,
                    context={"data_dir": str(mnist_dir)})
    df = read_results(tmp_path)
    assert rep.n_failed == 0, df["error"].dropna().tolist()
    assert len(df) == 4 and df["point_id"].is_unique
    assert set(df["point_id"]) == {t.point_id for t in spec.tasks()}
    assert df["test_acc"].between(0, 1).all() and df["train_acc"].between(0, 1).all()
    for c in ("energy_per_inference_J", "energy_per_train_example_J", "train_write_J"):
        assert (df[c] > 0).all() and np.isfinite(df[c]).all(), c
    # the inference energy is the sum of its parts
    parts = df[[c for c in df.columns if c.startswith("inference_") and c.endswith("_J")]].sum(axis=1)
    assert np.allclose(parts, df["energy_per_inference_J"], rtol=1e-9)
    # write energy = pulses x energy per pulse, priced on the E(G) tables: within their range
    e_lo = df["device_write_energy_min_J"]
    e_hi = df["device_write_energy_max_J"]
    pulses = df["pulses_per_train_example"]
    assert (df["train_write_J"] >= pulses * e_lo * (1 - 1e-9)).all()
    assert (df["train_write_J"] <= pulses * e_hi * (1 + 1e-9)).all()
    parts = df[[c for c in df.columns if c.startswith("write_pulses_") and c.endswith("_J")]].sum(axis=1)
    assert np.allclose(parts, df["train_write_J"], rtol=1e-9)
    # the characterised device is the same for all points; only its d2d spread was replaced
    assert df["device_g_min_S"].nunique() == 1 and df["device_n_levels"].nunique() == 1
    assert (df["device_d2d_sigma"] == df["d2d_sigma"]).all()
    # the profile hash follows the device parameters, not the seed
    h = df.groupby("d2d_sigma")["device_profile_hash"].agg(["nunique", "first"])
    assert (h["nunique"] == 1).all() and h["first"].nunique() == 2
    assert df["neuron_profile_hash"].nunique() == 1 and df["crossbar_profile_hash"].nunique() == 1
    assert (df["gpu_h100_ratio_inference"] > 0).all()
    assert (df["device_source"] == "spice").all() and (df["device_model"] == "taox_rram").all()


def test_cli_sweep_on_a_separately_started_scheduler_and_worker(tmp_path):
    """``--scheduler ADDR``: the sweep runs on a cluster this process did not start
    (a ``dask scheduler`` and a ``dask worker`` as their own OS processes, as on a real
    cluster), and writes the same rows as an inline run."""
    from eqspike.cli import main
    dask_bin = Path(sys.executable).with_name("dask")
    if not dask_bin.exists():
        pytest.skip("the dask command-line tool is not installed next to this Python")
    sfile = tmp_path / "scheduler.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([str(dask_bin), "scheduler", "--scheduler-file", str(sfile),
                               "--port", "0", "--dashboard-address", ":0", "--no-show"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        for _ in range(300):
            if sfile.exists() and sfile.stat().st_size > 0:
                break
            time.sleep(0.1)
        import json
        addr = json.loads(sfile.read_text())["address"]
        procs.append(subprocess.Popen([str(dask_bin), "worker", addr, "--nworkers", "1",
                                       "--nthreads", "1", "--no-dashboard",
                                       "--local-directory", str(tmp_path / "w")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=env))
        with distributed.Client(addr, timeout="30s") as cl:
            cl.wait_for_workers(1, timeout=60)
        spec_path = tmp_path / "spec.toml"
        spec_path.write_text(SPEC.replace("sleep_s = 0.2", "sleep_s = 0.0"))
        # 2 of its 8 points fail on purpose: the exit code says so (1), the rows are kept
        assert main(["sweep", "run", str(spec_path), "--scheduler", addr,
                     "--out", str(tmp_path / "out"), "--no-progress"]) == 1
        df = read_results(tmp_path / "out")
        assert len(df) == 8 and (df.status == "ok").sum() == 6
        run_sweep(load_spec(spec_path), tmp_path / "inline", workers=0, progress=False)
        ref = read_results(tmp_path / "inline")
        a = df[df.status == "ok"].set_index("point_id")["test_acc"].sort_index()
        b = ref[ref.status == "ok"].set_index("point_id")["test_acc"].sort_index()
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
        # a scheduler nobody listens at: one clear error, nothing written
        assert main(["sweep", "run", str(spec_path), "--scheduler", "tcp://127.0.0.1:9",
                     "--connect-timeout", "2", "--out", str(tmp_path / "never"),
                     "--no-progress"]) == 2
        assert not (tmp_path / "never").exists()
        assert main(["sweep", "run", str(spec_path), "--scheduler", addr,
                     "--connect-timeout", "-1", "--out", str(tmp_path / "never")]) == 2
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
