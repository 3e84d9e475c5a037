"""Fitting measured pulse CSVs to a DeviceProfile; malformed CSVs (no ngspice)."""
import numpy as np
import pandas as pd
import pytest

from eqspike.cli import main
from eqspike.devices import neurosim as ns
from eqspike.devices.fit import fit_csv, read_pulses_csv
from eqspike.devices.profile import DeviceProfile
from eqspike.errors import DataError


def _write_train(path, nl_up=2.4, nl_dn=-4.88, n=96, sigma=0.0, seed=0):
    rng = np.random.default_rng(seed)
    k = np.arange(n + 1) / n
    g0, g1 = 3.08e-9, 38.5e-9
    up = g0 + ns.curve(k, ns.nl_to_a(nl_up)) * (g1 - g0)
    dn = g0 + ns.curve(1 - k, ns.nl_to_a(nl_dn)) * (g1 - g0)
    up = up + rng.normal(0, sigma * (g1 - g0), up.size)
    dn = dn + rng.normal(0, sigma * (g1 - g0), dn.size)
    df = pd.DataFrame({"pulse": np.r_[np.arange(n + 1), np.arange(n + 1)],
                       "direction": ["up"] * (n + 1) + ["down"] * (n + 1),
                       "conductance_S": np.abs(np.r_[up, dn]) + 1e-12})
    df.to_csv(path, index=False)
    return path


def test_fit_recovers_labels(tmp_path):
    path = _write_train(tmp_path / "agsi.csv")
    prof, data, m = fit_csv(path, png=str(tmp_path / "fit.png"))
    assert prof.nl_ltp == pytest.approx(2.4, abs=0.05)
    assert prof.nl_ltd == pytest.approx(-4.88, abs=0.1)
    assert prof.g_min_S == pytest.approx(3.08e-9, rel=1e-3)
    assert prof.g_max_S == pytest.approx(38.5e-9, rel=1e-3)
    assert (tmp_path / "fit.png").stat().st_size > 1000
    assert np.all(np.abs(data["fit_conductance_S"] - data["conductance_S"]) < 1e-10)


def test_fit_estimates_c2c(tmp_path):
    path = _write_train(tmp_path / "noisy.csv", sigma=0.02, seed=1)
    prof, _, _ = fit_csv(path)
    # step noise = difference of two read noises: sqrt(2) * 0.02
    assert 0.015 < prof.c2c_sigma < 0.045
    assert prof.nl_ltp == pytest.approx(2.4, abs=0.6)


@pytest.mark.parametrize("text,match", [
    ("pulse,direction,conductance_S\n0,up,1e-6\n1,up,abc\n", r"row 3, column 'conductance_S'"),
    ("pulse,direction,conductance_S\n0,up,1e-6\nx,up,2e-6\n", r"row 3, column 'pulse'"),
    ("pulse,direction,conductance_S\n0,sideways,1e-6\n", r"row 2, column 'direction'"),
    ("pulse,direction,conductance_uS\n0,up,1\n", r"missing column.*conductance_S"),
    ("pulse,direction,conductance_S\n0,up,-1e-6\n", r"row 2, column 'conductance_S'.*outside"),
    ("pulse,direction,conductance_S\n0,up,1e-6\n1,up,2e-6\n2,up,3e-6\n0,down,3e-6\n", r"'down' rows"),
    ("", r"not a readable CSV|no data"),
])
def test_malformed_csv(tmp_path, text, match):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=match):
        read_pulses_csv(f)


def test_cli_fit(tmp_path, capsys):
    path = _write_train(tmp_path / "dev.csv")
    assert main(["device", "fit", str(path), "--out", str(tmp_path / "o")]) == 0
    prof = DeviceProfile.from_json(tmp_path / "o" / "profile.json")
    assert prof.model == "measured" and prof.n_levels > 10
    (tmp_path / "bad.csv").write_text("pulse,direction,conductance_S\n0,up,oops\n")
    assert main(["device", "fit", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "conductance_S" in err and "Traceback" not in err


def test_cli_fit_unwritable_out_is_one_line_error(tmp_path, capsys):
    """Used to fail: --out naming an existing file raised FileExistsError with a traceback."""
    path = _write_train(tmp_path / "dev.csv")
    assert main(["device", "fit", str(path), "--out", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eqspike: error: --out") and "not a folder" in err and "Traceback" not in err
    assert main(["device", "fit", str(path), "--out", str(path / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot create or write the output folder" in err and "Traceback" not in err
