"""CMU-MOSEI (paper Sec. 4.3, App. D): real loaders and a clearly named stand-in.

Two real layouts are read, both turned into the same :class:`MoseiSequences` by the
preprocessing of the paper's Algorithm 2:

- **MultiBench** ``mosei_raw.pkl`` (:func:`load_multibench`): a pickled dict with splits
  ``train``, ``valid``, ``test``; each split a dict of arrays ``vision`` (N, 50, 713),
  ``audio`` (N, 50, 74), ``text`` (N, 50, 300), ``labels`` (N, 1, 7) (sentiment in
  [-3, 3] at index 0) and ``id``. Sequences are word-aligned and left-padded with
  zeros. As MultiBench does, ``audio == -inf`` is set to 0 and samples whose text is
  all zero are dropped.
- **CMU-MultimodalSDK** ``.csd`` files (:func:`load_csd`): HDF5, one root group per
  computational sequence with ``data/<video>/features`` (T, D) and
  ``data/<video>/intervals`` (T, 2) in seconds. Each labelled segment of a video
  becomes one utterance: its words (GloVe vectors) are the time steps, and audio and
  vision are averaged over each word's interval (the SDK's word-level alignment with
  an average collapse). Videos are split by the official folds
  (``cmu_mosei_std_folds.py`` of the SDK). h5py is needed only here and is imported
  lazily.

Algorithm 2 (:func:`align_and_pad`): text defines the time base; every modality is
sliced from the first non-padding (non-zero) text step, truncated to ``L = 50`` steps
and right-padded with zeros. The binary label is ``sentiment > 0``.

Where no real file is given, :func:`make_standin` draws a **stand-in**: three sequence
modalities with MOSEI's feature sizes and sequence length, in the MultiBench layout,
built from shared and modality-specific latent factors (:class:`StandInConfig`) so that
the text-like modality is the most label-informative and the overlaps between
modalities are set by parameters. It is synthetic data, named as such everywhere.

The real file is found in this order (:func:`find_mosei`): an explicit path,
``$CCH_MOSEI_PATH``, ``$CCH_DATA_ROOT/mosei/`` and the cache folder ``cache_dir("mosei")``
(a ``mosei_raw.pkl``, or a folder of ``.csd`` files).
"""

from __future__ import annotations

import ast
import os
import pickle
import warnings
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from cchlib.data.paired import PairedDataset
from cchlib.data.store import cache_dir, data_root

SPLITS = ("train", "valid", "test")
MODALITIES = ("text", "vision", "audio")
DIMS = {"text": 300, "vision": 713, "audio": 74}
SEQ_LEN = 50
# Split sizes of MultiBench's mosei_raw.pkl as reported by a third-party audit.
SPLIT_SIZES = {"train": 16_327, "valid": 1_871, "test": 4_662}
PATH_ENV = "CCH_MOSEI_PATH"
PICKLE_NAME = "mosei_raw.pkl"
CSD_FILES = {
    "text": "CMU_MOSEI_TimestampedWordVectors.csd",
    "audio": "CMU_MOSEI_COVAREP.csd",
    "vision": "CMU_MOSEI_VisualOpenFace2.csd",
    "labels": "CMU_MOSEI_Labels.csd",
}
FOLDS_FILE = "cmu_mosei_std_folds.py"
FOLD_NAMES = {"train": "standard_train_fold", "valid": "standard_valid_fold", "test": "standard_test_fold"}
STANDIN_NAME = "stand-in (synthetic sequences with MOSEI's shapes)"
REAL_NAME = "CMU-MOSEI"

WHERE_TO_GET = (
    "CMU-MOSEI features are not shipped with this project. Get either\n"
    "  (a) MultiBench's 'mosei_raw.pkl' (the 713-d OpenFace2 version the paper uses; see "
    "the MultiBench repository, pliang279/MultiBench, datasets/affect), or\n"
    "  (b) the CMU-MultimodalSDK computational sequences "
    + ", ".join(CSD_FILES.values())
    + " (CMU-MultiComp-Lab/CMU-MultimodalSDK, CMU_MOSEI standard dataset) together with "
    f"the SDK's {FOLDS_FILE} (or the SDK installed, `pip install mmsdk`; the .csd loader "
    "also needs `pip install h5py`),\n"
    f"and pass its path as the chapter parameter `mosei_path`, or set ${PATH_ENV}, or put "
    f"it under $CCH_DATA_ROOT/mosei/ or {Path('~/.cache/cchlib/mosei')}/."
)


