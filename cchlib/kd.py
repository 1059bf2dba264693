"""THE distillation experiment of the book: teacher, baseline and distilled students, MIs.

Every chapter runs one protocol, written here once (:func:`run`):

1. train the teachers, one stack with ``copies`` teachers per seed (e.g. one per level of
   noise on the teacher's inputs), on the teacher modality's training rows;
2. train, as ONE student stack, per seed the baseline student (lambda = 0) and one
   distilled student per :class:`Variant` (its teacher copy, weight lambda and
   temperature), all from the seed's initialisation and batch order, so that every
   KD gain is a paired difference;
3. score teachers and students on the test rows (:data:`SCORES`);
4. take the last hidden layers on the MI rows (the test rows unless given), drop
   constant columns, and estimate I(H_T; H_S), I(H_S; Y) and I(H_T; Y), H_S being the
   *baseline* student's representation (CCH is checked before deciding to distil);
   optionally the estimator's null MIs (:func:`cchlib.stats.null_mis`);
5. return, per seed, one tidy row per variant.

Regression (Eq. 4) and classification (Eq. 2) are the two tasks; noise on the teacher
is a set of teacher copies whose inputs carry the noise; a fusion student is a student
network whose input concatenates modalities. A chapter prepares the data
(:class:`SeedData` per seed) and the configuration, and calls :func:`run`.

Two relatives share its pieces: :func:`run_pairs` (every modality the others' teacher
and baseline) and :func:`run_fusion` (teacher and student as two heads of one fusion
network, trained together, the paper's Fusion+KD).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from tqdm.auto import tqdm

from cchlib import criteria, mi, stats
from cchlib.distill import classification_kd_loss, cross_entropy, fusion_kd_loss, regression_kd_loss
from cchlib.models import check_stack
from cchlib.train import default_device, drop_constant_columns, fit, predict

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Schedule:
    """How a stack is trained (the arguments of :func:`cchlib.train.fit`)."""

    epochs: int
    lr: float
    batch_size: int
    optimiser: str = "adam"
    weight_decay: float = 0.0
    schedule: str | None = None
    precision: str = "float32"
    fused: bool = False  # the optimiser's fused kernel (cchlib.train.fit)


NULL_COLUMNS = ("mi_ts_null", "mi_sl_null")  # the estimator's null MIs, with MISpec(null=True)
FUSION_SCORES = ("acc", "auc", "f1_macro", "f1_weighted")  # the joint head's test scores (fusion_scores)

# The rows' schema: the columns every row of each protocol holds. ``{score}`` is each score
# of the task (SCORES: ``mse`` for regression; ``acc``, ``f1`` for classification) and
# ``{mi}`` each estimator's suffix ("" for one MISpec). Optional columns come on top:
# the null MIs (MISpec(null=True)), SEs of repeated estimates (``_se``), teacher scores on
# frozen-teacher views (``teacher_<score>_view``) and the criteria's candidates
# (``crit_*``, ``gap_*``). What a chapter derives from the rows is defined once, in
# cchlib.stats.outcomes: ``kd_gain`` (signed so that positive means distillation helped),
# ``mi_gap`` and the null gap.
ROW_SCHEMA = {
    "run": ("seed", "variant", "{score}_kd", "{score}_nokd", "teacher_{score}", "mi_ts{mi}", "mi_sl{mi}", "mi_tl{mi}"),
    "run_pairs": ("seed", "teacher", "student", "{score}_nokd", "teacher_{score}", "mi_ts{mi}", "mi_sl{mi}",
                  "mi_tl{mi}"),  # and {score}_kd when a student is distilled
    "run_fusion": ("seed", "method", *FUSION_SCORES),
}


def check_rows(results: dict[int, list[dict]], protocol: str, task: str = "classification", mi_suffixes=("",),
               distilled: bool = True) -> dict[int, list[dict]]:
    """``results`` unchanged, once each row is checked against :data:`ROW_SCHEMA`; else a ValueError.

    Every declared column must be present, and every score and MI must be a real
    number (NaN only where a score cannot be computed, e.g. an AUC without a class).
    """
    scores = FUSION_SCORES if protocol == "run_fusion" else SCORE_NAMES[task]
    columns = {c.format(score=score, mi=mi) for c in ROW_SCHEMA[protocol] for score in scores for mi in mi_suffixes}
    if protocol == "run_pairs" and distilled:
        columns |= {f"{score}_kd" for score in scores}
    for seed, rows in results.items():
        for row in rows:
            missing = columns - set(row)
            if missing:
                raise ValueError(f"{protocol}: a row of seed {seed} lacks {sorted(missing)} ({ROW_SCHEMA[protocol]})")
            bad = [c for c in columns if c.startswith(("mi_", *scores)) and not isinstance(row[c], (int, float))]
            if bad:
                raise ValueError(f"{protocol}: seed {seed}'s {sorted(bad)} are not numbers: {[row[c] for c in bad]}")
    return results


@dataclass(frozen=True)
class MISpec:
    """The MI estimator: ``cchlib.mi.estimate(a, b, method, seed=<training seed>, **options)``.

    ``null``: also estimate the estimator's null MIs (rows permuted, see
    :func:`cchlib.stats.null_mis`) as columns ``mi_ts_null`` and ``mi_sl_null``; this
    adds two estimates to the three of each (seed, teacher). ``samples``: use only the
    first ``samples`` MI rows (``None``: all of them). ``repeats``: average that many
    estimates (estimator seeds ``seed * 1000 + r``, :func:`cchlib.mi.estimate_with_se`);
    :func:`run_pairs` then also reports their SEs. ``gap_methods``: ``{method:
    options}`` of extra estimators for the criteria's ``gap_<method>`` columns (KSG is
    always there; see :func:`cchlib.criteria.add_columns`).
    """

    method: str = mi.DEFAULT_METHOD
    options: dict = field(default_factory=dict)
    null: bool = False
    samples: int | None = None
    repeats: int | None = None
    gap_methods: dict = field(default_factory=dict)

    def __post_init__(self):
        for method, options in {self.method: self.options, **self.gap_methods}.items():
            mi.check_spec(method, options)  # before anything trains

    def estimate(self, a, b, seed: int) -> float:
        if self.repeats:
            return self.estimate_se(a, b, seed)[0]
        return mi.estimate(a, b, method=self.method, seed=int(seed), **self.options)

    def estimate_se(self, a, b, seed: int) -> tuple[float, float]:
        """Mean and SE over ``repeats`` estimator seeds (SE NaN without repeats)."""
        if not self.repeats:
            return self.estimate(a, b, seed), float("nan")
        seeds = [int(seed) * 1000 + r for r in range(self.repeats)]
        est = mi.estimate_with_se(a, b, method=self.method, seeds=seeds, **self.options)
        return est.mean, est.se


@dataclass(frozen=True)
class Variant:
    """One distilled student per seed: its teacher copy, lambda, and temperature (classes only)."""

    teacher: int = 0
    lam: float = 0.5
    temperature: float = 1.0


@dataclass
class SeedData:
    """One seed's data: arrays over all N samples and index arrays into them.

    ``teacher_x`` holds one (N, d_t) array per teacher copy (the same object repeated
    when the copies see the same inputs); ``student_x`` is (N, d_s); ``y`` (N,) holds
    integer classes or float targets. ``mi_rows`` (default: ``test``) are the samples
    whose representations enter the MI estimates.

    ``teacher_views`` (frozen-teacher reuse): (N, d_t) arrays that the ONE trained
    teacher of the seed (``teacher_x`` then holds one array, its training inputs) reads
    for the soft targets and for I(H_T; H_S), one per view (e.g. blurred images); a
    :class:`Variant` then names a view. I(H_T; Y) and ``teacher_<score>`` stay on the
    teacher's own inputs; rows add ``teacher_<score>_view``.
    """

    teacher_x: list
    student_x: np.ndarray
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray
    mi_rows: np.ndarray | None = None
    teacher_views: list | None = None

    def rows(self, part: str) -> np.ndarray:
        if part == "mi":
            return self.test if self.mi_rows is None else self.mi_rows
        return {"train": self.train, "test": self.test}[part]


def seed_data(ds, teacher: str, student: str, teacher_copies: int = 1, mi_rows=None) -> SeedData:
    """The :class:`SeedData` of a :class:`~cchlib.data.paired.PairedDataset` (modality names)."""
    for name in (teacher, student):
        if name not in ds.modalities:
            raise ValueError(f"the dataset has no modality {name!r} (it has {sorted(ds.modalities)})")
    x_t = ds.modalities[teacher]
    return SeedData([x_t] * teacher_copies, ds.modalities[student], ds.labels, ds.train_idx, ds.test_idx, mi_rows)


# ---------------------------------------------------------------------------
# Scores: per copy, from outputs (M, n, k) and targets
# ---------------------------------------------------------------------------


def _mse(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-copy mean squared error over samples, shape (M,)."""
    return ((outputs - y) ** 2).mean(dim=(-2, -1))


