"""Sec. 4.2 / App. C, Algorithm 1: an MNIST teacher distilled into an MNIST-M student.

For one condition (the blending weight ``alpha`` of MNIST-M, a training schedule and a
list of temperatures) and a batch of seeds, :func:`run_cell` follows Algorithm 1:

1. train one teacher per seed on clean MNIST (Table 11 network, Table 12 schedule);
2. train the baseline student of each seed on MNIST-M with labels only;
3. freeze the teacher; for every blur ``gamma`` take its soft targets on *blurred*
   MNIST images (image ``i`` of MNIST-M carries the digit of MNIST image ``i``) and
   train, for every temperature ``T``, a new student with Eq. (2);
4. evaluate every student on the MNIST-M test set.

This is :func:`cchlib.kd.run` with one frozen teacher per seed read through one view
per gamma (:attr:`cchlib.kd.SeedData.teacher_views`). Steps 2 and 3 run as *one* stack:
for each seed, the baseline (``lambda = 0``) and one student per (gamma, T), all sharing
the seed's initialisation and batch order, so a KD gain is a paired difference. All
copies read the same input tensor (a stride-0 view), so nothing is copied per student.

The mutual informations come from the penultimate (256-unit) layers on the first
``mi_samples`` test images: ``I_TS(gamma) = I(H_teacher(blur_gamma(x_MNIST));
H_baseline(x_MNIST-M))``, ``I_SL = I(H_baseline; Y)`` and ``I_TL = I(H_teacher(x); Y)``.
The baseline student is used (as in the other chapters) because CCH is a criterion to
check *before* distilling; this also matches the paper's Table 13, whose I(H_student; Y)
does not change with gamma.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cchlib import criteria, kd, stats
from cchlib.data.digits import STUDENT, TEACHER, load_data
from cchlib.data.mnist import gaussian_blur
from cchlib.data.paired import PairedDataset
from cchlib.models import image_mlp
from cchlib.mi import CheckedMI

EVAL_CHUNK = 512  # test images per forward pass when evaluating a stack


@dataclass(frozen=True)
class Settings(CheckedMI):
    """The settings of :func:`run_cell`: the blur grid, Eq. (2), the two MI estimators, the data.

    The defaults are those :func:`run_cell` and :func:`cchlib.data.digits.load_data`
    assume for a setting left out.
    """

    gammas: list[float]  # Gaussian blur (pixels) on the teacher's inputs, one teacher view each
    lam: float  # weight of the distillation term of Eq. (2)
    batch_size: int
    mi_method: str
    mi_options: dict = field(default_factory=dict)
    mi_samples: int | None = None  # first test images used for the MI estimates (None: all)
    mi_method_alt: str | None = None  # the second estimator, for conditions with mi_alt (None: none)
    mi_options_alt: dict = field(default_factory=dict)
    mi_samples_alt: int | None = None
    n_train: int | None = None  # first images of MNIST's training split (None: all)
    n_test: int | None = None  # first images of its test split (None: all)
    student_channels: int = 3  # 3 as in App. C; 1 feeds one of the paper recipe's three equal channels
    recipe: str = "paper"  # MNIST-M's: "paper" (App. C) or "ganin"
    mnistm_seed: int = 0  # seed of MNIST-M's background patches
    threshold: float = 0.5  # digit binarisation threshold, fraction of full intensity
    precision: str = "float32"  # of training's forward pass: "float32" or "bfloat16" (cchlib.train.fit)
    fused_optimiser: bool = True  # the optimiser's fused kernel: 1.7x faster steps on a CPU (cchlib.train.fit)
    mnist_path: str | None = None  # explicit data folders (None: found by cchlib.data)
    bsds_path: str | None = None


def _flat(images: np.ndarray) -> np.ndarray:
    """Images (n, 28, 28) as rows (n, 784)."""
    return images.reshape(len(images), -1)


def _net(role: str):
    """Table 11 for :func:`cchlib.kd.run`: ``net(seeds, d_in, n_out)``."""
    return lambda seeds, d_in, n_out: image_mlp(seeds, d_in, role)


def _mi_specs(condition: dict, s: Settings) -> dict[str, kd.MISpec]:
    """The main estimator (columns ``mi_*``) and, when asked for, the second (``mi_*_alt``)."""
    specs = {"": kd.MISpec(s.mi_method, s.mi_options, samples=s.mi_samples, null=True)}
    if condition.get("mi_alt") and s.mi_method_alt:
        specs["_alt"] = kd.MISpec(s.mi_method_alt, s.mi_options_alt, samples=s.mi_samples_alt)
    return specs


def seed_data(ds: PairedDataset, gammas: list[float], n_mi: int) -> kd.SeedData:
    """The digit pairs as one :class:`~cchlib.kd.SeedData`; one teacher view per blur gamma."""
    images = ds.modalities[TEACHER]
    views = [_flat(gaussian_blur(images, g)) for g in gammas]
    return kd.SeedData([_flat(images)], ds.modalities[STUDENT], ds.labels, ds.train_idx, ds.test_idx,
                       ds.test_idx[:n_mi], views)


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Algorithm 1 for one condition and a batch of seeds (:func:`cchlib.kd.run`); one row per (gamma, T) and seed.

    ``condition``: ``alpha``, ``schedule`` (a name), ``optimiser``, ``lr``, ``epochs``,
    ``temperatures`` and ``mi_alt`` (also estimate the MIs with the second estimator).
    ``settings``: a :class:`Settings` as a dict (its data settings go to :func:`load_data`).
    Columns ``mi_ts_alt, mi_sl_alt, mi_tl_alt`` appear only when ``mi_alt`` is set.
    """
    s = Settings.from_dict(settings)
    data = load_data(condition["alpha"], s.as_dict())
    gammas = [float(g) for g in s.gammas]
    temps = [float(t) for t in condition["temperatures"]]
    if not gammas or not temps:
        raise ValueError("the MNIST experiment needs at least one blur gamma and one temperature")
    specs = _mi_specs(condition, s)
    n_mi = max(spec.samples or len(data.test_idx) for spec in specs.values())
    plan = [(g, t) for g in gammas for t in temps]
    d = seed_data(data, gammas, n_mi)
    results = kd.run(
        [d] * len(seeds), seeds, teacher_net=_net("teacher"), student_net=_net("student"),
        variants=[kd.Variant(teacher=gammas.index(g), lam=s.lam, temperature=t) for g, t in plan],
        schedule=kd.Schedule(condition["epochs"], condition["lr"], s.batch_size, condition["optimiser"],
                             precision=s.precision, fused=s.fused_optimiser),
        mi_spec=specs, chunk=EVAL_CHUNK,
    )
    mi_cols = [f"mi_{m}{suffix}" for suffix in specs for m in ("ts", "sl", "tl")] + list(kd.NULL_COLUMNS)
    return {seed: [{
        "alpha": condition["alpha"], "schedule": condition["schedule"], "gamma": plan[r["variant"]][0],
        "T": plan[r["variant"]][1], "seed": seed, "acc_kd": r["acc_kd"], "acc_nokd": r["acc_nokd"],
        "teacher_acc": r["teacher_acc"], "teacher_acc_blur": r["teacher_acc_view"], **{c: r[c] for c in mi_cols},
        **criteria.columns_of(r),
    } for r in rows] for seed, rows in results.items()}


