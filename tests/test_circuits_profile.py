"""NeuronProfile / CrossbarProfile: validation, JSON round trip, transfer function."""
import json

import numpy as np
import pytest

from eqspike.circuits.profile import CrossbarProfile, NeuronProfile
from eqspike.errors import ProfileError


def _profile(**kw):
    base = dict(name="t", circuit="lif", input_norm=(0.0, 0.2, 0.5, 1.0),
                rate_norm=(0.0, 0.0, 0.6, 1.0), max_rate_Hz=1e5, input_scale_A=1e-9,
                threshold_current_A=2e-10, energy_per_spike_J=3e-13, leakage_power_W=1e-12,
                supply_V=1.8, energy_per_spike_vs_rate=((1e3, 1e-12), (1e5, 3e-13)),
                provenance={"circuit": "lif"})
    base.update(kw)
    return NeuronProfile(**base)


def test_transfer_interpolates_and_clips():
    p = _profile()
    x = np.array([-1.0, 0.0, 0.1, 0.35, 0.75, 1.0, 5.0], dtype=np.float32)
    y = p.transfer(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [0, 0, 0, 0.3, 0.8, 1, 1], atol=1e-6)
    assert np.all(np.diff(p.transfer(np.linspace(-1, 3, 101))) >= 0)
    np.testing.assert_allclose(p.rate_Hz(0.75e-9), 0.8e5)


def test_transfer_derivative_is_segment_slope():
    p = _profile()
    d = p.transfer_derivative(np.array([-0.5, 0.1, 0.3, 0.7, 2.0]))
    np.testing.assert_allclose(d, [0, 0, 2.0, 0.8, 0])


def test_hard_sigmoid_factory_matches_clip():
    p = NeuronProfile.ideal_hard_sigmoid(n_points=5)
    x = np.linspace(-2, 3, 57)
    np.testing.assert_allclose(p.transfer(x), np.clip(x, 0, 1), atol=1e-12)


def test_json_round_trip(tmp_path):
    p = _profile()
    path = p.to_json(tmp_path / "n.json")
    q = NeuronProfile.from_json(path)
    assert q == p
    c = CrossbarProfile.ideal(g_ref_S=2e-6, wire_energy_per_event_J=1e-16)
    c.to_json(tmp_path / "c.json")
    assert CrossbarProfile.from_json(tmp_path / "c.json") == c


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.pop("supply_V"), ["missing", "supply_V"]),
    (lambda d: d.__setitem__("max_rate_kHz", d.pop("max_rate_Hz")), ["unknown", "max_rate_kHz", "max_rate_Hz"]),
    (lambda d: d.__setitem__("energy_per_spike_J", -1.0), ["energy_per_spike_J", "-1"]),
    (lambda d: d.__setitem__("rate_norm", [0, 0.5, 0.4, 1.0]), ["rate_norm", "non-decreasing"]),
    (lambda d: d.__setitem__("input_norm", [0.1, 0.2, 0.5, 1.0]), ["input_norm", "start at 0"]),
    (lambda d: d.__setitem__("input_norm", [0.0, 0.5, 0.5, 1.0]), ["input_norm", "increasing"]),
    (lambda d: d.__setitem__("rate_norm", [0, 0.5, 1.0]), ["same length"]),
    (lambda d: d.__setitem__("rate_norm", [0, 0.5, 0.9, 1.5]), ["rate_norm[3]", "1.5"]),
])
def test_bad_profiles_name_the_field(tmp_path, mutate, words):
    d = _profile().to_dict()
    mutate(d)
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(ProfileError) as ei:
        NeuronProfile.from_json(tmp_path / "bad.json")
    for w in words:
        assert w in str(ei.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ProfileError, match="does not exist"):
        NeuronProfile.from_json(tmp_path / "nope.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ProfileError, match="not valid JSON"):
        CrossbarProfile.from_json(tmp_path / "x.json")


def test_crossbar_energy_is_v2gt_plus_wire():
    c = CrossbarProfile(read_voltage_V=0.2, read_pulse_width_s=1e-8, g_ref_S=1e-6,
                        read_energy_per_event_J=4e-16 + 1e-17, wire_energy_per_event_J=1e-17)
    G = np.array([[0.0, 1e-6], [2e-6, 5e-6]])
    np.testing.assert_allclose(c.read_energy_J(G), 0.04 * G * 1e-8 + 1e-17)
    np.testing.assert_allclose(c.read_energy_J(c.g_ref_S), c.read_energy_per_event_J)
    with pytest.raises(ProfileError, match="read_voltage_V"):
        CrossbarProfile.from_dict({**c.to_dict(), "read_voltage_V": 0.0})
