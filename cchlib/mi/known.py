"""Samplers with known mutual information, for checking estimators.

* :func:`gaussian_pair` - jointly Gaussian x, y built from k shared factor
  pairs with canonical correlations ``rho``, optional unshared noise factors,
  a random linear embedding with orthonormal rows into ``dim`` coordinates
  and optional isotropic ambient noise.  The MI is exact: 0.5 (log det Sxx + log det Syy - log det S)
  of the joint covariance, which reduces to -1/2 sum log(1 - rho_i^2) when the
  embedding is invertible and there is no ambient noise.
* :func:`gaussian_mixture_labels` - x drawn from one of C equiprobable
  unit-variance Gaussian clusters in a few signal coordinates, with
  independent noise coordinates and a random rotation; labels are the cluster.
  I(x; y) = log C - E[-log p(y | x)] is computed by Monte Carlo over the
  exact posterior (standard error ~1e-3 nats with the default 400,000 draws).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from scipy.special import logsumexp


class KnownMI(NamedTuple):
    """Samples ``x``, ``y`` and their true mutual information ``mi`` in nats."""

    x: np.ndarray
    y: np.ndarray
    mi: float


def _logdet(a: np.ndarray) -> float:
    """Log-determinant of a symmetric positive-definite matrix."""
    return float(np.linalg.slogdet(a)[1])


def _embedding(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    """A random (rows, dim) matrix with orthonormal rows: a well-conditioned injective embedding."""
    if rows > dim:
        raise ValueError(f"cannot embed {rows} factors injectively into {dim} dimensions.")
    return np.linalg.qr(rng.standard_normal((dim, rows)))[0].T


def gaussian_pair(
    n: int,
    rho: Sequence[float] = (0.8, 0.8, 0.8, 0.8),
    dim: int | None = None,
    noise_dims: int = 0,
    ambient_noise: float = 0.0,
    seed: int = 0,
) -> KnownMI:
    """Jointly Gaussian (x, y) of ``dim`` coordinates each, with exact MI in nats.

    Each side has ``len(rho)`` shared factors (factor i of x and of y have
    correlation ``rho[i]``) and ``noise_dims`` independent factors, mapped to
    ``dim`` coordinates (default: number of factors) by a random matrix with
    orthonormal rows (a rotation when square), plus
    isotropic noise of standard deviation ``ambient_noise``.
    """
    rho = np.asarray(rho, dtype=float)
    if np.any(np.abs(rho) >= 1):
        raise ValueError("every canonical correlation must lie strictly inside (-1, 1).")
    factors = len(rho) + noise_dims
    dim = factors if dim is None else dim
    rng = np.random.default_rng(seed)
    ax, ay = _embedding(rng, factors, dim), _embedding(rng, factors, dim)
    cross = np.zeros((factors, factors))
    cross[: len(rho), : len(rho)] = np.diag(rho)
    latent_cov = np.block([[np.eye(factors), cross], [cross, np.eye(factors)]])
    latent = rng.multivariate_normal(np.zeros(2 * factors), latent_cov, size=n, method="cholesky")
    x = latent[:, :factors] @ ax + ambient_noise * rng.standard_normal((n, dim))
    y = latent[:, factors:] @ ay + ambient_noise * rng.standard_normal((n, dim))
    return KnownMI(x, y, _gaussian_mi(ax, ay, cross, ambient_noise))


def _gaussian_mi(ax: np.ndarray, ay: np.ndarray, cross: np.ndarray, noise: float) -> float:
    """Exact MI of x = f_x ax + noise, y = f_y ay + noise with Cov(f_x, f_y) = cross."""
    dim = ax.shape[1]
    sxx = ax.T @ ax + noise**2 * np.eye(dim)
    syy = ay.T @ ay + noise**2 * np.eye(dim)
    sxy = ax.T @ cross @ ay
    if noise == 0 and ax.shape[0] == dim:
        return float(-0.5 * np.sum(np.log(1 - np.diag(cross) ** 2)))
    if noise == 0:
        raise ValueError("a non-square embedding without ambient noise is singular; set ambient_noise > 0.")
    joint = np.block([[sxx, sxy], [sxy.T, syy]])
    return 0.5 * (_logdet(sxx) + _logdet(syy) - _logdet(joint))


def gaussian_mixture_labels(
    n: int,
    n_classes: int = 2,
    signal_dims: int = 1,
    dim: int | None = None,
    separation: float = 2.0,
    seed: int = 0,
    mc_draws: int = 400_000,
) -> KnownMI:
    """Continuous x with integer cluster labels y; MI in nats by Monte Carlo.

    Cluster means are ``separation`` times standard normal draws in
    ``signal_dims`` coordinates (for two classes in one coordinate: at
    -separation/2 and +separation/2); ``dim - signal_dims`` independent
    standard normal coordinates are appended and everything is rotated.
    """
    dim = signal_dims if dim is None else dim
    if dim < signal_dims:
        raise ValueError(f"dim={dim} must be at least signal_dims={signal_dims}.")
    rng = np.random.default_rng(seed)
    means = _cluster_means(rng, n_classes, signal_dims, separation)
    rotation = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    labels = rng.integers(n_classes, size=n)
    signal = means[labels] + rng.standard_normal((n, signal_dims))
    x = np.hstack([signal, rng.standard_normal((n, dim - signal_dims))]) @ rotation
    return KnownMI(x, labels, _mixture_mi(means, np.random.default_rng(seed + 1), mc_draws))


def _cluster_means(rng: np.random.Generator, n_classes: int, dims: int, separation: float) -> np.ndarray:
    """Cluster centres: symmetric pair for 2 classes in 1-D, random draws otherwise."""
    if n_classes == 2 and dims == 1:
        return np.array([[-separation / 2], [separation / 2]])
    return separation * rng.standard_normal((n_classes, dims))


def _mixture_mi(means: np.ndarray, rng: np.random.Generator, draws: int) -> float:
    """I(s; c) = log C + E[log p(c | s)] for equiprobable unit-variance clusters."""
    n_classes, dims = means.shape
    labels = rng.integers(n_classes, size=draws)
    s = means[labels] + rng.standard_normal((draws, dims))
    log_lik = -0.5 * ((s[:, None, :] - means[None]) ** 2).sum(axis=2)
    log_post = log_lik[np.arange(draws), labels] - logsumexp(log_lik, axis=1)
    return float(np.log(n_classes) + log_post.mean())


LATENT_DIMS = 8  # latent factors per side of the matched samplers (fewer when the side is narrower)
SHARED_FACTORS = 4  # of which this many carry the dependence


def matched_pair(n: int, dx: int, dy: int, rho: float, seed: int = 0) -> KnownMI:
    """Gaussian x (``dx`` coordinates) and y (``dy``) whose dependence sits on a few latent factors.

    Each side has ``min(d, 8)`` independent standard normal latent factors, embedded in
    its ``d`` coordinates by a random matrix with orthonormal rows (so the data lie on a
    low-dimensional subspace, as a network's features often do); the first
    ``min(4, latent_x, latent_y)`` factors of x and y have correlation ``rho``. The
    embeddings are injective, so I(x; y) = -k/2 log(1 - rho^2) exactly.
    """
    if not 0 <= rho < 1:
        raise ValueError(f"rho must lie in [0, 1), got {rho}")
    lx, ly = min(dx, LATENT_DIMS), min(dy, LATENT_DIMS)
    k = min(SHARED_FACTORS, lx, ly)
    rng = np.random.default_rng(seed)
    fx, fy = rng.standard_normal((n, lx)), rng.standard_normal((n, ly))
    fy[:, :k] = rho * fx[:, :k] + np.sqrt(1 - rho**2) * fy[:, :k]
    x, y = fx @ _embedding(rng, lx, dx), fy @ _embedding(rng, ly, dy)
    return KnownMI(x, y, float(-0.5 * k * np.log1p(-rho**2)))


def matched_labels(n: int, dx: int, n_classes: int, separation: float, seed: int = 0,
                   mc_draws: int = 200_000) -> KnownMI:
    """x (``dx`` coordinates) with equiprobable labels seen in a few latent factors.

    ``min(4, latent)`` of the ``min(dx, 8)`` latent factors are a Gaussian mixture whose
    class means are ``separation`` times standard normal draws (see
    :func:`gaussian_mixture_labels`), the rest independent noise; the latent is embedded
    injectively, so I(x; y) equals the latent's MI, computed by Monte Carlo.
    """
    latent = min(dx, LATENT_DIMS)
    k = min(SHARED_FACTORS, latent)
    rng = np.random.default_rng(seed)
    means = _cluster_means(rng, n_classes, k, separation)
    labels = rng.integers(n_classes, size=n)
    signal = means[labels] + rng.standard_normal((n, k))
    x = np.hstack([signal, rng.standard_normal((n, latent - k))]) @ _embedding(rng, latent, dx)
    return KnownMI(x, labels, _mixture_mi(means, np.random.default_rng(seed + 1), mc_draws))
