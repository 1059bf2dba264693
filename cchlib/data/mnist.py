"""MNIST, BSDS500 backgrounds, MNIST-M and Gaussian blur for the image chapter (Sec. 4.2, App. C).

**MNIST** is read from the four standard IDX files. Each file is accepted only when the
MD5 of its *decompressed* content equals the published value (the compressed bytes of
equally valid copies differ with the compressor). Folders are searched in this order:
an explicit ``path``, ``$CCH_DATA_ROOT/mnist``, the torchvision layout
``<folder>/MNIST/raw`` under the data root and under ``~/.cache``, and cchlib's cache
``cache_dir("mnist")``; when none holds all four files they are downloaded from a
public mirror into that cache (``download=True``). If that fails too,
:class:`MNISTMissing` says what to get and where to put it.

**Backgrounds** are the 200 BSDS500 training images (folder
``BSDS500/data/images/train``), found the same way (explicit path, ``$CCH_DATA_ROOT``
as ``bsds/train`` or ``BSDS500/data/images/train``, the cache, the official archive).
Only when none is available and scikit-image is installed do its bundled natural images
serve instead, and the returned :class:`Backgrounds` is then named as a stand-in. The
folder found is checked against ``cchlib/data/checksums/bsds500.sha256`` (the data
folder's own ``SHA256SUMS``): missing, truncated or changed images raise
:class:`cchlib.data.store.DataFileError` naming them (``CCH_SKIP_CHECKSUMS=1`` uses a
different release unchecked).

**MNIST-M** (:func:`make_mnist_m`) follows App. C: the binarised digit is replicated to
three channels and blended as ``alpha * digit + (1 - alpha) * patch`` with a random
28x28 patch of a grayscale (luma) background. Ganin & Lempitsky's original colour
recipe, ``|digit - colour patch|``, is available as ``recipe="ganin"``. Images are
uint8 (as a stored image would be), deterministic for a seed, and :func:`load_mnist_m`
caches them under ``cache_dir("mnist_m")``.

**Blur** (:func:`gaussian_blur`): a Gaussian filter of standard deviation ``gamma``
pixels on each image; ``gamma = 0`` returns the images unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from cchlib.data.store import cache_dir, data_root, reading, verify_files
from cchlib.io import atomic_write_bytes, current_umask

# name -> MD5 of the decompressed IDX content (the published MNIST checksums).
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
BSDS_ARCHIVE_URL = (
    "http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz"
)
BSDS_TRAIN_IN_ARCHIVE = "BSR/BSDS500/data/images/train/"
BSDS_TRAIN_COUNT = 200
# ITU-R BT.601 luma weights: the usual luminance-preserving RGB -> gray conversion.
LUMA = np.array([0.299, 0.587, 0.114])
RECIPES = ("paper", "ganin")
# Bump when make_mnist_m changes, so that cached MNIST-M is rebuilt.
MNIST_M_VERSION = 1


class MNISTMissing(FileNotFoundError):
    """No folder holds the four MNIST files and they could not be downloaded."""


class MNISTChecksumError(ValueError):
    """An MNIST file's decompressed content does not have the published MD5."""


class BackgroundsMissing(FileNotFoundError):
    """No BSDS500 training images were found and no fallback is available."""


# --------------------------------------------------------------------------- MNIST


