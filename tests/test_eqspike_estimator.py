"""EqSpike: on a fixed network state, the spike-driven update averaged over many
stochastic runs agrees with the rate-based C-EP update of the same network.

Stated tolerance (Bernoulli spikes, M = 400 independent runs of one image,
eps 0.2, T2 20, beta 1, symmetric nudging with common noise): relative error
||mean - cep|| / ||cep|| per weight layer < 0.12 and cosine > 0.98 for the
unbiased ``delayed`` pairing; < 0.25 and > 0.95 for ``both`` (half the
same-step bias). ``same_step`` is biased (a spike and the change it causes are
correlated): its error must exceed the delayed pairing's.
Measured when written: delayed 0.068 / 0.035, both 0.109 / 0.162,
same_step 0.191 / 0.309 (layers 0 / 1).
"""
import numpy as np
import pytest

from eqspike.network import event as ev
from eqspike.network import event_reference as evref
from eqspike.network.config import TrainConfig
from eqspike.network.rules import get_rule

SIZES = (24, 16, 5)
M = 400


def _setup(pairing, common_noise=True):
    cfg = TrainConfig(sizes=SIZES, rule="eqspike", T1=60, T2=20, beta=1.0, lrs=(0.1, 0.1),
                      rule_params={"pairing": pairing, "common_noise": common_noise,
                                   "compute": "event", "avg_steps": 10})
    rule = get_rule("eqspike")(cfg, np.random.default_rng(0))
    rng = np.random.default_rng(42)
    W = [rng.normal(0, 0.6 / np.sqrt(a), (a, b)).astype(np.float32)
         for a, b in zip(SIZES[:-1], SIZES[1:])]
    b = [np.full(n, 0.3, np.float32) for n in SIZES[1:]]
    x = rng.random(SIZES[0]).astype(np.float32)
    x[x < 0.4] = 0.0
    y = np.zeros(SIZES[-1], np.float32)
    y[2] = 1.0
    return cfg, rule, W, b, x, y


def _fixed_state(rule, W, b, x):
    spec = rule.spec
    N = int(spec.offsets[-1])
    u0 = np.zeros((1, N), np.float32)
    _, _, u0 = evref.phase_rate(spec, W, b, u0, x[None], np.zeros((1, SIZES[-1]), np.float32),
                             60, 0.0, np.zeros(60))
    return u0


def _spike_mean(rule, W, b, x, y, u0, common_noise):
    spec = rule.spec
    off = spec.offsets
    N = int(off[-1])
    bufs = ev.event_buffers(spec.sizes, M)
    for sign, seed in ((1.0, 11), (-1.0, 11 if common_noise else 12)):
        st = ev.PhaseState(np.repeat(u0, M, 0), np.zeros((M, N), np.float32),
                           np.zeros((M, N), np.float32), np.full((M, N), np.nan, np.float32))
        st.r[:, off[0]:off[1]] = x
        st.r[:, off[1]:] = spec.act_fn(st.u[:, off[1]:].copy())
        ev.phase_event(spec, W, b, st, np.repeat(y[None], M, 0), 20, 60, sign * 1.0, seed, True,
                       rule.wsched, sign, bufs[0], bufs[1])
    return [buf.sum(axis=0) / (2.0 * M) for buf in bufs[0]]


def _cep(rule, W, b, x, y, u0):
    plus, _, _ = evref.phase_rate(rule.spec, W, b, u0, x[None], y[None], 20, 1.0, rule.wsched)
    minus, _, _ = evref.phase_rate(rule.spec, W, b, u0, x[None], y[None], 20, -1.0, rule.wsched)
    return [(p - m) / 2.0 for p, m in zip(plus, minus)]


def _errors(pairing):
    cfg, rule, W, b, x, y = _setup(pairing)
    u0 = _fixed_state(rule, W, b, x)
    ref = _cep(rule, W, b, x, y, u0)
    est = _spike_mean(rule, W, b, x, y, u0, True)
    out = []
    for e, r in zip(est, ref):
        assert np.linalg.norm(r) > 1e-3
        rel = np.linalg.norm(e - r) / np.linalg.norm(r)
        cos = float(np.dot(e.ravel(), r.ravel()) / np.linalg.norm(e) / np.linalg.norm(r))
        out.append((rel, cos))
    return out


@pytest.mark.parametrize("pairing,tol_rel,min_cos", [("delayed", 0.12, 0.98), ("both", 0.25, 0.95)])
def test_spike_update_mean_matches_cep(pairing, tol_rel, min_cos):
    for k, (rel, cos) in enumerate(_errors(pairing)):
        assert rel < tol_rel, f"layer {k}: relative error {rel:.3f}"
        assert cos > min_cos, f"layer {k}: cosine {cos:.3f}"


def test_same_step_pairing_is_biased():
    same = _errors("same_step")
    delayed = _errors("delayed")
    assert sum(r for r, _ in same) > 1.5 * sum(r for r, _ in delayed)


def test_common_noise_reduces_variance_of_single_runs():
    """The +beta/-beta difference with common random numbers is a lower-variance estimate."""
    cfg, rule, W, b, x, y = _setup("delayed")
    u0 = _fixed_state(rule, W, b, x)
    ref = _cep(rule, W, b, x, y, u0)[0]
    spec = rule.spec
    off = spec.offsets
    N = int(off[-1])
    n = 5
    errs = {}
    for common in (True, False):
        ests = []
        for g in range(8):   # 8 estimates, each from n stochastic runs
            bufs = ev.event_buffers(spec.sizes, n)
            for sign, seed in ((1.0, 100 + g), (-1.0, (100 + g) if common else (200 + g))):
                st = ev.PhaseState(np.repeat(u0, n, 0), np.zeros((n, N), np.float32),
                                   np.zeros((n, N), np.float32), np.full((n, N), np.nan, np.float32))
                st.r[:, off[0]:off[1]] = x
                st.r[:, off[1]:] = spec.act_fn(st.u[:, off[1]:].copy())
                ev.phase_event(spec, W, b, st, np.repeat(y[None], n, 0), 20, 60, sign, seed, True,
                               rule.wsched, sign, bufs[0], bufs[1])
            ests.append(bufs[0][0].sum(axis=0) / (2.0 * n))
        errs[common] = np.mean([np.linalg.norm(e - ref) for e in ests]) / np.linalg.norm(ref)
    assert errs[True] < 0.7 * errs[False], errs
