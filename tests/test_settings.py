"""Settings checked when built (issue 31): a mistyped estimator fails before anything trains."""

import papermill
import pytest

from cchlib import kd, mi
from cchlib.experiments import mosei, synthetic, tcga, unpaired
from conftest import ROOT
from test_unpaired import SETTINGS as UNPAIRED


def test_a_mistyped_method_names_the_closest_valid_one():
    with pytest.raises(ValueError, match=r"unknown MI method 'lmii' \(did you mean 'lmi'\?\)"):
        mi.check_spec("lmii")
    with pytest.raises(ValueError, match="unknown MI method 'nonsense'; choose one of"):
        mi.check_spec("nonsense")


@pytest.mark.parametrize("method, options, message", [
    ("lmi", {"epoch": 3}, r"unknown option\(s\) \['epoch'\]"),
    ("mine", {"ema_rate": 2.0}, "ema_rate must lie in"),
    ("ksg", {"k": 0}, "k must be a positive integer"),
    ("ksg", {"neighbours": 3}, r"unknown option\(s\) \['neighbours'\]"),
])
def test_bad_options_are_refused_without_estimating(method, options, message):
    with pytest.raises(ValueError, match=message):
        mi.check_spec(method, options)
    mi.check_spec(method, {})  # the defaults are valid


def test_every_chapter_settings_and_the_mi_spec_check_the_estimator():
    with pytest.raises(ValueError, match="did you mean 'lmi'"):
        unpaired.MVDSettings.from_dict({**UNPAIRED, "mi_method": "lmii"})
    with pytest.raises(ValueError, match="did you mean 'ksg'"):
        kd.MISpec("kgs")
    with pytest.raises(ValueError, match="did you mean 'mine'"):
        kd.MISpec("lmi", gap_methods={"mien": {}})
    names = {cls.__name__ for cls in (synthetic.Settings, unpaired.CommonSettings)}
    assert all(issubclass(cls, mi.CheckedMI) for cls in (synthetic.Settings, unpaired.CommonSettings)), names
    assert "__post_init__" in vars(tcga.NoiseSettings)


def test_mosei_options_are_per_estimator():
    shared = dict(data={}, hidden=[8], dropout=0.0, epochs=1, lr=1e-3, weight_decay=0.0, batch_size=8,
                  standardise=True, mi_samples=None, mi_method="ksg", selection_repeats=2)
    mosei.SelectionSettings(**shared, mi_options={"ksg": {"k": 3}})
    with pytest.raises(ValueError, match="options per estimator"):
        mosei.SelectionSettings(**shared, mi_options={"epochs": 100})  # flat: was silently ignored
    with pytest.raises(ValueError, match="did you mean 'lmi'"):
        mosei.SelectionSettings(**{**shared, "mi_method": "lmj"}, mi_options={})


def test_a_mistyped_method_in_a_parameter_set_fails_before_the_chapter_trains(tmp_path):
    """The synthetic chapter with ``mi_method: lmii`` stops in its settings cell: no sweep cell runs."""
    cache = tmp_path / "cache"
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "synthetic.ipynb"), str(tmp_path / "out.ipynb"), cwd=str(ROOT / "notebooks"),
            parameters={"params_name": "smoke", "mi_method": "lmii", "results_root": str(tmp_path / "results"),
                        "cache_root": str(cache)}, progress_bar=False, kernel_name="python3")
    assert "did you mean 'lmi'" in str(error.value)
    assert not list(cache.rglob("*.json")), "a sweep cell was computed before the typo was caught"
