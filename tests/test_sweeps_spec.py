"""Sweep spec parsing and validation (no Dask)."""
import subprocess
import sys
from pathlib import Path

import pytest

from eqspike.errors import ParameterError
from eqspike.sweeps.spec import load_spec, loads_spec

EXAMPLES = Path(__file__).resolve().parents[1] / "sweeps" / "examples"

GRID = """
[sweep]
point = "toy"
repeats = 3
seed = 5
[sweep.budget]
epochs = 2
n_train = 50
[sweep.vary]
x = [0.1, 0.2, 0.3]
y = [0, 1]
[base]
noise = 0.0
"""


def test_grid_is_cartesian_product_with_repeats():
    s = loads_spec(GRID)
    pts = s.points()
    assert len(pts) == 6
    assert {(p["x"], p["y"]) for p in pts} == {(x, y) for x in (0.1, 0.2, 0.3) for y in (0.0, 1.0)}
    assert all(p["noise"] == 0.0 and p["sleep_s"] == 0.0 for p in pts)  # base + defaults
    assert isinstance(pts[0]["y"], float)                               # int coerced to float
    tasks = s.tasks()
    assert len(tasks) == 18
    assert sorted({t.seed for t in tasks}) == [5, 6, 7]
    assert len({t.point_id for t in tasks}) == 18
    assert len({t.config_id for t in tasks}) == 6
    assert s.budget.epochs == 2 and s.budget.n_train == 50 and s.budget.n_test == 1000
    assert s.swept == ("x", "y")


def test_ids_are_deterministic_and_depend_on_config_and_seed():
    a, b = loads_spec(GRID).tasks(), loads_spec(GRID).tasks()
    assert [t.point_id for t in a] == [t.point_id for t in b]
    # the same point with another budget or base value has another id
    other = loads_spec(GRID.replace("epochs = 2", "epochs = 3")).tasks()
    assert not {t.point_id for t in a} & {t.point_id for t in other}
    other = loads_spec(GRID.replace("noise = 0.0", "noise = 0.02")).tasks()
    assert not {t.point_id for t in a} & {t.point_id for t in other}
    # writing 0 or 0.0 gives the same resolved config, so the same id
    same = loads_spec(GRID.replace("y = [0, 1]", "y = [0.0, 1.0]")).tasks()
    assert [t.point_id for t in a] == [t.point_id for t in same]


def test_lists_mode_zips():
    s = loads_spec(GRID.replace('point = "toy"', 'point = "toy"\nmode = "lists"')
                   .replace("y = [0, 1]", "y = [0, 0.5, 1]"))
    assert [(p["x"], p["y"]) for p in s.points()] == [(0.1, 0.0), (0.2, 0.5), (0.3, 1.0)]


RANDOM = """
[sweep]
point = "toy"
mode = "random"
n_samples = 7
sample_seed = 3
seeds = [1, 4]
[sweep.random]
x = { dist = "uniform", low = 0.1, high = 0.4 }
y = { dist = "loguniform", low = 0.001, high = 1.0 }
noise = { dist = "choice", values = [0.0, 0.05] }
"""


def test_random_mode_is_seeded_and_in_range():
    s = loads_spec(RANDOM)
    pts = s.points()
    assert len(pts) == 7 and len(s.tasks()) == 14
    assert pts == loads_spec(RANDOM).points()
    assert pts != loads_spec(RANDOM.replace("sample_seed = 3", "sample_seed = 4")).points()
    assert all(0.1 <= p["x"] <= 0.4 and 0.001 <= p["y"] <= 1.0 for p in pts)
    assert {p["noise"] for p in pts} <= {0.0, 0.05}
    assert sorted({t.seed for t in s.tasks()}) == [1, 4]


