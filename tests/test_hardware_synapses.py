"""Device-aware synapses: pulse policies, bounds, levels, refresh, noise, checkpoints.

Hand-checkable numbers use the ideal 11-level device on [1, 11] uS: one pulse
moves G by 1 uS, i.e. W by 0.1 when w_max = 1 (G_ref = 10 uS).
"""
import numpy as np
import pytest

from eqspike.devices.profile import DeviceProfile
from eqspike.errors import ParameterError, ProfileError
from eqspike.network.model import Network
from eqspike.network.synapses import (DeviceModel, DeviceSynapseConfig, DeviceSynapses,
                                      pulse_counts)


def ideal11():
    return DeviceProfile.ideal(n_levels=11, g_min_S=1e-6, g_max_S=11e-6, write_energy_J=2e-12)


def make(profile, shape=(3, 2), W0=0.0, **cfg):
    net = Network.init((shape[0], shape[1]), np.random.default_rng(0))
    net.W[0][...] = W0
    syn = DeviceSynapses(profile, DeviceSynapseConfig(**cfg))
    net.synapses = syn
    syn.attach(net)
    return net, syn


# ------------------------------------------------------------------ policies (pure function)
def test_sign_policy_counts_one_pulse_above_threshold():
    x = np.array([0.0, 0.2, 0.5, 3.0, np.inf], np.float32)
    assert pulse_counts(x, "sign", max_pulses=8, sign_threshold=0.5).tolist() == [0, 0, 1, 1, 1]


def test_round_policy_rounds_half_up_and_caps():
    x = np.array([0.0, 0.49, 0.5, 1.49, 2.6, 100.0, np.inf], np.float32)
    assert pulse_counts(x, "round", max_pulses=8).tolist() == [0, 0, 1, 1, 3, 8, 8]


def test_stochastic_policy_is_floor_or_ceil_and_unbiased():
    rng = np.random.default_rng(1)
    assert pulse_counts(np.array([0.0, 1.0, 2.0, 5.0], np.float32), "stochastic",
                        max_pulses=4, rng=rng).tolist() == [0, 1, 2, 4]
    x = np.full(200_000, 1.25, np.float32)
    n = pulse_counts(x, "stochastic", max_pulses=8, rng=rng)
    assert set(np.unique(n).tolist()) == {1, 2}
    assert abs(n.mean() - 1.25) < 0.005  # 5 sigma of the binomial mean is ~0.0048


def test_unknown_policy_refused():
    with pytest.raises(ParameterError, match="policy"):
        DeviceSynapseConfig(policy="nearest")
    with pytest.raises(ParameterError, match="w_max"):
        DeviceSynapseConfig(w_max=(1.0, -2.0))


# ------------------------------------------------------------------ backend, hand-checked
def test_round_policy_on_ideal_device_hand_numbers():
    net, syn = make(ideal11(), policy="round", refresh="none")
    dW = np.array([[0.1, 0.04], [0.26, 0.06], [-0.14, 0.0]], np.float32)
    net.apply_update([dW], [None])
    np.testing.assert_allclose(net.W[0], [[0.1, 0.0], [0.3, 0.1], [-0.1, 0.0]], atol=1e-6)
    c = syn.take_counts()[0]
    assert c["up"] == 1 + 3 + 1 + 1 and c["down"] == 0
    # potentiate-only scheme: the negative update went to G- (1 pulse, G- = 2 uS)
    gp, gm = syn.conductances(0)
    np.testing.assert_allclose(gm[2, 0], 2e-6, rtol=1e-5)
    np.testing.assert_allclose(gp[2, 0], 1e-6, rtol=1e-5)
    assert syn.write_energy_J([c]) == pytest.approx(6 * 2e-12)
    assert syn.take_counts()[0]["up"] == 0  # reset after take


def test_sign_policy_on_device_ignores_magnitude():
    net, syn = make(ideal11(), policy="sign", refresh="none")
    dW = np.array([[0.5, 0.01], [0.06, -0.3], [0.0, -0.04]], np.float32)
    net.apply_update([dW], [None])
    np.testing.assert_allclose(net.W[0], [[0.1, 0.0], [0.1, -0.1], [0.0, 0.0]], atol=1e-6)


