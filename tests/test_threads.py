"""Thread configuration (eqspike/threads.py): explicit, at run start, not at import."""
import os
import subprocess
import sys

import pytest

from eqspike.errors import ParameterError
from eqspike.threads import ThreadConfig, describe


def _py(code: str, **env) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "EQSPIKE_THREADS")}
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=e)


def test_importing_the_kernels_sets_no_environment():
    """Used to fail: network/event.py set OMP_WAIT_POLICY at import."""
    r = _py("import os, eqspike.network.event, eqspike.network.event_batch, "
            "eqspike.network.event_train, eqspike.network.rules.eqspike_rule;"
            "print(os.environ.get('OMP_WAIT_POLICY', 'unset'))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "unset"


def test_configure_applies_and_announces_the_settings():
    r = _py("from eqspike import threads; d = threads.configure(threads.ThreadConfig("
            "threads=1, layer='workqueue', wait_policy='PASSIVE'));"
            "import numba, os; print(d['threads'], d['layer'], numba.get_num_threads(),"
            " os.environ['OMP_WAIT_POLICY'])")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("eqspike: threads: 1 numba threads (layer workqueue")
    assert lines[-1] == "1 workqueue 1 PASSIVE"


def test_second_configure_changes_only_the_thread_count():
    r = _py("from eqspike import threads as t; t.configure(t.ThreadConfig(threads=1,"
            " layer='workqueue'), announce=False); d = t.configure(t.ThreadConfig(threads=1,"
            " layer='omp'), announce=False); print(d['layer'], d.get('note', ''))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("workqueue threads already started")


@pytest.mark.parametrize("kw, words", [
    ({"threads": -1}, "'threads' = -1"),
    ({"layer": "gpu"}, "'layer' = 'gpu'"),
    ({"wait_policy": "spin"}, "'wait_policy' = 'spin'"),
])
def test_bad_settings_are_one_line_errors(kw, words):
    with pytest.raises(ParameterError, match=words):
        ThreadConfig(**kw)


def test_bad_environment_is_named():
    with pytest.raises(ParameterError, match="EQSPIKE_THREADS"):
        os.environ["EQSPIKE_THREADS"] = "two"
        try:
            ThreadConfig.from_env()
        finally:
            del os.environ["EQSPIKE_THREADS"]


@pytest.mark.parametrize("value", ["spin", "keep"])
def test_bad_wait_policy_in_the_environment_is_named(value, monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", value)
    with pytest.raises(ParameterError, match=f"'OMP_WAIT_POLICY' \\(environment\\) = '{value}'"):
        ThreadConfig.from_env()
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    assert ThreadConfig.from_env().wait_policy == "ACTIVE"


def test_more_threads_than_the_pool_is_refused():
    r = _py("from eqspike import threads as t\ntry:\n t.configure(t.ThreadConfig(threads=3,"
            " layer='workqueue'), announce=False)\nexcept Exception as e: print(type(e).__name__, e)",
            NUMBA_NUM_THREADS="2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ParameterError") and "'threads' = 3" in r.stdout


def test_describe_is_one_line():
    d = {"threads": 2, "layer": "omp", "omp_wait_policy": "PASSIVE", "usable_cpus": 2}
    assert describe(d) == "threads: 2 numba threads (layer omp, OMP_WAIT_POLICY=PASSIVE), 2 CPUs usable"


def test_scoped_env_sets_for_the_block_and_restores(monkeypatch):
    from eqspike.threads import scoped_env
    monkeypatch.delenv("EQSPIKE_TEST_A", raising=False)
    monkeypatch.setenv("EQSPIKE_TEST_B", "user")
    with scoped_env({"EQSPIKE_TEST_A": "1", "EQSPIKE_TEST_B": "1"}):
        assert os.environ["EQSPIKE_TEST_A"] == "1"
        assert os.environ["EQSPIKE_TEST_B"] == "user"   # the user's setting is kept
    assert "EQSPIKE_TEST_A" not in os.environ and os.environ["EQSPIKE_TEST_B"] == "user"
    with pytest.raises(RuntimeError):
        with scoped_env({"EQSPIKE_TEST_A": "2"}, override=True):
            raise RuntimeError("inside")
    assert "EQSPIKE_TEST_A" not in os.environ       # restored on error too


def _worker_env(_):
    return {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}


def test_single_thread_worker_sets_only_the_worker_env(monkeypatch):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from eqspike.threads import single_thread_worker
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"),
                             initializer=single_thread_worker) as pool:
        env = pool.submit(_worker_env, 0).result()
    assert env == {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    assert "OMP_NUM_THREADS" not in os.environ and "NUMBA_NUM_THREADS" not in os.environ