class MoseiFileMissing(FileNotFoundError):
    """No CMU-MOSEI file was found; the message says where to get one."""


# ---------------------------------------------------------------------------
# The common form: preprocessed sequences per split
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MoseiSequences:
    """Preprocessed MOSEI-format data (after Algorithm 2).

    Attributes:
        splits: ``split -> {"text", "vision", "audio": (N, L, D) float32,
            "sentiment": (N,) float, "id": (N,) str}`` for ``train``, ``valid``, ``test``.
        name: what the data are (``"CMU-MOSEI"`` or the stand-in's name).
        source: ``"real"`` or ``"stand-in"``.
        dropped: per split, how many samples were dropped for all-zero text.
    """

    splits: dict
    name: str
    source: str
    dropped: dict = field(default_factory=dict)

    def labels(self, split: str) -> np.ndarray:
        """Binary labels of a split: 1 where sentiment > 0, else 0 (int64)."""
        return binary_labels(self.splits[split]["sentiment"])

    def sizes(self) -> dict:
        return {s: len(self.splits[s]["sentiment"]) for s in SPLITS}


def binary_labels(sentiment) -> np.ndarray:
    """The paper's binary task: ``y = 1`` if the sentiment score is > 0, else 0."""
    return (np.asarray(sentiment, dtype=float) > 0).astype(np.int64)


def first_content_step(text: np.ndarray) -> np.ndarray:
    """Per sample, the index of the first text step that is not all zero (padding).

    ``text`` is (N, T, D); samples whose text is all zero get ``T``.
    """
    nonzero = np.abs(text).sum(axis=-1) > 0
    return np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), text.shape[1])


def align_and_pad(arrays: dict, seq_len: int = SEQ_LEN) -> dict:
    """Algorithm 2: slice every modality from the first non-padding text step, then
    truncate to ``seq_len`` steps and right-pad with zeros.

    ``arrays`` maps modality -> (N, T, D) (each modality may have its own T, all on the
    text's time base); returns modality -> (N, seq_len, D) float32.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be positive, got {seq_len}")
    if "text" not in arrays:
        raise ValueError("align_and_pad needs the 'text' modality: text defines the time base")
    start = first_content_step(arrays["text"])
    out = {}
    for name, x in arrays.items():
        n, t, d = x.shape
        if n != len(start):
            raise ValueError(f"modality {name!r} has {n} samples but text has {len(start)}")
        aligned = np.zeros((n, seq_len, d), dtype=np.float32)
        for s in np.unique(start):  # one slice per distinct start step
            rows = np.flatnonzero(start == s)
            piece = x[rows, s : s + seq_len]
            aligned[rows, : piece.shape[1]] = piece
        out[name] = aligned
    return out


def _clean(x: np.ndarray, name: str, what: str) -> np.ndarray:
    """Set non-finite feature values to 0 (MultiBench does this for audio == -inf)."""
    x = np.asarray(x, dtype=np.float32)
    bad = ~np.isfinite(x)
    if name == "audio":
        x = np.where(np.isneginf(x), np.float32(0), x)
        bad = ~np.isfinite(x)
    if bad.any():
        warnings.warn(f"{what}: {int(bad.sum())} non-finite {name} values set to 0", stacklevel=3)
        x = np.where(bad, np.float32(0), x)
    return x


def preprocess_multibench_split(split: dict, seq_len: int = SEQ_LEN, what: str = "split") -> tuple[dict, int]:
    """One MultiBench split -> (aligned split dict, number of samples dropped).

    ``audio == -inf`` -> 0 (other non-finite values also -> 0, with a warning), samples
    whose text is all zero are dropped, then :func:`align_and_pad`. The sentiment is
    ``labels[:, 0, 0]``.
    """
    missing = {"vision", "audio", "text", "labels"} - set(split)
    if missing:
        raise ValueError(f"{what} lacks keys {sorted(missing)}; expected vision, audio, text, labels, id")
    arrays = {m: _clean(split[m], m, what) for m in MODALITIES}
    for m in MODALITIES:
        if arrays[m].ndim != 3:
            raise ValueError(f"{what}: {m} must be (N, T, D), got shape {arrays[m].shape}")
    labels = np.asarray(split["labels"], dtype=float)
    n = len(labels)
    if labels.ndim == 3:
        sentiment = labels[:, 0, 0]
    elif labels.ndim == 2:
        sentiment = labels[:, 0]
    elif labels.ndim == 1:
        sentiment = labels
    else:
        raise ValueError(f"{what}: labels must be (N, 1, 7) with sentiment at index 0, got {labels.shape}")
    for m in MODALITIES:
        if len(arrays[m]) != n:
            raise ValueError(f"{what}: {m} has {len(arrays[m])} samples but labels have {n}")
    ids = np.asarray(split.get("id", np.arange(n).astype(str)))
    ids = np.array([_id_string(i) for i in ids]) if ids.ndim > 1 else ids.astype(str)
    keep = np.abs(arrays["text"]).sum(axis=(1, 2)) > 0
    aligned = align_and_pad({m: a[keep] for m, a in arrays.items()}, seq_len)
    aligned["sentiment"] = sentiment[keep].astype(np.float64)
    aligned["id"] = ids[keep]
    return aligned, int((~keep).sum())


def _id_string(value) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode()
    if isinstance(value, np.ndarray):
        return "/".join(_id_string(v) for v in value)
    return str(value)


def from_multibench(raw: dict, name: str, source: str, seq_len: int = SEQ_LEN) -> MoseiSequences:
    """A MultiBench-layout dict (``train``/``valid``/``test``) -> :class:`MoseiSequences`."""
    missing = set(SPLITS) - set(raw)
    if missing:
        raise ValueError(f"the MOSEI dict lacks splits {sorted(missing)}; expected train, valid, test")
    splits, dropped = {}, {}
    for s in SPLITS:
        splits[s], dropped[s] = preprocess_multibench_split(raw[s], seq_len, what=f"{name} {s} split")
        if len(splits[s]["sentiment"]) == 0:
            raise ValueError(f"the {s} split of {name} is empty after dropping all-zero text")
    return MoseiSequences(splits=splits, name=name, source=source, dropped=dropped)


def load_multibench(path: str | Path, seq_len: int = SEQ_LEN) -> MoseiSequences:
    """Read MultiBench's ``mosei_raw.pkl`` and preprocess it (see module docstring).

    The pickle is trusted input: only open files you obtained from a source you trust.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        raw = pickle.load(handle)
    if not isinstance(raw, dict):
        raise ValueError(f"{path} does not hold a dict of splits (got {type(raw).__name__})")
    return from_multibench(raw, REAL_NAME, "real", seq_len)


