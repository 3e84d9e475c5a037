"""DeviceProfile <-> aihwkit configurations (issue 15); aihwkit itself is optional."""
import importlib.util
import runpy

import numpy as np
import pytest

from eqspike.cli import main
from eqspike.devices import aihwkit_bridge as ab
from eqspike.devices.profile import DeviceProfile
from eqspike.errors import ParameterError


def _rough_profile():
    """Steps that are not affine in G (a NeuroSim curve's are): sqrt / square laws."""
    g0, g1 = 2e-6, 2e-5
    grid = np.linspace(g0, g1, 129)
    u = (grid - g0) / (g1 - g0)
    up = 0.02 * (g1 - g0) * (1 - u) ** 2 + 1e-3 * (g1 - g0)
    dn = 0.03 * (g1 - g0) * np.sqrt(u) + 1e-3 * (g1 - g0)
    prof = DeviceProfile(name="rough", model="test", g_min_S=g0, g_max_S=g1, g_grid_S=tuple(grid),
                         dg_up_S=tuple(up), dg_down_S=tuple(dn), n_pulses=1, n_levels=2,
                         c2c_sigma=0.015, d2d_sigma=0.12)
    n = int(np.argmax(prof.pulse_train(5000, 0) >= g1 - 1e-3 * (g1 - g0)))  # pulses bottom -> top
    import dataclasses
    return dataclasses.replace(prof, n_pulses=n, n_levels=n + 1)


def _max_rel_err(p, q):
    G = np.linspace(p.g_min_S, p.g_max_S, 513)
    return [float(np.max(np.abs(a - b)) / a.max())
            for a, b in zip(ab.effective_steps(p, G), ab.effective_steps(q, G))]


@pytest.mark.parametrize("make", [
    lambda: DeviceProfile.from_neurosim(2.0, -3.0, 64, 1e-6, 1e-5, c2c_sigma=0.02, d2d_sigma=0.1),
    lambda: DeviceProfile.from_neurosim(0.0, 0.0, 32, 1e-6, 1e-5, c2c_sigma=0.0, d2d_sigma=0.0),
    _rough_profile,
    lambda: ab.import_preset("ReRamES"),
])
def test_export_import_round_trip_reproduces_dG_within_5_percent(tmp_path, make):
    p = make()
    path = ab.export_config(p, tmp_path / "dev_aihwkit.py")
    q = ab.import_config(path)
    err_up, err_dn = _max_rel_err(p, q)
    assert err_up < 0.05 and err_dn < 0.05, (err_up, err_dn)
    assert q.g_min_S == pytest.approx(p.g_min_S) and q.g_max_S == pytest.approx(p.g_max_S)
    assert q.c2c_sigma == pytest.approx(p.c2c_sigma, rel=0.05, abs=1e-9)
    assert q.d2d_sigma == pytest.approx(p.d2d_sigma, rel=1e-6, abs=1e-12)
    assert q.n_pulses == pytest.approx(p.n_pulses, rel=0.1)


def test_the_round_trip_check_can_fail(tmp_path):
    """Too few nodes for a rough table: the same comparison reports the error."""
    p = _rough_profile()
    q = ab.import_config(ab.export_config(p, tmp_path / "x.py", n_nodes=3))
    assert max(_max_rel_err(p, q)) > 0.05


def test_softbounds_export_of_a_soft_bounds_device(tmp_path):
    p = ab.import_preset("ReRamArrayOM")
    q = ab.import_config(ab.export_config(p, tmp_path / "sb.py", model="softbounds"))
    assert max(_max_rel_err(p, q)) < 0.05
    assert "SoftBoundsDevice" in (tmp_path / "sb.py").read_text()


