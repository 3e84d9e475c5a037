"""EqSpike: the event-driven kernel gives the same spikes and updates as the dense path."""
import numpy as np
import pytest

from eqspike.network import event as ev
from eqspike.network.config import TrainConfig
from eqspike.network.model import Network
from eqspike.network.rules import get_rule


def _run(sizes, compute, encoder, pairing, input_encoder="same", **extra):
    cfg = TrainConfig(sizes=sizes, rule="eqspike", T1=12, T2=8, beta=1.0,
                      lrs=(0.1,) * (len(sizes) - 1),
                      rule_params={"encoder": encoder, "pairing": pairing, "compute": compute,
                                   "avg_steps": 3, "input_encoder": input_encoder, **extra})
    net = Network.init(sizes, np.random.default_rng(1))
    for w in net.W:
        w *= 4.0  # lively spiking in every layer
    rule = get_rule("eqspike")(cfg, np.random.default_rng(2))
    rng = np.random.default_rng(3)
    x = rng.random((7, sizes[0])).astype(np.float32)
    x[x < 0.5] = 0.0  # sparse input like MNIST
    y = np.eye(sizes[-1], dtype=np.float32)[np.arange(7) % sizes[-1]]
    W0 = [w.copy() for w in net.W]
    st = rule.train_batch(net, x, y, cfg.lrs)
    dW = [w - w0 for w, w0 in zip(net.W, W0)]
    return dW, [b.copy() for b in net.b], st


@pytest.mark.parametrize("encoder,pairing,sizes", [
    ("bernoulli", "same_step", (30, 20, 5)), ("bernoulli", "delayed", (30, 20, 5)),
    ("bernoulli", "both", (30, 20, 5)), ("sigma_delta", "same_step", (30, 20, 5)),
    ("sigma_delta", "delayed", (30, 20, 5)), ("sigma_delta", "both", (30, 20, 5)),
    ("bernoulli", "both", (25, 16, 12, 4)), ("sigma_delta", "delayed", (25, 16, 12, 4))])
def test_event_equals_dense(encoder, pairing, sizes):
    dW_d, b_d, st_d = _run(sizes, "dense", encoder, pairing)
    dW_e, b_e, st_e = _run(sizes, "event", encoder, pairing)
    assert st_d["compute_path"] == "dense" and st_e["compute_path"] == "event"
    # same spikes: identical spike counts and predictions
    assert st_d["spikes_free"] == st_e["spikes_free"]
    assert st_d["spikes_nudged"] == st_e["spikes_nudged"]
    assert all(c > 0 for c in st_e["spikes_nudged"])
    np.testing.assert_array_equal(st_d["pred"], st_e["pred"])
    for a, b in zip(dW_d, dW_e):
        assert np.abs(a).max() > 0
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * max(1.0, np.abs(a).max()))
    for a, b in zip(b_d, b_e):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_mixed_encoders_equal():
    dW_d, _, st_d = _run((30, 20, 5), "dense", "bernoulli", "delayed", input_encoder="sigma_delta")
    dW_e, _, st_e = _run((30, 20, 5), "event", "bernoulli", "delayed", input_encoder="sigma_delta")
    assert st_d["spikes_nudged"] == st_e["spikes_nudged"]
    for a, b in zip(dW_d, dW_e):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_theta_samples_and_spike_count_readout_equal():
    extra = {"theta": 2.0, "n_samples": 2, "common_noise": False, "readout": "spike_count",
             "readout_window": 6}
    dW_d, _, st_d = _run((30, 20, 5), "dense", "bernoulli", "both", **extra)
    dW_e, _, st_e = _run((30, 20, 5), "event", "bernoulli", "both", **extra)
    assert st_d["spikes_nudged"] == st_e["spikes_nudged"]
    assert st_e["steps_nudged"] == 4 * 8
    np.testing.assert_array_equal(st_d["pred"], st_e["pred"])
    for a, b in zip(dW_d, dW_e):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_zero_input_gives_no_input_spikes_and_cost_scales():
    """Pixels at 0 never spike: the event path's input work is proportional to spikes."""
    x = np.zeros((3, 30), np.float32)
    ptr, idx = ev.nonzero_lists(x, 2)
    assert idx.size == 0 and ptr[-1] == 0
    x[0, 5] = 1.0
    x[2, 7] = 0.5
    ptr, idx = ev.nonzero_lists(x, 2)
    assert sorted(idx.tolist()) == [5, 7]


