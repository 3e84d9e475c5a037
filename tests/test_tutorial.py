"""docs/tutorial.md: every ```python block runs, in order, in one namespace (issue 15).

Runs in a temporary folder (the tutorial writes fit.png, my_device.json, a
sweep folder there); needs MNIST (skipped with the reason otherwise) and
ngspice (the characterisation is cached after the first run).
"""
import re
import time
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"

pytestmark = [pytest.mark.slow, pytest.mark.spice]


def blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_tutorial_has_the_five_steps():
    text = TUTORIAL.read_text()
    code = blocks(text)
    assert len(code) >= 5
    for needle in ("characterize(", "fit_cycles(", "train_on_hardware(", "breakdown()", "run_sweep("):
        assert any(needle in c for c in code), needle


def test_tutorial_code_blocks_run(tmp_path, monkeypatch, mnist_dir, capsys):
    monkeypatch.setenv("EQSPIKE_DATA_DIR", str(mnist_dir.parent if mnist_dir.name == "mnist" else mnist_dir))
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "tutorial"}
    t0 = time.perf_counter()
    for i, code in enumerate(blocks(TUTORIAL.read_text()), start=1):
        try:
            exec(compile(code, f"docs/tutorial.md block {i}", "exec"), ns)
        except Exception as e:  # name the block that rotted
            raise AssertionError(f"docs/tutorial.md block {i} failed: {type(e).__name__}: {e}") from e
    assert (tmp_path / "fit.png").exists() and (tmp_path / "my_device.json").exists()
    print(f"tutorial ran in {time.perf_counter() - t0:.1f} s")
