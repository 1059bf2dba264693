"""Train/test splits of a dataset's samples."""

from __future__ import annotations

import numpy as np


def stratified_split(y: np.ndarray, test_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices with ``round(test_frac * n_c)`` (at least 1) test samples per class.

    The per-class counts depend only on ``y``, so every seed gets splits of the same
    sizes (needed to train the seeds as one stack).
    """
    if not 0 < test_frac < 1:
        raise ValueError(f"test_frac must be in (0, 1), got {test_frac}")
    y = np.asarray(y)
    rng = np.random.default_rng([int(seed), 20250])
    test = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        n_test = max(1, int(round(test_frac * len(members))))
        if n_test >= len(members):
            raise ValueError(f"class {c} has {len(members)} samples: too few for a test split")
        test.append(rng.choice(members, n_test, replace=False))
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test
