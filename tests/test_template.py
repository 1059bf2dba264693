"""The template chapter's sweep cell gives what select_teachers gives (issue 30: the paper book reads it from the store)."""

import numpy as np
import pandas as pd
import pytest

from cchlib import select
from cchlib.experiments import template

SETTINGS = template.Settings(
    label_key="y", id_column="sample_id", task="auto", test_frac=0.3, students=["tabular", "image"],
    teachers=["tabular", "image"], kinds={}, epochs=2, lr=1e-3, batch_size=64, hidden=[8], lam=0.5,
    temperature=4.0, mi_method="ksg", mi_repeats=2, mi_options={}, kd_check=True,
)


def test_the_cell_rebuilds_the_selection_of_select_teachers(tmp_path):
    ds = select.load_paired(select.make_demo_npz(tmp_path / "demo.npz", n=240), test_frac=0.3)
    direct = select.select_teachers(
        ds, students=["tabular", "image"], teachers=["tabular", "image"], seeds=[0, 1],
        settings=select.Settings(2, 1e-3, 64, [8], 0.5, 4.0), mi_method="ksg", mi_repeats=2, kd_check=True,
        progress=False)
    condition = template.data_condition(None, 240)
    rows = pd.DataFrame([r for seed_rows in template.run_cell(condition, [0, 1], SETTINGS.as_dict()).values()
                         for r in seed_rows])
    rebuilt = template.selection(rows, ds, SETTINGS)
    pd.testing.assert_frame_equal(rebuilt.ranking, direct.ranking)
    pd.testing.assert_frame_equal(rebuilt.baselines, direct.baselines)
    assert rebuilt.options["shapes"] == direct.options["shapes"]


def test_a_data_file_is_named_by_its_content(tmp_path):
    path = select.make_demo_npz(tmp_path / "d.npz", n=120)
    first = template.data_condition(path, 0)
    assert first["sha256"] == template.data_condition(path, 0)["sha256"]
    select.make_demo_npz(path, n=120, seed=1)
    assert template.data_condition(path, 0)["sha256"] != first["sha256"]
    with pytest.raises(ValueError, match="changed since this cell was computed"):
        template.load(first, SETTINGS)
    assert np.array_equal(template.load({"demo_samples": 120}, SETTINGS).labels,
                          select.load_paired(select.make_demo_npz(tmp_path / "e.npz", n=120)).labels)
