"""Training configuration: one frozen dataclass of documented, range-checked fields.

Defaults are the rate-based EP reference setting measured on this project's
machines (``../shared/docs/eqspike-findings.md``; Scellier & Bengio 2017 for
784-500-10, beta 0.5, lr 0.1 / 0.05, batch 20; Ernoult et al. 2019 for the
discrete-time dynamics and hard sigmoid): 784-500-10, T1 60, T2 20, symmetric
(+beta / -beta) nudging, cosine schedule.

EP quantities are dimensionless (states and rates are normalised to [0, 1]);
time is counted in discrete steps of the network dynamics.

``rule_params`` holds options of the selected learning rule as ``(key, value)``
pairs (a mapping is accepted and normalised to sorted pairs); when the rule
class defines a ``Params`` dataclass, they are validated by it (unknown keys
and out-of-range values raise :class:`ParameterError`), see
:meth:`TrainConfig.rule_options`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from eqspike.errors import ParameterError
from eqspike.params import check_value, param, replace_checked

#: fields that may be ``None`` (meaning "all")
_OPTIONAL = ("n_train", "n_test")


@dataclass(frozen=True)
class TrainConfig:
    """Network size, learning rule, phases and optimisation of one training run."""

    sizes: tuple = param((784, 500, 10), unit="neurons", low=1, high=10_000_000, integer=True,
                         doc="layer widths n_0 (input), hidden..., n_L (output)")
    rule: str = param("cep", unit="", doc="learning rule: cep (rate-based C-EP) or eqspike (spike-driven EP)")
    epochs: int = param(1, unit="epochs", low=1, high=10_000, integer=True, doc="passes over the training set")
    batch_size: int = param(20, unit="images", low=1, high=1_000_000, integer=True, doc="mini-batch size")
    T1: int = param(60, unit="steps", low=1, high=100_000, integer=True, doc="free-phase length")
    T2: int = param(20, unit="steps", low=1, high=100_000, integer=True, doc="nudged-phase length (each phase when symmetric)")
    beta: float = param(0.5, unit="", low=0, low_open=True, doc="nudging strength (dimensionless)")
    eps: float = param(0.2, unit="", low=0, low_open=True, high=1,
                       doc="membrane step / leak per time step of spiking rules (dimensionless)")
    lrs: tuple = param((0.1, 0.05), unit="", low=0,
                       doc="learning rate per weight layer (one value is broadcast)")
    lr_schedule: str = param("cosine", unit="", choices=("constant", "cosine"),
                             doc="per-epoch learning-rate schedule (cosine decays to 0 over `epochs`)")
    symmetric_nudging: bool = param(True, unit="", choices=(True, False),
                                    doc="+beta and -beta nudged phases, update = difference / (2 beta)")
    seed: int = param(0, unit="", low=0, integer=True, doc="random seed (init, shuffling, rule noise)")
    n_train: int | None = param(None, unit="images", low=1, integer=True,
                                doc="use the first n training images (None = all)")
    n_test: int | None = param(None, unit="images", low=1, integer=True,
                               doc="use the first n test images (None = all)")
    activation: str = param("hard_sigmoid", unit="", choices=("hard_sigmoid", "sigmoid"),
                            doc="neuron activation rho (a custom callable can be passed to train())")
    max_weight: float = param(1e3, unit="", low=0, low_open=True,
                              doc="divergence guard: stop when any |W| exceeds this")
    eval_batch_size: int = param(1000, unit="images", low=1, high=1_000_000, integer=True,
                                 doc="batch size of free-phase evaluation")
    rule_params: tuple = param((), unit="", doc="rule options as (key, value) pairs, see the rule's Params")

    def __post_init__(self) -> None:
        # normalise containers (JSON and the CLI give lists / dicts)
        if isinstance(self.sizes, (list, tuple)):
            object.__setattr__(self, "sizes", tuple(self.sizes))
        else:
            raise ParameterError(f"parameter 'sizes' = {self.sizes!r} must be a sequence of layer widths")
        lrs = self.lrs
        if isinstance(lrs, (int, float)) and not isinstance(lrs, bool):
            lrs = (lrs,)
        if not isinstance(lrs, (list, tuple)):
            raise ParameterError(f"parameter 'lrs' = {self.lrs!r} must be a sequence of learning rates")
        lrs = tuple(float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                    for v in lrs)
        n_w = len(self.sizes) - 1
        if len(lrs) == 1 and n_w > 1:
            lrs = lrs * n_w
        object.__setattr__(self, "lrs", lrs)
        object.__setattr__(self, "rule_params", _normalise_pairs(self.rule_params))

        for f in dataclasses.fields(self):
            if "unit" not in f.metadata or f.name == "rule_params":
                continue
            value = getattr(self, f.name)
            if value is None and f.name in _OPTIONAL:
                continue
            check_value(f.name, value, f.metadata)
        if len(self.sizes) < 2:
            raise ParameterError(f"parameter 'sizes' = {self.sizes!r} needs at least an input "
                                 "and an output layer")
        if len(self.lrs) != n_w:
            raise ParameterError(f"parameter 'lrs' = {self.lrs!r} has {len(self.lrs)} values; "
                                 f"sizes {self.sizes} has {n_w} weight layers (give one or {n_w}, e.g. --lr)")
        if not isinstance(self.rule, str):
            raise ParameterError(f"parameter 'rule' = {self.rule!r} must be a rule name")
        self.rule_options()  # checks the rule name and its params

    # ------------------------------------------------------------------ helpers
    def rule_class(self) -> type:
        """The learning-rule class named by ``rule`` (clear error if unknown)."""
        from eqspike.network.rules import get_rule
        return get_rule(self.rule)

    def rule_options(self) -> Any:
        """The rule's validated options: an instance of ``rule_class().Params`` built
        from ``rule_params`` when the rule defines ``Params``, else a plain dict."""
        cls = self.rule_class()
        opts = dict(self.rule_params)
        pcls = getattr(cls, "Params", None)
        if pcls is None:
            return opts
        names = {f.name for f in dataclasses.fields(pcls)}
        unknown = sorted(set(opts) - names)
        if unknown:
            raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for rule "
                                 f"{self.rule!r}; known: {', '.join(sorted(names)) or '(none)'}")
        try:
            return pcls(**opts)
        except TypeError as e:  # e.g. wrong type in a field without range
            raise ParameterError(f"rule {self.rule!r} parameters {opts!r}: {e}") from None

    def with_updates(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed (validated; unknown names rejected)."""
        return replace_checked(self, changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists, rule_params as a dict)."""
        d = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "rule_params":
                v = {k: (list(x) if isinstance(x, tuple) else x) for k, x in v}
            elif isinstance(v, tuple):
                v = list(v)
            d[f.name] = v
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ParameterError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for TrainConfig; "
                                 f"known: {', '.join(sorted(names))}")
        return cls(**dict(d))


def _normalise_pairs(rp: Any) -> tuple:
    if rp is None:
        return ()
    if isinstance(rp, Mapping):
        items = list(rp.items())
    elif isinstance(rp, (list, tuple)):
        items = []
        for p in rp:
            if not (isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str)):
                raise ParameterError(f"parameter 'rule_params': {p!r} is not a (key, value) pair")
            items.append((p[0], p[1]))
    else:
        raise ParameterError(f"parameter 'rule_params' = {rp!r} must be a mapping or (key, value) pairs")
    out = []
    for k, v in items:
        if isinstance(v, list):
            v = tuple(v)
        out.append((str(k), v))
    keys = [k for k, _ in out]
    if len(set(keys)) != len(keys):
        raise ParameterError(f"parameter 'rule_params' repeats a key: {keys}")
    return tuple(sorted(out))
