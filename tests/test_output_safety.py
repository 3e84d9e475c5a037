"""Nothing lost, nothing mixed: output folders, locks, cache entries, bad inputs
that must give one line and a non-zero exit (issue 16)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eqspike import cache, locks, outdir
from eqspike.cli import main
from eqspike.errors import ParameterError

EQSPIKE = [sys.executable, "-m", "eqspike"]
TRAIN_TINY = ["--sizes", "784,8,10", "--n-train", "40", "--n-test", "20", "--epochs", "1",
              "--T1", "5", "--T2", "2", "--no-progress"]


def _one_line_error(err: str, *words: str) -> None:
    assert "Traceback" not in err, err
    lines = [l for l in err.splitlines() if l.startswith("eqspike")]
    assert lines, err
    for w in words:
        assert w in err, (w, err)


# ----------------------------------------------------------------------------- outdir / locks
def test_outdir_refuses_non_empty_and_overwrite_clears(tmp_path):
    d = tmp_path / "run"
    (d / "sub").mkdir(parents=True)
    (d / "old.csv").write_text("x")
    (d / "sub" / "deep.txt").write_text("y")
    with pytest.raises(ParameterError, match="already holds 2 file"):
        with outdir.claim(d, what="run"):
            pass
    assert (d / "old.csv").exists()            # the refusal touched nothing
    with outdir.claim(d, overwrite=True) as out:
        assert outdir.contents(out) == []
        (out / "new.csv").write_text("z")
    assert sorted(os.listdir(d)) == [".lock", "new.csv"]
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(ParameterError, match="existing file, not a folder"):
        with outdir.claim(f):
            pass
    with pytest.raises(ParameterError, match="exclude each other"):
        outdir.check(d, resume=True, overwrite=True)


def test_overwrite_refuses_to_clear_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "keep").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match="current folder"):
        outdir.check(".", overwrite=True)
    assert (tmp_path / "keep").exists()


def test_a_folder_refused_by_an_error_is_removed_again(tmp_path):
    d = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        with outdir.claim(d):
            raise RuntimeError("bad parameter")
    assert not d.exists()


def test_lock_refuses_second_holder_and_takes_over_a_stale_one(tmp_path, capsys):
    with locks.hold(tmp_path, "eqspike train"):
        info = json.loads((tmp_path / ".lock").read_text())
        assert info["pid"] == os.getpid() and info["command"] == "eqspike train"
        with pytest.raises(locks.LockBusy, match=f"another eqspike train .*pid {os.getpid()}"):
            with locks.hold(tmp_path, "eqspike train"):
                pass
        assert locks.holder(tmp_path)["pid"] == os.getpid()
    assert locks.holder(tmp_path) is None
    assert (tmp_path / ".lock").read_text() == ""   # released cleanly: not reported stale
    # a lock file left by a killed process (its pid recorded, no flock held): stale
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text(json.dumps({"pid": dead.pid, "command": "eqspike run"}))
    capsys.readouterr()
    with locks.hold(tmp_path, "eqspike run"):
        pass
    assert "stale lock" in capsys.readouterr().err


# ----------------------------------------------------------------------------- cache entries
def test_cache_entry_is_complete_or_absent(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with cache.building("device", "k1", tmp_path) as d:
            (d / "profile.json").write_text("{}")
            raise KeyboardInterrupt          # killed while drawing the plots
    assert cache.lookup("device", "k1", tmp_path) is None
    assert os.listdir(tmp_path / "device") == []          # no temp folder left either
    old = cache.entry_dir("device", "k1", tmp_path)   # a folder of an older version, no marker
    old.mkdir()
    (old / "profile.json").write_text("{}")
    assert cache.lookup("device", "k1", tmp_path) is None
    with cache.building("device", "k1", tmp_path) as d:
        (d / "profile.json").write_text("{}")
        (d / "pulses.png").write_bytes(b"png")
    hit = cache.lookup("device", "k1", tmp_path, ("profile.json", "pulses.png"))
    assert hit is not None and (hit / "pulses.png").read_bytes() == b"png"


def test_device_characterize_killed_while_plotting_leaves_no_cache_entry(tmp_path, monkeypatch):
    from eqspike.devices import characterize as ch
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path / "cache"))

    def killed(*a, **k):
        raise KeyboardInterrupt
    with monkeypatch.context() as m:
        m.setattr(ch, "plot_train", killed)
        with pytest.raises(KeyboardInterrupt):
            ch.characterize("taox_rram", n_pulses=8, iv=False)
    assert list((tmp_path / "cache" / "device").iterdir()) == []
    res = ch.characterize("taox_rram", n_pulses=8, iv=False)
    assert not res.cached and res.files["pulses_png"].exists()
    again = ch.characterize("taox_rram", n_pulses=8, iv=False, out_dir=tmp_path / "out")
    assert again.cached and (tmp_path / "out" / "pulses.png").exists()


# ----------------------------------------------------------------------------- train folders
@pytest.mark.slow
def test_train_refuses_a_finished_run_and_overwrite_leaves_no_stale_file(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    args = ["train", "--data-dir", str(mnist_dir), "--out", str(out)] + TRAIN_TINY
    assert main(args) == 0
    before = (out / "checkpoint.npz").read_bytes()
    (out / "stale_from_earlier.csv").write_text("old")
    capsys.readouterr()
    assert main(args + ["--rule", "eqspike"]) == 2
    _one_line_error(capsys.readouterr().err, "--overwrite", "--resume", str(out))
    assert (out / "checkpoint.npz").read_bytes() == before
    assert json.loads((out / "config.json").read_text())["config"]["rule"] == "cep"
    assert main(args + ["--rule", "eqspike", "--overwrite"]) == 0
    assert not (out / "stale_from_earlier.csv").exists()
    assert json.loads((out / "config.json").read_text())["config"]["rule"] == "eqspike"


@pytest.mark.slow
def test_two_concurrent_trains_into_one_folder_the_second_is_refused(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    env = {**os.environ, "EQSPIKE_DATA_DIR": str(mnist_dir.parent)}
    first = subprocess.Popen(EQSPIKE + ["train", "--out", str(out), "--data-dir", str(mnist_dir),
                                        "--sizes", "784,50,10", "--n-train", "20000", "--epochs", "3",
                                        "--no-progress"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t0 = time.monotonic()
        while not locks.holder(out) and time.monotonic() - t0 < 120:
            assert first.poll() is None, first.stderr.read().decode()
            time.sleep(0.2)
        assert locks.holder(out)["pid"] == first.pid
        capsys.readouterr()
        assert main(["train", "--out", str(out), "--data-dir", str(mnist_dir), "--rule", "eqspike",
                     "--overwrite"] + TRAIN_TINY) == 2
        _one_line_error(capsys.readouterr().err, "another eqspike train", f"pid {first.pid}")
        assert main(["train", "--out", str(out), "--data-dir", str(mnist_dir), "--resume"]) == 2
        assert "Traceback" not in capsys.readouterr().err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        first.stderr.close()
    # the killed writer's lock is stale: the folder can be taken over
    assert main(["train", "--out", str(out), "--data-dir", str(mnist_dir), "--overwrite"] + TRAIN_TINY) == 0
    assert "stale lock" in capsys.readouterr().err
    assert json.loads((out / "config.json").read_text())["config"]["sizes"] == [784, 8, 10]


@pytest.mark.slow
def test_truncated_and_nan_checkpoints_are_refused_in_one_line(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(mnist_dir), "--out", str(out)] + TRAIN_TINY) == 0
    ck = out / "checkpoint.npz"
    good = ck.read_bytes()
    ck.write_bytes(good[: len(good) // 2])
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(out), "--epochs", "2", "--data-dir", str(mnist_dir)]) == 2
    _one_line_error(capsys.readouterr().err, "unreadable or incomplete", "checkpoint.npz")
    # a checkpoint holding NaN weights is refused before an epoch is trained
    with np.load(__import__("io").BytesIO(good)) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["W_0"] = arrays["W_0"].copy()
    arrays["W_0"][0, 0] = np.nan
    np.savez(ck, **arrays)
    t0 = time.perf_counter()
    assert main(["train", "--resume", "--out", str(out), "--epochs", "2", "--data-dir", str(mnist_dir)]) == 2
    _one_line_error(capsys.readouterr().err, "NaN", "W[0]")
    assert len((out / "metrics.csv").read_text().splitlines()) == 2   # header + epoch 1: nothing trained
    assert time.perf_counter() - t0 < 30


def test_oversized_network_is_refused_before_allocating(tmp_path, mnist_dir, capsys):
    out = tmp_path / "big"
    # ~2e11 weights: terabytes, refused by the memory estimate
    assert main(["train", "--sizes", "784,10000000,10000", "--out", str(out),
                 "--data-dir", str(mnist_dir), "--no-progress"]) == 2
    _one_line_error(capsys.readouterr().err, "memory", "refused before allocating")
    assert not out.exists()
    assert main(["train", "--sizes", "784,100000000,10", "--out", str(out)]) == 2
    _one_line_error(capsys.readouterr().err, "sizes", "10000000")
    assert main(["run", "--hidden", "10000000", "--out", str(out)]) == 2
    _one_line_error(capsys.readouterr().err, "memory")
    assert not out.exists()


# ----------------------------------------------------------------------------- bounds, non-finite
def test_stdp_span_above_its_bound_and_non_finite_amplitude_refused(tmp_path, capsys):
    from eqspike.network.cli_stdp import MAX_SPAN
    out = tmp_path / "stdp"
    assert main(["stdp", "--out", str(out), "--span", "100000000"]) == 2
    _one_line_error(capsys.readouterr().err, "span", str(MAX_SPAN))
    for bad in ("nan", "inf", "-inf"):
        assert main(["stdp", "--out", str(out), f"--amplitude={bad}"]) == 2
        _one_line_error(capsys.readouterr().err, "--amplitude", "finite")
    assert not out.exists()
    assert main(["stdp", "--out", str(out), "--span", "3", "--pairing", "both"]) == 0
    assert main(["stdp", "--out", str(out), "--span", "3", "--pairing", "both"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_non_finite_float_options_refused_for_every_command(capsys):
    for argv in (["run", "--beta", "nan"], ["train", "--beta", "inf"], ["run", "--lr", "0.1,nan"],
                 ["device", "variability", "--model", "taox_rram", "--out", "x", "--d2d-sigma", "nan"],
                 ["sweep", "run", "spec.toml", "--connect-timeout", "inf"]):
        assert main(argv) == 2, argv
        _one_line_error(capsys.readouterr().err, "finite")


def test_run_checks_w_max_and_set_before_any_work(tmp_path, capsys, monkeypatch):
    from eqspike.network import hardware

    def no_work(*a, **k):
        raise AssertionError("ngspice / MNIST reached before the options were checked")
    monkeypatch.setattr(hardware, "load_device", no_work)
    out = tmp_path / "r"
    assert main(["run", "--w-max", "0.1,0.2,0.3", "--out", str(out)]) == 2
    _one_line_error(capsys.readouterr().err, "--w-max", "3 values", "2 weight layers")
    with pytest.raises(SystemExit) as e:
        main(["run", "--set", "pairing", "--out", str(out)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "KEY=VALUE" in err and "_rule_param" not in err
    assert not out.exists()


def test_circuit_characterize_unknown_name_lists_every_circuit(tmp_path, capsys):
    assert main(["circuit", "characterize", "--circuit", "foo", "--out", str(tmp_path / "c")]) == 2
    _one_line_error(capsys.readouterr().err, "crossbar_column", "axon_hillock", "'foo'")


# ----------------------------------------------------------------------------- ngspice missing
_NO_NGSPICE = """
from eqspike import spice
names = []
for _ in range(3):
    try:
        spice.run_netlist("t\\nR1 a 0 1\\nV1 a 0 1\\n.op\\n.end")
    except Exception as e:
        names.append(type(e).__name__)
