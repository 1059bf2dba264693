"""Where data and caches live.

Every loader in cchlib finds data in the same order: an explicit path, the data root
named by the environment variable ``CCH_DATA_ROOT``, the standard cache location, and
(for sources that allow it) a download. Expensive intermediate results (trained models,
sweep cells, MI estimates) go under :func:`cache_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ROOT_ENV = "CCH_DATA_ROOT"
CACHE_ENV = "CCH_CACHE_DIR"


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
