"""Sec. 4.4 / App. E: TCGA omics, mRNA or RPPA teachers for a CNV student.

Two sweep cells:

- :func:`run_noise_cell` (Tables 5-7): for one (cohort, teacher modality, split mode)
  and a batch of seeds, train teachers on the teacher modality with zero-mean Gaussian
  noise of each level on their inputs, a baseline CNV student and one distilled CNV
  student per noise level (Table 9 network, Table 17 training, Eq. 2 loss), and
  estimate I(H_T; H_S), I(H_S; Y), I(H_T; Y).
- :func:`run_fusion_cell` (Tables 8, 20): direct fusion vs Fusion+KD with the Table 18
  network (:class:`cchlib.models.StackedFusionNet`), both trained jointly from scratch.

Data per seed: a stratified train/test split (``split="fixed"``: the same split for
every seed, as five runs on one split; ``split="repeated"``: each seed its own split),
then per-modality preprocessing and mRMR fitted on the training rows only
(:func:`cchlib.features.fit_modality`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from cchlib import criteria, kd
from cchlib.data import tcga
from cchlib.data.paired import PairedDataset
from cchlib.data.split import stratified_split
from cchlib.features import ModalityTransform, fit_modality
from cchlib.mi import check_spec
from cchlib.models import StackedFusionNet, StackedMLP
from cchlib.settings import CellSettings

SPLITS = ("fixed", "repeated")


# ---------------------------------------------------------------------------
# Settings of the two sweeps
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSettings(CellSettings):
    """What decides each seed's data: the cohort files, preprocessing, split and student."""

    data_dir: str | None  # folder with one sub-folder per cohort; None: $CCH_DATA_ROOT/tcga, then the cache
    bin_mb: float  # CNV bin size in megabases
    k_features: int  # features kept per modality by mRMR
    max_missing: float  # drop a column missing in more than this share of training samples
    test_frac: float
    fixed_split_seed: int  # the split every seed uses in the "fixed" mode
    student: str  # the student's modality


@dataclass(frozen=True)
class NoiseSettings(DataSettings):
    """The settings of :func:`run_noise_cell` (Tables 5-7; Table 9 network, Table 17 training)."""

    noise_levels: list[float]  # noise SD on the teacher's inputs, as a fraction of each feature's SD
    hidden: int
    epochs: int
    lr: float
    batch_size: int
    temperature: float
    lam: float
    mi_method: str
    mi_options: dict
    mi_on: str  # representations of the "test" split, or of "all" samples

    def __post_init__(self):
        super().__post_init__()
        check_spec(self.mi_method, self.mi_options)  # a typo fails here, before anything trains


@dataclass(frozen=True)
class FusionSettings(DataSettings):
    """The settings of :func:`run_fusion_cell` (Tables 8, 20; Table 18 network)."""

    fusion: dict  # cohort -> its training: lr, temperature, lam, epochs (Tables 19, 21)
    n_enc: int  # encoder width
    dropout: float
    fusion_batch_size: int


# ---------------------------------------------------------------------------
# Data per seed
# ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def load(cohort: str, data_dir: str | None, bin_mb: float) -> tcga.TCGACohort:
    """The cohort with every modality available here (cached in this process)."""
    return tcga.load_cohort(cohort, data_dir=data_dir, bin_mb=bin_mb)


def data_key(s: DataSettings) -> tuple:
    """The settings that decide the prepared data: data_dir, bin_mb, k_features, max_missing, test_frac."""
    return s.data_dir, float(s.bin_mb), int(s.k_features), float(s.max_missing), float(s.test_frac)


class Prepared(NamedTuple):
    """One modality of one cohort on one split, ready for training."""

    x: np.ndarray  # (n, k) float32, every patient, preprocessed with training statistics
    y: np.ndarray  # (n,) integer classes
    train: np.ndarray
    test: np.ndarray
    transform: ModalityTransform


@lru_cache(maxsize=256)
def prepared(cohort: str, modality: str, split_seed: int, key: tuple) -> Prepared:
    """Split ``cohort``, fit ``modality``'s preprocessing and mRMR on the training rows only.

    ``key`` = (data_dir, bin_mb, k_features, max_missing, test_frac), see :func:`data_key`.
    """
    data_dir, bin_mb, k, max_missing, test_frac = key
    data = load(cohort, data_dir, bin_mb)
    if modality not in data.tables:
        raise ValueError(f"{cohort} has no {modality} data here (available: {sorted(data.tables)})")
    y = data.y
    train, test = stratified_split(y, test_frac, split_seed)
    table = data.tables[modality]
    transform = fit_modality(table.iloc[train], y[train], k=k, max_missing=max_missing)
    return Prepared(transform.transform(table), y, train, test, transform)


def split_seed(condition: dict, seed: int, s: DataSettings) -> int:
    """The split of a seed: one shared split (``fixed``) or the seed's own (``repeated``)."""
    if condition["split"] not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {condition['split']!r}")
    return int(s.fixed_split_seed) if condition["split"] == "fixed" else int(seed)


def teacher_noise(x: np.ndarray, level: float, seed: int) -> np.ndarray:
    """``x`` plus zero-mean Gaussian noise of standard deviation ``level`` per feature.

    The features are standardised with training statistics, so this is noise of
    ``level`` times each feature's training standard deviation. The draw is fixed per
    (seed, level) and per sample: the same noisy measurement is seen in every epoch and
    at test time.
    """
    if level < 0:
        raise ValueError(f"noise level must be non-negative, got {level}")
    rng = np.random.default_rng([int(seed), int(round(level * 1_000_000)), 4242])
    return (x + level * rng.standard_normal(x.shape)).astype(np.float32)


