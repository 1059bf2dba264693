"""Where data and caches live.

Every loader in cchlib finds data in the same order: an explicit path, the data root
named by the environment variable ``CCH_DATA_ROOT``, the standard cache location, and
(for sources that allow it) a download. Expensive intermediate results (trained models,
sweep cells, MI estimates) go under :func:`cache_dir`.

Every data file the book reads from the data root is checked against a SHA-256 manifest
kept in the repository (``cchlib/data/checksums/<dataset>.sha256``, ``sha256sum``
format, paths relative to the dataset's folder) by :func:`verify_files`; MNIST is
checked by the MD5 of its decompressed content instead (see :mod:`cchlib.data.mnist`).
``CCH_SKIP_CHECKSUMS=1`` turns the check off, for a copy of a different release.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from contextlib import contextmanager
from pathlib import Path

DATA_ROOT_ENV = "CCH_DATA_ROOT"
CACHE_ENV = "CCH_CACHE_DIR"
SKIP_CHECKSUMS_ENV = "CCH_SKIP_CHECKSUMS"
CHECKSUM_DIR = Path(__file__).with_name("checksums")
OPT_OUT = (f"If it is your own copy of a different release, set {SKIP_CHECKSUMS_ENV}=1 to use it "
           "unchecked (its results will differ from the book's).")


class DataFileError(ValueError):
    """A data file is missing, damaged or not the copy the book was checked against."""


def data_root() -> Path | None:
    """The folder named by ``$CCH_DATA_ROOT``, or ``None`` when it is unset."""
    value = os.environ.get(DATA_ROOT_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ValueError(f"${DATA_ROOT_ENV} points to {path}, which is not a folder")
    return path


def cache_dir(*parts: str) -> Path:
    """A folder under the cache root (``$CCH_CACHE_DIR`` or ``~/.cache/cchlib``), created."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "cchlib").expanduser()
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def shown_path(path: str | Path) -> str:
    """``path`` as a page may show it: relative to the data root or cache, never absolute.

    A rendered book or a result file meant for readers names no folder of the machine
    that built it: ``$CCH_DATA_ROOT/mnist``, ``$CCH_CACHE_DIR/mnist``, ``~/.cache/cchlib/mnist`` or, for a path
    elsewhere, its last two components.
    """
    path = Path(path).expanduser().resolve()
    roots = [(f"${DATA_ROOT_ENV}", os.environ.get(DATA_ROOT_ENV)), (f"${CACHE_ENV}", os.environ.get(CACHE_ENV)),
             ("~/.cache/cchlib", Path.home() / ".cache" / "cchlib")]
    for name, root in roots:
        if root and path.is_relative_to(Path(root).expanduser().resolve()):
            return str(Path(name) / path.relative_to(Path(root).expanduser().resolve()))
    return str(Path(*path.parts[-2:])) if len(path.parts) > 2 else path.name


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(dataset: str) -> dict[str, str]:
    """``{relative path: sha256}`` of ``checksums/<dataset>.sha256`` (``sha256sum`` format)."""
    path = CHECKSUM_DIR / f"{dataset}.sha256"
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            entries[name.lstrip("*")] = digest
    return entries


def checksums_skipped() -> bool:
    """Whether ``$CCH_SKIP_CHECKSUMS`` asks to use data files unchecked."""
    return os.environ.get(SKIP_CHECKSUMS_ENV, "").strip().lower() in ("1", "true", "yes")


def _listed(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def verify_files(folder: str | Path, dataset: str, names=None, fetch: str = "") -> None:
    """Check files of ``folder`` against the manifest of ``dataset``; raise on any difference.

    ``names`` are the paths (relative to ``folder``) to check, default every file of the
    manifest; a name the manifest does not list (a user's own file) is not checked.
    Raises :class:`DataFileError` naming every missing file and every file with a wrong
    SHA-256, what to fetch (``fetch``) and where to put it, and the opt-out
    ``CCH_SKIP_CHECKSUMS=1``. Does nothing when that opt-out is set.
    """
    if checksums_skipped():
        return
    folder = Path(folder)
    manifest = read_manifest(dataset)
    names = list(manifest) if names is None else [n for n in names if n in manifest]
    missing = [n for n in names if not (folder / n).is_file()]
    actual = {n: sha256_file(folder / n) for n in names if n not in missing}
    wrong = [f"{folder / n} (SHA-256 {digest[:12]}..., expected {manifest[n][:12]}...)"
             for n, digest in actual.items() if digest != manifest[n]]
    if not missing and not wrong:
        return
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(names)} files missing from {folder}: {_listed(missing)}")
    if wrong:
        problems.append(f"{len(wrong)} file(s) damaged or changed, with a wrong SHA-256: {_listed(wrong)}")
    them = "them" if len(missing) + len(wrong) > 1 else "it"
    raise DataFileError(
        f"{dataset} data check failed against cchlib/data/checksums/{dataset}.sha256: " + "; ".join(problems)
        + f". Get {them}" + (f" from {fetch}" if fetch else "") + f" and put {them} under {folder} with the names above. {OPT_OUT}"
    )


@contextmanager
def reading(path: str | Path, fetch: str = ""):
    """Turn a decoding error raised while reading ``path`` into a :class:`DataFileError` naming it.

    Wrap only the raw read (``pd.read_csv``, an image decode): a truncated gzip
    (``EOFError``, ``BadGzipFile``), a damaged JPEG (``OSError``) or unparsable text
    then says which file is bad and what to do. A missing file stays a
    ``FileNotFoundError``.
    """
    try:
        yield
    except FileNotFoundError:
        raise
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError, SyntaxError) as error:
        raise DataFileError(
            f"{path} cannot be read ({type(error).__name__}: {error}): the file is damaged or truncated. "
            "Delete it and get it again" + (f" from {fetch}" if fetch else "") + "."
        ) from error
