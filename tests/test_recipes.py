"""CONTRIBUTING's recipes, followed in a temporary tree: an estimator, a dataset and a chapter.

The test copies cchlib, adds a toy estimator the way "Add an estimator" says (a module in
``cchlib/mi/`` registered in ``cchlib/mi/api.py``), a dataset the way "Add a dataset"
says (a loader in ``cchlib/data/`` that finds its file under ``$CCH_DATA_ROOT`` and
returns a ``PairedDataset``), and a chapter the way "Adding or changing a chapter" says
(a cell module in ``cchlib/experiments/``, a Jupytext notebook on the chapter context,
its parameter sets, a ``_toc.yml`` entry), then runs the book at ``smoke`` with the copy
first on the path. If a recipe drifts from the code (a renamed call, a registry the
recipe does not name), this fails.
"""

import os
import shutil
import textwrap

import numpy as np
import pandas as pd
import pytest

from cchlib import book
from conftest import ROOT

ESTIMATOR = '''
"""A Gaussian MI estimator (the recipe's toy): I = (log det Sx + log det Sy - log det Sxy) / 2, in nats."""

import numpy as np

from .inputs import as_pair


def check_options(options: dict) -> None:
    """One option, ``ridge`` (a non-negative number): anything else is a ValueError."""
    if unknown := sorted(set(options) - {"ridge"}):
        raise ValueError(f"method='gauss' got unknown option(s) {unknown}; it accepts ['ridge'].")


def estimate(x, y, seed: int = 0, ridge: float = 1e-3) -> float:
    x, y = as_pair(x, y)
    y = np.eye(int(y.max()) + 1)[y.astype(int).ravel()] if y.dtype.kind in "iu" else y
    joint = np.cov(np.concatenate([x, y], 1), rowvar=False) + ridge * np.eye(x.shape[1] + y.shape[1])
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return float(0.5 * (logdet(joint[: x.shape[1], : x.shape[1]]) + logdet(joint[x.shape[1]:, x.shape[1]:])
                        - logdet(joint)))
'''

DATASET = '''
"""Toy views: two modalities of one label, stored as an .npz under $CCH_DATA_ROOT/toyviews/."""

from pathlib import Path

import numpy as np

from cchlib.data.paired import PairedDataset
from cchlib.data.split import stratified_split
from cchlib.data.store import DataFileError, data_root


def load_toyviews(path=None, test_frac: float = 0.3, seed: int = 0) -> PairedDataset:
    path = Path(path) if path else (data_root() or Path(".")) / "toyviews" / "views.npz"
    if not path.exists():
        raise DataFileError(f"toy views not found at {path}; write them with write_toyviews(path)")
    arrays = np.load(path)
    train, test = stratified_split(arrays["y"], test_frac, seed)
    return PairedDataset({"a": arrays["a"], "b": arrays["b"]}, arrays["y"], train, test, name="toy views")


def write_toyviews(path, n: int = 240, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = (y[:, None] + 0.4 * rng.standard_normal((n, 4))).astype(np.float32)
    b = (y[:, None] + 1.5 * rng.standard_normal((n, 4))).astype(np.float32)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, a=a, b=b, y=y)
'''

EXPERIMENT = '''
"""The toy chapter's cell: a teacher on view a, students on view b (cchlib.kd.run)."""

from dataclasses import dataclass

from cchlib import criteria, kd
from cchlib.data.toyviews import load_toyviews
from cchlib.mi import CheckedMI
from cchlib.models import StackedMLP


@dataclass(frozen=True)
class Settings(CheckedMI):
    epochs: int
    lams: list[float]
    mi_method: str
    mi_options: dict


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    s = Settings.from_dict(settings)
    ds = load_toyviews()
    net = lambda role: lambda seeds, d_in, n_out: StackedMLP(seeds, d_in, [8], n_out, role=role)  # noqa: E731
    results = kd.run([kd.seed_data(ds, "a", "b") for _ in seeds], seeds, teacher_net=net("teacher"),
                     student_net=net("student"), variants=[kd.Variant(lam=lam, temperature=condition["T"])
                                                           for lam in s.lams],
                     schedule=kd.Schedule(epochs=s.epochs, lr=0.01, batch_size=32),
                     mi_spec=kd.MISpec(s.mi_method, s.mi_options, null=True))
    columns = ["acc_kd", "acc_nokd", "teacher_acc", "mi_ts", "mi_sl", "mi_tl", *kd.NULL_COLUMNS]
    return {seed: [{"T": condition["T"], "lam": s.lams[r["variant"]], "seed": seed, **{c: r[c] for c in columns},
                    **criteria.columns_of(r)} for r in rows] for seed, rows in results.items()}
'''

