"""A user's paired data from arrays or files: ``.npz``, or a folder of CSV files.

Everything returns a checked :class:`~cchlib.data.paired.PairedDataset`. Beyond the
dataset's own validation, :func:`check_workflow_input` rejects what the teacher
selection workflow (:mod:`cchlib.select`) cannot use, saying why and what to do.

On-disk formats
---------------
``.npz`` (``numpy.savez``): one array per modality, row ``i`` of every array the same
sample, plus the labels ``y`` (integer or string classes, or float regression targets).
Optional ``train_idx`` and ``test_idx`` fix the split; otherwise a stratified split
with ``test_frac`` of the samples is drawn.

A folder of CSV files: ``<modality>.csv`` per modality and ``labels.csv``, each with a
sample-id column (``sample_id`` by default) and, in ``labels.csv``, a ``y`` column.
Rows are matched by id, so their order does not matter; every file must hold the same
ids. CSV modalities are tabular (one row of features per sample).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from cchlib.data.paired import PairedDataset
from cchlib.data.split import stratified_split
from cchlib.mi.inputs import constant_columns

LABEL_KEY = "y"
SPLIT_KEYS = ("train_idx", "test_idx")
LABEL_FILE = "labels.csv"
# The MI estimates use the test split. KSG/Ross needs k + 1 = 4 neighbours per sample
# (per class for labels), and LMI halves the samples it gets, hence 2 * 4 per class.
MIN_TEST_SAMPLES = 30
MIN_TEST_PER_CLASS = 8


def encode_labels(labels, task: str = "auto") -> np.ndarray:
    """Labels as int64 class codes 0..K-1 (classification) or float64 (regression).

    ``task="auto"`` treats integer, boolean and string labels as classes and floats as
    regression targets; ``"classification"`` also accepts floats holding whole numbers.
    """
    y = np.asarray(labels)
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    if y.ndim != 1:
        raise ValueError(f"labels must be one value per sample (1-D); got shape {y.shape}")
    if y.dtype == object or y.dtype.kind in "USb":
        if task == "regression":
            raise ValueError(f"regression needs numeric labels; got dtype {y.dtype}")
        if pd.isna(y).any():
            raise ValueError(f"{int(pd.isna(y).sum())} labels are missing; drop those samples or fill them in")
        return np.unique(y.astype(str), return_inverse=True)[1].astype(np.int64)
    if not np.issubdtype(y.dtype, np.number):
        raise ValueError(f"labels have unsupported dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating) and not np.isfinite(y).all():
        raise ValueError(f"{int((~np.isfinite(y)).sum())} labels are NaN or inf; drop those samples first")
    is_int = np.issubdtype(y.dtype, np.integer)
    if task == "regression" or (task == "auto" and not is_int):
        return y.astype(np.float64)
    if not is_int and not np.all(y == np.round(y)):
        raise ValueError("classification labels must be whole numbers or strings")
    return np.unique(y, return_inverse=True)[1].astype(np.int64)


def from_arrays(
    modalities: dict,
    labels,
    *,
    task: str = "auto",
    test_frac: float = 0.3,
    split_seed: int = 0,
    train_idx=None,
    test_idx=None,
    name: str = "user data",
) -> PairedDataset:
    """Wrap arrays (one per modality, rows paired) and labels as a checked PairedDataset.

    Without ``train_idx``/``test_idx`` a split with ``test_frac`` of the samples in the
    test part is drawn (stratified by class for classification) from ``split_seed``.
    Raises ``ValueError`` for anything :func:`check_workflow_input` or the dataset's
    own validation rejects.
    """
    y = encode_labels(labels, task)
    arrays = {str(k): np.asarray(v) for k, v in modalities.items()}
    for key, array in arrays.items():
        if np.iscomplexobj(array):
            raise ValueError(f"modality {key!r} is complex-valued ({array.dtype}); split it into real and "
                             "imaginary parts (or magnitude and phase) as separate features first")
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"modality {key!r} has non-numeric dtype {array.dtype}; encode it as numbers first")
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
    if (train_idx is None) != (test_idx is None):
        raise ValueError("give both train_idx and test_idx, or neither")
    if train_idx is None:
        _require_samples(len(y), test_frac)
        train_idx, test_idx = _split(y, test_frac, split_seed)
    else:
        train_idx, test_idx = _split_indices(train_idx, "train_idx"), _split_indices(test_idx, "test_idx")
    ds = PairedDataset(arrays, y, np.asarray(train_idx, dtype=np.int64), np.asarray(test_idx, dtype=np.int64), name)
    check_workflow_input(ds)
    return ds


def _split_indices(idx, name: str) -> np.ndarray:
    """A user-given split: a 1-D array of distinct integer sample indices."""
    idx = np.asarray(idx)
    if idx.ndim != 1 or not (np.issubdtype(idx.dtype, np.integer) and idx.dtype != bool):
        raise ValueError(f"{name} must be a 1-D array of integer sample indices; got dtype {idx.dtype}, "
                         f"shape {idx.shape} (save it with .astype(int))")
    values, counts = np.unique(idx, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"{name} repeats sample indices, e.g. {values[counts > 1][:3].tolist()}; "
                         "each sample may appear once")
    return idx


def _require_samples(n: int, test_frac: float) -> None:
    if not 0 < test_frac < 1:
        raise ValueError(f"test_frac must be in (0, 1), got {test_frac}")
    if round(n * test_frac) < MIN_TEST_SAMPLES:
        raise ValueError(
            f"too few samples: {n} samples give a test split of about {round(n * test_frac)}, but the "
            f"MI estimates need at least {MIN_TEST_SAMPLES} test samples; add samples or raise test_frac"
        )


def _split(y: np.ndarray, test_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split for classes (:func:`cchlib.data.split.stratified_split`), random otherwise."""
    if np.issubdtype(y.dtype, np.integer):
        return stratified_split(y, test_frac, seed)
    test = np.sort(np.random.default_rng([int(seed), 20250]).permutation(len(y))[: round(test_frac * len(y))])
    return np.setdiff1d(np.arange(len(y)), test), test