def regression_scores(outputs: torch.Tensor, y: torch.Tensor) -> dict[str, np.ndarray]:
    """``mse`` per copy (lower is better)."""
    return {"mse": _mse(outputs, y).cpu().numpy()}


def classification_scores(outputs: torch.Tensor, y: torch.Tensor) -> dict[str, np.ndarray]:
    """``acc`` and weighted ``f1`` per copy, from the argmax of the logits."""
    pred, y = outputs.argmax(-1).cpu().numpy(), y.cpu().numpy()
    return {
        "acc": np.array([accuracy_score(t, p) for t, p in zip(y, pred)]),
        "f1": np.array([f1_score(t, p, average="weighted") for t, p in zip(y, pred)]),
    }


SCORES = {"regression": regression_scores, "classification": classification_scores}
SCORE_NAMES = {"regression": ("mse",), "classification": ("acc", "f1")}  # the keys each of SCORES returns


# ---------------------------------------------------------------------------
# Stacks
# ---------------------------------------------------------------------------


def _tensor(arrays: list, rows: list, device) -> torch.Tensor:
    """(M, n, ...) inputs: ``arrays[m][rows[m]]``; a stride-0 view when all copies share them."""
    first = arrays[0]
    if all(a is first for a in arrays) and all(r is rows[0] for r in rows):
        x = torch.as_tensor(first[rows[0]], device=device)
        return x.unsqueeze(0).expand(len(arrays), *x.shape)
    return torch.as_tensor(np.stack([a[r] for a, r in zip(arrays, rows)]), device=device)


