"""Distillation without paired data: six ways to train a student, on MVD and on MNIST -> MNIST-M.

For one dataset condition and a batch of seeds, :func:`run_cell`

1. builds the data and trains one frozen teacher per seed on the teacher modality
   (MVD: modality a, one teacher per overlap level; MNIST: clean MNIST, one teacher
   whose inputs are then blurred by each gamma, as in the MNIST chapter);
2. trains, as one :class:`~cchlib.models.StackedMLP` (:func:`cchlib.unpaired.fit_students`),
   for every seed the student without distillation and one student per level and
   method of :data:`METHODS`; all copies of a seed share initialisation and
   class-balanced batches, so a gain is a paired difference;
3. measures every student's test accuracy, its feature alignment (FA) and label
   alignment (LA) with the teacher on unpaired test sets, and CCH's mutual
   informations from the teacher and the *baseline* student on the test split:
   ``mi_ts`` on the true pairs, ``mi_ts_shuffled`` on pairs broken within class
   (what a user without pairs could compute), ``mi_sl`` and ``mi_tl``, with the
   estimator's null MIs (:data:`cchlib.kd.NULL_COLUMNS`, :func:`cchlib.kd.mi_columns`).

Why the paired and shuffled KD students are not trained by :func:`cchlib.kd.run`: they
are copies of the same stack as the unpaired students, drawn from the same seed's
initialisation and class-balanced batches (:func:`cchlib.unpaired.fit_students`), so
every method's gain over the one baseline is a paired difference; ``kd.run`` would give
them their own baseline and batch order. Tensors live on
:func:`cchlib.device.default_device`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from cchlib import kd, stats
from cchlib.data.digits import STUDENT, TEACHER
from cchlib.data.digits import load_data as load_mnist_data
from cchlib.data.mnist import gaussian_blur
from cchlib.data.mvd import gamma_setting, make_mvd
from cchlib.distill import cross_entropy
from cchlib.device import default_device
from cchlib.models import StackedMLP, copy_seed
from cchlib.mi import CheckedMI
from cchlib.train import accuracy, drop_constant_columns, fit, predict
from cchlib.unpaired import StudentCopies, TeacherSet, alignment_metrics, fit_students, random_directions

METHODS = ("nokd", "kd_paired", "kd_shuffled", "fa_la", "fa", "la", "fa_la_strong")
EVAL_CHUNK = 512
PAIRING_SALT = 424_242  # seed + salt (copy_seed with stride 1), as cchlib.unpaired's salts
EVAL_SALT = 99_991


@dataclass(frozen=True)
class CommonSettings(CheckedMI):
    """The settings both datasets' cells read: training, distillation, FA / LA and the MI.

    A sweep uses :class:`MVDSettings` or :class:`MNISTSettings`, which add the dataset's own.
    """

    hidden: list[int]  # hidden-layer widths of the teacher and the students
    activation: str
    lr: float  # teacher and students
    batch_size: int  # the teacher's
    teacher_epochs: int
    epochs: int  # the students'
    per_class: int  # class-balanced student batches: this many rows of each class per step
    temperature: float  # softmax temperature of paired KD (Eq. 2) and of LA
    lam: float  # Eq. (2) weight of the KD term
    lam_fa: float  # weight of the feature-alignment term
    lam_la: float  # weight of the label-alignment term
    strong_factor: float  # fa_la_strong multiplies both alignment weights by this
    n_directions: int  # random directions of the sliced W1 in training (fixed per student)
    n_quantiles: int  # quantiles per class and direction summarising the teacher's features
    eval_directions: int  # directions of the measured FA
    mi_method: str
    mi_options: dict
    mi_samples: int | None  # test rows used for each MI estimate (None: all)


@dataclass(frozen=True)
class MVDSettings(CommonSettings):
    """The settings of an MVD cell: the common ones and MFH's MVD data (:func:`cchlib.data.mvd.gamma_setting`)."""

    n_train: int
    n_test: int
    d1: int  # channels of modality a (the teacher's)
    d2: int  # channels of modality b (the student's)
    d: int  # decisive features
    n_each: int  # |J1| = |J2|


