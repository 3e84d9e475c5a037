"""Filament-gap metal-oxide RRAM of the Stanford-PKU kind.

Model: Guan, Yu, Wong, "A SPICE compact model of metal oxide resistive
switching memory with variations", IEEE EDL 33(10):1405, 2012; Jiang et al.,
"A compact model for metal-oxide resistive random access memory with
experiment verification", IEEE TED 63(5):1884, 2016.

State: the gap ``g`` between filament tip and electrode, stored in nm on a
1 F capacitor node ``gap`` (1 V = 1 nm):

    I      = I0 exp(-g / g0) sinh(V_cell / V0)
    dg/dt  = -nu0 exp(-Ea / kT) sinh(gamma a0 V_cell / (t_ox kT/q)) * window
    gamma  = gamma0 - beta g^3
    T      = T0 + |V_cell I| R_th                      (self-heating)

with soft windows keeping ``g_min <= g <= g_max``.  A positive voltage
shrinks the gap (SET, potentiation).  ``r_series_ohm`` is an optional
resistance in series with the switching cell (``V_cell = V - I R_s``):
in a TaOx/HfOx bilayer the TaOx layer acts as such a series/thermal layer
(Wu et al., "Improving analog switching in HfOx-based resistive memory
with a thermal enhanced layer", IEEE EDL 38(8):1019, 2017), and it is what
makes the bilayer's potentiation gradual and nearly linear.

Two parameter sets:

- :func:`PKURRAMParams` defaults: the Guan 2012 / Jiang 2016 values as in
  the anchor table (g0 0.25 nm, V0 0.25 V, I0 1 mA, gamma0 16, Ea 0.6 eV,
  a0 0.25 nm, t_ox 12 nm, nu0 10 m/s, R_th 2.1 kK/W; approx.).
- :data:`TAOX_HFOX`: a TaOx/HfOx-like synapse calibrated to the anchor row
  (128 levels, NL 0.04 / -0.63, 1-10 uS, 1.6 V 50 ns): see its docstring.
"""
from __future__ import annotations

from dataclasses import dataclass

from eqspike.errors import ParameterError
from eqspike.params import param, validate

from .base import K_B_EV, end_subckt, fmt

__all__ = ["PKURRAMParams", "taox_hfox"]