def _targets(task: str, data: list[SeedData], copies: int, part: str, device) -> torch.Tensor:
    """Labels of ``part`` for ``copies`` copies per seed: (M, n) classes or (M, n, 1) targets."""
    y = _tensor([d.y for d in data for _ in range(copies)], [d.rows(part) for d in data for _ in range(copies)], device)
    return y if task == "classification" else y[..., None].float()  # float32 training targets


def _labels_loss(task: str) -> Callable:
    if task == "classification":
        return lambda out, b: cross_entropy(out, b["y"])
    return lambda out, b: _mse(out, b["y"])


def _kd_loss(task: str, lam: torch.Tensor, temperatures: list[float]) -> Callable:
    """Per-copy distillation loss: Eq. (4) for regression, Eq. (2) for classes.

    Copies with different temperatures are taken group by group (Eq. 2 takes one).
    """
    if task == "regression":
        return lambda out, b: regression_kd_loss(out, b["y"], b["teacher"], lam)
    distinct = sorted(set(temperatures))
    if len(distinct) == 1:
        return lambda out, b: classification_kd_loss(out, b["y"], b["teacher"], lam, distinct[0])
    t = torch.tensor(temperatures, device=lam.device)
    groups = [(v, torch.nonzero(t == v).squeeze(-1)) for v in distinct]

    def loss(out, b):
        losses = out.new_empty(out.shape[0])
        for value, idx in groups:
            losses[idx] = classification_kd_loss(out[idx], b["y"][idx], b["teacher"][idx], lam[idx], value)
        return losses

    return loss


# ---------------------------------------------------------------------------
# The experiment
# ---------------------------------------------------------------------------


@dataclass
class _Trained:
    """A trained stack with its per-copy inputs (all N rows) and the copies' seed index."""

    model: object
    inputs: list  # per copy: the (N, d) array it reads
    data: list  # per copy: its seed's SeedData


def _sources(data: list[SeedData]) -> int:
    """Teacher inputs per seed that a :class:`Variant` may name: the views, else the copies."""
    views = data[0].teacher_views
    return len(data[0].teacher_x) if views is None else len(views)