@dataclass(frozen=True)
class MNISTSettings(CommonSettings):
    """The settings of an MNIST cell: the common ones, the blur levels, :func:`cchlib.data.digits.load_data`'s."""

    gammas: list[float]  # blur of the teacher's MNIST inputs, one teacher view per gamma
    n_train: int | None  # first images of each split (None: all)
    n_test: int | None
    student_channels: int  # MNIST-M channels the student sees (1 or 3)
    recipe: str  # how MNIST-M is made (cchlib.data.mnist)
    mnistm_seed: int
    threshold: float
    mnist_path: str | None  # explicit data folders; None: $CCH_DATA_ROOT, the caches, a download
    bsds_path: str | None


@dataclass
class Setup:
    """Everything a dataset contributes: student data, teachers, and how they pair up.

    ``x_train`` (X, n, d) / ``y_train`` (X, n) and the test twins hold X student
    datasets. For seed position ``i`` and level position ``j``, ``x_source[i, j]`` names
    the student dataset, and ``teachers_train[i, j]`` / ``teachers_test[i, j]`` the
    teacher's outputs on *its own* modality (row ``r`` of the train set is the
    teacher-side view of student row ``r``, which only paired KD uses).
    """

    dataset: str
    data_name: str
    levels: list
    n_classes: int
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_source: dict
    teachers_train: dict
    teachers_test: dict
    teacher_acc: dict


def within_class_permutation(labels: np.ndarray, seed: int) -> np.ndarray:
    """A random permutation ``p`` with ``labels[p[r]] == labels[r]`` for every row ``r``.

    Pairing row ``r`` with row ``p[r]`` keeps each pair's class and breaks everything
    else that tied the two views of a sample together.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    perm = np.arange(len(labels))
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        perm[rows] = rng.permutation(rows)
    return perm


def method_weights(method: str, s: CommonSettings) -> tuple[float, float, float]:
    """(lam_kd, lam_fa, lam_la) of a method; KD is Eq. (2) with weight ``lam``.

    ``fa_la_strong`` multiplies both alignment weights by ``strong_factor``, to see
    whether a null result of ``fa_la`` only reflects weights too small to matter.
    """
    strong = s.strong_factor
    weights = {
        "nokd": (0.0, 0.0, 0.0),
        "kd_paired": (s.lam, 0.0, 0.0),
        "kd_shuffled": (s.lam, 0.0, 0.0),
        "fa_la": (0.0, s.lam_fa, s.lam_la),
        "fa": (0.0, s.lam_fa, 0.0),
        "la": (0.0, 0.0, s.lam_la),
        "fa_la_strong": (0.0, strong * s.lam_fa, strong * s.lam_la),
    }
    if method not in weights:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    return weights[method]


@torch.no_grad()
def outputs_of(model: StackedMLP, x: torch.Tensor, source=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, logits) of every copy, :data:`EVAL_CHUNK` rows at a time.

    ``x`` is (n, d), shared by all copies, or (X, n, d) with ``source`` (M,) naming each
    copy's dataset.
    """
    x = x.expand(model.n_models, -1, -1) if source is None else x[source]
    h = predict(model, x, features=True, chunk=EVAL_CHUNK)
    return h, model.head(h)


def _fit_teacher(seeds, x: torch.Tensor, y: torch.Tensor, n_classes: int, s: CommonSettings) -> StackedMLP:
    """One classifier per seed on its own teacher inputs ``x`` (S, n, d), labels (S, n)."""
    teacher = StackedMLP(seeds, x.shape[-1], s.hidden, n_classes, role="teacher", activation=s.activation)
    teacher = teacher.to(x.device)
    fit(teacher, x, {"y": y}, lambda out, b: cross_entropy(out, b["y"]), epochs=s.teacher_epochs, lr=s.lr,
        batch_size=s.batch_size)
    return teacher


def _teacher_sets(teacher: StackedMLP, x: torch.Tensor, y: torch.Tensor, source=None) -> list[TeacherSet]:
    h, logits = outputs_of(teacher, x, source)
    labels = y if y.dim() == 2 else y.expand(teacher.n_models, -1)
    return [TeacherSet(h[i], logits[i], labels[i]) for i in range(teacher.n_models)]


