"""Stacked MLPs and per-copy batch normalisation, the building blocks of every network.

Sweeps train the same small network for many seeds (and, for distillation, many
weights lambda). Instead of a Python loop over seeds, :class:`StackedMLP` holds M
independent copies of one architecture as stacked weight tensors and evaluates them all
with batched matrix products. Copy ``m`` is initialised from its own seed, so its
result does not depend on which other copies share the stack.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cchlib.models.stack import copy_generator, role_salt

ACTIVATIONS = {"relu": torch.relu, "leaky_relu": F.leaky_relu}


def _uniform(shape, bound: float, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


class StackedMLP(nn.Module):
    """M independent MLPs ``d_in -> hidden[0] -> ... -> d_out``, ``activation`` between layers.

    Inputs have shape (M, n, d_in); outputs (M, n, d_out). :meth:`features` returns the
    last hidden layer, the "representation" H whose mutual information the book
    estimates. Weights are initialised like ``torch.nn.Linear`` (uniform in
    +-1/sqrt(fan_in)), each copy from a generator seeded with its own seed.

    ``role`` (e.g. "teacher", "student") is mixed into the initialisation seed so that a
    teacher and a student with the same seed do not start from the same weights, while
    a baseline and a distilled student with the same seed do (a paired comparison).

    Table 9 of the paper (synthetic data) is ``StackedMLP(seeds, 100, [64], 1)``.
    """

    def __init__(
        self, seeds, d_in: int, hidden: list[int], d_out: int, role: str = "", activation: str = "relu"
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.activation = ACTIVATIONS[activation]
        self.seeds = [int(s) for s in seeds]
        if not self.seeds:
            raise ValueError("StackedMLP needs at least one seed")
        widths = [d_in, *hidden, d_out]
        salt = role_salt(role)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            bound = 1 / math.sqrt(fan_in)
            w, b = [], []
            for seed in self.seeds:
                g = copy_generator(seed, salt + fan_in * 7919 + fan_out)
                w.append(_uniform((fan_in, fan_out), bound, g))
                b.append(_uniform((1, fan_out), bound, g))
            self.weights.append(nn.Parameter(torch.stack(w)))
            self.biases.append(nn.Parameter(torch.stack(b)))

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations, shape (M, n, hidden[-1])."""
        for w, b in zip(list(self.weights)[:-1], list(self.biases)[:-1]):
            x = self.activation(torch.baddbmm(b, x, w))
        return x

    def head(self, h: torch.Tensor) -> torch.Tensor:
        """The output layer applied to features ``h``."""
        return torch.baddbmm(self.biases[-1], h, self.weights[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class PerCopyMLP(StackedMLP):
    """A :class:`StackedMLP` whose copies keep their own weight tensors, multiplied one by one.

    Initialised exactly as :class:`StackedMLP` (the same numbers per copy) and computing
    the same function, but each copy's layer is its own parameter and its own ``addmm``.
    For wide layers (Table 11's 2352 -> 1024) on a CPU this trains about 1.7x faster
    than one ``baddbmm`` over the stack: the batched product's backward is slow there
    (``benchmarks/precision.py``), while for the narrow networks of the other chapters
    the stack is the faster layout. The two layouts round differently, so a network's
    results belong to its layout: :func:`image_mlp` always uses this one.
    """

    def __init__(self, seeds, d_in: int, hidden: list[int], d_out: int, role: str = "",
                 activation: str = "relu"):
        super().__init__(seeds, d_in, hidden, d_out, role, activation)
        self.weights = _per_copy(self.weights)
        self.biases = _per_copy(self.biases)

    def _run(self, x: torch.Tensor, layers: range) -> torch.Tensor:
        """``layers`` applied to each copy's inputs, copy by copy (faster than layer by layer)."""
        last = len(self.weights) - 1
        outputs = []
        for m, h in enumerate(x):
            for layer in layers:
                h = torch.addmm(self.biases[layer][m], h, self.weights[layer][m])
                h = self.activation(h) if layer < last else h
            outputs.append(h)
        return torch.stack(outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations, shape (M, n, hidden[-1])."""
        return self._run(x, range(len(self.weights) - 1))

    def head(self, h: torch.Tensor) -> torch.Tensor:
        """The output layer applied to features ``h``."""
        return self._run(h, range(len(self.weights) - 1, len(self.weights)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x, range(len(self.weights)))


def _per_copy(stacked: nn.ParameterList) -> nn.ModuleList:
    """Stacked (M, ...) parameters as one list of M separate parameters per layer."""
    return nn.ModuleList(nn.ParameterList(nn.Parameter(t.detach().clone()) for t in p) for p in stacked)


class StackedBatchNorm(nn.Module):
    """BatchNorm1d for M stacked copies, statistics over each copy's own samples.

    Inputs (M, n, width). Training mode normalises with the batch's mean and biased
    variance and updates running estimates (momentum 0.1, unbiased variance) as
    ``torch.nn.BatchNorm1d`` does; evaluation mode uses the running estimates.
    """

    def __init__(self, n_models: int, width: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(n_models, 1, width))
        self.bias = nn.Parameter(torch.zeros(n_models, 1, width))
        self.register_buffer("running_mean", torch.zeros(n_models, 1, width))
        self.register_buffer("running_var", torch.ones(n_models, 1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            mean = x.mean(1, keepdim=True)
            var = x.var(1, unbiased=False, keepdim=True)
            with torch.no_grad():
                n = x.shape[1]
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / max(n - 1, 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def synthetic_mlp(seeds, role: str, p: int = 100, hidden: int = 64) -> StackedMLP:
    """Table 9: input p -> 64 ReLU -> 1, one copy per seed."""
    return StackedMLP(seeds, p, [hidden], 1, role=role)


IMAGE_HIDDEN = [1024, 256]  # Table 11
IMAGE_CLASSES = 10


def image_mlp(seeds, d_in: int, role: str, n_out: int = IMAGE_CLASSES, hidden=None) -> StackedMLP:
    """Table 11: input -> 1024 -> 256 -> 10 with LeakyReLU, one copy per seed (:class:`PerCopyMLP`)."""
    return PerCopyMLP(seeds, d_in, list(hidden or IMAGE_HIDDEN), n_out, role=role, activation="leaky_relu")


def logistic_regression(seeds, d_in: int, role: str, n_classes: int = 2) -> StackedMLP:
    """One logistic regression per seed (a StackedMLP without hidden layers; MFH's networks)."""
    return StackedMLP(seeds, d_in, [], n_classes, role=role)


class DecisionValueLR(StackedMLP):
    """Two-class logistic regressions whose representation (:meth:`features`) is the decision value.

    ``features`` returns z_1 - z_0 as (M, n, 1): MFH's H (see :mod:`cchlib.experiments.mfh`);
    initialised and trained exactly as :func:`logistic_regression`.
    """

    def __init__(self, seeds, d_in: int, role: str):
        super().__init__(seeds, d_in, [], 2, role=role)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        z = self.head(x)
        return z[..., 1:] - z[..., :1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)