def _check_teacher_inputs(data: list[SeedData]) -> None:
    copies, views = len(data[0].teacher_x), data[0].teacher_views
    if copies < 1 or any(len(d.teacher_x) != copies for d in data):
        raise ValueError("every seed needs the same (non-zero) number of teacher copies in teacher_x")
    if views is not None and (copies != 1 or not views or any(len(d.teacher_views or ()) != len(views) for d in data)):
        raise ValueError("teacher_views need one teacher copy per seed and the same (non-zero) number of views per seed")


def _teacher_on(teachers: _Trained, data, part: str, device, chunk=None, features=False) -> torch.Tensor:
    """The teachers on ``part`` rows of their own inputs, or of every view (seed-major copies)."""
    if data[0].teacher_views is None:
        x = _tensor(teachers.inputs, [d.rows(part) for d in teachers.data], device)
        return predict(teachers.model, x, features, chunk)
    rows = [d.rows(part) for d in data]
    outs = [predict(teachers.model, _tensor([d.teacher_views[v] for d in data], rows, device), features, chunk)
            for v in range(_sources(data))]
    return torch.stack(outs, dim=1).flatten(0, 1)


def _train_teachers(data, seeds, teacher_net, task, n_out, schedule, device) -> _Trained:
    _check_teacher_inputs(data)
    copies = len(data[0].teacher_x)
    inputs = [x for d in data for x in d.teacher_x]
    per_copy = [d for d in data for _ in range(copies)]
    x = _tensor(inputs, [d.train for d in per_copy], device)
    model = teacher_net([s for s in seeds for _ in range(copies)], x.shape[-1], n_out).to(device)
    check_stack(model, features=True)
    fit(model, x, {"y": _targets(task, data, copies, "train", device)}, _labels_loss(task), **asdict(schedule))
    return _Trained(model, inputs, per_copy)


def _train_students(data, seeds, student_net, variants, teachers: _Trained, task, n_out, schedule, device, chunk):
    """Per seed the baseline (copy 0, lambda = 0) and one distilled student per variant."""
    t_copies = _sources(data)
    for v in variants:
        if not 0 <= v.teacher < t_copies:
            raise ValueError(f"variant {v} names teacher input {v.teacher}, but there are {t_copies} per seed")
    plan = [None, *variants]
    teacher_out = _teacher_on(teachers, data, "train", device, chunk)
    which = [i * t_copies + (v.teacher if v else 0) for i in range(len(data)) for v in plan]  # lam = 0: unused
    per_copy = [(s, d, v or Variant(lam=0.0, temperature=variants[0].temperature)) for s, d in zip(seeds, data) for v in plan]
    return _fit_students(student_net, per_copy, teacher_out[which], task, n_out, schedule, device)


def _fit_students(student_net, per_copy: list, teacher_out, task, n_out, schedule, device) -> _Trained:
    """One student stack, copy ``m`` = ``per_copy[m]`` = (seed, SeedData, Variant), on soft targets ``teacher_out``."""
    data = [d for _, d, _ in per_copy]
    x = _tensor([d.student_x for d in data], [d.train for d in data], device)
    lam = torch.tensor([v.lam for _, _, v in per_copy], device=device)
    model = student_net([s for s, _, _ in per_copy], x.shape[-1], n_out).to(device)
    check_stack(model, features=True)
    targets = {"y": _targets(task, data, 1, "train", device), "teacher": teacher_out}
    fit(model, x, targets, _kd_loss(task, lam, [v.temperature for _, _, v in per_copy]), **asdict(schedule))
    return _Trained(model, [d.student_x for d in data], data)


def _evaluate(trained: _Trained, task: str, device, chunk=None, features=True) -> tuple[dict, np.ndarray | None]:
    """Scores per copy on the test rows, and representations (M, n_mi, h) on the MI rows (if ``features``)."""
    x = _tensor(trained.inputs, [d.test for d in trained.data], device)
    y = _tensor([d.y for d in trained.data], [d.test for d in trained.data], device)
    scores = SCORES[task](predict(trained.model, x, chunk=chunk), y if task == "classification" else y[..., None])
    if not features:
        return scores, None
    x_mi = _tensor(trained.inputs, [d.rows("mi") for d in trained.data], device)
    return scores, predict(trained.model, x_mi, features=True, chunk=chunk).cpu().numpy()


