"""The NeuroSim pulse-response form and its nonlinearity label, as pure functions.

NeuroSim (Chen, Peng, Yu et al.; MLP+NeuroSim V3.0, ``formula.cpp``) models a
synapse's conductance after ``p`` identical pulses as

    G(p) = B (1 - exp(-p / A)) + G_min,   B = (G_max - G_min) / (1 - exp(-P / A))

with ``P`` pulses spanning the range.  In normalised units (``x = p / P``,
``g = (G - G_min) / (G_max - G_min)``, ``a = A / P``)

    g(x) = (1 - exp(-x / a)) / (1 - exp(-1 / a)).

``a > 0`` gives the usual concave (saturating) curve, ``a < 0`` the convex
mirror image ``g_{-a}(x) = 1 - g_a(1 - x)``; ``a -> inf`` is linear.

**Nonlinearity label.**  NeuroSim does not use ``A`` directly but a label NL
(e.g. "0.04 / -0.63" for TaOx/HfOx) and converts it with ``getParamA(NL)``, a
900-entry table of ``a`` for labels 0.01 ... 9 (sign carried separately;
``A = getParamA(NL) * maxNumLevel``).  We checked that this table follows one
rule to its six printed digits: the label is proportional to the largest
deviation of the normalised curve from the straight line,

    |NL| = K * max_x (g(x) - x),   K = 10.10152

(e.g. NL 1 <-> a = 1.251653, NL 0.01 <-> a = 126.268958, NL 9 <-> a = 0.02281,
each giving K = 10.10152 +- 2e-6).  :func:`nl_to_a` inverts that rule
(clamping |NL| to NeuroSim's 9, as ``getParamA`` does) and :func:`a_to_nl`
applies it, so labels fitted here are on NeuroSim's scale.  The sign
convention is NeuroSim's: LTD uses the same ``g(x)`` with ``x`` running from
1 down to 0, so the common saturating depression has a *negative* label.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

__all__ = ["NL_SCALE", "NL_MAX", "max_deviation", "a_to_nl", "nl_to_a", "curve",
           "inverse_curve", "step_up", "step_down", "fit_direction"]

#: K in |NL| = K * max deviation (reproduces NeuroSim's getParamA table).
NL_SCALE = 10.10152
#: NeuroSim's getParamA table ends at label 9.
NL_MAX = 9.0


def max_deviation(a: float) -> float:
    """max_x (g(x) - x) of the normalised NeuroSim curve for ``a = A/P`` (> 0)."""
    a = abs(float(a))
    if not math.isfinite(a) or a > 1e3:
        return 0.0 if not math.isfinite(a) else 1.0 / (8.0 * a) - 1.0 / (384.0 * a ** 3)
    if a < 1e-3:
        return 1.0 - a * (1.0 - math.log(a))  # e^{-1/a} underflows; x* = -a ln a
    d = -math.expm1(-1.0 / a)  # 1 - e^{-1/a}
    return 1.0 / d - a + a * math.log(a * d)


def a_to_nl(a: float) -> float:
    """NeuroSim nonlinearity label of normalised parameter ``a`` (sign kept)."""
    if a == 0 or not math.isfinite(a):
        return 0.0
    return math.copysign(min(NL_SCALE * max_deviation(a), NL_MAX), a)


def nl_to_a(nl: float) -> float:
    """Normalised ``a = A / P`` for label ``nl``; ``inf`` for a linear device (NL 0)."""
    nl = float(nl)
    if not math.isfinite(nl):
        raise ValueError(f"nonlinearity label {nl!r} is not finite")
    if nl == 0:
        return math.inf
    target = min(abs(nl), NL_MAX) / NL_SCALE
    # max_deviation decreases monotonically in a: bracket on log a
    f = lambda la: max_deviation(math.exp(la)) - target  # noqa: E731
    la = brentq(f, math.log(1e-6), math.log(1e7), xtol=1e-12, rtol=1e-12)
    return math.copysign(math.exp(la), nl)


def curve(x, a: float):
    """Normalised conductance g(x) in [0, 1] at normalised pulse position ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if not math.isfinite(a) or abs(a) > 1e6:
        return np.clip(x, 0.0, 1.0)
    if a > 0:
        return np.clip(-np.expm1(-x / a) / -math.expm1(-1.0 / a), 0.0, 1.0)
    return 1.0 - curve(1.0 - x, -a)


def inverse_curve(g, a: float):
    """Position x in [0, 1] where ``curve(x, a) == g``."""
    g = np.clip(np.asarray(g, dtype=np.float64), 0.0, 1.0)
    if not math.isfinite(a) or abs(a) > 1e6:
        return g
    if a > 0:
        d = -math.expm1(-1.0 / a)
        return np.clip(-a * np.log1p(-g * d), 0.0, 1.0)
    return 1.0 - inverse_curve(1.0 - g, -a)


def step_up(g, a: float, n_pulses: int):
    """Normalised increase of one potentiating pulse from level ``g`` (>= 0)."""
    g = np.clip(np.asarray(g, dtype=np.float64), 0.0, 1.0)
    x = inverse_curve(g, a)
    return np.maximum(curve(np.minimum(x + 1.0 / n_pulses, 1.0), a) - g, 0.0)


def step_down(g, a: float, n_pulses: int):
    """Normalised decrease (magnitude) of one depressing pulse from level ``g``."""
    g = np.clip(np.asarray(g, dtype=np.float64), 0.0, 1.0)
    x = inverse_curve(g, a)
    return np.maximum(g - curve(np.maximum(x - 1.0 / n_pulses, 0.0), a), 0.0)


def fit_direction(g_norm, depress: bool = False) -> tuple[float, float]:
    """Fit ``a`` of the NeuroSim form to one normalised train; return (a, rms).

    ``g_norm[k]`` is the normalised conductance after ``k`` pulses (``k = 0``
    the starting point).  For potentiation the pulse position is
    ``x = k / P``; for depression ``x = 1 - k / P`` (NeuroSim's convention).
    ``a`` is found by a bounded scalar least-squares search over ``log|a|``
    for both signs (scipy.optimize.minimize_scalar); a near-linear train
    returns ``a = inf``.
    """
    from scipy.optimize import minimize_scalar
    y = np.asarray(g_norm, dtype=np.float64)
    n = y.size - 1
    if n < 2:
        raise ValueError("need at least 3 points to fit a nonlinearity")
    k = np.arange(n + 1) / n
    x = 1.0 - k if depress else k

    def sse(a):
        return float(np.sum((curve(x, a) - y) ** 2))

    best_a, best = math.inf, sse(math.inf)
    for sign in (1.0, -1.0):
        res = minimize_scalar(lambda la: sse(sign * math.exp(la)), bounds=(math.log(1e-3), math.log(1e4)),
                              method="bounded", options={"xatol": 1e-6})
        if res.fun < best * (1 - 1e-12):
            best, best_a = float(res.fun), sign * math.exp(res.x)
    if abs(best_a) > 1e3:
        best_a = math.inf
    return best_a, math.sqrt(best / y.size)
