"""Per-modality preprocessing and mRMR feature selection, fitted on the training split only.

The paper (Sec. 4.4) preprocesses each omics modality on its own and keeps the top 100
features by minimum-redundancy maximum-relevance (mRMR; Ding and Peng, 2005). For
continuous features and a class label, Ding and Peng's "FCQ" scheme measures relevance
with the one-way ANOVA F-statistic and redundancy with the mean absolute Pearson
correlation to the features already chosen, and picks greedily the feature maximising
relevance / redundancy. :func:`mrmr` implements that (and the "FCD" difference form).

:func:`fit_modality` learns everything (which columns to drop, imputation means,
standardisation, the mRMR selection) from training rows alone and returns a
:class:`ModalityTransform` to apply to any rows, so no test sample leaks into the
preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SCHEMES = ("quotient", "difference")


def f_statistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One-way ANOVA F-statistic of each column of ``x`` (n, p) against classes ``y`` (n,).

    Columns constant within every class and across classes get 0.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x must be (n, p) with n = len(y); got {x.shape} and {len(y)} labels")
    classes, codes = np.unique(y, return_inverse=True)
    k, n = len(classes), len(y)
    if k < 2:
        raise ValueError("the F-statistic needs at least two classes in y")
    if n <= k:
        raise ValueError(f"the F-statistic needs more samples ({n}) than classes ({k})")
    counts = np.bincount(codes, minlength=k).astype(float)
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, codes, x)
    means = sums / counts[:, None]
    grand = x.mean(0)
    between = (counts[:, None] * (means - grand) ** 2).sum(0) / (k - 1)
    within = ((x - means[codes]) ** 2).sum(0) / (n - k)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(within > 0, between / np.where(within > 0, within, 1), np.where(between > 0, np.inf, 0.0))
    return f


def mrmr(x: np.ndarray, y: np.ndarray, k: int, scheme: str = "quotient") -> np.ndarray:
    """Indices of ``k`` columns of ``x`` chosen greedily by mRMR, in the order chosen.

    Relevance is the F-statistic of a column against the classes; redundancy of a
    candidate is its mean absolute Pearson correlation with the columns already chosen.
    ``scheme="quotient"`` maximises relevance / redundancy (FCQ), ``"difference"``
    relevance - redundancy (FCD). The first pick is the most relevant column. Ties go
    to the lower index. ``k`` larger than the number of columns selects them all.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown mRMR scheme {scheme!r}; choose one of {list(SCHEMES)}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    x = np.asarray(x, dtype=float)
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or inf; impute before feature selection")
    relevance = f_statistic(x, y)
    p = x.shape[1]
    k = min(k, p)
    std = x.std(0)
    z = (x - x.mean(0)) / np.where(std > 0, std, 1.0)
    redundancy_sum = np.zeros(p)
    chosen = [int(np.argmax(relevance))]
    available = np.ones(p, dtype=bool)
    available[chosen[0]] = False
    for step in range(1, k):
        last = z[:, chosen[-1]]
        redundancy_sum += np.abs(z.T @ last) / len(z)
        redundancy = redundancy_sum / step
        if scheme == "quotient":
            score = relevance / np.maximum(redundancy, 1e-12)
        else:
            score = relevance - redundancy
        score = np.where(available, score, -np.inf)
        best = int(np.argmax(score))
        chosen.append(best)
        available[best] = False
    return np.array(chosen, dtype=np.int64)


@dataclass(frozen=True)
class ModalityTransform:
    """What :func:`fit_modality` learned from the training rows of one modality.

    Attributes:
        columns: names of the columns kept (present, with no missing training values,
            not constant on the training rows).
        mean, std: training-split mean and standard deviation of those columns.
        selected: positions in ``columns`` of the mRMR features, in selection order.
        dropped_missing: names of columns dropped for missing training values.
    """

    columns: tuple
    mean: np.ndarray
    std: np.ndarray
    selected: np.ndarray
    dropped_missing: tuple = ()

    @property
    def features(self) -> list[str]:
        """Names of the selected features, in selection order."""
        return [self.columns[i] for i in self.selected]

    def transform(self, table: pd.DataFrame) -> np.ndarray:
        """Standardised selected features of any rows, (n, k) float32.

        A missing value is imputed with the training mean (0 after standardising).
        """
        missing = [c for c in self.columns if c not in table.columns]
        if missing:
            raise ValueError(f"the table lacks {len(missing)} fitted columns, e.g. {missing[:3]}")
        values = table.loc[:, list(self.columns)].to_numpy(float)
        z = (values - self.mean) / self.std
        z = np.where(np.isfinite(z), z, 0.0)
        return z[:, self.selected].astype(np.float32)


def fit_modality(
    train: pd.DataFrame, y_train, k: int = 100, max_missing: float = 0.0, scheme: str = "quotient"
) -> ModalityTransform:
    """Learn the preprocessing of one modality from its training rows only.

    1. Drop columns missing in more than ``max_missing`` of the training rows (with the
       default 0, any column with a missing training value). In TCGA RPPA, missing
       antibodies follow the sub-cohort (e.g. KICH/KIRC/KIRP in KIPAN), so imputing them
       would hand the classifier the label through the imputed value.
    2. Impute the remaining missing values with training column means.
    3. Drop columns constant on the training rows; standardise with training mean/std.
    4. Keep the top ``k`` features by :func:`mrmr` against the training labels.
    """
    if not 0 <= max_missing < 1:
        raise ValueError(f"max_missing must be in [0, 1), got {max_missing}")
    y_train = np.asarray(y_train)
    if len(train) != len(y_train):
        raise ValueError(f"{len(train)} training rows but {len(y_train)} labels")
    values = train.to_numpy(float)
    missing_share = (~np.isfinite(values)).mean(0)
    keep_present = missing_share <= max_missing
    dropped = tuple(c for c, ok in zip(train.columns, keep_present) if not ok)
    values = values[:, keep_present]
    columns = [c for c, ok in zip(train.columns, keep_present) if ok]
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(values, 0) if values.size else np.zeros(0)
    values = np.where(np.isfinite(values), values, mean)
    std = values.std(0)
    varying = std > 0
    if not varying.any():
        raise ValueError("no column with observed, varying training values is left")
    columns = tuple(c for c, ok in zip(columns, varying) if ok)
    mean, std = mean[varying], std[varying]
    z = (values[:, varying] - mean) / std
    selected = mrmr(z, y_train, k, scheme)
    return ModalityTransform(columns, mean, std, selected, dropped)