def _evaluate_views(teachers: _Trained, data, task: str, device, chunk=None) -> tuple[dict, np.ndarray] | None:
    """Like :func:`_evaluate` for the teacher on every view (None without views)."""
    if data[0].teacher_views is None:
        return None
    y = _targets(task, data, _sources(data), "test", device)
    scores = SCORES[task](_teacher_on(teachers, data, "test", device, chunk), y)
    return scores, _teacher_on(teachers, data, "mi", device, chunk, features=True).cpu().numpy()


def mi_columns(spec: MISpec, h_t: list, h_s: np.ndarray, labels: np.ndarray, seed: int, h_tl=None) -> list[dict]:
    """Per teacher input: mi_ts, mi_sl, mi_tl (and the nulls) on one seed's representations.

    ``h_tl``: the teacher's representation for I(H_T; Y) when it is not each of ``h_t``
    (frozen-teacher views)."""
    n = spec.samples
    hs, labels = drop_constant_columns(h_s[:n]), labels[:n]
    mi_sl = spec.estimate(hs, labels, seed)
    estimate = lambda a, b, seed: spec.estimate(a, b, seed)  # noqa: E731
    sl_null = stats.permuted_mi(estimate, hs, labels, seed, stream=2) if spec.null else None
    mi_tl = None if h_tl is None else spec.estimate(drop_constant_columns(h_tl[:n]), labels, seed)
    out = []
    for h in h_t:
        ht = drop_constant_columns(h[:n])
        row = {"mi_ts": spec.estimate(ht, hs, seed), "mi_sl": mi_sl,
               "mi_tl": spec.estimate(ht, labels, seed) if h_tl is None else mi_tl}
        if spec.null:
            row.update(mi_ts_null=stats.permuted_mi(estimate, hs, ht, seed, stream=1), mi_sl_null=sl_null)
        out.append(row)
    return out


def run(
    data: list[SeedData],
    seeds,
    *,
    teacher_net: Callable,
    student_net: Callable,
    variants: list[Variant],
    schedule: Schedule,
    mi_spec: MISpec | dict[str, MISpec],
    task: str = "classification",
    teacher_schedule: Schedule | None = None,
    n_out: int | None = None,
    device=None,
    chunk: int | None = None,
) -> dict[int, list[dict]]:
    """The experiment for a batch of seeds; per seed one row per variant.

    Args:
        data: one :class:`SeedData` per seed (same sizes for every seed).
        teacher_net, student_net: ``net(seeds, d_in, n_out)`` -> a stack
            (:class:`cchlib.models.Stack`) with one copy per listed seed; give each a role
            so that teacher and student start from different weights.
        variants: the distilled students (a baseline is always trained).
        schedule: training of the students (and of the teachers unless
            ``teacher_schedule``); mi_spec: the estimator, or ``{suffix: MISpec}`` for
            several (their columns end in the suffix, e.g. ``mi_ts_alt``).
        task: ``"classification"`` (Eq. 2, scores ``acc`` and ``f1``) or ``"regression"``
            (Eq. 4, score ``mse``); n_out: output width (default: classes in ``y``, or 1).
        chunk: evaluate this many samples at a time (large test sets).
        Frozen-teacher reuse: :attr:`SeedData.teacher_views`.

    Each row holds ``seed``, ``variant`` (index into ``variants``), ``<score>_kd``,
    ``<score>_nokd``, ``teacher_<score>`` (the variant's teacher copy) and ``mi_ts``,
    ``mi_sl``, ``mi_tl`` (plus ``mi_ts_null``, ``mi_sl_null`` when ``mi_spec.null``).
    """
    seeds = [int(s) for s in seeds]
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if len(data) != len(seeds) or not seeds:
        raise ValueError(f"give one SeedData per seed: {len(data)} for {len(seeds)} seeds")
    if not variants:
        raise ValueError("give at least one distillation Variant")
    device = device or default_device()
    if n_out is None:
        n_out = int(max(d.y.max() for d in data)) + 1 if task == "classification" else 1
    teachers = _train_teachers(data, seeds, teacher_net, task, n_out, teacher_schedule or schedule, device)
    students = _train_students(data, seeds, student_net, variants, teachers, task, n_out, schedule, device, chunk)
    teacher, student = _evaluate(teachers, task, device, chunk), _evaluate(students, task, device, chunk)
    views = _evaluate_views(teachers, data, task, device, chunk)
    specs = mi_spec if isinstance(mi_spec, dict) else {"": mi_spec}
    results = check_rows(_rows(data, seeds, variants, teacher, student, views, specs, task), "run", task, tuple(specs))
    return _diagnostics(results, data, variants, teachers, students, views or teacher, student, specs, task, device, chunk)