def test_balanced_scheme_uses_room_and_counts_down_pulses():
    # W0 = 0 centres both devices at mid-range (level 5 of 0..10)
    net, syn = make(ideal11(), policy="round", scheme="balanced", refresh="none")
    np.testing.assert_allclose(syn.u_p[0], 0.5)
    np.testing.assert_allclose(syn.u_m[0], 0.5)
    # first make G+ high, then a positive update must depress G- (more room there)
    net.apply_update([np.full((3, 2), 0.2, np.float32)], [None])
    c1 = syn.take_counts()[0]
    assert c1["up"] == 12 and c1["down"] == 0  # equal room -> potentiate G+ (2 pulses each)
    np.testing.assert_allclose(syn.u_p[0], 0.7, atol=1e-6)
    net.apply_update([np.full((3, 2), 0.1, np.float32)], [None])
    c2 = syn.take_counts()[0]
    assert c2["up"] == 0 and c2["down"] == 6
    np.testing.assert_allclose(syn.u_m[0], 0.4, atol=1e-6)
    np.testing.assert_allclose(net.W[0], 0.3, atol=1e-6)


def test_hard_bounds_and_max_pulses():
    net, syn = make(ideal11(), policy="round", refresh="none", max_pulses=4)
    net.apply_update([np.full((3, 2), 0.75, np.float32)], [None])  # 7.5 steps -> capped at 4
    np.testing.assert_allclose(net.W[0], 0.4, atol=1e-6)
    for _ in range(5):
        net.apply_update([np.full((3, 2), 5.0, np.float32)], [None])
    assert np.all(syn.u_p[0] <= 1.0)
    np.testing.assert_allclose(net.W[0], 1.0, atol=1e-6)  # w_max: G+ at g_max, G- at g_min


def test_levels_quantise_noisy_devices():
    prof = DeviceProfile.from_neurosim(2.0, -2.0, 16, c2c_sigma=0.02, d2d_sigma=0.0)
    net, syn = make(prof, shape=(40, 30), W0=0.0, policy="stochastic", refresh="none")
    lv = syn.device.levels
    rng = np.random.default_rng(3)
    for _ in range(5):
        net.apply_update([rng.normal(0, 0.2, (40, 30)).astype(np.float32)], [None])
    for u in (syn.u_p[0], syn.u_m[0]):
        d = np.min(np.abs(u.reshape(-1, 1) - lv.reshape(1, -1)), axis=1)
        assert d.max() < 1e-6
    assert np.unique(syn.u_p[0]).size > 3  # they did move


def test_nonlinear_step_shrinks_near_top():
    prof = DeviceProfile.from_neurosim(3.0, -3.0, 32)
    dm = DeviceModel(prof)
    s_low, s_high = dm.step_up(np.float32(0.05)), dm.step_up(np.float32(0.9))
    assert s_low > 2 * s_high > 0
    # nominal levels are the noise-free LTP train: consecutive steps equal the table steps
    np.testing.assert_allclose(np.diff(dm.levels[:5]), dm.step_up(dm.levels[:4]), rtol=1e-3)


def test_d2d_spread_sampled_once_per_device():
    prof = DeviceProfile.from_neurosim(1.0, -1.0, 64, d2d_sigma=0.2)
    net, syn = make(prof, shape=(50, 40), policy="round", refresh="none")
    s = syn.s_p[0]
    assert 0.15 < s.std() < 0.25 and abs(s.mean() - 1) < 0.05
    before = s.copy()
    net.apply_update([np.full((50, 40), 0.05, np.float32)], [None])
    np.testing.assert_array_equal(syn.s_p[0], before)
    prof0 = DeviceProfile.from_neurosim(1.0, -1.0, 64, d2d_sigma=0.0)
    _, syn0 = make(prof0, shape=(50, 40))
    assert np.all(syn0.s_p[0] == 1.0)


