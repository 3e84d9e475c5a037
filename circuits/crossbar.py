"""Crossbar column in ngspice: charge per presynaptic spike, read energy, IR drop.

One column of ``n_rows`` synapses (plain resistors of conductance G_i, or
two-terminal device subcircuits from :mod:`eqspike.devices.models` at their
initial state, ``synapse=...``)
between presynaptic spike drivers (read pulses of ``read_voltage_V`` for
``read_pulse_width_s``) and one neuron input held at ``v_hold_V`` (a virtual
ground: the input of a current-conveyor / the neuron's held input node, an
ideal 0 V source whose current is the delivered charge).  Optional wire
resistance ``r_wire_ohm`` per cell along the column (cell k sees k segments
to the neuron), wire capacitance per cell on the column and on each row
(a row spans ``n_cols`` cells: the driver charges ``n_cols c_wire_F`` per
event).

Ideal (Kirchhoff) charge per event: ``Q = sum_i G_i V t_eff`` with
``t_eff = width + (rise + fall) / 2`` (trapezoidal pulse).  The read energy
per synaptic event is what the driver delivers: ``V^2 G t_eff`` in the
synapse plus ``C_row V^2`` wire charging (G-independent), counted as the
read supply's voltage times the charge the driver sources (a CMOS driver
returns no charge to its supply at the falling edge).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eqspike.errors import ParameterError
from eqspike.params import param, replace_checked, validate
from eqspike.spice import netlist_hash, run_netlist

from .measure import cumulative_energy
from .profile import CrossbarProfile

__all__ = ["CrossbarColumn", "column_netlist", "measure_column", "ir_drop_sweep", "crossbar_profile"]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


#: Synapse kinds: plain resistors and the two-terminal models of eqspike.devices.models.
SYNAPSES = ("resistor", "vteam", "pku_rram", "taox_rram", "ftj")


def _device(name: str):
    from eqspike.devices.models import get_model
    return get_model(name)


@dataclass(frozen=True)
class CrossbarColumn:
    """A crossbar column read by one spike on every row (resistive synapses)."""
    n_rows: int = param(16, unit="", low=1, high=4096, integer=True, doc="synapses on the column")
    g_min_S: float = param(1e-6, unit="S", low=0, low_open=True, high=1.0, doc="smallest synapse conductance")
    g_max_S: float = param(10e-6, unit="S", low=0, low_open=True, high=1.0,
                           doc="largest synapse conductance (rows spread evenly from g_min_S to g_max_S)")
    read_voltage_V: float = param(0.1, unit="V", low=0, low_open=True, high=5.0, doc="read pulse amplitude")
    read_pulse_width_s: float = param(10e-9, unit="s", low=0, low_open=True, high=1e-3,
                                      doc="read pulse flat-top width")
    rise_time_s: float = param(0.1e-9, unit="s", low=0, low_open=True, high=1e-6, doc="read pulse rise and fall time")
    r_wire_ohm: float = param(0.0, unit="ohm", low=0, high=1e6, doc="column wire resistance per cell")
    c_wire_F: float = param(0.1e-15, unit="F", low=0, high=1e-12,
                            doc="wire capacitance per cell (row and column)")
    n_cols: int = param(128, unit="", low=1, high=65536, integer=True,
                        doc="cells along each row (row wire capacitance = n_cols * c_wire_F)")
    v_hold_V: float = param(0.0, unit="V", low=-1.0, high=1.0, doc="neuron input held at this voltage")
    synapse: str = param("resistor", unit="", choices=SYNAPSES,
                         doc="'resistor' (G from g_min_S..g_max_S) or a two-terminal device model from "
                             "eqspike.devices.models at its initial state (g_min_S/g_max_S unused)")

    def __post_init__(self) -> None:
        validate(self)
        if self.g_max_S < self.g_min_S:
            raise ParameterError(f"parameter 'g_max_S' = {self.g_max_S!r} must be >= 'g_min_S' = {self.g_min_S!r}")

    @property
    def conductances_S(self) -> np.ndarray:
        return np.linspace(self.g_min_S, self.g_max_S, self.n_rows)

    @property
    def t_eff_s(self) -> float:
        return self.read_pulse_width_s + self.rise_time_s

    def ideal_charge_C(self) -> float:
        """Kirchhoff charge per event: sum G_i (V - v_hold) t_eff (NaN for device synapses)."""
        if self.synapse != "resistor":
            return float("nan")
        return float(np.sum(self.conductances_S) * (self.read_voltage_V - self.v_hold_V) * self.t_eff_s)


def column_netlist(col: CrossbarColumn) -> str:
    """SPICE text: drivers, row capacitances, synapses, column wire, held neuron input."""
    g = col.conductances_S
    td, tr, pw = 1e-9, col.rise_time_s, col.read_pulse_width_s
    t_stop = td + 2 * tr + pw + max(5 * tr, 2e-9)
    lines = [f"eqspike crossbar column n={col.n_rows} r_wire={col.r_wire_ohm:g}ohm",
             f"Vhold c0 0 DC {_fmt(col.v_hold_V)}"]
    c_row = col.n_cols * col.c_wire_F
    ics: dict[str, float] = {}
    options = ".options method=gear reltol=1e-5 abstol=1e-15 vntol=1e-7"
    if col.synapse != "resistor":
        spec = _device(col.synapse)
        dev = spec.params()
        lines.append(dev.subckt("syn").strip())
        options = spec.options + " abstol=1e-15 vntol=1e-7"
    for k in range(1, col.n_rows + 1):
        node = f"c{k}" if col.r_wire_ohm > 0 else "c0"
        lines.append(f"Vd{k} r{k} 0 PULSE(0 {_fmt(col.read_voltage_V)} {_fmt(td)} {_fmt(tr)} {_fmt(tr)} "
                     f"{_fmt(pw)} 1)")
        if c_row > 0:
            lines.append(f"Crow{k} r{k} 0 {_fmt(c_row)}")
        if col.synapse == "resistor":
            lines.append(f"Rg{k} r{k} {node} {_fmt(1.0 / g[k - 1])}")
        else:
            lines.append(f"Xs{k} r{k} {node} syn")
            ics.update(dev.ic(f"xs{k}"))
        if col.r_wire_ohm > 0:
            lines.append(f"Rw{k} c{k} c{k - 1} {_fmt(col.r_wire_ohm)}")
            if col.c_wire_F > 0:
                lines.append(f"Cw{k} c{k} 0 {_fmt(col.c_wire_F)}")
    tmax = min(tr / 5, pw / 50)
    if ics:
        lines.append(".ic " + " ".join(f"v({n})={_fmt(v)}" for n, v in ics.items()))
    lines += [options,
              f".tran {_fmt(tmax)} {_fmt(t_stop)} 0 {_fmt(tmax)}", ".end", ""]
    return "\n".join(lines)


def measure_column(col: CrossbarColumn, result=None) -> dict:
    """Run (or take ``result`` of) one column read; delivered charge and driver energies.

    Returns ``charge_C`` (into the held input), ``ideal_charge_C``,
    ``charge_error`` (relative), ``energy_J`` (all drivers), ``energy_per_event_J``
    (mean per row), ``energy_synapse_ideal_J`` (sum V^2 G t_eff).
    """
    vecs = ["time", "vhold#branch"] + [f"vd{k}#branch" for k in range(1, col.n_rows + 1)] + \
           [f"r{k}" for k in range(1, col.n_rows + 1)]
    net = column_netlist(col)
    r = result if result is not None else run_netlist(net, vecs)
    t = r["time"]
    q = float(cumulative_energy(t, r["vhold#branch"])[-1])  # integral of current = charge
    e = 0.0
    for k in range(1, col.n_rows + 1):
        # a CMOS driver draws charge from its read supply while sourcing current; the
        # charge flowing back at the falling edge goes to ground, not back to the supply
        i_out = np.maximum(-r[f"vd{k}#branch"], 0.0)
        e += col.read_voltage_V * float(cumulative_energy(t, i_out)[-1])
    ideal = col.ideal_charge_C()
    v = col.read_voltage_V - col.v_hold_V
    return {"n_rows": col.n_rows, "r_wire_ohm": col.r_wire_ohm, "charge_C": q, "ideal_charge_C": ideal,
            "charge_error": (ideal - q) / ideal, "energy_J": e, "energy_per_event_J": e / col.n_rows,
            "energy_synapse_ideal_J": float(np.sum(col.conductances_S) * v * col.read_voltage_V * col.t_eff_s),
            "netlist_hash": netlist_hash(net)}


def _vecs(col: CrossbarColumn) -> list[str]:
    return ["time", "vhold#branch"] + [f"vd{k}#branch" for k in range(1, col.n_rows + 1)] + \
           [f"r{k}" for k in range(1, col.n_rows + 1)]


def ir_drop_sweep(col: CrossbarColumn, r_wire_ohm=(0.0, 1.0, 3.0, 10.0, 30.0, 100.0), *,
                  workers: int = 2) -> pd.DataFrame:
    """Delivered charge vs wire resistance per cell (one row per value)."""
    rs = [float(r) for r in r_wire_ohm]
    if col.synapse != "resistor" and 0.0 not in rs:
        rs = [0.0] + rs
    cols = [dataclasses.replace(col, r_wire_ohm=r) for r in rs]
    from .characterize import run_batch
    res = run_batch([column_netlist(c) for c in cols], None, workers=workers, return_exceptions=False)
    df = pd.DataFrame([measure_column(c, r) for c, r in zip(cols, res)])
    if col.synapse != "resistor":
        # nonlinear devices: the reference is the same column with ideal (zero-resistance) wires
        q0 = float(df.loc[df["r_wire_ohm"] == 0.0, "charge_C"].iloc[0])
        df["ideal_charge_C"] = q0
        df["charge_error"] = (q0 - df["charge_C"]) / q0
    return df


def crossbar_profile(cache: bool = True, *, g_ref_S: float = 5e-6, with_ir_sweep: bool = True,
                     hold=None, **params) -> CrossbarProfile:
    """Characterise the read event and return a :class:`CrossbarProfile` (cached by netlist hash).

    Reference event: one row at ``g_ref_S`` (zero wire R) gives
    ``read_energy_per_event_J``; the same row with G -> tiny gives the
    G-independent ``wire_energy_per_event_J``; the column (``n_rows``) at
    ``r_wire_ohm`` gives ``ir_drop_error``; the wire energy per cell is the
    G-independent part divided by ``n_cols``.  The line hold (active read-out,
    :class:`eqspike.circuits.readout.ColumnHold`, default ``hold``) is
    simulated (:func:`eqspike.circuits.readout.characterize_hold`): its rest
    voltage, static power and charge error go into the profile.  Files
    (profile.json, ir_drop.csv/.png, readout.json) go to
    ``entry_dir("circuit", hash)``.
    """
    from .readout import ColumnHold, characterize_hold, hold_netlist
    hold = hold or ColumnHold()
    from eqspike import atomic
    from eqspike.cache import building, lookup
    from eqspike.spice import ngspice_version
    col = replace_checked(CrossbarColumn(), params) if params else CrossbarColumn()
    if not (g_ref_S > 0):
        raise ParameterError(f"g_ref_S = {g_ref_S!r} must be > 0 S")
    ref = dataclasses.replace(col, n_rows=1, g_min_S=g_ref_S, g_max_S=g_ref_S, r_wire_ohm=0.0,
                              synapse="resistor")
    wire = dataclasses.replace(ref, g_min_S=1e-15, g_max_S=1e-15)
    hold_key = hold_netlist(hold, v_rest_V=0.0, g_S=g_ref_S, v_read_V=col.read_voltage_V, n_pulses=1,
                            period_s=1e-7, width_s=col.read_pulse_width_s, rise_s=col.rise_time_s,
                            v_out_V=0.3, t_stop_s=1e-6)
    key = netlist_hash("\n".join(["crossbar-v2", column_netlist(ref), column_netlist(wire), column_netlist(col),
                                  str(with_ir_sweep), hold_key]))
    hit = lookup("circuit", key, required=("profile.json",)) if cache else None
    if hit is not None:
        return CrossbarProfile.from_json(hit / "profile.json")
    m_ref, m_wire, m_col = (measure_column(c) for c in (ref, wire, col))
    if col.synapse != "resistor":
        q0 = measure_column(dataclasses.replace(col, r_wire_ohm=0.0))["charge_C"]
        m_col["charge_error"] = (q0 - m_col["charge_C"]) / q0
    prov = {"circuit": "crossbar_column", "parameters": dataclasses.asdict(col), "synapse": col.synapse,
            "reference_event": "one resistor of g_ref_S (energy model V^2 G t + wire)",
            "ngspice_version": ngspice_version(), "netlist_hash": key,
            "kirchhoff_error_at_r_wire": m_col["charge_error"],
            "note": "read energy = driver energy of one read pulse (synapse Joule heat + row wire charging); "
                    "pulse t_eff = width + rise time (trapezoid)",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if with_ir_sweep:
        df = ir_drop_sweep(col)
        prov["ir_drop"] = df[["r_wire_ohm", "charge_error"]].to_dict("list")
    ro = characterize_hold(hold, g_S=g_ref_S, v_read_V=col.read_voltage_V, width_s=col.read_pulse_width_s,
                           rise_s=col.rise_time_s)
    prov["readout"] = {"circuit": "regulated-cascode line hold (eqspike.circuits.readout)",
                       "parameters": dataclasses.asdict(hold), **ro}
    e_wire = max(m_wire["energy_per_event_J"], 0.0)
    prof = CrossbarProfile(read_voltage_V=col.read_voltage_V, read_pulse_width_s=col.t_eff_s, g_ref_S=g_ref_S,
                           read_energy_per_event_J=m_ref["energy_per_event_J"],
                           wire_energy_per_event_J=e_wire,
                           n_rows=col.n_rows, wire_resistance_ohm=col.r_wire_ohm,
                           ir_drop_error=abs(m_col["charge_error"]),
                           wire_energy_per_cell_J=e_wire / col.n_cols, readout_power_W=ro["power_W"],
                           readout_rest_V=ro["v_rest_V"], readout_charge_error=ro["charge_error"],
                           provenance=prov)
    with building("circuit", key) as tmp:   # complete or absent (eqspike.cache)
        atomic.write_json(tmp / "readout.json", {**ro, "hold": dataclasses.asdict(hold)})
        if with_ir_sweep:
            atomic.write_csv(tmp / "ir_drop.csv", df)
            atomic.save_figure(tmp / "ir_drop.png", plot_ir_drop(df))
        prof.to_json(tmp / "profile.json")
    return prof


def plot_ir_drop(df: pd.DataFrame):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    s = df[df["r_wire_ohm"] > 0]
    ax.loglog(s["r_wire_ohm"], s["charge_error"].abs() * 100, "o-")
    ax.set(xlabel="wire resistance per cell (ohm)", ylabel="charge error vs sum G V t (%)",
           title=f"IR drop, column of {int(df['n_rows'].iloc[0])} synapses")
    ax.grid(True, which="both", alpha=0.3)
    return fig
