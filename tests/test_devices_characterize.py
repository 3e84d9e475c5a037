"""Characterisation orchestration, cache, default profiles, CLI, variability (real ngspice)."""
import numpy as np
import pytest

from eqspike.cli import main
from eqspike.devices.characterize import characterize, default_profile
from eqspike.devices.profile import DeviceProfile
from eqspike.devices.variability import monte_carlo

pytestmark = pytest.mark.spice


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_characterize_writes_and_caches(tmp_path, cache):
    out = tmp_path / "out"
    r1 = characterize("vteam", n_pulses=20, out_dir=out)
    assert not r1.cached
    for f in ("profile.json", "pulses.parquet", "iv.parquet", "metrics.json", "pulses.png", "iv.png"):
        assert (out / f).exists(), f
    prof = DeviceProfile.from_json(out / "profile.json")
    assert prof == r1.profile
    assert prof.provenance["netlist_hash"] and prof.provenance["ngspice_version"]
    assert prof.provenance["parameters"]["r_on_ohm"] == 50.0
    assert set(r1.pulses.columns) >= {"pulse", "direction", "conductance_S", "write_energy_J", "amplitude_V"}
    r2 = characterize("vteam", n_pulses=20)
    assert r2.cached and r2.profile == r1.profile
    # a changed parameter changes the netlist hash: not served from the cache
    r3 = characterize("vteam", n_pulses=20, overrides={"r_off_ohm": 2000.0}, iv=False)
    assert not r3.cached and r3.profile.g_min_S < r1.profile.g_min_S


def test_default_profiles(cache):
    taox = default_profile("taox_rram")
    assert taox.n_levels == 128 and taox.n_pulses == 127
    assert 0.5e-6 <= taox.g_min_S and taox.g_max_S <= 20e-6
    assert taox.c2c_sigma == pytest.approx(0.037) and "c2c_source" in taox.provenance
    assert taox.write_energy_up_J > 0 and taox.pulse_up_V == pytest.approx(1.6)
    G = np.linspace(taox.g_min_S, taox.g_max_S, 9)
    assert np.all(taox.dg_up(G) >= 0) and np.all(taox.dg_down(G) >= 0)
    fe = default_profile("fefet")
    assert fe.n_levels == 32 and fe.model == "fefet"


def test_cli_list_and_characterize(tmp_path, cache, capsys):
    assert main(["device", "list"]) == 0
    out = capsys.readouterr().out
    assert "taox_rram" in out and "r_series_ohm" in out and "ohm" in out
    assert main(["device", "characterize", "--model", "ftj", "--pulses", "10", "--no-iv",
                 "--out", str(tmp_path / "ftj")]) == 0
    assert DeviceProfile.from_json(tmp_path / "ftj" / "profile.json").n_pulses == 10
    for bad in (["--drive", "pulse_width_s=-1e-9"], ["--pulses", "0"], ["--param", "g_on_S=nan"],
                ["--param", "bogus=1"]):
        assert main(["device", "characterize", "--model", "ftj", "--out", str(tmp_path / "x"), *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("eqspike: error:") and "Traceback" not in err


def test_cli_characterize_yakopcic(tmp_path, cache, capsys):
    """The Yakopcic model end to end through the CLI: profile, pinched loop, many levels."""
    import json
    out = tmp_path / "yk"
    assert main(["device", "characterize", "--model", "yakopcic", "--pulses", "30", "--out", str(out)]) == 0
    assert "yakopcic" in capsys.readouterr().out
    prof = DeviceProfile.from_json(out / "profile.json")
    assert prof.model == "yakopcic" and prof.n_pulses == 30 and prof.n_levels >= 25
    assert prof.g_max_S > 1.5 * prof.g_min_S and prof.write_energy_up_J > 0
    assert prof.provenance["parameters"]["a_p_per_s"] == 4000.0
    m = json.loads((out / "metrics.json").read_text())
    assert m["iv"]["pinch_ratio"] < 0.01 and m["iv"]["max_branch_ratio"] > 2
    assert main(["device", "characterize", "--model", "yakopcic", "--param", "x_p=1.2",
                 "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "x_p" in err and "Traceback" not in err


def test_variability_strategies_agree():
    kw = dict(n_devices=3, n_pulses=10, d2d_sigma=0.2, seed=5)
    a = monte_carlo("vteam", strategy="one_netlist", **kw)
    b = monte_carlo("vteam", strategy="per_device", workers=2, **kw)
    assert np.allclose(a.conductance_S, b.conductance_S, rtol=1e-4)
    assert a.summary["d2d_g_max_rel"] > 0.01  # the d2d spread shows up
    assert set(a.table.columns) >= {"device", "pulse", "conductance_S", "write_energy_J"}


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err
    assert err.startswith("eqspike: error:") and "Traceback" not in err and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)


def test_cli_bad_out_and_out_of_range_counts(tmp_path, cache, capsys):
    """Used to fail: an unwritable --out gave a FileNotFoundError/FileExistsError traceback
    (after the ngspice run), --pulses 100000000 hung building the netlist, and variability
    --workers -1 / --seed -1 gave ValueError tracebacks from concurrent.futures / numpy."""
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    base = ["device", "characterize", "--model", "ftj", "--no-iv"]
    assert main([*base, "--pulses", "5", "--out", str(a_file)]) == 2
    _one_line_error(capsys, "--out", str(a_file), "not a folder")
    assert main([*base, "--pulses", "5", "--out", str(a_file / "sub")]) == 2
    _one_line_error(capsys, "--out", "cannot create")
    assert main([*base, "--pulses", "100000000", "--out", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, "n_pulses", "100000000", "[2, 10000]")
    var = ["device", "variability", "--model", "vteam", "--devices", "2", "--pulses", "3"]
    for bad, words in ((["--workers", "-1"], ("workers", "-1", "[1, 1024]")),
                       (["--seed", "-1"], ("seed", "-1", "[0, inf)")),
                       (["--pulses", "100000000"], ("n_pulses", "100000000", "[1, 10000]"))):
        assert main([*var, *bad, "--out", str(tmp_path / "v")]) == 2
        _one_line_error(capsys, *words)
        assert not (tmp_path / "v").exists()   # the refused run leaves no empty folder
    assert main([*var, "--out", str(a_file)]) == 2
    _one_line_error(capsys, "--out", "not a folder")
    # a bad parameter is reported before any output folder is made
    assert main([*base, "--drive", "pulse_width_s=-1", "--out", str(tmp_path / "never")]) == 2
    _one_line_error(capsys, "pulse_width_s", "-1", "(0, 1] s")
    assert not (tmp_path / "never").exists()


def test_cli_help_names_units_and_defaults(capsys):
    for sub in ("characterize", "variability", "fit", "list"):
        with pytest.raises(SystemExit):
            main(["device", sub, "--help"])
        out = capsys.readouterr().out
        assert "(default: None)" not in out and "(default: [])" not in out
    with pytest.raises(SystemExit):
        main(["device", "characterize", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for w in ("pulse_width_s, rise_s, read_s, gap_s (s)", "[2, 10000]", "default: the model's", "[0, 1]"):
        assert w in out, w
