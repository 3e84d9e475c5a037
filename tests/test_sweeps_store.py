"""Result store, summary and plots of sweeps (inline execution, no Dask)."""
import math

import numpy as np
import pandas as pd
import pytest

from eqspike.errors import DataError
from eqspike.sweeps.plots import pareto_front, plot_results, summarize, swept_params
from eqspike.sweeps.points import toy_accuracy
from eqspike.sweeps.runner import execute_task, run_sweep
from eqspike.sweeps.spec import loads_spec
from eqspike.sweeps.store import ResultStore, read_results

SPEC = """
[sweep]
name = "st"
point = "toy"
repeats = 3
[sweep.vary]
x = [0.0, 0.5, 0.9]
y = [0.0, 1.0]
[base]
noise = 0.02
fail_x_above = 0.8
"""


@pytest.fixture(scope="module")
def inline_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep_inline")
    spec = loads_spec(SPEC)
    rep = run_sweep(spec, out, workers=0, progress=False)
    return spec, out, rep


def test_inline_sweep_rows_and_columns(inline_results):
    spec, out, rep = inline_results
    assert (rep.n_tasks, rep.n_ok, rep.n_failed, rep.n_skipped) == (18, 12, 6, 0)
    df = read_results(out)
    assert len(df) == 18 and df["point_id"].is_unique
    assert set(df["point_id"]) == {t.point_id for t in spec.tasks()}
    for col in ("point_id", "repeat", "seed", "x", "y", "noise", "sleep_s", "epochs", "n_train",
                "n_test", "test_acc", "train_acc", "energy_per_inference_J",
                "energy_per_train_example_J", "wall_s", "status", "error",
                "device_profile_hash", "neuron_profile_hash", "eqspike_version",
                "started", "finished"):
        assert col in df.columns, col
    ok = df[df.status == "ok"]
    # the recorded accuracy is the toy's function of the recorded parameters, within the noise
    assert np.all(np.abs(ok["test_acc"] - toy_accuracy(ok["x"], ok["y"])) < 6 * 0.02)
    failed = df[df.status == "failed"]
    assert set(failed["x"]) == {0.9}
    assert failed["error"].str.contains("asked to fail").all()
    assert failed["test_acc"].isna().all()
    # one file per row, named by its id
    assert sorted(p.stem for p in (out / "rows").glob("*.parquet")) == sorted(df["point_id"])


def test_rerun_skips_everything_and_retry_failed_reruns_failed_only(inline_results, tmp_path):
    spec, out, _ = inline_results
    store = ResultStore(out)
    before = {p.name: p.stat().st_mtime_ns for p in store.rows_dir.glob("*.parquet")}
    rep = run_sweep(spec, out, workers=0, progress=False)
    assert (rep.n_skipped, rep.n_ok, rep.n_failed) == (18, 0, 0)
    rep = run_sweep(spec, out, workers=0, progress=False, retry_failed=True)
    assert (rep.n_skipped, rep.n_ok, rep.n_failed) == (12, 0, 6)
    after = {p.name: p.stat().st_mtime_ns for p in store.rows_dir.glob("*.parquet")}
    changed = {n for n in before if before[n] != after[n]}
    st = store.statuses()
    assert changed == {f"{k}.parquet" for k, v in st.items() if v == "failed"}
    assert len(read_results(out)) == 18


def test_store_ignores_and_cleans_temp_files(tmp_path):
    spec = loads_spec(SPEC)
    store = ResultStore(tmp_path)
    store.prepare(spec.manifest())
    t = spec.tasks()[0]
    store.write_row(execute_task(t))
    (store.rows_dir / f".{t.point_id}.parquet.abc.tmp").write_bytes(b"half a file")
    assert store.ids() == {t.point_id}
    assert len(read_results(tmp_path)) == 1
    store.prepare()
    assert not list(store.rows_dir.glob(".*"))


def test_read_results_of_missing_or_empty_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_results(tmp_path / "nope")
    (tmp_path / "rows").mkdir()
    with pytest.raises(DataError, match="no sweep results"):
        read_results(tmp_path)


def test_summary_means_match_rows(inline_results):
    spec, out, _ = inline_results
    df = read_results(out)
    swept = swept_params(df, ResultStore(out).manifest())
    assert swept == ["x", "y"]
    # without a manifest, the varying parameter columns are found from the data
    assert sorted(swept_params(df)) == ["x", "y"]
    tab = summarize(df, swept)
    assert len(tab) == 6
    for _, r in tab.iterrows():
        g = df[(df.x == r.x) & (df.y == r.y)]
        ok = g[g.status == "ok"]
        assert r.n_ok == len(ok) and r.n_failed == len(g) - len(ok)
        if len(ok):
            assert math.isclose(r.mean_test_acc, ok.test_acc.mean())
            assert math.isclose(r.std_test_acc, ok.test_acc.std(ddof=1))
            assert math.isclose(r.mean_energy_per_inference_J, ok.energy_per_inference_J.mean())
        else:
            assert math.isnan(r.mean_test_acc) and "asked to fail" in r.first_error