def test_refresh_reprograms_saturating_pairs_to_same_weight():
    net, syn = make(ideal11(), shape=(2, 2), policy="round", refresh="periodic", refresh_every=1,
                    refresh_margin=0.05)
    # drive G+ to 0.9 then G- to 1.0 (W = -0.1): both high, pair saturates
    syn.config  # noqa: B018
    net.W[0][...] = 0
    syn.u_p[0][...] = 0.9
    syn.u_m[0][...] = 1.0
    syn._refresh_cache(0)
    w_before = syn.weights(0).copy()
    n = syn.refresh(net)
    assert n == 4
    np.testing.assert_allclose(syn.weights(0), w_before, atol=1e-6)
    np.testing.assert_allclose(net.W[0], w_before, atol=1e-6)
    np.testing.assert_allclose(syn.u_p[0], 0.0)       # lower device to g_min
    np.testing.assert_allclose(syn.u_m[0], 0.1, atol=1e-6)
    c = syn.take_counts()[0]
    assert c["refresh_down"] == 4 * (9 + 9)           # 0.9 -> 0 and 1.0 -> 0.1, 9 steps each


def test_checkpoint_roundtrip_continues_identically():
    prof = DeviceProfile.from_neurosim(1.0, -1.0, 64, c2c_sigma=0.01, d2d_sigma=0.1)
    rng = np.random.default_rng(0)
    dws = [rng.normal(0, 0.02, (20, 10)).astype(np.float32) for _ in range(4)]
    net, syn = make(prof, shape=(20, 10), W0=0.1)
    net.apply_update([dws[0]], [None])
    st = {k: v.copy() for k, v in syn.state().items()}
    W_saved = net.W[0].copy()
    for d in dws[1:]:
        net.apply_update([d], [None])
    net2, syn2 = make(prof, shape=(20, 10), W0=0.0, seed=99)
    syn2.load_state(st)
    net2.W[0][...] = W_saved
    for d in dws[1:]:
        net2.apply_update([d], [None])
    np.testing.assert_array_equal(net.W[0], net2.W[0])


def test_biases_stay_ideal_floats():
    net, syn = make(ideal11())
    net.apply_update([None], [np.array([0.123, -0.5], np.float32)])
    np.testing.assert_allclose(net.b[0], [0.123, -0.5])


# ------------------------------------------------------------------ profiles refused clearly
def test_device_profile_missing_or_wrong_unit_fields_refused(tmp_path):
    d = ideal11().to_dict()
    bad = dict(d)
    del bad["dg_up_S"]
    with pytest.raises(ProfileError, match="dg_up_S"):
        DeviceProfile.from_dict(bad)
    bad = dict(d)
    bad["g_min_uS"] = bad.pop("g_min_S")
    with pytest.raises(ProfileError, match="g_min_uS"):
        DeviceProfile.from_dict(bad)
    bad = dict(d)
    bad["g_max_S"] = 5.0  # 5 S: siemens, not microsiemens
    with pytest.raises(ProfileError, match="g_max_S"):
        DeviceProfile.from_dict(bad)
    with pytest.raises(ProfileError, match="DeviceProfile"):
        DeviceSynapses(object())


def test_neuron_profile_missing_fields_refused():
    from eqspike.circuits.profile import NeuronProfile
    from eqspike.network.neuron_transfer import NeuronTransfer
    d = NeuronProfile.ideal_hard_sigmoid().to_dict()
    del d["max_rate_Hz"]
    with pytest.raises(ProfileError, match="max_rate_Hz"):
        NeuronProfile.from_dict(d)
    with pytest.raises(ProfileError, match="NeuronProfile"):
        NeuronTransfer(object())


def test_closed_form_for_linear_device_equals_pulse_loop():
    prof = DeviceProfile.ideal(n_levels=101, g_min_S=1e-6, g_max_S=11e-6)
    rng = np.random.default_rng(5)
    dws = [rng.normal(0, 0.05, (30, 20)).astype(np.float32) for _ in range(6)]
    out = []
    for force_loop in (False, True):
        net, syn = make(prof, shape=(30, 20), W0=0.0, policy="round", scheme="balanced",
                        refresh="none", max_pulses=20)
        assert syn.device.linear
        syn.device.linear = not force_loop
        for d in dws:
            net.apply_update([d], [None])
        out.append((net.W[0].copy(), syn.take_counts()))
    np.testing.assert_allclose(out[0][0], out[1][0], atol=1e-6)
    assert out[0][1] == out[1][1]


