"""``eqspike run`` and ``eqspike compare`` end to end on a tiny network (no ngspice:
profiles from files and the analytic stand-ins)."""
import json

import pandas as pd
import pytest

from eqspike.cli import main

pytestmark = pytest.mark.slow  # trains tiny networks on MNIST (first call compiles numba kernels)


TINY = ["--n-train", "60", "--n-test", "40", "--epochs", "1", "--hidden", "12", "--T1", "20",
        "--T2", "8", "--neuron", "ideal", "--crossbar", "ideal", "--no-progress"]


def test_run_writes_report_folder(tmp_path, mnist_dir, profile_json, capsys):
    out = tmp_path / "rep"
    rc = main(["run", "--device", profile_json, "--data-dir", str(mnist_dir), "--out", str(out)] + TINY)
    assert rc == 0
    for f in ("report.md", "energy_breakdown.csv", "energy_breakdown.png", "gpu_comparison.csv",
              "gpu_ratio.png", "device_pulse_response.png", "neuron_fi.png", "metrics.csv",
              "energy_summary.json", "device_profile.json"):
        assert (out / f).exists(), f
    s = json.loads((out / "energy_summary.json").read_text())
    assert s["energy_per_training_example_J"] > s["energy_per_inference_J"] > 0
    text = (out / "report.md").read_text()
    assert "Test accuracy" in text and "Assumptions" in text and "nl1_64" in text
    bd = pd.read_csv(out / "energy_breakdown.csv")
    assert {"inference", "free", "nudged", "write"} <= set(bd.phase)
    # the default pulse policy keeps a digital residual per synapse: priced and stated
    assert "accumulator updates" in set(bd.component)
    assert "accumulate policy" in text
    assert "report:" in capsys.readouterr().out
    # every block on the chip has its rows; every baseline its rows; conservative ratio first
    assert {"bias generators", "read-out hold", "read-out conveyance", "row wire",
            "neuron active floor"} <= set(bd.component)
    gpu = pd.read_csv(out / "gpu_comparison.csv")
    assert {"same EP relaxation", "feed-forward + backprop", "published neuromorphic",
            "published analog in-memory"} <= set(gpu.baseline)
    assert "The inference chip a user would pick instead" in text
    head = next(line for line in text.splitlines() if line.startswith("- vs GPU:"))
    assert head.index("best digital alternative") < head.index("same EP relaxation")
    assert "NOT met" in text or "MET" in text
    acc = bd[bd.component == "accumulator updates"]
    assert (acc.unit_energy_J == 0.9e-12).all() and (acc["count"] > 0).all()
    # --accumulator-energy reaches the ledger; a negative one is refused before any folder exists
    out2 = tmp_path / "rep2"
    assert main(["run", "--device", profile_json, "--data-dir", str(mnist_dir), "--out", str(out2),
                 "--accumulator-energy", "5e-14"] + TINY) == 0
    bd2 = pd.read_csv(out2 / "energy_breakdown.csv")
    assert (bd2[bd2.component == "accumulator updates"].unit_energy_J == 5e-14).all()
    capsys.readouterr()
    assert main(["run", "--device", profile_json, "--data-dir", str(mnist_dir),
                 "--out", str(tmp_path / "never"), "--accumulator-energy", "-1"] + TINY) == 2
    err = capsys.readouterr().err
    assert "--accumulator-energy" in err and "-1" in err and "Traceback" not in err
    assert not (tmp_path / "never").exists()


def test_compare_refuses_bad_profile_and_compares_good_ones(tmp_path, mnist_dir, profile_json, capsys):
    bad = json.loads(open(profile_json).read())
    bad["g_max_uS"] = bad.pop("g_max_S")
    bad_path = tmp_path / "bad.json"
    bad_path.write_text(json.dumps(bad))
    rc = main(["compare", "--profile", str(bad_path), "--data-dir", str(mnist_dir),
               "--out", str(tmp_path / "c0")] + TINY)
    assert rc == 2
    err = capsys.readouterr().err
    assert "g_max_uS" in err and "g_max_S" in err and "Traceback" not in err
    rc = main(["compare", "--profile", profile_json, "--data-dir", str(mnist_dir),
               "--out", str(tmp_path / "c1")] + TINY)
    assert rc == 0
    df = pd.read_csv(tmp_path / "c1" / "compare.csv")
    assert df["synapses"].tolist() == ["ideal", "nl1_64"]
    assert (tmp_path / "c1" / "compare.png").exists()
    assert df.loc[0, "write_energy_per_training_example_J"] == 0
    assert df.loc[1, "write_energy_per_training_example_J"] > 0
