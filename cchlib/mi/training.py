"""Minibatch training of stacked copies, each with its own early stopping that really restores its best weights.

The neural estimators train R independent copies of one network at once (one per
seed), as :class:`cchlib.models.StackedMLP` stacks: every parameter has the copy
as its leading dimension.  The loss summed over copies gives each copy exactly
its own gradient and Adam acts element-wise, so a copy trains as it would alone.
Early stopping is per copy too: once a copy has gone ``patience`` epochs
without improving, its best weights are frozen (later epochs, run only because
other copies are still improving, cannot change what it returns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn


@dataclass
class TrainLog:
    """Per copy: the epoch whose weights were restored and its held-out score; epochs run in all."""

    epochs_run: int
    best_epoch: list[int]
    best_score: list[float]


class NonFiniteTraining(ValueError):
    """A neural estimator's loss became NaN or infinite: its weights diverged."""

    def __init__(self, name: str, epoch: int, copies: list[int]):
        super().__init__(
            f"{name}: the held-out loss became NaN/inf at epoch {epoch + 1} for stacked cop"
            f"{'y' if len(copies) == 1 else 'ies'} {copies}, so the networks diverged. "
            "Try a smaller learning rate (option lr), check the inputs for extreme values "
            "or near-constant columns, or use method='ksg'."
        )


def train_early_stopping(
    model: nn.Module,
    batch_losses: Callable[[torch.Tensor], torch.Tensor],
    held_out_scores: Callable[[], torch.Tensor],
    orders: Callable[[], torch.Tensor],
    *,
    lr: float,
    batch_size: int,
    epochs: int,
    patience: int,
    min_delta: float,
    name: str = "estimator",
) -> TrainLog:
    """Train the stacked copies with Adam; give each copy back the weights of its best held-out epoch.

    ``orders()`` returns this epoch's sample order per copy, (R, n_train);
    ``batch_losses(idx)`` the per-copy training losses (R,) on rows ``idx``
    (R, batch); ``held_out_scores()`` the per-copy held-out scores (R,), lower
    is better, evaluated after every epoch in eval mode.  A copy stops after
    ``patience`` epochs without an improvement larger than ``min_delta``;
    training ends when every copy has stopped or after ``epochs`` epochs.
    A non-finite held-out score (the weights diverged) raises a ValueError
    that names ``name`` (the estimator and its input shapes) at once.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)  # one fused update for all tensors
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    copies = next(iter(best_state.values())).shape[0]
    best_score = torch.full((copies,), float("inf"))
    best_epoch = torch.full((copies,), -1)
    active = torch.ones(copies, dtype=torch.bool)
    epoch = -1
    for epoch in range(epochs):
        model.train()
        for idx in orders().split(batch_size, dim=1):
            optimizer.zero_grad(set_to_none=True)
            batch_losses(idx).sum().backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            score = held_out_scores().detach().cpu().float()
        if not torch.isfinite(score).all():
            raise NonFiniteTraining(name, epoch, torch.nonzero(~torch.isfinite(score)).flatten().tolist())
        better = active & (score < best_score - min_delta)
        if better.any():
            best_score[better], best_epoch[better] = score[better], epoch
            for key, value in model.state_dict().items():
                best_state[key][better.to(value.device)] = value[better.to(value.device)]
        active &= epoch - best_epoch < patience
        if not active.any():
            break
    model.load_state_dict(best_state)
    model.eval()
    return TrainLog(epoch + 1, best_epoch.tolist(), best_score.tolist())
