"""What a teacher can add: the conditional information I(Y; H_T | H_S), in nats.

CCH compares I(H_T;H_S) with I(H_S;Y). What a teacher's representation H_T can add to
a student's H_S about the label Y is the label information the student lacks,

    I(Y; H_T | H_S) = I(Y; [H_S, H_T]) - I(Y; H_S)          (the chain rule),

which is 0 when H_T tells nothing about Y beyond H_S. Two estimators, both through the
chain rule:

* :func:`probe_cmi`: held-out predictive information of linear probes. A probe's
  information about Y is how much it lowers the held-out loss below predicting from
  nothing (:func:`probe_information`): cross-entropy against the class frequencies for
  classes, ``0.5 log(Var/MSE)`` per output for continuous targets (exact for a jointly
  Gaussian, linear model). Each term needs no density; each probe's loss is an upper
  bound of its conditional entropy, so each information is a lower bound of the true
  one when the probe is well fitted, and their difference is an estimate (not a bound)
  of the conditional information. Both probes use the same rows and the same split.
* :func:`knn_cmi`: KSG / Ross kNN estimates (:mod:`cchlib.mi.ksg`) of the two terms,
  each representation first reduced to its first ``components`` principal components
  (kNN estimators lose their footing in many dimensions).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from . import ksg
from .inputs import as_continuous, is_labels, to_numpy

HELD_OUT_SHARE = 0.5  # the probes' held-out share of the rows
SPLIT_SALT = 7121  # seeds the split: default_rng([seed, SPLIT_SALT])
PROBABILITY_FLOOR = 1e-6  # a class the probe never saw in its half still gets this probability
KNN_COMPONENTS = 8  # principal components per representation for the kNN estimate


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The probes' rows: a fitted part and a held-out part (``HELD_OUT_SHARE``), seeded."""
    if n < 4:
        raise ValueError(f"a held-out probe needs at least 4 rows, got {n}")
    perm = np.random.default_rng([int(seed), SPLIT_SALT]).permutation(n)
    cut = n - max(2, int(round(n * HELD_OUT_SHARE)))
    return perm[:cut], perm[cut:]


def _target(y) -> np.ndarray:
    """Class labels (n,) as they are; continuous targets as float (n, k)."""
    y = to_numpy(y)
    return y if is_labels(y) else as_continuous(y, "y")


def _cross_entropy(probs: np.ndarray, classes: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(label) (nats) from probabilities over ``classes``, floored for unseen labels."""
    column = {c: j for j, c in enumerate(classes)}
    p = np.array([probs[i, column[c]] if c in column else 0.0 for i, c in enumerate(labels)])
    return float(-np.mean(np.log(np.maximum(p, PROBABILITY_FLOOR))))


def _class_information(x_fit, y_fit, x_held, y_held) -> float:
    """Held-out cross-entropy of the class frequencies minus that of a logistic probe."""
    classes, counts = np.unique(y_fit, return_counts=True)
    prior = np.broadcast_to(counts / counts.sum(), (len(y_held), len(classes)))
    if len(classes) == 1:
        return 0.0  # one class in the fitted half: the probe can only repeat the prior
    probe = LogisticRegression(max_iter=2000).fit(x_fit, y_fit)
    return _cross_entropy(prior, classes, y_held) - _cross_entropy(probe.predict_proba(x_held), probe.classes_, y_held)


def _gaussian_information(x_fit, y_fit, x_held, y_held) -> float:
    """Sum over outputs of ``0.5 log(MSE of the fitted mean / MSE of a ridge probe)`` on held-out rows."""
    baseline = ((y_held - y_fit.mean(0)) ** 2).mean(0)
    predicted = Ridge(alpha=1.0).fit(x_fit, y_fit).predict(x_held).reshape(y_held.shape)
    residual = ((y_held - predicted) ** 2).mean(0)
    tiny = np.finfo(float).tiny
    return float(np.sum(0.5 * np.log(np.maximum(baseline, tiny) / np.maximum(residual, tiny))))


def probe_information(x, y, seed: int = 0, rows: tuple | None = None) -> float:
    """Held-out information (nats) a linear probe on ``x`` (n, d) extracts about ``y``.

    ``y``: integer labels (n,) (logistic probe, cross-entropy reduction) or continuous
    targets (n, k) (ridge probe, Gaussian ``0.5 log(Var/MSE)`` per output). Columns of
    ``x`` are standardised on the fitted rows. ``rows``: the (fitted, held-out) index
    arrays; default a seeded half split. Can be slightly negative when ``x`` carries
    nothing (the probe then overfits its half).
    """
    x, y = as_continuous(x, "x"), _target(y)
    if len(x) != len(y):
        raise ValueError(f"x and y need the same rows, got {len(x)} and {len(y)}")
    fit, held = rows if rows is not None else _split(len(x), seed)
    scaler = StandardScaler().fit(x[fit])
    x_fit, x_held = scaler.transform(x[fit]), scaler.transform(x[held])
    information = _class_information if is_labels(y) else _gaussian_information
    return information(x_fit, y[fit], x_held, y[held])


def probe_cmi(h_t, h_s, y, seed: int = 0) -> float:
    """I(Y; H_T | H_S) by held-out linear probes: information of [H_S, H_T] minus that of H_S.

    Both probes see the same fitted and held-out rows (split seeded by ``seed``).
    """
    h_t, h_s = as_continuous(h_t, "h_t"), as_continuous(h_s, "h_s")
    if len(h_t) != len(h_s):
        raise ValueError(f"h_t and h_s need the same rows, got {len(h_t)} and {len(h_s)}")
    rows = _split(len(h_s), seed)
    return probe_information(np.hstack([h_s, h_t]), y, rows=rows) - probe_information(h_s, y, rows=rows)


def _components(h: np.ndarray, components: int, seed: int) -> np.ndarray:
    """The first ``components`` principal components of standardised ``h`` (all columns if fewer)."""
    h = StandardScaler().fit_transform(h)
    if h.shape[1] <= components:
        return h
    return PCA(n_components=components, random_state=int(seed)).fit_transform(h)


def knn_cmi(h_t, h_s, y, seed: int = 0, components: int = KNN_COMPONENTS, k: int = 3) -> float:
    """I(Y; H_T | H_S) by kNN: KSG/Ross estimates of I(Y; [S, T]) - I(Y; S) on principal components.

    ``S`` and ``T`` are the first ``components`` principal components of each
    representation; labels use Ross's estimator (every class needs ``k + 1`` rows),
    continuous targets KSG. NaN, with a warning, when the estimator cannot run.
    """
    h_t, h_s, y = as_continuous(h_t, "h_t"), as_continuous(h_s, "h_s"), _target(y)
    s, t = _components(h_s, components, seed), _components(h_t, components, seed)
    try:
        return ksg.estimate(np.hstack([s, t]), y, seed=seed, k=k) - ksg.estimate(s, y, seed=seed, k=k)
    except ValueError as err:  # e.g. a class rarer than k + 1 rows
        warnings.warn(f"knn_cmi could not be estimated ({err}); it is NaN", stacklevel=2)
        return float("nan")
