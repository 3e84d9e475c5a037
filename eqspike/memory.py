"""Memory estimates before large allocations, with a clear refusal.

A network too large for the machine used to end in a ``MemoryError``
traceback after asking for tens of GiB (or in the kernel's OOM killer).
:func:`require` compares an estimate with the memory the machine has
*available* now (``MemAvailable`` of ``/proc/meminfo``; ``psutil`` or the
physical memory elsewhere) and refuses, in one line, what does not fit.
"""
from __future__ import annotations

import os
from typing import Sequence

from eqspike.errors import ParameterError

__all__ = ["available_bytes", "fmt_bytes", "require", "network_bytes", "BYTES_PER_WEIGHT"]

#: Bytes per weight at a training run's peak (float32 weights), from peak RSS
#: measured on 784-100000-10 (78.4 M weights, benchmarks/results/output_safety.md):
#: cep 17.4 B, eqspike with ideal synapses 24.3 B, eqspike with device pairs
#: (``eqspike run``, accumulate policy, report included) 118 B; rounded up.
BYTES_PER_WEIGHT = {"ideal": 32, "device": 128}
#: Interpreter, numpy/numba, MNIST in memory (measured ~0.3 GiB), rounded up.
BASE_BYTES = 512 * 2 ** 20


def available_bytes() -> int | None:
    """Memory available to a new allocation now, bytes (None if unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - optional
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def fmt_bytes(n: float) -> str:
    for unit, f in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= f:
            return f"{n / f:.3g} {unit}"
    return f"{n:.0f} B"


def network_bytes(sizes: Sequence[int], *, device: bool = False, batch_size: int = 20) -> int:
    """Estimated peak bytes of training a layered network of widths ``sizes``."""
    sizes = [int(n) for n in sizes]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    states = 16 * batch_size * sum(sizes) * 4   # a few (B, n) float32 state arrays per phase
    return weights * BYTES_PER_WEIGHT["device" if device else "ideal"] + states + BASE_BYTES


def require(n_bytes: float, what: str, hint: str = "") -> None:
    """Raise :class:`ParameterError` when ``n_bytes`` exceeds the available memory."""
    avail = available_bytes()
    if avail is None or n_bytes <= avail:
        return
    raise ParameterError(f"{what} needs about {fmt_bytes(n_bytes)} of memory, more than the "
                         f"{fmt_bytes(avail)} this machine has available; refused before "
                         f"allocating{('; ' + hint) if hint else ''}")