def mvd_setup(condition: dict, seeds: list[int], s: MVDSettings, device) -> Setup:
    """MFH's MVD data at one overlap |J1 n J2| (``gamma_setting``), a teacher per seed on modality a."""
    spec = gamma_setting(condition["overlap"], d1=s.d1, d2=s.d2, d=s.d, n_each=s.n_each)
    data = [make_mvd(spec, s.n_train, s.n_test, seed) for seed in seeds]
    stack = lambda part, key: torch.as_tensor(np.stack([ds.split(part)[0][key] for ds in data]), device=device)  # noqa: E731
    labels = lambda part: torch.as_tensor(np.stack([ds.split(part)[1] for ds in data]), device=device)  # noqa: E731
    y_train, y_test = labels("train"), labels("test")
    teacher = _fit_teacher(seeds, stack("train", "xa"), y_train, 2, s)
    own = torch.arange(len(seeds), device=device)
    t_train = _teacher_sets(teacher, stack("train", "xa"), y_train, own)
    t_test = _teacher_sets(teacher, stack("test", "xa"), y_test, own)
    return Setup(
        dataset="mvd", levels=[condition["overlap"]],
        data_name=f"MVD synthetic (MFH App. B.2; d1={s.d1}, d2={s.d2}, d={s.d}, |J1|=|J2|={s.n_each})",
        n_classes=2, x_train=stack("train", "xb"), y_train=y_train, x_test=stack("test", "xb"), y_test=y_test,
        x_source={(i, 0): i for i in range(len(seeds))},
        teachers_train={(i, 0): t for i, t in enumerate(t_train)},
        teachers_test={(i, 0): t for i, t in enumerate(t_test)},
        teacher_acc={(i, 0): float(accuracy(t.logits, t.labels)) for i, t in enumerate(t_test)},
    )


def mnist_setup(condition: dict, seeds: list[int], s: MNISTSettings, device) -> Setup:
    """MNIST (teacher, blurred by each gamma) and MNIST-M (student), as in the MNIST chapter."""
    ds = load_mnist_data(condition["alpha"], s.as_dict())
    (train, y_train), (test, y_test) = ds.split("train"), ds.split("test")
    flat = lambda images: torch.as_tensor(images.reshape(len(images), -1), device=device)  # noqa: E731
    y_train, y_test = torch.as_tensor(y_train, device=device), torch.as_tensor(y_test, device=device)
    x_t = flat(train[TEACHER])
    teacher = _fit_teacher(seeds, x_t.expand(len(seeds), -1, -1), y_train.expand(len(seeds), -1), 10, s)
    gammas = [float(g) for g in s.gammas]
    t_train, t_test, t_acc = {}, {}, {}
    for j, g in enumerate(gammas):
        train_sets = _teacher_sets(teacher, flat(gaussian_blur(train[TEACHER], g)), y_train)
        test_sets = _teacher_sets(teacher, flat(gaussian_blur(test[TEACHER], g)), y_test)
        for i in range(len(seeds)):
            t_train[i, j], t_test[i, j] = train_sets[i], test_sets[i]
            t_acc[i, j] = float(accuracy(test_sets[i].logits, y_test))
    return Setup(
        dataset="mnist", data_name=ds.name, levels=gammas, n_classes=10,
        x_train=torch.as_tensor(train[STUDENT], device=device)[None], y_train=y_train[None],
        x_test=torch.as_tensor(test[STUDENT], device=device)[None], y_test=y_test[None],
        x_source={(i, j): 0 for i in range(len(seeds)) for j in range(len(gammas))},
        teachers_train=t_train, teachers_test=t_test, teacher_acc=t_acc,
    )


SETUPS = {"mvd": (MVDSettings, mvd_setup), "mnist": (MNISTSettings, mnist_setup)}  # a dataset's settings, data


def student_plan(setup: Setup, seeds: list[int]) -> list[tuple[int, int, str]]:
    """The copies of the student stack as (seed position, level position, method).

    Per seed, one no-KD student per distinct student dataset (it does not depend on the
    teacher), then one student per (level, distilling method).
    """
    plan = []
    for i in range(len(seeds)):
        seen = set()
        for j in range(len(setup.levels)):
            if setup.x_source[i, j] not in seen:
                seen.add(setup.x_source[i, j])
                plan.append((i, j, "nokd"))
        plan += [(i, j, m) for j in range(len(setup.levels)) for m in METHODS if m != "nokd"]
    return plan


