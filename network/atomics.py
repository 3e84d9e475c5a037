"""Atomic operations and spin-wait helpers for compiled kernels that share work between
threads without a lock: the chip kernel's workers (``network/chip_threads.py``) and the
event kernel's dynamic image and pixel queues (``network/event_train.py``).

- :func:`atomic_add`, :func:`atomic_load`: LLVM atomics on an int64 array with
  acquire / release ordering (every plain store before an ``atomic_add`` is visible to
  a thread whose ``atomic_load`` or ``atomic_add`` reads its result);
- :func:`cpu_relax` (x86 ``pause``), :func:`os_yield` (``usleep``), :func:`wait_at_least`:
  spin, then yield the CPU, until a counter reaches a value;
- :func:`cycles`: the CPU's cycle counter (work sharing only, never results).

numba's cache keys a compiled function on its own source file: kernels inline these,
so after changing this file touch the kernels' files (or clear ``__pycache__``).
"""
from __future__ import annotations

import os
import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
_POSIX = os.name == "posix"
#: spin iterations (each a ``pause``) before a waiting worker starts yielding its CPU
SPIN_BEFORE_YIELD = 4096
#: microseconds a waiting worker sleeps at each check once it has spun that long
YIELD_US = 20


@intrinsic
def atomic_add(typingctx, arr, idx, val):
    """``arr[idx] += val`` atomically (acquire-release); returns the old value (int64)."""
    sig = types.int64(arr, idx, val)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        return builder.atomic_rmw("add", ptr, args[2], "acq_rel")
    return sig, codegen


@intrinsic
def atomic_load(typingctx, arr, idx):
    """``arr[idx]`` read atomically (acquire)."""
    sig = types.int64(arr, idx)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        return builder.load_atomic(ptr, "acquire", 8)
    return sig, codegen


def _emit_pause(builder) -> None:
    """Emit the x86 ``pause`` instruction (an LLVM intrinsic: numba's JIT takes no
    inline assembly)."""
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                        "llvm.x86.sse2.pause")
    builder.call(fn, [])


@intrinsic
def cpu_relax(typingctx):
    """The x86 ``pause`` hint in a spin loop (nothing elsewhere)."""
    sig = types.void()

    def codegen(context, builder, sig, args):
        if _X86:
            _emit_pause(builder)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def os_yield(typingctx):
    """``usleep(YIELD_US)`` (POSIX; a ``pause`` elsewhere): give the CPU to another
    thread for a moment (``sched_yield`` was measured not to: two processes of two
    spinning workers each on 2 CPUs ran 10x slower than one worker)."""
    sig = types.void()

    def codegen(context, builder, sig, args):
        if _POSIX:
            fn = cgutils.get_or_insert_function(builder.module,
                                                ir.FunctionType(ir.IntType(32),
                                                                [ir.IntType(32)]),
                                                "usleep")
            builder.call(fn, [ir.Constant(ir.IntType(32), YIELD_US)])
        elif _X86:
            _emit_pause(builder)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def cycles(typingctx):
    """The CPU's cycle counter (``llvm.readcyclecounter``: the TSC on x86, the virtual
    counter on ARM; 0 where the target has none).  Only used to share the work."""
    sig = types.int64()

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module,
                                            ir.FunctionType(ir.IntType(64), []),
                                            "llvm.readcyclecounter")
        return builder.call(fn, [])
    return sig, codegen


@njit(nogil=True, inline="always")
def wait_at_least(arr, idx, target):
    """Wait until ``arr[idx] >= target`` (read with :func:`atomic_load`): spin
    ``SPIN_BEFORE_YIELD`` pauses, then yield the CPU at every check (so a thread waiting
    on a busy machine gives its CPU to the one it waits for)."""
    spins = 0
    while atomic_load(arr, idx) < target:
        if spins < SPIN_BEFORE_YIELD:
            cpu_relax()
            spins += 1
        else:
            os_yield()
