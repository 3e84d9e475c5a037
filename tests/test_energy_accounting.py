"""State- and rate-dependent energy figures and the blocks the ledger prices.

- the device's E(G) tables and the neuron's E(f) table reproduce the
  characterised points (ngspice) within 1 %;
- old profile files (tests/data/old_profiles: main's default-run profiles, written before these
  fields existed) still load, with a one-line note of what is assumed;
- row wire once per spike per driven line, line holds per neuron, one bias
  generator per N neurons, writes priced at the layer's conductance;
- the digital baselines: feed-forward + backprop MACs counted by hand, the
  published Loihi row, the conservative row is the cheapest digital one.
"""
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from eqspike.circuits.characterize import characterize, fit_energy_law
from eqspike.circuits.neurons import AxonHillock
from eqspike.circuits.profile import CrossbarProfile, NeuronProfile
from eqspike.devices.characterize import characterize as characterize_device
from eqspike.devices.energy import energy_vs_g_table
from eqspike.devices.profile import DeviceProfile
from eqspike.errors import ParameterError
from eqspike.network.energy import (EnergyLedger, LOIHI_REFERENCE, feedforward_macs, gpu_comparison,
                                    headline_ratios)

# profiles written before these fields existed (the default run of main before issue 12)
OLD_RUN = Path(__file__).resolve().parent / "data" / "old_profiles"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path / "cache"))


def test_write_energy_tables_reproduce_the_characterised_pulses(cache):
    res = characterize_device("taox_rram", iv=False)
    p, df = res.profile, res.pulses
    assert p.has_energy_tables
    g = df.conductance_S.to_numpy()
    e = df.write_energy_J.to_numpy()
    direction = df.direction.to_numpy()[1:]
    for name, fn in (("up", p.write_energy_up), ("down", p.write_energy_down)):
        sel = direction == name
        g_before, measured = g[:-1][sel], e[1:][sel]
        assert sel.sum() == p.n_pulses
        np.testing.assert_allclose(fn(g_before), measured, rtol=0.01)
    # the dependence is real: a pulse at g_max costs several times one at g_min
    assert p.write_energy_up(p.g_max_S) > 3 * p.write_energy_up(p.g_min_S)
    # and survives JSON
    q = DeviceProfile.from_dict(p.to_dict())
    np.testing.assert_array_equal(q.write_energy_down(g), p.write_energy_down(g))


def test_energy_vs_g_table_extrapolates_beyond_the_measured_range():
    g = np.linspace(2e-6, 5e-6, 10)
    e = 1e-12 + 4e-6 * g        # linear in G
    grid = np.linspace(1e-6, 6e-6, 7)
    np.testing.assert_allclose(energy_vs_g_table(g, e, grid), 1e-12 + 4e-6 * grid, rtol=1e-9)


def test_energy_per_spike_table_reproduces_the_characterised_rates(cache):
    c = characterize(AxonHillock(i_min_A=1e-9, i_max_A=150e-9), n_points=8, with_waveforms=False)
    prof, fi = c.profile, c.fi
    pts = fi[(fi.rate_Hz > 0) & (fi.i_in_A <= prof.input_scale_A)]
    assert len(pts) >= 6
    np.testing.assert_allclose(prof.energy_per_spike_at(pts.rate_Hz.to_numpy()),
                               pts.energy_per_spike_J.to_numpy(), rtol=0.01)
    # the law E0 + P/f and its stated fit error
    law = prof.energy_law_J(pts.rate_Hz.to_numpy())
    err = np.max(np.abs(law / pts.energy_per_spike_J.to_numpy() - 1))
    assert err == pytest.approx(prof.energy_fit_max_error, rel=1e-6)
    assert prof.active_power_W > 10 * prof.leakage_power_W    # the floor is not the leakage
    assert prof.bias_power_W == pytest.approx(AxonHillock().bias_power_W(), rel=0.01)


def test_fit_energy_law_recovers_a_known_law():
    f = np.geomspace(1e3, 1e6, 12)
    e0, p, err = fit_energy_law(f, 1.2e-13 + 5e-9 / f)
    assert e0 == pytest.approx(1.2e-13, rel=1e-9) and p == pytest.approx(5e-9, rel=1e-9) and err < 1e-9