def test_pareto_front_against_brute_force():
    rng = np.random.default_rng(0)
    e, a = rng.uniform(1, 10, 40), rng.uniform(0.5, 1, 40)
    e[3], a[3] = np.nan, 0.99
    front = pareto_front(e, a)
    for i in range(40):
        if not np.isfinite(e[i]):
            assert not front[i]
            continue
        dominated = any(e[j] <= e[i] and a[j] >= a[i] and (e[j] < e[i] or a[j] > a[i])
                        for j in range(40) if j != i and np.isfinite(e[j]))
        assert front[i] == (not dominated)
    assert front.any()


def test_plots_written(inline_results, tmp_path):
    spec, out, _ = inline_results
    df = read_results(out)
    paths = plot_results(df, tmp_path, ResultStore(out).manifest())
    names = {p.name for p in paths}
    assert {"acc_vs_x.png", "acc_vs_y.png", "heatmap_x_y.png",
            "pareto_energy_per_inference_J.png", "pareto_energy_per_train_example_J.png",
            "pareto_energy_per_inference_J.csv"} <= names
    for p in paths:
        assert p.stat().st_size > 1000 or p.suffix == ".csv"
        if p.suffix == ".png":
            assert p.read_bytes()[:4] == b"\x89PNG"
    front = pd.read_csv(tmp_path / "pareto_energy_per_inference_J.csv")
    assert len(front) >= 1 and front["mean_energy_per_inference_J"].is_monotonic_increasing


def test_cli_summary_and_plot(inline_results, tmp_path, capsys):
    from eqspike.cli import main
    _, out, _ = inline_results
    assert main(["sweep", "summary", str(out), "--csv", str(tmp_path / "s.csv")]) == 0
    text = capsys.readouterr().out
    assert "6 configurations, 12 rows ok, 6 failed" in text
    assert len(pd.read_csv(tmp_path / "s.csv")) == 6
    assert main(["sweep", "plot", str(out), "--out", str(tmp_path / "plots")]) == 0
    assert (tmp_path / "plots" / "heatmap_x_y.png").exists()
    assert main(["sweep", "summary", str(tmp_path / "missing")]) == 2


def test_second_sweep_into_the_same_folder_is_refused(tmp_path):
    from eqspike.errors import ParameterError
    spec = loads_spec(SPEC)
    with ResultStore(tmp_path).lock():
        with pytest.raises(ParameterError, match="another sweep .* is writing"):
            run_sweep(spec, tmp_path, workers=0, progress=False)
    assert not (tmp_path / "rows").exists() or not list((tmp_path / "rows").iterdir())
    rep = run_sweep(spec, tmp_path, workers=0, progress=False, limit=2)   # lock released
    assert rep.n_ok + rep.n_failed == 2


def test_zip_axis_gives_one_heatmap_axis(tmp_path):
    spec = loads_spec("""
[sweep]
name = "zipped"
point = "toy"
[sweep.vary]
x = [0.0, 0.5]
[sweep.zip]
y = [0.0, 1.0]
noise = [0.0, 0.01]
""")
    run_sweep(spec, tmp_path, workers=0, progress=False)
    names = {p.name for p in plot_results(read_results(tmp_path), tmp_path / "plots",
                                          ResultStore(tmp_path).manifest())}
    assert {"acc_vs_x.png", "acc_vs_y.png", "acc_vs_noise.png", "heatmap_x_y.png"} <= names


def test_text_valued_axis_is_summarised_and_plotted(tmp_path):
    """Used to fail: a swept text parameter (e.g. policy) has pandas' string dtype,
    which numpy's issubdtype cannot interpret; the plot command crashed."""
    spec = loads_spec("""
[sweep]
name = "text_axis"
point = "toy"
[sweep.vary]
variant = ["a", "b"]
x = [0.0, 0.5]
""")
    run_sweep(spec, tmp_path, workers=0, progress=False)
    df = read_results(tmp_path)
    names = {p.name for p in plot_results(df, tmp_path / "plots", ResultStore(tmp_path).manifest())}
    assert {"acc_vs_variant.png", "acc_vs_x.png", "heatmap_variant_x.png"} <= names
    assert len(summarize(df, ["variant", "x"], ResultStore(tmp_path).manifest())) == 4


def test_cli_points_lists_parameters_with_units(capsys):
    from eqspike.cli import main
    assert main(["sweep", "points", "eqspike_device"]) == 0
    out = capsys.readouterr().out
    assert "g_min_S" in out and "(0, 1) S" in out and "write_energy_J" in out
    assert main(["sweep", "points", "nope"]) == 2
