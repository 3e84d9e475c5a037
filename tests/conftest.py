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