@pytest.mark.parametrize("text, field", [
    (GRID.replace("x = [0.1, 0.2, 0.3]", 'x = "abc"'), "sweep.vary.x: expected a list of numbers, got 'abc'"),
    (GRID.replace("x = [0.1, 0.2, 0.3]", "x = []"), "sweep.vary.x: expected a non-empty list of numbers, got []"),
    (GRID.replace("x = [0.1, 0.2, 0.3]", 'x = [0.1, "abc"]'), "sweep.vary.x: expected a list of numbers, got 'abc'"),
    (GRID.replace("x = [0.1, 0.2, 0.3]", "x = [0.1, 2.0]"), "parameter 'x' = 2.0 is outside"),
    (GRID.replace("x = [0.1, 0.2, 0.3]", "wobble = [1, 2]"), "sweep.vary.wobble: unknown parameter"),
    (GRID.replace("repeats = 3", "repeats = 0"), "sweep.repeats"),
    (GRID.replace("repeats = 3", 'repeats = "three"'), "sweep.repeats"),
    (GRID.replace("repeats = 3", "repeets = 3"), "sweep.repeets: unknown key"),
    (GRID.replace("epochs = 2", "epochs = 0"), "sweep.budget.epochs"),
    (GRID.replace("epochs = 2", "epochs = 1.5"), "sweep.budget.epochs"),
    (GRID.replace("n_train = 50", "n_trian = 50"), "sweep.budget.n_trian: unknown key"),
    (GRID.replace('point = "toy"', 'point = "nope"'), "sweep.point: 'nope' is not a known point function"),
    (GRID.replace('point = "toy"', ""), "sweep.point: missing"),
    (GRID.replace('point = "toy"', 'point = "toy"\nmode = "spiral"'), "sweep.mode"),
    (GRID.replace('point = "toy"', 'point = "toy"\nmode = "lists"'), "equal lengths"),
    (GRID.replace("noise = 0.0", 'noise = "big"'), "base.noise: expected a number, got 'big'"),
    (GRID.replace("noise = 0.0", "noise = -1.0"), "base: parameter 'noise' = -1.0"),
    (GRID.replace("[base]", "[base.training]"), None),  # sub-tables only group keys: fine
    (RANDOM.replace('dist = "uniform"', 'dist = "gauss"'), "sweep.random.x.dist"),
    (RANDOM.replace("low = 0.001", "low = 0.0"), "sweep.random.y.low: loguniform needs low > 0"),
    (RANDOM.replace("low = 0.1, high = 0.4", "low = 0.4, high = 0.1"), "sweep.random.x: expected low < high"),
    (RANDOM.replace("n_samples = 7\n", ""), "sweep.n_samples: missing"),
    (RANDOM.replace("seeds = [1, 4]", "seeds = [1, 1]"), "sweep.seeds"),
    ("[sweep\npoint = 1", "not valid TOML"),
])
def test_malformed_spec_names_the_field(text, field):
    if field is None:
        assert loads_spec(text).points()
        return
    with pytest.raises(ParameterError) as e:
        loads_spec(text)
    assert field in str(e.value)


def test_example_specs_load(tmp_path):
    names = sorted(p.name for p in EXAMPLES.glob("*.toml"))
    assert "tiny_toy.toml" in names
    for p in EXAMPLES.glob("*.toml"):
        s = load_spec(p)
        assert s.tasks(), p


def test_cli_refuses_malformed_spec_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(GRID.replace("x = [0.1, 0.2, 0.3]", 'x = "abc"'))
    r = subprocess.run([sys.executable, "-m", "eqspike", "sweep", "run", str(bad),
                        "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "sweep.vary.x: expected a list of numbers, got 'abc'" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_device_point_spec_list_valued_params_and_grouped_base():
    s = loads_spec("""
[sweep]
point = "eqspike_device"
[sweep.vary]
hidden = [[16], [32, 16]]
[base.device]
n_levels = 32
[base.network]
lrs = [0.2, 0.1, 0.05]
""")
    pts = s.points()
    assert [p["hidden"] for p in pts] == [(16,), (32, 16)]
    assert all(p["n_levels"] == 32 and p["lrs"] == (0.2, 0.1, 0.05) for p in pts)
    with pytest.raises(ParameterError, match="base.network.n_levels: parameter 'n_levels' given twice"):
        loads_spec("""
[sweep]
point = "eqspike_device"
[sweep.vary]
d2d_sigma = [0.0]
[base.device]
n_levels = 32
[base.network]
n_levels = 64
""")
    with pytest.raises(ParameterError, match="sweep.vary.hidden"):
        loads_spec('[sweep]\npoint = "eqspike_device"\n[sweep.vary]\nhidden = [[16], "wide"]\n')


def test_randint_is_inclusive():
    s = loads_spec("""
[sweep]
point = "eqspike_device"
mode = "random"
n_samples = 60
[sweep.random]
T1 = { dist = "randint", low = 3, high = 5 }
""")
    assert {p["T1"] for p in s.points()} == {3, 4, 5}


def test_zip_axis_inside_a_grid():
    s = loads_spec("""
[sweep]
point = "toy"
[sweep.vary]
x = [0.1, 0.2]
[sweep.zip]
y = [0.0, 0.5, 1.0]
noise = [0.0, 0.01, 0.02]
""")
    pts = [(p["x"], p["y"], p["noise"]) for p in s.points()]
    assert sorted(pts) == sorted((x, y, n) for x in (0.1, 0.2) for y, n in ((0, 0), (0.5, 0.01), (1, 0.02)))
    assert s.axes == (("x",), ("y", "noise")) and s.swept == ("x", "y", "noise")
    with pytest.raises(ParameterError, match="sweep.zip: the zipped lists must have equal lengths"):
        loads_spec('[sweep]\npoint = "toy"\n[sweep.zip]\ny = [0.0, 0.5]\nnoise = [0.0]\n')
    with pytest.raises(ParameterError, match="sweep.zip.x: also in"):
        loads_spec('[sweep]\npoint = "toy"\n[sweep.vary]\nx = [0.1]\n[sweep.zip]\nx = [0.1]\n')


def test_spec_examples_in_the_docs_load():
    import re
    text = (Path(__file__).resolve().parents[1] / "docs" / "sweeps.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    for b in blocks:
        assert loads_spec(b).tasks()
