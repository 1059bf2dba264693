"""The chapters' composite networks, each a stack (see :mod:`cchlib.models.stack`).

- :class:`StackedMoseiNet`: Table 14 (CMU-MOSEI), Linear-ReLU-BatchNorm-Dropout blocks.
- :class:`StackedFusionNet`: Table 18 (TCGA fusion), two encoders and three heads.
- :class:`AlignedPair`: MFH's Algorithm 1, two logistic regressions trained together.
- :class:`ModuleStack`: M copies of a user's own ``torch.nn.Module``.

Each copy is initialised, and draws its dropout masks, from generators seeded with its
own seed and role, so it trains exactly as it would alone.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from cchlib.models.mlp import StackedBatchNorm, StackedMLP, logistic_regression
from cchlib.models.stack import copy_dropout, copy_seed, dropout_generators, role_salt


def _check_dropout(dropout: float) -> None:
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


class StackedMoseiNet(nn.Module):
    """Table 14 for M independent copies: D -> 256 -> 128 -> 2.

    Each hidden block is Linear, ReLU, BatchNorm1d, Dropout(p). The temporal mean-pool
    that opens Table 14 has no parameters, so it is applied once to the data
    (:func:`cchlib.data.mosei.temporal_mean_pool`) and inputs here are pooled, shape
    (M, n, D). :meth:`features` is the representation H (the 128-d block output).
    Call ``.train()`` before fitting and ``.eval()`` before predicting
    (:func:`cchlib.train.fit` leaves the stack in evaluation mode).
    """

    def __init__(self, seeds, d_in: int, role: str, hidden=(256, 128), n_classes: int = 2, dropout: float = 0.3):
        super().__init__()
        _check_dropout(dropout)
        if len(hidden) < 1:
            raise ValueError("StackedMoseiNet needs at least one hidden layer")
        self.seeds = [int(s) for s in seeds]
        widths = [d_in, *hidden]
        self.linears = nn.ModuleList(
            StackedMLP(self.seeds, a, [], b, role=f"{role}-layer{i}") for i, (a, b) in enumerate(zip(widths[:-1], widths[1:]))
        )
        self.norms = nn.ModuleList(StackedBatchNorm(len(self.seeds), b) for b in hidden)
        self.out = StackedMLP(self.seeds, hidden[-1], [], n_classes, role=f"{role}-head")
        self.dropout = dropout
        self._generators = dropout_generators(self.seeds, role_salt(role))

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for linear, norm in zip(self.linears, self.norms):
            x = copy_dropout(norm(torch.relu(linear(x))), self.dropout, self._generators, self.training)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


class StackedFusionNet(nn.Module):
    """Table 18 for M stacked copies: two encoders, concatenation, joint and per-modality heads.

    Encoder m: Linear(d_m -> n_enc) + ReLU, BatchNorm, Dropout(p). Heads: a joint
    Linear(2 n_enc -> K) on the concatenation and one Linear(n_enc -> K) per modality.
    Inputs are the two modalities concatenated, (M, n, d1 + d2); the output is
    (M, n, 3K) = [joint logits, modality-1 logits, modality-2 logits]; :meth:`features`
    is the concatenated embedding (M, n, 2 n_enc).
    """

    DROPOUT_SALT = 11

    def __init__(self, seeds, d1: int, d2: int, n_classes: int, n_enc: int = 64,
                 dropout: float = 0.25, role: str = "fusion"):
        super().__init__()
        _check_dropout(dropout)
        self.seeds = [int(s) for s in seeds]
        self.d1, self.d2, self.n_classes, self.dropout = d1, d2, n_classes, dropout
        m = len(self.seeds)
        self.enc1 = StackedMLP(self.seeds, d1, [], n_enc, role=f"{role}-encoder-1")
        self.enc2 = StackedMLP(self.seeds, d2, [], n_enc, role=f"{role}-encoder-2")
        self.bn1, self.bn2 = StackedBatchNorm(m, n_enc), StackedBatchNorm(m, n_enc)
        self.joint = StackedMLP(self.seeds, 2 * n_enc, [], n_classes, role=f"{role}-joint")
        self.head1 = StackedMLP(self.seeds, n_enc, [], n_classes, role=f"{role}-head-1")
        self.head2 = StackedMLP(self.seeds, n_enc, [], n_classes, role=f"{role}-head-2")
        self._generators = dropout_generators(self.seeds, self.DROPOUT_SALT)

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def _dropout(self, h: torch.Tensor) -> torch.Tensor:
        return copy_dropout(h, self.dropout, self._generators, self.training)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The two modality embeddings, each (M, n, n_enc)."""
        if x.shape[-1] != self.d1 + self.d2:
            raise ValueError(f"inputs have {x.shape[-1]} features, expected {self.d1} + {self.d2}")
        h1 = self._dropout(self.bn1(torch.relu(self.enc1(x[..., : self.d1]))))
        h2 = self._dropout(self.bn2(torch.relu(self.enc2(x[..., self.d1 :]))))
        return h1, h2

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.encode(x), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1, h2 = self.encode(x)
        return torch.cat([self.joint(torch.cat([h1, h2], -1)), self.head1(h1), self.head2(h2)], -1)


class AlignedPair(nn.Module):
    """Two stacks of logistic regressions, one per modality, trained together (MFH Alg. 1, step 1).

    The input is [x_a, x_b] concatenated on the last axis; the output is
    [f_a(x_a), f_b(x_b)] (4 logits).
    """

    def __init__(self, seeds, d1: int, d2: int):
        super().__init__()
        self.d1 = d1
        self.fa = logistic_regression(seeds, d1, "alg1-a")
        self.fb = logistic_regression(seeds, d2, "alg1-b")
        self.seeds = self.fa.seeds

    @property
    def n_models(self) -> int:
        return self.fa.n_models

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The two regressions' logits (the pair has no hidden layer)."""
        return self(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.fa(x[..., : self.d1]), self.fb(x[..., self.d1 :])], dim=-1)


class ModuleStack(nn.Module):
    """M copies of a user's ``torch.nn.Module``, one per seed, behind the stack protocol.

    ``factory(input_shape, n_out)`` must return a module mapping (n, *input_shape) to
    (n, n_out) that either has a ``features(x)`` method (the representation) or is an
    ``nn.Sequential`` (its last layer is then the head). Copy m is built under
    ``torch.manual_seed`` of its own seed and role, so the stack trains with
    :func:`cchlib.train.fit` like the built-in networks.
    """

    def __init__(self, factory: Callable, seeds, input_shape: tuple, n_out: int, role: str):
        super().__init__()
        self.seeds = [int(s) for s in seeds]
        copies = []
        for seed in self.seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(copy_seed(seed, role_salt(role)))
                copies.append(factory(tuple(input_shape), n_out))
        module = copies[0]
        if not isinstance(module, nn.Module):
            raise ValueError(f"a model factory must return a torch.nn.Module, got {type(module).__name__}")
        if not hasattr(module, "features") and not isinstance(module, nn.Sequential):
            raise ValueError(
                f"{type(module).__name__} needs a features(x) method returning its representation "
                "(or be an nn.Sequential whose last layer is the output head)"
            )
        self.copies = nn.ModuleList(copies)

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    @staticmethod
    def _features(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return module.features(x) if hasattr(module, "features") else module[:-1](x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Each copy's representation of its own inputs ``x[m]``: (M, n, hidden)."""
        return torch.stack([self._features(m, x[i]).flatten(1) for i, m in enumerate(self.copies)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x[i]) for i, m in enumerate(self.copies)])