@dataclass(frozen=True)
class PKURRAMParams:
    """Stanford-PKU filament-gap RRAM parameters (SI; lengths in m)."""
    i0_A: float = param(1e-3, unit="A", low=0, high=1, low_open=True, doc="current prefactor I0")
    g0_m: float = param(0.25e-9, unit="m", low=0, high=1e-8, low_open=True, doc="gap decay length g0")
    v0_V: float = param(0.25, unit="V", low=0, high=10, low_open=True, doc="I-V nonlinearity V0")
    nu0_m_per_s: float = param(10.0, unit="m/s", low=0, high=1e6, low_open=True, doc="gap velocity prefactor")
    ea_eV: float = param(0.6, unit="eV", low=0, high=3, doc="activation energy Ea")
    a0_m: float = param(0.25e-9, unit="m", low=0, high=1e-8, low_open=True, doc="hopping distance a0")
    t_ox_m: float = param(12e-9, unit="m", low=0, high=1e-6, low_open=True, doc="oxide thickness t_ox")
    gamma0: float = param(16.0, unit="", low=0, high=1000, doc="field enhancement gamma0")
    beta_per_nm3: float = param(0.0, unit="1/nm^3", low=0, high=100, doc="gamma reduction beta (gamma = gamma0 - beta g^3)")
    g_min_m: float = param(0.1e-9, unit="m", low=0, high=1e-8, doc="smallest gap")
    g_max_m: float = param(1.7e-9, unit="m", low=0, high=1e-8, low_open=True, doc="largest gap")
    window_m: float = param(0.02e-9, unit="m", low=0, high=1e-9, low_open=True, doc="soft window width at the gap limits")
    r_th_K_per_W: float = param(2.1e3, unit="K/W", low=0, high=1e8, doc="thermal resistance R_th")
    t0_K: float = param(300.0, unit="K", low=1, high=1000, doc="ambient temperature")
    r_series_ohm: float = param(0.0, unit="ohm", low=0, high=1e9, doc="series resistance (0: none)")
    gap0_m: float = param(1.7e-9, unit="m", low=0, high=1e-8, doc="initial gap")
    c2c_sigma: float = param(0.0, unit="", low=0, high=2,
                             doc="cycle-to-cycle log-normal std of the gap velocity, redrawn every noise_period_s")
    noise_period_s: float = param(1e-6, unit="s", low=0, low_open=True, doc="c2c noise redraw period")

    D2D_PARAMS = ("i0_A", "nu0_m_per_s", "r_series_ohm")

    def __post_init__(self) -> None:
        validate(self)
        if not self.g_min_m < self.g_max_m:
            raise ParameterError(f"g_min_m = {self.g_min_m!r} must be below g_max_m = {self.g_max_m!r}")
        if not self.g_min_m <= self.gap0_m <= self.g_max_m:
            raise ParameterError(f"gap0_m = {self.gap0_m!r} must lie in [g_min_m, g_max_m] = "
                                 f"[{self.g_min_m!r}, {self.g_max_m!r}]")

    def subckt(self, name: str = "pku_rram") -> str:
        nm = 1e9
        kt = f"({fmt(K_B_EV)}*v(tk))"  # kT/q in V
        cell = "v(c,n)"
        icell = f"i0*exp(-v(gap)/{fmt(self.g0_m * nm)})*sinh(min(max({cell}/{fmt(self.v0_V)},-60),60))"
        gam = f"max({fmt(self.gamma0)} - {fmt(self.beta_per_nm3)}*pwr(max(v(gap),0),3), 0)"
        arg = f"{gam}*{fmt(self.a0_m / self.t_ox_m)}*{cell}/{kt}"
        noise = self.c2c_sigma > 0
        mult = f"*exp({fmt(self.c2c_sigma)}*v(nz))" if noise else ""
        w = fmt(self.window_m * nm)
        # SET (v > 0, gap shrinks) is damped near g_min, RESET near g_max
        win = (f"({cell} > 0 ? (1 - exp(-max(v(gap) - {fmt(self.g_min_m * nm)}, 0)/{w})) : "
               f"(1 - exp(-max({fmt(self.g_max_m * nm)} - v(gap), 0)/{w})))")
        rate = (f"nu0*exp(-{fmt(self.ea_eV)}/{kt})*sinh(min(max({arg},-80),80))*{win}{mult}")
        lines = [
            f".subckt {name} p n i0={fmt(self.i0_A)} nu0={fmt(self.nu0_m_per_s * nm)} "
            f"rs={fmt(max(self.r_series_ohm, 1e-3))}",
            "* Stanford-PKU filament-gap RRAM (Guan 2012, Jiang 2016); gap in nm on 1 F",
            "Rs p c {rs}",
            "Cg gap 0 1",
            # self-heating temperature (K) as the voltage of node tk (algebraic)
            f"Bt tk 0 V={fmt(self.t0_K)} + abs({cell}*{icell})*{fmt(self.r_th_K_per_W)}",
            f"Bg 0 gap I=-({rate})",
            f"Bi c n I={icell}",
        ]
        return end_subckt(lines, self.noise_period_s if noise else None)

    def instance_params(self) -> dict[str, float]:
        return {"i0": self.i0_A, "nu0": self.nu0_m_per_s * 1e9, "rs": self.r_series_ohm}

    def ic(self, path: str) -> dict[str, float]:
        return {f"{path}.gap": self.gap0_m * 1e9}

    def read_conductance_S(self, gap_m, v_read_V: float = 0.1):
        """Chord conductance I(V_read)/V_read of the cell at gap ``gap_m`` (no series R)."""
        import numpy as np
        return self.i0_A * np.exp(-np.asarray(gap_m) / self.g0_m) * np.sinh(v_read_V / self.v0_V) / v_read_V


def taox_hfox() -> PKURRAMParams:
    """TaOx/HfOx-like analog synapse.

    Anchor (NeuroSim's device table, from Wu et al. IEEE EDL 2017): 128
    levels, NL 0.04 (LTP) / -0.63 (LTD), 1-10 uS, 1.6 V / 50 ns pulses,
    c2c 3.7 %.  Choices (PKU equations, published g0 = 0.25 nm, V0 = 0.25 V,
    I0 = 1 mA, Ea = 0.6 eV, gamma0 = 16, a0 = 0.25 nm, t_ox = 12 nm, R_th =
    2.1 kK/W kept):

    - gap range 1.45-2.1 nm: with I0 e^(-g/g0) sinh(0.1/V0)/0.1 this puts
      the 0.1 V read conductance at ~0.9-13 uS, the anchor's 1-10 uS;
    - r_series_ohm = 300: the TaOx layer as a series resistance.  At the
      high-G end 1.6 V pulses drive ~0.4 mA, dropping ~0.1 V across it,
      which slows the exponential gap velocity about tenfold and turns the
      otherwise exponential G(p) (NL label far from 0) into a nearly linear
      one;
    - window_m = 0.3 nm: a soft approach to g_min (saturation);
    - nu0 = 6 mm/s (published 10 m/s): sets the speed so that 127 pulses of
      1.6 V / 50 ns span the range instead of one.

    Measured with 127 + 127 pulses (1.6 V / -1.6 V, 50 ns, read 0.1 V): G
    0.92-6.4 uS, LTP NL -0.04, LTD NL -2.0 (the anchor's -0.63 is not
    matched: the symmetric sinh kinetics make depression more saturating).
    ``tests/test_devices_models.py`` checks the bar (G within 2x, LTP NL
    within 0.5).
    """
    return PKURRAMParams(**TAOX_HFOX_VALUES)


#: Parameter values of :func:`taox_hfox` (see its docstring for the choices).
TAOX_HFOX_VALUES: dict = dict(g_min_m=1.45e-9, g_max_m=2.1e-9, gap0_m=2.1e-9, window_m=0.3e-9,
                              r_series_ohm=300.0, nu0_m_per_s=0.006)
