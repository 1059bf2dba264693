"""k-nearest-neighbour mutual information estimators, in nats.

* :func:`ksg_mi` - Kraskov, Stoegbauer & Grassberger (2004), estimator 1, for
  two continuous variables, with the max-norm in the joint space:

      I = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >

  where eps_i is the max-norm distance from sample i to its k-th neighbour in
  the joint space and n_x (n_y) counts the other samples strictly closer than
  eps_i in the x (y) marginal.

* :func:`ross_mi` - Ross (2014), for continuous x and discrete labels y:

      I = psi(N) - < psi(N_c) > + psi(k) - < psi(m) >

  where d_i is the distance from sample i to its k-th neighbour among the
  N_c samples of its own class, and m_i counts the other samples of any
  class within d_i (the k-th same-class neighbour included).

Both estimators standardise each column first (the max-norm treats every
coordinate on the same scale; Kraskov et al. rescale likewise) and add a tiny
jitter, 1e-10 standard deviations drawn from a generator seeded by ``seed``,
to break exact ties: duplicate rows (quantised data, dead ReLU units) would
otherwise make the strict / non-strict neighbour counts ambiguous.  The
estimators are unbiased only asymptotically; small negative values for
independent variables are genuine estimates and are returned as they are.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from .inputs import is_labels, require_samples, standardize

JITTER = 1e-10


def _prepare(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Standardise the columns of ``a`` and add the tie-breaking jitter."""
    a = standardize(a)
    return a + JITTER * rng.standard_normal(a.shape)


def _kth_neighbour_distance(points: np.ndarray, k: int) -> np.ndarray:
    """Max-norm distance from each point to its k-th nearest other point."""
    distances, _ = cKDTree(points).query(points, k=k + 1, p=np.inf)
    return distances[:, k]


def _count_within(points: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Number of points (each point itself included) within ``radius`` (max-norm, closed ball)."""
    return cKDTree(points).query_ball_point(points, r=radius, p=np.inf, return_length=True)


def ksg_mi(x: np.ndarray, y: np.ndarray, k: int = 3, seed: int = 0) -> float:
    """KSG estimator 1 of I(x; y) in nats for continuous (n, dx) and (n, dy) arrays."""
    require_samples(len(x), k + 1, "ksg", f"each sample needs k={k} neighbours")
    rng = np.random.default_rng(seed)
    x, y = _prepare(x, rng), _prepare(y, rng)
    eps = _kth_neighbour_distance(np.hstack([x, y]), k)
    strictly_inside = np.nextafter(eps, 0)
    # Counts include the sample itself, so they equal n_x + 1 and n_y + 1.
    nx1 = _count_within(x, strictly_inside)
    ny1 = _count_within(y, strictly_inside)
    return float(digamma(k) + digamma(len(x)) - np.mean(digamma(nx1) + digamma(ny1)))


def ross_mi(x: np.ndarray, labels: np.ndarray, k: int = 3, seed: int = 0) -> float:
    """Ross (2014) estimator of I(x; labels) in nats; labels are int codes 0..C-1."""
    counts = np.bincount(labels)
    if counts.min() < k + 1:
        raise ValueError(
            f"method='ksg' with class labels needs at least k+1={k + 1} samples in "
            f"every class; the smallest class has {counts.min()}. Merge or drop rare "
            "classes, or lower k."
        )
    x = _prepare(x, np.random.default_rng(seed))
    radius = np.empty(len(x))
    for c in range(len(counts)):
        members = labels == c
        radius[members] = _kth_neighbour_distance(x[members], k)
    m = _count_within(x, radius) - 1
    return float(digamma(len(x)) - np.mean(digamma(counts[labels])) + digamma(k) - np.mean(digamma(m)))


def check_options(options: dict) -> None:
    """KSG takes one option, ``k`` (a positive integer): anything else is a ValueError."""
    if unknown := sorted(set(options) - {"k"}):
        raise ValueError(f"method='ksg' got unknown option(s) {unknown}; it accepts ['k'].")
    k = options.get("k", 3)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}.")


def estimate(x: np.ndarray, y: np.ndarray, seed: int = 0, k: int = 3) -> float:
    """I(x; y) in nats: KSG for continuous y, Ross (2014) for integer labels y."""
    check_options({"k": k})
    if is_labels(y):
        return ross_mi(x, y, k=k, seed=seed)
    return ksg_mi(x, y, k=k, seed=seed)
