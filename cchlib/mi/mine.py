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

Defaults: two hidden layers of ``hidden`` ELU units (2*(dx+dy) rounded up to
a power of two, clamped to [64, 256]), Adam with lr 1e-3, batch 512,
at most 300 epochs, patience 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from .inputs import is_labels, one_hot, require_samples
from .nets import hidden_width, mlp, pick_device, split_indices, to_tensor
from .rng import seeded_globals
from .training import train_early_stopping


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
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"method='mine' got unknown option(s) {sorted(unknown)}; it accepts {sorted(known)}.")
        return cls(**options)


class StatisticsNetwork(nn.Module):
    """T(x, y): an MLP on the concatenated pair, returning one score per sample."""

    def __init__(self, dx: int, dy: int, hidden: int | None):
        super().__init__()
        h = hidden or hidden_width(dx + dy, hi=256)
        self.net = mlp([dx + dy, h, h, 1], activation=nn.ELU)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, y], dim=1)).squeeze(1)


def log_mean_exp(t: torch.Tensor) -> torch.Tensor:
    """log(mean(exp(t))), computed stably."""
    return torch.logsumexp(t, dim=0) - math.log(t.numel())


def dv_bound(model: StatisticsNetwork, x: torch.Tensor, y: torch.Tensor, draws: int) -> float:
    """Donsker-Varadhan bound on (x, y), marginal term over ``draws`` shuffles of y."""
    joint = model(x, y).mean()
    marginal = torch.cat([model(x, y[torch.randperm(len(y), device=y.device)]) for _ in range(draws)])
    return float(joint - log_mean_exp(marginal))


class BiasCorrectedLoss:
    """Negative DV bound whose log-term gradient uses a moving-average denominator."""

    def __init__(self, model: StatisticsNetwork, rate: float):
        self.model, self.rate = model, rate
        self.log_ma: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        joint = self.model(x, y).mean()
        lme = log_mean_exp(self.model(x, y[torch.randperm(len(y), device=y.device)]))
        with torch.no_grad():
            if self.log_ma is None:
                self.log_ma = lme.detach()
            else:
                self.log_ma = torch.logaddexp(math.log1p(-self.rate) + self.log_ma, math.log(self.rate) + lme)
        # d/dtheta exp(lme - log_ma) = E[exp(T) dT] / moving average of E[exp(T)]
        return -(joint - torch.exp(lme - self.log_ma))


def _tensors(x: np.ndarray, y: np.ndarray, cfg: MINEConfig, seed: int):
    """Standardised tensors for the training, stopping and test parts."""
    y = one_hot(y) if is_labels(y) else y
    parts = split_indices(len(x), [cfg.stop_split, cfg.test_split], seed)
    require_samples(min(map(len, parts)), 2, "mine", "each of its train/stop/test parts needs 2 samples to shuffle")
    device = pick_device(cfg.device)
    xt, yt = to_tensor(x, parts[0], device), to_tensor(y, parts[0], device)
    return [(xt[p], yt[p]) for p in parts], device


def estimate(x: np.ndarray, y: np.ndarray, seed: int = 0, **options) -> float:
    """MINE estimate of I(x; y) in nats: the DV bound on the held-out test part."""
    cfg = MINEConfig.from_options(options)
    if not 0 < cfg.ema_rate < 1:
        raise ValueError(f"ema_rate must lie in (0, 1); got {cfg.ema_rate}.")
    (train, stop, test), device = _tensors(x, y, cfg, seed)
    with seeded_globals(seed):
        model = StatisticsNetwork(x.shape[1], train[1].shape[1], cfg.hidden).to(device)
        loss = BiasCorrectedLoss(model, cfg.ema_rate)
        log = train_early_stopping(
            model,
            lambda idx: loss(train[0][idx], train[1][idx]),
            lambda: -dv_bound(model, *stop, cfg.marginal_draws),
            len(train[0]),
            lr=cfg.lr, batch_size=cfg.batch_size, epochs=cfg.epochs,
            patience=cfg.patience, min_delta=cfg.min_delta, device=device,
        )
        with torch.no_grad():
            bound = dv_bound(model, *test, cfg.marginal_draws)
    if cfg.verbose:
        print(f"mine: {log.epochs_run} epochs, best stopping-part bound {-log.best_score:.4f} "
              f"at epoch {log.best_epoch}, test bound {bound:.4f}")
    return bound