def test_old_profile_files_load_with_a_one_line_note():
    dev = DeviceProfile.from_json(OLD_RUN / "device_profile.json")
    neu = NeuronProfile.from_json(OLD_RUN / "neuron_profile.json")
    xb = CrossbarProfile.from_json(OLD_RUN / "crossbar_profile.json")
    for p, words in ((dev, "flat"), (neu, "active floor"), (xb, "read-out")):
        note = p.assumption_note()
        assert note and "\n" not in note and words in note, note
    assert dev.write_energy_up(np.array([1e-6, 6e-6])).tolist() == [dev.write_energy_up_J] * 2
    assert neu.bias_branch_W() == pytest.approx(7.56e-7)      # from the old provenance
    assert xb.cell_wire_energy_J() == pytest.approx(xb.wire_energy_per_event_J / 128)


def _ledger(**kw):
    neuron = dataclasses.replace(NeuronProfile.ideal_hard_sigmoid(max_rate_Hz=1e6, energy_per_spike_J=1e-13),
                                 bias_power_W=1e-6)
    xb = dataclasses.replace(CrossbarProfile.ideal(read_voltage_V=0.1, read_pulse_width_s=1e-8),
                             wire_energy_per_cell_J=1e-18, readout_power_W=5e-8, readout_rest_V=0.6)
    dev = DeviceProfile.ideal(n_levels=11, g_min_S=1e-6, g_max_S=11e-6, write_energy_J=1e-12)
    dev = dev.with_energy_tables([1e-6, 11e-6], [1e-12, 11e-12], [1e-6, 11e-6], [2e-12, 12e-12])
    led = EnergyLedger((6, 4, 2), neuron, xb, dev, **kw)
    led.record({"spikes_free": [10, 6, 2], "spikes_nudged": [0, 0, 0], "steps_free": 20,
                "steps_nudged": 0}, 1, training=True)
    led.record_pulses([{"up": 3, "down": 1}, {"up": 0, "down": 0}])
    led.g_samples = [[(4e-6, 2e-6), (1e-6, 1e-6)]]
    return led


def test_ledger_prices_wire_holds_bias_and_writes():
    led = _ledger(bias_share_neurons=5)
    bd = led.breakdown().set_index(["phase", "component", "layer"]).sort_index()
    wire = bd.loc[("free", "row wire")]
    rail = (0.6 + 0.1) / 0.1
    # once per spike per driven line: W0 rows carry 2 x 4 cells, W1 rows 2 x 2, W1 columns 2 x 4
    assert wire.loc["W0 fwd", "count"] == 10 and wire.loc["W0 fwd", "unit_energy_J"] == pytest.approx(
        8 * 1e-18 * rail, rel=1e-12, abs=0)
    assert wire.loc["W1 fwd", "count"] == 6 and wire.loc["W1 bwd", "count"] == 2
    assert "W0 bwd" not in wire.index   # the clamped input integrates nothing
    dur = 20 * led.step_time_s
    hold = bd.loc[("free", "read-out hold")].iloc[0]
    assert hold["count"] == pytest.approx(2 * 6 * dur, rel=1e-12) and hold["unit_power_W"] == 5e-8
    bias = bd.loc[("free", "bias generators")].iloc[0]
    assert bias["count"] == pytest.approx(math.ceil(12 / 5) * dur, rel=1e-12) and bias["unit_power_W"] == 1e-6
    # conveyance: V_rest G V_read t per cell read, on top of the Joule heat
    conv = bd.loc[("free", "read-out conveyance", "W0")]
    assert conv["unit_energy_J"] == pytest.approx(0.6 * 6e-6 * 0.1 * 1e-8, rel=1e-12, abs=0)
    # writes on the E(G) table at the layer's mean G (3 uS): up 3 pJ, down 4 pJ
    assert bd.loc[("write", "pulses up", "W0"), "unit_energy_J"] == pytest.approx(3e-12, rel=1e-9, abs=0)
    assert bd.loc[("write", "pulses down", "W0"), "unit_energy_J"] == pytest.approx(4e-12, rel=1e-9, abs=0)
    # sharing the bias generator among more neurons lowers that term and nothing else
    bd2 = _ledger(bias_share_neurons=12).breakdown()
    b2 = bd2[bd2.component == "bias generators"].energy_J.sum()
    assert b2 == pytest.approx(bias["energy_J"] / 3, rel=1e-12)


