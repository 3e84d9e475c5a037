"""DeviceProfile: validation, JSON round trip, factories, NeuroSim label mapping (no ngspice)."""
import json
import math

import numpy as np
import pytest

from eqspike.devices import neurosim as ns
from eqspike.devices.profile import DeviceProfile
from eqspike.errors import ProfileError


def test_json_round_trip(tmp_path):
    p = DeviceProfile.from_neurosim(0.04, -0.63, 128, 1e-6, 1e-5, c2c_sigma=0.037, write_energy_J=1e-12)
    path = p.to_json(tmp_path / "p.json")
    q = DeviceProfile.from_json(path)
    assert q == p
    assert q.provenance["model"] == "neurosim"
    assert np.allclose(q.dg_up(np.linspace(1e-6, 1e-5, 7)), p.dg_up(np.linspace(1e-6, 1e-5, 7)))
    assert not list(tmp_path.glob(".*tmp"))  # atomic write left no temp file


def _dict(tmp_path):
    p = DeviceProfile.ideal(n_levels=16)
    return json.loads(p.to_json(tmp_path / "p.json").read_text())


def test_missing_field_is_named(tmp_path):
    d = _dict(tmp_path)
    del d["g_max_S"]
    with pytest.raises(ProfileError, match="missing field.*g_max_S"):
        DeviceProfile.from_dict(d)


def test_wrong_unit_suffix_is_refused(tmp_path):
    d = _dict(tmp_path)
    d["g_min_uS"] = d.pop("g_min_S") * 1e6
    with pytest.raises(ProfileError, match="unknown field.*g_min_uS.*g_min_S"):
        DeviceProfile.from_dict(d)


@pytest.mark.parametrize("field,value,msg", [
    ("n_levels", "many", "n_levels"),
    ("n_levels", 1, "n_levels"),
    ("c2c_sigma", float("nan"), "c2c_sigma"),
    ("g_max_S", 2.0, "g_max_S"),
    ("pulse_down_V", 1.0, "pulse_down_V"),
    ("pulse_width_s", -1e-9, "pulse_width_s"),
    ("dg_up_S", [1e-7, -1e-7], "dg_up_S"),
    ("g_grid_S", [5e-6, 2e-6], "increasing"),
    ("name", "", "name"),
])
def test_bad_values_are_named(tmp_path, field, value, msg):
    d = _dict(tmp_path)
    d[field] = value
    with pytest.raises(ProfileError, match=msg):
        DeviceProfile.from_dict(d)


def test_from_json_bad_file(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text("{not json")
    with pytest.raises(ProfileError, match="not valid JSON"):
        DeviceProfile.from_json(f)
    with pytest.raises(ProfileError, match="cannot read"):
        DeviceProfile.from_json(tmp_path / "absent.json")


def test_ideal_constant_steps():
    p = DeviceProfile.ideal(n_levels=11, g_min_S=1e-6, g_max_S=2e-6)
    G = np.linspace(1e-6, 2e-6, 5)
    assert np.allclose(p.dg_up(G), 1e-7) and np.allclose(p.dg_down(G), 1e-7)
    train = p.pulse_train()
    assert train[10] == pytest.approx(2e-6) and train[-1] == pytest.approx(1e-6)
    assert p.nl_ltp == 0 and p.c2c_sigma == 0


def test_neurosim_label_table():
    # values of NeuroSim's getParamA table (MLP+NeuroSim V3.0): label -> A/P
    for nl, a in [(0.01, 126.268958), (0.04, 31.566827), (0.5, 2.519877), (1.0, 1.251653), (9.0, 0.022810)]:
        assert ns.nl_to_a(nl) == pytest.approx(a, rel=2e-5)
        assert ns.a_to_nl(ns.nl_to_a(-nl)) == pytest.approx(-nl, rel=1e-9)
    assert math.isinf(ns.nl_to_a(0))


def test_from_neurosim_reproduces_curve():
    n_levels, nl = 65, 2.4
    p = DeviceProfile.from_neurosim(nl, -4.88, n_levels, 1e-8, 4e-8, n_grid=513)
    train = p.pulse_train(n_up=n_levels - 1, n_down=0)
    a = ns.nl_to_a(nl)
    expect = 1e-8 + ns.curve(np.arange(n_levels) / (n_levels - 1), a) * 3e-8
    assert np.max(np.abs(train - expect)) < 0.01 * 3e-8
    # the fit recovers the label from the generated train
    a_fit, _ = ns.fit_direction((train - 1e-8) / 3e-8)
    assert ns.a_to_nl(a_fit) == pytest.approx(nl, abs=0.1)
    # saturating LTP: steps shrink with G; saturating LTD (negative label): steps grow with G
    G = np.linspace(1.1e-8, 3.9e-8, 5)
    assert np.all(np.diff(p.dg_up(G)) < 0) and np.all(np.diff(p.dg_down(G)) > 0)
    assert np.all(p.dg_up(G) >= 0) and np.all(p.dg_down(G) >= 0)


def test_from_neurosim_rejects_bad_labels():
    with pytest.raises(ProfileError, match="nl_ltp"):
        DeviceProfile.from_neurosim(float("nan"), 0, 32)
    with pytest.raises(ProfileError, match="n_levels"):
        DeviceProfile.from_neurosim(1, -1, 1)


def test_profile_files_share_one_loader(tmp_path):
    """DeviceProfile, NeuronProfile and CrossbarProfile load through eqspike.profile_io:
    same messages for a folder, a missing file, and unknown + missing fields together."""
    from eqspike.circuits.profile import CrossbarProfile, NeuronProfile
    for cls, label in ((DeviceProfile, "device profile"), (NeuronProfile, "neuron profile"),
                       (CrossbarProfile, "crossbar profile")):
        with pytest.raises(ProfileError, match=f"cannot read {label} .*does not exist"):
            cls.from_json(tmp_path / "absent.json")
        with pytest.raises(ProfileError, match=f"cannot read {label}"):
            cls.from_json(tmp_path)
        with pytest.raises(ProfileError, match="must be a JSON object"):
            cls.from_dict([1, 2])
    d = DeviceProfile.ideal(n_levels=11).to_dict()
    d["g_max_uS"] = d.pop("g_max_S")
    with pytest.raises(ProfileError, match=r"missing field\(s\): g_max_S; unknown field\(s\): 'g_max_uS'"):
        DeviceProfile.from_dict(d)
    d = DeviceProfile.ideal(n_levels=11).to_dict()
    d["schema"] = 99
    with pytest.raises(ProfileError, match="schema 99 is not supported"):
        DeviceProfile.from_dict(d)
