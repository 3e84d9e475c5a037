"""Netlists for device characterisation: pulse trains, I-V sweeps, many instances.

Pure text builders (no ngspice here).  Every builder returns the netlist and
a description of the waveform (write windows, read sample times) so the
analysis can integrate and sample on ngspice's own time points.

Node and vector names used by the analyses:

- two-terminal device: source ``vdrv`` drives node ``in``; a 0 V source
  ``vs<k>`` from ``in`` to ``a<k>`` senses the current of instance ``x<k>``
  (vector ``vs<k>#branch``, positive into the device's ``p`` pin);
- FeFET: gate source ``vg`` (node ``g``), drain source ``vd`` (node ``dd``)
  with sense sources ``vsg<k>`` / ``vsd<k>`` into gate ``g<k>`` / drain ``d<k>``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from eqspike.errors import ParameterError

from .models.base import IVDrive, PulseDrive, fmt

__all__ = ["PulseSchedule", "pulse_schedule", "pulse_netlist", "iv_netlist", "pwl"]


@dataclass(frozen=True)
class PulseSchedule:
    """Times (s) of a pulse train: one initial read, then one write + read per pulse."""
    amplitudes_V: np.ndarray         # write amplitude of pulse k (k = 1..N), length N
    write_start_s: np.ndarray        # start of pulse k's write window
    write_end_s: np.ndarray          # end of pulse k's write window (edges included)
    read_s: np.ndarray               # sample time of read k (k = 0..N), length N + 1
    read_window_s: np.ndarray        # (N + 1, 2) flat part of each read
    stop_s: float
    gate_points: list = field(default_factory=list)   # (t, V) of the write/gate source
    drain_points: list = field(default_factory=list)  # (t, V) of the read/drain source


def pulse_schedule(drive: PulseDrive, n_up: int, n_down: int, *, fefet: bool = False,
                   amplitudes_V: Sequence[float] | None = None) -> PulseSchedule:
    """Waveform of ``n_up`` potentiating then ``n_down`` depressing pulses.

    For a two-terminal device writes and reads share one source
    (``gate_points``); for the FeFET the gate gets the writes and
    ``read_gate_V`` during reads, the drain gets ``read_V`` during reads.
    ``amplitudes_V`` overrides the per-pulse amplitudes (length n_up + n_down).
    """
    for nm, v in (("n_up", n_up), ("n_down", n_down)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ParameterError(f"parameter '{nm}' = {v!r} must be an integer >= 0")
    if n_up + n_down < 1:
        raise ParameterError("the pulse train needs at least one pulse (n_up + n_down >= 1)")
    d = drive
    amps = (np.asarray(amplitudes_V, dtype=float) if amplitudes_V is not None else
            np.r_[np.full(n_up, d.pulse_up_V), np.full(n_down, d.pulse_down_V)])
    if amps.size != n_up + n_down:
        raise ParameterError(f"amplitudes_V has {amps.size} values; need n_up + n_down = {n_up + n_down}")
    g: list[tuple[float, float]] = [(0.0, 0.0)]
    dr: list[tuple[float, float]] = [(0.0, 0.0)]
    t = 0.0
    ws, we, rs, rw = [], [], [], []
    read_g = d.read_gate_V if fefet else d.read_V

    def read_phase(t: float) -> float:
        # ramp to read, hold, ramp down, rest
        g.append((t + d.rise_s, read_g)); dr.append((t + d.rise_s, d.read_V))
        r0 = t + d.rise_s
        r1 = r0 + d.read_s
        g.append((r1, read_g)); dr.append((r1, d.read_V))
        g.append((r1 + d.rise_s, 0.0)); dr.append((r1 + d.rise_s, 0.0))
        rs.append(0.5 * (r0 + r1)); rw.append((r0, r1))
        t = r1 + d.rise_s + d.gap_s
        g.append((t, 0.0)); dr.append((t, 0.0))
        return t

    t = d.gap_s
    g.append((t, 0.0)); dr.append((t, 0.0))
    t = read_phase(t)
    for a in amps:
        ws.append(t)
        g.append((t + d.rise_s, a))
        g.append((t + d.rise_s + d.pulse_width_s, a))
        t = t + 2 * d.rise_s + d.pulse_width_s
        g.append((t, 0.0))
        we.append(t)
        t += d.gap_s
        g.append((t, 0.0)); dr.append((t, 0.0))
        t = read_phase(t)
    if not fefet:
        # one source: drain points unused; merge keeps the read in gate_points
        dr = []
    return PulseSchedule(amps, np.asarray(ws), np.asarray(we), np.asarray(rs), np.asarray(rw), t,
                         gate_points=g, drain_points=dr)


def pwl(points: Sequence[tuple[float, float]]) -> str:
    """PWL(...) text, continuation lines of ~8 pairs; duplicate times removed."""
    out, last_t = [], -1.0
    for t, v in points:
        if t <= last_t:
            t = last_t + 1e-15
        out.append(f"{fmt(t)} {fmt(v)}")
        last_t = t
    chunks = [" ".join(out[i:i + 8]) for i in range(0, len(out), 8)]
    return "PWL(" + "\n+ ".join(chunks) + ")"


def _options(spec_options: str, extra: str = "") -> str:
    return "\n".join(l for l in (spec_options, extra) if l)


def pulse_netlist(model: Any, kind: str, sched: PulseSchedule, *, title: str,
                  instances: Sequence[Any] | None = None, options: str = "",
                  max_step_s: float | None = None, seed: int | None = None) -> str:
    """Netlist of the pulse train applied to one or many device instances.

    ``instances``: parameter objects (default: ``[model]``); each instance
    gets its own subcircuit definition (``dev<k>``) so any parameter may vary.
    """
    insts = list(instances) if instances is not None else [model]
    lines = [f"* {title}"]
    for k, p in enumerate(insts):
        lines.append(p.subckt(f"dev{k}").rstrip())
    if kind == "fefet":
        lines.append(f"vg g 0 {pwl(sched.gate_points)}")
        lines.append(f"vd dd 0 {pwl(sched.drain_points)}")
        for k in range(len(insts)):
            lines += [f"vsg{k} g g{k} 0", f"vsd{k} dd d{k} 0", f"x{k} g{k} d{k} 0 dev{k}"]
    else:
        lines.append(f"vdrv in 0 {pwl(sched.gate_points)}")
        for k in range(len(insts)):
            lines += [f"vs{k} in a{k} 0", f"x{k} a{k} 0 dev{k}"]
    ics = {}
    for k, p in enumerate(insts):
        ics.update(p.ic(f"x{k}"))
    lines += _ic_lines(ics)
    # keep only what the analyses read: ngspice otherwise stores every node
    # and branch of every instance at every time point
    if kind == "fefet":
        save = ["v(g)", "v(dd)"] + [f"i(vsg{k})" for k in range(len(insts))] + \
               [f"i(vsd{k})" for k in range(len(insts))]
    else:
        save = ["v(in)"] + [f"i(vs{k})" for k in range(len(insts))]
    lines += [".save " + " ".join(save[i:i + 16]) for i in range(0, len(save), 16)]
    if seed is not None:
        lines.append(f".options seed={int(seed)}")
    if options:
        lines.append(options)
    tmax = max_step_s if max_step_s is not None else sched.stop_s / 2000
    lines.append(f".tran {fmt(tmax / 10)} {fmt(sched.stop_s)} 0 {fmt(tmax)}")
    lines.append(".end")
    return "\n".join(lines) + "\n"


def _ic_lines(ics: dict[str, float]) -> list[str]:
    items = [f"v({n})={fmt(v)}" for n, v in ics.items()]
    return [".ic " + " ".join(items[i:i + 6]) for i in range(0, len(items), 6)]


def iv_points(iv: IVDrive) -> list[tuple[float, float]]:
    """Triangular loop points (t, V)."""
    a, b, T = iv.amplitude_V, iv.negative_amplitude_V or iv.amplitude_V, iv.period_s
    pts = [(0.0, 0.0)]
    for c in range(iv.cycles):
        t0 = c * T
        pts += [(t0 + T / 4, a), (t0 + T / 2, 0.0), (t0 + 3 * T / 4, -b), (t0 + T, 0.0)]
    return pts


def iv_netlist(model: Any, kind: str, iv: IVDrive, *, title: str, options: str = "",
               read_drain_V: float = 0.1) -> str:
    """Quasi-static triangular sweep; FeFET: gate swept, drain at ``read_drain_V``."""
    stop = iv.period_s * iv.cycles
    tmax = iv.period_s / iv.points
    lines = [f"* {title}", model.subckt("dev0").rstrip()]
    if kind == "fefet":
        lines += [f"vg g 0 {pwl(iv_points(iv))}", f"vd dd 0 dc {fmt(read_drain_V)}",
                  "vsg0 g g0 0", "vsd0 dd d0 0", "x0 g0 d0 0 dev0"]
    else:
        lines += [f"vdrv in 0 {pwl(iv_points(iv))}", "vs0 in a0 0", "x0 a0 0 dev0"]
    lines += _ic_lines(model.ic("x0"))
    if options:
        lines.append(options)
    lines.append(f".tran {fmt(tmax / 10)} {fmt(stop)} 0 {fmt(tmax)}")
    lines.append(".end")
    return "\n".join(lines) + "\n"
