"""Yakopcic generalized memristor model (Yakopcic, Taha, Subramanyam, Pino,
Rogers, "A Memristor Device Model", IEEE EDL 32(10):1436-1438, 2011;
Yakopcic, Taha, Subramanyam, Pino, "Generalized Memristive Device SPICE
Model and its Application in Circuit Design", IEEE TCAD 32(8):1201-1214,
2013).

State ``x`` in [0, 1] on a 1 F capacitor node ``x``; ``v = v(p, n)`` in
volts (the exponentials take ``v / 1 V``):

    I(v, x)  = a1 x sinh(b v)            v >= 0
             = a2 x sinh(b v)            v <  0
    dx/dt    = eta g(v) f(x)
    g(v)     =  A_p (e^v - e^V_p)        v >  V_p
             = -A_n (e^-v - e^V_n)       v < -V_n
             =  0                        otherwise
    f(x)     = e^(-alpha_p (x - x_p)) w_p(x)      x >= x_p       (eta v >= 0: x rises)
             = 1                                  x <  x_p
             = e^(alpha_n (x + x_n - 1)) w_n(x)   x <= 1 - x_n   (eta v <  0: x falls)
             = 1                                  x >  1 - x_n
    w_p(x)   = (x_p - x)/(1 - x_p) + 1 = (1 - x)/(1 - x_p),   w_n(x) = x/(1 - x_n)

(TCAD 2013 eqs. for I, g, f, w_p, w_n; the EDL 2011 form is the same.)
``g`` is continuous at the thresholds and ``f`` at ``x_p`` and ``1 - x_n``.
With ``eta = 1`` a positive ``v(p, n)`` raises ``x`` and the conductance
(potentiation, our pin convention); ``eta = -1`` reverses the polarity
(then the registry's default pulse drive depresses first).

Bounds: ``w_p`` vanishes linearly at ``x = 1`` and ``w_n`` at ``x = 0``, so
the exact solution never leaves [0, 1] and approaches the ends
exponentially.  The subcircuit keeps ``w_p``/``w_n`` unclamped (a state that
a time step pushed slightly past an end is pulled back; clamping them with
``max(., 0)`` would put a kink exactly where the state settles, which made
step sizes thrash in the FeFET, see ``docs/devices.md``); only the
exponent arguments are clipped (``x`` to [-1, 2], ``v`` to +-50 V, ``b v``
to +-60), and the current reads ``x`` clipped to [0, 1].

Default values: the fit to the Boise State Ag-chalcogenide device of
Oblea et al. (``a1 = a2 = 0.17 A``, ``b = 0.05 /V``, ``V_p = 0.16 V``,
``V_n = 0.15 V``, ``A_p = A_n = 4000 /s``, ``x_p = 0.3``, ``x_n = 0.5``,
``alpha_p = 1``, ``alpha_n = 5``, ``x0 = 0.11``, ``eta = 1``), the
parameter set the authors give for their fit of that device's sinusoidal
I-V loop (EDL 2011; reused in TCAD 2013) and the example set of their
distributed SPICE netlist.  The values were checked against that netlist;
the exact figure/table numbers in the printed papers were not verified here.
Unlike ``vteam`` the rates are NOT rescaled: this device switches on the
10-100 us scale at ~1 V, so the registry drive uses 1 V / 2 us pulses
(100 per direction, ~0.013 of the state range per pulse below ``x_p``).
At a 0.1 V read the conductance is ``a1 x sinh(0.005)/0.1 ~ 8.5 mS * x``
(a large, ~100 ohm device: mA currents, nJ write energies).
"""
from __future__ import annotations

from dataclasses import dataclass

from eqspike.params import param, validate

from .base import end_subckt, fmt

__all__ = ["YakopcicParams"]


