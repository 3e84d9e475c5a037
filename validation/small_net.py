"""Networks small enough to simulate whole in ngspice, trained with the toolkit itself.

The full 784-500-10 network has 2 x 397,000 cells plus 510 transistor-level
neurons: one ngspice run of it would take days.  ``eqspike validate``
therefore validates a network trained by the same toolkit (same rule,
device, neuron and crossbar profiles, same ``train_on_hardware``) but small
enough to simulate whole (docs/validation.md):

- :func:`downsample`: MNIST at 14 x 14 (2 x 2 mean pooling: 196 inputs);
- :func:`tiny_dataset`: 4 x 4 synthetic images in 4 classes (the CI test);
- :func:`train_run`: trains and writes a run folder that ``eqspike
  validate`` reads (checkpoint, config.json and the three profiles).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from eqspike.errors import ParameterError

__all__ = ["downsample", "tiny_dataset", "train_run"]


def downsample(data, factor: int = 2):
    """The dataset with square images mean-pooled by ``factor`` (28 x 28 -> 14 x 14 for 2)."""
    from eqspike.datasets import Dataset
    n = data.x_train.shape[1]
    side = int(round(np.sqrt(n)))
    if side * side != n or side % factor:
        raise ParameterError(f"parameter 'factor' = {factor!r}: images of {n} pixels are not square "
                             f"with a side divisible by it")
    s = side // factor

    def pool(x):
        return x.reshape(len(x), s, factor, s, factor).mean(axis=(2, 4)).reshape(len(x), s * s).astype(np.float32)

    return Dataset(pool(data.x_train), data.y_train, pool(data.x_test), data.y_test,
                   f"{data.name}-{s}x{s}", data.source_dir)


def tiny_dataset(seed: int = 0, n_in: int = 16, n_classes: int = 4, n_train: int = 400, n_test: int = 40):
    """Synthetic binary-prototype images (``n_in`` pixels, intensities 0.6-1 on, sparse noise off)."""
    from eqspike.datasets import Dataset
    rng = np.random.default_rng(seed)
    protos = (rng.random((n_classes, n_in)) < 0.4).astype(np.float32)

    def make(n):
        y = rng.integers(0, n_classes, n)
        noise = 0.15 * rng.random((n, n_in)) * (rng.random((n, n_in)) < 0.2)
        x = np.clip(protos[y] * rng.uniform(0.6, 1.0, (n, n_in)) + noise, 0, 1)
        return x.astype(np.float32), y.astype(np.int64)

    xa, ya = make(n_train)
    xb, yb = make(n_test)
    return Dataset(xa, ya, xb, yb, "tiny", Path("."))


def train_run(cfg, data, run_dir, *, device="taox_rram", neuron="default", crossbar="default",
              syn_config=None, progress: bool = False):
    """Train ``cfg`` on ``data`` with the named profiles (as ``eqspike run`` resolves them) and
    write the run folder; returns the :class:`~eqspike.network.hardware.HardwareResult`."""
    from eqspike import atomic
    from eqspike.network.hardware import load_crossbar, load_device, load_neuron, train_on_hardware
    run_dir = Path(run_dir)
    dev, _ = load_device(device, progress=lambda m: None)
    neu, _ = load_neuron(neuron, progress=lambda m: None, fallback=False)
    xb, _ = load_crossbar(crossbar, progress=lambda m: None, fallback=False)
    run_dir.mkdir(parents=True, exist_ok=True)
    for prof, fn in ((dev, "device_profile.json"), (neu, "neuron_profile.json"), (xb, "crossbar_profile.json")):
        if prof is not None:
            prof.to_json(run_dir / fn)
    res = train_on_hardware(cfg, data, device=dev, neuron=neu, crossbar=xb, syn_config=syn_config,
                            run_dir=run_dir, progress=progress)
    atomic.write_json(run_dir / "energy_summary.json", res.summary)
    return res