def _copies(setup: Setup, seeds, plan, s: CommonSettings) -> tuple[StudentCopies, list[TeacherSet]]:
    keys = sorted(setup.teachers_train)
    teacher_index = {key: k for k, key in enumerate(keys)}
    pairings = []
    for i, j, method in plan:
        labels = setup.y_train[setup.x_source[i, j]].cpu().numpy()
        shuffled = method == "kd_shuffled"
        perm = within_class_permutation(labels, copy_seed(seeds[i], PAIRING_SALT + j, 1)) if shuffled else np.arange(len(labels))
        pairings.append(torch.as_tensor(perm))
    weights = torch.tensor([method_weights(m, s) for _, _, m in plan], dtype=torch.float32)
    copies = StudentCopies(
        x_source=torch.tensor([setup.x_source[i, j] for i, j, _ in plan]),
        teacher_source=torch.tensor([teacher_index[i, j] for i, j, _ in plan]),
        pairing=torch.stack(pairings),
        lam_kd=weights[:, 0], lam_fa=weights[:, 1], lam_la=weights[:, 2],
    )
    return copies, [setup.teachers_train[key] for key in keys]


def _mi_columns(setup: Setup, seed: int, i: int, j: int, h_base: np.ndarray, s: CommonSettings) -> dict:
    """CCH's MIs (and the estimator's nulls) from the teacher and the baseline student on the MI rows.

    :func:`cchlib.kd.mi_columns` on the first ``mi_samples`` test rows, plus
    ``mi_ts_shuffled``: I(H_T; H_S) on pairs broken within class.
    """
    spec = kd.MISpec(s.mi_method, s.mi_options or {}, null=True, samples=s.mi_samples or None)
    teacher = setup.teachers_test[i, j]
    labels, h_t = teacher.labels.cpu().numpy(), teacher.features.cpu().numpy()
    row = kd.mi_columns(spec, [h_t], h_base, labels, seed)[0]
    perm = within_class_permutation(labels[: spec.samples], copy_seed(seed, PAIRING_SALT, 1))
    shuffled = drop_constant_columns(h_t[: spec.samples])[perm]
    return {**row, "mi_ts_shuffled": spec.estimate(shuffled, drop_constant_columns(h_base[: spec.samples]), seed)}


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """All six methods for one dataset condition and a batch of seeds; one row per (level, method, seed).

    ``condition``: ``dataset`` ("mvd" with ``overlap``, or "mnist" with ``alpha``).
    ``settings``: that dataset's :class:`MVDSettings` or :class:`MNISTSettings` as a dict.
    """
    dataset = condition.get("dataset")
    if dataset not in SETUPS:
        raise ValueError(f"condition needs dataset in {sorted(SETUPS)}, got {dataset!r}")
    settings_class, make_setup = SETUPS[dataset]
    s = settings_class.from_dict(settings)
    device = default_device()
    setup = make_setup(condition, seeds, s, device)
    plan = student_plan(setup, seeds)
    copies, teachers = _copies(setup, seeds, plan, s)
    students = StackedMLP(
        [seeds[i] for i, _, _ in plan], setup.x_train.shape[-1], s.hidden, setup.n_classes,
        role="student", activation=s.activation,
    ).to(device)
    fit_students(
        students, setup.x_train, setup.y_train, teachers, copies, n_classes=setup.n_classes,
        epochs=s.epochs, lr=s.lr, per_class=s.per_class, temperature=s.temperature,
        n_directions=s.n_directions, n_quantiles=s.n_quantiles,
    )
    source = copies.x_source.to(device)
    h, logits = outputs_of(students, setup.x_test, source)
    y_test = setup.y_test[source]
    acc = accuracy(logits, y_test)
    return _rows(condition, setup, seeds, plan, h, logits, y_test, acc, s)


