"""Chip-mode screens on an MNIST subset (issue 11): one line per configuration.

Not a test: run by hand, record the output.  Each argument is
``DEVICE:POLICY[:key=value...]`` with DEVICE ``taox_rram``, ``fefet``, ``idealN``
(ideal linear device, N levels) or a profile JSON, POLICY ``pulses`` / ``residual``
/ ``residual_float``, and keys ``ps`` (prob_scale), ``bits`` (residual bits),
``re`` (refresh_every, calls), ``rm`` (refresh_margin), ``c2c`` (c2c sigma
replaced, fraction of the range), ``wmax`` (``W1,W2``).  784-500-10, 1 epoch,
the settings of ``bench_chip.py accuracy``.

Example (the FeFET screen of benchmarks/results/chip_mode.md)::

    .venv/bin/python benchmarks/chip_screen.py 5000 1000 fefet:pulses ideal32:pulses fefet:residual
"""
from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import bench_chip as bc  # noqa: E402


def main(argv) -> int:
    from eqspike.network.hardware import train_on_hardware
    from eqspike.network.policies.chip import ChipSynapseConfig
    from eqspike.network.synapses import DeviceSynapseConfig
    data = bc._load()
    neuron, xbar = bc._circuits()
    n, nt = int(argv[0]), int(argv[1])
    print(f"# {n} training images, {nt} test images, 1 epoch, seed 0; load {bc.load_avg()}", flush=True)
    for spec in argv[2:]:
        devn, pol, *rest = spec.split(":")
        kw = dict(x.split("=") for x in rest)
        dev = bc._device(devn)
        if "c2c" in kw:
            dev = dataclasses.replace(dev, c2c_sigma=float(kw["c2c"]))
        wmax = tuple(float(v) for v in kw.get("wmax", "0.07,0.14").split(","))
        t = time.process_time()
        res = train_on_hardware(
            bc._cfg(n, nt, 1), data, device=dev, neuron=neuron, crossbar=xbar, mode="chip",
            syn_config=DeviceSynapseConfig(w_max=wmax, policy="accumulate",
                                           refresh_every=int(kw.get("re", 50)),
                                           refresh_margin=float(kw.get("rm", 0.05))),
            chip_config=ChipSynapseConfig(policy=pol, prob_scale=float(kw.get("ps", 1.0)),
                                          residual_bits=int(kw.get("bits", 8))),
            progress=False)
        m = res.train.metrics.iloc[-1]
        cnt = res.ledger.chip_counters
        syn = res.synapses
        print(f"{spec}: test {100 * m.test_acc:.2f} %, train {100 * m.train_acc:.2f} %, "
              f"pulses/example {res.summary['pulses_per_training_example']:.0f} (training: G+ "
              f"{float(np.sum(cnt.get('pulses_p', 0))) / n:.0f}, G- "
              f"{float(np.sum(cnt.get('pulses_m', 0))) / n:.0f}), mean |W0| "
              f"{float(np.abs(res.train.net.W[0]).mean()):.4f}, mean u+/u- of W0 "
              f"{float(syn.u_p[0].mean()):.3f}/{float(syn.u_m[0].mean()):.3f}, energy/example "
              f"{res.summary['energy_per_training_example_J']:.3g} J, CPU {time.process_time() - t:.0f} s",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
