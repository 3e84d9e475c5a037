"""``eqspike validate``: a tiny 16-8-4 network is trained here and re-simulated in ngspice.

The bar of issue 13 for CI: spike counts within 10 % of the vectorised model
and the same class on every test input; and the supply energy within 10 % of
the ledger, block by block (neurons, reads, total).  The neuron is the characterised
Axon-Hillock (ngspice, cached); the synapses are device pairs whose compact
model is the TaOx RRAM (the pulse tables come from a NeuroSim-form profile
over the TaOx read range, so that no device characterisation runs here: the
validation reads the conductances the network holds, not the tables).
"""
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from eqspike.cli import main

pytestmark = [pytest.mark.spice, pytest.mark.slow]

SIZES = (16, 8, 4)
T1 = 24


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from eqspike.circuits.characterize import default_neuron_profile
    from eqspike.circuits.profile import CrossbarProfile
    from eqspike.devices.models import MODELS, params_dict
    from eqspike.devices.profile import DeviceProfile
    from eqspike.network.config import TrainConfig
    from eqspike.network.hardware import train_on_hardware
    from eqspike.network.synapses import DeviceSynapseConfig
    from eqspike.validation.small_net import tiny_dataset

    run = tmp_path_factory.mktemp("tiny_run")
    dev = DeviceProfile.from_neurosim(0.5, -0.5, 64, g_min_S=0.92e-6, g_max_S=6.4e-6, name="taox_like")
    dev = dataclasses.replace(dev, provenance={**dev.provenance, "model": "taox_rram",
                                               "parameters": params_dict(MODELS["taox_rram"].params())})
    neuron = default_neuron_profile()
    xbar = CrossbarProfile.ideal(read_voltage_V=0.1, read_pulse_width_s=10.1e-9, g_ref_S=5e-6)
    for p, fn in ((dev, "device_profile.json"), (neuron, "neuron_profile.json"), (xbar, "crossbar_profile.json")):
        p.to_json(run / fn)
    cfg = TrainConfig(sizes=SIZES, rule="eqspike", epochs=3, batch_size=20, T1=T1, T2=10, beta=1.0,
                      lrs=(0.1, 0.05), seed=0, eval_batch_size=40)
    res = train_on_hardware(cfg, tiny_dataset(), device=dev, neuron=neuron, crossbar=xbar,
                            syn_config=DeviceSynapseConfig(policy="accumulate", w_max=(0.5, 0.5)),
                            run_dir=run, progress=False)
    assert res.summary["test_acc"] > 0.5   # it learned something: the validation is not of a blank net
    return run


def test_reference_free_phase_is_the_rules_prediction(tiny_run):
    from eqspike.network.model import Network
    from eqspike.network.rules.eqspike_rule import EqSpikeRule
    from eqspike.validation.reference import activation_of, free_phase
    from eqspike.validation.runfolder import load_run
    from eqspike.validation.small_net import tiny_dataset
    net = load_run(tiny_run)
    x = tiny_dataset().x_test
    fp = free_phase(net, x)
    rule = EqSpikeRule(net.cfg, np.random.default_rng(0), activation=activation_of(net))
    pred, stats = rule.predict(Network(net.sizes, net.W, net.b), x)
    assert np.array_equal(fp.pred, pred)
    per_layer = [int(fp.layer(k).sum()) for k in range(len(SIZES))]
    assert per_layer == stats["spikes_free"]
    # the rule's active neuron-steps (end state x T1, what the ledger prices the active floor on)
    # against the time-averaged count of the same phase
    act = [int(fp.active_steps[:, fp.offsets[k]:fp.offsets[k + 1]].sum()) for k in range(1, len(SIZES))]
    print("active neuron-steps: rule", stats["active_free"][1:], "time-averaged", act)
    assert stats["active_free"][0] == 0 and len(stats["active_free"]) == len(SIZES)
    # within 30 % (it misses neurons active early in the phase only; 196-16-10: 8 % low), where
    # pricing every neuron as active (the ledger without the report) is off by more than 1.5x
    for k, (est, avg) in enumerate(zip(stats["active_free"][1:], act), start=1):
        assert est == pytest.approx(avg, rel=0.30)
        assert SIZES[k] * T1 * len(x) > 1.5 * avg
    # the held conductance pairs realise the weights the network computes with
    for k in range(2):
        assert np.allclose((net.g_pos[k] - net.g_neg[k]) / net.g_ref[k], net.W[k], atol=1e-6)


