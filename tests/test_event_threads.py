"""Event kernel: thread count, batch 1 and the row-masked reduction."""
import numba
import numpy as np
import pytest

from eqspike.network import event as ev
from eqspike.network.config import TrainConfig
from eqspike.network.model import Network
from eqspike.network.rules import get_rule


def _data(B, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (B, 784)).astype(np.float32) * (rng.uniform(0, 1, (B, 784)) < 0.2)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, B)]
    return x, y


def _train(threads, B=6, batches=2):
    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.05), batch_size=B,
                          rule_params={"compute": "event"})
        net = Network.init(cfg.sizes, np.random.default_rng(0))
        rule = get_rule("eqspike")(cfg, np.random.default_rng(1))
        stats = []
        for i in range(batches):
            x, y = _data(B, i)
            stats.append(rule.train_batch(net, x, y, cfg.lrs))
        return net, stats, rule
    finally:
        numba.set_num_threads(old)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_thread_count_does_not_change_the_result():
    """Per-image update slots and per-pixel sums in a fixed order: bit for bit the same."""
    n1, s1, _ = _train(1)
    n2, s2, _ = _train(2)
    for a, b in zip(s1, s2):   # the same spikes (the random numbers are keyed, not streamed)
        assert a["spikes_free"] == b["spikes_free"] and a["spikes_nudged"] == b["spikes_nudged"]
    for w1, w2 in zip(n1.W + n1.b, n2.W + n2.b):
        np.testing.assert_array_equal(w1, w2)


def test_batch_one_trains_and_leaves_clean_buffers():
    net, stats, rule = _train(1, B=1, batches=3)
    assert all(s["spikes_nudged"][0] > 0 for s in stats)
    for bufs in rule._bufs.values():   # reduce_buffers cleared every row it was given
        assert all(not b.any() for b in bufs[0]) and all(not b.any() for b in bufs[1])


def test_reduce_with_row_mask_equals_the_full_reduce():
    rng = np.random.default_rng(3)
    rows = np.array([1, 4, 4, 7])
    dW = (np.zeros((2, 9, 5), np.float32), np.zeros((2, 5, 3), np.float32))
    dW[0][:, [1, 4, 7]] = rng.standard_normal((2, 3, 5))
    dW[1][...] = rng.standard_normal((2, 5, 3))
    db = (rng.standard_normal((2, 5)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32))
    copy = tuple(a.copy() for a in dW), tuple(a.copy() for a in db)
    full, fb = ev.reduce_buffers(copy[0], copy[1], [0.5, 2.0])
    part, pb = ev.reduce_buffers(dW, db, [0.5, 2.0], rows0=rows)
    for a, b in zip(full + fb, part + pb):
        np.testing.assert_array_equal(a, b)
    assert not any(a.any() for a in dW + db)


