"""The front door: :func:`estimate` and :func:`estimate_with_se`.

All estimates are in nats.  ``method`` picks the estimator:

``"lmi"``       latent MI (Gowri et al. 2024) as implemented in :mod:`cchlib.mi.lmi`
``"latentmi"``  the reference ``latentmi`` 0.1.3 package (:mod:`cchlib.mi.reference`)
``"ksg"``       KSG (continuous y) or Ross 2014 (label y) (:mod:`cchlib.mi.ksg`)
``"mine"``      MINE with the bias-corrected gradient (:mod:`cchlib.mi.mine`)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, NamedTuple

import numpy as np

from cchlib.settings import CellSettings

from . import ksg, lmi, mine, reference
from .inputs import as_pair

METHODS = {
    "ksg": ksg.estimate,
    "latentmi": reference.estimate,
    "lmi": lmi.estimate,
    "mine": mine.estimate,
}
DEFAULT_METHOD = "lmi"  # the paper's estimator: the default wherever a method may be left out
# How the book names each method in tables and figures.
NAMES = {"ksg": "KSG", "latentmi": "latentmi", "lmi": "LMI", "mine": "MINE"}
# Methods that train the networks of several seeds as one stacked model.
BATCHED = {"lmi": lmi.estimate_many, "mine": mine.estimate_many}
# Each method's check of its options: an unknown name or a bad value is a ValueError.
OPTION_CHECKS = {
    "ksg": ksg.check_options,
    "latentmi": reference.check_options,
    "lmi": lmi.LMIConfig.from_options,
    "mine": mine.MINEConfig.from_options,
}


def check_method(method: str) -> None:
    """A ValueError naming the closest valid method when ``method`` is not one of :data:`METHODS`."""
    if method not in METHODS:
        close = difflib.get_close_matches(str(method), sorted(METHODS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown MI method {method!r}{hint}; choose one of {sorted(METHODS)}.")


def check_spec(method: str, options: dict | None = None) -> None:
    """Check an estimator's name and options without estimating anything.

    Settings call it when they are built, so a typo in a parameter set fails before any
    network trains, not after.
    """
    check_method(method)
    OPTION_CHECKS[method](dict(options or {}))


@dataclass(frozen=True)
class CheckedMI(CellSettings):
    """:class:`~cchlib.settings.CellSettings` with ``mi_method`` and ``mi_options`` checked when built."""

    def __post_init__(self):
        super().__post_init__()
        check_spec(self.mi_method, self.mi_options)


class MIEstimate(NamedTuple):
    """Mean MI over repeats (nats), its standard error, and the per-repeat values."""

    mean: float
    se: float
    values: tuple[float, ...]


def estimate(x, y, method: str = "lmi", seed: int = 0, **options) -> float:
    """Estimate I(x; y) in nats.

    x: (n, dx) continuous samples (1-D is one column); numpy array or torch tensor.
    y: (n, dy) continuous samples, or 1-D integer class labels (treated as discrete).
    method: one of :data:`METHODS`; options go to that estimator under its own names.
    seed: makes the estimate reproducible; global RNG states are left untouched.
    """
    check_method(method)
    x, y = as_pair(x, y)
    return METHODS[method](x, y, seed=seed, **options)


def estimate_many(x, y, method: str = "lmi", seeds: Iterable[int] = (0, 1), **options) -> list[float]:
    """One estimate per seed, as ``[estimate(x, y, method, seed=s, **options) for s in seeds]``.

    ``"lmi"`` and ``"mine"`` train all seeds as one stacked model (one pass
    over the data per step for all repeats; the gain is largest on a GPU);
    each value then equals ``estimate(..., seed=s)`` up to floating-point
    rounding of the batched products.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty; pass at least one seed.")
    if method in BATCHED:
        return list(BATCHED[method](*as_pair(x, y), seeds=seeds, **options))
    return [estimate(x, y, method=method, seed=s, **options) for s in seeds]


def estimate_with_se(
    x,
    y,
    method: str = "lmi",
    seeds: Iterable[int] | None = None,
    repeats: int = 5,
    **options,
) -> MIEstimate:
    """Repeat the estimate over seeds (:func:`estimate_many`); return mean, standard error and values.

    ``seeds`` defaults to ``range(repeats)``.  The spread reflects only what the
    seed changes (split, initialisation, minibatch order, tie-breaking jitter),
    not resampling of the data: for ``"ksg"`` it is therefore close to zero.
    """
    seeds = list(range(repeats) if seeds is None else seeds)
    if len(seeds) < 2:
        raise ValueError(f"a standard error needs at least 2 seeds; got {len(seeds)}.")
    values = tuple(estimate_many(x, y, method=method, seeds=seeds, **options))
    se = float(np.std(values, ddof=1) / np.sqrt(len(values)))
    return MIEstimate(float(np.mean(values)), se, values)