def test_ledger_estimate_assigns_every_ledger_term_to_one_side(tiny_run):
    # like for like (issue 13): each of the ledger's inference terms is either compared with an
    # ngspice supply (neurons, reads) or listed as not in the netlist; none is dropped
    from eqspike.validation.compare import ledger_estimate
    from eqspike.validation.reference import free_phase
    from eqspike.validation.runfolder import load_run
    from eqspike.validation.small_net import tiny_dataset
    net = load_run(tiny_run)
    x = tiny_dataset().x_test[:3]
    fp = free_phase(net, x)
    for b in range(3):
        e = ledger_estimate(net, fp.counts()[b], T1, x=fp.x[b], active_steps=fp.active_steps[b],
                            counts_end=fp.S_end[b])
        assert e["ledger_simulated_blocks_J"] + e["ledger_not_simulated_J"] == pytest.approx(
            e["ledger_total_J"], rel=1e-12)
        assert e["ledger_neurons_J"] == pytest.approx(
            e["ledger_spikes_J"] + e["ledger_active_floor_J"] + e["ledger_leakage_J"], rel=1e-12)
        # the input rows are priced at the G of the pixels that spike: exactly the per-cell sum
        # for an image whose spikes follow its intensities (sigma-delta), within 5 %
        n_in = fp.counts()[b, :SIZES[0]].astype(float)
        exact = net.crossbar.read_voltage_V ** 2 * net.crossbar.read_pulse_width_s * float(
            n_in @ (net.g_pos[0] + net.g_neg[0]).sum(axis=1))
        w0 = ledger_estimate(net, fp.counts()[b] * np.r_[np.ones(SIZES[0]), np.zeros(sum(SIZES[1:]))],
                             T1, x=fp.x[b])["ledger_reads_J"] - ledger_estimate(
            net, np.zeros(sum(SIZES)), T1, x=fp.x[b])["ledger_reads_J"]
        wire = net.crossbar.line_energy_J(2 * SIZES[1]) * n_in.sum()
        assert w0 - wire == pytest.approx(exact, rel=0.05)