# ---------------------------------------------------------------------------
# CMU-MultimodalSDK .csd files
# ---------------------------------------------------------------------------


def _h5py():
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading CMU-MultimodalSDK .csd files needs h5py: run `pip install h5py` "
            "(the MultiBench mosei_raw.pkl loader does not need it)"
        ) from error
    return h5py


def read_csd(path: str | Path) -> dict:
    """One computational sequence: ``video -> (features (T, D) float, intervals (T, 2))``.

    The file's single root group holds ``data/<video>/features`` and ``.../intervals``.
    """
    h5py = _h5py()
    path = Path(path)
    with h5py.File(path, "r") as handle:
        roots = list(handle.keys())
        if len(roots) != 1 or "data" not in handle[roots[0]]:
            raise ValueError(f"{path} is not a computational sequence (expected one root group with 'data')")
        data = handle[roots[0]]["data"]
        out = {}
        for video in data:
            features = np.asarray(data[video]["features"], dtype=np.float64)
            intervals = np.asarray(data[video]["intervals"], dtype=np.float64)
            if features.ndim == 1:
                features = features[:, None]
            if len(features) != len(intervals) or intervals.shape[-1] != 2:
                raise ValueError(f"{path}: video {video!r} has {len(features)} feature rows but intervals {intervals.shape}")
            out[str(video)] = (features, intervals)
    return out


