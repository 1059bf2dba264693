import json

import pandas as pd
import pytest

from cchlib import sweep

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
    assert all(isinstance(json.loads(f.read_text()), list) for f in files)
    assert not list(tmp_path.rglob("*.tmp"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown executor"):
        sweep.run_sweep(toy_cell, [{"a": 1}], [0], {"shift": 0}, executor="nope")
    with pytest.raises(ValueError, match="at least one condition"):
        sweep.run_sweep(toy_cell, [], [0], {"shift": 0})
    assert isinstance(sweep.run_sweep(toy_cell, [{"a": 1}], [0], {"shift": 0}, progress=False), pd.DataFrame)
