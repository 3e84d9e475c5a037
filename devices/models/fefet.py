"""Multi-domain ferroelectric FET (FeFET) analog synapse.

Structure after Jerry et al., "Ferroelectric FET analog synapse for
acceleration of deep neural network training", IEDM 2017 (HZO FeFET, 32
levels) and Ni et al., "In-memory computing primitive for sensor data fusion
in 28 nm HKMG FeFET technology", IEDM 2018 / multi-domain FeFET modelling
(Ni, Deng, Datta et al.).

- ``n_domains`` ferroelectric domains; domain ``i`` holds its switched
  ("up") fraction ``p_i`` in [0, 1] on a 1 F capacitor node ``p<i>``.
- (The rates are written ``(1 - p_i) r`` / ``-p_i r`` without ``max(.., 0)``
  clamps: a clamp's kink where a domain settles made ~1 in 10 Monte Carlo
  instances thrash the time step for minutes.)
- Nucleation-limited switching (NLS) with Merz's law: a gate voltage ``V``
  switches domain ``i`` at the rate ``exp(-(V_a,i / |V|)^alpha) / tau0``
  (``dp_i/dt = (1 - p_i) r_i`` for ``V > 0``, ``-p_i r_i`` for ``V < 0``;
  Merz, Phys. Rev. 95:690, 1954; Tagantsev et al. PRB 66:214109, 2002).
  The activation voltages ``V_a,i`` are the Gaussian quantiles
  ``va_mean_V (1 + va_sigma z_i)`` (deterministic; a d2d Monte Carlo
  redraws them), which spreads the domains' switching times over decades.
- The switched fraction ``P = mean(p_i)`` shifts the threshold voltage
  linearly: ``V_T = vt_high_V - (vt_high_V - vt_low_V) P``.
- Channel: symmetric EKV interpolation
  ``I_D = I_s [F((V_GS - V_T)/n U_t) - F((V_GD - V_T)/n U_t)]``,
  ``F(u) = ln^2(1 + e^(u/2))``, smooth from subthreshold to inversion.
- Gate: linear gate capacitance ``c_gate_F`` in series with ``r_gate_ohm``,
  plus the switching current ``2 Pr A dP/dt`` (F sources mirroring each
  domain's state current), so the write energy includes the
  polarisation-reversal charge.

Defaults: Pr 25 uC/cm^2, tau0 19 ns, alpha 3 (anchor table, HZO); 20
domains with activation voltages 6.8 V +- 15 %, so that identical +-4 V /
100 ns gate pulses switch them gradually over ~30 pulses (measured: 31 up
pulses give 32 distinct, strictly increasing levels, LTP NL ~3.3 - more
saturating than Jerry 2017's 1.75, which used tuned pulse schemes); V_T
window 0.8 V (1.0 -> 0.2 V); read at V_GS = 1.0 V, V_DS = 0.1 V gives
~0.03-1.0 uS (anchor: 39.7 nS-1.79 uS).  Area 100 nm x 100 nm.
The stiff multi-domain state is solved with ``method=gear reltol=1e-4``
(``shared/docs/ngspice-findings.md``: the default reltol 1e-3 gave a write
energy 40 % off).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from eqspike.errors import ParameterError
from eqspike.params import param, validate

from .base import end_subckt, fmt

__all__ = ["FeFETParams"]


@dataclass(frozen=True)
class FeFETParams:
    """Multi-domain FeFET parameters (SI units); positive gate pulses potentiate."""
    n_domains: int = param(20, unit="", low=1, high=200, integer=True, doc="ferroelectric domains")
    va_mean_V: float = param(6.8, unit="V", low=0, high=100, low_open=True, doc="mean Merz activation voltage")
    va_sigma: float = param(0.15, unit="", low=0, high=0.5, doc="relative spread of activation voltages")
    alpha: float = param(3.0, unit="", low=0.5, high=10, doc="Merz-law exponent")
    tau0_s: float = param(19e-9, unit="s", low=0, high=1, low_open=True, doc="NLS attempt time tau0")
    pr_C_per_m2: float = param(0.25, unit="C/m^2", low=0, high=2, doc="remanent polarisation Pr (0.25 = 25 uC/cm^2)")
    area_m2: float = param(1e-14, unit="m^2", low=0, high=1e-6, low_open=True, doc="ferroelectric gate area")
    c_gate_F: float = param(5e-16, unit="F", low=0, high=1e-9, low_open=True, doc="linear gate capacitance")
    r_gate_ohm: float = param(1e3, unit="ohm", low=1e-3, high=1e9, doc="gate series resistance")
    vt_high_V: float = param(1.0, unit="V", low=-10, high=10, doc="threshold with all domains down (P = 0)")
    vt_low_V: float = param(0.2, unit="V", low=-10, high=10, doc="threshold with all domains up (P = 1)")
    i_s_A: float = param(7.2e-9, unit="A", low=0, high=1, low_open=True, doc="EKV specific current I_s")
    n_slope: float = param(1.5, unit="", low=1, high=5, doc="subthreshold slope factor n")
    temp_K: float = param(300.0, unit="K", low=1, high=1000, doc="temperature (thermal voltage)")
    p0: float = param(0.0, unit="", low=0, high=1, doc="initial switched fraction of every domain")
    va_V: tuple = param((), unit="V", low=0, doc="explicit activation voltages (overrides mean/sigma)")
    c2c_sigma: float = param(0.0, unit="", low=0, high=2,
                             doc="cycle-to-cycle log-normal std of the switching rates, redrawn every noise_period_s")
    noise_period_s: float = param(1e-6, unit="s", low=0, low_open=True, doc="c2c noise redraw period")

    D2D_PARAMS = ("va_mean_V", "i_s_A")

    def __post_init__(self) -> None:
        object.__setattr__(self, "va_V", tuple(float(v) for v in self.va_V))
        validate(self)
        if not self.vt_low_V < self.vt_high_V:
            raise ParameterError(f"vt_low_V = {self.vt_low_V!r} must be below vt_high_V = {self.vt_high_V!r}")
        if self.va_V and len(self.va_V) != self.n_domains:
            raise ParameterError(f"va_V has {len(self.va_V)} values; n_domains = {self.n_domains}")

    def activation_voltages(self) -> np.ndarray:
        """V_a of each domain (V)."""
        if self.va_V:
            return np.asarray(self.va_V)
        z = norm.ppf((np.arange(self.n_domains) + 0.5) / self.n_domains)
        return np.maximum(self.va_mean_V * (1 + self.va_sigma * z), 1e-3)

    def subckt(self, name: str = "fefet") -> str:
        n = self.n_domains
        ut = 8.617333262e-5 * self.temp_K
        nut = fmt(self.n_slope * ut)
        va = self.activation_voltages()
        noise = self.c2c_sigma > 0
        mult = f"*exp({fmt(self.c2c_sigma)}*v(nz))" if noise else ""
        a = fmt(self.alpha)
        lines = [f".subckt {name} g d s",
                 f"* multi-domain FeFET, {n} domains, NLS/Merz kinetics; states p<i> on 1 F",
                 f"Rg g gi {fmt(self.r_gate_ohm)}",
                 f"Cg gi s {fmt(self.c_gate_F)}"]
        qd = 2 * self.pr_C_per_m2 * self.area_m2 / n
        vgs = "v(gi,s)"
        for i in range(n):
            vai = fmt(va[i])
            rate = (f"({vgs} > 0 ? (1 - v(p{i}))*exp(-pwr({vai}/max({vgs},1e-3),{a})) : "
                    f"-v(p{i})*exp(-pwr({vai}/max(-{vgs},1e-3),{a})))/{fmt(self.tau0_s)}{mult}")
            lines += [f"Bp{i} 0 p{i} I={rate}",
                      f"Vq{i} p{i} q{i} 0",
                      f"Cp{i} q{i} 0 1",
                      f"Fq{i} gi s Vq{i} {fmt(qd)}"]
        psum = "+".join(f"v(p{i})" for i in range(n))
        lines.append(f"Bvt vt 0 V={fmt(self.vt_high_V)} - {fmt(self.vt_high_V - self.vt_low_V)}*({psum})/{n}")

        def F(v: str) -> str:
            u = f"(({v}) - v(vt))/{nut}/2"
            sp = f"({u} > 40 ? {u} : ln(1 + exp({u})))"
            return f"pwr({sp},2)"
        lines.append(f"Bd d s I={fmt(self.i_s_A)}*({F('v(gi,s)')} - {F('v(gi,d)')})")
        return end_subckt(lines, self.noise_period_s if noise else None)

    def ic(self, path: str) -> dict[str, float]:
        out = {f"{path}.p{i}": self.p0 for i in range(self.n_domains)}
        out.update({f"{path}.q{i}": self.p0 for i in range(self.n_domains)})
        return out

    def read_conductance_S(self, P, vgs_V: float = 0.6, vds_V: float = 0.1):
        """Analytic I_D/V_DS at switched fraction ``P`` (for checks)."""
        ut = 8.617333262e-5 * self.temp_K * self.n_slope
        vt = self.vt_high_V - (self.vt_high_V - self.vt_low_V) * np.asarray(P)
        f = lambda v: np.log1p(np.exp((v - vt) / ut / 2)) ** 2  # noqa: E731
        return self.i_s_A * (f(vgs_V) - f(vgs_V - vds_V)) / vds_V
