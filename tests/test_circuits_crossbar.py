"""Crossbar column in real ngspice: Kirchhoff charge, IR drop, read energy; model card; CLI."""
import dataclasses

import numpy as np
import pytest

from eqspike.circuits.crossbar import CrossbarColumn, crossbar_profile, ir_drop_sweep, measure_column
from eqspike.errors import ParameterError

pytestmark = pytest.mark.spice


def test_charge_is_sum_g_v_t_at_zero_wire_resistance():
    col = CrossbarColumn(n_rows=12, g_min_S=2e-6, g_max_S=20e-6)
    m = measure_column(col)
    ideal = np.sum(np.linspace(2e-6, 20e-6, 12)) * col.read_voltage_V * (col.read_pulse_width_s + col.rise_time_s)
    assert m["ideal_charge_C"] == pytest.approx(ideal, rel=1e-12)
    assert m["charge_C"] == pytest.approx(ideal, rel=0.01)


def test_ir_drop_error_grows_with_wire_resistance():
    df = ir_drop_sweep(CrossbarColumn(n_rows=16), r_wire_ohm=(0.0, 3.0, 30.0, 300.0))
    err = df["charge_error"].to_numpy()
    assert abs(err[0]) < 0.01
    assert np.all(np.diff(err) > 0), err
    assert err[-1] > 0.05


def test_read_energy_is_v2gt_plus_wire(tmp_path, monkeypatch):
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path))
    p = crossbar_profile(cache=True, with_ir_sweep=False, g_ref_S=4e-6)
    v, t = p.read_voltage_V, p.read_pulse_width_s
    # wire part: the driver charges the row wire once per event (C V^2)
    c_row = CrossbarColumn().n_cols * CrossbarColumn().c_wire_F
    assert p.wire_energy_per_event_J == pytest.approx(c_row * v ** 2, rel=0.02)
    assert p.read_energy_per_event_J == pytest.approx(v ** 2 * 4e-6 * t + p.wire_energy_per_event_J, rel=0.01)
    G = np.array([1e-6, 4e-6, 8e-6])
    np.testing.assert_allclose(p.read_energy_J(G), v ** 2 * G * t + p.wire_energy_per_event_J)
    # cached: same content from the JSON
    assert crossbar_profile(cache=True, with_ir_sweep=False, g_ref_S=4e-6) == p


def test_crossbar_bad_inputs():
    with pytest.raises(ParameterError, match="g_max_S"):
        CrossbarColumn(g_min_S=1e-5, g_max_S=1e-6)
    with pytest.raises(ParameterError, match="read_voltage_V"):
        CrossbarColumn(read_voltage_V=0.0)
    with pytest.raises(ParameterError, match="unknown parameter"):
        crossbar_profile(cache=False, r_wire_kohm=1.0)


def test_model_card_on_currents_and_threshold():
    """PTM 180 nm card: NMOS/PMOS on-current per um at |Vgs| = |Vds| = 1.8 V, off much lower."""
    from eqspike.circuits.technology import get_technology
    from eqspike.spice import run_netlist
    tech = get_technology("ptm180")
    net = "\n".join(["card check", tech.card(),
                     "Vd d 0 1.8", "Vg g 0 0", "Vdp dp 0 -1.8", "Vgp gp 0 0",
                     f"M1 d g 0 0 {tech.nmos} w=1u l=0.18u ad=0.48p as=0.48p pd=2.96u ps=2.96u",
                     f"M2 dp gp 0 0 {tech.pmos} w=1u l=0.18u ad=0.48p as=0.48p pd=2.96u ps=2.96u",
                     ".dc Vg 0 1.8 0.9", ".end"])
    r = run_netlist(net, ["vd#branch"])
    i_n = -r["vd#branch"]
    assert 300e-6 < i_n[-1] < 1000e-6      # ~700 uA/um published for 180 nm NMOS
    assert i_n[0] < 1e-9                   # off current
    net_p = net.replace(".dc Vg 0 1.8 0.9", ".dc Vgp 0 -1.8 -0.9")
    i_p = run_netlist(net_p, ["vdp#branch"])["vdp#branch"]
    assert 100e-6 < i_p[-1] < 500e-6
    assert i_p[0] < 5e-9


def test_cli_list_and_errors(capsys):
    from eqspike.cli import main
    assert main(["circuit", "list"]) == 0
    out = capsys.readouterr().out
    assert "axon_hillock" in out and "lif" in out and "crossbar_column" in out and "c_fb_F" in out
    assert main(["circuit", "characterize", "--circuit", "nope", "--out", "/tmp/unused"]) == 2
    assert "unknown circuit 'nope'" in capsys.readouterr().err
    assert main(["circuit", "characterize", "--circuit", "lif", "--param", "c_mem_F=-1e-15",
                 "--out", "/tmp/unused"]) == 2
    assert "c_mem_F" in capsys.readouterr().err


def test_device_synapses_in_the_column():
    """Device subcircuits from eqspike.devices.models: charge flows, IR error grows with wire R."""
    df = ir_drop_sweep(CrossbarColumn(n_rows=4, synapse="taox_rram"), r_wire_ohm=(0.0, 100.0, 1000.0))
    q = df["charge_C"].to_numpy()
    assert np.all(q > 0)
    err = df["charge_error"].to_numpy()
    assert err[0] == 0.0 and err[1] > 0 and err[2] > err[1]


def test_cli_bad_values_are_one_line_errors(tmp_path, capsys, monkeypatch):
    """Used to fail: --workers -1 gave a ValueError traceback from concurrent.futures (and
    --workers 0 ran silently), --points 100000000 would try 10^8 simulations, i_max_A=1e3
    (1 kA) ran ngspice, an unwritable --out gave an OSError traceback after the run."""
    from eqspike.cli import main
    monkeypatch.setenv("EQSPIKE_CACHE_DIR", str(tmp_path / "cache"))
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    base = ["circuit", "characterize", "--circuit", "lif", "--no-waveforms"]
    for bad, words in ((["--workers", "-1"], ("workers", "-1", "[1, 1024]")),
                       (["--workers", "0"], ("workers", "0")),
                       (["--points", "100000000"], ("n_points", "100000000", "[3, 10000]")),
                       (["--param", "i_max_A=1e3"], ("i_max_A", "1000", "(0, 0.001] A")),
                       (["--param", "i_min_A=nan"], ("i_min_A", "nan")),
                       (["--tol-scale", "0"], ("tol_scale", "(0, 10]"))):
        assert main([*base, *bad, "--out", str(tmp_path / "never")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("eqspike: error:") and "Traceback" not in err and err.count("\n") == 1, err
        for w in words:
            assert w in err, (w, err)
    assert not (tmp_path / "never").exists()
    for circuit in ("lif", "crossbar_column"):
        assert main(["circuit", "characterize", "--circuit", circuit, "--out", str(a_file)]) == 2
        err = capsys.readouterr().err
        assert "--out" in err and "not a folder" in err and "Traceback" not in err


def test_cli_help_names_units_and_defaults(capsys):
    from eqspike.cli import main
    with pytest.raises(SystemExit):
        main(["circuit", "characterize", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in out and "(default: [])" not in out
    for w in ("[3, 10000] (default: 40)", "[1, 1024] (default: 2)", "(0, 10]", "SI unit", "(required"):
        assert w in out, w