print(names)
"""


def _env_without_ngspice(tmp_path):
    return {**os.environ, "NGSPICE_LIBRARY_PATH": str(tmp_path / "no" / "libngspice.so.0"),
            "EQSPIKE_CACHE_DIR": str(tmp_path / "cold-cache")}


def test_ngspice_missing_one_line_with_install_hint_and_later_calls_not_poisoned(tmp_path):
    env = _env_without_ngspice(tmp_path)
    r = subprocess.run([sys.executable, "-c", _NO_NGSPICE], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.stdout.strip() == "['SpiceUnavailable', 'SpiceUnavailable', 'SpiceUnavailable']", r.stderr
    for argv in (["device", "characterize", "--model", "taox_rram", "--out", str(tmp_path / "d")],
                 ["device", "variability", "--model", "taox_rram", "--devices", "2",
                  "--out", str(tmp_path / "v")],
                 ["circuit", "characterize", "--circuit", "axon_hillock", "--points", "3",
                  "--out", str(tmp_path / "c")],
                 ["run", "--device", "taox_rram", "--out", str(tmp_path / "r"), "--n-train", "20"]):
        r = subprocess.run(EQSPIKE + argv, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode != 0, argv
        _one_line_error(r.stderr, "ngspice", "apt-get install")
        assert "CDefError" not in r.stderr and "OSError" not in r.stderr


def test_sweep_without_ngspice_every_point_says_so_no_cdef_error(tmp_path):
    spec = tmp_path / "dev.toml"
    spec.write_text('[sweep]\nname = "dev"\npoint = "eqspike_device"\n[sweep.vary]\n'
                    'w_max = [0.5, 1.0]\n[base]\nneuron = "ideal"\ncrossbar = "ideal"\n')
    env = _env_without_ngspice(tmp_path)
    r = subprocess.run(EQSPIKE + ["sweep", "run", str(spec), "--out", str(tmp_path / "res"),
                                  "--workers", "0", "--no-progress"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "2 of 2 point(s) failed" in r.stderr and "Traceback" not in r.stderr
    from eqspike.sweeps.store import read_results
    df = read_results(tmp_path / "res")
    assert (df.status == "failed").all() and len(df) == 2
    for err in df.error:       # the second point too: the same clear reason, not cffi's
        assert err.startswith("SpiceUnavailable") and "apt-get install" in err, err
        assert "CDefError" not in err


# ----------------------------------------------------------------------------- sweeps
def _toy_spec(tmp_path, vary="x = [0.5, 0.7]", base="fail_x_above = 0.1", name="t"):
    p = tmp_path / f"{name}.toml"
    p.write_text(f'[sweep]\nname = "{name}"\npoint = "toy"\n[sweep.vary]\n{vary}\n[base]\n{base}\n')
    return p


def test_a_sweep_whose_points_all_failed_exits_non_zero_with_the_count(tmp_path, capsys):
    spec = _toy_spec(tmp_path)
    assert main(["sweep", "run", str(spec), "--out", str(tmp_path / "res"), "--workers", "0",
                 "--no-progress"]) == 1
    assert "2 of 2 point(s) failed" in capsys.readouterr().err
    ok = _toy_spec(tmp_path, base="noise = 0.0", name="ok")
    assert main(["sweep", "run", str(ok), "--out", str(tmp_path / "ok"), "--workers", "0",
                 "--no-progress"]) == 0
    # another sweep's folder is refused, not mixed
    assert main(["sweep", "run", str(ok), "--out", str(tmp_path / "res"), "--workers", "0"]) == 2
    _one_line_error(capsys.readouterr().err, "holds the results of sweep 't'", "--overwrite")


def test_spec_value_in_base_and_vary_and_bad_device_model_refused_at_load(tmp_path):
    from eqspike.sweeps.spec import load_spec, loads_spec
    with pytest.raises(ParameterError, match=r"sweep.vary.x: also given in \[base\]"):
        load_spec(_toy_spec(tmp_path, base="x = 0.1"))
    for bad, match in (('device_model = "nope"', "nope"),
                       ('device_params = "r_series_ohm=-5"', "r_series_ohm"),
                       ('device_params = "no_such=1"', "no_such")):
        text = (f'[sweep]\npoint = "eqspike_device"\n[sweep.vary]\nw_max = [0.5, 1.0]\n'
                f'[base]\n{bad}\n')
        with pytest.raises(ParameterError, match=match):
            loads_spec(text)
    with pytest.raises(ParameterError, match="repeats"):
        loads_spec('[sweep]\npoint = "toy"\nrepeats = 1000000000000\n[sweep.vary]\nx = [0.1]\n')


def test_disk_full_while_writing_is_one_line(tmp_path, capsys, monkeypatch):
    import errno
    from eqspike import atomic

    def full(path, df):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(atomic, "write_csv", full)
    assert main(["stdp", "--out", str(tmp_path / "s"), "--span", "2"]) == 2
    _one_line_error(capsys.readouterr().err, "No space left on device", "stdp_")


def test_run_refused_for_a_bad_profile_leaves_no_folder(tmp_path, capsys):
    from eqspike.devices.profile import DeviceProfile
    p = DeviceProfile.from_neurosim(1.0, -1.0, 16, write_energy_J=1e-12, name="nan16")
    d = json.loads(p.to_json(tmp_path / "ok.json").read_text())
    d["write_energy_up_J"] = float("nan")
    (tmp_path / "nan.json").write_text(json.dumps(d))
    out = tmp_path / "rep"
    assert main(["run", "--device", str(tmp_path / "nan.json"), "--neuron", "ideal", "--crossbar",
                 "ideal", "--out", str(out), "--no-progress"]) == 2
    _one_line_error(capsys.readouterr().err, "write_energy_up_J", "nan")
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    ["train", "--sizes", "784,8,10"],
    ["run", "--hidden", "8", "--neuron", "ideal", "--crossbar", "ideal"],
    ["compare", "--hidden", "8", "--neuron", "ideal", "--crossbar", "ideal"],
    ["device", "characterize", "--model", "taox_rram"],
], ids=lambda a: " ".join(a[:2]))
def test_commands_that_lock_refuse_a_folder_another_process_is_writing(argv, tmp_path, capsys,
                                                                         monkeypatch):
    from eqspike import datasets, spice

    def no_work(*a, **k):
        raise AssertionError("work started in a locked folder")
    monkeypatch.setattr(spice, "run_netlist", no_work)
    monkeypatch.setattr(datasets, "load_dataset", no_work)
    out = tmp_path / "busy"
    with locks.hold(out, "eqspike other-writer"):   # held through another open file: as another process
        assert main(argv + ["--out", str(out)]) == 2
        _one_line_error(capsys.readouterr().err, "another", "is writing to")