@pytest.mark.parametrize("policy", ["sign", "round"])
def test_compiled_pulse_count_matches_reference_function(policy):
    prof = DeviceProfile.from_neurosim(1.5, -1.5, 64)
    rng = np.random.default_rng(11)
    dw = rng.normal(0, 0.01, (50, 40)).astype(np.float32)
    dw[0, :5] = 0.0
    net, syn = make(prof, shape=(50, 40), W0=0.0, policy=policy, refresh="none", max_pulses=3)
    inv_p, inv_m = syn._inv[0]["up_p"].copy(), syn._inv[0]["up_m"].copy()
    x = np.where(dw > 0, dw * inv_p, -dw * inv_m).astype(np.float32)
    want = pulse_counts(x, policy, max_pulses=3, sign_threshold=0.5)
    net.apply_update([dw], [None])
    assert syn.take_counts()[0]["up"] == int(want.sum()) > 0


def test_compiled_stochastic_rounding_is_unbiased():
    prof = DeviceProfile.ideal(n_levels=100001, g_min_S=1e-6, g_max_S=11e-6)
    net, syn = make(prof, shape=(400, 500), W0=0.0, policy="stochastic", refresh="none")
    step = 1.0 / 100000  # weight per pulse (w_max 1)
    dw = np.full((400, 500), 0.3 * step, np.float32)
    dw[:, 250:] *= -1
    net.apply_update([dw], [None])
    n = syn.take_counts()[0]["up"]
    assert abs(n / dw.size - 0.3) < 0.005  # 200,000 Bernoulli(0.3): sd 0.001
    np.testing.assert_allclose(np.unique(np.abs(net.W[0])), [0.0, step], rtol=1e-3, atol=1e-9)


# ------------------------------------------------------------------ accumulate (mixed precision)
@pytest.mark.parametrize("scheme", ["potentiate", "balanced"])
def test_accumulate_policy_pulses_whole_steps_and_keeps_the_residual(scheme):
    net, syn = make(ideal11(), shape=(1, 3), policy="accumulate", scheme=scheme, refresh="none")
    W0 = net.W[0].copy()
    d = np.array([[0.04, -0.04, 0.06]], np.float32)
    for _ in range(2):
        net.apply_update([d], [None])
    # 0.08 / -0.08 accumulated: below one step (0.1), no pulse yet; 0.12 -> one pulse
    np.testing.assert_allclose(net.W[0] - W0, [[0.0, 0.0, 0.1]], atol=1e-6)
    np.testing.assert_allclose(syn.resid[0], [[0.08, -0.08, 0.02]], atol=1e-6)
    net.apply_update([d], [None])
    np.testing.assert_allclose(net.W[0] - W0, [[0.1, -0.1, 0.1]], atol=1e-6)
    np.testing.assert_allclose(syn.resid[0], [[0.02, -0.02, 0.08]], atol=1e-6)
    c = syn.take_counts()[0]
    assert c["up"] + c["down"] == 3
    # updates of opposite sign cancel in the residual: no pulse at all
    W1 = net.W[0].copy()
    net.apply_update([-d], [None])
    net.apply_update([d], [None])
    c = syn.take_counts()[0]
    assert c["up"] + c["down"] == 0 and c["accumulator"] == 2 * 3   # 2 updates x 3 synapses
    np.testing.assert_array_equal(net.W[0], W1)
    np.testing.assert_allclose(syn.resid[0], [[0.02, -0.02, 0.08]], atol=1e-6)


def test_accumulate_sends_fewer_pulses_than_stochastic_on_zero_mean_updates():
    prof = DeviceProfile.from_neurosim(1.0, -1.0, 128, c2c_sigma=0.0)
    rng = np.random.default_rng(5)
    dws = [rng.normal(0, 2e-3, (40, 30)).astype(np.float32) for _ in range(60)]
    counts = {}
    for policy in ("stochastic", "accumulate"):
        net, syn = make(prof, shape=(40, 30), W0=0.0, policy=policy, refresh="none",
                        w_max=1.0)
        for d in dws:
            net.apply_update([d], [None])
        counts[policy] = syn.take_counts()[0]["up"]
        # both follow the summed update to within a few steps (the level grid)
        err = np.abs(net.W[0] - np.sum(dws, axis=0)).mean()
        assert err < 0.03, (policy, err)
    assert counts["accumulate"] < 0.3 * counts["stochastic"], counts