@dataclass(frozen=True)
class MNIST:
    """The MNIST train and test sets: uint8 images (n, 28, 28) and int64 labels (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path


def parse_idx(raw: bytes) -> np.ndarray:
    """An IDX file's content (already decompressed) as a numpy array.

    The header is two zero bytes, a type code (0x08 = uint8), the number of dimensions
    and then each dimension as a big-endian int32.
    """
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError("IDX file is truncated inside its header")
    shape = tuple(int(v) for v in np.frombuffer(raw[4:header], dtype=">i4"))
    data = np.frombuffer(raw[header:], dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"IDX header announces shape {shape} but holds {data.size} values")
    return data.reshape(shape)


def _file_in(folder: Path, name: str) -> Path | None:
    """``name.gz`` or the uncompressed ``name`` inside ``folder``, if either exists."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _read_verified(path: Path, name: str) -> bytes:
    """Decompressed content of one MNIST file, after checking its MD5."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise MNISTChecksumError(f"{path} cannot be decompressed ({error}); delete it and get it again") from error
    digest = hashlib.md5(raw).hexdigest()
    if digest != MNIST_MD5[name]:
        raise MNISTChecksumError(
            f"{path}: the MD5 of its decompressed content is {digest}, but the published "
            f"MNIST file {name} has {MNIST_MD5[name]}. The file is corrupted or not MNIST; "
            "delete it and download it again."
        )
    return raw


def mnist_search_folders(path: str | Path | None = None) -> list[Path]:
    """The folders searched for the MNIST files, in order."""
    folders = []
    if path is not None:
        path = Path(path).expanduser()
        folders += [path, path / "mnist", path / "MNIST" / "raw"]
    root = data_root()
    if root is not None:
        folders += [root / "mnist", root / "MNIST" / "raw"]
    home_cache = Path.home() / ".cache"
    folders += [home_cache / "MNIST" / "raw", home_cache / "torchvision" / "MNIST" / "raw"]
    folders.append(cache_dir("mnist"))
    return folders


def download_mnist(folder: str | Path | None = None, mirrors=MNIST_MIRRORS) -> Path:
    """Download the four MNIST files into ``folder`` (default: the cache) and verify them."""
    folder = Path(folder) if folder is not None else cache_dir("mnist")
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_MD5:
        target = folder / f"{name}.gz"
        if target.is_file():
            continue
        errors = []
        for mirror in mirrors:
            try:
                with urllib.request.urlopen(f"{mirror}{name}.gz", timeout=60) as response:
                    payload = response.read()
                break
            except OSError as error:
                errors.append(f"{mirror}: {error}")
        else:
            raise MNISTMissing(f"could not download {name}.gz: " + "; ".join(errors))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".gz")
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        try:
            _read_verified(Path(tmp), name)
        except MNISTChecksumError:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp's 0600 -> the user's umask
        os.replace(tmp, target)
    return folder


def _missing_message(folders: list[Path], download_error: str | None) -> str:
    names = ", ".join(f"{n}.gz" for n in MNIST_MD5)
    lines = [
        f"MNIST not found. Needed: the four files {names}.",
        "Looked in: " + ", ".join(str(f) for f in folders) + ".",
        f"Get them from {MNIST_MIRRORS[0]} (or any MNIST mirror) and put them in "
        "$CCH_DATA_ROOT/mnist/, in a folder you pass as `path`, or in "
        f"{cache_dir('mnist')}.",
    ]
    if download_error:
        lines.append(f"The automatic download failed: {download_error}")
    return " ".join(lines)


def _download_or_raise(errors: list[str]) -> Path:
    """Every copy found was bad: download a fresh one into the cache, or say what failed."""
    try:
        return download_mnist()
    except (MNISTMissing, OSError) as error:
        raise MNISTChecksumError(" | ".join(errors) + f" | the download of a fresh copy failed too: {error}") from error


def find_mnist(path: str | Path | None = None, download: bool = True) -> Path:
    """The first folder holding all four MNIST files (downloading them if allowed)."""
    folders = mnist_search_folders(path)
    for folder in folders:
        if all(_file_in(folder, name) for name in MNIST_MD5):
            return folder
    download_error = None
    if download:
        try:
            return download_mnist()
        except (MNISTMissing, OSError) as error:
            download_error = str(error)
    raise MNISTMissing(_missing_message(folders, download_error))


def _read_folder(folder: Path) -> dict:
    """The four verified MNIST arrays of one folder (MNISTChecksumError if any file is bad)."""
    return {name: parse_idx(_read_verified(_file_in(folder, name), name)) for name in MNIST_MD5}


def load_mnist(path: str | Path | None = None, download: bool = True) -> MNIST:
    """Load MNIST (see the module docstring for where it is looked for), checksums verified.

    A folder whose files fail their checksum is skipped (with a warning naming the bad
    file) in favour of the next folder holding a good copy, e.g. the cache; only when no
    folder holds good files is the checksum error raised.
    """
    errors = []
    for folder in mnist_search_folders(path):
        if not all(_file_in(folder, name) for name in MNIST_MD5):
            continue
        try:
            arrays = _read_folder(folder)
            break
        except MNISTChecksumError as error:
            errors.append(str(error))
            warnings.warn(f"{error} Trying the next copy.", stacklevel=2)
    else:
        if errors and not download:
            raise MNISTChecksumError(" | ".join(errors))
        folder = find_mnist(path, download) if not errors else _download_or_raise(errors)
        arrays = _read_folder(folder)
    return MNIST(
        x_train=arrays["train-images-idx3-ubyte"],
        y_train=arrays["train-labels-idx1-ubyte"].astype(np.int64),
        x_test=arrays["t10k-images-idx3-ubyte"],
        y_test=arrays["t10k-labels-idx1-ubyte"].astype(np.int64),
        source=folder,
    )


# --------------------------------------------------------------------- backgrounds


@dataclass(frozen=True)
class Backgrounds:
    """Natural images for MNIST-M backgrounds, RGB floats in [0, 1], and what they are."""

    images: tuple
    name: str
    source: str

    @property
    def is_bsds(self) -> bool:
        return self.name.startswith("BSDS500")


def bsds_search_folders(path: str | Path | None = None) -> list[Path]:
    """The folders searched for the BSDS500 training images, in order."""
    folders = []
    if path is not None:
        path = Path(path).expanduser()
        folders += [path, path / "BSDS500" / "data" / "images" / "train"]
    root = data_root()
    if root is not None:
        folders += [root / "bsds" / "train", root / "BSDS500" / "data" / "images" / "train",
                    root / "BSR" / "BSDS500" / "data" / "images" / "train"]
    folders.append(cache_dir("bsds500") / "train")
    return folders


def _read_rgb(path: Path) -> np.ndarray:
    """One image as RGB floats in [0, 1]; a damaged file raises a DataFileError naming it."""
    from PIL import Image  # pillow comes with matplotlib

    with reading(path, fetch=BSDS_ARCHIVE_URL), Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def download_bsds(folder: str | Path | None = None, url: str = BSDS_ARCHIVE_URL) -> Path:
    """Fetch the official BSR archive and keep only its 200 training images."""
    folder = Path(folder) if folder is not None else cache_dir("bsds500") / "train"
    folder.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=120) as response:
        archive = io.BytesIO(response.read())
    with tarfile.open(fileobj=archive, mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(BSDS_TRAIN_IN_ARCHIVE) and member.name.endswith(".jpg"):
                (folder / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    return folder


def _skimage_backgrounds() -> Backgrounds | None:
    """scikit-image's bundled natural photographs, if scikit-image is installed."""
    try:
        from skimage import data as skdata
    except ImportError:
        return None
    names = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry"]
    images = []
    for name in names:
        try:
            image = np.asarray(getattr(skdata, name)(), dtype=np.float32) / 255.0
        except Exception:  # an image that needs a download (pooch) is skipped
            continue
        if image.ndim == 3 and image.shape[2] == 3:
            images.append(image)
    if not images:
        return None
    return Backgrounds(
        tuple(images), f"scikit-image sample images ({len(images)}; a stand-in for BSDS500)", "skimage.data"
    )


