"""The known-MI suite: conditions with exact mutual information, and the sweep cell that estimates them.

Three families of conditions, each a dict that :func:`make_data` turns into
samples with known MI (:mod:`.known`):

* ``accuracy`` - Gaussian pairs with ``factors`` shared factors of canonical
  correlation ``rho``, embedded in ``dim`` coordinates per side (with a little
  isotropic noise when ``dim`` exceeds the number of factors, which keeps the
  joint covariance non-singular): the case latent-MI estimators are built for.
* ``noise`` - the same shared factors plus ``noise_dims`` independent factors
  per side, all mixed into ``dim`` coordinates: the larger the share of
  unshared dimensions, the harder the shared signal is to find.
* ``labels`` - a continuous ``dim``-d x against class labels from a Gaussian
  mixture (``n_classes`` clusters in ``signal_dims`` coordinates).

:func:`run_cell` has the :func:`cchlib.sweep.run_sweep` signature: one data
draw per condition, one estimate per (method, estimator seed), the networks of
all seeds of a neural method trained as one stacked model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cchlib.settings import CellSettings

from . import known
from .api import estimate_many

AMBIENT_NOISE = 0.1


def accuracy_conditions(dims, rhos, factors: int) -> list[dict]:
    """Gaussian pairs over a grid of dimension and canonical correlation."""
    return [dict(suite="accuracy", kind="gaussian", dim=int(d), factors=factors, rho=float(r), noise_dims=0)
            for d in dims for r in rhos]


def noise_conditions(dim: int, factors: int, rho: float, noise_dims) -> list[dict]:
    """The same shared factors with a growing number of unshared noise factors mixed in."""
    return [dict(suite="noise", kind="gaussian", dim=dim, factors=factors, rho=float(rho), noise_dims=int(k))
            for k in noise_dims]


def label_conditions(dims, separations, n_classes: int, signal_dims: int) -> list[dict]:
    """Continuous x against class labels, over a grid of dimension and cluster separation."""
    return [dict(suite="labels", kind="labels", dim=int(d), n_classes=n_classes, signal_dims=signal_dims,
                 separation=float(s)) for d in dims for s in separations]


def unshared_share(condition: dict) -> float:
    """Share of each side's factors that the other side does not see (0 for label conditions)."""
    if condition["kind"] != "gaussian":
        return 0.0
    return condition["noise_dims"] / (condition["factors"] + condition["noise_dims"])


def make_data(condition: dict, n: int, seed: int) -> known.KnownMI:
    """Samples and exact MI (nats) of one condition."""
    c = condition
    if c["kind"] == "labels":
        return known.gaussian_mixture_labels(n, c["n_classes"], c["signal_dims"], dim=c["dim"],
                                             separation=c["separation"], seed=seed)
    if c["kind"] != "gaussian":
        raise ValueError(f"unknown condition kind {c['kind']!r}; expected 'gaussian' or 'labels'.")
    square = c["factors"] + c["noise_dims"] == c["dim"]
    return known.gaussian_pair(n, rho=[c["rho"]] * c["factors"], dim=c["dim"], noise_dims=c["noise_dims"],
                               ambient_noise=0.0 if square else AMBIENT_NOISE, seed=seed)


@dataclass(frozen=True)
class Settings(CellSettings):
    """The settings of :func:`run_cell`."""

    n: int  # samples per condition
    data_seed: int  # seed of every condition's data draw
    methods: list[str]  # estimator names for cchlib.mi.estimate
    method_options: dict  # method -> its options (a method not named runs at its defaults)


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Estimate one condition's MI with every method, once per estimator seed.

    ``settings`` is a :class:`Settings` as a dict. Returns per seed one row per
    method: the estimate, the truth, and the wall seconds per estimate (a stacked
    fit's time divided by its seeds).
    """
    s = Settings.from_dict(settings)
    data = make_data(condition, s.n, s.data_seed)
    rows: dict[int, list[dict]] = {seed: [] for seed in seeds}
    for method in s.methods:
        options = s.method_options.get(method, {})
        start = time.perf_counter()
        values = estimate_many(data.x, data.y, method=method, seeds=seeds, **options)
        seconds = (time.perf_counter() - start) / len(seeds)
        for seed, value in zip(seeds, values):
            rows[seed].append(dict(condition, method=method, truth=data.mi, estimate=value,
                                   unshared_share=unshared_share(condition), seconds=seconds))
    return rows
