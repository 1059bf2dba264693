import json

import pandas as pd
import pytest

from cchlib import provenance, sweep

CALLS = []


def toy_cell(condition, seeds, settings):
    CALLS.append((condition["a"], tuple(seeds)))
    if condition["a"] == "boom":
        raise RuntimeError("this cell always fails")
    return {s: [{"a": condition["a"], "seed": s, "value": condition["a"] * 10 + s + settings["shift"]}] for s in seeds}


def setup_function():
    CALLS.clear()


def test_sweep_rows_and_order(tmp_path):
    rows = sweep.run_sweep(toy_cell, [{"a": 2}, {"a": 1}], [5, 3], {"shift": 0}, cache=tmp_path, progress=False)
    assert list(zip(rows.a, rows.seed)) == [(2, 5), (2, 3), (1, 5), (1, 3)]
    assert list(rows.value) == [25, 23, 15, 13]
    assert CALLS == [(2, (5, 3)), (1, (5, 3))]  # one batched call per condition


def test_cached_cells_are_not_recomputed_and_missing_seeds_are(tmp_path):
    sweep.run_sweep(toy_cell, [{"a": 1}], [0, 1], {"shift": 0}, cache=tmp_path, progress=False)
    CALLS.clear()
    rows = sweep.run_sweep(toy_cell, [{"a": 1}], [0, 1, 2], {"shift": 0}, cache=tmp_path, progress=False)
    assert CALLS == [(1, (2,))]
    assert list(rows.value) == [10, 11, 12]


def test_changed_settings_do_not_reuse_the_cache(tmp_path):
    sweep.run_sweep(toy_cell, [{"a": 1}], [0], {"shift": 0}, cache=tmp_path, progress=False)
    rows = sweep.run_sweep(toy_cell, [{"a": 1}], [0], {"shift": 100}, cache=tmp_path, progress=False)
    assert list(rows.value) == [110]
    assert len(CALLS) == 2


def test_failed_cells_are_reported_and_others_kept(tmp_path):
    with pytest.raises(sweep.SweepError, match="'a': 'boom'.*this cell always fails"):
        sweep.run_sweep(toy_cell, [{"a": 1}, {"a": "boom"}], [0], {"shift": 0}, cache=tmp_path, progress=False)
    CALLS.clear()
    rows = sweep.run_sweep(toy_cell, [{"a": 1}], [0], {"shift": 0}, cache=tmp_path, progress=False)
    assert CALLS == [] and list(rows.value) == [10]


def test_cache_files_are_complete_json(tmp_path):
    sweep.run_sweep(toy_cell, [{"a": 1}], [0, 1], {"shift": 0}, cache=tmp_path, progress=False)
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 2
    records = [json.loads(f.read_text()) for f in files]
    assert all(r["key"] == f.stem and isinstance(r["rows"], list) for r, f in zip(records, files))
    assert not list(tmp_path.rglob("*.tmp"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown executor"):
        sweep.run_sweep(toy_cell, [{"a": 1}], [0], {"shift": 0}, executor="nope")
    with pytest.raises(ValueError, match="at least one condition"):
        sweep.run_sweep(toy_cell, [], [0], {"shift": 0})
    assert isinstance(sweep.run_sweep(toy_cell, [{"a": 1}], [0], {"shift": 0}, progress=False), pd.DataFrame)


def _one_cell_file(tmp_path):
    sweep.run_sweep(toy_cell, [{"a": 1}, {"a": 2}], [0], {"shift": 0}, cache=tmp_path, progress=False)
    key = sweep.cell_key(toy_cell, {"a": 1}, 0, {"shift": 0})
    return sweep._cache_path(tmp_path, key)


def _edit_value(path):
    record = json.loads(path.read_text())
    record["rows"][0]["value"] = 999
    return json.dumps(record)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: "[]",
        lambda p: "{}",
        lambda p: "",
        lambda p: p.read_text()[:25],
        lambda p: b"\x89PNG\x00\xff\xfe garbage",
        _edit_value,
        lambda p: json.dumps({**json.loads(p.read_text()), "rows": []}),
        lambda p: json.dumps({**json.loads(p.read_text()), "key": "0" * 32}),
    ],
    ids=["list", "dict", "empty", "truncated", "binary", "edited", "no-rows", "other-key"],
)
def test_a_bad_cell_is_reported_moved_aside_and_recomputed(tmp_path, damage):
    path = _one_cell_file(tmp_path)
    bad = damage(path)
    path.write_bytes(bad if isinstance(bad, bytes) else bad.encode())
    CALLS.clear()
    with pytest.warns(UserWarning, match=rf"{path}.*unusable.*recomputing"):
        rows = sweep.run_sweep(toy_cell, [{"a": 1}, {"a": 2}], [0], {"shift": 0}, cache=tmp_path, progress=False)
    assert CALLS == [(1, (0,))]
    assert list(rows.value) == [10, 20] and len(rows) == 2
    assert len(list(path.parent.glob(f"{path.name}.bad-*"))) == 1
    assert sweep.read_cell(path, path.stem, {"shift": 0})[0]["value"] == 10


