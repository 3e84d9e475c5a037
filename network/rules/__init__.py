"""Learning rules, selected by name.

A rule is a class registered with :func:`register`; the trainer builds it
with ``RULES[name](config, rng)`` and calls:

- ``train_batch(net, x, y_onehot, lrs) -> dict``: run the phases on one
  mini-batch (``x`` float32 ``(B, n_0)`` in [0, 1], ``y_onehot`` float32
  ``(B, n_L)``), compute the updates and call ``net.apply_update``.
  ``lrs`` are the per-layer learning rates in force (after the schedule).
  The returned dict holds statistics for the metrics and the energy ledger:
  ``"pred"`` (int array ``(B,)``, free-phase prediction) and, for spiking
  rules, ``"spikes_free"`` / ``"spikes_nudged"``: lists with one total spike
  count per layer (0..L, summed over the batch), ``"steps_free"``,
  ``"steps_nudged"`` (time steps per phase, summed over nudged phases).
- ``predict(net, x) -> (pred, stats)``: free phase only.

Rules in this package: ``cep`` (rate-based EP with continual updates) and
``eqspike`` (spike-driven EP), ``eqspike_chip`` (spike-driven EP trained as a chip:
batch 1, device updates by coincidence pulses only; needs chip synapses).
"""
from __future__ import annotations

from typing import Callable

RULES: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make a rule available under ``name``."""
    def deco(cls: type) -> type:
        RULES[name] = cls
        cls.rule_name = name
        return cls
    return deco


def get_rule(name: str) -> type:
    """The rule class registered as ``name``; clear error if unknown."""
    _load_builtin()
    if name not in RULES:
        from eqspike.params import ParameterError
        raise ParameterError(f"parameter 'rule' = {name!r} is not a known learning rule; "
                             f"allowed: {', '.join(sorted(RULES))}")
    return RULES[name]


def _load_builtin() -> None:
    import importlib
    for mod in ("cep", "eqspike_rule", "eqspike_chip"):
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:  # a rule module not written yet
            if e.name != f"{__name__}.{mod}":
                raise