def test_balanced_chunks_is_a_permutation_with_even_work():
    work = np.array([9.0, 8.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    order, cptr = ev.balanced_chunks(work, 2)
    assert sorted(order.tolist()) == list(range(8)) and cptr.tolist()[0::2] == [0, 8]
    loads = [work[order[cptr[c]:cptr[c + 1]]].sum() for c in range(2)]
    assert max(loads) == 11.0            # contiguous halves: 19 and 3
    for c in range(2):                   # images keep their order within a chunk
        part = order[cptr[c]:cptr[c + 1]]
        assert np.all(np.diff(part) > 0)
    o1, c1 = ev.balanced_chunks(work, 1)
    assert o1.tolist() == list(range(8)) and c1.tolist() == [0, 8]


def test_fused_apply_equals_reduce_then_apply_bit_for_bit():
    rng = np.random.default_rng(4)
    sizes = (9, 5, 3)
    rows = np.array([1, 4, 7])

    def state():
        dW = (np.zeros((1, 9, 5), np.float32), rng.standard_normal((4, 5, 3)).astype(np.float32))
        dW[0][0, rows] = rng.standard_normal((3, 5))
        db = (rng.standard_normal((4, 5)).astype(np.float32),
              rng.standard_normal((4, 3)).astype(np.float32))
        return dW, db

    rng = np.random.default_rng(4)
    dW, db = state()
    rng = np.random.default_rng(4)
    dW2, db2 = state()
    net1 = Network.init(sizes, np.random.default_rng(0))
    net2 = Network.init(sizes, np.random.default_rng(0))
    ev.apply_buffers(net1, dW, db, [0.3, 1.7], rows0=rows)          # fused (ideal synapses)
    d, e = ev.reduce_buffers(dW2, db2, [0.3, 1.7], rows0=rows)
    net2.apply_update(d, e)
    for a, b in zip(net1.W + net1.b, net2.W + net2.b):
        np.testing.assert_array_equal(a, b)
    assert not net1.W[0].tolist() == Network.init(sizes, np.random.default_rng(0)).W[0].tolist()
    assert not any(a.any() for a in dW + db)


def test_fused_apply_respects_a_backend_that_overrides_apply():
    from eqspike.network.model import IdealSynapses
    seen = []

    class Recorder(IdealSynapses):
        def apply(self, net, dW, db):
            seen.append(dW)
            super().apply(net, dW, db)

    net = Network.init((4, 3, 2), np.random.default_rng(0), synapses=Recorder())
    dW, db = ev.make_buffers((4, 3, 2), 1)
    dW[0][0, 1] = 1.0
    ev.apply_buffers(net, dW, db, [1.0, 1.0])
    assert len(seen) == 1 and seen[0][0][1].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("threads", [1, 2])
def test_fused_batch_equals_phase_by_phase_bit_for_bit(threads, monkeypatch):
    """network/event_train.py (free + nudged phases in one call) = the phase-by-phase path."""
    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("needs 2 numba threads")
    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        out = []
        # (phases in one call, update inside that call): the default, then the same call
        # with apply_buffers after it, then the phase-by-phase path
        for fuse, fuse_apply in ((True, True), (True, False), (False, False)):
            cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.05), batch_size=5,
                              rule_params={"compute": "event"})
            net = Network.init(cfg.sizes, np.random.default_rng(0))
            rule = get_rule("eqspike")(cfg, np.random.default_rng(1))
            rule.fuse_phases, rule.fuse_apply = fuse, fuse_apply
            calls = []
            real = ev.apply_buffers
            monkeypatch.setattr(ev, "apply_buffers",
                                lambda *a, **k: (calls.append(1), real(*a, **k)))
            stats = [rule.train_batch(net, *_data(5, i), cfg.lrs) for i in range(3)]
            monkeypatch.setattr(ev, "apply_buffers", real)
            assert len(calls) == (0 if fuse_apply else 3)   # the in-kernel update was taken
            for bufs in rule._bufs.values():                 # and left the buffers zeroed
                assert not any(a.any() for a in bufs[0] + bufs[1])
            out.append((net, stats))
    finally:
        numba.set_num_threads(old)
    n1, s1 = out[0]
    assert s1[0]["spikes_nudged"][0] > 0
    for n2, s2 in out[1:]:
        for a, b in zip(s1, s2):
            assert (a["spikes_free"] == b["spikes_free"]
                    and a["spikes_nudged"] == b["spikes_nudged"])
            np.testing.assert_array_equal(a["pred"], b["pred"])
        for w1, w2 in zip(n1.W + n1.b, n2.W + n2.b):
            np.testing.assert_array_equal(w1, w2)


def test_in_kernel_update_refuses_weights_it_cannot_update_in_place():
    from eqspike.network import event_train as evtrain
    cfg = TrainConfig(rule="eqspike", beta=1.0, lrs=(0.1, 0.05), batch_size=2,
                      rule_params={"compute": "event"})
    rule = get_rule("eqspike")(cfg, np.random.default_rng(1))
    net = Network.init(cfg.sizes, np.random.default_rng(0))
    x, y = _data(2)
    bufs = ev.event_buffers(cfg.sizes, 2)
    nz = ev.nonzero_lists(x, 2)
    args = (rule.spec, net.W, net.b, x, y, 4, 2, [1.0, -1.0], [1.0, -1.0], 1, 2,
            rule.wsched, bufs[0], bufs[1], nz, {})
    with pytest.raises(ValueError, match="apply_scales: need one per weight layer"):
        evtrain.train_batch_event(*args, apply_scales=[0.1])
    W64 = [w.astype(np.float64) for w in net.W]
    with pytest.raises(ValueError, match="C-contiguous float32"):
        evtrain.train_batch_event(rule.spec, W64, *args[2:], apply_scales=[0.1, 0.1])
    assert ev.plain_ideal(net, biases=True)
    net.b[1] = net.b[1].astype(np.float64)          # a float64 bias: no in-place update
    assert ev.plain_ideal(net) and not ev.plain_ideal(net, biases=True)