def _seed_mis(specs: dict, i: int, d: SeedData, seed: int, teacher, student, views, copies, task) -> list[dict]:
    """Seed ``i``'s MI columns per teacher input, for every estimator (suffixed columns)."""
    labels = d.y[d.rows("mi")]
    labels = labels if task == "classification" else labels[:, None]
    h_s = student[1][i * copies]
    if views is None:
        n = len(d.teacher_x)
        h_t, h_tl = list(teacher[1][i * n : (i + 1) * n]), None
    else:
        n = _sources([d])
        h_t, h_tl = list(views[1][i * n : (i + 1) * n]), teacher[1][i]
    per_spec = [[{k + suffix: v for k, v in row.items()} for row in mi_columns(spec, h_t, h_s, labels, seed, h_tl)]
                for suffix, spec in specs.items()]
    return [{k: v for part in parts for k, v in part.items()} for parts in zip(*per_spec)]


def _rows(data, seeds, variants, teacher, student, views, specs, task) -> dict[int, list[dict]]:
    """Per seed one row per variant: scores with and without KD, the teacher's, and the MIs."""
    t_copies, copies, sources = len(data[0].teacher_x), 1 + len(variants), _sources(data)
    results = {}
    for i, (seed, d) in enumerate(zip(seeds, data)):
        mis = _seed_mis(specs, i, d, seed, teacher, student, views, copies, task)
        rows = []
        for j, v in enumerate(variants):
            row = {"seed": seed, "variant": j}
            for name, values in student[0].items():
                row[f"{name}_kd"], row[f"{name}_nokd"] = float(values[i * copies + 1 + j]), float(values[i * copies])
                row[f"teacher_{name}"] = float(teacher[0][name][i * t_copies + (0 if views else v.teacher)])
                if views:
                    row[f"teacher_{name}_view"] = float(views[0][name][i * sources + v.teacher])
            rows.append({**row, **mis[v.teacher]})
        results[seed] = rows
    return results


# ---------------------------------------------------------------------------
# Every modality against every other: baselines that are each other's teachers
# ---------------------------------------------------------------------------


@dataclass
class PairsResult:
    """What :func:`run_pairs` found: rows per seed, and every network's test scores per seed."""

    rows: dict[int, list[dict]]
    scores: dict[str, dict[str, np.ndarray]]


def _pair_mis(spec: MISpec, h: dict, labels, pairs, seed: int, suffix: str = "") -> dict:
    """Per (teacher, student): mi_ts, mi_sl, mi_tl (+ ``_se`` with repeats, + nulls), one estimate per pair.

    I(H_a; H_b) is estimated once per unordered pair, in the order of ``h``'s keys."""
    order = list(h)
    unordered = {tuple(sorted(p, key=order.index)) for p in pairs}
    pair = {p: spec.estimate_se(h[p[0]], h[p[1]], seed) for p in sorted(unordered, key=lambda p: [order.index(m) for m in p])}
    label = {m: spec.estimate_se(h[m], labels, seed) for m in order}
    if spec.null:
        estimate = lambda a, b, seed: spec.estimate(a, b, seed)  # noqa: E731
        label_null = {m: stats.permuted_mi(estimate, h[m], labels, seed, stream=2) for m in order}
        pair_null = {p: stats.permuted_mi(estimate, h[p[0]], h[p[1]], seed, stream=1) for p in pair}
    out = {}
    for t, st in pairs:
        p = tuple(sorted((t, st), key=order.index))
        values = {"mi_ts": pair[p], "mi_sl": label[st], "mi_tl": label[t]}
        row = {k: v[0] for k, v in values.items()}
        if spec.repeats:
            row.update({f"{k}_se": v[1] for k, v in values.items()})
        if spec.null:
            row.update(mi_ts_null=pair_null[p], mi_sl_null=label_null[st])
        out[t, st] = {k + suffix: v for k, v in row.items()}
    return out


