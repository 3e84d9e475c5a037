"""``eqspike run --resume``: an interrupted main job continues with its device
synapses, neuron transfer and ledger counts, to the same result as an
uninterrupted run; ``train --resume`` refuses such a folder."""
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from eqspike.cli import main
from eqspike.devices.profile import DeviceProfile
from eqspike.network import cli_run

pytestmark = pytest.mark.slow  # trains tiny networks on MNIST

TINY = ["--n-train", "60", "--n-test", "40", "--epochs", "2", "--hidden", "12", "--T1", "20",
        "--T2", "8", "--neuron", "ideal", "--crossbar", "ideal", "--no-progress", "--seed", "3"]
TIMING = ("seconds", "eval_seconds")


@pytest.fixture
def noisy_device(tmp_path):
    # c2c and d2d noise: the synapses' RNG, device states and residuals must all resume
    p = DeviceProfile.from_neurosim(1.0, -1.0, 64, write_energy_J=1e-12, c2c_sigma=0.02,
                                    d2d_sigma=0.05, name="noisy64")
    return str(p.to_json(tmp_path / "dev.json"))


def _interrupt_after_first_epoch(monkeypatch):
    real = cli_run._epoch_printer

    def printer(cfg, label=""):
        inner = real(cfg, label)

        def on_epoch(row, net):
            inner(row, net)
            if int(row["epoch"]) == 1:
                raise KeyboardInterrupt   # as a Ctrl-C right after epoch 1's checkpoint
        return on_epoch
    monkeypatch.setattr(cli_run, "_epoch_printer", printer)


def test_run_interrupted_after_epoch_1_resumes_to_the_uninterrupted_result(
        tmp_path, mnist_dir, noisy_device, monkeypatch, capsys):
    base = ["run", "--device", noisy_device, "--data-dir", str(mnist_dir)] + TINY
    full, part = tmp_path / "full", tmp_path / "part"
    capsys.readouterr()
    assert main(base + ["--out", str(full)]) == 0
    # the console's GPU ratios name the same references as the report's headline
    # (and the README's: H100)
    printed = capsys.readouterr().out
    head = next(l for l in (full / "report.md").read_text().splitlines() if l.startswith("- vs GPU:"))
    assert head[2:].replace("**", "") in printed
    assert "NVIDIA H100" in head and "NVIDIA H100" in printed

    with monkeypatch.context() as m:
        _interrupt_after_first_epoch(m)
        assert main(base + ["--out", str(part)]) == 130
    assert len(pd.read_csv(part / "metrics.csv")) == 1 and not (part / "report.md").exists()

    # without --resume the folder is refused, not overwritten
    capsys.readouterr()
    assert main(base + ["--out", str(part)]) == 2
    assert "--resume" in capsys.readouterr().err

    # train --resume must not continue it without its device synapses and neuron curve
    assert main(["train", "--resume", "--out", str(part), "--data-dir", str(mnist_dir),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "run --resume" in err and "Traceback" not in err

    assert main(["run", "--resume", "--out", str(part), "--no-progress", "--data-dir", str(mnist_dir)]) == 0
    a = pd.read_csv(full / "metrics.csv").drop(columns=list(TIMING))
    b = pd.read_csv(part / "metrics.csv").drop(columns=list(TIMING))
    assert len(b) == 2
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    sa = json.loads((full / "energy_summary.json").read_text())
    sb = json.loads((part / "energy_summary.json").read_text())
    assert sa == sb            # every ledger figure, to the last digit
    pd.testing.assert_frame_equal(pd.read_csv(full / "energy_breakdown.csv"),
                                  pd.read_csv(part / "energy_breakdown.csv"), check_exact=True)
    with np.load(full / "checkpoint.npz") as za, np.load(part / "checkpoint.npz") as zb:
        for k in za.files:
            if k.startswith(("W_", "b_", "syn__dev_u", "syn__dev_resid")):
                np.testing.assert_array_equal(za[k], zb[k], err_msg=k)
    assert (part / "report.md").exists()

    # kill -9 of a separate process once epoch 1 is on disk (epoch 2 running or done)
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "eqspike"] + base[:] + ["--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while not (killed / "metrics.csv").exists() and proc.poll() is None and time.monotonic() - t0 < 300:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert main(["run", "--resume", "--out", str(killed), "--no-progress"]) == 0
    c = pd.read_csv(killed / "metrics.csv").drop(columns=list(TIMING))
    pd.testing.assert_frame_equal(a, c, check_exact=True)
    assert json.loads((killed / "energy_summary.json").read_text()) == sa


def test_run_resume_refuses_changed_options_and_non_run_folders(tmp_path, mnist_dir, noisy_device,
                                                                  monkeypatch, capsys):
    part = tmp_path / "part"
    base = ["run", "--device", noisy_device, "--data-dir", str(mnist_dir)] + TINY
    with monkeypatch.context() as m:
        _interrupt_after_first_epoch(m)
        assert main(base + ["--out", str(part)]) == 130
    capsys.readouterr()
    assert main(["run", "--resume", "--out", str(part), "--hidden", "30"]) == 2
    err = capsys.readouterr().err
    assert "--hidden" in err and "saved" in err
    assert main(["run", "--resume", "--out", str(tmp_path / "nothing")]) == 2
    assert "run_args.json" in capsys.readouterr().err
    assert main(["run", "--resume", "--overwrite", "--out", str(part)]) == 2
    assert "exclude each other" in capsys.readouterr().err

    # stopped before its first checkpoint (here: in the device step, after the data was
    # located and verified): --resume starts it again
    early = tmp_path / "early"
    from eqspike.network import hardware
    real = hardware.load_device

    def stopped(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(hardware, "load_device", stopped)
    assert main(base + ["--out", str(early)]) == 130
    assert (early / "run_args.json").exists() and not (early / "checkpoint.npz").exists()
    monkeypatch.setattr(hardware, "load_device", real)
    monkeypatch.delenv("EQSPIKE_DATA_DIR", raising=False)   # the saved --data-dir is used
    assert main(["run", "--resume", "--out", str(early), "--no-progress"]) == 0
    assert "starting the run again" in capsys.readouterr().out
    assert len(pd.read_csv(early / "metrics.csv")) == 2 and (early / "report.md").exists()


def test_run_overwrite_of_another_device_report_leaves_no_stale_file(tmp_path, mnist_dir,
                                                                       noisy_device, capsys):
    out = tmp_path / "rep"
    one = ["run", "--data-dir", str(mnist_dir), "--out", str(out)] + TINY[:4] + ["--epochs", "1"] + TINY[6:]
    assert main(one + ["--device", noisy_device]) == 0
    assert (out / "device_profile.json").exists() and (out / "device_pulse_response.png").exists()
    capsys.readouterr()
    assert main(one + ["--device", "ideal"]) == 2          # refused: the folder holds a report
    assert "--overwrite" in capsys.readouterr().err
    assert main(one + ["--device", "ideal", "--overwrite"]) == 0
    # no file of the earlier device's report is left beside the new one
    assert not (out / "device_profile.json").exists()
    assert not (out / "device_pulse_response.png").exists()
    assert json.loads((out / "run_args.json").read_text())["args"]["device"] == "ideal"
