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

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from cchlib import criteria, kd
from cchlib.data import tcga
from cchlib.data.split import stratified_split
from cchlib.distill import classification_kd_loss, cross_entropy
from cchlib.features import ModalityTransform, fit_modality
from cchlib.models import StackedFusionNet, StackedMLP
from cchlib.settings import CellSettings
from cchlib.train import default_device, fit, predict

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

    noise_levels: list  # noise SD on the teacher's inputs, as a fraction of each feature's SD
    hidden: int
    epochs: int
    lr: float
    batch_size: int
    temperature: float
    lam: float
    mi_method: str
    mi_options: dict
    mi_on: str  # representations of the "test" split, or of "all" samples


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


def _stack(arrays, device) -> torch.Tensor:
    return torch.as_tensor(np.stack(arrays), device=device)


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


def seed_data(condition: dict, seeds: list[int], s: DataSettings) -> list[dict]:
    """Per seed: its split seed, the teacher's and student's preprocessed features, labels
    and split indices (keys split_seed, x_t, x_s, y, train, test)."""
    key = data_key(s)
    out = []
    for seed in seeds:
        sp = split_seed(condition, seed, s)
        x_t, y, train, test, _ = prepared(condition["cohort"], condition["teacher"], sp, key)
        x_s = prepared(condition["cohort"], s.student, sp, key).x
        out.append(dict(split_seed=sp, x_t=x_t, x_s=x_s, y=y, train=train, test=test))
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
    data = [
        kd.SeedData([teacher_noise(d["x_t"], level, seed) for level in levels], d["x_s"], d["y"], d["train"], d["test"],
                    _rows_for_mi(s.mi_on, d["train"], d["test"]))
        for seed, d in zip(seeds, per_seed)
    ]
    results = kd.run(
        data, seeds, teacher_net=_mlp("teacher", s.hidden), student_net=_mlp("student", s.hidden),
        variants=[kd.Variant(teacher=j, lam=s.lam, temperature=s.temperature) for j in range(len(levels))],
        schedule=kd.Schedule(epochs=s.epochs, lr=s.lr, batch_size=s.batch_size),
        mi_spec=kd.MISpec(s.mi_method, s.mi_options, null=True),
    )
    labels = {"cohort": condition["cohort"], "teacher": condition["teacher"], "student": s.student,
              "split": condition["split"]}
    return {
        seed: [{**labels, "split_seed": d["split_seed"], "noise": levels[r["variant"]], "seed": seed,
                "n_train": len(d["train"]), "n_test": len(d["test"]), **{c: r[c] for c in NOISE_COLUMNS},
                **criteria.columns_of(r)}
               for r in results[seed]]
        for seed, d in zip(seeds, per_seed)
    }


# ---------------------------------------------------------------------------
# Tables 8 and 20: direct fusion vs Fusion+KD
# ---------------------------------------------------------------------------


def fusion_loss(outputs: torch.Tensor, y: torch.Tensor, lam, temperature: float) -> torch.Tensor:
    """Per-copy loss: CE(joint) + CE(teacher head) + Eq. 2 on the student head.

    The student (modality-2) head is distilled from the teacher (modality-1) head's
    detached soft targets; ``lam = 0`` (direct fusion) leaves three plain CE terms.
    """
    k = outputs.shape[-1] // 3
    joint, head1, head2 = outputs[..., :k], outputs[..., k : 2 * k], outputs[..., 2 * k :]
    return cross_entropy(joint, y) + cross_entropy(head1, y) + classification_kd_loss(head2, y, head1.detach(), lam, temperature)


