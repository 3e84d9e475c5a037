"""Agreement of ngspice with the vectorised model on the same input spikes.

Per image and circuit configuration:

- **class**: the readout of the run (``membrane``: argmax of the output
  membranes at the end of the phase; ``spike_count``: output spikes over
  the readout window) in ngspice and in the model;
- **spike counts** per neuron of layers 1..L; the relative difference of a
  neuron is ``|n_spice - n_model| / max(n_model, 1)`` over the neurons that
  spike in either (a neuron silent in both agrees exactly and is left out of
  the median, which would otherwise be flattered by the silent ones);
- **first-spike times** (steps) for neurons that spike in both;
- **time correspondence**: the model registers a threshold crossing at the
  next step boundary (its spike of step t reflects the drive integrated up
  to t), so a circuit spike at a time in ((t-1), t] steps is the model's
  spike of step t (:func:`aligned_steps`); spikes registering at step T or
  later are outside the phase.  Without this the circuit would be credited
  with up to one extra step of integration (the unaligned total is kept as
  ``spikes_spice_unaligned``);
- **energy**: ngspice's supply energy against the energy ledger's estimate for that image
  (:class:`eqspike.network.energy.EnergyLedger` fed with the model's spikes of that image in
  ngspice's window, the image's pixels and each neuron's steps with a positive membrane), block
  by block (:func:`ledger_estimate`): the spike generators' ``vdd`` against spikes + active floor
  + leakage of layers 1..L, the read drivers against synaptic events + row wire; the ledger's
  terms for blocks the netlist does not hold are listed apart.  A rate-aware variant prices each
  neuron's spikes at the profile's energy per spike at that neuron's rate
  (``energy_per_spike_at``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ledger_estimate", "image_rows", "summarize", "rel_diff", "aligned_steps"]


def rel_diff(n_spice: np.ndarray, n_model: np.ndarray) -> np.ndarray:
    """``|s - m| / max(m, 1)`` for neurons active in either (others dropped)."""
    s, m = np.asarray(n_spice, float), np.asarray(n_model, float)
    act = (s > 0) | (m > 0)
    return np.abs(s - m)[act] / np.maximum(m[act], 1.0)


def aligned_steps(times_steps, T: int) -> np.ndarray:
    """Model steps of circuit spikes at ``times_steps`` (time / step): the model registers a
    threshold crossing at the next step boundary, so a circuit spike in ((t-1), t] steps is the
    model's spike of step t; spikes that would register at step T or later fall outside the
    phase."""
    st = np.ceil(np.asarray(times_steps, dtype=np.float64) - 1e-9).astype(np.int64)
    return st[st <= T - 1]


def ledger_estimate(net, counts: np.ndarray, T: int, *, x: np.ndarray | None = None,
                    active_steps: np.ndarray | None = None, counts_end: np.ndarray | None = None) -> dict:
    """Ledger energies (J) of one image, split into the blocks the netlist holds and the rest.

    ``counts`` (N,): the model's spikes per neuron over the phase; ``counts_end`` (N,): the
    spikes registering at step T (a circuit simulated for T steps fires them in its last step,
    so they are in ngspice's energy window); ``x`` (n_0,): the image (the input rows' read
    conductance is weighted by the pixels' intensities, as the network's ledger does with the
    test set's mean); ``active_steps`` (N,): steps each neuron had a positive membrane (the
    active floor; the network's rule reports the end-state estimate ``active_free``).

    Like for like with ngspice (docs/validation.md, "Energy"):

    - ``ledger_neurons_J`` (ngspice: the spike generators' ``vdd``): ``spikes`` and ``neuron
      active floor`` of layers 1..L, leakage of their neurons;
    - ``ledger_reads_J`` (ngspice: the read drivers): ``synaptic events`` (Joule), ``row wire``
      (the netlist's rows carry the same wire capacitance);
    - not in the netlist, listed apart (``ledger_not_simulated_J``): the input encoders (layer 0
      spikes, active floor, leakage; the netlist drives the rows from ideal sources), the bias
      generators (the netlist's bias branch is ideal and its ``vddb`` is not measured), the
      line holds (ideal virtual grounds) and the read-out conveyance (columns held at 0 V).
    """
    from eqspike.network.energy import EnergyLedger
    sizes = net.sizes
    off = np.concatenate([[0], np.cumsum(sizes)])
    c = np.asarray(counts, np.float64).copy()
    if counts_end is not None:
        c[off[1]:] += np.asarray(counts_end, np.float64)[off[1]:]
    per_layer = [float(c[off[k]:off[k + 1]].sum()) for k in range(len(sizes))]
    led = EnergyLedger(tuple(sizes), net.neuron, net.crossbar, net.device,
                       theta=float(net.rule_options().theta))
    stats = {"spikes_free": per_layer, "steps_free": T}
    if active_steps is not None:
        a = np.asarray(active_steps, np.float64)
        stats["active_free"] = [float(a[off[k]:off[k + 1]].sum()) for k in range(len(sizes))]
    led.record(stats, 1, training=False)
    if x is not None:
        led.record_input_activity(np.asarray(x)[None, :])
    led.g_samples = [[(float(gp.mean()), float(gm.mean())) for gp, gm in zip(net.g_pos, net.g_neg)]]
    led.sample_read_conductances([gp + gm for gp, gm in zip(net.g_pos, net.g_neg)])
    bd = led.breakdown()
    bd = bd[bd.phase == "inference"]

    def part(comps, layers=None) -> float:
        d = bd[bd.component.isin(comps)]
        if layers is not None:
            d = d[d.layer.isin(layers)]
        return float(d.energy_J.sum())
    hidden = [f"layer {k}" for k in range(1, len(sizes))]
    n_sim = sum(sizes[1:])
    leak_all = part(["leakage"])
    leak_sim = leak_all * n_sim / sum(sizes)
    spk = part(["spikes"], hidden)
    floor = part(["neuron active floor"], hidden)
    reads = part(["synaptic events"])
    wire = part(["row wire"])
    neurons = spk + floor + leak_sim
    not_sim = {"ledger_input_encoders_J": part(["spikes", "neuron active floor"], ["layer 0"])
               + leak_all - leak_sim,
               "ledger_bias_generators_J": part(["bias generators"]),
               "ledger_line_holds_J": part(["read-out hold"]),
               "ledger_conveyance_J": part(["read-out conveyance"])}
    # rate-aware: each simulated neuron's spikes priced at its own rate (the table), no floor
    t_phase = T * led.step_time_s
    rate = c[off[1]:] / t_phase
    e_rate = np.where(rate > 0, net.neuron.energy_per_spike_at(np.maximum(rate, 1e-9)), 0.0)
    spk_rate = float(np.sum(c[off[1]:] * e_rate))
    return {"ledger_total_J": float(bd["energy_J"].sum()),
            "ledger_simulated_blocks_J": neurons + reads + wire,
            "ledger_neurons_J": neurons, "ledger_spikes_J": spk, "ledger_active_floor_J": floor,
            "ledger_leakage_J": leak_sim, "ledger_reads_J": reads + wire, "ledger_row_wire_J": wire,
            **not_sim, "ledger_not_simulated_J": float(sum(not_sim.values())),
            "ledger_rate_aware_J": spk_rate + leak_sim + reads + wire}


def image_rows(net, model, sim: dict[int, dict], config: str, T: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-image DataFrame, per-neuron DataFrame) of one configuration.

    ``model``: the :class:`~.reference.FreePhase` of the images, in the order of ``sim``'s
    indices as given by ``model_index`` (dict index -> row of the batch), stored as
    ``model.index_of``.
    """
    from eqspike.network import spiking
    sizes = net.sizes
    L = len(sizes) - 1
    p = net.rule_options()
    counts_m = model.counts()
    first_m = model.first_spike_step()
    off = model.offsets
    rows, neurons = [], []
    for idx, r in sorted(sim.items()):
        b = model.index_of[idx]
        base = {"config": config, "image": idx, "label": int(model.labels[b]),
                "model_class": int(model.pred[b])}
        if "error" in r:
            rows.append({**base, "error": r["error"]})
            continue
        steps = [aligned_steps(r["spike_steps"][str(k)][j], T) for k in range(1, L + 1) for j in range(sizes[k])]
        cs = np.array([len(st) for st in steps])
        cs_raw = np.concatenate([np.asarray(r["counts"][str(k)]) for k in range(1, L + 1)])
        cm = counts_m[b, off[1]:]
        fs = np.array([st[0] if len(st) else -1 for st in steps], dtype=float)
        fm = first_m[b, off[1]:]
        u_out = np.asarray(r["u_end"][str(L)], np.float32)
        window = min(int(p.readout_window), T)
        out_steps = steps[len(steps) - sizes[L]:]
        out_counts = np.array([[int(np.sum(st >= T - window)) for st in out_steps]])
        spice_class = int(spiking.readout(u_out[None, :], out_counts, p.readout)[0])
        rd = rel_diff(cs, cm)
        both = (fs >= 0) & (fm >= 0)
        led = ledger_estimate(net, counts_m[b], T, x=None if model.x is None else model.x[b],
                              active_steps=None if model.active_steps is None else model.active_steps[b],
                              counts_end=None if model.S_end is None else model.S_end[b])
        rows.append({**base, "spice_class": spice_class, "class_agrees": spice_class == int(model.pred[b]),
                     "spikes_model": int(cm.sum()), "spikes_spice": int(cs.sum()),
                     "spikes_spice_unaligned": int(cs_raw.sum()),
                     "median_rel_diff": float(np.median(rd)) if rd.size else 0.0,
                     "first_spike_mean_abs_diff_steps": float(np.mean(np.abs(fs[both] - fm[both])))
                     if both.any() else np.nan,
                     "energy_spice_J": r["energy_total_J"], "energy_spice_neurons_J": r["energy_neurons_J"],
                     "energy_spice_reads_J": r["energy_read_input_rows_J"] + r["energy_read_neuron_rows_J"],
                     **led, "energy_ratio": r["energy_total_J"] / led["ledger_simulated_blocks_J"],
                     "energy_ratio_neurons": r["energy_neurons_J"] / led["ledger_neurons_J"],
                     "energy_ratio_reads": (r["energy_read_input_rows_J"] + r["energy_read_neuron_rows_J"])
                     / led["ledger_reads_J"],
                     "energy_ratio_rate_aware": r["energy_total_J"] / led["ledger_rate_aware_J"],
                     "wall_s": r.get("wall_s", np.nan), "n_time_points": r.get("n_time_points", 0)})
        for k in range(1, L + 1):
            for j in range(sizes[k]):
                g = off[k] - off[1] + j
                neurons.append({"config": config, "image": idx, "layer": k, "neuron": j,
                                "count_model": int(cm[g]), "count_spice": int(cs[g]),
                                "first_model": int(fm[g]), "first_spice": float(fs[g])})
    return pd.DataFrame(rows), pd.DataFrame(neurons)


def _median_rd(ne: pd.DataFrame) -> float:
    rd = rel_diff(ne.count_spice.values, ne.count_model.values)
    return float(np.median(rd)) if rd.size else float("nan")


def _total_rd(ne: pd.DataFrame) -> float:
    return float((ne.count_spice.sum() - ne.count_model.sum()) / max(ne.count_model.sum(), 1))


def summarize(images: pd.DataFrame, neurons: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: the bars' figures."""
    out = []
    for cfg, im in images.groupby("config", sort=False):
        ok = im[im.get("error").isna()] if "error" in im else im
        ne = neurons[neurons.config == cfg]
        rd = rel_diff(ne.count_spice.values, ne.count_model.values)
        both = (ne.first_spice >= 0) & (ne.first_model >= 0)
        out.append({"config": cfg, "images": len(ok), "failed": len(im) - len(ok),
                    "class_agreement": float(ok.class_agrees.mean()) if len(ok) else np.nan,
                    "spike_count_median_rel_diff": float(np.median(rd)) if rd.size else np.nan,
                    "spike_count_p90_rel_diff": float(np.percentile(rd, 90)) if rd.size else np.nan,
                    "spike_count_within_5pct": float(np.mean(rd <= 0.05)) if rd.size else np.nan,
                    **{f"layer{k}_median_rel_diff": _median_rd(ne[ne.layer == k]) for k in sorted(set(ne.layer))},
                    **{f"layer{k}_total_spikes_rel_diff": _total_rd(ne[ne.layer == k]) for k in sorted(set(ne.layer))},
                    "total_spikes_rel_diff": float((ok.spikes_spice.sum() - ok.spikes_model.sum())
                                                   / max(ok.spikes_model.sum(), 1)),
                    "first_spike_median_abs_diff_steps": float(np.median(np.abs(
                        ne.first_spice[both] - ne.first_model[both]))) if both.any() else np.nan,
                    "energy_ratio_median": float(ok.energy_ratio.median()),
                    "energy_ratio_neurons_median": float(ok.energy_ratio_neurons.median()),
                    "energy_ratio_reads_median": float(ok.energy_ratio_reads.median()),
                    "energy_ratio_rate_aware_median": float(ok.energy_ratio_rate_aware.median()),
                    "energy_spice_mean_J": float(ok.energy_spice_J.mean()),
                    "energy_ledger_simulated_mean_J": float(ok.ledger_simulated_blocks_J.mean()),
                    "energy_ledger_total_mean_J": float(ok.ledger_total_J.mean()),
                    "wall_s_mean": float(ok.wall_s.mean())})
    return pd.DataFrame(out)
