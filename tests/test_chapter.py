"""The chapter context and typed sweep settings."""

from dataclasses import dataclass

import pandas as pd
import pytest

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
