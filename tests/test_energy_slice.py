"""The energy ledger against ngspice: a crossbar + neuron slice, supply energies within 5 %.

Four rows pulse through resistive synapses into a held column (the line
hold of eqspike.circuits.readout) that conveys the charge into an
Axon-Hillock neuron.  Every supply is integrated over whole output periods
(circuits/slice.py).  The ledger, priced with a neuron profile and a
crossbar profile characterised here (not the slice), is given the same
counts: input pulses, output spikes, the window as circuit time.  Each part
(read drivers, neuron supply, line hold, bias) and the total must agree
within 5 %.
"""
import math

import numpy as np
import pytest

from eqspike.circuits.characterize import characterize
from eqspike.circuits.crossbar import crossbar_profile
from eqspike.circuits.neurons import AxonHillock
from eqspike.circuits.slice import Slice, measure_slice
from eqspike.network.energy import EnergyLedger


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("EQSPIKE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    try:
        # the f-I / E(f) table around the slice's operating point (10-150 nA input)
        neuron = characterize(AxonHillock(i_min_A=10e-9, i_max_A=150e-9), n_points=8,
                              with_waveforms=False, workers=2).profile
        xbar = crossbar_profile(with_ir_sweep=False, n_rows=1)
    finally:
        mp.undo()
    return neuron, xbar


def _ledger_parts(neuron, xbar, sl, m):
    """Ledger energies (J) for the slice's counts, grouped like the slice's supplies."""
    n_rows = sl.n_rows
    led = EnergyLedger((n_rows, 1), neuron, xbar, None, holds_per_neuron=1,
                       bias_share_neurons=n_rows + 1, input_active_fraction=0.0)
    led.spikes["inference"] = np.array([m["n_in_pulses"], m["n_out_spikes"]], float)
    led.examples["inference"] = 1
    led.steps["inference"] = m["window_s"] / led.step_time_s
    g = sl.conductances_S
    n = np.asarray(m["pulses_per_row"], float)
    led.g_samples = [[(float(np.sum(n * g) / n.sum()), 0.0)]]  # each row is one G+ cell, no G- cell
    bd = led.breakdown()
    bd = bd[bd.phase == "inference"]

    def part(comps, layer=None):
        d = bd[bd.component.isin(comps)]
        if layer is not None:
            d = d[d.layer == layer]
        return float(d.energy_J.sum())
    leak = part(["leakage"]) / (n_rows + 1)   # the ledger counts every neuron; the slice has one
    return {"energy_drivers_J": part(["synaptic events", "read-out conveyance", "row wire"]),
            "energy_neuron_J": part(["spikes", "neuron active floor"], "layer 1") + leak,
            "energy_hold_J": part(["read-out hold"]), "energy_bias_J": part(["bias generators"])}


def test_slice_supply_energy_matches_the_ledger_within_5_percent(profiles):
    neuron, xbar = profiles
    # the driven line of the ledger's 1-neuron layer has 2 cells (G+ and G- of the pair)
    c_line = 2 * xbar.cell_wire_energy_J() / xbar.read_voltage_V ** 2
    sl = Slice(c_line_F=c_line)
    m = measure_slice(sl, xbar.readout_rest_V)
    assert m["n_out_spikes"] >= 3 and m["n_in_pulses"] >= 40
    led = _ledger_parts(neuron, xbar, sl, m)
    for k in ("energy_drivers_J", "energy_neuron_J", "energy_hold_J", "energy_bias_J"):
        assert led[k] == pytest.approx(m[k], rel=0.05, abs=0), k
    total_sim = m["energy_total_J"]
    total_led = sum(led.values())
    assert total_led == pytest.approx(total_sim, rel=0.05, abs=0)
    # without the bias term (it dominates the total of a one-neuron slice)
    dyn_sim = total_sim - m["energy_bias_J"]
    dyn_led = total_led - led["energy_bias_J"]
    assert dyn_led == pytest.approx(dyn_sim, rel=0.05, abs=0)
    # the read part is not the old 0.1 V x Q: the rail sits at V_rest + V_read
    q = np.sum(np.asarray(m["pulses_per_row"]) * sl.conductances_S) * sl.read_voltage_V * (
        sl.read_pulse_width_s + sl.rise_time_s)
    assert m["energy_drivers_J"] > 3 * sl.read_voltage_V * q


def test_slice_with_held_idle_rows_overdelivers(profiles):
    """Rows held at V_rest between pulses feed the sagging line through every idle synapse:
    the drivers then deliver clearly more than the pulses' charge (why the drivers tri-state)."""
    neuron, xbar = profiles
    sl = Slice(tristate_idle=False)
    m = measure_slice(sl, xbar.readout_rest_V)
    q = np.sum(np.asarray(m["pulses_per_row"]) * sl.conductances_S) * sl.read_voltage_V * (
        sl.read_pulse_width_s + sl.rise_time_s)
    rail = xbar.readout_rest_V + sl.read_voltage_V
    assert m["energy_drivers_J"] > 1.1 * rail * q
    assert math.isfinite(m["energy_total_J"])