def test_auto_path_chooser_commits():
    ch = ev.PathChooser("auto")
    seen = []
    for t in (5.0, 1.0, 3.0):
        p = ch.next_path()
        seen.append(p)
        ch.record(p, t)
    assert seen == ["event", "event", "dense"]
    assert ch.chosen == "event"  # 1.0 s (event) beat 3.0 s (dense)
    assert ch.next_path() == "event"


@pytest.mark.parametrize("encoder,pairing", [("bernoulli", "both"), ("sigma_delta", "delayed"),
                                             ("bernoulli", "same_step")])
def test_side_by_side_phases_equal_sequential(encoder, pairing):
    """The +beta/-beta pair run side by side (shared input spikes) = two separate phases."""
    sizes = (30, 20, 5)
    cfg = TrainConfig(sizes=sizes, rule="eqspike", T1=12, T2=8, beta=1.0, lrs=(0.1, 0.1),
                      rule_params={"encoder": encoder, "pairing": pairing, "avg_steps": 3,
                                   "compute": "event"})
    net = Network.init(sizes, np.random.default_rng(1))
    for w in net.W:
        w *= 4.0
    rule = get_rule("eqspike")(cfg, np.random.default_rng(2))
    rng = np.random.default_rng(3)
    x = rng.random((7, 30)).astype(np.float32)
    x[x < 0.5] = 0.0
    y = np.eye(5, dtype=np.float32)[np.arange(7) % 5]
    st0, _, _ = rule._free("event", net, x, 11, None)
    spec = rule.spec
    seq_bufs, multi_bufs = ev.event_buffers(sizes, 7), ev.event_buffers(sizes, 7)
    seq_states, seq_counts = [], np.zeros(3, np.int64)
    for sign in (1.0, -1.0):
        st = st0.copy()
        c, _ = ev.phase_event(spec, net.W, net.b, st, y, 8, 12, sign, 99, True, rule.wsched,
                              sign, *seq_bufs)
        seq_states.append(st)
        seq_counts += c
    states = [st0.copy(), st0.copy()]
    c_multi, _ = ev.phase_event_multi(spec, net.W, net.b, states, y, 8, 12, [1.0, -1.0], 99,
                                      True, rule.wsched, [1.0, -1.0], *multi_bufs)
    np.testing.assert_array_equal(c_multi, seq_counts)
    for a, b in zip(states, seq_states):
        np.testing.assert_array_equal(a.S, b.S)
        np.testing.assert_allclose(a.u, b.u, rtol=0, atol=1e-6)
        np.testing.assert_allclose(a.acc, b.acc, rtol=0, atol=1e-6)
    for a, b in zip(multi_bufs[0] + multi_bufs[1], seq_bufs[0] + seq_bufs[1]):
        assert np.abs(b).max() > 0
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())
    with pytest.raises(ValueError, match="one beta and one sign per state"):
        ev.phase_event_multi(spec, net.W, net.b, states, y, 8, 12, [1.0], 99, True,
                             rule.wsched, [1.0, -1.0], *multi_bufs)


def test_event_equals_dense_with_independent_noise():
    """Without common noise the event path runs the phases one by one; still = dense."""
    dW_d, _, st_d = _run((30, 20, 5), "dense", "bernoulli", "both", common_noise=False)
    dW_e, _, st_e = _run((30, 20, 5), "event", "bernoulli", "both", common_noise=False)
    assert st_d["spikes_nudged"] == st_e["spikes_nudged"]
    for a, b in zip(dW_d, dW_e):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * max(1.0, np.abs(a).max()))