def check_workflow_input(ds: PairedDataset) -> None:
    """Reject what the selection workflow cannot use, with a message saying what to do.

    Beyond :class:`PairedDataset`'s own checks: at least two modalities (a teacher
    needs a student), at least two features per sample in each modality (a single
    column is usually an id or a label saved as a modality by mistake), and enough
    test samples (and test samples per class) for the k-NN step of the estimators; at
    least two classes, a regression target that varies, and modalities that vary (a
    constant modality gives a constant representation, whose MI cannot be estimated).
    """
    if len(ds.modalities) < 2:
        raise ValueError(f"need at least two modalities (a teacher and a student); got {list(ds.modalities)}")
    for key, array in ds.modalities.items():
        width = int(np.prod(array.shape[1:], dtype=np.int64))
        if width < 2:
            raise ValueError(
                f"modality {key!r} has a single column (shape {array.shape}); a modality needs at least two "
                "features per sample. Is it an id or label column? Drop it or merge it into another modality"
            )
        for part, idx in (("training", ds.train_idx), ("test", ds.test_idx)):
            if constant_columns(array[idx].reshape(len(idx), -1)).all():
                raise ValueError(f"modality {key!r} is constant on the {part} samples: it carries no information "
                                 "to learn or distil; drop it")
    if ds.task == "classification" and len(np.unique(ds.labels)) < 2:
        raise ValueError("the labels hold a single class; teacher selection needs at least two classes")
    if ds.task == "regression" and constant_columns(ds.labels[ds.train_idx]).all():
        raise ValueError("the regression target is constant on the training samples; there is nothing to predict")
    if len(ds.test_idx) < MIN_TEST_SAMPLES:
        raise ValueError(
            f"too few samples: the test split holds {len(ds.test_idx)}, the MI estimates need at least "
            f"{MIN_TEST_SAMPLES}; add samples or enlarge the test split"
        )
    if ds.task == "classification":
        counts = np.bincount(ds.labels[ds.test_idx], minlength=int(ds.labels.max()) + 1)
        if counts.min() < MIN_TEST_PER_CLASS:
            raise ValueError(
                f"too few samples: class {int(counts.argmin())} has {int(counts.min())} test samples, the MI "
                f"estimates need at least {MIN_TEST_PER_CLASS} per class; add samples or merge rare classes"
            )