def test_presets_follow_aihwkit_equations_and_cite_their_source():
    # ConstantStep: n_pulses = W / dw_min; c2c = dw_min_std dw_min / W (additive)
    q = ab.import_preset("GokmenVlasov")
    assert q.n_pulses == pytest.approx(2 / 0.0016, rel=0.01)
    assert q.c2c_sigma == pytest.approx(0.3 * 0.0016 / 2)
    assert q.d2d_sigma == pytest.approx(0.3) and q.nl_ltp == pytest.approx(0, abs=0.02)
    assert "Gokmen & Vlasov" in q.provenance["source"] and "4545f11" in q.provenance["source"]
    # soft bounds: the up step falls linearly to 0 at w_max
    sb = ab.import_preset("ReRamSB")
    G = np.asarray(sb.g_grid_S)
    w = -0.75 + (G - sb.g_min_S) / (sb.g_max_S - sb.g_min_S) * 2.0
    expect = 0.002 * (1 - w / 1.25) * (sb.g_max_S - sb.g_min_S) / 2.0
    assert np.allclose(sb.dg_up_S, np.maximum(expect, 0), rtol=1e-9, atol=1e-20)
    assert sb.provenance["aihwkit"]["not_modelled"]["write_noise_std"] == 56.0
    for name in ab.PRESETS:
        prof = ab.import_preset(name)
        assert prof.n_pulses >= 1 and 0 <= prof.c2c_sigma <= 1
        assert ab.PRESETS[name]["paper"] in prof.provenance["source"]


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(ParameterError, match="n_nodes"):
        ab.export_parameters(DeviceProfile.ideal(16), n_nodes=64)
    with pytest.raises(ParameterError, match="unknown; known: ReRamES"):
        ab.import_preset("ReRamXYZ")
    with pytest.raises(ParameterError, match="'g_min_S' = 2.0"):
        ab.import_preset("EcRam", g_min_S=2.0)
    assert main(["device", "aihwkit", "import", "nope", "--out", str(tmp_path / "n.json")]) == 2
    assert "unknown" in capsys.readouterr().err


def test_cli_export_and_import(tmp_path, capsys):
    src = DeviceProfile.from_neurosim(1.0, -1.0, 32, 1e-6, 1e-5, c2c_sigma=0.01).to_json(tmp_path / "p.json")
    assert main(["device", "aihwkit", "export", str(src), "--out", str(tmp_path / "dev.py")]) == 0
    assert main(["device", "aihwkit", "import", str(tmp_path / "dev.py"),
                 "--out", str(tmp_path / "back.json")]) == 0
    assert main(["device", "aihwkit", "import", "PCM", "--out", str(tmp_path / "pcm.json"),
                 "--g-min-S", "1e-7", "--g-max-S", "2e-5"]) == 0
    pcm = DeviceProfile.from_json(tmp_path / "pcm.json")
    assert pcm.g_min_S == 1e-7 and "Nandakumar" in pcm.provenance["source"]
    assert main(["device", "aihwkit", "presets"]) == 0
    assert "ReRamES" in capsys.readouterr().out
    # an existing output file is not replaced without --overwrite
    assert main(["device", "aihwkit", "import", "EcRam", "--out", str(tmp_path / "pcm.json")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert DeviceProfile.from_json(tmp_path / "pcm.json").name == "aihwkit_PCM"
    assert main(["device", "aihwkit", "import", "EcRam", "--out", str(tmp_path / "pcm.json"),
                 "--overwrite"]) == 0


@pytest.mark.skipif(importlib.util.find_spec("aihwkit") is None,
                    reason="aihwkit is not installed (optional; pip install aihwkit to run this check)")
@pytest.mark.parametrize("model", ["piecewise", "softbounds"])
def test_exported_file_builds_an_aihwkit_device(tmp_path, model):
    path = ab.export_config(DeviceProfile.from_neurosim(1.0, -1.0, 32, c2c_sigma=0.01, d2d_sigma=0.1),
                            tmp_path / "dev.py", model=model)
    dev = runpy.run_path(str(path))["device"]()
    assert type(dev).__name__ == ("PiecewiseStepDevice" if model == "piecewise" else "SoftBoundsDevice")
    from aihwkit.simulator.configs import SingleRPUConfig
    from aihwkit.simulator.tiles import AnalogTile
    AnalogTile(4, 3, SingleRPUConfig(device=dev))   # aihwkit accepts the parameters
