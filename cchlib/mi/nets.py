"""Small pieces shared by the neural estimators (:mod:`.lmi`, :mod:`.mine`).

Both train R copies of their networks at once, one per seed, as
:class:`cchlib.models.StackedMLP` stacks.  Each copy has its own random
split of the samples, its own standardisation (training-part statistics),
and its own :class:`torch.Generator` for minibatch order, dropout and
shuffles, so a copy's estimate does not depend on which other seeds share
its stack (up to floating-point rounding of the batched products).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .inputs import standardize


def hidden_width(dim: int, lo: int = 64, hi: int = 1024) -> int:
    """A first hidden width for a ``dim``-dimensional input: 2*dim rounded up to a power of two, in [lo, hi]."""
    return int(min(hi, max(lo, 2 ** math.ceil(math.log2(2 * dim)))))


def split_indices(n: int, fractions: list[float], seed: int) -> list[np.ndarray]:
    """Split ``range(n)`` at random into parts of the given fractions plus a remainder (first)."""
    if any(f <= 0 for f in fractions) or sum(fractions) >= 1:
        raise ValueError(f"split fractions must be positive and sum to less than 1; got {fractions}.")
    order = np.random.default_rng(seed).permutation(n)
    sizes = [int(round(n * f)) for f in fractions]
    bounds = np.cumsum([n - sum(sizes)] + sizes)
    return np.split(order, bounds[:-1])


def to_tensor(a: np.ndarray, train_idx: np.ndarray, device: torch.device) -> torch.Tensor:
    """Standardise ``a`` with training-part statistics, clip to +-10, return float32 on ``device``.

    Clipping (as ``latentmi`` does) keeps rare extreme values from dominating
    the squared-error and exponential terms of the training losses.
    """
    a = np.clip(standardize(a, ref=a[train_idx]), -10, 10)
    return torch.as_tensor(a, dtype=torch.float32, device=device)


def stacked_parts(a: np.ndarray, splits: list[list[np.ndarray]], device: torch.device) -> list[torch.Tensor]:
    """Per part, a (R, n_part, d) tensor: copy r's rows of ``a``, standardised on its training part.

    ``splits[r]`` is copy r's list of index arrays, training part first (see :func:`split_indices`).
    """
    per_copy = [[to_tensor(a, parts[0], device)[p] for p in parts] for parts in splits]
    return [torch.stack(part) for part in zip(*per_copy)]


def generators(seeds: list[int], device: torch.device) -> list[torch.Generator]:
    """One generator per copy, seeded with its seed, for minibatch orders, dropout and shuffles."""
    return [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]


def epoch_orders(gens: list[torch.Generator], n: int, device: torch.device) -> torch.Tensor:
    """One random permutation of range(n) per copy, (R, n)."""
    return torch.stack([torch.randperm(n, generator=g, device=device) for g in gens])


def dropout(h: torch.Tensor, p: float, gens: list[torch.Generator]) -> torch.Tensor:
    """Inverted dropout on (R, n, d) activations, copy r's mask drawn from ``gens[r]``."""
    keep = torch.stack([torch.rand(h.shape[1:], generator=g, device=h.device) for g in gens]) >= p
    return h * keep / (1 - p)


def mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each copy, (R,), for (R, n, d) tensors."""
    return ((prediction - target) ** 2).mean(dim=(1, 2))
