"""The synthetic modality-Venn-diagram (MVD) data of MFH (Xue et al., ICLR 2023), App. B.2.

A sample draws ``d`` *decisive features* x* ~ N(0, I_d) and a label
y = 1[<delta, x*> > 0] (delta ~ N(0, I_d), drawn once per dataset). Modality a is
N(0, I_{d1}) noise whose coordinates at the index set J1 are overwritten by x*_{J1};
modality b likewise with d2 and J2. The same index names a coordinate of x* and of the
modality it is copied into (``x^a_{J1} <- x*_{J1}`` in Eq. 27), so every index in J1
must lie below both d and d1.

The MVD bookkeeping is (App. B.2):

    gamma = |J1 n J2| / |J1 u J2|       (modality-general decisive share)
    alpha = 1 - |J2| / |J1 u J2|         (decisive features only modality a has)
    beta  = 1 - |J1| / |J1 u J2|         (decisive features only modality b has)

so alpha + beta + gamma = 1. Decisive features outside J1 u J2 (when |J1 u J2| < d) move
the label but are seen by neither modality; they do not enter the three shares.

:func:`gamma_setting`, :func:`alpha_setting` and :func:`beta0_setting` build the index
sets of MFH's "increasing gamma" (Fig. 2), "increasing alpha" (Fig. 3) and Table 2
settings; :func:`make_mvd` draws a :class:`~cchlib.data.paired.PairedDataset` with
modalities ``"xa"`` (teacher) and ``"xb"`` (student) and integer labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cchlib.data.paired import PairedDataset


@dataclass(frozen=True)
class MVDSpec:
    """Dimensions and decisive index sets of one MVD data-generating process.

    Attributes:
        d1, d2: dimensions of modality a (teacher) and modality b (student).
        d: number of decisive features (the length of x* and of delta).
        J1, J2: sorted indices of x* copied into modality a and modality b.
    """

    d1: int
    d2: int
    d: int
    J1: tuple[int, ...]
    J2: tuple[int, ...]

    def __post_init__(self):
        for name, value in (("d1", self.d1), ("d2", self.d2), ("d", self.d)):
            if int(value) < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        for name, index, width in (("J1", self.J1, self.d1), ("J2", self.J2, self.d2)):
            index = tuple(int(i) for i in index)
            if len(set(index)) != len(index):
                raise ValueError(f"{name} has repeated indices: {index}")
            bad = [i for i in index if not 0 <= i < min(self.d, width)]
            if bad:
                raise ValueError(
                    f"{name} holds indices {bad} outside [0, min(d, d{name[1]})) = [0, {min(self.d, width)}): "
                    f"an index names both a decisive feature (d = {self.d}) and the modality's "
                    f"coordinate it is copied into (d{name[1]} = {width})"
                )
            object.__setattr__(self, name, tuple(sorted(index)))
        if not self.J1 and not self.J2:
            raise ValueError("J1 and J2 are both empty: neither modality sees a decisive feature")

    @property
    def shared(self) -> tuple[int, ...]:
        """J1 n J2, the modality-general decisive features."""
        return tuple(sorted(set(self.J1) & set(self.J2)))

    @property
    def union(self) -> tuple[int, ...]:
        """J1 u J2, the decisive features that at least one modality sees."""
        return tuple(sorted(set(self.J1) | set(self.J2)))

    @property
    def gamma(self) -> float:
        return mvd_shares(self.J1, self.J2)[0]

    @property
    def alpha(self) -> float:
        return mvd_shares(self.J1, self.J2)[1]

    @property
    def beta(self) -> float:
        return mvd_shares(self.J1, self.J2)[2]


def mvd_shares(J1, J2) -> tuple[float, float, float]:
    """(gamma, alpha, beta) of App. B.2 for decisive index sets J1 (modality a) and J2 (b).

    Works for any sets, e.g. for a teacher that sees only some channels of modality a
    (pass J1 restricted to those channels): MFH's Table 2 counts a teacher trained on
    J1 n J2 alone as gamma = 1.
    """
    J1, J2 = set(int(i) for i in J1), set(int(i) for i in J2)
    union = J1 | J2
    if not union:
        raise ValueError("J1 and J2 are both empty: gamma, alpha and beta are undefined")
    n = len(union)
    return len(J1 & J2) / n, 1 - len(J2) / n, 1 - len(J1) / n


def gamma_setting(overlap: int, d1: int = 25, d2: int = 50, d: int = 20, n_each: int = 10) -> MVDSpec:
    """MFH Fig. 2 ("increasing gamma"): |J1| = |J2| = ``n_each``, |J1 n J2| = ``overlap``.

    J2 = {0, ..., n_each - 1} and J1 = {n_each - overlap, ..., 2 n_each - overlap - 1},
    so |J1 u J2| = 2 n_each - overlap and alpha = beta = (1 - gamma) / 2. With the
    paper's d = 20 = 2 n_each, the ``overlap`` decisive features at the top of x* are
    seen by neither modality.
    """
    if not 0 <= overlap <= n_each:
        raise ValueError(f"overlap must lie in [0, n_each = {n_each}], got {overlap}")
    J2 = range(n_each)
    J1 = range(n_each - overlap, 2 * n_each - overlap)
    return MVDSpec(d1=d1, d2=d2, d=d, J1=tuple(J1), J2=tuple(J2))


def alpha_setting(union: int, d1: int = 50, d2: int = 50, n_student: int = 10, d: int | None = None) -> MVDSpec:
    """MFH Fig. 3 ("increasing alpha"): J2 = first ``n_student`` features, J1 = J1 u J2 = first ``union``.

    beta = 0 and gamma = n_student / union. ``d`` is the number of decisive features;
    App. B.2 says d = |J1 u J2| (the default, ``None``), so the teacher always sees
    every decisive feature. Passing a larger ``d`` (e.g. d = d1 = 50) makes the
    decisive features beyond J1 unseen by both modalities, so the teacher sees more of
    them as ``union`` grows.
    """
    d = union if d is None else d
    if not n_student <= union <= min(d1, d):
        raise ValueError(f"union must lie in [n_student = {n_student}, min(d1, d) = {min(d1, d)}], got {union}")
    return MVDSpec(d1=d1, d2=d2, d=d, J1=tuple(range(union)), J2=tuple(range(n_student)))


def beta0_setting(gamma: float, d1: int = 50, d2: int = 50, d: int = 20) -> MVDSpec:
    """A Table 2 setting: the teacher sees all ``d`` decisive features, the student the first gamma*d.

    beta = 0 and gamma = |J2| / d; ``gamma * d`` must be a whole number.
    """
    n_shared = gamma * d
    if not 0 < gamma <= 1 or abs(n_shared - round(n_shared)) > 1e-9:
        raise ValueError(f"gamma * d must be a whole number in [1, d]; got gamma = {gamma}, d = {d}")
    return MVDSpec(d1=d1, d2=d2, d=d, J1=tuple(range(d)), J2=tuple(range(int(round(n_shared)))))


@dataclass(frozen=True)
class MVDSample:
    """Samples of one MVD process: both modalities, labels, and the hidden x* and delta."""

    xa: np.ndarray
    xb: np.ndarray
    y: np.ndarray
    xstar: np.ndarray
    delta: np.ndarray


def sample_mvd(spec: MVDSpec, n: int, delta: np.ndarray, rng: np.random.Generator) -> MVDSample:
    """Draw ``n`` samples of Eq. (27) for separating direction ``delta`` (float32 features, int64 labels)."""
    delta = np.asarray(delta, dtype=float)
    if delta.shape != (spec.d,):
        raise ValueError(f"delta must have shape ({spec.d},), got {delta.shape}")
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    xstar = rng.standard_normal((n, spec.d))
    y = (xstar @ delta > 0).astype(np.int64)
    xa = rng.standard_normal((n, spec.d1))
    xb = rng.standard_normal((n, spec.d2))
    xa[:, list(spec.J1)] = xstar[:, list(spec.J1)]
    xb[:, list(spec.J2)] = xstar[:, list(spec.J2)]
    return MVDSample(xa.astype(np.float32), xb.astype(np.float32), y, xstar.astype(np.float32), delta)


def make_mvd(spec: MVDSpec, n_train: int = 200, n_test: int = 1000, seed: int = 0) -> PairedDataset:
    """The paired dataset of one MVD process: teacher modality ``xa``, student modality ``xb``.

    The seed fixes delta (drawn first, delta ~ N(0, I_d)) and every sample; the first
    ``n_train`` samples are the training split, the rest the test split.
    """
    if n_train < 1 or n_test < 1:
        raise ValueError(f"n_train and n_test must be positive, got {n_train} and {n_test}")
    rng = np.random.default_rng(seed)
    delta = rng.standard_normal(spec.d)
    s = sample_mvd(spec, n_train + n_test, delta, rng)
    return PairedDataset(
        modalities={"xa": s.xa, "xb": s.xb},
        labels=s.y,
        train_idx=np.arange(n_train),
        test_idx=np.arange(n_train, n_train + n_test),
        name=(
            f"MVD synthetic (d1={spec.d1}, d2={spec.d2}, d={spec.d}, |J1|={len(spec.J1)}, "
            f"|J2|={len(spec.J2)}, |J1nJ2|={len(spec.shared)})"
        ),
    )