def _rows_for_mi(mi_on: str, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Which samples' representations the MI estimates use: the test split, or all."""
    if mi_on == "test":
        return test
    if mi_on == "all":
        return np.sort(np.concatenate([train, test]))
    raise ValueError(f"mi_on must be 'test' or 'all', got {mi_on!r}")


# ---------------------------------------------------------------------------
# Tables 5-7: noise on the teacher's inputs
# ---------------------------------------------------------------------------


def seed_data(condition: dict, seeds: list[int], s: DataSettings) -> list[tuple[int, PairedDataset]]:
    """Per seed: its split seed, and the teacher's and student's preprocessed features on that split."""
    key, cohort, teacher = data_key(s), condition["cohort"], condition["teacher"]
    out = []
    for seed in seeds:
        sp = split_seed(condition, seed, s)
        t, st = prepared(cohort, teacher, sp, key), prepared(cohort, s.student, sp, key)
        out.append((sp, PairedDataset({teacher: t.x, s.student: st.x}, t.y, t.train, t.test, name=f"TCGA {cohort}")))
    return out


def _mlp(role: str, hidden: int):
    """Table 9's network for :func:`cchlib.kd.run`: ``net(seeds, d_in, n_classes)``."""
    return lambda seeds, d_in, n_out: StackedMLP(seeds, d_in, [hidden], n_out, role=role)


NOISE_COLUMNS = ["f1_kd", "f1_nokd", "acc_kd", "acc_nokd", "teacher_f1", "teacher_acc", "mi_ts", "mi_sl", "mi_tl",
                 *kd.NULL_COLUMNS]


def run_noise_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Teacher -> CNV student at every noise level, for a batch of seeds (:func:`cchlib.kd.run`).

    ``condition``: cohort, teacher (``mrna`` or ``rppa``), split (``fixed`` or
    ``repeated``); ``settings`` is a :class:`NoiseSettings` as a dict. Per seed, one
    teacher per noise level (same initialisation), a baseline student and one distilled
    student per level. Returns per seed one row per noise level.
    """
    s = NoiseSettings.from_dict(settings)
    levels = [float(v) for v in s.noise_levels]
    per_seed = seed_data(condition, seeds, s)
    data = []
    for seed, (_, ds) in zip(seeds, per_seed):
        d = kd.seed_data(ds, condition["teacher"], s.student, mi_rows=_rows_for_mi(s.mi_on, ds.train_idx, ds.test_idx))
        data.append(replace(d, teacher_x=[teacher_noise(d.teacher_x[0], level, seed) for level in levels]))
    results = kd.run(
        data, seeds, teacher_net=_mlp("teacher", s.hidden), student_net=_mlp("student", s.hidden),
        variants=[kd.Variant(teacher=j, lam=s.lam, temperature=s.temperature) for j in range(len(levels))],
        schedule=kd.Schedule(epochs=s.epochs, lr=s.lr, batch_size=s.batch_size),
        mi_spec=kd.MISpec(s.mi_method, s.mi_options, null=True),
    )
    return {
        seed: [{**_labels(condition, s, sp), "noise": levels[r["variant"]], "seed": seed,
                "n_train": len(ds.train_idx), "n_test": len(ds.test_idx), **{c: r[c] for c in NOISE_COLUMNS},
                **criteria.columns_of(r)}
               for r in results[seed]]
        for seed, (sp, ds) in zip(seeds, per_seed)
    }


def _labels(condition: dict, s: DataSettings, split_seed: int) -> dict:
    """The columns that name a cell's condition in its rows."""
    return {"cohort": condition["cohort"], "teacher": condition["teacher"], "student": s.student,
            "split": condition["split"], "split_seed": split_seed}


# ---------------------------------------------------------------------------
# Tables 8 and 20: direct fusion vs Fusion+KD
# ---------------------------------------------------------------------------


def run_fusion_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Direct fusion and Fusion+KD of (teacher modality, CNV), for a batch of seeds (:func:`cchlib.kd.run_fusion`).

    ``condition``: cohort, teacher, split; ``settings`` is a :class:`FusionSettings` as
    a dict. Returns per seed two rows (method ``fusion`` and ``fusion_kd``).
    """
    s = FusionSettings.from_dict(settings)
    if condition["cohort"] not in s.fusion:
        raise ValueError(f"no fusion training settings for {condition['cohort']}; "
                         "add it to the setting 'fusion' (lr, temperature, lam, epochs)")
    f = s.fusion[condition["cohort"]]
    per_seed = seed_data(condition, seeds, s)
    results = kd.run_fusion(
        [kd.seed_data(ds, condition["teacher"], s.student) for _, ds in per_seed], seeds,
        net=lambda seeds, d1, d2, k: StackedFusionNet(seeds, d1, d2, k, s.n_enc, s.dropout),
        lam=float(f["lam"]), temperature=f["temperature"],
        schedule=kd.Schedule(epochs=f["epochs"], lr=f["lr"], batch_size=s.fusion_batch_size),
    )
    return {seed: [{**_labels(condition, s, sp), **row} for row in results[seed]] for seed, (sp, _) in zip(seeds, per_seed)}