def load_backgrounds(path: str | Path | None = None, download: bool = True, fallback: bool = True) -> Backgrounds:
    """The BSDS500 training images; scikit-image's images only as a labelled fallback."""
    folders = bsds_search_folders(path)
    for folder in folders:
        files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
        if files:
            verify_files(folder, "bsds500", fetch=f"{BSDS_ARCHIVE_URL} (its folder {BSDS_TRAIN_IN_ARCHIVE})")
            images = tuple(_read_rgb(f) for f in files)
            return Backgrounds(images, f"BSDS500 train ({len(files)} images)", str(folder))
    download_error = None
    if download:
        try:
            folder = download_bsds()
            return load_backgrounds(folder, download=False, fallback=fallback)
        except (OSError, tarfile.TarError) as error:
            download_error = str(error)
    stand_in = _skimage_backgrounds() if fallback else None
    if stand_in is not None:
        return stand_in
    raise BackgroundsMissing(
        "BSDS500 training images not found. Looked in: " + ", ".join(str(f) for f in folders) + ". "
        f"Get BSR_bsds500.tgz ({BSDS_ARCHIVE_URL}) and copy the {BSDS_TRAIN_COUNT} JPEGs of "
        f"{BSDS_TRAIN_IN_ARCHIVE} to $CCH_DATA_ROOT/bsds/train/ or {cache_dir('bsds500') / 'train'}."
        + (f" The automatic download failed: {download_error}" if download_error else "")
    )


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luminance (BT.601 luma) of an RGB image in [0, 1]: the App. C grayscale conversion."""
    return rgb @ LUMA.astype(rgb.dtype)


# -------------------------------------------------------------------------- MNIST-M


def binarise(digits: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """1.0 where a uint8 digit image is at least ``threshold`` of full intensity, else 0.0."""
    return (np.asarray(digits) >= threshold * 255).astype(np.float32)


def random_patches(images, n: int, rng: np.random.Generator, size: int = 28, index=None) -> np.ndarray:
    """Random ``size`` x ``size`` crops of random images for positions ``0..n-1``.

    Which image and where are drawn for all ``n`` positions; only the positions in
    ``index`` (default: all) are cut out, so a position's patch does not depend on
    which other positions are built. Shape (len(index), size, size[, c]).
    """
    which = rng.integers(0, len(images), size=n)
    rows_of, cols_of = rng.random(n), rng.random(n)
    index = np.arange(n) if index is None else np.asarray(index)
    which, rows_of, cols_of = which[index], rows_of[index], cols_of[index]
    out = np.empty((len(index), size, size, *np.shape(images[0])[2:]), dtype=np.float32)
    grid = np.arange(size)
    for k, image in enumerate(images):
        chosen = np.flatnonzero(which == k)
        if chosen.size == 0:
            continue
        h, w = image.shape[:2]
        if h < size or w < size:
            raise ValueError(f"background {k} is {h}x{w}, smaller than a {size}x{size} patch")
        top = (rows_of[chosen] * (h - size + 1)).astype(int)
        left = (cols_of[chosen] * (w - size + 1)).astype(int)
        out[chosen] = image[top[:, None, None] + grid[None, :, None], left[:, None, None] + grid[None, None, :]]
    return out


def make_mnist_m(
    digits: np.ndarray,
    backgrounds: Backgrounds,
    alpha: float = 0.2,
    seed: int = 0,
    recipe: str = "paper",
    threshold: float = 0.5,
    index=None,
) -> np.ndarray:
    """MNIST-M images (n, 28, 28, 3) uint8 from uint8 MNIST digits (n, 28, 28).

    ``recipe="paper"`` (App. C): binarised digit ``d`` in {0, 1}, replicated to three
    channels, blended with a grayscale background patch ``b`` as ``alpha * d + (1 -
    alpha) * b``. ``recipe="ganin"`` (Ganin & Lempitsky, 2015; ``alpha`` unused):
    ``|d - b|`` per channel with a *colour* patch ``b``. The patch of image ``i`` (which
    background, where) is drawn from a generator seeded with ``seed``; ``index`` builds
    only those images (each identical to its image in the full build).
    """
    if recipe not in RECIPES:
        raise ValueError(f"unknown MNIST-M recipe {recipe!r}; choose one of {RECIPES}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    digits = np.asarray(digits)
    if digits.ndim != 3 or digits.dtype != np.uint8:
        raise ValueError(f"digits must be uint8 images (n, h, w), got {digits.dtype} {digits.shape}")
    rng = np.random.default_rng(seed)
    n, size = len(digits), digits.shape[1]
    digit = binarise(digits if index is None else digits[np.asarray(index)], threshold)
    if recipe == "paper":
        patches = random_patches([to_gray(im) for im in backgrounds.images], n, rng, size, index)
        gray = _to_uint8(alpha * digit + (1.0 - alpha) * patches)
        return np.repeat(gray[..., None], 3, axis=-1)
    patches = random_patches(backgrounds.images, n, rng, size, index)
    return _to_uint8(np.abs(digit[..., None] - patches))


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] as uint8 pixels, as a stored image would hold them."""
    return np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)


