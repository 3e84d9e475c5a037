"""A crossbar + neuron slice in ngspice: the check of the energy ledger against a circuit.

``n_rows`` presynaptic row drivers send read pulses through resistive
synapses into one held column line (:mod:`eqspike.circuits.readout`), whose
hold conveys the charge into the membrane of one Axon-Hillock neuron
(:class:`eqspike.circuits.neurons.AxonHillock`).  Each row has its driven
line's wire capacitance.  The rows idle at the hold's rest voltage and pulse
to rest + ``read_voltage_V``: the drivers are CMOS-like (they draw from their
rail only while sourcing current) and, by default, switched off between
pulses (``tristate_idle``): rows held at the rest voltage would feed the
line through every idle synapse whenever the hold lets the line sag, i.e.
the hold would need an input resistance far below ``1 / sum G`` of the
column (about 0.6 kOhm for 784 rows at 2.2 uS); in this 4-row slice with
held rows the drivers deliver about 30 % more charge than the pulses carry.

:func:`measure_slice` integrates every supply on ngspice's time points over
whole output periods (from the ``n_drop``-th output spike to the last one,
as the neuron characterisation does), and counts the input pulses and output
spikes in that window.  The ledger (``eqspike.network.energy.EnergyLedger``)
priced with the neuron and crossbar profiles must give the same energy for
the same counts: ``tests/test_energy_slice.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqspike.params import param, validate
from eqspike.spice import run_netlist

from .measure import crossings, cumulative_energy
from .neurons import AxonHillock, SolverOptions
from .readout import ColumnHold, hold_lines

__all__ = ["Slice", "slice_netlist", "measure_slice"]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


@dataclass(frozen=True)
class Slice:
    """Rows, synapses and timing of the slice (SI units)."""
    n_rows: int = param(4, unit="", low=1, high=64, integer=True, doc="presynaptic rows")
    g_min_S: float = param(2e-6, unit="S", low=1e-9, high=1e-3, doc="smallest synapse (rows spread to g_max_S)")
    g_max_S: float = param(5e-6, unit="S", low=1e-9, high=1e-3, doc="largest synapse")
    read_voltage_V: float = param(0.1, unit="V", low=0.01, high=1.0, doc="read pulse amplitude")
    read_pulse_width_s: float = param(10e-9, unit="s", low=1e-10, high=1e-6, doc="flat-top width")
    rise_time_s: float = param(0.1e-9, unit="s", low=1e-11, high=1e-7, doc="rise and fall time")
    period_s: float = param(400e-9, unit="s", low=1e-8, high=1e-3, doc="pulse period of each row (staggered)")
    t_stop_s: float = param(12e-6, unit="s", low=1e-7, high=1e-2, doc="simulated time")
    c_line_F: float = param(0.2e-15, unit="F", low=0, high=1e-11, doc="wire capacitance of each driven line")
    tristate_idle: bool = param(True, unit="", choices=(True, False),
                                doc="idle rows float (driver switched off between pulses); False: rows "
                                    "held at the rest voltage between pulses")
    enable_guard_s: float = param(2e-9, unit="s", low=0, high=1e-6,
                                  doc="driver switched on this long before the pulse and off after it")

    def __post_init__(self) -> None:
        validate(self)

    @property
    def conductances_S(self) -> np.ndarray:
        return np.linspace(self.g_min_S, self.g_max_S, self.n_rows)

    def pulse_starts_s(self, k: int) -> np.ndarray:
        """Start times (s) of row ``k``'s pulses (rows staggered by period / n_rows)."""
        t0 = 50e-9 + k * self.period_s / self.n_rows
        n = int(np.floor((self.t_stop_s - t0 - self.read_pulse_width_s - 2 * self.rise_time_s) / self.period_s)) + 1
        return t0 + self.period_s * np.arange(max(n, 0))