def test_netlists_hold_every_cell_and_the_feedback_array(tiny_run):
    from eqspike.validation.netlist import CircuitOptions, build_netlist, input_array_netlist
    from eqspike.validation.reference import free_phase
    from eqspike.validation.runfolder import load_run
    from eqspike.validation.small_net import tiny_dataset
    net = load_run(tiny_run)
    fp = free_phase(net, tiny_dataset().x_test[:1])
    xs = fp.layer(0)[:, 0, :]
    text1, info1 = input_array_netlist(net, xs, CircuitOptions(wires="resistive"))
    assert info1["n_cells"] == 16 * 8 * 2                     # every row, spiking or not
    assert text1.count("\nDf") == text1.count("\nDr") == 16 * 8 * 2
    n_pulses = 0
    for line in text1.splitlines():
        if line.startswith("Vx"):
            toks = line.split("PWL(")[1].rstrip(")").split()
            n_pulses += (len(toks) // 2 - 2) // 4       # "0 0", 4 points per pulse, the end point
    assert n_pulses == int(xs.sum())                    # one read pulse per input spike
    _, info_ideal = input_array_netlist(net, xs, CircuitOptions(wires="ideal", synapse="linear"))
    assert info_ideal["n_cells"] == int((xs.sum(axis=0) > 0).sum()) * 8 * 2   # silent rows carry nothing
    text2, info2 = build_netlist(net, xs, np.zeros((T1, 8)), CircuitOptions())
    assert info2["n_cells"] == 2 * (8 * 4 * 2)                 # forward W[1] and its feedback array
    assert text2.count("\nMr1_") == 8 + 4                       # one spike generator per neuron
    assert text2.count("\nVq2_") == 4 and text2.count("\nVq1_") == 0   # output neurons drive feedback rows


def test_compact_cell_reads_the_held_conductance(tiny_run):
    from eqspike.spice import run_netlist
    from eqspike.validation.netlist import CircuitOptions, _builder
    from eqspike.validation.runfolder import load_run
    net = load_run(tiny_run)
    b = _builder(net, np.zeros((T1, 16), np.uint8), CircuitOptions(), None, "t")
    lines = ["cell read", b.diode_model()]
    Gs = [1e-6, 3e-6, 6e-6]
    for i, G in enumerate(Gs):
        lines.append(f"V{i} r{i} 0 DC 0.1")
        b.lines = []
        b.cell(f"c{i}", f"r{i}", "0", G)
        lines += b.lines
    lines += [".op", ".end"]
    r = run_netlist("\n".join(lines), [f"v{i}#branch" for i in range(3)])
    for i, G in enumerate(Gs):
        assert -r[f"v{i}#branch"][0] == pytest.approx(G * 0.1, rel=2e-4)


def test_validate_tiny_network_agrees_with_the_model(tiny_run, tmp_path, capsys):
    out = tmp_path / "val"
    args = ["validate", str(tiny_run), "--images", "5", "--ablations", "ideal", "--ablation-images", "2",
            "--out", str(out), "--no-progress", "--workers", "2"]
    assert main(args) == 0
    s = pd.read_csv(out / "summary.csv").set_index("config")
    chip = s.loc["chip"]
    assert chip.images == 5 and chip.failed == 0
    assert chip.class_agreement == 1.0                          # the class agrees on every test input
    assert chip.spike_count_median_rel_diff <= 0.10              # spike counts within 10 % of the model
    assert abs(chip.total_spikes_rel_diff) <= 0.10
    im = pd.read_csv(out / "images.csv")
    assert (im.spikes_model > 0).all() and (im.energy_spice_J > 0).all()
    # like for like, block by block (issue 13's energy bar: within 10 %; 196-16-10: 0.971)
    for col in ("energy_ratio_median", "energy_ratio_neurons_median", "energy_ratio_reads_median"):
        assert abs(chip[col] - 1) <= 0.10, (col, chip[col])
    text = (out / "report.md").read_text()
    for word in ("class agreement", "Bars", "Assumptions", "ideal"):
        assert word in text
    for f in ("spike_counts.png", "per_image.png", "energy.png", "neurons.csv"):
        assert (out / f).exists()
    # resumable per image: a rerun simulates nothing and gives the same figures
    before = pd.read_csv(out / "summary.csv").drop(columns=["wall_s_mean"])
    capsys.readouterr()
    assert main(args) == 2                                      # a finished validation is not overwritten
    assert "--resume" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0
    assert "resuming: 7 of 7" in capsys.readouterr().out
    assert pd.read_csv(out / "summary.csv").drop(columns=["wall_s_mean"]).equals(before)
    raw = json.loads((out / "images" / "chip" / "img_00000.json").read_text())
    assert raw["options"]["synapse"] == "compact" and raw["options"]["wires"] == "resistive"


def test_validate_refuses_bad_input_in_one_line(tiny_run, tmp_path, capsys):
    assert main(["validate", str(tiny_run), "--images", "0", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "--images" in err and "0" in err and "Traceback" not in err
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "Traceback" not in err
    assert main(["validate", str(tiny_run), "--configs", "chip,bogus", "--out", str(tmp_path / "b")]) == 2
    assert "bogus" in capsys.readouterr().err
