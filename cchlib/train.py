"""Training of teachers, baseline students and distilled students, seeds batched.

:func:`fit` trains every copy of a network stack (any object following
:class:`cchlib.models.Stack`, e.g. a :class:`~cchlib.models.StackedMLP`) at once: the
loss is the sum of the copies' own losses, so each copy receives exactly the gradient it
would get alone, and Adam (an element-wise optimiser) then updates it exactly as it
would alone. Each copy draws its mini-batch order from a generator seeded with its own
seed, so a copy's training does not depend on which other copies share the stack.
The same holds for AdamW (its weight decay is element-wise too) and for a learning-rate
schedule, which scales every copy's step alike.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from cchlib.device import default_device  # noqa: F401  (re-exported: train.default_device)
from cchlib.mi.inputs import constant_columns
from cchlib.models import Stack, check_stack


OPTIMISERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
SCHEDULES = (None, "cosine")


PRECISIONS = ("float32", "bfloat16")  # of the training forward pass (see fit)


def _epoch_orders(generators: list[torch.Generator], n: int, device) -> torch.Tensor:
    """One random permutation of range(n) per model, shape (M, n)."""
    return torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)


def fit(
    model: Stack,
    inputs: torch.Tensor,
    targets: dict[str, torch.Tensor],
    loss_fn: Callable[[torch.Tensor, dict[str, torch.Tensor]], torch.Tensor],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    order_seeds=None,
    optimiser: str = "adam",
    weight_decay: float = 0.0,
    schedule: str | None = None,
    precision: str = "float32",
    fused: bool = False,
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
        optimiser: ``"adam"``, ``"adamw"`` (decoupled weight decay, Table 15) or ``"sgd"``
            (plain SGD, as in the paper's Table 12). All act element-wise, so stacked
            copies are still updated independently.
        weight_decay: passed to the optimiser (0 by default).
        schedule: ``None`` (constant learning rate) or ``"cosine"`` (cosine annealing
            from ``lr`` to 0 over ``epochs``, stepped once per epoch).
        precision: ``"float32"``, or ``"bfloat16"``: the forward pass under
            ``torch.autocast`` in bfloat16 (matrix products on the CPU's AVX-512 BF16 / AMX
            units, or a GPU's tensor cores), with float32 weights, optimiser state and
            losses. Evaluation (:func:`predict`) stays in float32.
        fused: use the optimiser's fused kernel (one pass over each parameter per step
            instead of about ten). Same update rule, rounded differently (a few 1e-6
            after a dozen steps); for stacks of wide layers on a CPU it makes the step
            about 1.7x faster, where the per-tensor Adam took half of the training time
            (``benchmarks/precision.py``). Off by default, so results stored before it
            existed still reproduce.

    The model is put in training mode (dropout, batch statistics) while fitting and
    left in evaluation mode. A final mini-batch of a single sample is skipped when
    ``batch_size > 1``: batch normalisation needs two samples.

    Returns:
        The mean (over copies) training loss of each epoch.
    """
    check_stack(model)
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
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {list(SCHEDULES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {list(PRECISIONS)}")
    order_seeds = model.seeds if order_seeds is None else list(order_seeds)
    generators = [torch.Generator().manual_seed(int(s)) for s in order_seeds]
    step = OPTIMISERS[optimiser](model.parameters(), lr=lr, weight_decay=weight_decay, **({"fused": True} if fused else {}))
    annealing = torch.optim.lr_scheduler.CosineAnnealingLR(step, T_max=epochs) if schedule else None
    rows = torch.arange(n_models, device=inputs.device)[:, None]
    model.train()
    curve = []
    for _ in range(epochs):
        order = _epoch_orders(generators, n, inputs.device)
        total, seen = torch.zeros((), device=inputs.device), 0
        for start in range(0, n, batch_size):
            idx = order[:, start : start + batch_size]
            if idx.shape[1] == 1 and batch_size > 1:
                continue
            batch = {name: t[rows, idx] for name, t in targets.items()}
            with torch.autocast(inputs.device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                outputs = model(inputs[rows, idx])
            losses = loss_fn(outputs.float(), batch)
            step.zero_grad(set_to_none=True)
            losses.sum().backward()
            step.step()
            total += losses.detach().mean() * idx.shape[1]
            seen += idx.shape[1]
        if annealing:
            annealing.step()
        curve.append(float(total) / seen)
    model.eval()
    return curve


@torch.no_grad()
def predict(model: Stack, inputs: torch.Tensor, features: bool = False, chunk: int | None = None) -> torch.Tensor:
    """Every copy's outputs on its inputs (M, n, d), or with ``features`` its last hidden layer.

    In evaluation mode and without gradients; ``chunk`` samples at a time when given, so
    that a large test set never passes through the stack at once.
    """
    model.eval()
    fn = model.features if features else model
    if not chunk:
        return fn(inputs)
    return torch.cat([fn(inputs[:, s : s + chunk]) for s in range(0, inputs.shape[1], chunk)], dim=1)


@torch.no_grad()
def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Share of correct argmax predictions per copy: logits (M, n, K), labels (n,) or (M, n)."""
    labels = torch.as_tensor(labels, device=logits.device)
    return (logits.argmax(-1) == labels).double().mean(-1).cpu().numpy()


def drop_constant_columns(h: np.ndarray) -> np.ndarray:
    """Remove units of one copy's representation (n, width) that are constant on these samples.

    Dead ReLUs carry no information, and MI estimators refuse constant columns (they
    break standardisation). "Constant" is the estimators' own rule,
    :func:`cchlib.mi.inputs.constant_columns` (constant up to rounding, so a float32
    unit held at 0.1 counts). If every unit is constant the copy carries no information
    at all and no estimator can take it: a ValueError says so.
    """
    keep = ~constant_columns(h)
    if not keep.any():
        raise ValueError(
            f"every unit of this representation {h.shape} is constant on these samples "
            "(all ReLUs dead?): it carries no information and mutual information cannot be "
            "estimated from it; train longer, with another seed or a smaller learning rate."
        )
    return h[:, keep]
