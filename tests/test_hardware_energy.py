"""Energy ledger, neuron transfer and GPU MAC count.

The ledger test records the spike matrices that actually reach each weight
layer of a small spiking network (a weight wrapper logs every ``S @ W`` and
``S @ W.T``) and counts spikes and synaptic events from them independently
of the rule's own statistics.
"""
import dataclasses

import numpy as np
import pytest

from eqspike.errors import ParameterError
from eqspike.circuits.profile import CrossbarProfile, NeuronProfile
from eqspike.devices.profile import DeviceProfile
from eqspike.network.config import TrainConfig
from eqspike.network.energy import (EnergyLedger, gpu_assumptions, gpu_comparison, gpu_macs,
                                    synaptic_events)
from eqspike.network.model import Network
from eqspike.network.neuron_transfer import NeuronTransfer, step_time_s, steps_per_second
from eqspike.network.synapses import DeviceSynapseConfig, DeviceSynapses


class _RecT:
    def __init__(self, parent):
        self.parent = parent

    __array_ufunc__ = None

    def __rmatmul__(self, S):
        self.parent.log.append(("backward", np.array(S)))
        return S @ self.parent.a.T


class RecW:
    """Weight matrix that logs the spike matrices multiplied into it."""
    __array_ufunc__ = None

    def __init__(self, a):
        self.a = a
        self.log = []
        self.shape, self.dtype = a.shape, a.dtype

    def __rmatmul__(self, S):
        self.log.append(("forward", np.array(S)))
        return S @ self.a

    @property
    def T(self):
        return _RecT(self)

    def __iadd__(self, d):  # IdealSynapses.apply does W += dW
        self.a += d
        return self


def _count_from_log(rec, sizes):
    """Spikes per neuron layer and events per weight layer from the logged spike matrices."""
    spikes = np.zeros(len(sizes))
    events = np.zeros(len(sizes) - 1)
    for j, r in enumerate(rec):
        n_pre, n_post = r.a.shape
        for direction, S in r.log:
            assert set(np.unique(S)) <= {0.0, 1.0}
            if direction == "forward":
                spikes[j] += S.sum()              # layer j's spikes enter W[j] forward
                events[j] += S.sum() * n_post
            else:
                events[j] += S.sum() * n_pre      # layer j+1's spikes enter W[j] backward
                if j + 1 == len(sizes) - 1:
                    spikes[j + 1] += S.sum()      # output spikes only travel backward
    return spikes, events


def small_setup(sizes=(12, 7, 5, 3), B=4):
    rng = np.random.default_rng(0)
    cfg = TrainConfig(sizes=sizes, rule="eqspike", T1=15, T2=6, beta=1.0, lrs=(0.1,),
                      rule_params={"compute": "dense", "encoder": "bernoulli"})
    rule = cfg.rule_class()(cfg, np.random.default_rng(1))
    net = Network.init(sizes, rng)
    x = rng.random((B, sizes[0])).astype(np.float32)
    return cfg, rule, net, x


def test_ledger_counts_equal_counts_from_recorded_spikes():
    cfg, rule, net, x = small_setup()
    assert rule.p.compute == "dense"
    sizes, B = cfg.sizes, x.shape[0]
    rec = [RecW(w) for w in net.W]
    net_rec = Network(sizes, rec, net.b)
    _, stats = rule.predict(net_rec, x)
    # independent counts: every logged spike matrix S (B, n_pre) reaches n_post cells per spike
    spikes, events = _count_from_log(rec, sizes)
    assert spikes.sum() > 0
    ledger = EnergyLedger(sizes, NeuronProfile.ideal_hard_sigmoid(), CrossbarProfile.ideal())
    ledger.record(stats, B, training=False)
    np.testing.assert_array_equal(ledger.spikes["inference"], spikes)
    np.testing.assert_array_equal(synaptic_events(sizes, ledger.spikes["inference"]), events)
    ledger.sample_conductances(net)
    df = ledger.breakdown()
    got = df[(df.phase == "inference") & (df.component == "synaptic events")]["count"].to_numpy()
    np.testing.assert_array_equal(got, events)


