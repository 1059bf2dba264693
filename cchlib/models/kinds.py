"""Networks by modality kind, for data the book has not seen (:mod:`cchlib.select`).

A user names each modality's kind, or lets :func:`infer_kind` guess it from the array's
shape: ``"mlp"`` for tabular vectors (:class:`~cchlib.models.StackedMLP`), ``"image"``
for images (the MNIST chapter's Table 11 network on flattened pixels), ``"sequence"``
for (time, feature) sequences (the MOSEI chapter's Table 14 network after temporal
mean-pooling); or passes a factory ``factory(input_shape, n_out) -> torch.nn.Module``
of their own (:class:`~cchlib.models.ModuleStack`).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from cchlib.models.mlp import IMAGE_HIDDEN, StackedMLP
from cchlib.models.nets import ModuleStack, StackedMoseiNet

MODEL_KINDS = ("mlp", "image", "sequence")
DEFAULT_HIDDEN = {"mlp": [64], "image": list(IMAGE_HIDDEN), "sequence": [256, 128]}


def infer_kind(array: np.ndarray) -> str:
    """``"mlp"`` for (n, d) arrays, ``"image"`` for (n, H, W, C); 3-D arrays must be named."""
    if array.ndim == 2:
        return "mlp"
    if array.ndim == 4:
        return "image"
    raise ValueError(
        f"cannot tell the model kind of an array of shape {array.shape}: name it, e.g. kinds={{'<name>': "
        "'sequence'}} for (n, time, features) or 'image' for (n, height, width), or --kind NAME=KIND"
    )


def make_model(kind, seeds, input_shape: tuple, n_out: int, role: str, hidden=None) -> nn.Module:
    """A stack of networks (one copy per seed) of ``kind`` for inputs of ``input_shape``.

    ``kind`` is one of :data:`MODEL_KINDS` (``hidden`` overrides its hidden widths) or a
    factory ``factory(input_shape, n_out) -> nn.Module`` (see :class:`ModuleStack`).
    """
    if callable(kind):
        return ModuleStack(kind, seeds, input_shape, n_out, role)
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {list(MODEL_KINDS)} or pass a factory")
    widths = list(hidden or DEFAULT_HIDDEN[kind])
    d_in = int(np.prod(input_shape))
    if kind == "sequence":
        return StackedMoseiNet(seeds, d_in, role, widths, n_out)
    activation = "leaky_relu" if kind == "image" else "relu"
    return StackedMLP(seeds, d_in, widths, n_out, role=role, activation=activation)
