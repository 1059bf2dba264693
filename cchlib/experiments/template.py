"""The template chapter's sweep cell: :func:`cchlib.select.select_teachers` on one dataset.

The template runs the teacher selection on a user's data (or on the generated demo).
As a sweep cell its result is cached, and at ``paper`` stored, like every other
chapter's: the paper book then renders the template from the store instead of
retraining it. The cell's condition names the data: ``{"demo_samples": n}`` for the
generated demo (:func:`cchlib.select.make_demo_npz`, regenerated inside the cell), or
the file's path with its SHA-256, so that a changed file is a new cell.

Each row is one (teacher, student, seed) of :attr:`cchlib.select.Selection.per_seed`,
with the baseline scores of the teacher's and the student's modality beside it
(``teacher_score``, ``student_score``), from which :func:`selection` rebuilds the
:class:`~cchlib.select.Selection`.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cchlib import select
from cchlib.mi import CheckedMI


@dataclass(frozen=True)
class Settings(CheckedMI):
    """Every argument of :func:`cchlib.select.select_teachers` but the data and the seeds."""

    label_key: str
    id_column: str
    task: str
    test_frac: float
    students: list[str] | None
    teachers: list[str] | None
    kinds: dict  # modality -> "mlp" | "image" | "sequence" (the others are inferred)
    epochs: int
    lr: float
    batch_size: int
    hidden: list[int] | None
    lam: float
    temperature: float
    mi_method: str
    mi_repeats: int
    mi_options: dict
    kd_check: bool

    def training(self) -> select.Settings:
        """The training and distillation settings of :func:`cchlib.select.select_teachers`."""
        return select.Settings(self.epochs, self.lr, self.batch_size, self.hidden, self.lam, self.temperature)


def data_condition(data_path, demo_samples: int) -> dict:
    """The condition naming the data: the demo's size, or the file (or folder) with its SHA-256."""
    if data_path is None:
        return {"demo_samples": int(demo_samples)}
    path = Path(data_path).resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return {"data_path": str(path), "sha256": digest.hexdigest()}


def load(condition: dict, s: Settings):
    """The paired dataset a condition names (the demo is generated again, identically)."""
    options = dict(label_key=s.label_key, id_column=s.id_column, task=s.task, test_frac=s.test_frac)
    if "demo_samples" in condition:
        with tempfile.TemporaryDirectory() as folder:
            return select.load_paired(select.make_demo_npz(Path(folder) / "demo.npz", n=condition["demo_samples"]),
                                      **options)
    if data_condition(condition["data_path"], 0) != condition:
        raise ValueError(f"{condition['data_path']} changed since this cell was computed (its SHA-256 differs)")
    return select.load_paired(condition["data_path"], **options)


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """The selection of one dataset for a batch of seeds; one row per (teacher, student, seed)."""
    s = Settings.from_dict(settings)
    ds = load(condition, s)
    result = select.select_teachers(
        ds, students=s.students, teachers=s.teachers, kinds=s.kinds, seeds=seeds,
        settings=s.training(),
        mi_method=s.mi_method, mi_repeats=s.mi_repeats, mi_options=s.mi_options, kd_check=s.kd_check,
        progress=False,
    )
    score = result.baselines.set_index(["modality", "seed"]).score
    return {seed: [{**row, "teacher_score": float(score[row["teacher"], seed]),
                    "student_score": float(score[row["student"], seed])}
                   for row in result.per_seed[result.per_seed.seed == seed].to_dict("records")]
            for seed in seeds}


def selection(rows: pd.DataFrame, ds, s: Settings) -> select.Selection:
    """The :class:`~cchlib.select.Selection` the cells' rows give (what ``select_teachers`` returned)."""
    kinds = select.resolve_modalities(ds, s.students, s.teachers, s.kinds)[2]
    per_seed = rows.drop(columns=["teacher_score", "student_score", "demo_samples", "data_path", "sha256"],
                         errors="ignore").reset_index(drop=True)
    scores = pd.concat([rows[["teacher", "seed", "teacher_score"]].set_axis(["modality", "seed", "score"], axis=1),
                        rows[["student", "seed", "student_score"]].set_axis(["modality", "seed", "score"], axis=1)])
    baselines = scores.drop_duplicates(["modality", "seed"]).assign(kind=lambda b: b.modality.map(kinds))
    order = {m: i for i, m in enumerate(kinds)}  # select_teachers' order: by modality as resolved, then seed
    baselines = baselines[["modality", "kind", "seed", "score"]].sort_values(
        ["modality", "seed"], key=lambda c: c.map(order) if c.name == "modality" else c, ignore_index=True)
    seeds = sorted(int(x) for x in rows.seed.unique())
    options = select.run_options(ds, kinds, seeds, s.training(), s.mi_method, s.mi_repeats)
    return select.Selection.from_per_seed(per_seed, baselines, ds.task, ds.name, options)
