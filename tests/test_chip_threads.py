"""The chip kernel's work sharing (network/chip_threads.py): share boundaries, list
shares and the speed-following fractions, as pure functions."""
from __future__ import annotations

import numpy as np
import pytest

from eqspike.network.chip_threads import SHARE_ALIGN, list_share, rebalance, share_bounds


def _cum(frac):
    return np.concatenate(([0.0], np.cumsum(frac))).astype(np.float64)


@pytest.mark.parametrize("n, frac", [(500, (0.5, 0.5)), (500, (0.3, 0.7)), (784, (0.2, 0.5, 0.3)),
                                     (10, (0.5, 0.5)), (10, (0.9, 0.1)), (48, (0.25, 0.25, 0.5))])
def test_share_bounds_cover_the_layer_on_aligned_boundaries(n, frac):
    nt = len(frac)
    cum = _cum(frac)
    cum[-1] = 1.0
    out = np.zeros(nt + 1, np.int64)
    share_bounds(n, cum, nt, out)
    assert out[0] == 0 and out[-1] == n
    assert np.all(np.diff(out) >= 0)
    inner = out[1:-1]
    assert np.all((inner % SHARE_ALIGN == 0) | (inner == n))
    # each boundary is the aligned point nearest to its fraction of the layer
    for t in range(1, nt):
        assert abs(out[t] - cum[t] * n) <= SHARE_ALIGN / 2 + 1e-9 or out[t] == n


def test_list_share_splits_a_list_by_count():
    cum = _cum((0.25, 0.75))
    assert [list_share(cum, t, 100) for t in range(3)] == [0, 25, 100]
    assert [list_share(cum, t, 0) for t in range(3)] == [0, 0, 0]
    cum = _cum((1 / 3, 1 / 3, 1 / 3))
    parts = [list_share(cum, t, 10) for t in range(4)]
    assert parts[0] == 0 and parts[-1] == 10 and np.all(np.diff(parts) >= 3)


def test_rebalance_moves_the_fractions_toward_equal_finishing_times():
    frac = np.array([0.5, 0.5])
    busy = np.array([3.0, 1.0])   # worker 0 three times slower on the same share
    for _ in range(40):
        rebalance(frac, busy * frac / 0.5, 2, 0.5)   # busy time proportional to the share
    assert frac.sum() == pytest.approx(1.0)
    assert frac[0] == pytest.approx(0.25, abs=1e-6)   # speeds 1 : 3
    # one step with gain 1 goes straight to the balance
    f = np.array([0.5, 0.5])
    rebalance(f, np.array([3.0, 1.0]), 2, 1.0)
    np.testing.assert_allclose(f, [0.25, 0.75])
    # a worker never loses its whole share, and counts that are not positive change nothing
    f = np.array([0.5, 0.5])
    rebalance(f, np.array([1e9, 1.0]), 2, 1.0)
    assert f[0] > 0.04 and f.sum() == pytest.approx(1.0)
    g = np.array([0.4, 0.6])
    rebalance(g, np.array([0.0, 1.0]), 2, 0.5)
    np.testing.assert_array_equal(g, [0.4, 0.6])