def summarise(rows: pd.DataFrame, keys: list[str], suffix: str = "") -> pd.DataFrame:
    """Per ``keys``: mean and SE over seeds of accuracies, MIs, the MI gap and the KD gain.

    ``kd_gain = acc_kd - acc_nokd`` (paired by seed; positive when distillation helped)
    and ``mi_gap = mi_ts - mi_sl``, from the MI columns ending in ``suffix`` (``""`` for
    the main estimator, ``"_alt"`` for the second one).
    """
    mi_cols = [f"mi_ts{suffix}", f"mi_sl{suffix}", f"mi_tl{suffix}"]
    missing = set(keys + mi_cols + ["acc_kd", "acc_nokd"]) - set(rows.columns)
    if missing:
        raise ValueError(f"rows lack columns {sorted(missing)}")
    rows = rows.assign(mi_ts=rows[f"mi_ts{suffix}"], mi_sl=rows[f"mi_sl{suffix}"], mi_tl=rows[f"mi_tl{suffix}"])
    if suffix:  # the null MIs belong to the main estimator
        rows = rows.drop(columns=[c for c in kd.NULL_COLUMNS if c in rows])
    columns = ["acc_kd", "acc_nokd", "kd_gain", "teacher_acc", "teacher_acc_blur", "mi_ts", "mi_sl", "mi_tl",
               "mi_gap", "mi_gap_null"]
    return stats.summarise_seeds(stats.outcomes(rows, "acc"), keys, columns).sort_values(keys, ignore_index=True)


