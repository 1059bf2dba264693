"""New modalities: two scikit-learn datasets cut into views, run through :mod:`cchlib.select`.

The paper ran none of these datasets; the chapter asks whether its criterion carries
over to views of one instrument. For one dataset and a batch of seeds,
:func:`run_cell` runs :func:`cchlib.select.select_teachers` with the KD check and the
criteria chapter's candidates, and returns each seed's rows, so that the chapter's
runs are cached sweep cells (and, for the ``paper`` set, stored cells) like every
other chapter's. :func:`selection` turns a dataset's rows back into the
:class:`~cchlib.select.Selection` the chapter shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits

from cchlib import select
from cchlib.data.files import from_arrays
from cchlib.mi import CheckedMI


def breast_cancer_views() -> tuple[dict, np.ndarray]:
    """Mean, standard-error and worst-value summaries of the ten nucleus measurements."""
    bunch = load_breast_cancer()
    names = bunch.feature_names
    views = {view: bunch.data[:, [view in n.split() for n in names]] for view in ("mean", "error", "worst")}
    return views, bunch.target


def digits_views() -> tuple[dict, np.ndarray]:
    """Top and bottom image halves (4x8 pixels each) and the row/column-sum profile."""
    bunch = load_digits()
    images = bunch.images
    views = {
        "top": images[:, :4, :, None],
        "bottom": images[:, 4:, :, None],
        "profile": np.hstack([images.sum(axis=1), images.sum(axis=2)]),
    }
    return views, bunch.target


LOADERS = {"breast_cancer": breast_cancer_views, "digits": digits_views}
DESCRIPTION = {
    "breast_cancer": "scikit-learn breast cancer (Wisconsin diagnostic), views mean / error / worst",
    "digits": "scikit-learn digits (UCI optical digits), views top / bottom / profile",
}


@dataclass(frozen=True)
class Settings(CheckedMI):
    """The settings of :func:`run_cell`: the split, the training of every network, the MI."""

    test_frac: float  # held-out share; accuracy and MI are measured there
    split_seed: int
    epochs: int
    lr: float
    batch_size: int
    hidden: list[int] | None  # None: each model kind's own widths
    lam: float
    temperature: float
    mi_method: str
    mi_repeats: int
    mi_options: dict


def load(name: str, test_frac: float, split_seed: int):
    """One dataset's views as a :class:`~cchlib.data.PairedDataset`."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(LOADERS)}")
    views, y = LOADERS[name]()
    return from_arrays(views, y, test_frac=test_frac, split_seed=split_seed, name=name)


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Select teachers (with the KD check and the criteria) on one dataset for a batch of seeds.

    ``condition`` holds ``dataset``. Returns per seed its (teacher, student) rows of
    :attr:`Selection.per_seed <cchlib.select.Selection>`.
    """
    s = Settings.from_dict(settings)
    result = select.select_teachers(
        load(condition["dataset"], s.test_frac, s.split_seed), seeds=seeds,
        settings=select.Settings(epochs=s.epochs, lr=s.lr, batch_size=s.batch_size, hidden=s.hidden, lam=s.lam,
                                 temperature=s.temperature),
        mi_method=s.mi_method, mi_repeats=s.mi_repeats, mi_options=s.mi_options, kd_check=True, criteria=True,
        progress=False,
    )
    rows = {seed: [] for seed in seeds}
    for row in result.per_seed.to_dict("records"):
        rows[int(row["seed"])].append({"dataset": condition["dataset"], **row})
    return rows


def selection(rows: pd.DataFrame, dataset: str, kinds: dict, options: dict) -> select.Selection:
    """One dataset's :class:`~cchlib.select.Selection` from the sweep's rows (every seed).

    ``kinds``: modality -> model kind, in the dataset's order. A modality's baseline
    score is its baseline student's (``score_nokd``), the same network whichever
    teacher the row pairs it with. Both datasets are classification tasks.
    """
    per_seed = rows[rows.dataset == dataset].drop(columns="dataset").reset_index(drop=True)
    ds = load(dataset, options["test_frac"], options["split_seed"])
    options = {**options, "shapes": select.mi_shapes(ds, kinds, options["hidden"])}
    scores = per_seed.groupby(["student", "seed"]).score_nokd.first()
    baselines = pd.DataFrame([{"modality": m, "kind": kind, "seed": int(seed), "score": float(scores[m, seed])}
                              for m, kind in kinds.items() for seed in per_seed.seed.unique()])
    return select.Selection.from_per_seed(per_seed, baselines, "classification", dataset, options)
