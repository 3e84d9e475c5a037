"""Column read-out: an active hold that keeps a crossbar line at a fixed voltage.

Why: the Axon-Hillock membrane swings from about -0.05 V to 0.43 V, far more
than the 0.1 V read pulse, so a column tied straight to the membrane would
deliver ``G (V_read - V_mem) t`` (even reversing).  Each held line needs an
active hold that pins it at ``V_rest`` and conveys the charge to the neuron.

Circuit (regulated-cascode current conveyor, PTM 180 nm, one per held line):

- ``x``: the held line (column), with a hold capacitor ``c_hold_F`` that
  absorbs the charge of a read pulse while the loop follows the average;
- ``Ma`` (NMOS, gate ``x``, source at the shared reference ``v_shift_V``)
  with the amplifier load current ``i_amp_A`` into its drain ``y``;
- ``Mp`` (PMOS, source ``x``, gate ``y``, drain = the neuron membrane)
  conveys the line's current to the membrane; when ``x`` rises, ``Ma``
  pulls ``y`` down and ``Mp`` conducts more (negative feedback);
- ``i_keep_A`` into ``x`` keeps ``Mp`` on at zero input (its copy is taken
  off the membrane by a matched sink in a real design; here it is part of
  the hold's supply power, and the characterisation subtracts it).

A read pulse takes its row from ``V_rest`` (the regulated ``x``, from a
zero-input transient) to ``V_rest + V_read``; between pulses the row
drivers are switched off (idle rows float, :mod:`eqspike.circuits.slice`
shows why): the read supply delivers
``(V_rest + V_read) G V_read t`` per cell read, of which ``V_read^2 G t`` is
the synapse's Joule heat and ``V_rest G V_read t`` the conveyance (dissipated
in ``Mp`` and the neuron).  The hold's own supply power is
``(i_amp_A + i_keep_A) * vdd_V`` (ideal current sources: their bias
transistors' reference branches are part of the shared bias generator).

:func:`characterize_hold` measures ``V_rest``, the static supply power and
the charge error of a pulse train against ``G V_read t_eff`` (the
difference of two transients, with and without pulses, so the DC part
cancels).
"""
from __future__ import annotations

from dataclasses import dataclass

from eqspike.params import param, validate
from eqspike.spice import netlist_hash, run_netlist

from .measure import cumulative_energy
from .technology import diffusion_geometry, get_technology

__all__ = ["ColumnHold", "hold_lines", "hold_netlist", "rest_voltage_V", "characterize_hold"]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


@dataclass(frozen=True)
class ColumnHold:
    """Regulated-cascode line hold (see module doc); SI units."""
    vdd_V: float = param(1.8, unit="V", low=0, low_open=True, high=3.3, doc="hold supply")
    i_amp_A: float = param(30e-9, unit="A", low=1e-12, high=1e-4, doc="amplifier (Ma) load current")
    i_keep_A: float = param(1e-9, unit="A", low=0, high=1e-5, doc="keep-alive current through Mp at zero input")
    c_hold_F: float = param(0.3e-12, unit="F", low=0, high=1e-9, doc="hold capacitor on the line")
    v_shift_V: float = param(0.2, unit="V", low=0, high=1.0,
                             doc="shared reference at Ma's source: sets V_rest ~ v_shift_V + V_gs(Ma)")
    w_amp_m: float = param(0.48e-6, unit="m", low=0.18e-6, high=100e-6, doc="Ma width")
    l_amp_m: float = param(1.0e-6, unit="m", low=0.18e-6, high=10e-6, doc="Ma length")
    w_pass_m: float = param(2.0e-6, unit="m", low=0.18e-6, high=100e-6, doc="Mp width")
    l_pass_m: float = param(0.18e-6, unit="m", low=0.18e-6, high=10e-6, doc="Mp length")
    technology: str = param("ptm180", unit="", choices=("ptm180",), doc="model card")

    def __post_init__(self) -> None:
        validate(self)

    @property
    def power_W(self) -> float:
        """Static supply power of one hold (W): ``(i_amp_A + i_keep_A) vdd_V``."""
        return (self.i_amp_A + self.i_keep_A) * self.vdd_V


def hold_lines(hold: ColumnHold, tag: str, x: str, out: str, supply: str, shift: str) -> list[str]:
    """Netlist lines of one hold on line ``x`` conveying into node ``out``.

    ``supply``: the hold supply node (at ``vdd_V``); ``shift``: the shared
    reference node at ``v_shift_V``.  The instance names carry ``tag``.
    """
    tech = get_technology(hold.technology)

    def m(name, d, g, s, b, model, w, l):
        return f"{name}{tag} {d} {g} {s} {b} {model} w={_fmt(w)} l={_fmt(l)} {diffusion_geometry(w, tech)}"
    y = f"y{tag}"
    lines = [f"Iamp{tag} {supply} {y} DC {_fmt(hold.i_amp_A)}",
             m("Ma", y, x, shift, "0", tech.nmos, hold.w_amp_m, hold.l_amp_m),
             m("Mp", out, y, x, x, tech.pmos, hold.w_pass_m, hold.l_pass_m)]
    if hold.i_keep_A > 0:
        lines.append(f"Ikeep{tag} {supply} {x} DC {_fmt(hold.i_keep_A)}")
    if hold.c_hold_F > 0:
        lines.append(f"Chold{tag} {x} 0 {_fmt(hold.c_hold_F)}")
    return lines