def _first_gamma(frame: pd.DataFrame, mask) -> str:
    """The smallest blur level where ``mask`` holds, as text for the prose."""
    hits = frame[mask]
    return f"{hits.gamma.min():g}" if len(hits) else "no blur level of the grid"


def table1_facts(table1: pd.DataFrame, paper1: pd.DataFrame, temperature: float) -> dict:
    """The numbers the prose quotes from Table 1 beside the paper's (glued as ``mnist_<key>``).

    ``table1``: our summary beside the paper's (:func:`cchlib.report.beside_paper`, with
    ``CCH predicts gain``, ``KD helped`` and ``same gain sign as paper``); counts of
    agreement, and at ``temperature`` the gain and gap at the smallest and largest blur
    and the first blur where the gap turns negative or the gain is two SEs below 0,
    ours and the paper's. Text values are Markdown strings.
    """
    ran = table1.dropna(subset=["kd_gain"])
    with_paper = ran.dropna(subset=["paper: acc diff"])
    gap_signs = ran.drop_duplicates("gamma").dropna(subset=["paper: MI gap"])
    at_t = ran[ran["T"] == temperature].set_index("gamma")
    g_lo, g_hi = float(ran.gamma.min()), float(ran.gamma.max())
    facts = {
        "t1_agree": int((ran["CCH predicts gain"] == ran["KD helped"]).sum()), "t1_total": len(ran),
        "t1_same_sign": int(with_paper["same gain sign as paper"].sum()), "t1_with_paper": len(with_paper),
        "t1_gap_same_sign": int(((gap_signs.mi_gap > 0) == (gap_signs["paper: MI gap"] > 0)).sum()),
        "t1_gap_total": len(gap_signs), "g_lo": g_lo, "g_hi": g_hi,
    }
    for name, column in [("gain", "kd_gain"), ("paper_gain", "paper: acc diff"), ("gap", "mi_gap")]:
        facts[f"{name}_lo"] = float(at_t[column].get(g_lo, np.nan))
        facts[f"{name}_hi"] = float(at_t[column].get(g_hi, np.nan))
    at_t = at_t.reset_index()
    paper_t = paper1[paper1["T"] == temperature]
    facts["gap_flip"] = _first_gamma(at_t, at_t.mi_gap < 0)
    facts["loss_flip"] = _first_gamma(at_t, at_t.kd_gain + 2 * at_t.kd_gain_se < 0)
    facts["paper_gap_flip"] = _first_gamma(paper_t, paper_t["MI gap"] < 0)
    facts["paper_loss_flip"] = _first_gamma(paper_t, paper_t["acc diff"] + 2 * paper_t["acc diff SE"] < 0)
    return facts


def table13_sentence(table13: pd.DataFrame, rows13: pd.DataFrame, paper13: pd.DataFrame, teacher: dict,
                     alpha: float) -> str:
    """The prose of Table 13 (Markdown): baseline and teacher accuracy and I(H_T;Y) beside the paper's,
    and how often the gain's sign matched CCH's prediction and the paper's sign.

    ``table13``: our Table 13 beside the paper's; ``rows13``: its per-seed rows;
    ``teacher``: the paper's teacher accuracy and I(H_T;Y) at this ``alpha``.
    """
    teacher_acc, _, _ = stats.summarise(rows13.groupby("seed").teacher_acc.first())
    mi_tl, _, _ = stats.summarise(rows13.groupby("seed").mi_tl.first())
    matched = int((table13["CCH predicts gain"] == table13["KD helped"]).sum())
    same_as_paper = int(((table13["acc diff"] > 0) == (table13["paper: acc diff"] > 0)).sum())
    return (f"At $\\alpha$ = {alpha:g} the baseline student reaches {table13['no-KD acc'].iloc[0]:.3f} "
            f"(paper: {paper13['no-KD acc'].iloc[0]:.3f}); the teacher {teacher_acc:.3f} "
            f"(paper: {teacher['teacher_acc']:.4f}), with $I(H_{{\\text{{teacher}}}}; Y)$ = "
            f"{mi_tl:.3f} nats (paper: {teacher['mi_tl']:.4f}). The sign of the accuracy "
            f"difference matched CCH's prediction from our MI gap at {matched} of {len(table13)} blur levels, and "
            f"matched the paper's sign at {same_as_paper} of them.")
