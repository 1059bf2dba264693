"""Training of teachers, baseline students and distilled students, seeds batched.

:func:`fit` trains every copy in a :class:`~cchlib.models.StackedMLP` at once: the
loss is the sum of the copies' own losses, so each copy receives exactly the gradient it
would get alone, and Adam (an element-wise optimiser) then updates it exactly as it
would alone. Each copy draws its mini-batch order from a generator seeded with its own
seed, so a copy's training does not depend on which other copies share the stack.
"""

from __future__ import annotations

from typing import Callable

import torch

from cchlib.models import StackedMLP


OPTIMISERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def default_device() -> torch.device:
    """CUDA when present, otherwise the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _epoch_orders(generators: list[torch.Generator], n: int, device) -> torch.Tensor:
    """One random permutation of range(n) per model, shape (M, n)."""
    return torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)


def fit(
    model: StackedMLP,
    inputs: torch.Tensor,
    targets: dict[str, torch.Tensor],
    loss_fn: Callable[[torch.Tensor, dict[str, torch.Tensor]], torch.Tensor],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    order_seeds=None,
    optimiser: str = "adam",
) -> list[float]:
    """Train all copies of ``model`` on their own data; return the loss curve.

    Args:
        inputs: (M, n, d), the training inputs of each copy.
        targets: name -> (M, n, ...) tensors (labels, teacher outputs, ...); the batch's
            rows of each are passed to ``loss_fn``.
        loss_fn: ``loss_fn(outputs, batch_targets) -> (M,)`` per-copy losses.
        batch_size: mini-batch size; ``batch_size >= n`` gives full-batch training.
        order_seeds: seeds of the mini-batch order, one per copy (default: the model's
            seeds), so that e.g. a baseline and a distilled student see the same batches.
        optimiser: ``"adam"`` or ``"sgd"`` (plain SGD, as in the paper's Table 12). Both
            act element-wise, so stacked copies are still updated independently.

    Returns:
        The mean (over copies) training loss of each epoch.
    """
    n_models, n = inputs.shape[:2]
    if n_models != model.n_models:
        raise ValueError(f"inputs hold {n_models} copies but the model has {model.n_models}")
    for name, t in targets.items():
        if t.shape[:2] != (n_models, n):
            raise ValueError(f"target {name!r} has shape {tuple(t.shape)}, expected ({n_models}, {n}, ...)")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    if optimiser not in OPTIMISERS:
        raise ValueError(f"unknown optimiser {optimiser!r}; choose one of {sorted(OPTIMISERS)}")
    order_seeds = model.seeds if order_seeds is None else list(order_seeds)
    generators = [torch.Generator().manual_seed(int(s)) for s in order_seeds]
    step = OPTIMISERS[optimiser](model.parameters(), lr=lr)
    rows = torch.arange(n_models, device=inputs.device)[:, None]
    curve = []
    for _ in range(epochs):
        order = _epoch_orders(generators, n, inputs.device)
        total = torch.zeros((), device=inputs.device)
        for start in range(0, n, batch_size):
            idx = order[:, start : start + batch_size]
            batch = {name: t[rows, idx] for name, t in targets.items()}
            losses = loss_fn(model(inputs[rows, idx]), batch)
            step.zero_grad(set_to_none=True)
            losses.sum().backward()
            step.step()
            total += losses.detach().mean() * idx.shape[1]
        curve.append(float(total) / n)
    return curve


@torch.no_grad()
def predict(model: StackedMLP, inputs: torch.Tensor) -> torch.Tensor:
    """Outputs of every copy on its inputs, (M, n, d_out), without gradients."""
    return model(inputs)


@torch.no_grad()
def representations(model: StackedMLP, inputs: torch.Tensor) -> torch.Tensor:
    """The last hidden layer of every copy on its inputs, (M, n, hidden)."""
    return model.features(inputs)
