"""One image of the free phase in ngspice: spike times, membranes, supply energies.

Runs the two netlists of :mod:`.netlist` (stage 1: the input array;
stage 2: neurons and upper arrays, see :func:`simulate_image`) through
:func:`eqspike.spice.run_netlist` (this process's one ngspice engine) and
reduces the saved waveforms:

- spikes: rising crossings of ``vdd / 2`` on each spike generator's output,
  in ``[0, T step)``; the step of a spike is ``floor(t / step)``;
- membranes ``u`` (V) at the end of the phase (the readout);
- energies (J): the neurons' supply ``vdd`` (``-V I`` integrated on the
  simulator's time points: spike generation and leakage of every spike
  generator), and the read drivers: ``V_read`` times the charge each row
  driver sources (a CMOS driver returns nothing to its supply at the falling
  edge, as in ``circuits/crossbar.py``), split into input rows and neuron
  rows.  Behavioural stages (membrane, transconductor, one-shot logic, the
  column's virtual ground) are not in these figures (docs/validation.md).
"""
from __future__ import annotations

import time

import numpy as np

from eqspike.circuits.measure import crossings, cumulative_energy
from eqspike.spice import run_netlist

from .netlist import CircuitOptions, build_netlist, input_array_netlist

__all__ = ["simulate_image", "reduce_waveforms"]


def reduce_waveforms(vecs: dict, info: dict, sizes: tuple, T: int) -> dict:
    """Measurements of one run from its saved vectors (see module doc)."""
    t = np.asarray(vecs["time"], dtype=np.float64)
    sc = info["scale"]
    vdd = info["vdd_V"]
    t_end = T * sc.step_s
    counts, first, u_end, spike_times = {}, {}, {}, {}
    for k in range(1, len(sizes)):
        c = np.zeros(sizes[k], np.int64)
        f = np.full(sizes[k], -1.0)
        u = np.zeros(sizes[k])
        times = []
        for j in range(sizes[k]):
            tc = crossings(t, vecs[f"{info['output_node']}_{k}_{j}"], vdd / 2)
            tc = tc[tc < t_end]
            c[j] = len(tc)
            f[j] = tc[0] / sc.step_s if len(tc) else -1.0
            u[j] = float(np.interp(t_end, t, vecs[f"m{k}_{j}"]))
            times.append((tc / sc.step_s).tolist())
        counts[k], first[k], u_end[k], spike_times[k] = c, f, u, times
    p_vdd = -vdd * np.asarray(vecs["vdd#branch"])
    e_neuron = float(cumulative_energy(t, p_vdd)[-1])
    e_in, e_hid = 0.0, 0.0
    for name in info["driver_rows"]:
        i = np.asarray(vecs[f"{name}#branch"])
        sourced = np.maximum(-i, 0.0) if name.startswith("vx") else np.maximum(i, 0.0)
        e = sc.v_read_V * float(cumulative_energy(t, sourced)[-1])
        if name.startswith("vx"):
            e_in += e
        else:
            e_hid += e
    return {"counts": {str(k): v.tolist() for k, v in counts.items()},
            "first_spike_step": {str(k): v.tolist() for k, v in first.items()},
            "u_end": {str(k): v.tolist() for k, v in u_end.items()},
            "spike_steps": {str(k): v for k, v in spike_times.items()},
            "energy_neurons_J": e_neuron, "energy_read_input_rows_J": e_in,
            "energy_read_neuron_rows_J": e_hid, "energy_total_J": e_neuron + e_in + e_hid,
            "n_time_points": int(len(t))}


def input_charges(vecs: dict, info: dict, neurons) -> tuple[np.ndarray, float]:
    """Stage 1: net charge (C) of the layer-1 column pairs of ``neurons`` per step,
    (T, len(neurons)), and the input drivers' supply energy into those columns (J)."""
    t = np.asarray(vecs["time"], dtype=np.float64)
    sc, T = info["scale"], info["T"]
    edges = np.arange(T + 1) * sc.step_s
    q = np.zeros((T, len(neurons)))
    for c, j in enumerate(neurons):
        for sign, s in (("p", 1.0), ("m", -1.0)):
            cq = cumulative_energy(t, np.asarray(vecs[f"vhc1_{j}{sign}#branch"]))  # integral of current
            q[:, c] += s * np.diff(np.interp(edges, t, cq))
    e = 0.0
    for name in info["driver_rows"]:
        e += sc.v_read_V * float(cumulative_energy(t, np.maximum(-np.asarray(vecs[f"{name}#branch"]), 0.0))[-1])
    return q, e


def simulate_image(net, x_spikes: np.ndarray, opts: CircuitOptions | None = None, *,
                   T: int | None = None, timeout_s: float = 600.0, title: str = "eqspike validate",
                   group: int = 1) -> dict:
    """Both stages for one image (``x_spikes`` (T, n_0): the model's input spikes).

    Stage 1 simulates the input array under the input pulses and measures the
    net charge each layer-1 column pair delivers per step; stage 2 simulates
    the neurons and the upper arrays with that charge injected as it was
    measured.  The split is exact for the held (virtual-ground) column ends:
    nothing the neurons do reaches back into the input array, whose rows are
    driven by the clamped input alone.  Stage 1 runs ``group`` layer-1 neurons'
    columns per netlist (rows are ideal sources, so columns are independent and a
    whole-array netlist only adds matrix fill-in: 71 s of CPU for 196-32-10 with
    resistive wires in one netlist).  Limit ``timeout_s`` for the whole image.
    """
    T = int(net.cfg.T1 if T is None else T)
    t0 = time.perf_counter()
    n1 = net.sizes[1]
    q_in, e_in, tp1, cells1, att1 = np.zeros((T, n1)), 0.0, 0, 0, 0
    for g in range(0, n1, group):
        js = list(range(g, min(g + group, n1)))
        text1, info1 = input_array_netlist(net, x_spikes, opts, T=T, neurons=js,
                                           title=f"{title} (input array, columns of neurons {js[0]}-{js[-1]})")
        left = max(timeout_s - (time.perf_counter() - t0), 1.0)
        r1 = run_netlist(text1, info1["vectors"], timeout_s=left)
        q, e = input_charges(r1.vectors, info1, js)
        q_in[:, js] = q
        e_in += e
        tp1 += len(r1.vectors["time"])
        cells1 += info1["n_cells"]
        att1 += r1.attempts - 1
    text, info = build_netlist(net, x_spikes, q_in, opts, T=T, title=title)
    left = max(timeout_s - (time.perf_counter() - t0), 1.0)
    res = run_netlist(text, info["vectors"], timeout_s=left)
    out = reduce_waveforms(res.vectors, info, net.sizes, T)
    out["energy_read_input_rows_J"] = e_in
    out["energy_total_J"] += e_in
    out.update({"wall_s": time.perf_counter() - t0, "attempts": res.attempts + att1,
                "n_cells": info["n_cells"] + cells1, "netlist_lines": text.count("\n"),
                "n_time_points_input_array": int(tp1),
                "input_charge_C": q_in.tolist()})
    return out
