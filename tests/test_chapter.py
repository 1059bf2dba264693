"""The chapter context and typed sweep settings."""

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from cchlib import stats
from cchlib.chapter import Chapter
from cchlib.settings import CellSettings


@dataclass(frozen=True)
class ToySettings(CellSettings):
    n: int
    rate: float
    name: str
    grid: list
    options: dict
    limit: int | None = None


GOOD = dict(n=3, rate=1, name="a", grid=[1, 2], options={})


def toy_cell(condition, seeds, settings):
    s = ToySettings.from_dict(settings)
    return {seed: [{"x": condition["x"], "seed": seed, "value": condition["x"] * s.n + seed}] for seed in seeds}


def test_settings_accept_good_values_and_round_trip_as_a_plain_dict():
    settings = ToySettings(**GOOD)
    assert settings.as_dict() == {**GOOD, "limit": None}
    assert ToySettings.from_dict(settings.as_dict()) == settings
    assert ToySettings(**GOOD, limit=5).limit == 5


@pytest.mark.parametrize("change, message", [
    ({"n": "3"}, "setting 'n' must be int, got str '3'"),
    ({"n": True}, "setting 'n' must be int"),
    ({"rate": "fast"}, "setting 'rate' must be float"),
    ({"grid": 3}, "setting 'grid' must be list"),
    ({"limit": 2.5}, "setting 'limit' must be one of"),
])
def test_a_mistyped_setting_is_a_value_error_naming_it(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ToySettings(**{**GOOD, **change})


def test_an_unknown_or_missing_setting_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"test_chapter.ToySettings has no setting 'rtae' \(did you mean 'rate'\?\)"):
        ToySettings.from_dict({**GOOD, "rtae": 2})
    with pytest.raises(ValueError, match="needs the setting.* n"):
        ToySettings.from_dict({k: v for k, v in GOOD.items() if k != "n"})


def test_chapter_runs_sweeps_and_writes_its_tables_provenance_and_scorecard(tmp_path):
    chapter = Chapter("toy", "smoke", tmp_path / "results", cache_root=tmp_path / "cache")
    rows = chapter.sweep(toy_cell, [{"x": 1}, {"x": 2}], [0, 1], ToySettings(**GOOD))
    assert list(rows.value) == [3, 4, 6, 7]
    assert list((tmp_path / "cache").rglob("*.json"))  # cached where the chapter was told
    assert chapter.table(rows, "rows") == tmp_path / "results" / "smoke" / "toy" / "rows.csv"
    pd.testing.assert_frame_equal(pd.read_csv(chapter.results_dir / "rows.csv"), rows)
    record = chapter.provenance([0, 1], "cpu", extra="yes")
    assert record["extra"] == "yes" and (chapter.results_dir / "provenance.json").exists()
    with pytest.raises(TypeError, match="CellSettings"):
        chapter.sweep(toy_cell, [{"x": 1}], [0], GOOD)


def test_a_chapter_without_a_cache_root_uses_its_own_folder(tmp_path, isolated_cache):
    Chapter("toy", "smoke", tmp_path).sweep(toy_cell, [{"x": 1}], [0], ToySettings(**GOOD))
    assert list((isolated_cache / "sweeps" / "toy").rglob("*.json"))


