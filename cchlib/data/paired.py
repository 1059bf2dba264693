"""The paired multimodal dataset every chapter uses.

A :class:`PairedDataset` holds one array per modality (row ``i`` of every modality and
of the labels describes the same sample), the labels, and a train/test split given as
index arrays. Validation happens once, at construction, so that every later step can
trust the arrays: mismatched sample counts, NaN/inf, a bad label dtype or an empty split
raise a ``ValueError`` that says what was wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairedDataset:
    """Paired samples of several modalities with shared labels.

    Attributes:
        modalities: name -> array of shape (n, ...) (float), e.g. ``{"x1": ..., "x2": ...}``.
        labels: shape (n,) or (n, k); float for regression, integer for classification.
        train_idx, test_idx: disjoint integer index arrays into the n samples.
        name: a human-readable name of the dataset (say "stand-in" when it is one).
    """

    modalities: dict
    labels: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    name: str = "unnamed"

    def __post_init__(self):
        _validate(self)

    @property
    def n_samples(self) -> int:
        return len(self.labels)

    @property
    def task(self) -> str:
        """``"classification"`` for integer labels, ``"regression"`` for float labels."""
        return "classification" if np.issubdtype(self.labels.dtype, np.integer) else "regression"

    def split(self, part: str) -> tuple[dict, np.ndarray]:
        """The modalities and labels of the ``"train"`` or ``"test"`` part."""
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test', got {part!r}")
        idx = self.train_idx if part == "train" else self.test_idx
        return {k: v[idx] for k, v in self.modalities.items()}, self.labels[idx]


def _validate(ds: PairedDataset) -> None:
    if not ds.modalities:
        raise ValueError("a PairedDataset needs at least one modality")
    labels = np.asarray(ds.labels)
    if labels.ndim == 0 or len(labels) == 0:
        raise ValueError("labels are empty: give one label per sample")
    if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
        raise ValueError(
            f"labels have dtype {labels.dtype}; use an integer array for classes "
            "or a float array for regression targets"
        )
    if np.issubdtype(labels.dtype, np.floating) and not np.isfinite(labels).all():
        raise ValueError("labels contain NaN or inf; drop or impute those samples first")
    n = len(labels)
    for name, array in ds.modalities.items():
        array = np.asarray(array)
        if len(array) != n:
            raise ValueError(
                f"modality {name!r} has {len(array)} samples but there are {n} labels; "
                "every modality needs one row per labelled sample, in the same order"
            )
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"modality {name!r} has non-numeric dtype {array.dtype}")
        if not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).sum())
            raise ValueError(
                f"modality {name!r} contains {bad} NaN/inf values; drop or impute them first"
            )
    for part, idx in (("train", ds.train_idx), ("test", ds.test_idx)):
        idx = np.asarray(idx)
        if idx.size == 0:
            raise ValueError(f"the {part} split is empty; give it at least one sample")
        if not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"the {part} split must hold integer indices in [0, {n})")
    if np.intersect1d(ds.train_idx, ds.test_idx).size:
        raise ValueError("train and test splits overlap; they must be disjoint")