def test_ledger_training_counts_equal_recorded_spikes():
    cfg, rule, net, x = small_setup()
    sizes, B = cfg.sizes, x.shape[0]
    rec = [RecW(w) for w in net.W]
    net_rec = Network(sizes, rec, net.b)
    y = np.eye(sizes[-1], dtype=np.float32)[[0, 1, 2, 0]]
    stats = rule.train_batch(net_rec, x, y, (0.1, 0.1, 0.1))
    spikes, events = _count_from_log(rec, sizes)
    ledger = EnergyLedger(sizes, NeuronProfile.ideal_hard_sigmoid(), CrossbarProfile.ideal())
    ledger.record(stats, B, training=True)
    both = ledger.spikes["free"] + ledger.spikes["nudged"]
    np.testing.assert_array_equal(both, spikes)
    ev = (synaptic_events(sizes, ledger.spikes["free"]) + synaptic_events(sizes, ledger.spikes["nudged"]))
    np.testing.assert_array_equal(ev, events)
    assert ledger.steps["free"] == cfg.T1 * B and ledger.steps["nudged"] == 2 * cfg.T2 * B


def test_synaptic_events_hand_example():
    ev = synaptic_events((3, 2, 4), [5, 7, 2])
    assert ev.tolist() == [5 * 2, 7 * 4 + 2 * 2]
    ev = synaptic_events((3, 2, 4), [5, 7, 2], feedback_to_input=True)
    assert ev.tolist() == [5 * 2 + 7 * 3, 7 * 4 + 2 * 2]


def test_ledger_energy_arithmetic_with_device_pairs():
    sizes = (3, 2, 4)
    neuron = NeuronProfile.ideal_hard_sigmoid(max_rate_Hz=1e6, energy_per_spike_J=1e-14,
                                              leakage_power_W=1e-9)
    xbar = CrossbarProfile.ideal(read_voltage_V=0.1, read_pulse_width_s=1e-8,
                                 wire_energy_per_event_J=1e-16)
    xbar = dataclasses.replace(xbar, wire_energy_per_cell_J=1e-17)
    dev = DeviceProfile.ideal(n_levels=11, g_min_S=1e-6, g_max_S=11e-6, write_energy_J=1e-12)
    net = Network.init(sizes, np.random.default_rng(0))
    for w in net.W:
        w[...] = 0.0
    syn = DeviceSynapses(dev, DeviceSynapseConfig(policy="round", refresh="none"))
    net.synapses = syn
    syn.attach(net)  # every device at g_min = 1 uS
    net.apply_update([np.full((3, 2), 0.1, np.float32), None], [None, None])  # 6 up pulses
    led = EnergyLedger(sizes, neuron, xbar, dev)
    stats = {"spikes_free": [5, 7, 2], "spikes_nudged": [1, 1, 1], "steps_free": 10,
             "steps_nudged": 4}
    led.record(stats, 2, training=True)
    led.record_pulses(syn.take_counts())
    led.sample_conductances(net)
    s = led.summary()
    gp0 = 2e-6  # every G+ of W0 got one pulse: 1 uS -> 2 uS; G- stay at 1 uS
    e_ev0 = 0.01 * 1e-8 * (gp0 + 1e-6)      # Joule heat of the pair (line at 0 V: no conveyance)
    e_ev1 = 0.01 * 1e-8 * (1e-6 + 1e-6)
    cell = 1e-17                             # wire per cell, once per spike per driven line

    def wire(sp):                            # W0 fwd: 2*2 cells; W1 fwd: 2*4; W1 bwd: 2*2
        return (sp[0] * 4 + sp[1] * 8 + sp[2] * 4) * cell
    dt = 1e-6
    free = (14 * 1e-14 + 10 * e_ev0 + 32 * e_ev1 + wire([5, 7, 2]) + 9 * 1e-9 * 10 * dt * 2) / 2
    nudged = (3 * 1e-14 + 1 * 2 * e_ev0 + (1 * 4 + 1 * 2) * e_ev1 + wire([1, 1, 1])
              + 9 * 1e-9 * 4 * dt * 2) / 2
    write = 6 * 1e-12 / 2
    # abs=0: pytest.approx's default absolute tolerance (1e-12) would swallow these femtojoules
    assert s["train_free_J"] == pytest.approx(free, rel=1e-6, abs=0)
    assert s["train_nudged_J"] == pytest.approx(nudged, rel=1e-6, abs=0)
    assert s["train_write_J"] == pytest.approx(write, rel=1e-9, abs=0)
    assert s["energy_per_training_example_J"] == pytest.approx(free + nudged + write, rel=1e-6, abs=0)
    assert s["energy_per_inference_J"] == pytest.approx(free, rel=1e-6, abs=0)  # no test phase recorded


