"""Transistor-level neurons in real ngspice: f-I shape, tolerance robustness, energy."""
import numpy as np
import pytest
from scipy.integrate import trapezoid

from eqspike.circuits.characterize import fi_sweep, plan_point, profile_from_sweep, standby_power_W
from eqspike.circuits.measure import spike_metrics
from eqspike.circuits.neurons import AxonHillock, LeakyIF, SolverOptions, make_neuron
from eqspike.errors import ParameterError
from eqspike.spice import run_netlist

pytestmark = pytest.mark.spice


def test_lif_zero_below_threshold_then_non_decreasing():
    n = LeakyIF()
    below = [0.3e-9, 0.6e-9, 0.9e-9]          # i_leak_A = 1 nA
    above = [1.2e-9, 2e-9, 5e-9, 20e-9, 100e-9, 400e-9]
    df = fi_sweep(n, below + above, workers=2)
    rates = df["rate_Hz"].to_numpy()
    assert np.all(rates[:3] == 0), rates
    assert np.all(rates[3:] > 0), rates
    up = rates[3:]
    assert np.all(np.diff(up) >= -1e-3 * up[1:]), up
    # refractory period bounds the rate
    assert up[-1] < 1.0 / (0.5 * n.refractory_s)


def test_axon_hillock_rate_proportional_over_three_decades():
    n = AxonHillock()
    cur = np.array([10e-12, 100e-12, 1e-9, 10e-9])
    df = fi_sweep(n, cur, workers=2)
    f = df["rate_Hz"].to_numpy()
    assert np.all(f > 0)
    slope = np.polyfit(np.log(cur), np.log(f), 1)[0]
    assert 0.95 <= slope <= 1.05, (slope, f)
    gain = f / cur
    assert gain.max() / gain.min() < 1.25, gain
    # the output swings rail to rail (a real spike, not a small oscillation)
    assert np.all(df["isi_cv"] < 0.01)


@pytest.mark.parametrize("circuit, current", [("axon_hillock", 1e-9), ("lif", 5e-9)])
def test_spikes_survive_tenfold_tighter_tolerances(circuit, current):
    n = make_neuron(circuit)
    vecs = ["time", "vdd", "vdd#branch", n.output_node]
    out = {}
    for scale in (1.0, 0.1):
        solver = SolverOptions(tol_scale=scale)
        net, _ = plan_point(n, current, solver)
        r = run_netlist(net, vecs, retries=False)
        m = spike_metrics(r["time"], r[n.output_node], r["vdd"], r["vdd#branch"], n.vdd_V / 2)
        assert r[n.output_node].max() > 0.95 * n.vdd_V        # full-swing spikes
        assert m["n_periods"] >= 3
        out[scale] = m
    assert out[0.1]["rate_Hz"] == pytest.approx(out[1.0]["rate_Hz"], rel=0.02)
    assert out[0.1]["energy_per_spike_gross_J"] == pytest.approx(out[1.0]["energy_per_spike_gross_J"], rel=0.05)


def test_energy_per_spike_matches_independent_integration():
    n = AxonHillock()
    net, _ = plan_point(n, 2e-9, SolverOptions())
    r = run_netlist(net, ["time", "vdd", "vdd#branch", "vout"])
    m = spike_metrics(r["time"], r["vout"], r["vdd"], r["vdd#branch"], 0.9, n_drop=2)
    # independent: locate crossings by sample index, insert the interpolated
    # crossing points into the waveform and integrate with scipy's trapezoid
    t, v = r["time"], r["vout"] - 0.9
    p = -r["vdd"] * r["vdd#branch"]
    idx = [k for k in range(len(v) - 1) if v[k] < 0 <= v[k + 1]][2:]
    tc = [t[k] - v[k] * (t[k + 1] - t[k]) / (v[k + 1] - v[k]) for k in idx]
    t0, t1 = tc[0], tc[-1]
    inside = (t > t0) & (t < t1)
    tt = np.concatenate([[t0], t[inside], [t1]])
    pp = np.concatenate([[np.interp(t0, t, p)], p[inside], [np.interp(t1, t, p)]])
    e_indep = trapezoid(pp, tt) / (len(tc) - 1)
    assert m["n_periods"] == len(tc) - 1
    assert m["energy_per_spike_gross_J"] == pytest.approx(e_indep, rel=1e-3)
    assert m["rate_Hz"] == pytest.approx((len(tc) - 1) / (t1 - t0), rel=1e-9)


def test_default_profile_energy_in_published_range(tmp_path, monkeypatch):
    """Energy per spike at the nominal rate: a few fJ to a few pJ (Axon-Hillock, 180 nm)."""
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path))
    n = AxonHillock()
    cur = np.geomspace(n.i_min_A, n.i_max_A, 12)
    standby = standby_power_W(n)
    df = fi_sweep(n, cur, workers=2, standby_W=standby)
    prof = profile_from_sweep(n, df, standby_W=standby, ngspice_version="39", netlist_key="test")
    assert 1e-15 <= prof.energy_per_spike_J <= 5e-12
    assert prof.max_rate_Hz > 1e5
    assert 0 <= prof.leakage_power_W < 1e-8
    assert prof.rate_norm[-1] == 1.0 and np.all(np.diff(prof.rate_norm) >= 0)
    # energy per spike falls with rate (short-circuit time of the starved stage shrinks)
    e = np.array(prof.energy_per_spike_vs_rate)
    assert e[0, 1] > e[-1, 1]
    path = prof.to_json(tmp_path / "p.json")
    from eqspike.circuits.profile import NeuronProfile
    assert NeuronProfile.from_json(path) == prof


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ParameterError, match="c_mem_F"):
        AxonHillock(c_mem_F=-1e-15)
    with pytest.raises(ParameterError, match="vdd_V"):
        LeakyIF(vdd_V=0.0)
    with pytest.raises(ParameterError, match="outside the characterised range"):
        AxonHillock().netlist(1e-3, 1e-6, 1e-8)
    with pytest.raises(ParameterError, match="unknown circuit 'nope'"):
        make_neuron("nope")
    with pytest.raises(ParameterError, match="unknown parameter"):
        make_neuron("lif", c_mem_pF=1.0)


def test_characterize_writes_files_and_caches(tmp_path, monkeypatch):
    from eqspike.circuits.characterize import characterize
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path / "cache"))
    params = {"i_min_A": 1e-10, "i_max_A": 2e-7}
    first = characterize("axon_hillock", params=params, n_points=5, out_dir=tmp_path / "out")
    assert not first.cached
    for f in ("profile.json", "fi.parquet", "fi.csv", "fi.png", "energy_vs_rate.png",
              "waveforms.png", "waveforms.parquet", "summary.json"):
        assert (tmp_path / "out" / f).stat().st_size > 0, f
    assert set(first.waveforms["node"]) >= {"vmem", "vout"}
    prov = first.profile.provenance
    assert prov["circuit"] == "axon_hillock" and prov["ngspice_version"] and prov["netlist_hash"]
    assert prov["parameters"]["c_fb_F"] == AxonHillock().c_fb_F and prov["model_card"] == "ptm180.lib"
    again = characterize("axon_hillock", params=params, n_points=5)
    assert again.cached and again.profile == first.profile


def test_failed_point_is_reported_not_fatal():
    df = fi_sweep(AxonHillock(), [1e-9, 2e-9], workers=1, timeout_s=1e-4)
    assert df["rate_Hz"].isna().all()
    assert (df["attempts"] == -1).all()
    assert df["error"].str.contains("time limit").all()