def official_folds(folds_file: str | Path | None = None, search: list | None = None) -> dict:
    """The official video-level folds: ``{"train", "valid", "test"} -> set of video ids``.

    From ``folds_file`` (the SDK's ``cmu_mosei_std_folds.py``, read as data with
    :func:`ast.literal_eval`, never executed), else a file of that name in one of the
    ``search`` folders, else the installed SDK (``mmsdk``).
    """
    candidates = [Path(folds_file)] if folds_file else [Path(d) / FOLDS_FILE for d in (search or [])]
    for candidate in candidates:
        if candidate.is_file():
            return _parse_folds(candidate)
    if folds_file:
        raise MoseiFileMissing(f"folds file {folds_file} not found")
    try:
        from mmsdk.mmdatasdk.dataset.standard_datasets.CMU_MOSEI import cmu_mosei_std_folds as sdk
    except ImportError:
        raise MoseiFileMissing(
            f"the official CMU-MOSEI folds were not found: put the SDK's {FOLDS_FILE} beside the "
            "computational sequences (CMU-MultimodalSDK, mmsdk/mmdatasdk/dataset/standard_datasets/"
            "CMU_MOSEI/) or install the SDK (`pip install mmsdk`)"
        ) from None
    return {s: set(getattr(sdk, name)) for s, name in FOLD_NAMES.items()}