def test_an_optional_sweep_shows_the_stored_conditions_and_lists_the_rest_as_missing(tmp_path, monkeypatch):
    """In a store-only run, required=False returns the complete conditions and names the others."""
    import json

    from cchlib import report
    from cchlib.resultstore import MissingCells, ResultStore

    settings = ToySettings(**GOOD)
    store_dir = tmp_path / "store"
    computing = Chapter("toy", "paper", tmp_path / "results", tmp_path / "cache")
    monkeypatch.setenv("CCH_RESULT_STORE", str(store_dir))
    computing.sweep(toy_cell, [{"x": 1}], [0, 1], settings)  # condition x=1 stored for both seeds
    computing.sweep(toy_cell, [{"x": 2}], [0], settings)  # x=2 for one seed only
    assert len(ResultStore(store_dir).records()) == 3

    monkeypatch.setenv("CCH_STORE_ONLY", "1")
    chapter = Chapter("toy", "paper", tmp_path / "results", tmp_path / "cache2")
    rows = chapter.sweep(toy_cell, [{"x": 1}, {"x": 2}, {"x": 3}], [0, 1], settings, required=False)
    assert sorted(rows.x.unique()) == [1] and len(rows) == 2
    assert [(m["condition"], m["cells held"], m["cells"]) for m in chapter.missing] == [({"x": 2}, 1, 2), ({"x": 3}, 0, 2)]
    assert chapter.sweep(toy_cell, [{"x": 4}], [0, 1], settings, required=False).empty
    sentence = report.store_use_sentence(tmp_path / "results", "paper", "toy")
    assert "The 2 sweep cells it shows were read from the committed result store" in sentence
    assert "x 2 (1 of 2 seeds stored); x 3 (0 of 2 seeds stored); x 4 (0 of 2 seeds stored)" in sentence
    assert json.loads((tmp_path / "results/paper/toy/store_use.json").read_text())["cells"] == {
        "test_chapter.toy_cell": [3, 8]}
    with pytest.raises(MissingCells):  # a required sweep still refuses to render without its cells
        chapter.sweep(toy_cell, [{"x": 2}], [0, 1], settings)


def test_a_sweep_that_needs_a_gpu_is_never_trained_on_a_cpu(tmp_path, monkeypatch):
    """needs_gpu: even a store that may compute returns only what it holds; the rest is listed missing."""
    from cchlib.resultstore import ResultStore

    settings = ToySettings(**GOOD)
    monkeypatch.setenv("CCH_DEVICE", "cpu")
    assert Chapter("toy", "default", tmp_path / "r0", tmp_path / "c0").sweep(
        toy_cell, [{"x": 1}], [0], settings, needs_gpu=True).empty  # no store: nothing at all
    monkeypatch.setenv("CCH_RESULT_STORE", str(tmp_path / "store"))
    Chapter("toy", "paper", tmp_path / "r1", tmp_path / "c1").sweep(toy_cell, [{"x": 1}], [0, 1], settings)
    chapter = Chapter("toy", "paper", tmp_path / "r2", tmp_path / "c2")
    rows = chapter.sweep(toy_cell, [{"x": 1}, {"x": 5}], [0, 1], settings, needs_gpu=True)
    assert list(rows.x) == [1, 1]
    assert [(m["condition"], m["needs GPU"]) for m in chapter.missing] == [({"x": 5}, True)]
    assert len(ResultStore(tmp_path / "store").records()) == 2  # x=5 was not computed


def test_settings_from_parameters_take_each_field_by_name_and_overrides_win():
    parameters = {**GOOD, "seeds": [0, 1], "params_name": "smoke", "unrelated": object()}
    assert ToySettings.from_parameters(parameters) == ToySettings(**GOOD)
    assert ToySettings.from_parameters(parameters, grid=[7]).grid == [7]
    with pytest.raises(ValueError, match="needs the setting.* rate"):
        ToySettings.from_parameters({k: v for k, v in parameters.items() if k != "rate"})
    with pytest.raises(ValueError, match="setting 'n' must be int"):
        ToySettings.from_parameters({**parameters, "n": "three"})


@pytest.fixture
def glued(monkeypatch):
    """What a chapter glues into its page, by name (myst_nb's glue replaced by a recorder)."""
    values = {}
    monkeypatch.setattr("cchlib.chapter.glue", lambda name, value, display: values.__setitem__(name, value))
    return values


def test_a_chapter_from_parameters_reads_the_runner_writes_provenance_and_glues_the_parameters(tmp_path, glued):
    parameters = {"params_name": "smoke", "results_root": str(tmp_path), "seeds": [0, 1], "mi_method": "ksg",
                  "lams": [0.2, 0.5], "n": 3, "In": ["history"], "_private": 1, "options": {"a": 1}}
    chapter = Chapter.from_parameters("toy", parameters, epochs=7)
    assert (chapter.params_name, chapter.results_root, chapter.executor, chapter.cache_root) == (
        "smoke", str(tmp_path), "local", None)  # the runner's defaults where a notebook runs by hand
    record = json.loads((tmp_path / "smoke" / "toy" / "provenance.json").read_text())
    assert record["MI estimator"] == "ksg" and record["epochs"] == "7" and record["seeds"] == "0, 1"
    assert "MI estimator" in chapter.provenance_table().data
    assert glued == {"toy_seeds": "0, 1", "toy_mi_method": "ksg", "toy_lams": "0.2, 0.5", "toy_n": 3}


