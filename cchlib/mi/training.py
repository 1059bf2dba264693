"""Minibatch training with early stopping that really restores the best weights."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn


@dataclass
class TrainLog:
    """Epochs run, the epoch whose weights were restored, and its held-out score."""

    epochs_run: int = 0
    best_epoch: int = -1
    best_score: float = math.inf


def train_early_stopping(
    model: nn.Module,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    held_out_score: Callable[[], float],
    n_train: int,
    *,
    lr: float,
    batch_size: int,
    epochs: int,
    patience: int,
    min_delta: float,
    device: torch.device,
) -> TrainLog:
    """Train with Adam on shuffled index minibatches; keep the weights with the lowest held-out score.

    ``batch_loss(idx)`` returns the loss on training samples ``idx``;
    ``held_out_score()`` (lower is better) is evaluated after every epoch with
    the model in eval mode.  Training stops after ``patience`` epochs without
    an improvement larger than ``min_delta``; a deep copy of the best weights
    is loaded back before returning.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    log = TrainLog()
    best_state = copy.deepcopy(model.state_dict())
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(n_train, device=device).split(batch_size):
            optimizer.zero_grad(set_to_none=True)
            batch_loss(idx).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            score = held_out_score()
        log.epochs_run = epoch + 1
        if score < log.best_score - min_delta:
            log.best_epoch, log.best_score = epoch, score
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - log.best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return log
