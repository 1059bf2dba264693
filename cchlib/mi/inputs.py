"""Validation and conversion of estimator inputs.

Every estimator in :mod:`cchlib.mi` receives its arguments through
:func:`as_pair`, so bad input fails early with a message that says what was
wrong and what to do, instead of surfacing later as a NaN estimate.

Conventions
-----------
``x`` is continuous: an ``(n, dx)`` float array (a 1-D array is one column).
``y`` is either continuous (``(n, dy)`` floats, 1-D floats are one column) or
a 1-D array of *integer* (or boolean) class labels, which is treated as a
discrete variable.  numpy arrays, torch tensors and array-likes are accepted.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np


def to_numpy(a) -> np.ndarray:
    """Return ``a`` as a numpy array; torch tensors are detached and moved to CPU."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def is_labels(y: np.ndarray) -> bool:
    """True when ``y`` is a 1-D array of integer or boolean class labels."""
    return y.ndim == 1 and (np.issubdtype(y.dtype, np.integer) or y.dtype == bool)


# A column whose standard deviation is at most this many machine epsilons (of its own
# dtype) times its largest magnitude is constant: its variation is rounding noise (a
# float32 unit held at 0.1 by batched products wobbles with a std of ~1e-7).
CONSTANT_EPS = 64


def constant_columns(a) -> np.ndarray:
    """Boolean mask of the columns of ``a`` (n, d) that are constant up to rounding.

    Integer and boolean columns must be exactly constant; float columns may vary by
    :data:`CONSTANT_EPS` epsilons of their dtype relative to their magnitude. One rule
    serves both :func:`as_continuous` (which rejects such columns) and
    :func:`cchlib.train.drop_constant_columns` (which removes them first).
    """
    a = to_numpy(a)
    a = a[:, None] if a.ndim == 1 else a
    if len(a) < 2:
        return np.zeros(a.shape[1], dtype=bool)
    rtol = CONSTANT_EPS * np.finfo(a.dtype).eps if np.issubdtype(a.dtype, np.floating) else 0.0
    wide = a.astype(np.float64)
    scale = np.abs(wide).max(axis=0)
    with np.errstate(invalid="ignore"):
        return wide.std(axis=0) <= rtol * scale


def as_continuous(a, name: str) -> np.ndarray:
    """Check a continuous sample array and return it as float64 of shape (n, d)."""
    a = to_numpy(a)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D (n,) or 2-D (n, d); got shape {a.shape}. "
            "Flatten each sample to a vector first (e.g. a.reshape(len(a), -1))."
        )
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"{name} must be numeric; got dtype {a.dtype}.")
    constant = np.flatnonzero(constant_columns(a)) if a.shape[1] else np.array([], dtype=int)
    a = a.astype(np.float64)
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no columns (shape {a.shape}).")
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a)).any(axis=1).sum())
        raise ValueError(
            f"{name} contains NaN or inf in {bad} of {len(a)} rows; "
            "drop or impute those rows before estimating mutual information."
        )
    if constant.size:
        raise ValueError(
            f"{name} has constant column(s) {constant[:10].tolist()}"
            f"{' ...' if constant.size > 10 else ''}; a constant carries no "
            "information and breaks standardisation: drop those columns."
        )
    return a


def as_labels(y) -> np.ndarray:
    """Check a 1-D label array and return it as int64 codes 0..C-1."""
    y = to_numpy(y)
    _, codes = np.unique(y, return_inverse=True)
    if codes.max(initial=0) == 0:
        raise ValueError(
            "y holds a single class label; I(x; y) is 0 by definition. "
            "Pass labels with at least two classes."
        )
    return codes.astype(np.int64)


def as_pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(x, y)`` and return them as numpy arrays of equal length.

    ``x`` comes back as float64 ``(n, dx)``.  ``y`` comes back as float64
    ``(n, dy)`` when continuous, or as int64 ``(n,)`` class codes when it was
    given as 1-D integer labels (see :func:`is_labels`).
    """
    x = as_continuous(x, "x")
    y_raw = to_numpy(y)
    y = as_labels(y_raw) if is_labels(y_raw) else as_continuous(y_raw, "y")
    if len(x) != len(y):
        raise ValueError(
            f"x and y must hold the same samples in the same order; got "
            f"{len(x)} rows in x and {len(y)} in y."
        )
    return x, y


def check_options(config_class, options: dict, method: str) -> None:
    """Raise ValueError when ``options`` names a field that ``config_class`` (a dataclass) lacks."""
    known = {f.name for f in fields(config_class)}
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"method={method!r} got unknown option(s) {sorted(unknown)}; it accepts {sorted(known)}.")


def require_samples(n: int, minimum: int, method: str, why: str) -> None:
    """Raise ValueError when ``n`` samples are fewer than ``minimum`` for ``method``."""
    if n < minimum:
        raise ValueError(
            f"method={method!r} needs at least {minimum} samples ({why}); got {n}. "
            "Use more samples or a smaller k / validation split."
        )


def one_hot(labels: np.ndarray) -> np.ndarray:
    """Encode int codes 0..C-1 as float64 one-hot rows, for methods needing vectors."""
    return np.eye(labels.max() + 1)[labels]


def standardize(a: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """Scale columns of ``a`` to zero mean and unit variance (statistics of ``ref``).

    A column that is constant in ``ref`` but not in ``a`` (a sparse ReLU
    feature whose few non-zero rows all fell outside ``ref``, the training
    split of a neural estimator) is scaled by its spread in ``a`` instead; a
    column constant in both is only centred.  Dividing by a zero spread would
    turn the column into inf/NaN and every estimate built on it into NaN.
    """
    ref = a if ref is None else ref
    scale = ref.std(axis=0)
    scale = np.where(scale > 0, scale, a.std(axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    return (a - ref.mean(axis=0)) / scale