def _parse_folds(path: Path) -> dict:
    tree = ast.parse(path.read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
    folds = {}
    for split, name in FOLD_NAMES.items():
        if name not in found:
            raise ValueError(f"{path} does not define {name}")
        folds[split] = {str(v) for v in ast.literal_eval(found[name])}
    return folds


def _overlapping(intervals: np.ndarray, start: float, end: float, eps: float = 1e-6) -> np.ndarray:
    """Rows of ``intervals`` that overlap [start, end] by more than ``eps``."""
    return (intervals[:, 0] < end - eps) & (intervals[:, 1] > start + eps)


def _word_average(features: np.ndarray, intervals: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Per word interval, the mean of the frames overlapping it (zeros where none)."""
    out = np.zeros((len(words), features.shape[1]))
    for i, (start, end) in enumerate(words):
        rows = _overlapping(intervals, start, end)
        if rows.any():
            out[i] = features[rows].mean(axis=0)
    return out


def load_csd(
    folder: str | Path | None = None,
    files: dict | None = None,
    folds_file: str | Path | None = None,
    seq_len: int = SEQ_LEN,
) -> MoseiSequences:
    """Read CMU-MultimodalSDK computational sequences into :class:`MoseiSequences`.

    ``folder`` holds the four files named in :data:`CSD_FILES` (or pass ``files``:
    ``{"text", "audio", "vision", "labels"} -> path``). Each labelled segment ``k`` of a
    video is one utterance ``video[k]``: the words overlapping the segment, in time
    order, are its steps; audio and vision are averaged over each word's interval.
    Then ``audio == -inf`` -> 0, all-zero text dropped, Algorithm 2, and the split by
    the official folds (videos in no fold are left out).
    """
    if files is None:
        if folder is None:
            raise ValueError("give the folder holding the .csd files, or `files`")
        files = {k: Path(folder) / name for k, name in CSD_FILES.items()}
    missing = [str(p) for p in files.values() if not Path(p).is_file()]
    if missing:
        raise MoseiFileMissing("missing computational sequence file(s): " + ", ".join(missing) + "\n" + WHERE_TO_GET)
    folds = official_folds(folds_file, search=[folder] if folder else [Path(files["labels"]).parent])
    seqs = {k: read_csd(p) for k, p in files.items()}
    fold_of = {video: s for s, videos in folds.items() for video in videos}
    per_split = {s: {m: [] for m in (*MODALITIES, "sentiment", "id")} for s in SPLITS}
    for video, (labels, segments) in sorted(seqs["labels"].items()):
        split = fold_of.get(video)
        if split is None or any(video not in seqs[m] for m in MODALITIES):
            continue
        text_f, text_i = seqs["text"][video]
        order = np.argsort(text_i[:, 0], kind="stable")
        text_f, text_i = text_f[order], text_i[order]
        for k, (start, end) in enumerate(segments):
            if end - start <= 1e-6:
                continue
            words = _overlapping(text_i, start, end)
            if not words.any():
                continue
            w_int = text_i[words]
            steps = {"text": text_f[words]}
            for m in ("audio", "vision"):
                f, i = seqs[m][video]
                steps[m] = _word_average(np.where(np.isneginf(f), 0.0, f), i, w_int)
            for m in MODALITIES:
                per_split[split][m].append(steps[m])
            per_split[split]["sentiment"].append(labels[k, 0])
            per_split[split]["id"].append(f"{video}[{k}]")
    raw = {}
    for s in SPLITS:
        d = per_split[s]
        raw[s] = {m: _left_pad(d[m], seq_len, _dim_of(seqs, m)) for m in MODALITIES}
        raw[s]["labels"] = np.asarray(d["sentiment"], dtype=float).reshape(-1, 1, 1)
        raw[s]["id"] = np.asarray(d["id"], dtype=str)
    return from_multibench(raw, REAL_NAME, "real", seq_len)


def _dim_of(seqs: dict, modality: str) -> int:
    """Feature size of a modality in the files read (its first video)."""
    first = next(iter(seqs[modality].values()))
    return first[0].shape[1]


def _left_pad(sequences: list, max_steps: int, dim: int) -> np.ndarray:
    """Stack variable-length (T_i, D) sequences as (N, T, D), zero-padded on the left.

    ``T`` is the longest sequence (at least ``max_steps``), so nothing is cut before
    Algorithm 2 slices from the first text step and truncates.
    """
    t = max([max_steps, *[len(x) for x in sequences]])
    out = np.zeros((len(sequences), t, dim), dtype=np.float32)
    for i, x in enumerate(sequences):
        if len(x):
            out[i, t - len(x) :] = x
    return out


# ---------------------------------------------------------------------------
# Finding the real file
# ---------------------------------------------------------------------------


def _is_mosei(path: Path) -> bool:
    if path.is_file():
        return path.suffix == ".pkl"
    return path.is_dir() and ((path / PICKLE_NAME).is_file() or all((path / f).is_file() for f in CSD_FILES.values()))


def find_mosei(path: str | Path | None = None) -> Path | None:
    """The real MOSEI file or folder, or ``None`` when there is none.

    Order: ``path`` (must exist, else :class:`MoseiFileMissing`), ``$CCH_MOSEI_PATH``,
    ``$CCH_DATA_ROOT/mosei/``, ``cache_dir("mosei")``.
    """
    if path:
        path = Path(path).expanduser()
        if not path.exists():
            raise MoseiFileMissing(f"mosei_path {path} does not exist.\n{WHERE_TO_GET}")
        return path
    env = os.environ.get(PATH_ENV)
    if env:
        env_path = Path(env).expanduser()
        if not env_path.exists():
            raise MoseiFileMissing(f"${PATH_ENV} points to {env_path}, which does not exist.\n{WHERE_TO_GET}")
        return env_path
    root = data_root()
    for candidate in ([root / "mosei"] if root else []) + [cache_dir("mosei")]:
        if _is_mosei(candidate):
            return candidate
    return None


TRUST_ENV = "CCH_TRUST_PICKLES"  # "1": unpickle mosei_raw.pkl found under the data root or cache


def load_mosei(path: str | Path | None = None, seq_len: int = SEQ_LEN, required: bool = False) -> MoseiSequences | None:
    """Load the real data from :func:`find_mosei`'s location; ``None`` when there is none.

    With ``required=True`` a missing file raises :class:`MoseiFileMissing` saying where
    to get it. A ``.pkl`` file (or a folder with ``mosei_raw.pkl``) is read as
    MultiBench's layout, a folder of ``.csd`` files with :func:`load_csd`. A pickle is
    unpickled only when the user named it (``path`` or ``$CCH_MOSEI_PATH``) or set
    ``$CCH_TRUST_PICKLES=1``; one found by the search alone is refused (the .csd files
    beside it are used instead when present).
    """
    found = find_mosei(path)
    if found is None:
        if required:
            raise MoseiFileMissing("no CMU-MOSEI file was found.\n" + WHERE_TO_GET)
        return None
    has_csd = found.is_dir() and all((found / f).is_file() for f in CSD_FILES.values())
    pickled = found if found.is_file() else found / PICKLE_NAME
    if pickled.is_file():
        # A pickle can run code: unpickle only a file the user named, or with an explicit opt-in.
        explicit = bool(path) or bool(os.environ.get(PATH_ENV)) or os.environ.get(TRUST_ENV) == "1"
        if explicit:
            return load_multibench(pickled, seq_len)
        if not has_csd:
            raise MoseiFileMissing(
                f"found {pickled}, but cchlib unpickles only a file you name (a pickle can run code): "
                f"pass mosei_path={str(pickled)!r} or set ${PATH_ENV} to it, or set {TRUST_ENV}=1 "
                "to trust pickles under the data root and the cache."
            )
    if has_csd:
        return load_csd(found, seq_len=seq_len)
    raise MoseiFileMissing(f"{found} holds neither {PICKLE_NAME} nor the .csd files.\n{WHERE_TO_GET}")


# ---------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StandInConfig:
    """How the stand-in is drawn (all scales in units of a latent factor's SD).

    Per sample: a sentiment latent ``u ~ N(0, 1)``; the observed sentiment is
    ``u + label_noise * e`` scaled by 1.5, clipped to [-3, 3] and rounded to thirds
    (like MOSEI's averaged ratings), and ``y = sentiment > 0``. Each modality sees the
    sentiment through its own noisy channel ``u + noise_m * e_m`` (``noise_text`` small,
    ``noise_vision`` and ``noise_audio`` large: text is the most label-informative).
    Latent blocks of size ``latent_dim``: ``f_tv`` (shared by text and vision), ``f_ta``
    (text and audio), ``f_all`` (all three) and one private block per modality. A
    modality's content vector is ``[channel_m, overlap_tv * f_tv (text, vision),
    overlap_ta * f_ta (text, audio), overlap_all * f_all, f_private]``; every real time
    step is a fixed random linear map of it plus ``step_noise`` times fresh Gaussian
    noise, and each utterance has between ``min_len`` and ``seq_len`` steps,
    left-padded with zeros (MultiBench's layout). ``overlap_*`` set how much the
    modalities share beyond the label; they carry no label information.
    """

    latent_dim: int = 8
    label_noise: float = 0.3
    noise_text: float = 0.9
    noise_vision: float = 2.2
    noise_audio: float = 2.6
    overlap_tv: float = 1.0
    overlap_ta: float = 1.0
    overlap_all: float = 0.5
    step_noise: float = 2.0
    min_len: int = 8

    def __post_init__(self):
        if self.latent_dim < 1 or self.min_len < 1:
            raise ValueError("latent_dim and min_len must be positive")
        for name in ("label_noise", "noise_text", "noise_vision", "noise_audio", "step_noise",
                     "overlap_tv", "overlap_ta", "overlap_all"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")


CHUNK = 256  # samples drawn per generator call; fixed so a sample's draw never depends on the split size


def _blocks(modality: str) -> list[str]:
    shared = {"text": ["tv", "ta"], "vision": ["tv"], "audio": ["ta"]}[modality]
    return ["label", *shared, "all", "private"]


def _loadings(seed: int, config: StandInConfig, dims: dict) -> dict:
    """The fixed random map of each modality's content vector to its features."""
    out = {}
    for j, m in enumerate(MODALITIES):
        k = 1 + config.latent_dim * (len(_blocks(m)) - 1)
        rng = np.random.default_rng([int(seed), 7, j])
        out[m] = (rng.standard_normal((k, dims[m])) / np.sqrt(k)).astype(np.float32)
    return out


def _standin_chunk(seed: int, split: int, chunk: int, n: int, config: StandInConfig, loadings: dict, seq_len: int) -> dict:
    rng = np.random.default_rng([int(seed), 11, split, chunk])
    k = config.latent_dim
    u = rng.standard_normal(n)
    latent = {b: rng.standard_normal((n, k)) for b in ("tv", "ta", "all")}
    scale = {"tv": config.overlap_tv, "ta": config.overlap_ta, "all": config.overlap_all}
    channel_noise = {"text": config.noise_text, "vision": config.noise_vision, "audio": config.noise_audio}
    lengths = rng.integers(min(config.min_len, seq_len), seq_len + 1, size=n)
    mask = np.arange(seq_len)[None, :] >= (seq_len - lengths)[:, None]  # left padding
    out = {}
    for m in MODALITIES:
        parts = [(u + channel_noise[m] * rng.standard_normal(n))[:, None]]
        parts += [scale[b] * latent[b] for b in _blocks(m)[1:-1]]
        parts.append(rng.standard_normal((n, k)))
        content = np.concatenate(parts, axis=1).astype(np.float32) @ loadings[m]  # (n, D)
        steps = content[:, None, :] + config.step_noise * rng.standard_normal((n, seq_len, content.shape[1]), dtype=np.float32)
        out[m] = np.where(mask[:, :, None], steps, np.float32(0))
    score = u + config.label_noise * rng.standard_normal(n)
    sentiment = np.clip(np.round(1.5 * score * 3) / 3, -3, 3)
    labels = np.zeros((n, 1, 7), dtype=np.float32)
    labels[:, 0, 0] = sentiment
    out["labels"] = labels
    return out


def standin_chunks(split: str, n: int, seed: int = 0, config: StandInConfig | None = None, seq_len: int = SEQ_LEN, dims: dict | None = None):
    """Yield the stand-in's ``split`` in MultiBench layout, :data:`CHUNK` samples at a time.

    Sample ``i`` of a split is the same whatever ``n`` is, so a larger stand-in extends
    a smaller one.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    config = config or StandInConfig()
    dims = dims or DIMS
    loadings = _loadings(seed, config, dims)
    s = SPLITS.index(split)
    for c, start in enumerate(range(0, n, CHUNK)):
        chunk = _standin_chunk(seed, s, c, CHUNK, config, loadings, seq_len)  # always a full chunk
        keep = min(CHUNK, n - start)
        chunk = {key: value[:keep] for key, value in chunk.items()}
        chunk["id"] = np.array([f"standin_{split}[{i}]" for i in range(start, start + keep)])
        yield chunk


def make_standin(sizes: dict | None = None, seed: int = 0, config: StandInConfig | None = None, seq_len: int = SEQ_LEN, dims: dict | None = None) -> dict:
    """The whole stand-in as a MultiBench-layout dict (``train``/``valid``/``test``).

    ``sizes`` defaults to MOSEI's :data:`SPLIT_SIZES` (about 5 GB as float32: pass
    smaller sizes, or use :func:`standin_features`, which pools chunk by chunk).
    """
    sizes = sizes or SPLIT_SIZES
    out = {}
    for split in SPLITS:
        chunks = list(standin_chunks(split, int(sizes[split]), seed, config, seq_len, dims))
        out[split] = {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}
    return out


def standin_description(config: StandInConfig) -> dict:
    """The stand-in's settings, for provenance."""
    return asdict(config)


# ---------------------------------------------------------------------------
# What the networks see: temporal mean-pooled features
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MoseiFeatures:
    """Temporal mean-pooled MOSEI features (Table 14's first operation) for all splits.

    Attributes:
        dataset: a :class:`PairedDataset` with modalities text, vision, audio (N, D),
            binary labels, train and test indices (the validation rows are in it too).
        valid_idx: indices of the validation split.
        step_std: modality -> (D,) standard deviation of each feature over the real
            (non-padding) time steps of the training split; the scale of the noise test.
        seq_len: the sequence length L the pooling averaged over.
        source: ``"real"`` or ``"stand-in"``.
    """

    dataset: PairedDataset
    valid_idx: np.ndarray
    step_std: dict
    seq_len: int
    source: str
    dropped: dict

    @property
    def name(self) -> str:
        return self.dataset.name

    def split_indices(self, split: str) -> np.ndarray:
        return {"train": self.dataset.train_idx, "valid": self.valid_idx, "test": self.dataset.test_idx}[split]


def temporal_mean_pool(x: np.ndarray) -> np.ndarray:
    """Table 14: ``Z[b, d] = (1/L) sum_l X[b, l, d]`` (padding steps count as zeros)."""
    return np.asarray(x, dtype=np.float64).mean(axis=1)


class _StepStats:
    """Running per-feature mean and variance over the real steps (Chan's merge)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, None, None

    def add(self, x: np.ndarray, real: np.ndarray) -> None:
        rows = x[real].astype(np.float64)
        if len(rows) == 0:
            return
        n_b, mean_b = len(rows), rows.mean(axis=0)
        m2_b = ((rows - mean_b) ** 2).sum(axis=0)
        if self.n == 0:
            self.n, self.mean, self.m2 = n_b, mean_b, m2_b
            return
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * n_b / n
        self.m2 = self.m2 + m2_b + delta**2 * self.n * n_b / n
        self.n = n

    def std(self, dim: int) -> np.ndarray:
        return np.sqrt(self.m2 / max(self.n - 1, 1)) if self.n else np.zeros(dim)


def _features(parts: dict, name: str, source: str, seq_len: int, dropped: dict) -> MoseiFeatures:
    """parts: split -> iterable of aligned chunks (dicts of modality arrays + sentiment),
    consumed one chunk at a time."""
    pooled = {m: [] for m in MODALITIES}
    sentiment, index = [], {}
    stats = {m: _StepStats() for m in MODALITIES}
    start = 0
    for split in SPLITS:
        n_split = 0
        for chunk in parts[split]:
            real = np.abs(chunk["text"]).sum(axis=-1) > 0  # text defines the time base
            for m in MODALITIES:
                pooled[m].append(temporal_mean_pool(chunk[m]).astype(np.float32))
                if split == "train":
                    stats[m].add(chunk[m], real)
            sentiment.append(chunk["sentiment"])
            n_split += len(chunk["sentiment"])
        index[split] = np.arange(start, start + n_split)
        start += n_split
    modalities = {m: np.concatenate(v) for m, v in pooled.items()}
    labels = binary_labels(np.concatenate(sentiment))
    ds = PairedDataset(modalities, labels, index["train"], index["test"], name=name)
    step_std = {m: stats[m].std(modalities[m].shape[1]) for m in MODALITIES}
    return MoseiFeatures(ds, index["valid"], step_std, seq_len, source, dropped)


def pool_sequences(seqs: MoseiSequences) -> MoseiFeatures:
    """Mean-pool preprocessed sequences into :class:`MoseiFeatures`."""
    seq_len = seqs.splits["train"]["text"].shape[1]
    return _features({s: [seqs.splits[s]] for s in SPLITS}, seqs.name, seqs.source, seq_len, dict(seqs.dropped))


def standin_features(sizes: dict, seed: int = 0, config: StandInConfig | None = None, seq_len: int = SEQ_LEN) -> MoseiFeatures:
    """The stand-in, preprocessed exactly like the real MultiBench file and mean-pooled,
    chunk by chunk (so MOSEI-sized stand-ins fit in memory)."""
    dropped = {split: 0 for split in SPLITS}

    def aligned(split):
        for chunk in standin_chunks(split, int(sizes[split]), seed, config, seq_len):
            out, n_dropped = preprocess_multibench_split(chunk, seq_len, what=f"stand-in {split}")
            dropped[split] += n_dropped
            yield out

    return _features({split: aligned(split) for split in SPLITS}, STANDIN_NAME, "stand-in", seq_len, dropped)


# ---------------------------------------------------------------------------
# Which features a run uses: a JSON-able spec, and the features it names
# ---------------------------------------------------------------------------


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


@lru_cache(maxsize=2)
def _load(key: tuple) -> MoseiFeatures:
    spec = dict(key)
    seq_len = int(spec.get("seq_len", SEQ_LEN))
    if spec["source"] == "real":
        seqs = load_mosei(spec.get("path"), seq_len=seq_len, required=True)
        return pool_sequences(seqs)
    if spec["source"] == "stand-in":
        config = StandInConfig(**dict(spec.get("config", ())))
        return standin_features(dict(spec["sizes"]), int(spec["seed"]), config, seq_len)
    raise ValueError(f"data source must be 'real' or 'stand-in', got {spec['source']!r}")


def load_features(data: dict) -> MoseiFeatures:
    """The pooled features ``data`` names (cached in this process).

    ``data`` (see :func:`data_spec`): ``{"source": "real", "path": ...}`` or
    ``{"source": "stand-in", "sizes": {...}, "seed": ..., "config": {...}}``, plus ``seq_len``.
    """
    return _load(_freeze(data))


def data_spec(mosei_path=None, require_real: bool = False, standin_sizes=None, standin_seed: int = 0,
              standin_config=None, seq_len: int = SEQ_LEN) -> dict:
    """Decide which data the chapter runs on: the real file if one is found, else the stand-in.

    ``require_real`` (the ``paper`` parameter set) refuses the stand-in with a
    :class:`MoseiFileMissing` that says where to get the data.
    """
    found = find_mosei(mosei_path)
    if found is not None:
        return {"source": "real", "path": str(found), "seq_len": int(seq_len)}
    if require_real:
        raise MoseiFileMissing(
            "this parameter set reproduces the paper and needs the real CMU-MOSEI features; "
            "no file was found.\n" + WHERE_TO_GET
        )
    if not standin_sizes:
        raise ValueError("no real MOSEI file was found and no standin_sizes were given")
    return {"source": "stand-in", "sizes": {k: int(v) for k, v in standin_sizes.items()},
            "seed": int(standin_seed), "config": dict(standin_config or {}), "seq_len": int(seq_len)}