def test_active_floor_follows_the_rate_table():
    neuron = NeuronProfile(name="n", circuit="t", input_norm=(0.0, 1.0), rate_norm=(0.0, 1.0), max_rate_Hz=1e6,
                           input_scale_A=1e-7, threshold_current_A=0.0, energy_per_spike_J=1.3e-13,
                           leakage_power_W=0.0, supply_V=1.8,
                           energy_per_spike_vs_rate=[(f, 1.2e-13 + 5e-9 / f) for f in (1e4, 1e5, 1e6)],
                           energy_fit_E0_J=1.2e-13, active_power_W=5e-9, energy_fit_max_error=0.0)
    led = EnergyLedger((4, 2), neuron, CrossbarProfile.ideal(), None, input_active_fraction=0.5)
    led.record({"spikes_free": [0, 4], "steps_free": 100}, 1, training=False)
    led.g_samples = [[(1e-6, 1e-6)]]
    bd = led.breakdown().set_index(["component", "layer"]).sort_index()
    dur = 100 * led.step_time_s               # 1e-4 s: layer 1 fires at 4 / (2 x 1e-4 s) = 2e4 Hz
    floor1 = bd.loc[("neuron active floor", "layer 1")]
    spikes1 = bd.loc[("spikes", "layer 1")]
    e_table = 4 * float(neuron.energy_per_spike_at(2e4))
    assert floor1.energy_J + spikes1.energy_J == pytest.approx(e_table, rel=1e-12)
    assert floor1["count"] == pytest.approx(2 * dur, rel=1e-12)
    # a silent layer with input still draws the fitted floor: 2 active encoders of 4
    floor0 = bd.loc[("neuron active floor", "layer 0")]
    assert floor0.energy_J == pytest.approx(5e-9 * 2 * dur, rel=1e-12)


def test_feedforward_baseline_and_conservative_row():
    m = feedforward_macs((4, 3, 2), batch_size=2)
    assert m["macs_inference"] == 18 and m["macs_training"] == 2 * 18 + 6 + 18 / 2
    df = gpu_comparison((4, 3, 2), 10, 5, 2, energy_per_inference_J=1e-12,
                        energy_per_training_example_J=1e-11, batch_size=2)
    assert set(df.baseline) == {"same EP relaxation", "feed-forward + backprop", "published neuromorphic",
                                "published analog in-memory"}
    digital = df[~df.baseline.isin(["published neuromorphic", "published analog in-memory"])]
    cons = df[df.conservative_inference].iloc[0]
    assert cons.energy_per_inference_J == digital.energy_per_inference_J.min()
    assert cons.baseline == "feed-forward + backprop"
    lo = df[df.baseline == "published neuromorphic"].iloc[0]
    assert lo.ratio_inference == pytest.approx(LOIHI_REFERENCE["energy_per_inference_J"] / 1e-12)
    # the analog inference chip: this MLP's forward pass at 12.4 TOPS/W (2 ops per MAC), no
    # training row, never the conservative (digital) row
    an = df[df.baseline == "published analog in-memory"].iloc[0]
    assert an.energy_per_inference_J == pytest.approx(18 * 2 / 12.4e12)
    assert an.ratio_inference == pytest.approx(18 * 2 / 12.4e12 / 1e-12)
    assert np.isnan(an.energy_per_training_example_J) and not an.conservative_inference
    h = headline_ratios(df)
    assert h["analog_inference"] == pytest.approx(an.ratio_inference)
    assert h["conservative_inference"] < h["same_ep_inference"]
    assert h["conservative_training"] < h["same_ep_training"]


def _law_neuron():
    return NeuronProfile(name="n", circuit="t", input_norm=(0.0, 1.0), rate_norm=(0.0, 1.0), max_rate_Hz=1e6,
                         input_scale_A=1e-7, threshold_current_A=0.0, energy_per_spike_J=1.3e-13,
                         leakage_power_W=0.0, supply_V=1.8,
                         energy_per_spike_vs_rate=[(f, 1.2e-13 + 5e-9 / f) for f in (1e3, 1e4, 1e5, 1e6)],
                         energy_fit_E0_J=1.2e-13, active_power_W=5e-9, energy_fit_max_error=0.0)