def slice_netlist(sl: Slice, v_rest_V: float, neuron: AxonHillock | None = None,
                  hold: ColumnHold | None = None, solver: SolverOptions | None = None) -> str:
    """SPICE text of the slice (rows idle at ``v_rest_V``, the hold's rest voltage)."""
    neuron = neuron or AxonHillock()
    hold = hold or ColumnHold()
    solver = solver or SolverOptions()
    lines = [f"eqspike slice rows={sl.n_rows}", neuron.tech.card().strip(), neuron._body(0.0),
             f"Vhs hsup 0 {_fmt(hold.vdd_V)}", f"Vsh hsh 0 {_fmt(hold.v_shift_V)}",
             *hold_lines(hold, "c", "x", "vmem", "hsup", "hsh")]
    lo, hi, tr, pw = v_rest_V, v_rest_V + sl.read_voltage_V, sl.rise_time_s, sl.read_pulse_width_s
    guard = sl.enable_guard_s
    if sl.tristate_idle:
        lines.append(".model swdrv sw vt=0.5 vh=0.1 ron=10 roff=1e14")
    for k, g in enumerate(sl.conductances_S):
        pts, ens = [(0.0, lo)], [(0.0, 0.0)]
        for t in sl.pulse_starts_s(k):
            pts += [(t, lo), (t + tr, hi), (t + tr + pw, hi), (t + 2 * tr + pw, lo)]
            ens += [(t - guard - tr, 0.0), (t - guard, 1.0), (t + 2 * tr + pw + guard, 1.0),
                    (t + 3 * tr + pw + guard, 0.0)]
        pwl = " ".join(f"{_fmt(a)} {_fmt(b)}" for a, b in pts)
        if sl.tristate_idle:
            lines += [f"Vr{k} drv{k} 0 PWL({pwl})",
                      f"Ven{k} en{k} 0 PWL({' '.join(f'{_fmt(a)} {_fmt(b)}' for a, b in ens)})",
                      f"Sw{k} drv{k} row{k} en{k} 0 swdrv"]
        else:
            lines.append(f"Vr{k} row{k} 0 PWL({pwl})")
        lines.append(f"Rs{k} row{k} x {_fmt(1.0 / g)}")
        if sl.c_line_F > 0:
            lines.append(f"Cl{k} row{k} 0 {_fmt(sl.c_line_F)}")
    tmax = min(tr, pw / 10)
    lines += [solver.options_line(), f".tran {_fmt(tmax)} {_fmt(sl.t_stop_s)} 0 {_fmt(tmax * 20)}", ".end", ""]
    return "\n".join(lines)


def measure_slice(sl: Slice, v_rest_V: float, neuron: AxonHillock | None = None,
                  hold: ColumnHold | None = None, n_drop: int = 1) -> dict:
    """Run the slice; energies per supply over whole output periods and the counts.

    Returns ``window_s``, ``n_out_spikes`` (periods in the window),
    ``n_in_pulses`` (pulses whose start lies in the window, per row and in
    total), ``energy_drivers_J`` (read rails, sourcing only),
    ``energy_neuron_J`` (``vdd``), ``energy_bias_J`` (``vddb``),
    ``energy_hold_J`` (hold supply) and ``energy_total_J``.
    """
    neuron = neuron or AxonHillock()
    hold = hold or ColumnHold()
    drv = "drv" if sl.tristate_idle else "row"
    vec = ["time", "vout", "vdd#branch", "vddb#branch", "vhs#branch"] + \
          [f"vr{k}#branch" for k in range(sl.n_rows)] + [f"{drv}{k}" for k in range(sl.n_rows)]
    r = run_netlist(slice_netlist(sl, v_rest_V, neuron, hold), vec, timeout_s=120.0)
    t = r["time"]
    tc = crossings(t, r["vout"], 0.5 * neuron.vdd_V, rising=True)
    if len(tc) < n_drop + 2:
        raise RuntimeError(f"slice: only {len(tc)} output spikes in {sl.t_stop_s:g} s; lengthen t_stop_s")
    t0, t1 = float(tc[n_drop]), float(tc[-1])

    def between(p):
        e = cumulative_energy(t, p)
        return float(np.interp(t1, t, e) - np.interp(t0, t, e))
    e_drv = sum(between(r[f"{drv}{k}"] * np.maximum(-r[f"vr{k}#branch"], 0.0)) for k in range(sl.n_rows))
    e_neu = between(-neuron.vdd_V * r["vdd#branch"])
    e_bias = between(-neuron.vdd_V * r["vddb#branch"])
    e_hold = between(-hold.vdd_V * r["vhs#branch"])
    # a pulse counts when it starts in the window (its charge reaches the neuron within ~ one pulse)
    per_row = [int(np.sum((s >= t0) & (s < t1))) for s in (sl.pulse_starts_s(k) for k in range(sl.n_rows))]
    return {"window_s": t1 - t0, "n_out_spikes": len(tc) - 1 - n_drop, "n_in_pulses": int(sum(per_row)),
            "pulses_per_row": per_row, "energy_drivers_J": e_drv, "energy_neuron_J": e_neu,
            "energy_bias_J": e_bias, "energy_hold_J": e_hold,
            "energy_total_J": e_drv + e_neu + e_bias + e_hold, "n_points": int(len(t))}
