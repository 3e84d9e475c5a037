"""Compact models in real ngspice: I-V loops, pulse trains, energy, calibration bars."""
import numpy as np
import pytest

from eqspike.devices.iv import iv_loop
from eqspike.devices.models import MODELS, IVDrive, PulseDrive, get_model
from eqspike.devices.pulses import analyse_train, pulse_response, simulate_train, split_train
from eqspike.errors import ParameterError

pytestmark = pytest.mark.spice


@pytest.mark.parametrize("model", ["vteam", "taox_rram", "ftj", "yakopcic"])
def test_memristor_loop_pinched_and_hysteretic(model):
    df, m = iv_loop(model)
    v, i = df["voltage_V"].to_numpy(), df["current_A"].to_numpy()
    peak = np.max(np.abs(i))
    # pinched: |I| where the sweep crosses V = 0 (interpolated on ngspice's points) < 1 % of peak
    t = df["time_s"].to_numpy()
    T = get_model(model).iv.period_s
    i_zero = np.abs(np.interp([T / 2, T], t, i))
    assert np.all(i_zero < 0.01 * peak)
    assert m["pinch_ratio"] < 0.01
    # hysteretic: rising and falling branches differ by > 2x at some voltage
    rising = t < T / 4
    falling = (t > T / 4) & (t < T / 2)
    vs = np.linspace(0.1, 0.9, 41) * v.max()
    up = np.interp(vs, v[rising], i[rising])
    dn = np.interp(vs, v[falling][::-1], i[falling][::-1])
    assert np.max(np.maximum(up / dn, dn / up)) > 2
    assert m["max_branch_ratio"] > 2


def test_fefet_threshold_loop():
    df, m = iv_loop("fefet")
    assert {"gate_voltage_V", "drain_current_A"} <= set(df.columns)
    assert m["max_branch_ratio"] > 2  # memory window: the threshold moved


@pytest.mark.parametrize("model", ["vteam", "taox_rram", "fefet", "yakopcic"])
def test_pulses_monotone(model):
    df, m, run = pulse_response(model, n_pulses=30)
    g = df["conductance_S"].to_numpy()
    up, down = g[:31], g[30:]
    tol = 1e-9 * g.max()  # noise-free run: monotone to solver precision
    assert np.all(np.diff(up) > -tol) and np.all(np.diff(down) < tol)
    assert up[-1] > 1.2 * up[0] and down[-1] < up[-1] - 0.2 * (up[-1] - up[0])  # G moves both ways


def test_pulses_monotone_with_c2c_noise():
    spec = get_model("vteam")
    p = spec.params({"c2c_sigma": 0.5, "noise_period_s": spec.drive.period_s})
    run = simulate_train(spec, p, n_up=40, n_down=40, seed=3)
    up, down = split_train(run.conductance_S[0], 40)
    steps = np.diff(up)
    # rate noise changes the step size, never the direction
    assert np.all(steps > -1e-9 * up.max()) and np.all(np.diff(down) < 1e-9 * up.max())
    clean = simulate_train(spec, spec.params(), n_up=40, n_down=40)
    assert np.max(np.abs(run.conductance_S - clean.conductance_S)) > 1e-4 * up.max()  # the noise acts


def _vi_integrals(run):
    """Independent V*I integrals over each write window: step rule and plain trapezoid."""
    t, v, i = run.time_s, run.drive_V, run.current_A[0]
    s = run.schedule
    step, trap = [], []
    for k in range(s.amplitudes_V.size):
        sel = np.flatnonzero((t >= s.write_start_s[k] - 1e-15) & (t <= s.write_end_s[k] + 1e-15))
        tt, vv, ii = t[sel], v[sel], i[sel]
        trap.append(np.trapezoid(vv * ii, tt))
        # ngspice's current at t_n belongs to the step (t_{n-1}, t_n]: pair it with the step's mean V
        step.append(float(np.sum(ii[1:] * 0.5 * (vv[1:] + vv[:-1]) * np.diff(tt))))
    return np.array(step), np.array(trap)


@pytest.mark.parametrize("model", ["taox_rram", "fefet"])
def test_write_energy_matches_independent_integral(model):
    spec = get_model(model)
    run = simulate_train(spec, n_up=5, n_down=5, keep_waveforms=True)
    step, trap = _vi_integrals(run)
    assert np.allclose(run.write_energy_J[0], step, rtol=1e-6, atol=1e-24)
    assert np.all(step > 0)
    if model == "taox_rram":  # resistive: no current jumps, the plain trapezoid agrees too
        assert np.allclose(step, trap, rtol=0.01)
    # the pulse's charge times its amplitude bounds the energy from above
    t, i, s = run.time_s, run.current_A[0], run.schedule
    for k in range(10):
        sel = (t >= s.write_start_s[k] - 1e-15) & (t <= s.write_end_s[k] + 1e-15)
        q = np.trapezoid(np.abs(i[sel]), t[sel])
        assert step[k] <= abs(s.amplitudes_V[k]) * q * 1.01


