"""Transistor-level spiking neurons as ngspice netlists, from validated dataclasses.

Two circuits, both in the PTM 180 nm card (:mod:`eqspike.circuits.technology`):

:class:`AxonHillock`
    Mead's Axon-Hillock neuron (C. Mead, *Analog VLSI and Neural Systems*,
    1989): membrane capacitor ``Cmem`` integrates the input current; two
    inverters make the spike; ``Cfb`` from the output back to the membrane
    gives the positive feedback jump ``dV = VDD Cfb / (Cfb + Cmem)``; an NMOS
    pair (gate = output, gate = bias) resets the membrane with current
    ``i_reset_A``.  As in low-power published variants (G. Indiveri, "A
    low-power adaptive integrate-and-fire neuron circuit", ISCAS 2003;
    current-starved inverters as in A. van Schaik, "Building blocks for
    electronic spiking neural networks", Neural Networks 14, 2001) both
    inverters are current-starved: a PMOS head transistor mirrored from
    ``i_starve1_A`` / ``i_starve2_A`` caps the short-circuit current that a
    plain inverter draws while the membrane crosses its switching threshold
    slowly.  Charge per spike ``Q = Cfb VDD`` so ``f = I / (Cfb VDD)`` at low
    input; above about half the reset current the rate saturates.

:class:`LeakyIF`
    A leaky integrate-and-fire neuron after van Schaik (2001): ``Cmem``
    integrates the input; a constant leak current ``i_leak_A`` (NMOS mirror)
    sets the threshold current; a 5-transistor OTA comparator
    (tail ``i_comp_A``) compares the membrane with ``v_thr_V``; two starved
    inverters give the spike; the spike resets the membrane and charges a
    refractory capacitor ``c_refr_F`` that holds the membrane at ground until
    it discharges through ``i_refr_A`` (refractory period ~
    ``c_refr_F (VDD - V_tn) / i_refr_A``).

Bias currents come from ideal current sources into diode-connected mirror
transistors on a separate bias supply ``vddb`` (a bias generator is shared
by many neurons): the neuron's energy is what ``vdd`` delivers; the bias
branch power is reported apart (``bias_power_W``).  The input current comes
from an ideal source (its energy belongs to the synapses/crossbar).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from eqspike.errors import ParameterError
from eqspike.params import param, validate

from .technology import Technology, diffusion_geometry, get_technology

__all__ = ["SolverOptions", "AxonHillock", "LeakyIF", "NEURONS", "get_neuron_class", "make_neuron"]


@dataclass(frozen=True)
class SolverOptions:
    """ngspice transient options (see shared/docs/ngspice-findings.md).

    Gear integration and tight tolerances: trapezoidal rang (ISI CV 0.1-0.2,
    energy off 2x); ``abstol`` must be far below the input current;
    ``gmin`` 1e-15 so that the solver's own conductance does not carry
    picoamps.  ``tol_scale`` multiplies reltol, abstol and vntol (0.1 =
    ten times tighter, used to confirm spikes are not numerical).
    """
    method: str = param("gear", unit="", choices=("gear", "trap"), doc="integration method")
    reltol: float = param(1e-4, unit="1", low=0, low_open=True, high=1e-2, doc="relative tolerance")
    abstol_A: float = param(1e-15, unit="A", low=0, low_open=True, high=1e-9, doc="current tolerance")
    vntol_V: float = param(1e-6, unit="V", low=0, low_open=True, high=1e-3, doc="voltage tolerance")
    gmin_S: float = param(1e-15, unit="S", low=0, low_open=True, high=1e-9, doc="solver minimum conductance")
    tol_scale: float = param(1.0, unit="1", low=0, low_open=True, high=10, doc="multiplies reltol/abstol/vntol")
    steps_per_period: float = param(40.0, unit="1", low=10, high=1e5,
                                    doc="max time step = expected period / this")

    def __post_init__(self) -> None:
        validate(self)

    def options_line(self) -> str:
        s = self.tol_scale
        return (f".options method={self.method} reltol={self.reltol * s:.3g} abstol={self.abstol_A * s:.3g} "
                f"vntol={self.vntol_V * s:.3g} gmin={self.gmin_S:.3g} chgtol={1e-18 * s:.3g} itl4=100")


def _fmt(x: float) -> str:
    return f"{x:.6g}"


@dataclass(frozen=True)
class _NeuronBase:
    """Shared fields and helpers of the neuron generators."""
    name: ClassVar[str] = ""
    output_node: ClassVar[str] = "vout"
    membrane_node: ClassVar[str] = "vmem"
    supply: ClassVar[str] = "vdd"

    def __post_init__(self) -> None:
        validate(self)
        get_technology(self.technology)
        if self.i_max_A <= self.i_min_A:
            raise ParameterError(f"parameter 'i_max_A' = {self.i_max_A!r} must exceed "
                                 f"'i_min_A' = {self.i_min_A!r} (characterised input range)")

    @property
    def tech(self) -> Technology:
        return get_technology(self.technology)

    def check_input(self, i_in_A: float) -> float:
        """Raise ParameterError unless ``i_in_A`` lies in the characterised range (0 allowed)."""
        i = float(i_in_A)
        if i == 0.0:
            return i
        if not (self.i_min_A * (1 - 1e-9) <= i <= self.i_max_A * (1 + 1e-9)):
            raise ParameterError(f"input current {i!r} A is outside the characterised range "
                                 f"[{self.i_min_A:g}, {self.i_max_A:g}] A of circuit '{self.name}' "
                                 f"(set i_min_A / i_max_A to change it)")
        return i

    def _m(self, name: str, d: str, g: str, s: str, b: str, kind: str, w: float, l: float) -> str:
        model = self.tech.nmos if kind == "n" else self.tech.pmos
        return f"{name} {d} {g} {s} {b} {model} w={_fmt(w)} l={_fmt(l)} {diffusion_geometry(w, self.tech)}"

    def _supplies(self, i_in: float, *extra: str) -> list[str]:
        """Supply ``vdd``, bias supply ``vddb``, ``extra`` sources, input current into
        the membrane and the membrane capacitor."""
        return [f"Vdd vdd 0 {_fmt(self.vdd_V)}", f"Vddb vddb 0 {_fmt(self.vdd_V)}", *extra,
                f"Iin 0 vmem DC {i_in:.6g}", f"Cmem vmem 0 {_fmt(self.c_mem_F)}"]

    def _mirror(self, kind: str, node: str, source: str, current_A: float) -> list[str]:
        """Diode-connected bias transistor ``M<node>`` (on ``vddb``) fed by ideal source ``source``."""
        wb, lb = self.w_bias_m, self.l_bias_m
        if kind == "n":
            return [self._m(f"M{node}", node, node, "0", "0", "n", wb, lb),
                    f"{source} vddb {node} DC {_fmt(current_A)}"]
        return [self._m(f"M{node}", node, node, "vddb", "vddb", "p", wb, lb),
                f"{source} {node} 0 DC {_fmt(current_A)}"]

    def params_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["circuit"] = self.name
        return d

    def netlist(self, i_in_A: float, t_stop_s: float, t_max_step_s: float,
                solver: SolverOptions | None = None, *, check: bool = True) -> str:
        """Full SPICE text: title, model card, circuit, options, ``.tran``."""
        solver = solver or SolverOptions()
        i = self.check_input(i_in_A) if check else float(i_in_A)
        if not (t_stop_s > 0 and t_max_step_s > 0):
            raise ParameterError(f"t_stop_s = {t_stop_s!r} and t_max_step_s = {t_max_step_s!r} must be > 0 s")
        body = self._body(i)
        title = f"eqspike {self.name} i_in={i:.4g}A"
        tstep = min(t_max_step_s, t_stop_s / 100)
        return "\n".join([title, "* model card: " + self.tech.source, self.tech.card().strip(),
                          body, solver.options_line(),
                          f".tran {_fmt(tstep)} {_fmt(t_stop_s)} 0 {_fmt(t_max_step_s)}",
                          ".end", ""])

    def op_netlist(self, solver: SolverOptions | None = None) -> str:
        """Operating point with zero input (static/leakage power)."""
        solver = solver or SolverOptions()
        body = self._body(0.0)
        return "\n".join([f"eqspike {self.name} standby op", self.tech.card().strip(), body,
                          solver.options_line(), ".op", ".end", ""])


@dataclass(frozen=True)
class AxonHillock(_NeuronBase):
    """Axon-Hillock neuron with current-starved inverters (see module doc)."""
    name: ClassVar[str] = "axon_hillock"
    output_node: ClassVar[str] = "vout"

    vdd_V: float = param(1.8, unit="V", low=0, low_open=True, high=3.3, doc="supply voltage")
    c_mem_F: float = param(100e-15, unit="F", low=0, low_open=True, high=1e-9, doc="membrane capacitance")
    c_fb_F: float = param(10e-15, unit="F", low=0, low_open=True, high=1e-9,
                          doc="feedback capacitance (charge per spike = c_fb_F * vdd_V)")
    i_starve1_A: float = param(20e-9, unit="A", low=1e-12, high=1e-4,
                               doc="head current of the first (membrane) inverter: caps its short-circuit current")
    i_starve2_A: float = param(100e-9, unit="A", low=1e-12, high=1e-4,
                               doc="foot current of the second inverter: caps its short-circuit current")
    i_reset_A: float = param(300e-9, unit="A", low=1e-12, high=1e-3,
                             doc="reset (pulse-width) current; rate saturates near i_reset_A / 2")
    w_inv_m: float = param(0.24e-6, unit="m", low=0.18e-6, high=100e-6, doc="inverter transistor width")
    l_inv_m: float = param(0.18e-6, unit="m", low=0.18e-6, high=10e-6, doc="inverter transistor length")
    w_bias_m: float = param(0.48e-6, unit="m", low=0.18e-6, high=100e-6, doc="bias/mirror transistor width")
    l_bias_m: float = param(1.0e-6, unit="m", low=0.18e-6, high=10e-6,
                            doc="bias/mirror transistor length (long: low leakage, good matching)")
    l_reset_m: float = param(0.5e-6, unit="m", low=0.18e-6, high=10e-6,
                             doc="length of the reset switch (gate = output): longer leaks less")
    i_min_A: float = param(3e-12, unit="A", low=0, low_open=True, high=1e-3, doc="lowest characterised input current")
    i_max_A: float = param(250e-9, unit="A", low=0, low_open=True, high=1e-3,
                           doc="highest characterised input current (above ~i_reset_A the neuron latches)")
    technology: str = param("ptm180", unit="", choices=("ptm180",), doc="model card (see eqspike circuit list)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.c_fb_F * self.vdd_V / (self.c_fb_F + self.c_mem_F) > 0.6 * self.vdd_V:
            raise ParameterError(f"c_fb_F = {self.c_fb_F:g} F is too large for c_mem_F = {self.c_mem_F:g} F: "
                                 f"the feedback jump would exceed 0.6 vdd_V (need c_mem_F >= 0.67 c_fb_F)")

    @property
    def charge_per_spike_C(self) -> float:
        return self.c_fb_F * self.vdd_V

    def expected_rate_Hz(self, i_in_A: float) -> float:
        """Rough estimate used only to size the simulation: ``1 / (Q / I + t_dead)``.

        ``Q = c_fb vdd + c_mem * 0.18 V`` (the reset takes the membrane to about
        0 V, not to the switching threshold minus the jump); ``t_dead`` adds the
        starved slews (about 3 fF * vdd / i_starve1 + c_fb vdd / i_starve2) and
        the reset time ``Q / i_reset``.
        """
        i = max(float(i_in_A), 1e-18)
        q = self.c_fb_F * self.vdd_V + self.c_mem_F * 0.18
        t_dead = (3e-15 * self.vdd_V / self.i_starve1_A + self.c_fb_F * self.vdd_V / self.i_starve2_A
                  + q / self.i_reset_A)
        return 1.0 / (q / i + t_dead)

    def first_spike_s(self, i_in_A: float) -> float:
        """Estimated time to the first spike from a discharged membrane."""
        return (self.c_mem_F + self.c_fb_F) * 0.5 / max(float(i_in_A), 1e-15)

    def _body(self, i_in: float) -> str:
        w, l, wb, lb = self.w_inv_m, self.l_inv_m, self.w_bias_m, self.l_bias_m
        m = self._m
        return "\n".join([
            *self._supplies(i_in),
            f"Cfb vout vmem {_fmt(self.c_fb_F)}",
            "* inverter 1 (membrane -> vx), PMOS head starved at i_starve1",
            m("Mh1", "h1", "bp1", "vdd", "vdd", "p", wb, lb),
            m("M1p", "vx", "vmem", "h1", "vdd", "p", w, l),
            m("M1n", "vx", "vmem", "0", "0", "n", w, l),
            "* inverter 2 (vx -> vout), NMOS foot starved at i_starve2",
            m("M2p", "vout", "vx", "vdd", "vdd", "p", w, l),
            m("M2n", "vout", "vx", "f2", "0", "n", w, l),
            m("Mf2", "f2", "bn2", "0", "0", "n", wb, lb),
            "* reset: vout high sinks i_reset from the membrane (long devices: low leakage)",
            m("Mr1", "vmem", "vout", "r1", "0", "n", w, self.l_reset_m),
            m("Mr2", "r1", "bnr", "0", "0", "n", wb, lb),
            "* bias mirrors on the separate bias supply vddb",
            *self._mirror("p", "bp1", "Ib1", self.i_starve1_A),
            *self._mirror("n", "bn2", "Ib2", self.i_starve2_A),
            *self._mirror("n", "bnr", "Ibr", self.i_reset_A),
            f".ic v(vmem)=0 v(vx)={_fmt(self.vdd_V)} v(vout)=0",
        ])

    def bias_power_W(self) -> float:
        return self.vdd_V * (self.i_starve1_A + self.i_starve2_A + self.i_reset_A)


@dataclass(frozen=True)
class LeakyIF(_NeuronBase):
    """Leaky integrate-and-fire with OTA comparator, reset and refractory period (see module doc)."""
    name: ClassVar[str] = "lif"
    output_node: ClassVar[str] = "vspk"

    vdd_V: float = param(1.8, unit="V", low=0, low_open=True, high=3.3, doc="supply voltage")
    c_mem_F: float = param(100e-15, unit="F", low=0, low_open=True, high=1e-9, doc="membrane capacitance")
    v_thr_V: float = param(0.6, unit="V", low=0.1, high=1.5, doc="firing threshold (comparator reference)")
    i_leak_A: float = param(1e-9, unit="A", low=1e-13, high=1e-5,
                            doc="constant leak current (sets the threshold current)")
    i_comp_A: float = param(20e-9, unit="A", low=1e-12, high=1e-4, doc="comparator (OTA) tail current")
    i_starve_A: float = param(200e-9, unit="A", low=1e-12, high=1e-4,
                              doc="head current of the spike inverter (caps its short-circuit current)")
    i_reset_A: float = param(1e-6, unit="A", low=1e-12, high=1e-3,
                             doc="membrane reset/hold current during the spike and refractory period")
    c_refr_F: float = param(20e-15, unit="F", low=0, low_open=True, high=1e-9, doc="refractory capacitor")
    i_refr_A: float = param(5e-9, unit="A", low=1e-13, high=1e-4,
                            doc="refractory discharge current (period ~ c_refr_F (vdd_V - 0.4 V) / i_refr_A)")
    w_inv_m: float = param(0.24e-6, unit="m", low=0.18e-6, high=100e-6, doc="inverter/switch transistor width")
    l_inv_m: float = param(0.18e-6, unit="m", low=0.18e-6, high=10e-6, doc="inverter/switch transistor length")
    w_bias_m: float = param(0.48e-6, unit="m", low=0.18e-6, high=100e-6, doc="bias/mirror/OTA transistor width")
    l_bias_m: float = param(1.0e-6, unit="m", low=0.18e-6, high=10e-6, doc="bias/mirror/OTA transistor length")
    i_min_A: float = param(100e-12, unit="A", low=0, low_open=True, high=1e-3, doc="lowest characterised input current")
    i_max_A: float = param(800e-9, unit="A", low=0, low_open=True, high=1e-3,
                           doc="highest characterised input current (keep below i_reset_A)")
    technology: str = param("ptm180", unit="", choices=("ptm180",), doc="model card (see eqspike circuit list)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.v_thr_V >= self.vdd_V - 0.3:
            raise ParameterError(f"parameter 'v_thr_V' = {self.v_thr_V!r} must be below vdd_V - 0.3 V "
                                 f"= {self.vdd_V - 0.3:g} V")

    @property
    def refractory_s(self) -> float:
        return self.c_refr_F * max(self.vdd_V - 0.4, 0.1) / self.i_refr_A

    def expected_rate_Hz(self, i_in_A: float) -> float:
        i = float(i_in_A) - self.i_leak_A
        if i <= 0:
            return 0.0
        return 1.0 / (self.c_mem_F * self.v_thr_V / i + self.refractory_s)

    def first_spike_s(self, i_in_A: float) -> float:
        i = float(i_in_A) - self.i_leak_A
        return self.c_mem_F * self.v_thr_V / max(i, 1e-15)

    def _body(self, i_in: float) -> str:
        w, l, wb, lb = self.w_inv_m, self.l_inv_m, self.w_bias_m, self.l_bias_m
        m = self._m
        return "\n".join([
            *self._supplies(i_in, f"Vthr vthr 0 {_fmt(self.v_thr_V)}"),
            "* constant leak",
            m("Mleak", "vmem", "bnl", "0", "0", "n", wb, lb),
            "* OTA comparator: + = vmem, - = vthr, output vc high when vmem > vthr",
            m("Mt", "tail", "bnc", "0", "0", "n", wb, lb),
            m("Md1", "d1", "vmem", "tail", "0", "n", wb, lb),
            m("Md2", "vc", "vthr", "tail", "0", "n", wb, lb),
            m("Ml1", "d1", "d1", "vdd", "vdd", "p", wb, lb),
            m("Ml2", "vc", "d1", "vdd", "vdd", "p", wb, lb),
            "* inverter 1 (vc -> vcb), PMOS head starved at i_starve: vcb low while vmem > vthr",
            m("Mh1", "h1", "bps", "vdd", "vdd", "p", wb, lb),
            m("M1p", "vcb", "vc", "h1", "vdd", "p", w, l),
            m("M1n", "vcb", "vc", "0", "0", "n", w, l),
            "* spike = refractory pulse: vcb low charges crefr (vspk) to vdd through Mchg;",
            "* vspk holds the membrane at ground (Mhold) until i_refr discharges crefr",
            m("Mchg", "vspk", "vcb", "vdd", "vdd", "p", w, l),
            f"Crefr vspk 0 {_fmt(self.c_refr_F)}",
            m("Mrfl", "vspk", "bnrf", "0", "0", "n", wb, lb),
            m("Mhold", "vmem", "vspk", "hl", "0", "n", w, l),
            m("Mhl", "hl", "bnr", "0", "0", "n", wb, lb),
            "* latch: while vc is high, vspk pulls vcb further low (regenerative spike onset)",
            m("Mlat1", "vcb", "vspk", "l1", "0", "n", w, l),
            m("Mlat2", "l1", "vc", "0", "0", "n", w, l),
            "* bias mirrors on the separate bias supply vddb",
            *self._mirror("n", "bnl", "Ibl", self.i_leak_A),
            *self._mirror("n", "bnc", "Ibc", self.i_comp_A),
            *self._mirror("p", "bps", "Ibs", self.i_starve_A),
            *self._mirror("n", "bnr", "Ibr", self.i_reset_A),
            *self._mirror("n", "bnrf", "Ibrf", self.i_refr_A),
            f".ic v(vmem)=0 v(vcb)={_fmt(self.vdd_V)} v(vspk)=0",
        ])

    def bias_power_W(self) -> float:
        return self.vdd_V * (self.i_leak_A + self.i_comp_A + self.i_starve_A + self.i_refr_A + self.i_reset_A)


NEURONS: dict[str, type] = {AxonHillock.name: AxonHillock, LeakyIF.name: LeakyIF}


def get_neuron_class(name: str) -> type:
    """Neuron generator class by circuit name (ParameterError naming the known ones)."""
    try:
        return NEURONS[name]
    except KeyError:
        raise ParameterError(f"unknown circuit {name!r}; known circuits: {', '.join(NEURONS)}") from None


def make_neuron(name: str, **overrides):
    """Instance of circuit ``name`` with parameter overrides (unknown names rejected)."""
    from eqspike.params import replace_checked
    cls = get_neuron_class(name)
    return replace_checked(cls(), overrides) if overrides else cls()
