"""``eqspike run --resume``: an interrupted main job continues with its device
synapses, neuron transfer and ledger counts, to the same result as an
uninterrupted run; ``train --resume`` refuses such a folder."""
import json

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
