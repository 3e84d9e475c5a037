"""The roofline references and the add count of bench_eqspike (tiny sizes)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_eqspike  # noqa: E402
import roofline  # noqa: E402


def test_rowadd_numba_sums_the_rows():
    """Each stream sums its own rows into its own accumulator (checksum: first + last)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((50, 16)).astype(np.float32)
    idx = rng.integers(0, 50, (3, 30)).astype(np.int64)
    res = np.zeros((3, 16), np.float32)
    roofline._rowadd_numba(W, idx, res)
    for s in range(3):
        full = W[idx[s]].sum(0)
        np.testing.assert_allclose(res[s, 0], full[0] + full[-1], rtol=1e-4)


def test_references_report_positive_rates():
    ref = roofline.rowadd_reference(sizes=(64, 32), n_rows=2000, group=10, repeats=1)
    assert ref["best_adds_per_s"] == max(ref["numba_adds_per_s"], ref["numpy_adds_per_s"]) > 0
    bw = roofline.memory_bandwidth(mib=1, repeats=1)
    assert bw["best_B_per_s"] > 0


def test_kernel_adds_counts_rows_by_width():
    free = np.array([100.0, 20.0, 3.0])
    nudged = np.array([80.0, 10.0, 2.0])    # input counted once per replica (2)
    a = bench_eqspike.kernel_adds(free, nudged, (784, 500, 10), replicas=2, pairing=2)
    assert a["input_drive"] == 500 * (100 + 40)
    assert a["input_update"] == 500 * 40
    assert a["hidden_drive"] == 10 * 30
    assert a["output_feedback"] == 500 * 5
    assert a["hidden_update"] == 2 * (10 * 10 + 500 * 2)
    assert a["total"] == sum(v for k, v in a.items() if k != "total")


def test_epoch_run_in_blocks_equals_one_go():
    """The interleaved schedule trains an epoch block by block: the same training, the
    times and spike counts adding up."""
    import types
    rng = np.random.default_rng(0)
    x = (rng.uniform(0, 1, (60, 784)) * (rng.uniform(0, 1, (60, 784)) < 0.2)).astype(np.float32)
    data = types.SimpleNamespace(x_train=x, y_train=rng.integers(0, 10, 60))
    one, parts = bench_eqspike._EpochRun(data, 60), bench_eqspike._EpochRun(data, 60)
    one.block(60)
    while not parts.done:
        parts.block(20)
    assert one.done and parts.pos == 60 and one.free[0] > 0
    np.testing.assert_array_equal(one.free, parts.free)
    np.testing.assert_array_equal(one.nudged, parts.nudged)
    for a, b in zip(one.net.W, parts.net.W):
        np.testing.assert_array_equal(a, b)
    assert parts.wall > 0 and parts.cpu > 0
    s = bench_eqspike._steal_s()
    assert s is None or s >= 0.0