def _distil_pairs(base: dict, students, pairs, seeds, distil, task, n_out, schedule, device, chunk, progress) -> dict:
    """Per student modality one stack: a distilled copy per (seed, teacher); its test scores per pair and seed."""
    out = {}
    for st in tqdm(students, desc="distilling", unit="student", disable=not progress):
        teachers = [t for t, s in pairs if s == st]
        soft = {t: _teacher_on(base[t][0], [base[t][0].data[0]], "train", device, chunk) for t in teachers}
        copies = [(i, t) for i in range(len(seeds)) for t in teachers]
        d = base[st][0].data[0]
        model = _fit_students(base[st][1], [(seeds[i], d, distil) for i, _ in copies],
                              torch.stack([soft[t][i] for i, t in copies]), task, n_out, schedule, device)
        scores = _evaluate(model, task, device, chunk, features=False)[0]
        for j, (i, t) in enumerate(copies):
            out[t, st, i] = {name: values[j] for name, values in scores.items()}
    return out


def run_pairs(
    data: dict[str, SeedData],
    nets: dict[str, Callable],
    seeds,
    *,
    pairs: list[tuple[str, str]],
    schedule: Schedule,
    mi_spec: MISpec | dict[str, MISpec],
    distil: Variant | None = None,
    task: str = "classification",
    n_out: int | None = None,
    device=None,
    chunk: int | None = None,
    progress: bool = False,
    diagnostics: bool = False,
) -> PairsResult:
    """Every modality's network is its own baseline student and the other modalities' teacher.

    ``data[m]``: modality ``m`` as the ``student_x`` of a :class:`SeedData` (shared by all
    seeds; ``teacher_x`` unused); ``nets[m]``: its ``net(seeds, d_in, n_out)``. Trains one
    stack per modality (a copy per seed) on the labels, estimates the MIs of every
    ``(teacher, student)`` pair on the MI rows (keys' order fixes each unordered pair's
    argument order) and, with ``distil`` (its ``lam`` and ``temperature``), trains per
    student one stack of distilled copies, one per (seed, teacher). Rows per seed and pair:
    ``teacher``, ``student``, ``<score>_nokd`` (the student's baseline),
    ``teacher_<score>``, ``<score>_kd`` (with ``distil``), and the MI columns; with
    ``diagnostics``, the criteria's candidates too (:func:`cchlib.criteria.pair_columns`).
    """
    seeds, device = [int(s) for s in seeds], device or default_device()
    specs = mi_spec if isinstance(mi_spec, dict) else {"": mi_spec}
    names = list(dict.fromkeys(m for p in pairs for m in p))
    if task not in TASKS or not seeds or any(t == s for t, s in pairs) or set(names) - set(data) - set(nets):
        raise ValueError(f"run_pairs needs a task in {TASKS}, seeds, and pairs of two different modalities of data")
    ref = data[names[0]]
    n_out = n_out or (int(ref.y.max()) + 1 if task == "classification" else 1)
    base, evaluated = {}, {}
    for m in tqdm(names, desc="training networks", unit="modality", disable=not progress):
        d = SeedData([data[m].student_x], data[m].student_x, ref.y, ref.train, ref.test, ref.mi_rows)
        base[m] = (_train_teachers([d] * len(seeds), seeds, nets[m], task, n_out, schedule, device), nets[m])
        evaluated[m] = _evaluate(base[m][0], task, device, chunk)
    students = list(dict.fromkeys(s for _, s in pairs))
    kd = _distil_pairs(base, students, pairs, seeds, distil, task, n_out, schedule, device, chunk, progress) if distil else {}
    labels = ref.y[ref.rows("mi")] if task == "classification" else ref.y[ref.rows("mi")][:, None]
    rows = {}
    for i, seed in enumerate(seeds):
        h = {m: drop_constant_columns(evaluated[m][1][i]) for m in data if m in names}
        mis = [_pair_mis(spec, h, labels, pairs, seed, suffix) for suffix, spec in specs.items()]
        rows[seed] = [_pair_row(seed, i, t, st, evaluated, kd, mis) for t, st in pairs]
    check_rows(rows, "run_pairs", task, tuple(specs), distilled=bool(distil))
    if diagnostics:
        outputs = {m: _teacher_on(base[m][0], base[m][0].data, "mi", device, chunk).cpu().numpy() for m in names}
        criteria.pair_columns(rows, {m: evaluated[m][1] for m in names}, outputs, labels, task)
    return PairsResult(rows, {m: evaluated[m][0] for m in names})


