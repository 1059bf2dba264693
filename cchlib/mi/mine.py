"""MINE: mutual information neural estimation (Belghazi et al., ICML 2018), in nats.

A statistics network T(x, y) is trained to maximise the Donsker-Varadhan
lower bound

    I(x; y) >= E_p(x,y)[T] - log E_p(x)p(y)[exp T],

with samples of the product of marginals made by shuffling y within a
minibatch.  The plain minibatch gradient of the log term is biased; as in
Sec. 3.2 of the paper, its denominator E[exp T] is replaced by an
exponential moving average (rate ``ema_rate``), kept in log space so that
large T cannot overflow.

The samples are split three ways: a training part, a ``stop_split`` part
whose bound decides early stopping (best weights restored), and a
``test_split`` part on which the reported bound is evaluated, so the number
returned is not inflated by selecting the best epoch on the same samples.
On the test part the marginal term averages over ``marginal_draws``
independent shuffles of y.  Class labels are one-hot encoded.

Defaults: two hidden layers of ``hidden`` leaky-ReLU units (2*(dx+dy) rounded
up to a power of two, clamped to [64, 256]), Adam with lr 1e-3, batch 512,
at most 300 epochs, patience 10.  Like :mod:`.lmi`, :func:`estimate_many`
trains one statistics network per seed as one stacked model, each copy with
its own split, shuffles and early stopping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..device import default_device
from ..models import StackedMLP
from .inputs import check_options, is_labels, one_hot, require_samples
from .nets import epoch_orders, generators, hidden_width, split_indices, stacked_parts
from .training import NonFiniteTraining, train_early_stopping


@dataclass(frozen=True)
class MINEConfig:
    """Options of :func:`estimate`; see the module docstring."""

    hidden: int | None = None
    lr: float = 1e-3
    batch_size: int = 512
    epochs: int = 300
    patience: int = 10
    min_delta: float = 1e-4
    ema_rate: float = 0.01
    stop_split: float = 0.2
    test_split: float = 0.3
    marginal_draws: int = 10
    device: str | None = None
    verbose: bool = False

    @classmethod
    def from_options(cls, options: dict) -> "MINEConfig":
        """Build a config, rejecting unknown option names with a ValueError."""
        check_options(cls, options, "mine")
        if not 0 < options.get("ema_rate", cls.ema_rate) < 1:
            raise ValueError(f"ema_rate must lie in (0, 1); got {options['ema_rate']}.")
        return cls(**options)


class StatisticsNetwork(StackedMLP):
    """T(x, y): an MLP on the concatenated pair, one score per sample, one copy per seed."""

    def __init__(self, dx: int, dy: int, hidden: int | None, seeds: list[int]):
        h = hidden or hidden_width(dx + dy, hi=256)
        super().__init__(seeds, dx + dy, [h, h], 1, role="mine.T", activation="leaky_relu")

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Scores (R, n) of the pairs in (R, n, dx) and (R, n, dy)."""
        return super().forward(torch.cat([x, y], dim=2)).squeeze(2)


def log_mean_exp(t: torch.Tensor) -> torch.Tensor:
    """log(mean(exp(t))) along the last dimension, computed stably."""
    return torch.logsumexp(t, dim=-1) - math.log(t.shape[-1])


def shuffled(y: torch.Tensor, gens: list[torch.Generator]) -> torch.Tensor:
    """y with its rows permuted within each copy: samples of the product of marginals."""
    rows = torch.arange(len(gens), device=y.device)[:, None]
    return y[rows, epoch_orders(gens, y.shape[1], y.device)]


def dv_bound(model: StatisticsNetwork, x, y, draws: int, gens) -> torch.Tensor:
    """Donsker-Varadhan bound per copy (R,), marginal term over ``draws`` shuffles of y."""
    joint = model(x, y).mean(dim=1)
    marginal = torch.cat([model(x, shuffled(y, gens)) for _ in range(draws)], dim=1)
    return joint - log_mean_exp(marginal)


class BiasCorrectedLoss:
    """Negative DV bound per copy whose log-term gradient uses a moving-average denominator."""

    def __init__(self, model: StatisticsNetwork, rate: float, gens: list[torch.Generator]):
        self.model, self.rate, self.gens = model, rate, gens
        self.log_ma: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        joint = self.model(x, y).mean(dim=1)
        lme = log_mean_exp(self.model(x, shuffled(y, self.gens)))
        with torch.no_grad():
            if self.log_ma is None:
                self.log_ma = lme.detach()
            else:
                self.log_ma = torch.logaddexp(math.log1p(-self.rate) + self.log_ma, math.log(self.rate) + lme)
        # d/dtheta exp(lme - log_ma) = E[exp(T) dT] / moving average of E[exp(T)]
        return -(joint - torch.exp(lme - self.log_ma))


def estimate_many(x: np.ndarray, y: np.ndarray, seeds: Sequence[int], **options) -> list[float]:
    """MINE estimates of I(x; y) in nats, one per seed: the DV bound on each copy's held-out test part."""
    cfg = MINEConfig.from_options(options)
    seeds = [int(s) for s in seeds]
    y = one_hot(y) if is_labels(y) else y
    splits = [split_indices(len(x), [cfg.stop_split, cfg.test_split], s) for s in seeds]
    require_samples(min(map(len, splits[0])), 2, "mine", "each of its train/stop/test parts needs 2 samples to shuffle")
    device = default_device(cfg.device)
    (x_tr, x_st, x_te), (y_tr, y_st, y_te) = stacked_parts(x, splits, device), stacked_parts(y, splits, device)
    gens = generators(seeds, device)
    rows = torch.arange(len(seeds), device=device)[:, None]
    model = StatisticsNetwork(x.shape[1], y.shape[1], cfg.hidden, seeds).to(device)
    loss = BiasCorrectedLoss(model, cfg.ema_rate, gens)
    log = train_early_stopping(
        model,
        lambda idx: loss(x_tr[rows, idx], y_tr[rows, idx]),
        lambda: -dv_bound(model, x_st, y_st, cfg.marginal_draws, gens),
        lambda: epoch_orders(gens, x_tr.shape[1], device),
        lr=cfg.lr, batch_size=cfg.batch_size, epochs=cfg.epochs,
        patience=cfg.patience, min_delta=cfg.min_delta,
        name=f"mine on x {x.shape} and y {y.shape}",
    )
    with torch.no_grad():
        bounds = dv_bound(model, x_te, y_te, cfg.marginal_draws, gens).tolist()
    if not np.isfinite(bounds).all():
        raise NonFiniteTraining(f"mine on x {x.shape} and y {y.shape} (test bound)", log.epochs_run - 1, seeds)
    if cfg.verbose:
        print(f"mine: {log.epochs_run} epochs; per seed {seeds}: best epoch {log.best_epoch}, "
              f"stopping-part bound {[round(-s, 4) for s in log.best_score]}, test bound {[round(b, 4) for b in bounds]}")
    return bounds


def estimate(x: np.ndarray, y: np.ndarray, seed: int = 0, **options) -> float:
    """MINE estimate of I(x; y) in nats: the DV bound on the held-out test part."""
    return estimate_many(x, y, [seed], **options)[0]
