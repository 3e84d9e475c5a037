"""The ngspice runner: vectors, Note: lines, timeouts, convergence errors, pool."""
import numpy as np
import pytest

from eqspike.spice import (SpiceConvergenceError, SpiceError, SpiceTimeout, netlist_hash,
                           run_many, run_netlist)

pytestmark = pytest.mark.spice

RC = """rc step
V1 in 0 PULSE(0 1 0 1n 1n 1 2)
R1 in out 1k
C1 out 0 1n
.tran 10n 5u
.end
"""


def test_rc_step_matches_analytic():
    r = run_netlist(RC, ["time", "out", "v1#branch"])
    t, v = r["time"], r["out"]
    assert t[-1] == pytest.approx(5e-6, rel=1e-6)
    expected = 1 - np.exp(-t / 1e-6)
    assert np.max(np.abs(v[t > 5e-9] - expected[t > 5e-9])) < 0.01
    # supply current flows out of the + terminal: negative branch current
    assert r["v1#branch"][len(t) // 2] < 0


def test_note_lines_do_not_raise():
    # gmin stepping prints "Note:" lines, which PySpice alone turns into errors
    net = "diode op\nV1 in 0 DC 5\nD1 in out dmod\nR1 out 0 1e15\n.model dmod d\n.op\n.end\n"
    r = run_netlist(net, ["out"])
    assert r["out"][0] > 4.0


def test_missing_vector_is_named():
    with pytest.raises(SpiceError, match="nosuch"):
        run_netlist(RC, ["nosuch"])


def test_timeout():
    net = RC.replace(".tran 10n 5u", ".tran 1p 10m 0 1p")
    with pytest.raises(SpiceTimeout):
        run_netlist(net, ["out"], timeout_s=0.5, retries=False)
    # the engine is usable afterwards
    assert run_netlist(RC, ["out"])["out"].size > 10


def test_nonconvergence_names_circuit():
    net = "stuck loop\nV1 a 0 DC 1\nV2 a 0 DC 2\n.tran 1n 1u\n.end\n"
    with pytest.raises(SpiceError, match="stuck loop"):
        run_netlist(net, ["a"], timeout_s=10)


def test_pool_matches_serial():
    nets = [RC.replace("1k", f"{r}k") for r in (1, 2, 3, 4)]
    serial = [run_netlist(n, ["out"])["out"] for n in nets]
    par = run_many(nets, ["out"], workers=2)
    for a, b in zip(serial, par):
        np.testing.assert_array_equal(a, b["out"])


def test_hash_ignores_whitespace():
    assert netlist_hash(RC) == netlist_hash(RC.replace(" ", "  "))
    assert netlist_hash(RC) != netlist_hash(RC.replace("1k", "2k"))
