"""The synthetic Gaussian regression data of the paper's Sec. 4.1 and App. B.

App. B generates each sample sequentially:

    Y ~ N(0, 1)
    X2 | Y      ~ N(s23 * Y * 1_p, (1 - s23^2) I_p)
    X1 | X2, Y  ~ N(a X2 + b Y, v I_p)

with phi = 1 - s23^2, a = (s12 - s13 s23) / phi, b = (s13 - s12 s23) / phi and
v = 1 - (s12^2 + s13^2 - 2 s12 s13 s23) / phi. Every coordinate then has unit variance,
corr(X1j, X2j) = s12, corr(X1j, Y) = s13 and corr(X2j, Y) = s23, as Eq. (7) intends;
but because all p coordinates share the same Y, coordinates of X2 (and of X1) are also
correlated with one another, so Cov(X2) = (1 - s23^2) I + s23^2 11^T is *not* the
identity of Eq. (7). (Eq. (7) itself is not positive semidefinite for p = 100 and the
paper's correlations.) We follow the sampler, which is what the experiments ran, and
:func:`sampler_covariance` gives its exact joint covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cchlib.data.paired import PairedDataset


@dataclass(frozen=True)
class SamplerCoefficients:
    """The coefficients a, b, v of App. B's sequential sampler."""

    a: float
    b: float
    v: float


def sampler_coefficients(s12: float, s13: float, s23: float) -> SamplerCoefficients:
    """Compute a, b, v of App. B, refusing correlations that make the noise variance v < 0."""
    for name, value in (("sigma12", s12), ("sigma13", s13), ("sigma23", s23)):
        if not -1 < value < 1:
            raise ValueError(f"{name} must lie in (-1, 1), got {value}")
    phi = 1.0 - s23**2
    a = (s12 - s13 * s23) / phi
    b = (s13 - s12 * s23) / phi
    v = 1.0 - (s12**2 + s13**2 - 2 * s12 * s13 * s23) / phi
    if v < 0:
        half_width = np.sqrt((1 - s13**2) * (1 - s23**2))
        raise ValueError(
            f"sigma12={s12}, sigma13={s13}, sigma23={s23} is not a valid correlation triple: "
            f"it gives a negative noise variance v={v:.4f}. With these sigma13 and sigma23, "
            f"sigma12 must lie in [{s13 * s23 - half_width:.3f}, {s13 * s23 + half_width:.3f}]."
        )
    return SamplerCoefficients(a=a, b=b, v=v)


def sampler_covariance(s12: float, s13: float, s23: float, p: int) -> np.ndarray:
    """Exact covariance of (X1, X2, Y), size (2p+1)^2, as App. B's sampler draws them."""
    c = sampler_coefficients(s12, s13, s23)
    ones = np.ones((p, p))
    eye = np.eye(p)
    cov22 = (1 - s23**2) * eye + s23**2 * ones
    cov2y = s23 * np.ones(p)
    # X1 = a X2 + b Y + noise
    cov12 = c.a * cov22 + c.b * np.outer(np.ones(p), cov2y)
    cov1y = c.a * cov2y + c.b * np.ones(p)
    cov11 = c.a**2 * cov22 + c.a * c.b * (np.outer(cov2y, np.ones(p)) + np.outer(np.ones(p), cov2y))
    cov11 = cov11 + c.b**2 * ones + c.v * eye
    top = np.hstack([cov11, cov12, cov1y[:, None]])
    mid = np.hstack([cov12.T, cov22, cov2y[:, None]])
    bottom = np.hstack([cov1y, cov2y, [1.0]])[None, :]
    return np.vstack([top, mid, bottom])


def sample_synthetic(
    s12: float, s13: float, s23: float, n: int, p: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw n samples (x1, x2, y) from App. B's sampler, as float32 arrays."""
    c = sampler_coefficients(s12, s13, s23)
    y = rng.standard_normal(n)
    x2 = s23 * y[:, None] + np.sqrt(1 - s23**2) * rng.standard_normal((n, p))
    x1 = c.a * x2 + c.b * y[:, None] + np.sqrt(c.v) * rng.standard_normal((n, p))
    return x1.astype(np.float32), x2.astype(np.float32), y.astype(np.float32)


def make_synthetic(
    s12: float,
    s13: float = 0.9,
    s23: float = 0.4,
    n_train: int = 10_000,
    n_test: int = 1_000,
    p: int = 100,
    seed: int = 0,
) -> PairedDataset:
    """The paired dataset of Sec. 4.1: teacher modality ``x1``, student modality ``x2``.

    The first ``n_train`` samples are the training split, the rest the test split.
    """
    if n_train < 1 or n_test < 1 or p < 1:
        raise ValueError(f"n_train, n_test and p must be positive, got {n_train}, {n_test}, {p}")
    rng = np.random.default_rng(seed)
    x1, x2, y = sample_synthetic(s12, s13, s23, n_train + n_test, p, rng)
    return PairedDataset(
        modalities={"x1": x1, "x2": x2},
        labels=y,
        train_idx=np.arange(n_train),
        test_idx=np.arange(n_train, n_train + n_test),
        name=f"synthetic Gaussian (s12={s12}, s13={s13}, s23={s23}, p={p})",
    )


def input_mis(s12: float, s13: float, s23: float, p: int) -> tuple[float, float]:
    """Exact I(X1; X2) and I(X2; Y) in nats of App. B's sampler (jointly Gaussian).

    ``0.5 (log det S_a + log det S_b - log det S_ab)`` from :func:`sampler_covariance`.
    They bound the MIs of any representations H1 = f(X1), H2 = g(X2) from above (data
    processing), so the input-level gap ``I(X1;X2) - I(X2;Y)`` is a reference, not the
    gap of the learned representations.
    """
    cov = sampler_covariance(s12, s13, s23, p)
    x1, x2, y = np.arange(p), np.arange(p, 2 * p), np.array([2 * p])

    def logdet(idx):
        return float(np.linalg.slogdet(cov[np.ix_(idx, idx)])[1])

    def mi(a, b):
        return 0.5 * (logdet(a) + logdet(b) - logdet(np.concatenate([a, b])))

    return mi(x1, x2), mi(x2, y)
