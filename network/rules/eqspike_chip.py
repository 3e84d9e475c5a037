"""EqSpike trained as a chip would (rule ``eqspike_chip``): batch 1, coincidence pulses.

The same network, spikes and options as the ``eqspike`` rule
(:mod:`eqspike.network.rules.eqspike_rule`, whose ``Params`` it takes), but
:meth:`train_batch` runs the examples of a trainer batch **one after the
other** through the compiled kernel :func:`eqspike.network.chip_kernel.
chip_examples` (one call per batch), and the weights change only through the
device pulses of :class:`eqspike.network.policies.chip.ChipSynapses` (no
``dW``, no float accumulation over a batch).  Prediction and evaluation are
the free phase of ``eqspike`` (inference changes nothing, so evaluating
test images side by side gives what a chip gives one after the other).
"""
from __future__ import annotations

import numpy as np

from eqspike.errors import ParameterError
from eqspike.network import chip_kernel as ck
from eqspike.network.chip_costs import neuron_register_counts
from eqspike.network.rules import register
from eqspike.network.rules.eqspike_rule import EqSpikeRule


@register("eqspike_chip")
class ChipEqSpikeRule(EqSpikeRule):
    """Spike-driven EP, batch 1, in-situ device updates (module doc)."""

    def __init__(self, cfg, rng: np.random.Generator, activation=None):
        super().__init__(cfg, rng, activation)
        a0 = {0: 1.0, 1: 0.0, 2: 0.5}[self.spec.pairing]
        self._a = (a0, 1.0 - a0)
        self.record = None   # set to a dict to record the nudged phases of the next example
        #: worker threads of the kernel (0: numba's configured count, capped at the CPUs);
        #: an execution setting: the result does not depend on it
        self.n_threads = 0
        #: the kernel's work fractions per worker, carried from call to call, and whether
        #: they follow the workers' measured speeds (execution only: the result does not
        #: depend on them)
        self.split = None
        self.adapt_split = True

    def train_batch(self, net, x, y_onehot, lrs) -> dict:
        """The examples of ``x`` one at a time: free phase, nudged phases with coincidence
        pulses on the devices (see :mod:`eqspike.network.chip_kernel`)."""
        from eqspike.network.policies.chip import ChipSynapses
        syn = net.synapses
        if not isinstance(syn, ChipSynapses):
            raise ParameterError("rule 'eqspike_chip' needs chip synapses (ChipSynapses), got "
                                 f"{type(syn).__name__}; use train_on_hardware(..., mode='chip')")
        if not syn.attached:
            syn.attach(net)
        cfg, p, spec = self.cfg, self.p, self.spec
        X = np.ascontiguousarray(np.clip(np.asarray(x, np.float32), 0.0, 1.0))
        Y = np.ascontiguousarray(np.asarray(y_onehot, np.float32))
        B = X.shape[0]
        signs = (1.0, -1.0) if cfg.symmetric_nudging else (1.0,)
        R = len(signs)
        seeds_free = self.rng.integers(1, 2**63 - 1, size=B).astype(np.uint64)
        if p.common_noise:
            s = self.rng.integers(1, 2**63 - 1, size=(B, p.n_samples, 1)).astype(np.uint64)
            seeds_n = np.ascontiguousarray(np.repeat(s, R, axis=2))
        else:
            seeds_n = self.rng.integers(1, 2**63 - 1, size=(B, p.n_samples, R)).astype(np.uint64)
        norm = cfg.beta * R * cfg.batch_size * p.n_samples
        L = len(spec.sizes) - 1
        bsc = np.asarray([lr / norm for lr in lrs], np.float64)
        cs = np.asarray([bsc[k] * syn.chip.prob_scale / syn.step_weight(k) for k in range(L)],
                        np.float64)
        for k in range(L):
            if not (net.W[k].dtype == np.float32 and net.W[k].flags.c_contiguous):
                raise ParameterError(f"chip mode needs float32 C-ordered weights; W[{k}] is "
                                     f"{net.W[k].dtype}")
        Ws = tuple(net.W)
        WTs = (np.zeros((1, 1), np.float32),) + tuple(np.ascontiguousarray(w.T) for w in net.W[1:])
        bs = tuple(net.b)
        dev = syn.kernel_args()
        seeds_learn = syn.rng.integers(1, 2**63 - 1, size=B).astype(np.uint64)
        cnt = np.zeros((L, ck.N_COUNTERS), np.float64)
        spk_free = np.zeros(L + 1, np.int64)
        spk_nudged = np.zeros(L + 1, np.int64)
        pred = np.zeros(B, np.int64)
        act_free = np.zeros(L + 1, np.int64)
        rec = self.record is not None
        N = int(spec.offsets[-1])
        P = p.n_samples * R
        rec_S = np.zeros((P, cfg.T2 + 1, N) if rec else (1, 1, 1), np.uint8)
        rec_dr = np.zeros((P, cfg.T2, N) if rec else (1, 1, 1), np.float32)
        nt = ck.chip_threads(self.n_threads)
        if self.split is None or np.shape(self.split) != (nt,):
            self.split = np.full(nt, 1.0 / nt)
        ck.chip_examples(X, Y, Ws, WTs, bs, spec.offsets, np.asarray(spec.enc, np.int64),
                         int(cfg.T1), int(cfg.T2), float(spec.eps), float(spec.theta),
                         int(spec.act_code), spec.act_tab, float(spec.act_lo),
                         float(spec.act_step), seeds_free, seeds_n, seeds_learn,
                         np.asarray([sg * cfg.beta for sg in signs], np.float64),
                         np.asarray(signs, np.float64), float(self._a[0]), float(self._a[1]),
                         np.asarray(self.wsched[:cfg.T2], np.float64), cs, bsc,
                         p.readout == "spike_count", int(spec.readout_window),
                         dev["policy"], dev["ups"], dev["ums"], dev["sps"], dev["sms"],
                         dev["rqs"], dev["rfs"], dev["wscs"], dev["reg_max"], dev["thr"],
                         dev["lsb_per_step"], dev["K"], dev["lut_up"], dev["qlut"], dev["quant"],
                         dev["c2c"], cnt, spk_free, spk_nudged, pred, act_free, rec,
                         rec_S, rec_dr,
                         syn.chip.phases == "difference", n_threads=nt, split=self.split,
                         adapt=self.adapt_split)
        if rec:
            self.record = {"S": rec_S, "drho": rec_dr, "cs": cs, "a": self._a, "signs": signs,
                           "wsched": np.asarray(self.wsched[:cfg.T2], np.float64),
                           "theta": float(spec.theta), "offsets": spec.offsets.copy(),
                           "counters": cnt.copy()}
        extra = neuron_register_counts(spec.sizes, int(cfg.T2), p.n_samples, R,
                                       syn.chip.phases == "difference" and R == 2, B)
        syn.after_examples(net, cnt, extra)
        return {"pred": pred, "spikes_free": [int(v) for v in spk_free],
                "active_free": [int(v) for v in act_free],
                "spikes_nudged": [int(v) for v in spk_nudged],
                "steps_free": int(cfg.T1), "steps_nudged": int(cfg.T2) * P,
                "compute_path": "chip"}
