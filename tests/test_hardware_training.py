"""Device-aware training end to end on a small MNIST subset.

- An ideal linear device (constant step, no noise, many levels) trains like
  ideal float synapses (within 1 % test accuracy).
- With c2c = 0 and d2d = 0, two runs with the same seed are identical
  (bit for bit), and a different synapse seed with c2c noise is not.
- The energy ledger filled by train_on_hardware holds the trainer's spike
  counts and the backend's pulses.
"""
import dataclasses

import numpy as np
import pytest

from eqspike.circuits.profile import CrossbarProfile, NeuronProfile
from eqspike.datasets import load_dataset
from eqspike.devices.profile import DeviceProfile
from eqspike.network.config import TrainConfig
from eqspike.network.hardware import train_on_hardware
from eqspike.network.synapses import DeviceSynapseConfig, DeviceSynapses
from eqspike.network.trainer import train

pytestmark = pytest.mark.slow


def _cfg(**kw):
    base = dict(sizes=(784, 64, 10), rule="eqspike", epochs=1, n_train=1000, n_test=1000,
                lrs=(0.1, 0.03), beta=1.0, seed=3,
                rule_params={"encoder": "sigma_delta", "compute": "event"})
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def data(mnist_dir):
    return load_dataset(mnist_dir, progress=False)


def test_ideal_linear_device_matches_ideal_training(data):
    cfg = _cfg(n_train=3000, n_test=2000, seed=1)
    ideal = train(cfg, data, progress=False)
    # step 0.5 / 4000 = 1.25e-4 in weight units; enough pulses per update never to cap dW
    dev = DeviceProfile.ideal(n_levels=4001, g_min_S=1e-6, g_max_S=11e-6)
    syn = DeviceSynapses(dev, DeviceSynapseConfig(w_max=(0.5,), policy="stochastic", refresh="none",
                                                  max_pulses=5000))
    hw = train(cfg, data, progress=False, synapses=syn)
    assert sum(c["up"] for c in syn.counts) > 0  # the device path was used
    assert abs(hw.test_acc - ideal.test_acc) <= 0.01, (hw.test_acc, ideal.test_acc)
    assert ideal.test_acc > 0.6  # it learned something


def test_noise_free_device_runs_are_identical_and_noise_changes_them(data):
    cfg = _cfg(n_train=300, n_test=200, rule_params={"encoder": "bernoulli", "compute": "event"})
    dev = DeviceProfile.from_neurosim(2.0, -2.0, 64, c2c_sigma=0.0, d2d_sigma=0.0)
    runs = []
    for _ in range(2):
        syn = DeviceSynapses(dev, DeviceSynapseConfig(w_max=(0.2,), seed=7))
        runs.append(train(cfg, data, progress=False, synapses=syn).net)
    for a, b in zip(runs[0].W, runs[1].W):
        np.testing.assert_array_equal(a, b)
    noisy = dataclasses.replace(dev, c2c_sigma=0.02, d2d_sigma=0.1)
    nets = []
    for seed in (7, 8):
        syn = DeviceSynapses(noisy, DeviceSynapseConfig(w_max=(0.2,), seed=seed))
        nets.append(train(cfg, data, progress=False, synapses=syn).net)
    assert not np.array_equal(nets[0].W[0], nets[1].W[0])


def test_train_on_hardware_fills_the_ledger(data):
    cfg = _cfg(n_train=200, n_test=100, epochs=2)
    dev = DeviceProfile.from_neurosim(1.0, -1.0, 128, write_energy_J=1e-12)
    neuron = NeuronProfile.ideal_hard_sigmoid(energy_per_spike_J=1e-13)
    res = train_on_hardware(cfg, data, device=dev, neuron=neuron, crossbar=CrossbarProfile.ideal(),
                            syn_config=DeviceSynapseConfig(w_max=(0.2,)), progress=False)
    m = res.train.metrics
    led = res.ledger
    for k in range(3):
        assert led.spikes["free"][k] == m[f"spikes_free_{k}"].sum()
        assert led.spikes["inference"][k] == m[f"test_spikes_free_{k}"].iloc[-1]
    assert led.examples["free"] == 400 and led.examples["inference"] == 100
    # the rule's active neuron-steps reach the ledger (the active floor is priced on them, issue 13)
    assert led.active_examples["inference"] == 100 and led.active_examples["free"] == 400
    assert led.active["inference"][1] == m["test_active_free_1"].iloc[-1]
    assert 0 < led.active["inference"][1] <= cfg.sizes[1] * cfg.T1 * 100
    assert led.active["nudged"][1] == pytest.approx(led.active["free"][1] * 2 * cfg.T2 / cfg.T1, rel=1e-12)
    # and the input rows' reads are weighted by the pixels' intensities
    assert led.input_activity is not None and len(led.input_activity) == cfg.sizes[0]
    assert len(led.read_g_samples) == len(led.g_samples) == 2
    assert led.pulses["up"].sum() > 0
    s = res.summary
    assert s["train_write_J"] == pytest.approx(
        1e-12 * sum(v.sum() for v in led.pulses.values()) / 400)
    assert 0 < s["energy_per_inference_J"] < s["energy_per_training_example_J"]
    assert (res.gpu["ratio_inference"] > 0).all()