def _rows(condition, setup, seeds, plan, h, logits, y_test, acc, s: CommonSettings) -> dict[int, list[dict]]:
    """One row per (level, method) and seed: accuracy, gain, FA, LA and CCH's MIs."""
    position = {key: m for m, key in enumerate(plan)}
    base = {(i, setup.x_source[i, j]): m for m, (i, j, method) in enumerate(plan) if method == "nokd"}
    results = {}
    for i, seed in enumerate(seeds):
        directions = random_directions(h.shape[-1], s.eval_directions, seed, EVAL_SALT).to(h.device)
        rows = []
        for j, level in enumerate(setup.levels):
            b = base[i, setup.x_source[i, j]]
            mis = _mi_columns(setup, seed, i, j, h[b].cpu().numpy(), s)
            t = setup.teachers_test[i, j]
            teacher = {"features": t.features, "logits": t.logits, "labels": t.labels}
            for method in METHODS:
                m = b if method == "nokd" else position[i, j, method]
                student = {"features": h[m], "logits": logits[m], "labels": y_test[m]}
                fa, la = alignment_metrics(student, teacher, setup.n_classes, directions, s.temperature)
                rows.append({
                    "dataset": setup.dataset, "data": setup.data_name, "condition": _level_name(setup, level),
                    "level": float(level), "method": method, "seed": seed, "acc": float(acc[m]),
                    "acc_nokd": float(acc[b]), "gain": float(acc[m] - acc[b]), "fa": fa, "la": la,
                    "teacher_acc": setup.teacher_acc[i, j], **mis,
                })
        results[seed] = rows
    return results


def _level_name(setup: Setup, level) -> str:
    return f"overlap={level:g}" if setup.dataset == "mvd" else f"gamma={level:g}"


# ------------------------------------------------------------------ summaries


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, condition, level, method): mean and SE over seeds of acc, gain, FA, LA and the MI gaps.

    ``mi_gap = mi_ts - mi_sl`` (true pairs), ``mi_gap_shuffled = mi_ts_shuffled - mi_sl``
    (pairs broken within class) and, with the null MIs, ``mi_gap_null``
    (:func:`cchlib.stats.gap_columns`); ``n_seeds`` per group.
    """
    needed = {"dataset", "condition", "level", "method", "acc", "gain", "fa", "la", "mi_ts", "mi_ts_shuffled", "mi_sl"}
    missing = needed - set(rows.columns)
    if missing:
        raise ValueError(f"rows lack columns {sorted(missing)}")
    rows = stats.gap_columns(rows).assign(mi_gap_shuffled=rows.mi_ts_shuffled - rows.mi_sl)
    columns = ["acc", "gain", "fa", "la", "mi_ts", "mi_ts_shuffled", "mi_sl", "mi_gap", "mi_gap_shuffled", "mi_gap_null"]
    return stats.summarise_seeds(rows, ["dataset", "condition", "level", "method"], columns)


def cch_predictions(summary: pd.DataFrame) -> pd.DataFrame:
    """Scorecard conditions: CCH's prediction for each distilling method.

    Paired KD is judged by the gap on true pairs; KD on broken pairs by the gap a user
    without pairs could measure, on within-class random pairs. The unpaired methods (FA,
    LA) would be judged by that same shuffled-pair gap, so they would repeat one
    prediction several times: they stay in the chapter's own tables, out of the scorecard.
    """
    rows = summary[summary.method.isin(["kd_paired", "kd_shuffled"])].copy()
    paired = rows.method == "kd_paired"
    rows["mi_gap"] = np.where(paired, rows.mi_gap, rows.mi_gap_shuffled)
    rows["mi_gap_se"] = np.where(paired, rows.mi_gap_se, rows.mi_gap_shuffled_se)
    rows["mi_ts"] = np.where(paired, rows.mi_ts, rows.mi_ts_shuffled)
    rows["kd_gain"], rows["kd_gain_se"] = rows.gain, rows.gain_se
    rows["condition"] = rows.dataset + ": " + rows.condition + ", " + rows.method
    null = [c for c in ("mi_gap_null", "mi_gap_null_se") if c in rows]  # the estimator's null, either gap
    rows["independent_data"] = rows.dataset == "mvd"  # MVD draws data per seed; MNIST has one test set
    return rows[["condition", "dataset", "mi_ts", "mi_sl", "mi_gap", "mi_gap_se", *null, "kd_gain", "kd_gain_se",
                 "n_seeds", "independent_data"]].reset_index(drop=True)