def test_gpu_macs_counted_explicitly():
    m = gpu_macs((4, 3, 2), T1=10, T2=5, n_nudged_phases=2)
    assert m["macs_per_step"] == 12 + 6 + 6       # forward both layers + feedback into layer 1
    assert m["macs_inference"] == 10 * 24
    assert m["macs_training"] == (10 + 2 * 5) * 24 + 3 * 18
    df = gpu_comparison((4, 3, 2), 10, 5, 2, energy_per_inference_J=1e-15,
                        energy_per_training_example_J=1e-14)
    row = df[df.reference.str.startswith("NVIDIA V100")].iloc[0]
    assert row.energy_per_inference_J == pytest.approx(240 * 38e-12, abs=0)
    assert row.ratio_inference == pytest.approx(240 * 38e-12 / 1e-15)
    text = "\n".join(gpu_assumptions((4, 3, 2), 10, 5, 2))
    assert "T1 = 10" in text and "peak" in text


def test_neuron_transfer_interpolates_clips_and_keeps_dtype():
    prof = NeuronProfile(name="t", circuit="test", input_norm=(0.0, 0.5, 1.0, 2.0),
                         rate_norm=(0.0, 0.1, 0.8, 1.0), max_rate_Hz=2e5, input_scale_A=1e-9,
                         threshold_current_A=1e-10, energy_per_spike_J=1e-14,
                         leakage_power_W=0.0, supply_V=1.0)
    rho = NeuronTransfer(prof)
    x = np.array([[-1.0, 0.25, 0.75], [1.5, 2.0, 9.0]], np.float32)
    y = rho(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, [[0.0, 0.05, 0.45], [0.9, 1.0, 1.0]], atol=1e-6)
    x2 = x.copy()
    rho(x2, out=x2)
    np.testing.assert_allclose(x2, y)
    np.testing.assert_allclose(rho.derivative(np.array([0.25, 0.75, 5.0])), [0.2, 1.4, 0.0])
    hs = NeuronTransfer(NeuronProfile.ideal_hard_sigmoid())
    z = np.linspace(-1, 2, 31).astype(np.float32)
    np.testing.assert_allclose(hs(z), np.clip(z, 0, 1), atol=1e-6)
    assert step_time_s(prof) == pytest.approx(5e-6)
    assert steps_per_second(prof, theta=2.0) == pytest.approx(4e5)


def test_ledger_prices_accumulator_updates_of_the_accumulate_policy():
    sizes = (3, 2)
    neuron = NeuronProfile.ideal_hard_sigmoid(max_rate_Hz=1e6, energy_per_spike_J=1e-14,
                                              leakage_power_W=1e-9)
    xbar = CrossbarProfile.ideal(read_voltage_V=0.1, read_pulse_width_s=1e-8,
                                 wire_energy_per_event_J=1e-16)
    dev = DeviceProfile.ideal(n_levels=11, g_min_S=1e-6, g_max_S=11e-6, write_energy_J=1e-12)
    net = Network.init(sizes, np.random.default_rng(0))
    net.W[0][...] = 0.0
    syn = DeviceSynapses(dev, DeviceSynapseConfig(policy="accumulate", refresh="none"))
    net.synapses = syn
    syn.attach(net)
    for _ in range(3):   # 0.04 per update: one pulse per synapse at the third
        net.apply_update([np.full((3, 2), 0.04, np.float32)], [None])
    led = EnergyLedger(sizes, neuron, xbar, dev, accumulator_energy_J=2e-12)
    led.record({"spikes_free": [0, 0], "spikes_nudged": [0, 0], "steps_free": 1,
                "steps_nudged": 1}, 4, training=True)
    led.record_pulses(syn.take_counts())
    led.sample_conductances(net)
    s = led.summary()
    assert s["pulses_per_training_example"] == pytest.approx(6 / 4)
    assert s["accumulator_updates_per_training_example"] == pytest.approx(18 / 4)
    assert s["train_write_J"] == pytest.approx((6 * 1e-12 + 18 * 2e-12) / 4, rel=1e-9, abs=0)
    with pytest.raises(ParameterError, match="accumulator_energy_J"):
        EnergyLedger(sizes, neuron, xbar, dev, accumulator_energy_J=-1.0)
