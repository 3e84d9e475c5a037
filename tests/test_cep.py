"""Rate-based C-EP rule, dynamics, config validation and the trainer (resume, divergence)."""
import json

import numpy as np
import pytest

from eqspike.datasets import Dataset, load_dataset
from eqspike.errors import DataError, ParameterError
from eqspike.network import activations as act
from eqspike.network.config import TrainConfig
from eqspike.network.dynamics import input_drive, relax
from eqspike.network.model import IdealSynapses, Network
from eqspike.network.rules import get_rule
from eqspike.network.trainer import (CHECKPOINT, TrainingDiverged, evaluate, load_checkpoint,
                                     lr_at, train)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_dataset(mnist_dir, download=False)


def toy_data(seed=0, n_train=200, n_test=50, n_in=20, n_cls=3):
    """Linearly separable toy problem (no MNIST needed)."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 1, (n_cls, n_in))

    def draw(n):
        y = rng.integers(0, n_cls, n)
        x = np.clip(centers[y] + rng.normal(0, 0.15, (n, n_in)), 0, 1).astype(np.float32)
        return x, y.astype(np.int64)
    xtr, ytr = draw(n_train)
    xte, yte = draw(n_test)
    return Dataset(xtr, ytr, xte, yte, "toy", None)


# ------------------------------------------------------------------ the bar
def test_cep_5000_images_one_epoch_reaches_85_percent(mnist):
    cfg = TrainConfig(epochs=1, n_train=5000, n_test=1000, seed=0)
    res = train(cfg, mnist, progress=False)
    assert res.test_acc >= 0.85, res.metrics
    assert res.metrics["test_acc"].iloc[0] == res.test_acc
    assert 0.5 < res.train_acc <= 1
    row = res.metrics.iloc[0]
    assert row["steps_free"] == 60 * 250 and row["steps_nudged"] == 2 * 20 * 250  # per batch, summed
    assert row["n_train"] == 5000 and row["n_test"] == 1000


# ------------------------------------------------------------------ dynamics
def naive_relax(W, b, x, s, T, rho, beta=0.0, y=None):
    """Direct transcription of the discrete-time EP equations, one layer at a time."""
    L = len(W)
    s = [a.copy() for a in s]
    for _ in range(T):
        full = [x] + s
        new = []
        for k in range(1, L + 1):
            pre = full[k - 1] @ W[k - 1] + b[k - 1]
            if k < L:
                pre = pre + full[k + 1] @ W[k].T
            v = rho(pre)
            if k == L and y is not None:
                v = v + beta * (y - full[L])
            new.append(v)
        s = new
    return s


@pytest.mark.parametrize("sizes", [(6, 5, 4, 3), (6, 3), (6, 5, 3)])
@pytest.mark.parametrize("beta", [0.0, 0.7])
@pytest.mark.parametrize("numba", ["1", "0"])
def test_relax_matches_the_equations(sizes, beta, numba, monkeypatch):
    monkeypatch.setenv("EQSPIKE_NUMBA", numba)  # (6, 5, 3) runs the compiled kernel with "1"
    rng = np.random.default_rng(1)
    net = Network.init(sizes, rng)
    for bk in net.b:
        bk[:] = rng.normal(0, 0.3, bk.shape)
    x = rng.uniform(0, 1, (4, sizes[0])).astype(np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], 4)]
    s0 = [rng.uniform(0, 1, (4, n)).astype(np.float32) for n in sizes[1:]]
    got = relax(net, input_drive(net, x), s0, 7, act.hard_sigmoid, beta=beta, y=y)
    want = naive_relax(net.W, net.b, x, s0, 7, lambda v: np.clip(v, 0, 1), beta, y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


class Recorder(IdealSynapses):
    """Records updates without applying them (weights stay fixed)."""

    def __init__(self):
        self.calls = []

    def apply(self, net, dW, db):
        self.calls.append(([d.copy() for d in dW], [d.copy() for d in db]))


@pytest.mark.parametrize("symmetric", [True, False])
def test_step_updates_sum_to_the_batch_update(symmetric):
    """C-EP per-step increments telescope to the per-batch (two-phase) update."""
    sizes = (12, 8, 6, 4)
    x = np.random.default_rng(2).uniform(0, 1, (5, 12)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 1]]
    out = {}
    for mode in ("batch", "step"):
        cfg = TrainConfig(sizes=sizes, lrs=(0.1, 0.2, 0.3), T1=15, T2=6, beta=0.4,
                          symmetric_nudging=symmetric, rule_params={"update": mode})
        net = Network.init(sizes, np.random.default_rng(3), synapses=Recorder())
        rule = get_rule("cep")(cfg, np.random.default_rng(0))
        rule.train_batch(net, x, y, cfg.lrs)
        calls = net.synapses.calls
        assert len(calls) == (1 if mode == "batch" else 6)
        out[mode] = [sum(c[0][k] for c in calls) for k in range(3)] + \
                    [sum(c[1][k] for c in calls) for k in range(3)]
    assert any(np.abs(a).max() > 1e-4 for a in out["batch"])  # a real update
    for a, b in zip(out["batch"], out["step"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_step_mode_and_deep_net_train_on_toy():
    # (two hidden layers learn more slowly and can plateau at 2 of 3 classes for
    # some seeds; seed 1 is a fixed, deterministic case that must reach > 90 %)
    data = toy_data(seed=1)
    for params, sizes in (({"update": "step"}, (20, 16, 3)), ({}, (20, 16, 12, 3))):
        cfg = TrainConfig(sizes=sizes, lrs=(0.2,), epochs=4, T1=30, T2=10, batch_size=5,
                          rule_params=params, lr_schedule="constant", seed=1)
        res = train(cfg, data, progress=False)
        assert res.test_acc > 0.9, (params, sizes, res.metrics)
        assert all(np.isfinite(w).all() for w in res.net.W)


# ------------------------------------------------------------------ reproducibility / resume
def test_same_seed_same_result_other_seed_differs():
    data = toy_data()
    cfg = TrainConfig(sizes=(20, 10, 3), epochs=2, T1=20, T2=5)
    a, b = train(cfg, data, progress=False), train(cfg, data, progress=False)
    c = train(cfg.with_updates(seed=1), data, progress=False)
    for wa, wb, wc in zip(a.net.W, b.net.W, c.net.W):
        np.testing.assert_array_equal(wa, wb)
        assert not np.array_equal(wa, wc)


class Stop(Exception):
    pass


def test_resume_matches_uninterrupted(tmp_path, mnist):
    cfg = TrainConfig(epochs=3, n_train=600, n_test=200, T1=30, T2=10, seed=5)
    full = train(cfg, mnist, tmp_path / "full", progress=False)

    def stop_after_first(row, net):
        if row["epoch"] == 1:
            raise Stop
    with pytest.raises(Stop):
        train(cfg, mnist, tmp_path / "cut", progress=False, on_epoch=stop_after_first)
    arrays, meta = load_checkpoint(tmp_path / "cut" / CHECKPOINT)
    assert meta["epoch"] == 1
    resumed = train(cfg, mnist, tmp_path / "cut", resume=True, progress=False)
    for wf, wr in zip(full.net.W + full.net.b, resumed.net.W + resumed.net.b):
        np.testing.assert_array_equal(wf, wr)
    assert list(resumed.metrics["epoch"]) == [1, 2, 3]
    np.testing.assert_array_equal(full.metrics["test_acc"], resumed.metrics["test_acc"])
    np.testing.assert_array_equal(full.metrics["train_acc"], resumed.metrics["train_acc"])
    for name in ("config.json", "metrics.csv", "checkpoint.npz", "accuracy.png"):
        assert (tmp_path / "cut" / name).stat().st_size > 0
    cfgj = json.loads((tmp_path / "cut" / "config.json").read_text())
    assert cfgj["config"]["T1"] == 30 and cfgj["rule_options"] == {"update": "batch"}
    # a changed config (other than epochs) cannot resume
    with pytest.raises(ParameterError, match="beta"):
        train(cfg.with_updates(beta=0.3), mnist, tmp_path / "cut", resume=True, progress=False)
    with pytest.raises(DataError, match="no checkpoint"):
        train(cfg, mnist, tmp_path / "empty", resume=True, progress=False)


class PoisonAfter(IdealSynapses):
    """A synapse backend that writes NaN after ``n`` updates."""

    def __init__(self, n):
        self.n, self.count = n, 0

    def apply(self, net, dW, db):
        super().apply(net, dW, db)
        self.count += 1
        if self.count > self.n:
            net.W[0][0, 0] = np.nan


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path):
    data = toy_data(n_train=200)  # 20 batches per epoch
    cfg = TrainConfig(sizes=(20, 10, 3), epochs=3, T1=10, T2=4, batch_size=10)
    with pytest.raises(TrainingDiverged, match=r"epoch 2.*NaN.*after epoch 1"):
        train(cfg, data, tmp_path, synapses=lambda net: PoisonAfter(25), progress=False)
    arrays, meta = load_checkpoint(tmp_path / CHECKPOINT)
    assert meta["epoch"] == 1 and np.isfinite(arrays["W_0"]).all()
    # exploding weights (finite) trip max_weight
    with pytest.raises(TrainingDiverged, match="max_weight"):
        train(cfg.with_updates(max_weight=0.2, epochs=1), data, progress=False)


# ------------------------------------------------------------------ config
@pytest.mark.parametrize("changes, name", [
    ({"lrs": (-0.1, 0.05)}, "lrs"), ({"T2": 0}, "T2"), ({"rule": "nope"}, "rule"),
    ({"eps": 0.0}, "eps"), ({"eps": 1.5}, "eps"), ({"beta": 0.0}, "beta"),
    ({"lrs": (0.1, 0.1, 0.1)}, "lrs"), ({"sizes": (784,)}, "sizes"),
    ({"lr_schedule": "linear"}, "lr_schedule"), ({"batch_size": 2.5}, "batch_size"),
    ({"n_train": 0}, "n_train"), ({"rule_params": {"bogus": 1}}, "bogus"),
    ({"rule_params": {"update": "sometimes"}}, "update"),
])
def test_bad_parameters_name_the_field(changes, name):
    with pytest.raises(ParameterError, match=name):
        TrainConfig(**changes)


def test_config_json_roundtrip_and_schedule():
    cfg = TrainConfig(sizes=[784, 100, 10], lrs=[0.2, 0.1], rule_params={"update": "step"},
                      epochs=4, n_train=100)
    d = json.loads(json.dumps(cfg.to_dict()))
    assert TrainConfig.from_dict(d) == cfg
    assert cfg.rule_options().update == "step"
    assert TrainConfig(lrs=0.3).lrs == (0.3, 0.3)
    with pytest.raises(ParameterError, match="unknown parameter"):
        TrainConfig.from_dict({**d, "colour": 1})
    assert lr_at(cfg, 0) == (0.2, 0.1)
    np.testing.assert_allclose(lr_at(cfg, 2), (0.1, 0.05))
    assert lr_at(cfg.with_updates(lr_schedule="constant"), 3) == (0.2, 0.1)


def test_dataset_size_mismatch_is_clear():
    with pytest.raises(ParameterError, match="sizes"):
        train(TrainConfig(), toy_data(), progress=False)


# ------------------------------------------------------------------ activations
def test_activations_and_custom_callable():
    x = np.linspace(-1, 2, 31, dtype=np.float32)
    np.testing.assert_array_equal(act.get_activation("hard_sigmoid")(x), np.clip(x, 0, 1))
    s = act.get_activation("sigmoid")(x)
    assert s.dtype == np.float32 and np.all(np.diff(s) > 0) and abs(s[15] - 0.5) < 1e-6
    buf = x.copy()
    act.get_activation("sigmoid")(buf, out=buf)
    np.testing.assert_allclose(buf, s)
    tab = act.tabulated([0, 1], [0, 1])
    np.testing.assert_allclose(tab(x), np.clip(x, 0, 1))
    with pytest.raises(ParameterError):
        act.get_activation("relu")
    with pytest.raises(ParameterError):
        act.tabulated([1, 0], [0, 1])
    # a custom callable replaces rho in training: clip written by hand == hard_sigmoid
    data = toy_data(n_train=60)
    cfg = TrainConfig(sizes=(20, 8, 3), T1=10, T2=4)
    a = train(cfg, data, progress=False)
    b = train(cfg, data, progress=False, activation=lambda v: np.minimum(np.maximum(v, 0), 1))
    c = train(cfg.with_updates(activation="sigmoid"), data, progress=False)
    # (hard_sigmoid may run the compiled kernel: equal up to float32 rounding)
    np.testing.assert_allclose(a.net.W[0], b.net.W[0], rtol=1e-4, atol=1e-5)
    assert np.abs(a.net.W[0] - c.net.W[0]).max() > 1e-3


def test_evaluate_free_phase_only(mnist):
    cfg = TrainConfig(n_test=300)
    rule = get_rule("cep")(cfg, np.random.default_rng(0))
    net = Network.init(cfg.sizes, np.random.default_rng(0))
    w0 = [w.copy() for w in net.W]
    acc = evaluate(net, rule, mnist.x_test[:300], mnist.y_test[:300], batch_size=128)
    assert 0 <= acc <= 1
    for a, b in zip(w0, net.W):
        np.testing.assert_array_equal(a, b)  # evaluation never writes weights
