"""VTEAM threshold memristor (Kvatinsky, Ramadan, Friedman, Kolodny,
"VTEAM: A General Model for Voltage-Controlled Memristors", IEEE TCAS-II
62(8):786-790, 2015).

State ``x`` in [0, 1] (1 = fully ON, ``R_on``), on a 1 F capacitor node ``x``:

    dx/dt =  k_set   (v / v_set   - 1)^alpha_set   f_set(x)     v >  v_set  > 0
    dx/dt = -k_reset (v / v_reset - 1)^alpha_reset f_reset(x)   v <  v_reset < 0
    dx/dt =  0 otherwise
    f_set(x) = 1 - x^(2p),  f_reset(x) = 1 - (1 - x)^(2p)   (Biolek-type windows)

I-V: ``R(x) = R_off + (R_on - R_off) x`` (VTEAM's linear mode) or, with
``iv_mode='exponential'``, ``R = R_off (R_on/R_off)^x``.  Polarity: VTEAM's
ON switching happens at negative ``v < v_on``; our pins are the reverse of
the paper's so that a positive ``v(p, n)`` turns the device ON
(potentiation).  ``k_set`` / ``k_reset`` are the paper's ``|k_on| / D`` and
``k_off / D`` with the state normalised by the device length ``D``.

Default values: R_on 50 ohm, R_off 1 kohm, v_on -0.2 V (our v_set 0.2 V),
v_off 0.02 V (our v_reset -0.02 V), alpha_on 3, alpha_off 1, as in the
VTEAM example parameter set (anchor table, ``shared/docs/device-anchors.md``;
approx.).  The rates are slowed (k_set 1e8 /s, k_reset 2e5 /s, i.e. the
paper's k_on = -10 m/s scaled) so that 100 ns write pulses move the state in
~100 gradual steps; a pure threshold-switching device would use the paper's
much faster rates.
"""
from __future__ import annotations

from dataclasses import dataclass

from eqspike.params import param, validate

from .base import end_subckt, fmt

__all__ = ["VTEAMParams"]


@dataclass(frozen=True)
class VTEAMParams:
    """VTEAM parameters (SI units); positive voltage potentiates."""
    r_on_ohm: float = param(50.0, unit="ohm", low=0, low_open=True, doc="ON resistance (x = 1)")
    r_off_ohm: float = param(1000.0, unit="ohm", low=0, low_open=True, doc="OFF resistance (x = 0)")
    v_set_V: float = param(0.2, unit="V", low=0, high=100, low_open=True, doc="SET threshold (paper: -v_on)")
    v_reset_V: float = param(-0.02, unit="V", low=-100, high=0, high_open=True, doc="RESET threshold (paper: -v_off)")
    k_set_per_s: float = param(1e8, unit="1/s", low=0, high=1e15, low_open=True, doc="SET rate constant |k_on|/D")
    k_reset_per_s: float = param(2e5, unit="1/s", low=0, high=1e15, low_open=True, doc="RESET rate constant k_off/D")
    alpha_set: float = param(3.0, unit="", low=0.1, high=20, doc="SET exponent (paper alpha_on)")
    alpha_reset: float = param(1.0, unit="", low=0.1, high=20, doc="RESET exponent (paper alpha_off)")
    window_p: float = param(1.0, unit="", low=0.1, high=50, doc="window exponent p of 1 - x^(2p)")
    iv_mode: str = param("linear", unit="", choices=("linear", "exponential"), doc="R(x) law")
    x0: float = param(0.0, unit="", low=0, high=1, doc="initial state (0 = OFF)")
    c2c_sigma: float = param(0.0, unit="", low=0, high=2,
                             doc="cycle-to-cycle log-normal std of the switching rate, redrawn every noise_period_s")
    noise_period_s: float = param(1e-6, unit="s", low=0, low_open=True, doc="c2c noise redraw period")

    D2D_PARAMS = ("r_on_ohm", "r_off_ohm", "k_set_per_s", "k_reset_per_s")

    def __post_init__(self) -> None:
        validate(self)
        from eqspike.errors import ParameterError
        if not self.r_on_ohm < self.r_off_ohm:
            raise ParameterError(f"r_on_ohm = {self.r_on_ohm!r} must be below r_off_ohm = {self.r_off_ohm!r}")

    def subckt(self, name: str = "vteam") -> str:
        noise = self.c2c_sigma > 0
        mult = f"*exp({fmt(self.c2c_sigma)}*v(nz))" if noise else ""
        if self.iv_mode == "linear":
            g = f"1/(roff + (ron - roff)*min(max(v(x),0),1))"
        else:
            g = f"exp(-ln(roff) + ln(roff/ron)*min(max(v(x),0),1))"
        lines = [
            f".subckt {name} p n ron={fmt(self.r_on_ohm)} roff={fmt(self.r_off_ohm)} "
            f"kset={fmt(self.k_set_per_s)} kreset={fmt(self.k_reset_per_s)}",
            "* VTEAM (Kvatinsky 2015); state x on 1 F, positive v(p,n) sets",
            "Cx x 0 1",
            f"Bx 0 x I=(v(p,n) > {fmt(self.v_set_V)} ? "
            f"kset*pwr(v(p,n)/{fmt(self.v_set_V)} - 1, {fmt(self.alpha_set)})"
            f"*max(1 - pwr(max(v(x),0), {fmt(2 * self.window_p)}), 0) : "
            f"(v(p,n) < {fmt(self.v_reset_V)} ? "
            f"-kreset*pwr(v(p,n)/{fmt(self.v_reset_V)} - 1, {fmt(self.alpha_reset)})"
            f"*max(1 - pwr(max(1 - v(x),0), {fmt(2 * self.window_p)}), 0) : 0)){mult}",
            f"Bi p n I=v(p,n)*{g}",
        ]
        return end_subckt(lines, self.noise_period_s if noise else None)

    def instance_params(self) -> dict[str, float]:
        """Subckt parameters an instance line may override (d2d Monte Carlo)."""
        return {"ron": self.r_on_ohm, "roff": self.r_off_ohm, "kset": self.k_set_per_s,
                "kreset": self.k_reset_per_s}

    def ic(self, path: str) -> dict[str, float]:
        return {f"{path}.x": self.x0}

    def conductance_S(self, x):
        """Small-signal conductance at state x (for checks; the CLI reads it in ngspice)."""
        import numpy as np
        x = np.clip(x, 0, 1)
        if self.iv_mode == "linear":
            return 1.0 / (self.r_off_ohm + (self.r_on_ohm - self.r_off_ohm) * x)
        return np.exp(-np.log(self.r_off_ohm) + np.log(self.r_off_ohm / self.r_on_ohm) * x)
