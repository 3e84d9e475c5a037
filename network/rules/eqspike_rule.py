"""EqSpike: spike-driven Equilibrium Propagation (rule ``eqspike``).

Martin et al., "EqSpike: Spike-driven Equilibrium Propagation for
Neuromorphic Implementations", iScience 24(3):102222 (2021),
arXiv:2010.07859; the formulation and our choices are in
``../shared/docs/eqspike-algorithm.md`` and ``docs/eqspike-rule.md``.

Neurons communicate only by binary spikes (``network/spiking.py``); each
keeps a leaky membrane ``u`` and activation ``rho(u)``.  Per mini-batch:

1. free phase, ``T1`` steps from zero membranes (the training prediction =
   readout of the output layer at its end; :meth:`predict`, used for
   evaluation, reruns the free phase with the ``infer_encoder`` spikes,
   deterministic sigma-delta by default);
2. nudged phase(s), ``T2`` steps each from the free end state, with the
   output drive ``+ beta (y - rho(u_L))`` (``+beta`` and ``-beta`` phases
   when ``cfg.symmetric_nudging``);
3. during the nudged phases only, each synapse accumulates, **at each
   spike of one of its two neurons**, the change of the other neuron's
   activation (local in space and time)::

       dW_ij += theta * w(t) * ( P_i(t) * drho_j(t) + drho_i(t) * P_j(t) ),
       drho(t) = rho(u(t+1)) - rho(u(t)),
       P(t) = S(t)  (same_step) | S(t+1) (delayed) | (S(t)+S(t+1))/2 (both)

   ``w(t)`` the end-of-phase averaging weights (``spiking.averaging_weights``);
   biases accumulate ``w(t) * drho``.  The applied update is
   ``lr_k * (acc(+beta) - acc(-beta)) / (2 beta B n_samples)`` (or
   ``acc(+beta) / (beta B n_samples)`` with one nudged phase).

With rates instead of spikes (``P = rho``) and ``w = 1`` the sum telescopes
to the C-EP / EP update ``(rho_i rho_j)(end) - (rho_i rho_j)(start)``; the
spike-driven version is a stochastic estimate of it whose bias depends on
the pairing (see the docs).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from eqspike.errors import ParameterError
from eqspike.params import param, validate
from eqspike.network import event as ev
from eqspike.network import event_reference as evref
from eqspike.network import event_train as evtrain
from eqspike.network import spiking
from eqspike.network.rules import register


@dataclass(frozen=True)
class Params:
    """Options of the ``eqspike`` rule (``rule_params`` of the training config)."""
    encoder: str = param("bernoulli", unit="", choices=tuple(spiking.ENCODERS),
                         doc="spike encoder of hidden and output neurons")
    input_encoder: str = param("same", unit="", choices=("same",) + tuple(spiking.ENCODERS),
                               doc="spike encoder of the input pixels ('same' = encoder)")
    pairing: str = param("both", unit="", choices=tuple(ev.PAIRINGS),
                         doc="which spike a state change is paired with: same_step (the spike "
                             "that caused it), delayed (the next spike), both (average)")
    avg_steps: int = param(10, unit="steps", low=0, integer=True,
                           doc="end-of-phase averaging: per-step updates ramp down over the "
                               "last n steps of each nudged phase (0 = off)")
    theta: float = param(1.0, unit="", low=1.0, high=16.0,
                         doc="rate carried by one spike (spike rate = rho / theta)")
    n_samples: int = param(1, unit="", low=1, high=16, integer=True,
                           doc="independent nudged phase (pairs) per image, updates averaged")
    common_noise: bool = param(True, unit="", choices=(True, False),
                               doc="+beta and -beta phases draw the same random numbers "
                                   "(Bernoulli): common noise cancels in their difference")
    infer_encoder: str = param("sigma_delta", unit="",
                               choices=("same",) + tuple(spiking.ENCODERS),
                               doc="spike encoder of all layers in predict() (evaluation): "
                                   "deterministic sigma-delta removes the sampling noise of "
                                   "the prediction; 'same' = the training encoders")
    readout: str = param("membrane", unit="", choices=spiking.READOUTS,
                         doc="prediction: argmax of output membranes or output spike counts")
    readout_window: int = param(20, unit="steps", low=1, integer=True,
                                doc="last free-phase steps counted by the spike_count readout")
    compute: str = param("auto", unit="", choices=ev.COMPUTE_PATHS,
                         doc="event-driven (numba), dense (BLAS) or auto (time both, keep faster)")

    def __post_init__(self) -> None:
        validate(self)


@register("eqspike")
class EqSpikeRule:
    """Spike-driven EP; see the module doc. Built as ``EqSpikeRule(cfg, rng, activation)``."""

    Params = Params

    def __init__(self, cfg, rng: np.random.Generator, activation=None):
        from eqspike.network.activations import get_activation
        self.cfg = cfg
        p = cfg.rule_options() if hasattr(cfg, "rule_options") else Params()
        if isinstance(p, dict):
            p = Params(**p)
        self.p: Params = p
        self.rng = rng
        eps = float(cfg.eps)
        if not (0.0 < eps <= 1.0):
            raise ParameterError(f"parameter 'eps' = {eps!r} is outside the allowed range (0, 1]")
        self.act = get_activation(activation if activation is not None
                                  else getattr(cfg, "activation", None))
        code, tab, lo, step = ev.activation_spec(self.act)
        enc = spiking.encoder_code(p.encoder)
        enc_in = enc if p.input_encoder == "same" else spiking.encoder_code(p.input_encoder)
        sizes = tuple(int(n) for n in cfg.sizes)
        if cfg.T1 + 2 * cfg.T2 * p.n_samples + 2 > spiking.COUNTER_STEPS:
            raise ParameterError("phases too long for the spike random counter "
                                 f"(T1 + 2 T2 n_samples must stay below {spiking.COUNTER_STEPS})")
        self.spec = ev.PhaseSpec(sizes=sizes, eps=eps, theta=float(p.theta),
                                 enc=(enc_in,) + (enc,) * (len(sizes) - 1), act_code=code,
                                 act_tab=tab, act_lo=lo, act_step=step, act_fn=self.act,
                                 pairing=ev.PAIRINGS[p.pairing],
                                 readout_window=min(int(p.readout_window), int(cfg.T1)))
        if p.infer_encoder == "same":
            self.infer_spec = self.spec
        else:
            code_i = spiking.encoder_code(p.infer_encoder)
            self.infer_spec = dataclasses.replace(self.spec, enc=(code_i,) * len(sizes))
        self.wsched = spiking.averaging_weights(int(cfg.T2), int(p.avg_steps))
        self.chooser = ev.PathChooser(p.compute)
        self._bufs: dict = {}
        self._work: dict = {}   # scratch arrays of the event kernels, reused across batches
        # event path, defaults: free and nudged phases in one call (False: phase by phase;
        # the same result, tests/test_event_threads.py)
        self.fuse_phases = True
        # ... and, for ideal synapses, the weight update inside that call (False: a pass of
        # event_batch.apply_buffers after it; the same weights bit for bit)
        self.fuse_apply = True

    # ------------------------------------------------------------------ phases
    def _phase(self, path, net, st, y, T, t0, beta, seed, learn, sign, bufs, nz, spec=None):
        fn = ev.phase_event if path == "event" else evref.phase_dense
        kw = {"nz": nz, "work": self._work} if path == "event" else {}
        return fn(spec or self.spec, net.W, net.b, st, y, T, t0, beta, seed, learn, self.wsched,
                  sign, bufs[0], bufs[1], **kw)

    def _free(self, path, net, x, seed, nz, spec=None):
        B = x.shape[0]
        st = ev.init_state(self.spec, np.clip(np.asarray(x, np.float32), 0.0, 1.0))
        y0 = np.zeros((B, self.spec.sizes[-1]), np.float32)
        L = len(self.spec.sizes) - 1   # no learning in the free phase: placeholder buffers
        bufs = (tuple(np.zeros((1, 1, 1), np.float32) for _ in range(L)),
                tuple(np.zeros((1, 1), np.float32) for _ in range(L)))
        counts, out_counts = self._phase(path, net, st, y0, int(self.cfg.T1), 0, 0.0, seed,
                                         False, 0.0, bufs, nz, spec)
        off = self.spec.offsets
        L = len(self.spec.sizes) - 1
        pred = spiking.readout(st.u[:, off[L]:off[L + 1]], out_counts, self.p.readout)
        return st, pred, counts

    def _active(self, st) -> list[int]:
        """Neuron-steps with positive input per layer (energy ledger's active floor), estimated
        as the neurons with a positive membrane at the end of the free phase times ``T1`` (the
        relaxed state holds for most of the phase; tests/test_validate.py checks the estimate
        against the time-averaged count).  Layer 0: 0 (the ledger counts input encoders from
        the pixels)."""
        off = self.spec.offsets
        T1 = int(self.cfg.T1)
        return [0] + [int(np.count_nonzero(st.u[:, off[k]:off[k + 1]] > 0)) * T1
                      for k in range(1, len(self.spec.sizes))]

    def train_batch(self, net, x, y_onehot, lrs) -> dict:
        """Free phase, nudged phase(s) with spike-driven accumulation, one update."""
        cfg, p = self.cfg, self.p
        x = np.clip(np.asarray(x, np.float32), 0.0, 1.0)
        y = np.asarray(y_onehot, np.float32)
        B = x.shape[0]
        path = self.chooser.next_path()
        t_start = self.chooser.clock()
        nz = ev.nonzero_lists(x, x.shape[0]) if path == "event" else None
        seed_free = int(self.rng.integers(1, 2**63 - 1))
        key = (path, B)
        bufs = self._bufs.get(key)
        if bufs is None:   # accumulators are reused: reduce_buffers zeroes them
            bufs = self._bufs[key] = (ev.event_buffers(self.spec.sizes, B) if path == "event"
                                      else ev.make_buffers(self.spec.sizes, 1))
        signs = (1.0, -1.0) if cfg.symmetric_nudging else (1.0,)
        T1, T2 = int(cfg.T1), int(cfg.T2)
        if (path == "event" and p.common_noise and len(signs) > 1 and p.n_samples == 1
                and self.fuse_phases):
            # the defaults: free and nudged phases of each image in one compiled call
            # (network/event_train.py; the same result as the phase-by-phase calls below)
            seed_n = int(self.rng.integers(1, 2**63 - 1))
            # ideal synapses: the kernel adds the update to W and b itself (no buffer pass)
            scales = (self._scales(lrs, signs, B) if self.fuse_apply
                      and ev.plain_ideal(net, biases=True) else None)
            st0, c_free, outc, c_nudged = evtrain.train_batch_event(
                self.spec, net.W, net.b, x, y, T1, T2, [sg * cfg.beta for sg in signs],
                list(signs), seed_free, seed_n, self.wsched, bufs[0], bufs[1], nz, self._work,
                apply_scales=scales)
            off = self.spec.offsets
            L = len(self.spec.sizes) - 1
            pred = spiking.readout(st0.u[:, off[L]:off[L + 1]], outc, self.p.readout)
            return self._finish(net, x, B, path, bufs, lrs, signs, st0, pred, c_free,
                                c_nudged, t_start, applied=scales is not None)
        st0, pred, c_free = self._free(path, net, x, seed_free, nz)
        c_nudged = np.zeros_like(c_free)
        for s in range(p.n_samples):
            seed_n = int(self.rng.integers(1, 2**63 - 1))
            if path == "event" and p.common_noise and len(signs) > 1:
                # the phases share the seed, hence the input spikes: run them side by side
                c, _ = ev.phase_event_multi(self.spec, net.W, net.b,
                                            [st0.copy() for _ in signs], y, T2, T1,
                                            [sg * cfg.beta for sg in signs], seed_n, True,
                                            self.wsched, list(signs), bufs[0], bufs[1], nz,
                                            self._work)
                c_nudged += c
                continue
            for sign in signs:
                seed = seed_n if p.common_noise else int(self.rng.integers(1, 2**63 - 1))
                st = st0.copy()
                c, _ = self._phase(path, net, st, y, T2, T1, sign * cfg.beta, seed,
                                   True, sign, bufs, nz)
                c_nudged += c
        return self._finish(net, x, B, path, bufs, lrs, signs, st0, pred, c_free, c_nudged,
                            t_start)

    def _scales(self, lrs, signs, B) -> list[float]:
        """Per weight layer, the factor of the accumulated sums: lr / (beta * phases * B)."""
        cfg, p = self.cfg, self.p
        scale = 1.0 / (cfg.beta * len(signs) * B * p.n_samples)
        return [lr * scale for lr in lrs]

    def _finish(self, net, x, B, path, bufs, lrs, signs, st0, pred, c_free, c_nudged, t_start,
                applied=False):
        """Apply the accumulated update (unless the kernel ``applied`` it); the batch's
        statistics."""
        cfg, p = self.cfg, self.p
        T1, T2 = int(cfg.T1), int(cfg.T2)
        if not applied:
            # the event kernel writes only the dW[0] rows of pixels nonzero in the batch
            rows0 = np.flatnonzero(x.max(axis=0) > 0) if path == "event" else None
            ev.apply_buffers(net, bufs[0], bufs[1], self._scales(lrs, signs, B), rows0=rows0)
        self.chooser.record(path, self.chooser.clock() - t_start)
        n_phases = len(signs) * p.n_samples
        return {"pred": pred,
                "spikes_free": [int(v) for v in c_free],
                "active_free": self._active(st0),
                "spikes_nudged": [int(v) for v in c_nudged],
                "steps_free": T1, "steps_nudged": T2 * n_phases,
                "compute_path": path}

    def state(self) -> dict[str, np.ndarray]:
        """What a checkpoint keeps: the compute path ``auto`` settled on (so a resumed run
        does not re-time the dense path and continues bit for bit)."""
        return {"chosen_path": np.array(self.chooser.chosen or "")}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`state` (an older checkpoint without it changes nothing)."""
        chosen = str(arrays.get("chosen_path", ""))
        if chosen in ev.COMPUTE_PATHS[1:] and self.p.compute == "auto":
            self.chooser.chosen = chosen

    def predict(self, net, x) -> tuple[np.ndarray, dict]:
        """Free phase only (encoders: ``infer_encoder``): prediction and spike statistics."""
        x = np.clip(np.asarray(x, np.float32), 0.0, 1.0)
        path = self.chooser.chosen or "event"
        nz = ev.nonzero_lists(x, x.shape[0]) if path == "event" else None
        seed = int(self.rng.integers(1, 2**63 - 1))
        st, pred, c = self._free(path, net, x, seed, nz, self.infer_spec)
        return pred, {"pred": pred, "spikes_free": [int(v) for v in c], "active_free": self._active(st),
                      "spikes_nudged": [0] * len(c), "steps_free": int(self.cfg.T1),
                      "steps_nudged": 0}
