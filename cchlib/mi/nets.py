"""Small pieces shared by the neural estimators (:mod:`.lmi`, :mod:`.mine`).

Networks are sized to their input, data is moved to the device once as
standardised float32 tensors, and samples are split into parts by a seeded
permutation.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .inputs import standardize


def hidden_width(dim: int, lo: int = 64, hi: int = 1024) -> int:
    """A first hidden width for a ``dim``-dimensional input: 2*dim rounded up to a power of two, in [lo, hi]."""
    return int(min(hi, max(lo, 2 ** math.ceil(math.log2(2 * dim)))))


def mlp(sizes: list[int], dropout: float = 0.0, activation=lambda: nn.LeakyReLU(0.2)) -> nn.Sequential:
    """Linear layers of the given sizes with ``activation`` between them; optional dropout before each."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(d_in, d_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def pick_device(device: str | None) -> torch.device:
    """The requested device, else CUDA when available, else CPU."""
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


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
