"""EqSpike on real MNIST: 5,000 training images, one epoch, >= 80 % on 1,000 test images."""
import numpy as np
import pytest

from eqspike.network.config import TrainConfig


@pytest.mark.slow
def test_eqspike_learns_mnist(mnist_dir, tmp_path):
    from eqspike.datasets import load_dataset
    from eqspike.network.trainer import train
    data = load_dataset(mnist_dir, progress=False)
    cfg = TrainConfig(rule="eqspike", sizes=(784, 500, 10), epochs=1, n_train=5000, n_test=1000,
                      beta=1.0, lrs=(0.1, 0.05), T1=60, T2=20, seed=0)
    res = train(cfg, data, tmp_path / "run", progress=False)
    assert res.test_acc >= 0.80, f"test accuracy {res.test_acc:.3f}"
    m = res.metrics.iloc[-1]
    # spikes per image per layer reach the metrics: input ~ sum of pixels x T1
    mean_pixels = float(data.x_train[:5000].sum(axis=1).mean())
    assert abs(m["spikes_free_per_image_0"] - mean_pixels * 60) < 0.1 * mean_pixels * 60
    assert m["spikes_free_per_image_1"] > 0 and m["spikes_nudged_per_image_0"] > 0
    assert (tmp_path / "run" / "metrics.csv").exists()


def test_eqspike_resume_continues_bit_for_bit(mnist_dir, tmp_path, monkeypatch):
    """The checkpoint keeps the compute path ``auto`` settled on: a resumed run does not
    re-time the dense path (whose float rounding differs) and matches an uninterrupted one."""
    from eqspike.datasets import load_dataset
    from eqspike.network import event as ev
    from eqspike.network.trainer import CHECKPOINT, load_checkpoint, train
    # a clock that makes every timed batch take 1 s: `auto` settles the same way in both runs
    # (the real clock on a loaded machine may make the full and the cut run choose differently)
    ticks = iter(range(10**9))
    monkeypatch.setattr(ev.PathChooser, "clock", staticmethod(lambda: float(next(ticks))))
    data = load_dataset(mnist_dir, progress=False)
    cfg = TrainConfig(rule="eqspike", sizes=(784, 40, 10), epochs=2, n_train=200, n_test=100,
                      beta=1.0, lrs=(0.1, 0.05), T1=20, T2=6, seed=3)
    full = train(cfg, data, tmp_path / "full", progress=False)
    train(cfg.with_updates(epochs=1), data, tmp_path / "cut", progress=False)
    arrays, _ = load_checkpoint(tmp_path / "cut" / CHECKPOINT)
    assert str(arrays["rule__chosen_path"]) in ("event", "dense")
    resumed = train(cfg, data, tmp_path / "cut", resume=True, progress=False)
    for a, b in zip(full.net.W + full.net.b, resumed.net.W + resumed.net.b):
        np.testing.assert_array_equal(a, b)
