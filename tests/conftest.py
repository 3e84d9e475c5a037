"""Shared test fixtures.

``mnist_dir`` finds the MNIST copy through ``$EQSPIKE_DATA_DIR`` (the Makefile
points it at ``../shared/data`` when that exists); tests that need real
MNIST skip with a clear reason otherwise.
"""
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    root = os.environ.get("EQSPIKE_DATA_DIR")
    candidates = []
    if root:
        candidates += [Path(root) / "mnist", Path(root)]
    here = Path(__file__).resolve().parents[1]
    candidates.append(here.parent / "shared" / "data" / "mnist")
    for c in candidates:
        if (c / "train-images-idx3-ubyte.gz").exists():
            return c
    pytest.skip("MNIST not found: set EQSPIKE_DATA_DIR to a folder holding mnist/")


@pytest.fixture
def profile_json(tmp_path):
    """A 64-level NeuroSim-law DeviceProfile (NL 1 / -1, 1 pJ per pulse) as a JSON path."""
    from eqspike.devices.profile import DeviceProfile
    p = DeviceProfile.from_neurosim(1.0, -1.0, 64, write_energy_J=1e-12, name="nl1_64")
    return str(p.to_json(tmp_path / "dev.json"))