def mnist_m_key(alpha: float, seed: int, recipe: str, threshold: float, backgrounds: Backgrounds, counts) -> str:
    """Cache key of one MNIST-M build: everything that changes its pixels."""
    payload = json.dumps(
        {"alpha": float(alpha), "seed": int(seed), "recipe": recipe, "threshold": float(threshold),
         "backgrounds": backgrounds.name, "counts": list(counts), "version": MNIST_M_VERSION,
         "mnist": MNIST_MD5},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _load_cached_images(path: Path, expected: int) -> np.ndarray | None:
    """A cached MNIST-M build, or None when absent; a file that fails to load is rebuilt."""
    if not path.is_file():
        return None
    try:
        images = np.load(path, allow_pickle=False)
        if images.dtype != np.uint8 or images.ndim != 4 or len(images) != expected:
            raise ValueError(f"holds {images.dtype} {images.shape}, not {expected} uint8 images")
        return images
    except (ValueError, OSError, EOFError) as error:
        warnings.warn(f"cached MNIST-M {path} is unusable ({error}); rebuilding it", stacklevel=3)
        path.unlink(missing_ok=True)
        return None


def load_mnist_m(
    mnist: MNIST,
    backgrounds: Backgrounds,
    alpha: float = 0.2,
    seed: int = 0,
    recipe: str = "paper",
    threshold: float = 0.5,
    n_train: int | None = None,
    n_test: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-M of the first ``n_train`` / ``n_test`` MNIST images (default: all), cached.

    MNIST-M image ``i`` of each split is MNIST image ``i`` on its own background patch.
    Patches are drawn for all 70,000 positions (train first, then test), so an image is
    the same whichever subset is built. Each build is stored once under
    ``cache_dir("mnist_m")``, keyed by alpha, seed, recipe, threshold, backgrounds and
    subset size.
    """
    digits = np.concatenate([mnist.x_train, mnist.x_test])
    n_tr = len(mnist.x_train) if n_train is None else min(int(n_train), len(mnist.x_train))
    n_te = len(mnist.x_test) if n_test is None else min(int(n_test), len(mnist.x_test))
    key = mnist_m_key(alpha, seed, recipe, threshold, backgrounds, (n_tr, n_te))
    path = cache_dir("mnist_m") / f"{recipe}-alpha{alpha:g}-seed{seed}-{n_tr}+{n_te}-{key}.npy"
    images = _load_cached_images(path, expected=n_tr + n_te)
    if images is None:
        index = np.concatenate([np.arange(n_tr), len(mnist.x_train) + np.arange(n_te)])
        images = make_mnist_m(digits, backgrounds, alpha, seed, recipe, threshold, index)
        # The paper recipe has three equal channels: store one.
        stored = images[..., :1] if recipe == "paper" else images
        buffer = io.BytesIO()
        np.save(buffer, stored)
        atomic_write_bytes(path, buffer.getvalue())
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return images[:n_tr], images[n_tr:]


# ----------------------------------------------------------------------------- blur


def gaussian_blur(images: np.ndarray, gamma: float) -> np.ndarray:
    """Blur each image (n, h, w) with a Gaussian of standard deviation ``gamma`` pixels.

    Zero padding (MNIST's border is black); the kernel is truncated at 4 standard
    deviations (scipy's default). ``gamma = 0`` returns the images unchanged, as float32.
    """
    if gamma < 0:
        raise ValueError(f"the blur gamma must be non-negative, got {gamma}")
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, h, w), got {images.shape}")
    if gamma == 0:
        return images.copy()
    return gaussian_filter(images, sigma=(0, gamma, gamma), mode="constant", cval=0.0)
