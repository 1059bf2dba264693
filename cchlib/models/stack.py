"""The stack protocol every network of the book follows, and its per-copy randomness.

A *stack* holds M independent copies of one network, one per seed, evaluated together
on inputs of shape (M, n, ...). :func:`cchlib.train.fit` trains any object with

- ``seeds``: the M seeds (copy ``m`` draws everything random from ``seeds[m]``),
- ``n_models``: M,
- ``forward(x)``: (M, n, ...) -> (M, n, d_out), copy ``m`` on its own inputs ``x[m]``,
- the ``torch.nn.Module`` API (``parameters``, ``train``, ``eval``, ``to``);

the distillation experiment (:mod:`cchlib.kd`) also needs ``features(x)``, the last
hidden layer (the representation H whose mutual information the book estimates).
:class:`Stack` declares this and :func:`check_stack` tests it with a clear message.

Copy ``m`` must give the same result whichever other copies share its stack, so every
generator a copy uses comes from :func:`copy_generator` (its seed and a salt naming the
purpose), and dropout from :func:`copy_dropout`.
"""

from __future__ import annotations

import zlib
from typing import Protocol, runtime_checkable

import torch

SEED_STRIDE = 1_000_003  # initialisation generators (weights, user modules)
DROPOUT_STRIDE = 7_368_787  # dropout-mask generators: kept apart from initialisation


@runtime_checkable
class Stack(Protocol):
    """M independent copies of one network, one per seed (see the module docstring)."""

    seeds: list

    @property
    def n_models(self) -> int: ...

    def forward(self, x: torch.Tensor) -> torch.Tensor: ...

    def features(self, x: torch.Tensor) -> torch.Tensor: ...


def check_stack(model, features: bool = False) -> None:
    """Raise a ``ValueError`` naming what ``model`` lacks to be trained (and read) as a stack."""
    needed = ["seeds", "n_models", "forward", "parameters", "train", "eval"] + (["features"] if features else [])
    missing = [name for name in needed if not hasattr(model, name)]
    if missing:
        raise ValueError(
            f"{type(model).__name__} is not a network stack: it lacks {missing}. Build networks with "
            "cchlib.models (StackedMLP, ModuleStack for a torch module of your own), see cchlib.models.stack"
        )


def role_salt(role: str) -> int:
    """A fixed integer for a role name ("teacher", "student", ...), mixed into copy seeds."""
    return zlib.crc32(role.encode())


def copy_seed(seed: int, salt: int = 0, stride: int = SEED_STRIDE) -> int:
    """The seed of a copy's generator for one purpose: ``(seed * stride + salt) mod 2^63``."""
    return (int(seed) * stride + int(salt)) % 2**63


def copy_generator(seed: int, salt: int = 0, stride: int = SEED_STRIDE) -> torch.Generator:
    """A CPU generator private to one copy (``seed``) and one purpose (``salt``, ``stride``)."""
    return torch.Generator().manual_seed(copy_seed(seed, salt, stride))


def dropout_generators(seeds, salt: int) -> list[torch.Generator]:
    """One dropout-mask generator per copy, see :func:`copy_dropout`."""
    return [copy_generator(s, salt, DROPOUT_STRIDE) for s in seeds]


def copy_dropout(h: torch.Tensor, p: float, generators: list[torch.Generator], training: bool) -> torch.Tensor:
    """Inverted dropout of rate ``p`` on (M, n, ...) with copy ``m``'s mask from ``generators[m]``.

    The identity in evaluation mode or when ``p == 0``.
    """
    if not training or p == 0:
        return h
    keep = 1 - p
    noise = torch.stack([torch.rand(h.shape[1:], generator=g) for g in generators]).to(h.device)
    return h * (noise < keep) / keep