NOTEBOOK = '''
# %% [markdown]
# # Toy views
#
# :::{admonition} What we found
# :class: tip
# ```{glue:md} toy_finding
# :format: myst
# ```
# :::

# %% tags=["parameters", "remove-cell"]
params_name = "default"
seeds = [0, 1, 2]
temperatures = [1.0, 4.0]
lams = [0.5]
epochs = 5
mi_method = "gauss"
mi_options = {}

# %% tags=["hide-cell"]
from IPython.display import display

from cchlib import stats
from cchlib.chapter import Chapter
from cchlib.experiments.toyviews import Settings, run_cell

chapter = Chapter.from_parameters("toy", globals())
settings = Settings.from_parameters(globals())

# %% tags=["remove-input"]
chapter.provenance_table()

# %%
rows = stats.outcomes(chapter.sweep(run_cell, [{"T": t} for t in temperatures], seeds, settings), "acc")
summary = stats.summarise_seeds(rows, ["T", "lam"], ["kd_gain", "mi_gap", "mi_gap_null", "mi_ts", "mi_sl"])
chapter.show(summary, "summary")
score = chapter.conclude(summary, rows, by=["T", "lam"], condition="T={T:g}, lambda={lam:g}", claim="a toy claim.",
                         what="toy conditions", mi=(mi_method, mi_options), data="toy views (generated)",
                         independent_data=False, mi_n=72, d_t=8, d_s=8, y_classes=2)
display(score)

# %% [markdown]
# {glue:text}`toy_conditions` conditions, estimator {glue:text}`toy_mi_method`.
'''


def _follow_the_recipes(tree):
    """The three recipes, as a contributor would follow them, in a copy of cchlib under ``tree``."""
    shutil.copytree(ROOT / "cchlib", tree / "cchlib", ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "cchlib" / "mi" / "gauss.py").write_text(ESTIMATOR)
    api = tree / "cchlib" / "mi" / "api.py"
    text = api.read_text()
    for old, new in [("from . import ksg, lmi, mine, reference\n", "from . import gauss, ksg, lmi, mine, reference\n"),
                     ("METHODS = {\n", 'METHODS = {\n    "gauss": gauss.estimate,\n'),
                     ("OPTION_CHECKS = {\n", 'OPTION_CHECKS = {\n    "gauss": gauss.check_options,\n'),
                     ("NAMES = {", 'NAMES = {"gauss": "Gaussian", ')]:
        assert old in text, f"the estimator recipe names {old.strip()!r}, which cchlib/mi/api.py no longer has"
        text = text.replace(old, new, 1)
    api.write_text(text)
    (tree / "cchlib" / "data" / "toyviews.py").write_text(DATASET)
    (tree / "cchlib" / "experiments" / "toyviews.py").write_text(EXPERIMENT)
    (tree / "notebooks" / "params").mkdir(parents=True)
    header = (ROOT / "notebooks" / "synthetic.py").read_text().split("# ---\n\n", 1)[0] + "# ---\n"
    (tree / "notebooks" / "toy.py").write_text(header + NOTEBOOK)
    for scale, values in {"smoke": "epochs: 2\n", "default": "", "paper": "epochs: 5\n"}.items():
        (tree / "notebooks" / "params" / scale).mkdir()
        (tree / "notebooks" / "params" / scale / "toy.yml").write_text(f"params_name: {scale}\n{values}")
    (tree / "book").mkdir()
    (tree / "book" / "intro.md").write_text("# Intro\n")
    (tree / "book" / "references.bib").write_text("")
    shutil.copy(ROOT / "_config.yml", tree)
    (tree / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/toy\n")


def test_the_contributing_recipes_give_a_chapter_that_runs_at_smoke(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    _follow_the_recipes(tree)
    data = tmp_path / "data"
    exec(compile(textwrap.dedent(DATASET), "toyviews", "exec"), namespace := {})  # the recipe's own writer
    namespace["write_toyviews"](data / "toyviews" / "views.npz")
    monkeypatch.setenv("CCH_DATA_ROOT", str(data))
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")]))
    book.run(tree, "smoke", results_root=tmp_path / "results", build=False)

    out = tmp_path / "results" / "smoke" / "toy"
    score = pd.read_csv(out / "scorecard_rows.csv")
    assert list(score.condition) == ["T=1, lambda=0.5", "T=4, lambda=0.5"] and set(score.data) == {"toy views (generated)"}
    assert score.verdict.isin(["agrees", "disagrees", "unresolved"]).all() and np.isfinite(score.mi_gap).all()
    criteria_rows = pd.read_csv(out / "criteria_rows.csv")
    assert list(criteria_rows.condition) == list(score.condition) and set(criteria_rows.estimator) == {"gauss"}
    assert "gap_gauss" not in criteria_rows  # only named gap_methods are estimated again
    assert (out / "provenance.json").exists() and (out / "bias_curves.csv").exists()


def test_a_mistyped_estimator_in_the_toy_chapter_fails_before_training(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    _follow_the_recipes(tree)
    (tree / "notebooks" / "params" / "smoke" / "toy.yml").write_text("params_name: smoke\nmi_method: guass\n")
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")]))
    with pytest.raises(book.BookError, match="did you mean 'gauss'"):
        book.run(tree, "smoke", results_root=tmp_path / "results", build=False)
    assert not list((tmp_path / "cache").rglob("*.json"))  # no sweep cell was computed