def _pair_row(seed, i, t, st, evaluated, kd, mis) -> dict:
    row = {"seed": seed, "teacher": t, "student": st}
    for name, values in evaluated[st][0].items():
        row[f"{name}_nokd"], row[f"teacher_{name}"] = float(values[i]), float(evaluated[t][0][name][i])
        if kd:
            row[f"{name}_kd"] = float(kd[t, st, i][name])
    for m in mis:
        row.update(m[t, st])
    return row


def _diagnostics(results, data, variants, teachers, students, t_eval, s_eval, specs, task, device, chunk):
    """The criteria that could predict the gain before distilling (:mod:`cchlib.criteria`)."""
    out_t = _teacher_on(teachers, data, "mi", device, chunk).cpu().numpy()
    out_s = predict(students.model, _tensor(students.inputs, [d.rows("mi") for d in students.data], device), chunk=chunk)
    return criteria.add_columns(results, data, variants, t_eval[1], s_eval[1], out_t, out_s.cpu().numpy(), specs, task)


# ---------------------------------------------------------------------------
# Fusion+KD: teacher and student as two heads of one network
# ---------------------------------------------------------------------------


def fusion_scores(outputs: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """Per copy: accuracy, one-vs-rest macro AUC, macro and weighted F1 of joint logits (M, n, K)."""
    probs = torch.softmax(outputs.double(), -1).cpu().numpy()
    out = []
    for p, t in zip(probs, y.cpu().numpy()):
        pred = p.argmax(-1)
        try:
            auc = roc_auc_score(t, p, multi_class="ovr", average="macro", labels=np.arange(p.shape[1]))
        except ValueError:  # a class absent from this test split
            auc = float("nan")
        out.append({"acc": float(accuracy_score(t, pred)), "auc": float(auc),
                    "f1_macro": float(f1_score(t, pred, average="macro")),
                    "f1_weighted": float(f1_score(t, pred, average="weighted"))})
    return out


FUSION_METHODS = ("fusion", "fusion_kd")


def run_fusion(data: list[SeedData], seeds, *, net: Callable, lam: float, temperature: float,
               schedule: Schedule, device=None) -> dict[int, list[dict]]:
    """Direct fusion and Fusion+KD (Tables 8, 20) for a batch of seeds; per seed one row per method.

    The input is the teacher modality (``teacher_x[0]``) and the student modality
    concatenated; ``net(seeds, d_teacher, d_student, n_classes)`` is a stack whose
    output is [joint, teacher-head, student-head] logits (e.g.
    :class:`cchlib.models.StackedFusionNet`). Per seed two copies from the same
    initialisation and batches: ``fusion`` (three cross-entropies) and ``fusion_kd``
    (the student head also distilled from the teacher head with weight ``lam``,
    :func:`cchlib.distill.fusion_kd_loss`). Rows hold ``seed``, ``method`` and the
    joint head's test scores (:func:`fusion_scores`).
    """
    seeds, device = [int(s) for s in seeds], device or default_device()
    if len(data) != len(seeds) or not seeds:
        raise ValueError(f"give one SeedData per seed: {len(data)} for {len(seeds)} seeds")
    joined = [np.concatenate([d.teacher_x[0], d.student_x], 1) for d in data]
    per_copy = [(x, d) for x, d in zip(joined, data) for _ in FUSION_METHODS]
    x = _tensor([x for x, _ in per_copy], [d.train for _, d in per_copy], device)
    n_classes = int(max(d.y.max() for d in data)) + 1
    d1 = data[0].teacher_x[0].shape[1]
    model = net([s for s in seeds for _ in FUSION_METHODS], d1, x.shape[-1] - d1, n_classes).to(device)
    check_stack(model)
    lams = torch.tensor([value for _ in seeds for value in (0.0, float(lam))], device=device)
    fit(model, x, {"y": _targets("classification", data, 2, "train", device)},
        lambda out, b: fusion_kd_loss(out, b["y"], lams, temperature), **asdict(schedule))
    x_test = _tensor([x for x, _ in per_copy], [d.test for _, d in per_copy], device)
    scores = fusion_scores(predict(model, x_test)[..., :n_classes], _targets("classification", data, 2, "test", device))
    return check_rows({seed: [{"seed": seed, "method": name, **scores[i * 2 + j]} for j, name in enumerate(FUSION_METHODS)]
                       for i, seed in enumerate(seeds)}, "run_fusion")
