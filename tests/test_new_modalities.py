"""The new-modalities chapter's sweep cell gives the same selection as calling select directly."""

import pandas as pd
import pytest

from cchlib import select, sweep
from cchlib.experiments import new_modalities as exp

SETTINGS = exp.Settings(test_frac=0.3, split_seed=0, epochs=2, lr=1e-3, batch_size=64, hidden=[8], lam=0.5,
                        temperature=4.0, mi_method="ksg", mi_repeats=2, mi_options={})


def test_the_sweep_rows_rebuild_the_selection_of_a_direct_run(tmp_path):
    ds = exp.load("breast_cancer", 0.3, 0)
    direct = select.select_teachers(
        ds, seeds=[0, 1], settings=select.Settings(epochs=2, lr=1e-3, batch_size=64, hidden=[8], lam=0.5,
                                                   temperature=4.0),
        mi_method="ksg", mi_repeats=2, kd_check=True, criteria=True, progress=False)
    rows = sweep.run_sweep(exp.run_cell, [{"dataset": "breast_cancer"}], [0, 1], SETTINGS.as_dict(),
                           cache=tmp_path, progress=False)
    kinds = {m: select.infer_kind(ds.modalities[m]) for m in ds.modalities}
    rebuilt = exp.selection(rows, "breast_cancer", kinds, SETTINGS.as_dict())
    pd.testing.assert_frame_equal(rebuilt.per_seed, direct.per_seed)
    pd.testing.assert_frame_equal(rebuilt.baselines, direct.baselines)
    pd.testing.assert_frame_equal(rebuilt.ranking, direct.ranking)


def test_an_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="unknown dataset 'iris'; choose from"):
        exp.load("iris", 0.3, 0)