def hold_netlist(hold: ColumnHold, *, v_rest_V: float, g_S: float, v_read_V: float, n_pulses: int,
                 period_s: float, width_s: float, rise_s: float, v_out_V: float, t_stop_s: float) -> str:
    """One row of conductance ``g_S`` pulsing ``n_pulses`` times into a held line that conveys
    into a fixed node at ``v_out_V`` (a membrane stand-in); ``n_pulses = 0``: the row rests."""
    tech = get_technology(hold.technology)
    if n_pulses > 0:
        row = (f"Vrow r 0 PULSE({_fmt(v_rest_V)} {_fmt(v_rest_V + v_read_V)} 20n {_fmt(rise_s)} {_fmt(rise_s)} "
               f"{_fmt(width_s)} {_fmt(period_s)} {int(n_pulses)})")
    else:
        row = f"Vrow r 0 DC {_fmt(v_rest_V)}"
    tmax = min(rise_s, width_s / 20)
    lines = [f"eqspike column hold n={n_pulses}", tech.card().strip(),
             f"Vsup hsup 0 {_fmt(hold.vdd_V)}", f"Vsh hsh 0 {_fmt(hold.v_shift_V)}",
             *hold_lines(hold, "1", "x", "mem", "hsup", "hsh"),
             f"Vmem mem 0 {_fmt(v_out_V)}", row, f"Rg r x {_fmt(1.0 / g_S)}",
             ".options method=gear reltol=1e-5 abstol=1e-15 vntol=1e-7",
             f".tran {_fmt(tmax)} {_fmt(t_stop_s)} 0 {_fmt(tmax)}", ".end", ""]
    return "\n".join(lines)


def rest_voltage_V(hold: ColumnHold) -> float:
    """Regulated line voltage at zero input (V), from a transient to equilibrium with no row."""
    net = hold_netlist(hold, v_rest_V=0.0, g_S=1e-15, v_read_V=0.1, n_pulses=0, period_s=1e-7,
                       width_s=1e-8, rise_s=1e-10, v_out_V=0.2, t_stop_s=3e-6)
    r = run_netlist(net, ["time", "x"])
    return float(r["x"][-1])


def characterize_hold(hold: ColumnHold, *, g_S: float = 5e-6, v_read_V: float = 0.1,
                      width_s: float = 10e-9, rise_s: float = 0.1e-9, n_pulses: int = 40,
                      period_s: float = 100e-9, v_out_V: float = 0.3) -> dict:
    """V_rest, static power and conveyed-charge error of one hold (see module doc).

    The train: ``n_pulses`` read pulses of ``v_read_V`` every ``period_s``
    through ``g_S`` into the held line, which conveys into a node held at
    ``v_out_V`` (inside the membrane's swing).  ``charge_error`` = 1 -
    (row charge with pulses - row charge at rest) / (n G V_read t_eff).
    """
    v_rest = rest_voltage_V(hold)
    t_stop = 20e-9 + (n_pulses + 2) * period_s
    kw = dict(v_rest_V=v_rest, g_S=g_S, v_read_V=v_read_V, period_s=period_s, width_s=width_s,
              rise_s=rise_s, v_out_V=v_out_V, t_stop_s=t_stop)
    vec = ["time", "x", "vrow#branch", "vsup#branch", "vmem#branch"]
    net = hold_netlist(hold, n_pulses=n_pulses, **kw)
    r1 = run_netlist(net, vec)
    r0 = run_netlist(hold_netlist(hold, n_pulses=0, **kw), vec)

    def charge(r, name, sign=1.0):
        return float(cumulative_energy(r["time"], sign * r[name])[-1])
    q_row = charge(r1, "vrow#branch", -1) - charge(r0, "vrow#branch", -1)
    q_out = charge(r1, "vmem#branch") - charge(r0, "vmem#branch")
    ideal = n_pulses * g_S * v_read_V * (width_s + rise_s)
    p_rest = float(-hold.vdd_V * r0["vsup#branch"][-1])
    return {"v_rest_V": v_rest, "power_W": p_rest, "power_nominal_W": hold.power_W,
            "charge_error": 1.0 - q_row / ideal, "conveyed_error": 1.0 - q_out / ideal,
            "x_swing_V": float(r1["x"].max() - r1["x"].min()), "g_S": g_S, "n_pulses": n_pulses,
            "period_s": period_s, "v_out_V": v_out_V, "netlist_hash": netlist_hash(net)}
