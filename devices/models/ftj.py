"""Ferroelectric tunnel junction (FTJ): conductance set by the polarisation.

After Chanthbouala et al., "A ferroelectric memristor", Nature Materials
11:860-864, 2012 (BaTiO3/La0.67Sr0.33MnO3 FTJ): the junction is a parallel
connection of regions with polarisation up (low resistance) and down (high
resistance), so its conductance is ``G = s G_on + (1 - s) G_off`` with ``s``
the switched fraction; switching is nucleation-limited (their Fig. 4: domain
nucleation and growth set the memristive response).  Tunnel I-V:
``I = G V_nl sinh(V / V_nl)`` (odd, super-linear at high bias).

State: ``n_domains`` regions, each a switched fraction ``s_i`` on a 1 F node,
switching with Merz-law NLS kinetics ``exp(-(V_a,i/|V|)^alpha)/tau0`` as in
the FeFET model, activation voltages at Gaussian quantiles.  ``s`` is their
mean.  A positive ``v(p, n)`` switches towards the ON (high-G) state.

Defaults (approx., Chanthbouala 2012): R_ON ~ 1 Mohm, OFF/ON ~ 100 at a
0.1 V read; switching with +-3 V, ~100 ns pulses (their pulses were +-3 V,
10-100 ns).  Activation voltages 5.8 V +- 5 % are our choice so that
3 V / 100 ns pulses switch gradually: measured 40 pulses give G 0.01 ->
0.85 uS, strictly increasing, LTP NL ~4 (strongly saturating, as NLS
switching with identical pulses is).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from eqspike.errors import ParameterError
from eqspike.params import param, validate

from .base import end_subckt, fmt

__all__ = ["FTJParams"]


@dataclass(frozen=True)
class FTJParams:
    """FTJ parameters (SI units); positive voltage raises the conductance."""
    g_on_S: float = param(1e-6, unit="S", low=0, high=1, low_open=True, doc="conductance, all up (s = 1)")
    g_off_S: float = param(1e-8, unit="S", low=0, high=1, low_open=True, doc="conductance, all down (s = 0)")
    v_nl_V: float = param(0.5, unit="V", low=0, high=100, low_open=True, doc="tunnel I-V nonlinearity voltage")
    n_domains: int = param(10, unit="", low=1, high=200, integer=True, doc="switching regions")
    va_mean_V: float = param(5.8, unit="V", low=0, high=100, low_open=True, doc="mean Merz activation voltage")
    va_sigma: float = param(0.05, unit="", low=0, high=0.5, doc="relative spread of activation voltages")
    alpha: float = param(3.0, unit="", low=0.5, high=10, doc="Merz-law exponent")
    tau0_s: float = param(1e-9, unit="s", low=0, high=1, low_open=True, doc="NLS attempt time tau0")
    s0: float = param(0.0, unit="", low=0, high=1, doc="initial switched fraction")
    c2c_sigma: float = param(0.0, unit="", low=0, high=2,
                             doc="cycle-to-cycle log-normal std of the switching rates, redrawn every noise_period_s")
    noise_period_s: float = param(1e-6, unit="s", low=0, low_open=True, doc="c2c noise redraw period")

    D2D_PARAMS = ("g_on_S", "g_off_S", "va_mean_V")

    def __post_init__(self) -> None:
        validate(self)
        if not self.g_off_S < self.g_on_S:
            raise ParameterError(f"g_off_S = {self.g_off_S!r} must be below g_on_S = {self.g_on_S!r}")

    def activation_voltages(self) -> np.ndarray:
        z = norm.ppf((np.arange(self.n_domains) + 0.5) / self.n_domains)
        return np.maximum(self.va_mean_V * (1 + self.va_sigma * z), 1e-3)

    def subckt(self, name: str = "ftj") -> str:
        n = self.n_domains
        va = self.activation_voltages()
        a = fmt(self.alpha)
        mult = f"*exp({fmt(self.c2c_sigma)}*v(nz))" if self.c2c_sigma > 0 else ""
        v = "v(p,n)"
        lines = [f".subckt {name} p n gon={fmt(self.g_on_S)} goff={fmt(self.g_off_S)}",
                 f"* FTJ (Chanthbouala 2012): {n} regions, NLS/Merz kinetics, states s<i> on 1 F"]
        for i in range(n):
            vai = fmt(va[i])
            lines += [f"Cs{i} s{i} 0 1",
                      f"Bs{i} 0 s{i} I=({v} > 0 ? (1 - v(s{i}))*exp(-pwr({vai}/max({v},1e-3),{a})) : "
                      f"-v(s{i})*exp(-pwr({vai}/max(-{v},1e-3),{a})))/{fmt(self.tau0_s)}{mult}"]
        s = "(" + "+".join(f"v(s{i})" for i in range(n)) + f")/{n}"
        vnl = fmt(self.v_nl_V)
        lines.append(f"Bi p n I=(gon*{s} + goff*(1 - {s}))*{vnl}*sinh(min(max({v}/{vnl},-60),60))")
        return end_subckt(lines, self.noise_period_s if self.c2c_sigma > 0 else None)

    def ic(self, path: str) -> dict[str, float]:
        return {f"{path}.s{i}": self.s0 for i in range(self.n_domains)}
