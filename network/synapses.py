"""Device-aware synapses: each weight is a differential pair of pulse-programmed devices.

:class:`DeviceSynapses` is a :class:`eqspike.network.model.SynapseBackend`.
It turns the desired updates ``dW`` of a learning rule into programming pulses
on conductance pairs described by a
:class:`eqspike.devices.profile.DeviceProfile`, and writes the *realised*
weights back into ``net.W``.

Model (all vectorised over synapses; the only Python loop runs over the pulse
index k = 1..K of one update, with masks; for constant-step devices the n
pulses are applied in closed form, n steps plus sqrt(n) c2c noise; with the
``potentiate`` scheme the pulse counts come from one compiled, branch-free
pass over the layer, :mod:`eqspike.network._synapse_kernels`, with the same
arithmetic as :func:`pulse_counts`)
-------------------------------------------------------------------------------

- **Weight.** ``W = (G+ - G-) / G_ref``.  ``G_ref`` is
  :attr:`DeviceSynapseConfig.g_ref_S`, or, when that is 0 (default),
  ``(g_max - g_min) / w_max`` so that one device swept over its full range
  represents ``w_max`` (per weight layer).
- **Device state.** Each device is stored by its normalised nominal-equivalent
  conductance ``u`` in [0, 1]; its conductance is
  ``G = g_min + s * u * (g_max - g_min)`` where ``s`` is its device-to-device
  (d2d) scale, drawn once per device as ``max(1 + d2d_sigma * N(0, 1), 0.05)``.
  A device is thus a scaled copy of the nominal one: d2d multiplies both its
  step and its range (upper bound ``g_min + s (g_max - g_min)``); ``g_min``
  is shared.
- **One pulse.** ``u += dg_up(u)`` (potentiation) or ``u -= dg_down(u)``
  (depression), the profile's characterised mean step at the present
  conductance (normalised by ``g_max - g_min``), plus cycle-to-cycle noise
  ``N(0, c2c_sigma)`` (``c2c_sigma`` is relative to ``g_max - g_min``, per
  pulse, as NeuroSim's sigma_c2c), then the hard bounds ``0 <= u <= 1`` and,
  with ``quantize='levels'``, snapping to the nearest of the device's
  ``n_levels`` nominal states (the states a noise-free train of potentiating
  pulses visits from g_min; a write-verify controller distinguishes only
  these).  A noise-free device therefore stays on its level grid.
- **Pulse count (policy).** With the local step of the device to be pulsed in
  weight units ``w_step = s * dg(u) * (g_max - g_min) / G_ref`` and
  ``x = |dW| / w_step``:

  * ``sign`` (Manhattan rule, Zamanidoost et al. 2015): one pulse if
    ``x >= sign_threshold``, else none; the size of dW is ignored.
  * ``round``: ``n = floor(x + 0.5)``: nearest whole number of steps;
    deterministic, updates below half a step are lost.
  * ``stochastic``: ``n = floor(x) + Bernoulli(x - floor(x))``: stochastic
    rounding (Gupta et al. 2015; Gokmen & Vlasov 2016), unbiased in
    expectation for a linear device; default.
  * ``accumulate``: mixed-precision update (Nandakumar et al., "Mixed-precision
    deep learning based on computational memory", Front. Neurosci. 14:406,
    2020): each synapse keeps a digital residual ``chi`` (float32, in weight
    units); ``chi += dW``, ``n = floor(|chi| / w_step)`` pulses in the
    direction of ``chi``, then ``chi -= sign(chi) n w_step`` (the nominal
    change; the pulses' c2c noise is not read back).  Updates of opposite
    sign cancel in ``chi`` before any pulse is sent, so a noisy rule sends far
    fewer pulses (each carrying c2c noise) than with stochastic rounding; the
    price is one digital accumulator per synapse, whose energy is counted in
    the ledger as ``accumulator updates`` (one fp32 add per synapse per
    update, :attr:`eqspike.network.energy.EnergyLedger.accumulator_energy_J`).

  ``n`` is capped at ``max_pulses``.  The step used to size the update is the
  one at the *present* conductance; each of the ``n`` pulses then applies the
  step at the conductance it finds (nonlinearity within an update).
- **Which device (scheme).**

  * ``potentiate`` (default): potentiating pulses only; dW > 0 potentiates
    G+, dW < 0 potentiates G- (Burr et al. 2015 and most hardware-EP
    studies).  Only the LTP curve is used during training; pairs drift up
    and are refreshed (below).
  * ``balanced``: dW > 0 potentiates G+ if G+ has at least as much room
    upwards as G- has downwards, else depresses G-; dW < 0 symmetrically.
    Uses both LTP and LTD curves (their asymmetry then matters).

- **Refresh** (``refresh='periodic'``): every ``refresh_every`` updates,
  saturating pairs are re-programmed to the same weight: with ``potentiate``,
  a pair whose higher device is within ``refresh_margin`` of its top; the
  lower device goes to g_min and the other to ``g_min + |W| G_ref``.  With
  ``balanced``, a pair whose two devices are both within ``refresh_margin``
  of the same bound; both are centred on mid-range,
  ``G+- = mid +- W G_ref / 2``.  Re-programming is modelled as
  program-and-verify (lands on the target level, no noise); its pulses are
  the nominal pulse-number distance between old and new state
  (potentiating upwards, depressing downwards), counted apart as
  ``refresh_up`` / ``refresh_down``.  The initial programming of the weights
  is counted the same way in :attr:`DeviceSynapses.init_counts` (not part of
  training).
- **Biases** stay ideal floats (``b += db``): they are one column per layer,
  realisable as a reference current, and are not counted in the ledger.

Where the code lives: the normalised device tables (:class:`DeviceModel`) in
:mod:`eqspike.network.device_model`; the rounding policies (``sign``,
``round``, ``stochastic``: :func:`pulse_counts`) in
:mod:`eqspike.network.policies.rounding`; chip mode (batch 1, coincidence
pulses, B-bit residual) in :mod:`eqspike.network.policies.chip`.  All names
stay importable from here.

Pulse counts per weight layer (``up``, ``down``, ``refresh_up``,
``refresh_down``) and, with the ``accumulate`` policy, residual updates
(``accumulator``: one per synapse per update) accumulate in
:attr:`DeviceSynapses.counts`; the energy ledger reads them with
:meth:`DeviceSynapses.take_counts`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from eqspike.errors import ParameterError
from eqspike.params import param, validate

from .device_model import DeviceModel  # noqa: F401  (re-exported; moved there)
from .policies.rounding import POLICIES, pulse_counts  # noqa: F401  (re-exported; moved there)

__all__ = ["DeviceSynapseConfig", "DeviceSynapses", "DeviceModel", "POLICIES", "SCHEMES",
           "pulse_counts"]

SCHEMES = ("potentiate", "balanced")
#: per weight layer: programming pulses, and (``accumulate`` policy) updates of the digital
#: residual, one per synapse per update
COUNT_KEYS = ("up", "down", "refresh_up", "refresh_down", "accumulator")


@dataclass(frozen=True)
class DeviceSynapseConfig:
    """How weight updates become programming pulses (see the module doc)."""

    policy: str = param("stochastic", unit="", choices=POLICIES,
                        doc="pulse count from dW: sign (Manhattan), round, stochastic (rounding), "
                            "accumulate (digital residual per synapse, whole steps only)")
    scheme: str = param("potentiate", unit="", choices=SCHEMES,
                        doc="potentiate: LTP pulses on G+ (dW>0) or G- (dW<0); balanced: "
                            "potentiate one device or depress the other, whichever has more room")
    w_max: tuple = param((1.0,), unit="1", low=0, low_open=True,
                         doc="weight of one device at full range, per weight layer (one value is "
                             "broadcast); sets G_ref = (g_max - g_min) / w_max when g_ref_S = 0")
    g_ref_S: float = param(0.0, unit="S", low=0,
                           doc="reference conductance of W = (G+ - G-)/G_ref; 0 = from w_max")
    max_pulses: int = param(8, unit="pulses", low=1, high=10000, integer=True,
                            doc="most pulses one update may send to one synapse")
    sign_threshold: float = param(0.5, unit="steps", low=0,
                                  doc="sign policy: |dW| (in local steps) needed for a pulse")
    refresh: str = param("periodic", unit="", choices=("none", "periodic"),
                         doc="re-program saturating pairs to the same W (none | periodic)")
    refresh_every: int = param(50, unit="updates", low=1, high=1_000_000_000, integer=True,
                               doc="updates between refresh checks")
    refresh_margin: float = param(0.05, unit="1", low=0, high=0.5,
                                  doc="'near a bound': within this fraction of (g_max - g_min)")
    quantize: str = param("levels", unit="", choices=("levels", "none"),
                          doc="levels: snap G to the device's n_levels states after each pulse")
    seed: int = param(0, unit="", low=0, integer=True, doc="seed of d2d, c2c and stochastic rounding")

    def __post_init__(self) -> None:
        w = self.w_max
        if isinstance(w, (int, float)) and not isinstance(w, bool):
            w = (float(w),)
        if not isinstance(w, (list, tuple)) or len(w) == 0:
            raise ParameterError(f"parameter 'w_max' = {self.w_max!r} must be a number or a "
                                 "sequence of numbers (one per weight layer)")
        object.__setattr__(self, "w_max", tuple(w))
        validate(self)

    def w_max_for(self, n_layers: int) -> tuple[float, ...]:
        """``w_max`` broadcast to ``n_layers`` weight layers (clear error otherwise)."""
        if len(self.w_max) == 1:
            return self.w_max * n_layers
        if len(self.w_max) != n_layers:
            raise ParameterError(f"parameter 'w_max' = {self.w_max!r} has {len(self.w_max)} values; "
                                 f"the network has {n_layers} weight layers (give one or {n_layers})")
        return self.w_max


# --------------------------------------------------------------------------- backend

class DeviceSynapses:
    """Synapse backend of differential device pairs (see the module doc).

    ``profile``: a :class:`eqspike.devices.profile.DeviceProfile`;
    ``config``: a :class:`DeviceSynapseConfig` (defaults if None).

    The pairs are programmed from ``net.W`` by :meth:`attach` (called
    automatically on the first :meth:`apply`); after that ``net.W`` always
    holds the realised weights ``(G+ - G-) / G_ref``.
    """

    def __init__(self, profile: Any, config: DeviceSynapseConfig | None = None):
        self.config = config or DeviceSynapseConfig()
        if not isinstance(self.config, DeviceSynapseConfig):
            raise ParameterError(f"config must be a DeviceSynapseConfig, got {type(self.config).__name__}")
        self.device = DeviceModel(profile)
        self.profile = profile
        self.rng = np.random.default_rng(self.config.seed)
        self.attached = False
        self.u_p: list[np.ndarray] = []
        self.u_m: list[np.ndarray] = []
        self.s_p: list[np.ndarray] = []
        self.s_m: list[np.ndarray] = []
        self.g_ref: list[float] = []
        self.counts: list[dict[str, int]] = []
        self.init_counts: list[dict[str, int]] = []
        self.n_updates = 0
        self._inv: list[dict[str, np.ndarray]] = []
        self._work: dict[int, tuple] = {}
        #: per layer, the residual of the ``accumulate`` policy (weight units; zeros otherwise)
        self.resid: list[np.ndarray] = []
        #: ``accumulate``: visit only rows with an update or a carry (exact; False = all rows)
        self.skip_idle_rows = True
        self._carry: list | None = None   # per layer, rows to visit even with no update

    # ---------------------------------------------------------------- helpers
    def _w_scale(self, k: int) -> float:
        """Weight per unit of normalised conductance in layer k: range / G_ref."""
        return self.device.range / self.g_ref[k]

    def weights(self, k: int) -> np.ndarray:
        """Realised weights of layer k, ``(G+ - G-) / G_ref``."""
        return ((self.s_p[k] * self.u_p[k] - self.s_m[k] * self.u_m[k]) * self._w_scale(k)).astype(np.float32)

    def conductances(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(G+, G-)`` of layer k in siemens."""
        d = self.device
        return (d.g_min + self.s_p[k] * self.u_p[k] * d.range,
                d.g_min + self.s_m[k] * self.u_m[k] * d.range)

    def mean_conductance_S(self, k: int) -> float:
        """Mean conductance of one device of layer k (average over G+ and G-), S."""
        gp, gm = self.conductances(k)
        return float(0.5 * (gp.mean(dtype=np.float64) + gm.mean(dtype=np.float64)))

    def _target_pair(self, k: int, W: np.ndarray, s_p: np.ndarray, s_m: np.ndarray):
        """Normalised states (u+, u-) that realise weights W (refresh / initial programming)."""
        wn = np.asarray(W, dtype=np.float64) / self._w_scale(k)  # = s_p u_p - s_m u_m
        if self.config.scheme == "potentiate":
            up = np.where(wn > 0, wn / s_p, 0.0)
            um = np.where(wn < 0, -wn / s_m, 0.0)
        else:
            # centre the pair on mid-range: s_p u_p = c + wn/2, s_m u_m = c - wn/2
            c = 0.5 * np.minimum(s_p, s_m)
            up = (c + wn / 2) / s_p
            um = (c - wn / 2) / s_m
        up = np.clip(up, 0.0, 1.0).astype(np.float32)
        um = np.clip(um, 0.0, 1.0).astype(np.float32)
        if self.config.quantize == "levels":
            up, um = self.device.quantize(up), self.device.quantize(um)
        return up.astype(np.float32), um.astype(np.float32)

    def _d2d(self, shape) -> np.ndarray:
        if self.device.d2d <= 0:
            return np.ones(shape, dtype=np.float32)
        s = 1.0 + self.device.d2d * self.rng.standard_normal(shape, dtype=np.float32)
        return np.maximum(s, np.float32(0.05))

    # ---------------------------------------------------------------- attach
    def attach(self, net: Any) -> None:
        """Program every pair to the network's present weights (program-and-verify).

        Draws the d2d scales, sets ``G_ref`` per layer, writes the realised
        (quantised, bounded) weights back into ``net.W``.  Pulses go to
        :attr:`init_counts`.
        """
        self._carry = None
        cfg = self.config
        w_max = cfg.w_max_for(net.n_layers)
        self.g_ref = [cfg.g_ref_S if cfg.g_ref_S > 0 else self.device.range / w for w in w_max]
        self.u_p, self.u_m, self.s_p, self.s_m = [], [], [], []
        self.counts = [dict.fromkeys(COUNT_KEYS, 0) for _ in range(net.n_layers)]
        self.init_counts = [dict.fromkeys(COUNT_KEYS, 0) for _ in range(net.n_layers)]
        for k, W in enumerate(net.W):
            sp, sm = self._d2d(W.shape), self._d2d(W.shape)
            up, um = self._target_pair(k, W, sp, sm)
            zero = np.zeros_like(up)
            for u in (up, um):
                n_up, n_dn = self.device.pulses_between(zero, u)
                self.init_counts[k]["refresh_up"] += int(n_up.sum())
                self.init_counts[k]["refresh_down"] += int(n_dn.sum())
            self.s_p.append(sp)
            self.s_m.append(sm)
            self.u_p.append(up)
            self.u_m.append(um)
            net.W[k][...] = self.weights(k)
        self._inv = [dict() for _ in net.W]
        for k in range(net.n_layers):
            self._refresh_cache(k)
        self.resid = [np.zeros(W.shape, np.float32) for W in net.W]
        self.attached = True

    # ---------------------------------------------------------------- apply
    def apply(self, net: Any, dW: Sequence[np.ndarray | None], db: Sequence[np.ndarray | None]) -> None:
        """Turn ``dW`` into pulses on the pairs; ``db`` is added (ideal biases)."""
        if not self.attached:
            self.attach(net)
        for k, dw in enumerate(dW):
            if dw is not None:
                self._apply_layer(net, k, np.asarray(dw, dtype=np.float32))
        for k, dbk in enumerate(db):
            if dbk is not None:
                net.b[k] += np.asarray(dbk).astype(net.b[k].dtype, copy=False)
        self.n_updates += 1
        cfg = self.config
        if cfg.refresh == "periodic" and self.n_updates % cfg.refresh_every == 0:
            self.refresh(net)

    def _carry_rows(self, k: int, n_rows: int) -> np.ndarray:
        """Per row of layer k: whether it must be visited even with a zero update (its
        devices changed since it last got no pulse).  All set after attach, load and
        refresh (``self._carry`` is dropped there)."""
        carry = getattr(self, "_carry", None)
        if carry is None or len(carry) <= k or carry[k] is None or len(carry[k]) != n_rows:
            if carry is None or len(carry) != len(self.u_p):
                carry = self._carry = [None] * len(self.u_p)
            carry[k] = np.ones(n_rows, np.bool_)
        return carry[k]

    def _inv_step(self, k: int, u: np.ndarray, s: np.ndarray, up: bool) -> np.ndarray:
        """1 / (weight change of one pulse) for devices at ``u`` with d2d scale ``s``."""
        step = (self.device.step_up(u) if up else self.device.step_down(u)) * s
        step *= np.float32(self._w_scale(k))
        with np.errstate(divide="ignore"):
            inv = np.float32(1.0) / step
        inv[~np.isfinite(inv)] = np.float32(1e30)
        return inv

    def _refresh_cache(self, k: int, idx: np.ndarray | None = None, which: str = "pm") -> None:
        """Recompute the cached inverse steps of layer k (all synapses, or ``idx`` of the
        devices named in ``which``: 'p' = G+, 'm' = G-)."""
        carry = self._carry
        if carry is not None and k < len(carry) and carry[k] is not None:
            if idx is None:   # the steps change: the residuals must be looked at again
                carry[k][:] = True
            elif idx.size:
                carry[k][np.asarray(idx) // self.u_p[k].shape[1]] = True
        want_down = self.config.scheme == "balanced"
        if idx is None:
            self._inv[k] = {}
            for name, u, s in (("p", self.u_p[k], self.s_p[k]), ("m", self.u_m[k], self.s_m[k])):
                self._inv[k]["up_" + name] = self._inv_step(k, u, s, True)
                if want_down:
                    self._inv[k]["dn_" + name] = self._inv_step(k, u, s, False)
            return
        for name, u, s in (("p", self.u_p[k], self.s_p[k]), ("m", self.u_m[k], self.s_m[k])):
            if name not in which or idx.size == 0:
                continue
            uu, ss = u.reshape(-1)[idx], s.reshape(-1)[idx]
            self._inv[k]["up_" + name].reshape(-1)[idx] = self._inv_step(k, uu, ss, True)
            if want_down:
                self._inv[k]["dn_" + name].reshape(-1)[idx] = self._inv_step(k, uu, ss, False)

    def _pulse_loop(self, u_s: np.ndarray, n_s: np.ndarray, up_s: np.ndarray | None) -> np.ndarray:
        """Apply pulse k = 1..max(n) to the synapses with n >= k, each at its present G."""
        dev, cfg = self.device, self.config
        K = int(n_s.max())
        for p in range(1, K + 1):
            act = None if p == 1 else (n_s >= p)
            u = u_s if act is None else u_s[act]
            if up_s is None:
                d = dev.step_up(u)
            else:
                us = up_s if act is None else up_s[act]
                d = np.where(us, dev.step_up(u), -dev.step_down(u))
            if dev.c2c > 0:
                d += np.float32(dev.c2c) * self.rng.standard_normal(u.shape, dtype=np.float32)
            u = np.clip(u + d, np.float32(0.0), np.float32(1.0))
            if cfg.quantize == "levels":
                u = dev.quantize(u)
            if act is None:
                u_s = u.astype(np.float32, copy=False)
            else:
                u_s[act] = u
        return u_s

    def _apply_layer(self, net: Any, k: int, dw: np.ndarray) -> None:
        cfg, dev = self.config, self.device
        if dw.shape != self.u_p[k].shape:
            raise ParameterError(f"update dW[{k}] has shape {dw.shape}, weights have {self.u_p[k].shape}")
        inv = self._inv[k]
        up_, um_ = self.u_p[k], self.u_m[k]
        if cfg.policy == "accumulate":
            self.counts[k]["accumulator"] += int(dw.size)
        if cfg.scheme == "potentiate":
            # dW > 0: potentiate G+; dW < 0: potentiate G-.  One compiled pass computes
            # x = |dW| / local step, the policy's pulse count and the pulsed synapses.
            from ._synapse_kernels import POLICY_CODES, count_accumulate, count_potentiate
            idx_buf = self._work.setdefault(("idx", k), np.empty(dw.size, np.int64))
            n_buf = self._work.setdefault(("n", k), np.empty(dw.size, np.int32))
            pos_buf = self._work.setdefault(("pos", k), np.empty(dw.size, np.uint8))
            seed = np.uint64(self.rng.integers(0, 2**63 - 1))
            if cfg.policy == "accumulate" and self.skip_idle_rows:
                # no random stream: threads over rows; rows with no update and no carry
                # are skipped (exact: tests/test_hardware_synapses.py)
                import numba
                from ._synapse_kernels import count_accumulate_rows
                carry = self._carry_rows(k, dw.shape[0])
                m = count_accumulate_rows(dw.reshape(-1), inv["up_p"].reshape(-1),
                                          inv["up_m"].reshape(-1), int(cfg.max_pulses),
                                          int(max(1, min(numba.get_num_threads(), dw.shape[0]))),
                                          idx_buf, n_buf, self.resid[k].reshape(-1), pos_buf,
                                          carry, int(dw.shape[1]))
            elif cfg.policy == "accumulate":   # no random stream: threads over synapse chunks
                import numba
                m = count_accumulate(dw.reshape(-1), inv["up_p"].reshape(-1),
                                     inv["up_m"].reshape(-1), int(cfg.max_pulses),
                                     int(max(1, min(numba.get_num_threads(), dw.size))),
                                     idx_buf, n_buf, self.resid[k].reshape(-1), pos_buf)
            else:
                m = count_potentiate(dw.reshape(-1), inv["up_p"].reshape(-1),
                                     inv["up_m"].reshape(-1), POLICY_CODES[cfg.policy],
                                     int(cfg.max_pulses), float(cfg.sign_threshold), seed,
                                     idx_buf, n_buf, self.resid[k].reshape(-1), pos_buf)
            if m == 0:
                return
            idx = idx_buf[:m].copy()
            n_s = n_buf[:m].copy()
            pos_s = pos_buf[:m].astype(bool)
        else:
            # preallocated work arrays (large temporaries cost page faults on every call)
            if k not in self._work or self._work[k][0].shape != dw.shape:
                self._work[k] = (np.empty(dw.shape, np.int32), np.empty(dw.shape, bool))
            n, mask = self._work[k]
            acc = cfg.policy == "accumulate"
            if acc:
                dw = dw + self.resid[k]
            dpos = np.maximum(dw, np.float32(0.0))
            dneg = np.maximum(-dw, np.float32(0.0))
            # dW > 0: potentiate G+ if it has at least as much room up as G- has down, else
            # depress G-; dW < 0: potentiate G- or depress G+ likewise
            pot_p = (1.0 - up_) >= um_
            pot_m = (1.0 - um_) >= up_
            inv_used = np.where(dw > 0, np.where(pot_p, inv["up_p"], inv["dn_m"]),
                                np.where(pot_m, inv["up_m"], inv["dn_p"]))
            x = np.abs(dw) * inv_used
            if acc:   # whole steps only; the residual keeps the rest
                np.copyto(n, np.minimum(x, np.float32(cfg.max_pulses)), casting="unsafe")
                self.resid[k][...] = dw - np.sign(dw) * n / inv_used
            else:
                pulse_counts(x, cfg.policy, max_pulses=cfg.max_pulses,
                             sign_threshold=cfg.sign_threshold, rng=self.rng, inplace=True, out=n)
            np.greater(n, 0, out=mask)
            idx = np.flatnonzero(mask)
            if idx.size == 0:
                return
            n_s = n.reshape(-1)[idx]
            pos_s = dw.reshape(-1)[idx] > 0
        if cfg.scheme == "potentiate":
            on_p_s = pos_s
            up_s = None
            self.counts[k]["up"] += int(n_s.sum())
        else:
            up_s = np.where(pos_s, pot_p.reshape(-1)[idx], pot_m.reshape(-1)[idx])
            on_p_s = pos_s == up_s  # potentiate G+ or depress G+
            n_up = int(n_s[up_s].sum())
            self.counts[k]["up"] += n_up
            self.counts[k]["down"] += int(n_s.sum()) - n_up
        flat_p, flat_m = up_.reshape(-1), um_.reshape(-1)
        u_s = np.where(on_p_s, flat_p[idx], flat_m[idx])
        if dev.linear:
            # closed form for constant steps: n pulses move u by n * step, and their independent
            # c2c draws add up to sqrt(n) * sigma (bounds applied once, at the end)
            d = n_s.astype(np.float32) * (dev.lut_up[0] if up_s is None else
                                          np.where(up_s, dev.lut_up[0], -dev.lut_down[0]))
            if dev.c2c > 0:
                d += (np.float32(dev.c2c) * np.sqrt(n_s.astype(np.float32))
                      * self.rng.standard_normal(n_s.shape, dtype=np.float32))
            u_s = np.clip(u_s + d, np.float32(0.0), np.float32(1.0))
            if cfg.quantize == "levels":
                u_s = dev.quantize(u_s)
            u_s = u_s.astype(np.float32, copy=False)
        else:
            u_s = self._pulse_loop(u_s, n_s, up_s)
        # scatter back, refresh the cached steps and write the realised weights
        flat_p[idx[on_p_s]] = u_s[on_p_s]
        flat_m[idx[~on_p_s]] = u_s[~on_p_s]
        self._refresh_cache(k, idx[on_p_s], which="p")
        self._refresh_cache(k, idx[~on_p_s], which="m")
        scale = np.float32(self._w_scale(k))
        w = (self.s_p[k].reshape(-1)[idx] * flat_p[idx] - self.s_m[k].reshape(-1)[idx] * flat_m[idx]) * scale
        net.W[k].reshape(-1)[idx] = w.astype(net.W[k].dtype, copy=False)

    # ---------------------------------------------------------------- refresh
    def saturating(self, k: int) -> np.ndarray:
        """Boolean mask of the pairs of layer k the refresh policy would re-program."""
        m = np.float32(self.config.refresh_margin)
        up_, um_ = self.u_p[k], self.u_m[k]
        if self.config.scheme == "potentiate":
            return np.maximum(up_, um_) >= 1.0 - m
        return ((up_ >= 1.0 - m) & (um_ >= 1.0 - m)) | ((up_ <= m) & (um_ <= m))

    def refresh(self, net: Any) -> int:
        """Re-program saturating pairs to the same weight; returns how many pairs."""
        self._carry = None   # re-programmed pairs: every row is visited next time
        total = 0
        for k in range(len(self.u_p)):
            mask = self.saturating(k)
            idx = np.flatnonzero(mask)
            if idx.size == 0:
                continue
            sp, sm = self.s_p[k].reshape(-1)[idx], self.s_m[k].reshape(-1)[idx]
            fp, fm = self.u_p[k].reshape(-1), self.u_m[k].reshape(-1)
            w = (sp * fp[idx] - sm * fm[idx]) * self._w_scale(k)
            new_p, new_m = self._target_pair(k, w, sp, sm)
            for old, new in ((fp[idx], new_p), (fm[idx], new_m)):
                n_up, n_dn = self.device.pulses_between(old, new)
                self.counts[k]["refresh_up"] += int(n_up.sum())
                self.counts[k]["refresh_down"] += int(n_dn.sum())
            fp[idx], fm[idx] = new_p, new_m
            self._refresh_cache(k, idx)
            net.W[k].reshape(-1)[idx] = ((sp * new_p - sm * new_m) * self._w_scale(k)).astype(net.W[k].dtype)
            total += idx.size
        return total

    # ---------------------------------------------------------------- ledger
    def take_counts(self) -> list[dict[str, int]]:
        """Pulse counts per weight layer since the last call (then reset to 0)."""
        out = [dict(c) for c in self.counts]
        self.counts = [dict.fromkeys(COUNT_KEYS, 0) for _ in self.counts]
        return out

    def write_energy_J(self, counts: Sequence[dict[str, int]] | None = None) -> float:
        """Write energy (J) of pulse counts (default: the running counts)."""
        p = self.profile
        counts = self.counts if counts is None else counts
        return float(sum((c["up"] + c["refresh_up"]) * p.write_energy_up_J
                         + (c["down"] + c["refresh_down"]) * p.write_energy_down_J for c in counts))

    # ---------------------------------------------------------------- checkpoint
    def state(self) -> dict[str, np.ndarray]:
        """Device states, d2d scales, G_ref, counters and the RNG state."""
        out: dict[str, np.ndarray] = {}
        for k in range(len(self.u_p)):
            out[f"dev_u_p{k}"] = self.u_p[k]
            out[f"dev_u_m{k}"] = self.u_m[k]
            out[f"dev_s_p{k}"] = self.s_p[k]
            out[f"dev_s_m{k}"] = self.s_m[k]
            if k < len(self.resid):
                out[f"dev_resid{k}"] = self.resid[k]
        meta = {"g_ref": self.g_ref, "counts": self.counts, "init_counts": self.init_counts,
                "n_updates": self.n_updates, "rng": self.rng.bit_generator.state,
                "attached": self.attached}
        out["dev_meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        return out

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` returned."""
        self._carry = None
        if "dev_meta" not in arrays:
            raise ParameterError("checkpoint holds no device-synapse state (dev_meta missing)")
        meta = json.loads(bytes(np.asarray(arrays["dev_meta"], dtype=np.uint8)).decode("utf-8"))
        n = len(meta["g_ref"])
        self.g_ref = [float(g) for g in meta["g_ref"]]
        self.u_p = [np.array(arrays[f"dev_u_p{k}"], dtype=np.float32) for k in range(n)]
        self.u_m = [np.array(arrays[f"dev_u_m{k}"], dtype=np.float32) for k in range(n)]
        self.s_p = [np.array(arrays[f"dev_s_p{k}"], dtype=np.float32) for k in range(n)]
        self.s_m = [np.array(arrays[f"dev_s_m{k}"], dtype=np.float32) for k in range(n)]
        self.resid = [np.array(arrays[f"dev_resid{k}"], dtype=np.float32)
                      if f"dev_resid{k}" in arrays else np.zeros_like(self.u_p[k])
                      for k in range(n)]
        self.counts = [dict(c) for c in meta["counts"]]
        self.init_counts = [dict(c) for c in meta["init_counts"]]
        self.n_updates = int(meta["n_updates"])
        self.rng.bit_generator.state = meta["rng"]
        self.attached = bool(meta["attached"])
        self._inv = [dict() for _ in range(n)]
        for k in range(n):
            self._refresh_cache(k)