def classification_metrics(y: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, one-vs-rest macro AUC, macro and weighted F1 of class probabilities."""
    pred = probs.argmax(-1)
    try:
        auc = roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=np.arange(probs.shape[1]))
    except ValueError:  # a class absent from this test split
        auc = float("nan")
    return {
        "acc": float(accuracy_score(y, pred)),
        "auc": float(auc),
        "f1_macro": float(f1_score(y, pred, average="macro")),
        "f1_weighted": float(f1_score(y, pred, average="weighted")),
    }


def run_fusion_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Direct fusion and Fusion+KD of (teacher modality, CNV), for a batch of seeds.

    ``condition``: cohort, teacher, split; ``settings`` is a :class:`FusionSettings` as
    a dict. Returns per seed two rows (method ``fusion`` and ``fusion_kd``).
    """
    s = FusionSettings.from_dict(settings)
    device = default_device()
    cohort, teacher_mod, student_mod = condition["cohort"], condition["teacher"], s.student
    if cohort not in s.fusion:
        raise ValueError(f"no fusion training settings for {cohort}; add it to the setting 'fusion' (lr, temperature, lam, epochs)")
    f = s.fusion[cohort]
    per_seed = [
        dict(d, x=np.concatenate([d["x_t"], d["x_s"]], 1), d1=d["x_t"].shape[1])
        for d in seed_data(condition, seeds, s)
    ]
    n_classes = int(max(d["y"].max() for d in per_seed)) + 1
    methods = [("fusion", 0.0), ("fusion_kd", float(f["lam"]))]
    m_seeds = [seed for seed in seeds for _ in methods]
    x_train = _stack([d["x"][d["train"]] for d in per_seed for _ in methods], device)
    y_train = _stack([d["y"][d["train"]] for d in per_seed for _ in methods], device)
    lam = torch.tensor([value for _ in seeds for _, value in methods], device=device)
    d1 = per_seed[0]["d1"]
    net = StackedFusionNet(m_seeds, d1, x_train.shape[-1] - d1, n_classes, s.n_enc, s.dropout).to(device)
    fit(net, x_train, {"y": y_train}, lambda out, b: fusion_loss(out, b["y"], lam, f["temperature"]),
        epochs=f["epochs"], lr=f["lr"], batch_size=s.fusion_batch_size)
    x_test = _stack([d["x"][d["test"]] for d in per_seed for _ in methods], device)
    probs = torch.softmax(predict(net, x_test)[..., :n_classes].double(), -1).cpu().numpy()
    results = {}
    for i, (seed, d) in enumerate(zip(seeds, per_seed)):
        results[seed] = [
            {"cohort": cohort, "teacher": teacher_mod, "student": student_mod, "split": condition["split"],
             "split_seed": d["split_seed"], "seed": seed, "method": name,
             **classification_metrics(d["y"][d["test"]], probs[i * len(methods) + j])}
            for j, (name, _) in enumerate(methods)
        ]
    return results


# ---------------------------------------------------------------------------
# The paper's values (printed in its text), for the paper columns
# ---------------------------------------------------------------------------

_LEVELS = [0.0, 0.2, 0.4, 0.6, 0.8]
_PAPER_NOISE = {  # cohort: (I_TS per level, I_SL, KD F1 per level, no-KD F1, teacher F1, I_TL)
    "BRCA": ([0.5005, 0.4554, 0.3687, 0.2147, 0.1325], 0.2757,
             [0.5038, 0.4917, 0.4953, 0.4276, 0.4343], 0.4561, 0.7459, 1.1081),
    "KIPAN": ([0.7898, 0.7198, 0.6771, 0.6209, 0.6389], 0.6994,
              [0.8826, 0.8721, 0.8517, 0.8477, 0.8544], 0.8667, 0.9516, 1.0458),
    "LIHC": ([0.0914, 0.0825, 0.0699, 0.0736, 0.0409], 0.0781,
             [0.5795, 0.5692, 0.5368, 0.5259, 0.5080], 0.5548, 0.9430, 0.9055),
}


def paper_noise_table() -> pd.DataFrame:
    """Tables 5 (BRCA), 6 (KIPAN), 7 (LIHC): mRNA teacher, CNV student, means over five runs."""
    rows = []
    for cohort, (ts, sl, kd_f1, nokd, t_f1, tl) in _PAPER_NOISE.items():
        for level, i_ts, f1 in zip(_LEVELS, ts, kd_f1):
            rows.append({"cohort": cohort, "teacher": "mrna", "noise": level, "mi_ts": i_ts, "mi_sl": sl,
                         "f1_kd": f1, "f1_nokd": nokd, "mi_gap": round(i_ts - sl, 4),
                         "kd_gain": round(f1 - nokd, 4), "teacher_f1": t_f1, "mi_tl": tl})
    return pd.DataFrame(rows)


def paper_fusion_table() -> pd.DataFrame:
    """Tables 8 (KIPAN) and 20 (BRCA): MI of representations, fusion and Fusion+KD metrics."""
    columns = ["cohort", "teacher", "mi_tl", "mi_ts", "mi_sl",
               "fusion acc", "fusion auc", "fusion f1_macro", "fusion f1_weighted",
               "fusion_kd acc", "fusion_kd auc", "fusion_kd f1_macro", "fusion_kd f1_weighted"]
    rows = [
        ["KIPAN", "mrna", 1.0458, 0.7898, 0.6994, 0.9610, 0.9851, 0.9219, 0.9591, 0.9740, 0.9872, 0.9293, 0.9725],
        ["KIPAN", "rppa", 1.1609, 0.6893, 0.6994, 0.9740, 0.9995, 0.9333, 0.9721, 0.9610, 0.9971, 0.9225, 0.9595],
        ["BRCA", "mrna", 1.1081, 0.5057, 0.2757, 0.7711, 0.9157, 0.6432, 0.7563, 0.8434, 0.8610, 0.6533, 0.8225],
        ["BRCA", "rppa", 0.7328, 0.3367, 0.2757, 0.5663, 0.7844, 0.5604, 0.5715, 0.6024, 0.7929, 0.5897, 0.6103],
    ]
    return pd.DataFrame(rows, columns=columns)


def paper_class_counts() -> pd.DataFrame:
    """Table 16 (the KIPAN column is empty in the paper's text)."""
    rows = [("BRCA", "Normal-like", 44), ("BRCA", "Basal-like", 129), ("BRCA", "HER2-enriched", 49),
            ("BRCA", "Luminal A", 338), ("BRCA", "Luminal B", 267),
            ("LIHC", "Blast-Like", 39), ("LIHC", "CHOL-Like", 18), ("LIHC", "Liver-Like", 113)]
    return pd.DataFrame(rows, columns=["cohort", "class", "n"])