def test_fefet_capacitive_energy_cancels():
    """Without polarisation switching the gate is a capacitor: the energy a
    pulse delivers comes back on its falling edge (only the tiny R_g loss stays)."""
    spec = get_model("fefet")
    p = spec.params({"pr_C_per_m2": 0.0})
    run = simulate_train(spec, p, n_up=3, n_down=3)
    half_cv2 = 0.5 * p.c_gate_F * spec.drive.pulse_up_V ** 2
    assert np.all(np.abs(run.write_energy_J) < 0.01 * half_cv2)
    with_sw = simulate_train(spec, n_up=3, n_down=3)
    assert with_sw.write_energy_J[0, 0] > 10 * np.abs(run.write_energy_J[0, 0])


def test_taox_meets_anchor():
    df, m, _ = pulse_response("taox_rram")  # 127 + 127 pulses, 1.6 V / 50 ns
    assert 0.5e-6 <= m["g_min_S"] <= 2e-6       # anchor 1 uS, within 2x
    assert 5e-6 <= m["g_max_S"] <= 20e-6        # anchor 10 uS, within 2x
    assert abs(m["nl_ltp"] - 0.04) <= 0.5       # anchor LTP NL 0.04
    assert m["n_levels"] >= 100


def test_fefet_distinct_levels():
    df, m, _ = pulse_response("fefet")  # 31 + 31 identical gate pulses
    g = df["conductance_S"].to_numpy()[:32]
    steps = np.diff(g)
    assert np.all(steps > 1e-3 * (g.max() - g.min()))  # every pulse gives a new level
    assert m["n_levels"] == 32
    assert m["on_off"] > 10


def test_yakopcic_follows_published_equations():
    """ngspice's Yakopcic subcircuit against the published equations (EDL 2011 /
    TCAD 2013) integrated with scipy on the same waveform; 10 us pulses carry
    the state past x_p and below 1 - x_n, so both window branches are checked."""
    from scipy.integrate import solve_ivp
    from eqspike.params import replace_checked
    spec = get_model("yakopcic")
    p = spec.params()
    drive = replace_checked(spec.drive, {"pulse_width_s": 1e-5})
    run = simulate_train(spec, p, drive=drive, n_up=10, n_down=10)
    s = run.schedule
    tp = np.array([t for t, _ in s.gate_points])
    vp = np.array([v for _, v in s.gate_points])
    sol = solve_ivp(lambda t, x: [float(p.state_rate_per_s(np.interp(t, tp, vp), x[0]))], (0, s.stop_s),
                    [p.x0], t_eval=s.read_s, max_step=drive.rise_s / 2, rtol=1e-8, atol=1e-10)
    x = sol.y[0]
    assert x.max() > p.x_p + 0.2 and x[-1] < 1 - p.x_n - 0.1  # both windows exercised
    g_ref = p.conductance_S(x, drive.read_V)
    assert np.allclose(run.conductance_S[0], g_ref, rtol=0.01)
    # the I-V law: I = a1 x sinh(b V), linear in x (the read sees the state only through x)
    assert p.conductance_S(0.5) == pytest.approx(0.5 * p.conductance_S(1.0))
    # eta = -1 reverses the polarity: the default (positive) pulses now depress
    rev = simulate_train(spec, spec.params({"eta": -1}), n_up=5, n_down=5).conductance_S[0]
    assert np.all(np.diff(rev[:6]) < 0) and np.all(np.diff(rev[5:]) > 0)


def test_yakopcic_bad_parameters_refused():
    spec = get_model("yakopcic")
    for name, bad in (("x_p", 1.0), ("x_n", -0.1), ("a1_A", 0.0), ("b_per_V", float("nan")),
                      ("a_p_per_s", -4000.0), ("x0", 1.5), ("eta", 0), ("v_n_V", -0.15)):
        with pytest.raises(ParameterError, match=f"parameter '{name}'"):
            spec.params({name: bad})
    with pytest.raises(ParameterError, match="bogus"):
        spec.params({"bogus_V": 1.0})


def test_bad_inputs_clear_errors():
    with pytest.raises(ParameterError, match="pulse_width_s"):
        PulseDrive(pulse_width_s=-1e-9)
    with pytest.raises(ParameterError, match="n_pulses|n_up"):
        pulse_response("vteam", n_pulses=0)
    with pytest.raises(ParameterError, match="r_on_ohm"):
        get_model("vteam").params({"r_on_ohm": float("nan")})
    with pytest.raises(ParameterError, match="gap0_m"):
        get_model("taox_rram").params({"gap0_m": 5e-9})
    with pytest.raises(ParameterError, match="unknown device model"):
        get_model("memristor9000")
    with pytest.raises(ParameterError, match="amplitude_V"):
        IVDrive(amplitude_V=0)


def test_registry_subckts_are_self_contained():
    for name, spec in MODELS.items():
        p = spec.params()
        text = p.subckt("devx")
        assert text.startswith(".subckt devx") and text.rstrip().endswith(".ends")
        assert p.ic("x9") and all(k.startswith("x9.") for k in p.ic("x9"))
