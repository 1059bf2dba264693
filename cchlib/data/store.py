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
