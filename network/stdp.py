"""STDP window of the spike-driven EqSpike update, from a controlled protocol.

One synapse, presynaptic neuron j -> postsynaptic neuron i.  The
presynaptic neuron emits a single spike at step ``t_pre``; the
postsynaptic neuron is a leaky membrane (``spiking.membrane_step``, leak
``eps``) whose input changes at step ``t_post``:

- ``shape="step"``: the input steps up (``polarity=+1``, the state rises)
  or down (``-1``, it falls) at ``t_post`` and stays there; the activation
  then relaxes exponentially, ``drho(t) ~ (1 - eps)^(t - t_post)``;
- ``shape="pulse"``: a one-step input pulse at ``t_post``: the state jumps
  and relaxes back (a rise followed by a slow fall).

The weight change is accumulated by **the same functions the trainer's
update uses** (``event_reference.paired_spikes`` selects the spike a state change is
paired with, ``event_reference.spike_driven_update`` contracts spikes with state
changes, ``spiking.averaging_weights`` gives w(t) = 1 here since the
protocol is not at a phase end), and is reported against
``dt = t_post - t_pre`` (steps).  With ``same_step`` pairing the spike is
paired with the change it could have caused (``dt <= 0``); with
``delayed`` with the change just before it (``dt <= -1``); ``both``
averages the two.  No change happens before the post state moves: a pre
spike that precedes the change by more than the pairing offset leaves the
synapse untouched.
"""
from __future__ import annotations

import numpy as np

from eqspike.errors import ParameterError
from eqspike.network import event as ev
from eqspike.network import event_reference as evref
from eqspike.network import spiking


def stdp_curve(pairing: str, dts, *, shape: str = "step", polarity: int = 1,
               eps: float = 0.2, amplitude: float = 0.4, u0: float = 0.5,
               theta: float = 1.0, activation=None, margin: int = 40) -> np.ndarray:
    """dW (dimensionless, per unit learning rate / beta) for each ``dt`` in ``dts`` (steps)."""
    from eqspike.network.activations import get_activation
    if pairing not in ev.PAIRINGS:
        raise ParameterError(f"parameter 'pairing' = {pairing!r} is not allowed; "
                             f"allowed: {', '.join(ev.PAIRINGS)}")
    if shape not in ("step", "pulse"):
        raise ParameterError(f"parameter 'shape' = {shape!r} is not allowed; allowed: 'step', 'pulse'")
    if polarity not in (1, -1):
        raise ParameterError(f"parameter 'polarity' = {polarity!r} must be +1 or -1")
    if not (0.0 < eps <= 1.0):
        raise ParameterError(f"parameter 'eps' = {eps!r} is outside the allowed range (0, 1]")
    rho = get_activation(activation)
    dts = np.asarray(list(dts), dtype=np.int64)
    span = int(np.abs(dts).max()) if dts.size else 0
    T = 2 * (span + margin) + 2
    t_post = T // 2
    # postsynaptic trajectory (does not depend on the presynaptic spike: the
    # synapse under test has no effect on its own protocol)
    I = np.full(T, u0, np.float32)
    if shape == "step":
        I[t_post:] += polarity * amplitude
    else:
        I[t_post] += polarity * amplitude / eps
    u = np.full((1, 1), u0, np.float32)
    r = np.empty(T + 1, np.float32)
    r[0] = rho(u.copy())[0, 0]
    for t in range(T):
        spiking.membrane_step(u, np.array([[I[t]]], np.float32), eps)
        r[t + 1] = rho(u.copy())[0, 0]
    dR = (r[1:] - r[:-1])[:, None]              # drho(t), t = 0..T-1
    w = spiking.averaging_weights(T, 0)[:, None]
    out = np.empty(len(dts), np.float64)
    code = ev.PAIRINGS[pairing]
    for n, dt in enumerate(dts):
        t_pre = t_post - int(dt)
        S = np.zeros((T + 1, 1), np.float32)
        S[t_pre] = 1.0
        P = evref.paired_spikes(S[:-1], S[1:], code) * w   # pairs with drho(t)
        out[n] = float(evref.spike_driven_update(P, dR, theta)[0, 0])
    return out


def stdp_table(pairings=tuple(ev.PAIRINGS), span: int = 15, shapes=("step",),
               **kw):
    """Tidy DataFrame: pairing, shape, polarity, dt_steps, dW."""
    import pandas as pd
    dts = np.arange(-span, span + 1)
    rows = []
    for pairing in pairings:
        for shape in shapes:
            for pol in (1, -1):
                dW = stdp_curve(pairing, dts, shape=shape, polarity=pol, **kw)
                rows += [{"pairing": pairing, "shape": shape, "polarity": pol,
                          "dt_steps": int(d), "dW": float(v)} for d, v in zip(dts, dW)]
    return pd.DataFrame(rows)


def plot_window(df, title: str):
    """Figure of dW vs dt for each (shape, polarity) in ``df`` (one pairing)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for (shape, pol), g in df.groupby(["shape", "polarity"]):
        label = f"{shape}, post {'rising' if pol > 0 else 'falling'}"
        ax.plot(g["dt_steps"], g["dW"], "o-", ms=3, label=label)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5, ls=":")
    ax.set_xlabel("t_post - t_pre (steps)")
    ax.set_ylabel("dW (per unit lr / beta)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return fig