def test_active_floor_is_priced_on_the_active_neuron_steps_the_rule_reports():
    # issue 13: pricing every hidden neuron as active put the ledger 38 % above ngspice
    neuron = _law_neuron()
    led = EnergyLedger((4, 10), neuron, CrossbarProfile.ideal(), None, input_active_fraction=0.0)
    # 10 output neurons, 100 steps; 2 of them had input for 60 steps each; 50 spikes
    led.record({"spikes_free": [0, 50], "steps_free": 100, "active_free": [0, 120]}, 1, training=False)
    led.g_samples = [[(1e-6, 1e-6)]]
    bd = led.breakdown().set_index(["component", "layer"]).sort_index()
    act_s = 120 * led.step_time_s
    floor = bd.loc[("neuron active floor", "layer 1")]
    assert floor["count"] == pytest.approx(act_s, rel=1e-12)
    total = floor.energy_J + bd.loc[("spikes", "layer 1")].energy_J
    # the law E0 + P / f at the active neurons' rate: 50 E0 + P x active seconds
    assert total == pytest.approx(50 * 1.2e-13 + 5e-9 * act_s, rel=1e-9)
    # without the report: every neuron for the whole phase (the upper bound), 10 / 1.2 x the floor
    up = EnergyLedger((4, 10), neuron, CrossbarProfile.ideal(), None, input_active_fraction=0.0)
    up.record({"spikes_free": [0, 50], "steps_free": 100}, 1, training=False)
    up.g_samples = [[(1e-6, 1e-6)]]
    fl_up = up.breakdown().set_index(["component", "layer"]).loc[("neuron active floor", "layer 1")]
    assert fl_up["count"] == pytest.approx(1000 * led.step_time_s, rel=1e-12)
    # a neuron that fired had input at least for its spikes at the maximum rate
    lo = EnergyLedger((4, 10), neuron, CrossbarProfile.ideal(), None, input_active_fraction=0.0)
    lo.record({"spikes_free": [0, 50], "steps_free": 100, "active_free": [0, 0]}, 1, training=False)
    lo.g_samples = [[(1e-6, 1e-6)]]
    fl_lo = lo.breakdown().set_index(["component", "layer"]).loc[("neuron active floor", "layer 1")]
    assert fl_lo["count"] == pytest.approx(50 / 1e6, rel=1e-12)
    # the counts survive counts_dict / from_counts
    back = EnergyLedger.from_counts(led.counts_dict(), neuron, CrossbarProfile.ideal())
    assert back.breakdown().energy_J.sum() == pytest.approx(led.breakdown().energy_J.sum(), rel=1e-12)
    with pytest.raises(ParameterError, match="active_free"):
        led.record({"spikes_free": [0, 1], "steps_free": 100, "active_free": [1]}, 1, training=False)


def test_input_reads_are_priced_at_the_conductance_of_the_rows_that_spike():
    # issue 13: the pixels that spike are those whose weights grew; the layer mean priced the
    # input array's reads 29 % below the per-cell sum
    from types import SimpleNamespace
    xb = CrossbarProfile.ideal(read_voltage_V=0.1, read_pulse_width_s=1e-8)
    led = EnergyLedger((3, 2), NeuronProfile.ideal_hard_sigmoid(), xb, None)
    gp = np.array([[1e-6, 1e-6], [9e-6, 5e-6], [1e-6, 1e-6]])
    gm = np.full((3, 2), 1e-6)
    x = np.array([[0.0, 1.0, 0.0], [0.0, 0.5, 0.0]])   # only pixel 1 is ever bright
    led.record_input_activity(x)
    assert led.input_activity == pytest.approx([0.0, 0.75, 0.0])
    syn = SimpleNamespace(attached=True, conductances=lambda j: (gp, gm))
    led.sample_conductances(SimpleNamespace(W=[np.zeros((3, 2))], synapses=syn))
    led.record({"spikes_free": [10, 0], "steps_free": 20}, 1, training=False)
    ev = led.breakdown().set_index(["component", "layer"]).loc[("synaptic events", "W0")]
    # every forward read is of row 1: pair G = (9 + 1 + 5 + 1) / 2 uS per event
    assert ev["count"] == 20
    assert ev["unit_energy_J"] == pytest.approx(0.01 * 8e-6 * 1e-8, rel=1e-12)
    # uniform activity: the layer mean (2 + 10 + 2 ... ) / 6 uS per pair
    flat = EnergyLedger((3, 2), NeuronProfile.ideal_hard_sigmoid(), xb, None)
    flat.sample_conductances(SimpleNamespace(W=[np.zeros((3, 2))], synapses=syn))
    flat.record({"spikes_free": [10, 0], "steps_free": 20}, 1, training=False)
    ev2 = flat.breakdown().set_index(["component", "layer"]).loc[("synaptic events", "W0")]
    assert ev2["unit_energy_J"] == pytest.approx(0.01 * float((gp + gm).mean()) * 1e-8, rel=1e-12)
