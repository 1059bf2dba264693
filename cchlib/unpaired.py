"""Cross-modal distillation without paired data: feature and label alignment.

When teacher and student samples are not paired, a frozen teacher can still tell the
student two things per class ``c``: how its representations of class ``c`` are
distributed, and what it predicts, on average, for class ``c``. The unpaired
framework reviewed in ``papers/unpaired-cmkd-review.md`` names the two matching
quantities *feature alignment* (FA, a Wasserstein-1 distance between teacher and
student feature distributions) and *label alignment* (LA, a divergence between their
predictions). Here both are class-conditional:

    FA = sum_c w_c SW1( law(H_S | Y = c), law(H_T | Y = c) )
    LA = sum_c w_c KL( q_T^c || q_S^c ),   q^c = mean of softmax(z / T) over class c

where SW1 is the sliced Wasserstein-1 distance (the mean, over random unit directions,
of the exact 1-D W1 between the projected samples) and ``w_c`` are class weights.

**No pairing.** The teacher enters training only through :func:`teacher_summary`: per
class and direction, the quantiles of its projected features, and per class its mean
soft prediction. Both are functions of the *set* of (features, logits, label) rows of
each class, so any reordering of the teacher's rows (within or across classes) leaves
the summary, the loss and the trained student unchanged. :func:`fit_students` also
trains paired-KD copies (Eq. 2 through a per-copy ``pairing`` of student rows to
teacher rows) in the same stack, so that paired and unpaired students share
initialisation and batch order; only the KD term reads ``pairing``.

Batches are class-balanced: every step, each copy draws ``per_class`` student rows of
every class (uniformly with replacement, from its own seeded generator), so the
class-conditional terms are batched as tensors of shape (M, K, per_class, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F

from cchlib.distill import classification_kd_loss
from cchlib.models import StackedMLP, copy_generator
from cchlib.train import OPTIMISERS

# Salts that give each random stream of a copy its own generator, seed + salt
# (cchlib.models.copy_generator with stride 1).
DIRECTION_SALT = 7_654_321
BATCH_SALT = 1_234_567


# ------------------------------------------------------------------ Wasserstein-1


def wasserstein_1d(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact W1 between the uniform empirical distributions of ``a`` (..., n) and ``b`` (..., m).

    W1 is the integral over t in (0, 1) of |F_a^{-1}(t) - F_b^{-1}(t)|. Both quantile
    functions are step functions with jumps at multiples of 1/n and 1/m, so the integral
    is a finite sum over the merged jump points. Differentiable in ``a`` and ``b``.
    """
    if a.shape[:-1] != b.shape[:-1]:
        raise ValueError(f"leading shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    n, m = a.shape[-1], b.shape[-1]
    if n == 0 or m == 0:
        raise ValueError("W1 needs at least one sample on each side")
    a_sorted, b_sorted = a.sort(-1).values, b.sort(-1).values
    f64 = torch.float64
    levels = torch.cat([torch.arange(1, n + 1, dtype=f64) / n, torch.arange(1, m + 1, dtype=f64) / m]).sort().values
    widths = torch.diff(levels, prepend=levels.new_zeros(1))
    middle = levels - widths / 2
    ia = (middle * n).floor().long().clamp(max=n - 1).to(a.device)
    ib = (middle * m).floor().long().clamp(max=m - 1).to(a.device)
    gaps = (a_sorted[..., ia] - b_sorted[..., ib]).abs()
    return (gaps * widths.to(device=a.device, dtype=a.dtype)).sum(-1)


def random_directions(dim: int, n_directions: int, seed: int, salt: int = 0) -> torch.Tensor:
    """``n_directions`` unit vectors of R^dim as the columns of a (dim, L) CPU matrix.

    Drawn from ``copy_generator(seed, salt, stride=1)`` (a copy's seed and a purpose).
    """
    if dim < 1 or n_directions < 1:
        raise ValueError(f"dim and n_directions must be positive, got {dim} and {n_directions}")
    g = copy_generator(seed, salt, stride=1)
    v = torch.randn((dim, n_directions), generator=g)
    return v / v.norm(dim=0, keepdim=True)


def project(x: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Projections of samples ``x`` (..., n, d) on ``directions`` (..., d, L), as (..., L, n)."""
    return (x @ directions).transpose(-1, -2)


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Sliced W1 between samples ``x`` (..., n, d) and ``y`` (..., m, d), shape (...).

    The mean over the columns of ``directions`` (d, L) of the exact 1-D W1 between the
    projected samples. Any d-dimensional samples work, including d = 1.
    """
    if x.shape[-1] != y.shape[-1] or x.shape[-1] != directions.shape[-2]:
        raise ValueError(
            f"feature widths differ: x {tuple(x.shape)}, y {tuple(y.shape)}, directions {tuple(directions.shape)}"
        )
    return wasserstein_1d(project(x, directions), project(y, directions)).mean(-1)


def quantile_summary(values: torch.Tensor, n_quantiles: int) -> torch.Tensor:
    """The empirical quantile function of ``values`` (..., n) at the G midpoints (k + 1/2)/G.

    A fixed-size summary of a 1-D sample that does not depend on the order of its values;
    with G = n it is the sorted sample itself, so W1 against it is exact.
    """
    if n_quantiles < 1:
        raise ValueError(f"n_quantiles must be positive, got {n_quantiles}")
    n = values.shape[-1]
    idx = ((torch.arange(n_quantiles) + 0.5) / n_quantiles * n).floor().long().clamp(max=n - 1)
    return values.sort(-1).values[..., idx.to(values.device)]


# ------------------------------------------------------------------ label alignment


def class_mean_probs(
    logits: torch.Tensor, labels: torch.Tensor, n_classes: int, temperature: float = 1.0
) -> torch.Tensor:
    """Row c: the mean of softmax(logits / T) over the samples of class c, shape (K, K).

    ``logits`` (n, K) and integer ``labels`` (n,). Every class must have a sample.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    labels = labels.long()
    counts = torch.bincount(labels, minlength=n_classes)
    if len(counts) > n_classes or (counts == 0).any():
        raise ValueError(f"every class 0..{n_classes - 1} needs at least one sample; counts {counts.tolist()}")
    probs = F.softmax(logits / temperature, dim=-1)
    sums = torch.zeros((n_classes, probs.shape[-1]), dtype=probs.dtype, device=probs.device).index_add(0, labels, probs)
    return sums / counts[:, None].to(probs.dtype)


def label_alignment(
    q_teacher: torch.Tensor, q_student: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """sum_c w_c KL(q_teacher[c] || q_student[c]) for (..., K, K) class-mean predictions.

    ``weights`` (K,) default to uniform 1/K. A zero teacher probability contributes 0.
    """
    if q_teacher.shape != q_student.shape:
        raise ValueError(f"shapes differ: {tuple(q_teacher.shape)} vs {tuple(q_student.shape)}")
    kl = (torch.xlogy(q_teacher, q_teacher) - q_teacher * q_student.log()).sum(-1)
    if weights is None:
        return kl.mean(-1)
    return (kl * weights).sum(-1)


# ------------------------------------------------------------------ measured FA and LA


def class_weights(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class frequencies of integer ``labels``, shape (K,)."""
    return torch.bincount(labels.long(), minlength=n_classes).double() / len(labels)


def alignment_metrics(
    student: dict, teacher: dict, n_classes: int, directions: torch.Tensor, temperature: float
) -> tuple[float, float]:
    """Measured (FA, LA) between a student and a teacher on their own, unpaired samples.

    ``student`` and ``teacher`` hold ``features`` (n, h), ``logits`` (n, K) and
    ``labels`` (n,); the two may have different sizes. FA is the class-conditional sliced
    W1 along ``directions`` and LA the class-conditional KL at ``temperature``, both
    weighted by the student's class frequencies.
    """
    w = class_weights(student["labels"], n_classes)
    fa = 0.0
    for c in range(n_classes):
        hs = student["features"][student["labels"] == c]
        ht = teacher["features"][teacher["labels"] == c]
        if len(hs) and not len(ht):
            raise ValueError(f"class {c} has student samples but no teacher samples")
        if len(hs):
            fa += float(w[c]) * float(sliced_wasserstein(hs, ht, directions))
    q_s = class_mean_probs(student["logits"], student["labels"], n_classes, temperature)
    q_t = class_mean_probs(teacher["logits"], teacher["labels"], n_classes, temperature)
    la = float(label_alignment(q_t.double(), q_s.double(), w))
    return fa, la


# ------------------------------------------------------------------ training


@dataclass(frozen=True)
class TeacherSet:
    """What a frozen teacher offers: its features, logits and labels on its own data.

    ``features`` (n, h), ``logits`` (n, K), ``labels`` (n,). For unpaired terms the rows
    are a set: their order, and which student row each might have matched, are unused.
    """

    features: torch.Tensor
    logits: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self):
        n = len(self.labels)
        if len(self.features) != n or len(self.logits) != n:
            raise ValueError(
                f"teacher features ({len(self.features)}), logits ({len(self.logits)}) and labels ({n}) differ in length"
            )


def teacher_summary(
    teacher: TeacherSet, directions: torch.Tensor, n_quantiles: int, n_classes: int, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per class: quantiles of the projected teacher features (K, L, G) and mean soft prediction (K, K).

    This is all the unpaired terms ever see of the teacher; it is invariant to any
    reordering of the teacher's rows.
    """
    quantiles = []
    for c in range(n_classes):
        rows = teacher.features[teacher.labels == c]
        if len(rows) == 0:
            raise ValueError(f"the teacher has no sample of class {c}")
        quantiles.append(quantile_summary(project(rows, directions), n_quantiles))
    means = class_mean_probs(teacher.logits, teacher.labels, n_classes, temperature)
    return torch.stack(quantiles), means


@dataclass(frozen=True)
class StudentCopies:
    """How each copy of a student stack is trained, one entry per copy (M copies).

    ``x_source``: which student dataset (first index of ``x``/``y``) the copy reads.
    ``teacher_source``: which :class:`TeacherSet` it aligns to (and distils from).
    ``pairing`` (M, n): the teacher row paired with each student row, used only by the
    paired KD term (identity for true pairs, a within-class permutation for broken ones).
    ``lam_kd``, ``lam_fa``, ``lam_la``: weights of Eq. (2)'s KD term (CE gets
    ``1 - lam_kd``), of FA and of LA.
    """

    x_source: torch.Tensor
    teacher_source: torch.Tensor
    pairing: torch.Tensor
    lam_kd: torch.Tensor
    lam_fa: torch.Tensor
    lam_la: torch.Tensor

    def __post_init__(self):
        m = len(self.x_source)
        for name in ("teacher_source", "pairing", "lam_kd", "lam_fa", "lam_la"):
            if len(getattr(self, name)) != m:
                raise ValueError(f"StudentCopies.{name} has {len(getattr(self, name))} entries, x_source has {m}")

    def to(self, device) -> StudentCopies:
        """The same plan with every tensor on ``device``."""
        return StudentCopies(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


def class_pools(labels: torch.Tensor, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices of each class, padded to (K, max count), and the counts (K,)."""
    pools = [torch.nonzero(labels == c).squeeze(-1) for c in range(n_classes)]
    counts = torch.tensor([len(p) for p in pools])
    if (counts == 0).any():
        raise ValueError(f"every class needs a training sample; counts per class {counts.tolist()}")
    padded = torch.zeros((n_classes, int(counts.max())), dtype=torch.long)
    for c, p in enumerate(pools):
        padded[c, : len(p)] = p
    return padded, counts


def _class_balanced_draws(generators, pools, counts, x_source, steps: int, per_class: int) -> torch.Tensor:
    """Student rows of every step, (steps, M, K, per_class), each copy from its own generator."""
    draws = []
    for m, g in enumerate(generators):
        u = torch.rand((steps, counts.shape[1], per_class), generator=g)
        src = int(x_source[m])
        pos = (u * counts[src][None, :, None]).long()
        draws.append(pools[src][torch.arange(counts.shape[1])[None, :, None], pos])
    return torch.stack(draws, dim=1)


def _stacked_pools(y: torch.Tensor, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`class_pools` of every student dataset ``y`` (X, n): pools (X, K, W) and counts (X, K)."""
    pools, counts = zip(*(class_pools(labels.cpu(), n_classes) for labels in y))
    width = max(p.shape[1] for p in pools)
    return torch.stack([F.pad(p, (0, width - p.shape[1])) for p in pools]), torch.stack(counts)


def fit_students(
    model: StackedMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    teachers: list[TeacherSet],
    copies: StudentCopies,
    *,
    n_classes: int,
    epochs: int,
    lr: float,
    per_class: int,
    temperature: float,
    n_directions: int,
    n_quantiles: int,
    optimiser: str = "adam",
) -> list[float]:
    """Train every copy of ``model`` with CE, paired KD, FA and LA as its weights say.

    ``x`` (X, n, d) and ``y`` (X, n) are the student datasets; ``teachers`` the frozen
    teachers' sets, on the device of ``x`` (the model too). Per copy and step: ``per_class`` rows of each class (see module
    docstring); the loss is Eq. (2) (KD on the teacher logits of the paired rows) plus
    ``lam_fa`` FA (sliced W1 along the copy's fixed random directions, against the
    teacher's per-class quantiles) plus ``lam_la`` LA at ``temperature``. An epoch is
    ceil(n / (K per_class)) steps. Returns the mean loss of each epoch.
    """
    if epochs < 1 or per_class < 1:
        raise ValueError(f"epochs and per_class must be positive, got {epochs} and {per_class}")
    if optimiser not in OPTIMISERS:
        raise ValueError(f"unknown optimiser {optimiser!r}; choose one of {sorted(OPTIMISERS)}")
    if len(copies.x_source) != model.n_models:
        raise ValueError(f"{len(copies.x_source)} copies planned but the model has {model.n_models}")
    n, copies = x.shape[1], copies.to(x.device)
    kd_logits = torch.stack([t.logits for t in teachers]) if bool((copies.lam_kd > 0).any()) else None
    if kd_logits is not None and kd_logits.shape[1] != n:
        raise ValueError(f"paired KD needs teachers with one row per student row ({n}), got {kd_logits.shape[1]}")
    width = teachers[0].features.shape[1]
    if model.weights[-1].shape[1] != width:
        raise ValueError(f"student features have {model.weights[-1].shape[1]} units but teacher features {width}")
    directions = torch.stack([random_directions(width, n_directions, s, DIRECTION_SALT) for s in model.seeds]).to(x.device)
    summaries = [
        teacher_summary(teachers[int(t)], directions[m], n_quantiles, n_classes, temperature)
        for m, t in enumerate(copies.teacher_source)
    ]
    quantiles = torch.stack([q for q, _ in summaries])  # (M, K, L, G)
    means = torch.stack([p for _, p in summaries])  # (M, K, K)
    pools, counts = _stacked_pools(y, n_classes)
    steps = math.ceil(n / (n_classes * per_class))
    generators = [copy_generator(s, BATCH_SALT, stride=1) for s in model.seeds]
    step = OPTIMISERS[optimiser](model.parameters(), lr=lr)
    m_idx, src = torch.arange(model.n_models, device=x.device)[:, None], copies.x_source[:, None]
    curve = []
    for _ in range(epochs):
        total = 0.0
        for rows in _class_balanced_draws(generators, pools, counts, copies.x_source, steps, per_class).to(x.device):
            flat = rows.reshape(model.n_models, -1)  # (M, K b), grouped by class
            feats = model.features(x[src, flat])
            logits = model.head(feats)
            teacher_logits = (
                logits.detach() if kd_logits is None
                else kd_logits[copies.teacher_source[:, None], copies.pairing[m_idx, flat]]
            )
            loss = (
                classification_kd_loss(logits, y[src, flat], teacher_logits, copies.lam_kd, temperature)
                + copies.lam_fa * feature_alignment_loss(rows_by_class(feats, n_classes), directions, quantiles)
                + copies.lam_la * label_alignment_loss(rows_by_class(logits, n_classes), means, temperature)
            )
            step.zero_grad(set_to_none=True)
            loss.sum().backward()
            step.step()
            total += float(loss.detach().mean())
        curve.append(total / steps)
    return curve


def rows_by_class(values: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(M, K b, ...) rows of a class-balanced batch, class-major, as (M, K, b, ...)."""
    return values.reshape(values.shape[0], n_classes, -1, *values.shape[2:])


def feature_alignment_loss(features: torch.Tensor, directions: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """FA of class-grouped student features (M, K, b, h) against teacher quantiles (M, K, L, G).

    The mean over classes of the sliced W1 along each copy's ``directions`` (M, h, L);
    shape (M,).
    """
    projected = project(features, directions[:, None])  # (M, K, L, b)
    return wasserstein_1d(projected, quantiles).mean(-1).mean(-1)


def label_alignment_loss(logits: torch.Tensor, teacher_means: torch.Tensor, temperature: float) -> torch.Tensor:
    """LA of class-grouped student logits (M, K, b, K) against teacher class means (M, K, K); shape (M,)."""
    q_student = F.softmax(logits / temperature, dim=-1).mean(-2)
    return label_alignment(teacher_means, q_student)