def test_accumulate_residual_survives_a_checkpoint():
    prof = DeviceProfile.from_neurosim(1.0, -1.0, 64, c2c_sigma=0.01)
    rng = np.random.default_rng(0)
    dws = [rng.normal(0, 0.01, (20, 10)).astype(np.float32) for _ in range(4)]
    net, syn = make(prof, shape=(20, 10), W0=0.05, policy="accumulate")
    net.apply_update([dws[0]], [None])
    assert np.abs(syn.resid[0]).max() > 0
    st = {k: v.copy() for k, v in syn.state().items()}
    W_saved = net.W[0].copy()
    for d in dws[1:]:
        net.apply_update([d], [None])
    net2, syn2 = make(prof, shape=(20, 10), W0=0.0, policy="accumulate", seed=7)
    syn2.load_state(st)
    net2.W[0][...] = W_saved
    for d in dws[1:]:
        net2.apply_update([d], [None])
    np.testing.assert_array_equal(net.W[0], net2.W[0])


@pytest.mark.parametrize("n_chunks", [1, 2, 3, 7])
def test_parallel_accumulate_kernel_equals_the_sequential_one(n_chunks):
    from eqspike.network._synapse_kernels import count_accumulate, count_potentiate
    rng = np.random.default_rng(4)
    N = 1001
    dw = rng.normal(0, 0.02, N).astype(np.float32)
    inv_p = (1.0 / rng.uniform(0.005, 0.02, N)).astype(np.float32)
    inv_m = (1.0 / rng.uniform(0.005, 0.02, N)).astype(np.float32)
    inv_m[::50] = 1e30   # devices that cannot move: capped pulse counts
    r0 = rng.normal(0, 0.01, N).astype(np.float32)
    out = []
    for f in ("seq", "par"):
        idx, n = np.full(N, -1, np.int64), np.zeros(N, np.int32)
        pos, resid = np.zeros(N, np.uint8), r0.copy()
        if f == "seq":
            m = count_potentiate(dw, inv_p, inv_m, 3, 8, 0.5, np.uint64(1), idx, n, resid, pos)
        else:
            m = count_accumulate(dw, inv_p, inv_m, 8, n_chunks, idx, n, resid, pos)
        out.append((m, idx[:m].copy(), n[:m].copy(), pos[:m].copy(), resid))
    (m1, i1, n1, p1, r1), (m2, i2, n2, p2, r2) = out
    assert m1 == m2 > 100
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(n1, n2)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(r1, r2)


@pytest.mark.parametrize("max_pulses,refresh", [(8, "none"), (2, "periodic")])
def test_accumulate_skipping_idle_rows_is_exact(max_pulses, refresh):
    """Rows with no update and no carry are skipped: the same pulses, residuals and weights
    as visiting every synapse (capped counts leave residuals above a step: carried)."""
    prof = DeviceProfile.from_neurosim(1.0, -1.0, 64, c2c_sigma=0.01)
    rng = np.random.default_rng(5)
    dws = []
    for i in range(12):
        d = rng.normal(0, 0.03, (40, 10)).astype(np.float32)
        d[rng.random(40) < 0.6] = 0.0          # idle rows (pixels at 0 in the whole batch)
        if i % 4 == 3:
            d[:] = 0.0                           # a batch with no update at all
        dws.append(d)
    out = []
    for skip in (True, False):
        net, syn = make(prof, shape=(40, 10), W0=0.05, policy="accumulate",
                        max_pulses=max_pulses, refresh=refresh, refresh_every=3, seed=3)
        syn.skip_idle_rows = skip
        for d in dws:
            net.apply_update([d], [None])
        out.append((net.W[0].copy(), syn.u_p[0].copy(), syn.u_m[0].copy(),
                    syn.resid[0].copy(), syn.take_counts()))
    a, b = out
    for x, y in zip(a[:4], b[:4]):
        np.testing.assert_array_equal(x, y)
    assert a[4] == b[4] and a[4][0]["up"] > 0
