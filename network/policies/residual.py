"""B-bit fixed-point residual of chip mode: the register format and its arithmetic.

Policy family ``residual`` (chip mode, batch 1): each synapse keeps a signed
``B``-bit two's-complement register ``chi`` (an integer, in units of its
least significant bit).  One nominal device step is ``2**(B-2)`` LSBs, so the
register holds ``[-2, 2)`` steps: before an add ``|chi|`` is below one step
(whole steps leave as pulses), one bit of headroom takes the increment, and
a larger excursion saturates (counted).  Arithmetic per coincidence (in
:mod:`eqspike.network.chip_kernel`):

1. the deciding neuron quantises its increment ``x`` (in steps) to
   ``q = floor(x * 2**(B-2) + U)`` LSBs, ``U ~ Uniform[0, 1)`` (stochastic
   rounding in the neuron: an increment below one LSB is not lost on average);
2. the synapse reads ``chi``, adds ``q`` with saturation at
   ``[-2**(B-1), 2**(B-1) - 1]``, and if ``|chi| >= 2**(B-2)`` sends
   ``n = |chi| // 2**(B-2)`` pulses (at most ``max_pulses``) in the direction
   of ``chi`` and subtracts ``n 2**(B-2)``; then writes ``chi`` back.

``residual_float`` is the same with a float32 register and an unquantised
increment (the reference a B-bit register should approach for large B).
"""
from __future__ import annotations

import numpy as np

from eqspike.errors import ParameterError

MIN_BITS, MAX_BITS = 2, 32


def check_bits(bits: int) -> int:
    """``bits`` as an int in [2, 32], else a clear :class:`ParameterError`."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not (
            MIN_BITS <= int(bits) <= MAX_BITS):
        raise ParameterError(f"parameter 'residual_bits' = {bits!r} is outside the allowed range "
                             f"[{MIN_BITS}, {MAX_BITS}] (integer, bits)")
    return int(bits)


def lsb_per_step(bits: int) -> int:
    """LSBs of a B-bit register per nominal device step: ``2**(B-2)``."""
    return 1 << (check_bits(bits) - 2)


def register_max(bits: int) -> int:
    """Largest register value, ``2**(B-1) - 1`` (the smallest is ``-2**(B-1)``)."""
    return (1 << (check_bits(bits) - 1)) - 1


def quantise_increment(x_steps: np.ndarray, bits: int, u: np.ndarray) -> np.ndarray:
    """Stochastic rounding of increments (in steps) to LSBs with uniforms ``u`` (reference
    of the neuron's arithmetic; the kernel does the same per decision)."""
    x = np.asarray(x_steps, dtype=np.float64) * lsb_per_step(bits)
    return (np.sign(x) * np.floor(np.abs(x) + np.asarray(u))).astype(np.int64)
