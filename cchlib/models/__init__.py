"""Every network of the book, as stacks of independent copies trained in one batch.

- :mod:`.stack`: the declared stack protocol (seeds, n_models, forward, features) that
  :func:`cchlib.train.fit` and :mod:`cchlib.kd` rely on; the one per-copy generator
  formula and the one per-copy dropout.
- :mod:`.mlp`: :class:`StackedMLP`, :class:`StackedBatchNorm` and the plain networks
  (Table 9 :func:`synthetic_mlp`, Table 11 :func:`image_mlp`, MFH's
  :func:`logistic_regression`).
- :mod:`.nets`: composite networks (Table 14 :class:`StackedMoseiNet`, Table 18
  :class:`StackedFusionNet`, MFH's :class:`AlignedPair`) and :class:`ModuleStack` for a
  user's own module.
- :mod:`.kinds`: a network by modality kind (``mlp``, ``image``, ``sequence``) for
  :mod:`cchlib.select`.

Add a network by writing a class that follows :class:`Stack` here (see CONTRIBUTING.md).
"""

from cchlib.models.mlp import (
    ACTIVATIONS,
    IMAGE_CLASSES,
    DecisionValueLR,
    IMAGE_HIDDEN,
    PerCopyMLP,
    StackedBatchNorm,
    StackedMLP,
    image_mlp,
    logistic_regression,
    synthetic_mlp,
)
from cchlib.models.nets import AlignedPair, ModuleStack, StackedFusionNet, StackedMoseiNet
from cchlib.models.stack import (
    DROPOUT_STRIDE,
    SEED_STRIDE,
    Stack,
    check_stack,
    copy_dropout,
    copy_generator,
    copy_seed,
    dropout_generators,
    role_salt,
)

__all__ = [
    "ACTIVATIONS", "IMAGE_CLASSES", "IMAGE_HIDDEN", "PerCopyMLP", "StackedBatchNorm", "StackedMLP", "image_mlp",
    "logistic_regression", "DecisionValueLR", "synthetic_mlp", "AlignedPair", "ModuleStack", "StackedFusionNet",
    "StackedMoseiNet", "DROPOUT_STRIDE", "SEED_STRIDE", "Stack", "check_stack", "copy_dropout",
    "copy_generator", "copy_seed", "dropout_generators", "role_salt",
]
