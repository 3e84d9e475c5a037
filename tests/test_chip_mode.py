"""Chip mode (batch 1, coincidence pulses): expectation of the pulse count, what the backend
holds, reproducibility and resume, the B-bit residual, bad values, the chip costs."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from eqspike.datasets import Dataset
from eqspike.devices.profile import DeviceProfile
from eqspike.errors import ParameterError
from eqspike.network import chip_costs as cc
from eqspike.network.config import TrainConfig
from eqspike.network.hardware import fallback_crossbar, fallback_neuron, train_on_hardware
from eqspike.network.model import Network
from eqspike.network.policies.chip import ChipSynapseConfig, ChipSynapses, check_mode
from eqspike.network.rules import get_rule
from eqspike.network.synapses import DeviceSynapseConfig
from eqspike.network.trainer import train

SIZES = (30, 16, 5)


def _data(n=40, n_test=20, n_in=SIZES[0], n_out=SIZES[-1], seed=3):
    rng = np.random.default_rng(seed)
    x = (rng.random((n + n_test, n_in)) * (rng.random((n + n_test, n_in)) < 0.6)).astype(np.float32)
    y = rng.integers(0, n_out, n + n_test)
    y[:n_out] = np.arange(n_out)   # every class present
    return Dataset(x[:n], y[:n], x[n:], y[n:], "toy", None)


def _cfg(**kw):
    base = dict(sizes=SIZES, rule="eqspike_chip", epochs=1, batch_size=4, T1=12, T2=8, beta=1.0,
                lrs=(0.2, 0.1), lr_schedule="constant", seed=5, eval_batch_size=10)
    base.update(kw)
    return TrainConfig(**base)


def _backend(policy="pulses", levels=1024, phases="difference", bits=8, max_pulses=1000, **dev):
    prof = DeviceProfile.ideal(n_levels=levels, **dev)
    return ChipSynapses(prof, DeviceSynapseConfig(w_max=(1.0,), max_pulses=max_pulses,
                                                  refresh="none"),
                        ChipSynapseConfig(policy=policy, phases=phases, residual_bits=bits))


def _net_rule(cfg, syn):
    net = Network.init(cfg.sizes, np.random.default_rng(0))
    net.synapses = syn
    syn.attach(net)
    rule = get_rule("eqspike_chip")(cfg, np.random.default_rng(1))
    return net, rule


def _expected_pulses(rec, k, diff):
    """Expected pulses on W[k] and their variance, from the recorded spikes and drho."""
    S, dr, off = rec["S"].astype(np.float64), rec["drho"].astype(np.float64), rec["offsets"]
    cs, th, w = rec["cs"][k], rec["theta"], rec["wsched"]
    L = len(off) - 2
    lay = [slice(off[i], off[i + 1]) for i in range(L + 1)]
    E = V = 0.0
    T2 = dr.shape[1]
    phases = [1] if diff else list(range(S.shape[0]))
    for p in phases:
        sgn = rec["signs"][p]
        for i in range(T2):
            for slot, a in enumerate(rec["a"]):
                if a == 0:
                    continue
                spikes = S[p, i + slot]
                terms = []   # (deciding values, spiking 0/1 or signed differences)
                for rev, (dec, spk) in enumerate(((k + 1, k), (k, k + 1))):
                    if rev == 1 and k == 0:
                        continue
                    dv = sgn * dr[p, i, lay[dec]] + (dr[0, i, lay[dec]] if diff else 0.0)
                    terms.append((dv, np.abs(spikes[lay[spk]])))
                    if diff:
                        d_sp = S[0, i + slot, lay[spk]] - S[1, i + slot, lay[spk]]
                        terms.append((dr[0, i, lay[dec]], np.abs(d_sp)))
                for dv, sp in terms:
                    x = a * cs * th * np.abs(w[i] * dv)
                    n_sp = sp.sum()
                    E += x.sum() * n_sp
                    f = x - np.floor(x)
                    V += (f * (1 - f)).sum() * n_sp ** 2
    return E, V


@pytest.mark.parametrize("phases", ["difference", "separate"])
def test_coincidence_pulses_equal_their_expectation(phases):
    cfg = _cfg(batch_size=1)
    data = _data(n=12)
    Y = np.eye(SIZES[-1], dtype=np.float32)[data.y_train]
    tot_n = tot_e = tot_v = 0.0
    per_layer = np.zeros((2, 2))
    syn = _backend(phases=phases)
    net, rule = _net_rule(cfg, syn)
    for b in range(12):
        rule.record = {}
        rule.train_batch(net, data.x_train[b:b + 1], Y[b:b + 1], cfg.lrs)
        rec = rule.record
        for k in range(2):
            n = rec["counters"][k, 0] + rec["counters"][k, 1]
            e, v = _expected_pulses(rec, k, phases == "difference")
            per_layer[k] += (n, e)
            tot_n, tot_e, tot_v = tot_n + n, tot_e + e, tot_v + v
    assert tot_e > 200, "the test needs pulses to count"
    assert abs(tot_n - tot_e) <= 5 * np.sqrt(tot_v) + 1, (tot_n, tot_e, np.sqrt(tot_v))
    assert np.all(per_layer[:, 0] > 0)
    # a wrong rule (e.g. without the pairing share a) would be off by far more than the noise
    assert abs(2 * tot_n - tot_e) > 5 * np.sqrt(tot_v) + 1


def test_backend_holds_only_device_arrays():
    for policy in ("pulses", "residual"):
        cfg = _cfg()
        syn = _backend(policy=policy)
        net, rule = _net_rule(cfg, syn)
        data = _data(n=8)
        Y = np.eye(SIZES[-1], dtype=np.float32)[data.y_train]
        rule.train_batch(net, data.x_train[:4], Y[:4], cfg.lrs)
        shapes = {W.shape for W in net.W}
        found = set()

        def walk(name, v):
            if isinstance(v, np.ndarray):
                if v.shape in shapes or (v.ndim >= 1 and v.size in {int(np.prod(s)) for s in shapes}):
                    found.add(name)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    walk(name, x)
            elif isinstance(v, dict):
                for kk, x in v.items():
                    walk(f"{name}.{kk}", x)

        for name, v in vars(syn).items():
            walk(name, v)
        allowed = {"u_p", "u_m", "s_p", "s_m"} | ({"regs"} if policy == "residual" else set())
        assert found == allowed, found
        assert set(syn.held_arrays()) == allowed
        # the crossbar's weights are the devices' (G+ - G-) / G_ref, nothing else
        for k in range(net.n_layers):
            np.testing.assert_array_equal(net.W[k], syn.weights(k))


@pytest.mark.parametrize("bias, expect_all", [(50.0, True), (-50.0, False)])
def test_chip_mode_reports_active_neuron_steps(bias, expect_all):
    """The ledger's active floor in chip mode is priced on the neuron-steps with positive
    input (as rule ``eqspike`` reports them), not on every neuron: all of them when the
    biases hold every membrane above zero, none when they hold it below."""
    cfg = _cfg()
    net, rule = _net_rule(cfg, _backend())
    for bk in net.b:
        bk[:] = np.float32(bias)
    data = _data(n=8)
    Y = np.eye(SIZES[-1], dtype=np.float32)[data.y_train]
    B = 4
    st = rule.train_batch(net, data.x_train[:B], Y[:B], cfg.lrs)
    act = st["active_free"]
    assert len(act) == len(SIZES) and act[0] == 0
    for k in range(1, len(SIZES)):
        assert act[k] == (SIZES[k] * cfg.T1 * B if expect_all else 0), (k, act)


def test_weights_move_only_by_whole_device_steps():
    """Ideal linear device, no noise, no quantisation issues: every weight change is a
    whole number of steps, and the pulse counters account for all of them."""
    cfg = _cfg()
    syn = _backend(levels=4097)
    net, rule = _net_rule(cfg, syn)
    W0 = [w.copy() for w in net.W]
    up0 = [u.copy() for u in syn.u_p]
    um0 = [u.copy() for u in syn.u_m]
    data = _data(n=8)
    Y = np.eye(SIZES[-1], dtype=np.float32)[data.y_train]
    rule.train_batch(net, data.x_train[:4], Y[:4], cfg.lrs)
    st = syn.step_nominal()
    for k in range(2):
        n_p = (syn.u_p[k] - up0[k]) / st
        n_m = (syn.u_m[k] - um0[k]) / st
        np.testing.assert_allclose(n_p, np.round(n_p), atol=2e-3)
        assert np.all(np.round(n_p) >= 0) and np.all(np.round(n_m) >= 0)   # potentiation only
        assert not np.array_equal(net.W[k], W0[k])
    c = syn.take_chip_counts()
    moved = sum(np.round((syn.u_p[k] - up0[k]) / st).sum() + np.round((syn.u_m[k] - um0[k]) / st).sum()
                for k in range(2))
    assert moved == c["pulses_p"].sum() + c["pulses_m"].sum()


def _train_run(cfg, data, run_dir=None, resume=False, policy="pulses", c2c=0.02):
    prof = dataclasses.replace(DeviceProfile.ideal(n_levels=64), c2c_sigma=c2c, d2d_sigma=0.1)
    holder = {}

    def factory(net):
        syn = ChipSynapses(prof, DeviceSynapseConfig(w_max=(1.0,), refresh_every=3),
                           ChipSynapseConfig(policy=policy))
        syn.attach(net)
        holder["syn"] = syn
        return syn

    res = train(cfg, data, run_dir, synapses=factory, resume=resume, progress=False)
    return res, holder["syn"]


@pytest.mark.parametrize("policy", ["pulses", "residual"])
def test_chip_mode_reproducible_and_resumes_bit_for_bit(tmp_path, policy):
    data = _data(n=24)
    cfg2 = _cfg(epochs=2)
    a, sa = _train_run(cfg2, data, policy=policy)
    b, sb = _train_run(cfg2, data, policy=policy)
    for k in range(2):
        np.testing.assert_array_equal(a.net.W[k], b.net.W[k])
    _train_run(_cfg(epochs=1), data, tmp_path / "run", policy=policy)
    c, sc = _train_run(cfg2, data, tmp_path / "run", resume=True, policy=policy)
    for k in range(2):
        np.testing.assert_array_equal(a.net.W[k], c.net.W[k])
        np.testing.assert_array_equal(sa.u_p[k], sc.u_p[k])
        np.testing.assert_array_equal(a.net.b[k], c.net.b[k])
        if policy == "residual":
            np.testing.assert_array_equal(sa.regs[k], sc.regs[k])
    assert a.metrics["test_acc"].tolist() == c.metrics["test_acc"].tolist()
    assert sum(sa.counts[k]["up"] for k in range(2)) > 0


def test_32_bit_residual_follows_the_float_residual():
    """Same seed, ideal device: a 32-bit register (2**30 LSBs per step) gives the same
    pulses, weights and, to float32 rounding, the same residuals as the float register
    (small increments: neither saturates); a 4-bit one does not."""
    cfg = _cfg(lrs=(0.03, 0.015))
    data = _data(n=32)
    Y = np.eye(SIZES[-1], dtype=np.float32)[data.y_train]

    def run(policy, bits):
        syn = _backend(policy=policy, bits=bits, levels=1024)
        net, rule = _net_rule(cfg, syn)
        for b in range(32):
            rule.train_batch(net, data.x_train[b:b + 1], Y[b:b + 1], cfg.lrs)
        return syn, [w.copy() for w in net.W], syn.take_chip_counts()

    (sq, Wq, cq), (sf, Wf, cf) = run("residual", 32), run("residual_float", 32)
    n_pulses = cf["pulses_p"].sum() + cf["pulses_m"].sum()
    assert n_pulses > 20
    assert cq["register_saturations"].sum() == 0
    assert cq["pulses_p"].sum() + cq["pulses_m"].sum() == n_pulses
    np.testing.assert_array_equal(cq["register_rmw"], cf["register_rmw"])
    for k in range(2):
        np.testing.assert_array_equal(Wq[k], Wf[k])
        np.testing.assert_allclose(sq.regs[k] * 2.0 ** -30, sf.regs[k], atol=1e-6, rtol=1e-5)
    s4, W4, c4 = run("residual", 4)
    assert np.abs(s4.regs[0] / 4.0 - sf.regs[0]).max() > 0.05


def test_bad_values_are_refused_naming_the_parameter():
    with pytest.raises(ParameterError, match="residual_bits"):
        ChipSynapseConfig(policy="residual", residual_bits=0)
    with pytest.raises(ParameterError, match="prob_scale"):
        ChipSynapseConfig(prob_scale=0.0)
    with pytest.raises(ParameterError, match="prob_scale"):
        ChipSynapseConfig(prob_scale=-1.0)
    with pytest.raises(ParameterError, match="'mode' = 'fast'"):
        check_mode("fast")
    with pytest.raises(ParameterError, match="policy"):
        ChipSynapseConfig(policy="magic")
    with pytest.raises(ParameterError, match="mode"):
        train_on_hardware(_cfg(rule="eqspike"), _data(), device=DeviceProfile.ideal(),
                          neuron=fallback_neuron(), crossbar=fallback_crossbar(), mode="fast",
                          progress=False)
    with pytest.raises(ParameterError, match="scheme"):
        ChipSynapses(DeviceProfile.ideal(), DeviceSynapseConfig(scheme="balanced"))


def test_cli_refuses_an_unknown_mode(capsys):
    from eqspike.cli import main
    with pytest.raises(SystemExit) as e:
        main(["run", "--mode", "fast"])
    assert e.value.code == 2
    assert "--mode" in capsys.readouterr().err


@pytest.mark.parametrize("opt, value, name", [("--bias-bits", "0", "bias_bits"),
                                               ("--trace-bits", "40", "value_bits"),
                                               ("--neuron-register-bytes", "10", "neuron_register_bytes"),
                                               ("--sense-energy", "-1e-12", "sense_J")])
def test_cli_refuses_bad_chip_cost_values_naming_them(opt, value, name, capsys, tmp_path):
    from eqspike.cli import main
    assert main(["run", "--mode", "chip", f"{opt}={value}", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert name in err and value.lstrip("-") in err
    assert not (tmp_path / "r").exists()   # refused before any work


def test_chip_costs_follow_the_cited_table():
    assert cc.sram_access_J(64, 8 * 1024) == pytest.approx(10e-12)
    assert cc.sram_access_J(64, 32 * 1024) == pytest.approx(20e-12)
    assert cc.sram_access_J(64, 1024 * 1024) == pytest.approx(100e-12)
    assert cc.sram_access_J(8, 32 * 1024) == pytest.approx(2.5e-12)
    assert 20e-12 < cc.sram_access_J(64, 256 * 1024) < 100e-12
    assert cc.int_add_J(8) == pytest.approx(0.03e-12) and cc.int_add_J(32) == pytest.approx(0.1e-12)
    e = [cc.register_rmw_J(b, 392000) for b in (4, 8, 16)]
    assert e[0] < e[1] < e[2]
    assert cc.float_rmw_J(392000) > cc.register_rmw_J(16, 392000)
    assert cc.neuron_decision_J() == pytest.approx(0.31e-12)


def test_register_file_organisation_is_priced_from_the_table():
    # banked (default): an 8-bit RMW reaches one 8 KB bank: 2 x (10 pJ x 8/64) + 2 x 0.03 pJ
    # (adds) + 2 x 8 bits x 0.2 fF/um x 100 um x (0.9 V)^2 (bank-to-array wire)
    wire = 2 * 8 * 0.2e-15 * 100 * 0.9 ** 2
    assert cc.register_rmw_J(8, 392000) == pytest.approx(2 * 1.25e-12 + 2 * 0.03e-12 + wire)
    # the what-if: one 392 KB SRAM per layer, interpolated log-log between 32 KB and 1 MB
    per_layer = cc.ChipCostConfig(register_file="per_layer")
    e64 = np.exp(np.interp(np.log(392000.0), np.log([32 * 1024, 1024 * 1024]), np.log([20.0, 100.0])))
    assert cc.register_rmw_J(8, 392000, per_layer) == pytest.approx(
        2 * e64 * 8 / 64 * 1e-12 + 2 * 0.03e-12 + wire)
    # a bigger bank costs more per access; no wire, no wire energy
    big = cc.ChipCostConfig(register_bank_bytes=64 * 1024, register_wire_m=0.0)
    assert cc.register_rmw_J(8, 392000, big) > cc.register_rmw_J(8, 392000, cc.ChipCostConfig(
        register_wire_m=0.0))
    assert cc.ChipCostConfig(register_wire_m=0.0).describe(8).startswith("8-bit registers, SRAM banks of 8 KB")


@pytest.mark.parametrize("kw, name", [({"register_file": "cache"}, "register_file"),
                                      ({"register_bank_bytes": 1024}, "register_bank_bytes"),
                                      ({"register_bank_bytes": 4 * 1024 * 1024}, "register_bank_bytes"),
                                      ({"register_wire_m": -1e-6}, "register_wire_m"),
                                      ({"register_leakage_W_per_bit": -1.0}, "register_leakage_W_per_bit")])
def test_register_file_bad_values_are_refused(kw, name):
    with pytest.raises(ParameterError, match=name):
        cc.ChipCostConfig(**kw)


def test_chip_mode_ledger_prices_every_operation():
    cfg = _cfg(rule="eqspike", epochs=1)
    res = train_on_hardware(cfg, _data(n=16), device=DeviceProfile.ideal(n_levels=64, write_energy_J=1e-12),
                            neuron=fallback_neuron(), crossbar=fallback_crossbar(), mode="chip",
                            syn_config=DeviceSynapseConfig(w_max=(1.0,)),
                            chip_config=ChipSynapseConfig(policy="residual", residual_bits=8),
                            progress=False)
    bd = res.ledger.breakdown()
    comps = set(bd.loc[bd["phase"] == "write", "component"])
    for c in ("pulses up", "row line pulse drivers", "column line pulse drivers",
              "neuron update logic", "residual register RMW (8-bit SRAM)"):
        assert c in comps, comps
    rmw = bd[bd["component"] == "residual register RMW (8-bit SRAM)"]
    assert (rmw["count"] > 0).all() and (rmw["energy_J"] > 0).all()
    # retention: every register bit leaks for the whole training time (free + nudged phases)
    ret = bd[bd["component"] == "residual register retention"].reset_index(drop=True)
    train_s = bd.loc[(bd["component"] == "leakage") & bd["phase"].isin(["free", "nudged"]), "count"].sum() \
        / sum(cfg.sizes)
    for k in range(len(cfg.sizes) - 1):
        bits = cfg.sizes[k] * cfg.sizes[k + 1] * 8
        assert ret.loc[k, "count"] == pytest.approx(bits * train_s)
        assert ret.loc[k, "energy_J"] == pytest.approx(bits * train_s * 50e-12)
    assert res.summary["mode"] == "chip" and res.summary["residual_bits"] == 8
    assert res.train.config.rule == "eqspike_chip"
    # the active floor of the training phases is priced on the neuron-steps the rule measured
    led = res.ledger
    for ph in ("free", "nudged"):
        assert led.active_examples.get(ph, 0) == led.examples[ph] > 0, ph


def test_run_mode_both_reports_side_by_side(tmp_path, monkeypatch):
    """`eqspike run --mode both`: the report names its mode and shows both modes."""
    from eqspike import datasets
    from eqspike.cli import main
    dev = tmp_path / "dev.json"
    DeviceProfile.ideal(n_levels=64, write_energy_J=1e-12).to_json(dev)
    data = _data(n=40, n_in=784, n_out=10)
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: data)
    out = tmp_path / "rep"
    rc = main(["run", "--device", str(dev), "--neuron", "ideal", "--crossbar", "ideal",
               "--mode", "both", "--chip-policy", "residual", "--residual-bits", "6",
               "--n-train", "40", "--n-test", "20", "--epochs", "1", "--hidden", "12",
               "--T1", "10", "--T2", "6", "--out", str(out), "--no-progress"])
    assert rc == 0
    rep = (out / "report.md").read_text()
    assert "**Mode: chip**" in rep and "6-bit register per synapse" in rep
    assert "Simulator mode and chip mode side by side" in rep
    table = rep.split("side by side", 1)[1].split("\n\n")[1]
    rows = [ln for ln in table.splitlines() if ln.startswith("| ")]
    assert len(rows) == 3, rows   # header, chip row, simulator row
    assert "simulator mode" in table and "residual register RMW (6-bit SRAM)" in rep


def _register_counts_by_enumeration(sizes, T2, n_samples, n_phases, difference):
    """The per-neuron register accesses of one example, enumerated neuron by neuron and
    step by step (independent of chip_costs.neuron_register_counts)."""
    L = len(sizes) - 1
    out = {k: np.zeros(L) for k in ("trace_spike_bits", "trace_values", "bias_rmw", "restart_values")}
    for k in range(L):
        owned = [(k + 1, j) for j in range(sizes[k + 1])] + ([(0, j) for j in range(sizes[0])]
                                                          if k == 0 else [])
        for layer, _ in owned:
            out["restart_values"][k] += (2 * (1 + n_samples * n_phases)) if layer > 0 else 0
            for _s in range(n_samples):
                for p in range(n_phases):
                    keeps = difference and p == 0
                    reads = difference and p == 1
                    learns = (p == 1) if difference else True
                    for t in range(T2 + 1):
                        if keeps or reads:
                            out["trace_spike_bits"][k] += 1
                        if t < T2 and layer > 0:
                            if keeps or reads:
                                out["trace_values"][k] += 1
                            if learns:
                                out["bias_rmw"][k] += 1
    return out


@pytest.mark.parametrize("difference", [True, False])
def test_per_neuron_register_counts_match_an_enumeration(difference):
    sizes, T2, ns = (7, 5, 3), 4, 2
    got = cc.neuron_register_counts(sizes, T2, ns, 2, difference, 3)
    want = _register_counts_by_enumeration(sizes, T2, ns, 2, difference)
    for key, v in want.items():
        np.testing.assert_allclose(got[key], 3 * v, err_msg=key)
    if not difference:
        assert not got["trace_spike_bits"].any() and not got["trace_values"].any()


def test_chip_ledger_prices_neuron_registers_and_refresh_reads():
    cfg = _cfg(rule="eqspike", epochs=1)
    n = 16
    costs = cc.ChipCostConfig()
    res = train_on_hardware(cfg, _data(n=n), device=DeviceProfile.ideal(n_levels=64, write_energy_J=1e-12),
                            neuron=fallback_neuron(), crossbar=fallback_crossbar(), mode="chip",
                            syn_config=DeviceSynapseConfig(w_max=(1.0,), refresh="periodic",
                                                           refresh_every=2),
                            chip_config=ChipSynapseConfig(policy="pulses"), chip_costs=costs,
                            progress=False)
    bd = res.ledger.breakdown()
    want = cc.neuron_register_counts(cfg.sizes, cfg.T2, 1, 2, True, n)
    bit = 10e-12 / 64   # one bit of an 8 KB SRAM (Horowitz)
    for comp, key, unit in (("+beta trace registers (spike bits)", "trace_spike_bits", bit),
                            ("+beta trace registers (activity changes)", "trace_values", 8 * bit),
                            ("restart-state registers", "restart_values", 16 * bit),
                            ("bias registers RMW", "bias_rmw", 2 * 16 * bit + 0.05e-12)):
        rows = bd[bd["component"] == comp].reset_index(drop=True)
        assert len(rows) == len(cfg.sizes) - 1, comp
        np.testing.assert_allclose(rows["count"], want[key], err_msg=comp)
        np.testing.assert_allclose(rows["energy_J"], want[key] * unit, rtol=1e-9, err_msg=comp)
    # refresh every 2 kernel calls (batches of 4): 2 refreshes, each reading both devices of
    # every pair, plus one verify read per re-programming pulse
    ref = bd[bd["component"] == "refresh reads (scan + verify)"].reset_index(drop=True)
    n_refresh = (n // cfg.batch_size) // 2
    pulses = bd[bd["component"].isin(["pulses refresh_up", "pulses refresh_down"])].groupby("layer")["count"].sum()
    for k in range(len(cfg.sizes) - 1):
        scan = n_refresh * 2 * cfg.sizes[k] * cfg.sizes[k + 1]
        assert ref.loc[k, "count"] == pytest.approx(scan + pulses[f"W{k}"])
        assert ref.loc[k, "energy_J"] > ref.loc[k, "count"] * 1.94e-12 * 0.999
    # the report's stacked bars add up to the ledger's training energy (chip rows included)
    from eqspike.network.report import energy_bar_values
    bars = energy_bar_values(bd)
    assert sum(v[1] for v in bars.values()) == pytest.approx(
        res.summary["energy_per_training_example_J"], rel=1e-9)
    assert bars["per-neuron logic and registers"][1] > 0 and bars["refresh reads"][1] > 0


def test_neuron_register_cost_bad_values_are_refused():
    for kw, name in (({"bias_bits": 0}, "bias_bits"), ({"value_bits": 64}, "value_bits"),
                     ({"neuron_register_bytes": 100}, "neuron_register_bytes"),
                     ({"sense_J": -1.0}, "sense_J")):
        with pytest.raises(ParameterError, match=name):
            cc.ChipCostConfig(**kw)


def _assert_same_training(na, sa, nb, sb):
    """Weights, biases, devices, registers and integer counters bit for bit the same; the
    float sum of G at a pulse to rounding."""
    for k in range(len(na.W)):
        for a, b in [(na.W[k], nb.W[k]), (na.b[k], nb.b[k]), (sa.u_p[k], sb.u_p[k]),
                     (sa.u_m[k], sb.u_m[k])] + ([(sa.regs[k], sb.regs[k])] if sa.regs else []):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sa.chip_counts[:, :6], sb.chip_counts[:, :6])
    np.testing.assert_array_equal(sa.chip_counts[:, 7:], sb.chip_counts[:, 7:])
    np.testing.assert_allclose(sa.chip_counts[:, 6], sb.chip_counts[:, 6], rtol=1e-12)


@pytest.mark.parametrize("policy, phases", [("pulses", "difference"), ("residual", "difference"),
                                            ("residual_float", "separate")])
def test_kernel_result_does_not_depend_on_the_thread_count(policy, phases):
    """Worker threads share each layer's neurons and columns (network/chip_kernel.py);
    every draw is counter-based, so weights, devices, registers, biases and counters are
    bit for bit those of one thread."""
    from eqspike.threads import usable_cpus
    if usable_cpus() < 2:
        pytest.skip("one usable CPU: the kernel runs one worker")
    prof = dataclasses.replace(DeviceProfile.ideal(n_levels=64), c2c_sigma=0.03, d2d_sigma=0.1)
    data = _data(n=12)
    Y = np.eye(SIZES[-1], dtype=np.float32)[data.y_train]
    cfg = _cfg()
    out = []
    for n_threads in (1, 2):
        syn = ChipSynapses(prof, DeviceSynapseConfig(w_max=(1.0,), refresh="none"),
                           ChipSynapseConfig(policy=policy, phases=phases))
        net, rule = _net_rule(cfg, syn)
        rule.n_threads = n_threads
        for s in range(0, 12, 4):
            rule.train_batch(net, data.x_train[s:s + 4], Y[s:s + 4], cfg.lrs)
        out.append((net, syn))
    (na, sa), (nb, sb) = out
    assert sa.chip_counts[:, 8].sum() > 0   # coincidences happened
    if policy == "pulses":
        assert sum(sa.counts[k]["up"] for k in range(2)) > 0
    else:
        assert any(np.any(r != 0) for r in sa.regs)
    _assert_same_training(na, sa, nb, sb)


@pytest.mark.parametrize("policy", ["pulses", "residual"])
def test_kernel_result_does_not_depend_on_how_the_work_is_shared(policy):
    """The workers' shares (fixed fractions, or fractions that follow their measured
    speeds from call to call) move neurons and input rows between workers; the result is
    bit for bit that of one thread (network/chip_kernel.py, "Threads")."""
    from eqspike.threads import usable_cpus
    if usable_cpus() < 2:
        pytest.skip("one usable CPU: the kernel runs one worker")
    sizes = (40, 64, 20)   # hidden and output layers wide enough to be split at 16
    prof = dataclasses.replace(DeviceProfile.ideal(n_levels=64), c2c_sigma=0.03, d2d_sigma=0.1)
    data = _data(n=12, n_in=sizes[0], n_out=sizes[-1])
    Y = np.eye(sizes[-1], dtype=np.float32)[data.y_train]
    cfg = _cfg(sizes=sizes)
    out = []
    for n_threads, split, adapt in ((1, None, True), (2, (0.5, 0.5), False),
                                    (2, (0.85, 0.15), False), (2, (0.2, 0.8), False),
                                    (2, (0.9, 0.1), True)):
        syn = ChipSynapses(prof, DeviceSynapseConfig(w_max=(1.0,), refresh="none"),
                           ChipSynapseConfig(policy=policy))
        net, rule = _net_rule(cfg, syn)
        rule.n_threads = n_threads
        rule.split = None if split is None else np.array(split, np.float64)
        rule.adapt_split = adapt
        for s in range(0, 12, 4):
            rule.train_batch(net, data.x_train[s:s + 4], Y[s:s + 4], cfg.lrs)
        if not adapt:   # fixed fractions stay as given
            np.testing.assert_allclose(rule.split, split)
        out.append((net, syn))
    na, sa = out[0]
    assert sa.chip_counts[:, 8].sum() > 0
    for nb, sb in out[1:]:
        _assert_same_training(na, sa, nb, sb)


def test_kernel_refuses_bad_work_fractions():
    import inspect
    from eqspike.network import chip_kernel as ck
    n_args = len(inspect.signature(ck.chip_examples).parameters) - 3
    for bad in (np.array([-1.0]), np.array([np.nan])):
        with pytest.raises(ParameterError, match="split"):
            ck.chip_examples(*([None] * n_args), n_threads=1, split=bad)
