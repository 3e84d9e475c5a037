"""Many devices x many cycles -> profile with measured c2c / d2d (issue 15), and the
physics checks of both `device fit` layouts (no ngspice)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eqspike.cli import main
from eqspike.devices.fit import fit_csv
from eqspike.devices.fit_cycles import fit_cycles, read_cycles_csv, simulate_cycles
from eqspike.devices.profile import DeviceProfile
from eqspike.errors import DataError

DATA = Path(__file__).resolve().parents[1] / "devices" / "data"


@pytest.fixture(scope="module")
def truth_profile():
    return DeviceProfile.from_neurosim(1.0, -1.0, 33, 1e-6, 1e-5, c2c_sigma=0.01, d2d_sigma=0.1,
                                       pulse_up_V=1.2, pulse_down_V=-1.4, name="truth")


@pytest.mark.parametrize("seed", [0, 3])
def test_round_trip_recovers_c2c_d2d_and_bounds(tmp_path, truth_profile, seed):
    """20 devices x 5 cycles from the toolkit's own Monte Carlo -> long CSV -> fit.

    Truth = what the Monte Carlo realised (the sample spread of the 20 drawn
    device scales, the std of the drawn per-pulse noise, the bounds of the
    drawn devices); the nominal d2d of the profile must lie inside the fit's
    95 % CI (a 20-device sample cannot pin it closer than that)."""
    df, truth = simulate_cycles(truth_profile, n_devices=20, n_cycles=5, seed=seed)
    path = tmp_path / "cycles.csv"
    df.to_csv(path, index=False)
    fit = fit_cycles(path, n_boot=200, seed=seed, pulse_width_s=1e-7)
    e, ci = fit.summary["estimates"], fit.summary["ci95"]
    assert e["c2c_sigma"] == pytest.approx(truth["c2c_realised"], rel=0.15)
    assert e["d2d_sigma"] == pytest.approx(truth["d2d_realised"], rel=0.15)
    assert e["g_min_S"] == pytest.approx(truth["g_min_S"], rel=0.02)
    assert e["g_max_S"] == pytest.approx(truth["g_max_realised_S"], rel=0.02)
    assert ci["c2c_sigma"][0] <= truth_profile.c2c_sigma <= ci["c2c_sigma"][1]
    assert ci["d2d_sigma_chi2"][0] <= truth_profile.d2d_sigma <= ci["d2d_sigma_chi2"][1]
    # the profile carries them, and the mean curve keeps the labels' sign and size
    p = fit.profile
    assert p.c2c_sigma == pytest.approx(e["c2c_sigma"]) and p.d2d_sigma == pytest.approx(e["d2d_sigma"])
    assert 0.7 < p.nl_ltp < 1.4 and -1.4 < p.nl_ltd < -0.7
    # write energy = |V I| t with I = G V: computed here independently
    up = df[(df.polarity == "up") & (df.pulse > 0)]
    e_up = float((up.V_V * up.I_A).abs().groupby(up.device_id).mean().mean() * 1e-7)
    assert p.write_energy_up_J == pytest.approx(e_up, rel=1e-9)
    assert p.pulse_up_V == pytest.approx(1.2) and p.pulse_down_V == pytest.approx(-1.4)
    assert fit.summary["goodness_of_fit"]["r2_min"] > 0.9
    assert "goodness_of_fit" in p.provenance["fit"]


def test_fit_sees_more_c2c_and_d2d_when_there_is_more(truth_profile):
    """The estimates follow the data (not fixed numbers): 3x the noise, 3x the spread."""
    import dataclasses
    big = dataclasses.replace(truth_profile, c2c_sigma=0.03, d2d_sigma=0.3)
    f1 = fit_cycles(simulate_cycles(truth_profile, n_devices=12, n_cycles=3, seed=5)[0], n_boot=0)
    f3 = fit_cycles(simulate_cycles(big, n_devices=12, n_cycles=3, seed=5)[0], n_boot=0)
    r_c2c = f3.summary["estimates"]["c2c_sigma"] / f1.summary["estimates"]["c2c_sigma"]
    r_d2d = f3.summary["estimates"]["d2d_sigma"] / f1.summary["estimates"]["d2d_sigma"]
    assert 2.5 < r_c2c < 3.5 and 2.5 < r_d2d < 3.5


def test_shipped_example_and_template_fit_from_the_cli(tmp_path, capsys):
    for name in ("cycles_example.csv", "cycles_template.csv"):
        out = tmp_path / name
        assert main(["device", "fit", str(DATA / name), "--out", str(out), "--bootstrap", "50"]) == 0
        for f in ("profile.json", "fit_summary.json", "fit_devices.csv", "fit.csv", "fit.png"):
            assert (out / f).exists(), (name, f)
        DeviceProfile.from_json(out / "profile.json")
    s = json.loads((tmp_path / "cycles_example.csv" / "fit_summary.json").read_text())
    assert s["n_devices"] == 8 and "d2d_sigma" in s["ci95"]
    text = capsys.readouterr().out
    assert "c2c" in text and "95 % CI" in text and "R^2" in text


def _long(tmp_path, df, name="x.csv"):
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


@pytest.fixture
def small(truth_profile):
    return simulate_cycles(truth_profile, n_devices=3, n_cycles=2, n_pulses=8, seed=0,
                           with_iv=False)[0]


def test_swapped_polarity_refused(tmp_path, small):
    df = small.copy()
    m = df.device_id == "d01"
    df.loc[m, "polarity"] = df.loc[m, "polarity"].map({"up": "down", "down": "up"})
    with pytest.raises(DataError, match=r"device 'd01': 'up' trains fall on average.*swapped"):
        read_cycles_csv(_long(tmp_path, df))


def test_duplicates_refused_or_merged(tmp_path, small, capsys):
    df = pd.concat([small, small.iloc[[5]].assign(G_S=small.G_S.iloc[5] * 1.1)], ignore_index=True)
    p = _long(tmp_path, df)
    with pytest.raises(DataError, match=r"1 repeated \(device_id, cycle, polarity, pulse\).*rows \[7, "):
        read_cycles_csv(p)
    with pytest.warns(UserWarning, match="merged 1 repeated"):
        got, notes = read_cycles_csv(p, on_duplicate="merge")
    assert len(got) == len(small) and notes
    row = got[(got.device_id == small.device_id.iloc[5]) & (got.cycle == small.cycle.iloc[5]) &
              (got.polarity == small.polarity.iloc[5]) & (got.pulse == small.pulse.iloc[5])]
    assert row.G_S.iloc[0] == pytest.approx(small.G_S.iloc[5] * 1.05)
    # from the CLI: refused as one line, nothing written
    assert main(["device", "fit", str(p), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "repeated" in err and "Traceback" not in err and not (tmp_path / "never").exists()
    with pytest.warns(UserWarning, match="merged 1 repeated"):
        assert main(["device", "fit", str(p), "--out", str(tmp_path / "ok"), "--on-duplicate", "merge",
                     "--bootstrap", "0"]) == 0
    assert "warning: " in capsys.readouterr().out


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.drop(columns="G_S"), "missing column"),
    (lambda d: d.assign(G_S=d.G_S.where(d.index != 4, 5.0)), r"row 6, column 'G_S': 5.0 is outside \(0, 1\) S"),
    (lambda d: d.assign(polarity=d.polarity.where(d.index != 2, "sideways")), r"row 4, column 'polarity'"),
    (lambda d: d.assign(pulse=d.pulse.where(d.index != 3, 1.5)), r"row 5, column 'pulse'"),
    (lambda d: d[d.pulse != 4], "without gaps; found 5 where 4 was expected"),
    (lambda d: d.assign(V_V=np.where(d.index == 7, "abc", "")), r"row 9, column 'V_V': 'abc' is not a finite"),
    (lambda d: d[~((d.device_id == "d02") & (d.polarity == "down"))], "device 'd02' has only up"),
])
def test_malformed_long_csv(tmp_path, small, edit, match):
    with pytest.raises(DataError, match=match):
        read_cycles_csv(_long(tmp_path, edit(small.copy())))


# ---------------------------------------------------------------- the one-train layout
def _train(tmp_path, swap=False, dup=False):
    g = 1e-6 + np.linspace(0, 1, 20) ** 0.7 * 9e-6
    df = pd.DataFrame({"pulse": np.r_[np.arange(20), np.arange(20)],
                       "direction": ["up"] * 20 + ["down"] * 20,
                       "conductance_S": np.r_[g, g[::-1]]})
    if swap:
        df["direction"] = df["direction"].map({"up": "down", "down": "up"})
    if dup:
        df = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    p = tmp_path / "train.csv"
    df.to_csv(p, index=False)
    return p


def test_one_train_physics_checks_and_goodness_of_fit(tmp_path):
    with pytest.raises(DataError, match="'up' train lowers the conductance on average.*swapped"):
        fit_csv(_train(tmp_path, swap=True))
    with pytest.raises(DataError, match=r"1 repeated \(direction, pulse\)"):
        fit_csv(_train(tmp_path, dup=True))
    with pytest.warns(UserWarning, match="merged 1 repeated"):
        prof, data, m = fit_csv(_train(tmp_path, dup=True), on_duplicate="merge")
    assert len(data) == 40
    gof = prof.provenance["fit"]["goodness_of_fit"]
    assert 0.95 < gof["r2_ltp"] <= 1 and gof["rms_ltp_S"] >= 0 and m["r2_ltd"] == gof["r2_ltd"]


def test_read_noise_is_separated_from_c2c(truth_profile):
    """A read error as large as the c2c noise would inflate a plain residual std by
    sqrt(3) = 1.73x; the lag-1 covariance takes it out and measures it."""
    df, truth = simulate_cycles(truth_profile, n_devices=20, n_cycles=5, seed=2, read_noise_sigma=0.01)
    fit = fit_cycles(df, n_boot=0)
    e = fit.summary["estimates"]
    assert e["c2c_sigma"] == pytest.approx(truth["c2c_realised"], rel=0.15)
    assert e["read_noise_sigma"] == pytest.approx(0.01, rel=0.15)
    clean = fit_cycles(simulate_cycles(truth_profile, n_devices=20, n_cycles=5, seed=2)[0], n_boot=0)
    assert clean.summary["estimates"]["read_noise_sigma"] < 0.002