def _toy_per_seed(gain_sign: float) -> pd.DataFrame:
    """Two conditions, four seeds: a large positive MI gap and a gain of sign ``gain_sign``."""
    rng = np.random.default_rng(0)
    rows = [{"a": a, "seed": s, "mse_nokd": 1.0, "mse_kd": 1.0 - gain_sign * (0.1 + 0.01 * rng.standard_normal()),
             "mi_ts": 1.0 + 0.01 * s, "mi_sl": 0.2, "mi_ts_null": 0.01, "mi_sl_null": 0.0}
            for a in (1, 2) for s in range(4)]
    return pd.DataFrame(rows)


def test_conclude_writes_the_scorecard_and_criteria_rows_and_glues_the_finding(tmp_path, glued):
    chapter = Chapter("toy", "smoke", tmp_path, cache_root=tmp_path / "cache")
    chapter.provenance([0, 1, 2, 3], "cpu")
    per_seed = stats.outcomes(_toy_per_seed(+1), "mse")
    summary = stats.summarise_seeds(per_seed, ["a"], ["kd_gain", "mi_gap", "mi_gap_null", "mi_ts", "mi_sl"])
    score = chapter.conclude(summary, per_seed, by=["a"], condition="a={a:g}", claim="the toy claim.",
                             what="toy conditions", mi=("ksg", {}), data="toy data", independent_data=True,
                             mi_n=200, d_t=2, d_s=2, y_classes=0)
    assert list(score.condition) == ["a=1", "a=2"] and list(score.verdict) == ["agrees", "agrees"]
    written = pd.read_csv(tmp_path / "smoke" / "toy" / "scorecard_rows.csv")
    assert list(written.condition) == ["a=1", "a=2"] and set(written.data) == {"toy data"}
    assert list(pd.read_csv(tmp_path / "smoke" / "toy" / "criteria_rows.csv").condition) == ["a=1", "a=2"]
    assert glued["toy_conditions"] == 2 and glued["toy_agree_share"] == 1.0
    assert "the toy claim." in glued["toy_finding"].data and "Verdict: reproduced" in glued["toy_finding"].data
    assert glued["toy_total_seconds"] >= glued["toy_sweep_seconds"] > 0  # the bias calibration ran as a sweep


def test_outcomes_sign_the_gain_so_that_positive_means_distillation_helped():
    errors = stats.outcomes(pd.DataFrame({"mse_kd": [0.8], "mse_nokd": [1.0], "mi_ts": [1.0], "mi_sl": [0.4]}), "mse")
    scores = stats.outcomes(pd.DataFrame({"acc_kd": [0.9], "acc_nokd": [0.7], "mi_ts": [1.0], "mi_sl": [0.4]}), "acc")
    assert errors.kd_gain.iloc[0] == pytest.approx(0.2) and scores.kd_gain.iloc[0] == pytest.approx(0.2)
    assert errors.mi_gap.iloc[0] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        stats.outcomes(errors, "auc")


def test_settings_from_parameters_with_a_prefix_prefer_the_prefixed_name():
    parameters = {**GOOD, "mvd_n": 9, "mvd_grid": [5]}
    assert ToySettings.from_parameters(parameters, prefix="mvd_") == ToySettings(**{**GOOD, "n": 9, "grid": [5]})


def test_the_elements_of_a_typed_list_setting_are_checked():
    from cchlib.experiments.synthetic import Settings

    good = dict(sigma13=0.9, sigma23=0.4, n_train=10, n_test=10, p=2, hidden=4, lams=[0.2, 1], epochs=1, lr=0.1,
                batch_size=4, mi_method="ksg", mi_options={})
    assert Settings(**good).lams == [0.2, 1]  # an int stands for a float
    with pytest.raises(ValueError, match=r"setting 'lams\[1\]' must be float, got str '0.5'"):
        Settings(**{**good, "lams": [0.2, "0.5"]})