def load_npz(path, *, label_key: str = LABEL_KEY, **options) -> PairedDataset:
    """Read a ``.npz``: one array per modality, labels under ``label_key``, optional split.

    ``options`` go to :func:`from_arrays` (``task``, ``test_frac``, ``split_seed``, ``name``).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        reason = "it is not a zip archive" if "pickled" in str(error) else f"{type(error).__name__}: {error}"
        raise ValueError(f"{path} is not a readable .npz file ({reason}); "
                         "write it again with numpy.savez") from error
    if label_key not in arrays:
        raise ValueError(
            f"{path} has no labels: expected an array named {label_key!r} beside the modalities "
            f"(found {sorted(arrays)}); save it with numpy.savez(..., {label_key}=labels)"
        )
    labels = arrays.pop(label_key)
    split = {k: arrays.pop(k) for k in SPLIT_KEYS if k in arrays}
    options.setdefault("name", path.stem)
    return from_arrays(arrays, labels, train_idx=split.get("train_idx"), test_idx=split.get("test_idx"), **options)


def load_csv_dir(folder, *, id_column: str = "sample_id", label_key: str = LABEL_KEY, **options) -> PairedDataset:
    """Read a folder of ``<modality>.csv`` files and ``labels.csv``, rows matched by ``id_column``.

    The labels are the column ``label_key`` of ``labels.csv``.

    Every file must hold the same sample ids, each once; ``options`` go to
    :func:`from_arrays`.
    """
    folder = Path(folder)
    label_path = folder / LABEL_FILE
    if not label_path.is_file():
        raise ValueError(f"{folder} has no labels: give a {LABEL_FILE} with columns {id_column!r} and {label_key!r}")
    labels = _read_indexed(label_path, id_column)
    if label_key not in labels:
        raise ValueError(f"{label_path} has no label column {label_key!r} (columns: {list(labels.columns)})")
    tables = {p.name.split(".")[0]: _read_indexed(p, id_column) for p in sorted(folder.glob("*.csv*"))
              if p.name.split(".")[0] != "labels"}
    ids = labels.index
    for key, table in tables.items():
        missing, extra = ids.difference(table.index), table.index.difference(ids)
        if len(missing) or len(extra):
            raise ValueError(
                f"mismatched ids: {key}.csv lacks {len(missing)} labelled ids (e.g. {list(missing[:3])}) and has "
                f"{len(extra)} ids without a label (e.g. {list(extra[:3])}); every file needs the same sample ids"
            )
    arrays = {key: _numeric(table.loc[ids], key) for key, table in tables.items()}
    options.setdefault("name", folder.name)
    return from_arrays(arrays, labels[label_key].to_numpy(), **options)


def _read_indexed(path: Path, id_column: str) -> pd.DataFrame:
    table = pd.read_csv(path)
    if id_column not in table:
        raise ValueError(f"{path} has no sample-id column {id_column!r} (columns: {list(table.columns)[:10]})")
    if table[id_column].duplicated().any():
        raise ValueError(f"{path} repeats sample ids, e.g. {table[id_column][table[id_column].duplicated()].iloc[0]!r}")
    return table.set_index(id_column)


def _numeric(table: pd.DataFrame, key: str) -> np.ndarray:
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if text:
        raise ValueError(f"{key}.csv has non-numeric columns {text[:5]}; encode them as numbers or drop them")
    return table.to_numpy(dtype=np.float64)


def load_paired(path, *, label_key: str = LABEL_KEY, id_column: str = "sample_id", **options) -> PairedDataset:
    """Read a paired dataset from a ``.npz`` file or a folder of CSV files (see the module doc).

    ``id_column`` applies to CSV folders only; ``options`` go to :func:`from_arrays`.
    """
    path = Path(path)
    if path.is_dir():
        return load_csv_dir(path, id_column=id_column, label_key=label_key, **options)
    if path.suffix == ".npz":
        return load_npz(path, label_key=label_key, **options)
    raise ValueError(f"{path} is neither a .npz file nor a folder of CSV files")


def make_demo_npz(path, n: int = 600, seed: int = 0) -> Path:
    """Write a small generated demo dataset (three classes, four modalities) to ``path``.

    A class-dependent latent ``z`` (4-d) is seen through a tabular view, an 8x8 image
    (``(n, 8, 8, 1)``), a 6-step sequence (``(n, 6, 5)``; name its kind, see
    :data:`DEMO_KINDS`) and a ``noise`` modality independent of everything. It is for
    trying the workflow, not a finding about real data.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    z = rng.standard_normal((3, 4))[y] + 0.8 * rng.standard_normal((n, 4))
    view = lambda d, noise: z @ rng.standard_normal((4, d)) + noise * rng.standard_normal((n, d))  # noqa: E731
    sequence = view(5, 1.5)[:, None, :] + 1.0 * rng.standard_normal((n, 6, 5))
    arrays = dict(
        tabular=view(12, 0.5), image=view(64, 2.0).reshape(n, 8, 8, 1), sequence=sequence,
        noise=rng.standard_normal((n, 6)), y=y,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{k: v.astype(np.float32) if k != "y" else v for k, v in arrays.items()})
    return path