def test_cell_from_other_settings_is_not_used(tmp_path):
    path = _one_cell_file(tmp_path)
    with pytest.raises(sweep.BadCell, match="other settings"):
        sweep.read_cell(path, path.stem, {"shift": 1})


def test_cell_function_returning_no_rows_is_a_failed_task(tmp_path):
    def empty_cell(condition, seeds, settings):
        return {s: [] for s in seeds}

    with pytest.raises(sweep.SweepError, match="bad rows for seed 0"):
        sweep.run_sweep(empty_cell, [{"a": 1}], [0], {}, cache=tmp_path, progress=False)
    assert not list(tmp_path.rglob("*.json"))


def _run_in_thread(fn, cache, results):
    import threading

    def target():
        results["rows"] = sweep.run_sweep(fn, [{"a": 1}], [0, 1], {"shift": 0}, cache=cache, progress=False)

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _sweep_beside_a_run_holding_seed_0(tmp_path):
    """Another run holds seed 0's cell lock; this run's sweep starts in a thread."""
    key = sweep.cell_key(toy_cell, {"a": 1}, 0, {"shift": 0})
    other = sweep.CellLocks(tmp_path)
    assert other.acquire(key, wait=False)
    results = {}
    return key, other, results, _run_in_thread(toy_cell, tmp_path, results)


def test_a_cell_locked_by_another_run_is_waited_for_not_recomputed(tmp_path):
    """The 'other run' holds seed 0's lock, stores the cell, then releases it."""
    key, other, results, thread = _sweep_beside_a_run_holding_seed_0(tmp_path)
    thread.join(timeout=0.5)  # it computes seed 1, then waits for seed 0's lock
    assert thread.is_alive()
    sweep._store(tmp_path, key, {"shift": 0}, [{"a": 1, "seed": 0, "value": 42}])
    other.release(key)
    thread.join()
    assert CALLS == [(1, (1,))]
    assert list(results["rows"].value) == [42, 11]


def test_a_cell_left_undone_by_a_dead_run_is_computed(tmp_path):
    key, other, results, thread = _sweep_beside_a_run_holding_seed_0(tmp_path)
    other.release(key)  # the other run dies without storing the cell
    thread.join()
    assert sorted(CALLS) == [(1, (0,)), (1, (1,))] or CALLS == [(1, (0, 1))]
    assert list(results["rows"].value) == [10, 11]


def test_a_seed_gives_the_same_result_alone_or_in_a_batch_up_to_the_stated_tolerance():
    import numpy as np

    from cchlib.experiments.synthetic import run_cell

    settings = dict(sigma13=0.9, sigma23=0.4, n_train=400, n_test=200, p=20, hidden=16, lams=[0.3],
                    epochs=3, lr=0.01, batch_size=100, mi_method="ksg", mi_options={})
    alone = pd.DataFrame(run_cell({"sigma12": 0.35}, [1], settings)[1])
    batch = pd.DataFrame(run_cell({"sigma12": 0.35}, [0, 1, 2], settings)[1])
    for column in ["mse_kd", "mse_nokd", "teacher_mse"]:
        np.testing.assert_allclose(alone[column], batch[column], **sweep.BATCH_TOLERANCE)
    np.testing.assert_allclose(alone[["mi_ts", "mi_sl", "mi_tl"]], batch[["mi_ts", "mi_sl", "mi_tl"]], atol=0.01)


def test_cache_key_sees_only_the_code_the_cell_runs(tmp_path, monkeypatch):
    """An edit to a module a cell function does not import leaves its key alone; an edit to
    one it imports (directly or through another module) changes it."""
    import shutil

    copy = tmp_path / "cchlib"
    shutil.copytree(provenance.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", copy)
    closure = provenance.module_closure("cchlib.experiments.synthetic")
    assert {"cchlib.kd", "cchlib.mi.lmi", "cchlib.mi.inputs", "cchlib.data.synthetic"} <= set(closure)
    assert "cchlib.select" not in closure and "cchlib.theory" not in closure

    def version():
        provenance.code_version.cache_clear()
        return provenance.code_version("cchlib.experiments.synthetic")

    before = version()
    (copy / "select.py").write_text((copy / "select.py").read_text() + "\n# an unrelated edit\n")
    assert version() == before
    (copy / "mi" / "inputs.py").write_text((copy / "mi" / "inputs.py").read_text() + "\n# reached through kd -> mi\n")
    assert version() != before
    provenance.code_version.cache_clear()
