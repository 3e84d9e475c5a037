"""``eqspike train``: help texts, a short run with its run folder, resume, clear errors."""
import subprocess
import sys

import pandas as pd
import pytest

from eqspike.cli import main


def test_top_level_help_mentions_units_and_train():
    out = subprocess.run([sys.executable, "-m", "eqspike", "--help"], capture_output=True,
                         text=True, timeout=60).stdout
    assert "train" in out
    for unit in ("volts (V)", "siemens (S)", "joules (J)", "seconds (s)"):
        assert unit in out


def test_train_help_explains_every_option_with_units_and_defaults():
    out = subprocess.run([sys.executable, "-m", "eqspike", "train", "--help"],
                         capture_output=True, text=True, timeout=60).stdout
    flat = " ".join(out.split())
    for opt in ("--data-dir", "--dataset-name", "--out", "--resume", "--epochs", "--rule", "--sizes",
                "--T1", "--T2", "--beta", "--eps", "--lr", "--schedule", "--symmetric",
                "--no-symmetric", "--batch-size", "--n-train", "--n-test", "--seed", "--set",
                "--no-progress", "--max-weight", "--activation"):
        assert opt in out, opt
    for text in ("free-phase length in time steps (default 60)",
                 "nudged-phase length in time steps, per phase (default 20)",
                 "dimensionless, > 0 (default 0.5)", "in (0, 1] (default 0.2)",
                 "mini-batch size in images (default 20)", "(default 784,500,10)",
                 "(default 0.1,0.05)", "(default cosine)", "Rule parameters", "update",
                 "dimensionless"):
        assert text in flat, text


def test_train_run_writes_folder_and_resumes(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    common = ["--data-dir", str(mnist_dir), "--n-train", "400", "--n-test", "200",
              "--T1", "20", "--T2", "6", "--out", str(out), "--no-progress"]
    assert main(["train", "--epochs", "1", *common]) == 0
    text = capsys.readouterr().out
    assert "epoch   1/1: train acc" in text and "test acc" in text and "s/epoch" in text
    assert "final test accuracy" in text
    for name in ("config.json", "metrics.csv", "checkpoint.npz", "accuracy.png"):
        assert (out / name).is_file(), name
    # resume to 2 epochs: only --epochs given, everything else from the saved config
    assert main(["train", "--resume", "--out", str(out), "--epochs", "2",
                 "--data-dir", str(mnist_dir), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "epoch   2/2" in text and "epoch   1/" not in text
    m = pd.read_csv(out / "metrics.csv")
    assert list(m["epoch"]) == [1, 2] and (m["n_train"] == 400).all()
    assert {"train_acc", "test_acc", "seconds", "lr_0", "lr_1"} <= set(m.columns)


@pytest.mark.parametrize("argv, pattern", [
    (["--lr=-0.1,0.05"], "parameter 'lrs[0]' = -0.1 is outside"),
    (["--T2", "0"], "parameter 'T2' = 0 is outside"),
    (["--rule", "nope"], "'nope' is not a known learning rule"),
    (["--eps", "1.5"], "parameter 'eps' = 1.5"),
    (["--set", "bogus=1"], "unknown parameter(s) bogus for rule 'cep'"),
    (["--set", "update"], "expected KEY=VALUE"),
    (["--resume"], "--resume needs --out"),
])
def test_bad_parameters_one_line_error(argv, pattern, capsys, tmp_path):
    rc = main(["train", "--no-progress", "--out", str(tmp_path / "x"), *argv]
              if argv != ["--resume"] else ["train", "--resume"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("eqspike: error: ") and pattern in err
    assert "Traceback" not in err


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    rc = main(["train", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"),
               "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "does not hold the mnist files" in err


def test_unwritable_out_is_a_clear_error_before_loading_data(tmp_path, capsys):
    """Used to fail: --out naming a file (or a folder below one) raised FileExistsError /
    NotADirectoryError with a traceback after the data had been loaded."""
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for out, words in ((a_file, "not a folder"), (a_file / "run", "cannot create or write")):
        rc = main(["train", "--no-progress", "--data-dir", str(tmp_path / "nowhere"), "--out", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("eqspike: error: --out") and words in err
        assert "Traceback" not in err and "mnist" not in err


def test_help_gives_a_default_for_data_options(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: the data search order below)" in out and "(default mnist)" in out