@dataclass(frozen=True)
class YakopcicParams:
    """Yakopcic model parameters (SI units; voltages in exponents are v / 1 V)."""
    a1_A: float = param(0.17, unit="A", low=0, high=100, low_open=True,
                        doc="I-V amplitude a1 for v >= 0 (I = a1 x sinh(b v))")
    a2_A: float = param(0.17, unit="A", low=0, high=100, low_open=True,
                        doc="I-V amplitude a2 for v < 0")
    b_per_V: float = param(0.05, unit="1/V", low=0, high=20, low_open=True,
                           doc="I-V nonlinearity b of sinh(b v)")
    v_p_V: float = param(0.16, unit="V", low=0, high=20, doc="positive threshold V_p (state moves above it)")
    v_n_V: float = param(0.15, unit="V", low=0, high=20,
                         doc="negative threshold magnitude V_n (state moves below -V_n)")
    a_p_per_s: float = param(4000.0, unit="1/s", low=0, high=1e15, low_open=True,
                             doc="state motion magnitude A_p above V_p")
    a_n_per_s: float = param(4000.0, unit="1/s", low=0, high=1e15, low_open=True,
                             doc="state motion magnitude A_n below -V_n")
    x_p: float = param(0.3, unit="", low=0, high=1, high_open=True,
                       doc="state above which rising motion slows (x_p)")
    x_n: float = param(0.5, unit="", low=0, high=1, high_open=True,
                       doc="falling motion slows below x = 1 - x_n")
    alpha_p: float = param(1.0, unit="", low=0, high=100, doc="decay rate alpha_p of rising motion above x_p")
    alpha_n: float = param(5.0, unit="", low=0, high=100, doc="decay rate alpha_n of falling motion below 1 - x_n")
    eta: int = param(1, unit="", choices=(1, -1),
                     doc="state direction relative to v (1: positive v raises x and G)")
    x0: float = param(0.11, unit="", low=0, high=1, doc="initial state")
    c2c_sigma: float = param(0.0, unit="", low=0, high=2,
                             doc="cycle-to-cycle log-normal std of the switching rate, redrawn every noise_period_s")
    noise_period_s: float = param(1e-6, unit="s", low=0, low_open=True, doc="c2c noise redraw period")

    D2D_PARAMS = ("a1_A", "a2_A", "a_p_per_s", "a_n_per_s")

    def __post_init__(self) -> None:
        validate(self)

    def subckt(self, name: str = "yakopcic") -> str:
        noise = self.c2c_sigma > 0
        mult = f"*exp({fmt(self.c2c_sigma)}*v(nz))" if noise else ""
        v = "min(max(v(p,n),-50),50)"            # exponent-safe voltage
        xe = "min(max(v(x),-1),2)"               # exponent-safe state
        xc = "min(max(v(x),0),1)"                # state in the current
        vp, vn = fmt(self.v_p_V), fmt(self.v_n_V)
        xp, xn = fmt(self.x_p), fmt(self.x_n)
        eta = int(self.eta)
        g = (f"({v} > {vp} ? ap*(exp({v}) - exp({vp})) : "
             f"({v} < -{vn} ? -an*(exp(-{v}) - exp({vn})) : 0))")
        f_up = (f"(v(x) > {xp} ? exp(-{fmt(self.alpha_p)}*({xe} - {xp}))*(1 - v(x))/(1 - {xp}) : 1)")
        f_dn = (f"(v(x) < 1 - {xn} ? exp({fmt(self.alpha_n)}*({xe} + {xn} - 1))*v(x)/(1 - {xn}) : 1)")
        # eta v >= 0 selects the rising window (g = 0 at v = 0 anyway)
        f = f"({eta}*v(p,n) > 0 ? {f_up} : {f_dn})"
        bv = f"min(max({fmt(self.b_per_V)}*v(p,n),-60),60)"
        lines = [
            f".subckt {name} p n a1={fmt(self.a1_A)} a2={fmt(self.a2_A)} "
            f"ap={fmt(self.a_p_per_s)} an={fmt(self.a_n_per_s)}",
            "* Yakopcic (EDL 2011 / TCAD 2013); state x on 1 F, dx/dt = eta g(v) f(x)",
            "Cx x 0 1",
            f"Bx 0 x I={eta}*{g}*{f}{mult}",
            f"Bi p n I=(v(p,n) > 0 ? a1 : a2)*{xc}*sinh({bv})",
        ]
        return end_subckt(lines, self.noise_period_s if noise else None)

    def instance_params(self) -> dict[str, float]:
        """Subckt parameters an instance line may override (d2d Monte Carlo)."""
        return {"a1": self.a1_A, "a2": self.a2_A, "ap": self.a_p_per_s, "an": self.a_n_per_s}

    def ic(self, path: str) -> dict[str, float]:
        return {f"{path}.x": self.x0}

    def conductance_S(self, x, v_read_V: float = 0.1):
        """Read conductance I/V at state ``x`` and ``v_read_V`` (for checks; the CLI reads it in ngspice)."""
        import numpy as np
        x = np.clip(x, 0, 1)
        a = self.a1_A if v_read_V >= 0 else self.a2_A
        return a * x * np.sinh(self.b_per_V * v_read_V) / v_read_V

    def state_rate_per_s(self, v, x):
        """dx/dt of the published equations (numpy; for checks against ngspice)."""
        import numpy as np
        v = np.asarray(v, dtype=float)
        x = np.asarray(x, dtype=float)
        g = np.where(v > self.v_p_V, self.a_p_per_s * (np.exp(v) - np.exp(self.v_p_V)),
                     np.where(v < -self.v_n_V, -self.a_n_per_s * (np.exp(-v) - np.exp(self.v_n_V)), 0.0))
        f_up = np.where(x >= self.x_p, np.exp(-self.alpha_p * (x - self.x_p)) * (1 - x) / (1 - self.x_p), 1.0)
        f_dn = np.where(x <= 1 - self.x_n, np.exp(self.alpha_n * (x + self.x_n - 1)) * x / (1 - self.x_n), 1.0)
        f = np.where(self.eta * v >= 0, f_up, f_dn)
        return self.eta * g * f
