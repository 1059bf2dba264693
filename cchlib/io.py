"""Where results go and how they are written: the runner's parameters, result folders and atomic writes.

Every file cchlib writes for a reader (a table, a provenance record, a store file, a
cached cell) goes through :func:`atomic_write_bytes`, so a run killed mid-write leaves
the old file or the complete new one, never half of one. This module imports nothing
of cchlib, so every other module may use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Where and how a chapter runs, not what it computes: where its results go, its cache and
# executor. The book runner (cchlib.book) passes them to every notebook as papermill
# parameters; a notebook need not declare them, and one run by hand takes these defaults
# through cchlib.chapter.Chapter.from_parameters.
RUNNER_PARAMETERS = {
    "params_name": "default",  # the parameter set; results go to <results_root>/<params_name>/<chapter>/
    "results_root": "../results",  # folder of result tables (notebooks run in notebooks/)
    "cache_root": None,  # sweep-cell cache; None: ~/.cache/cchlib/sweeps (or $CCH_CACHE_DIR)
    "executor": "local",  # how sweep cells run: "local" or "dask"
    "executor_options": {},  # for dask: {"workers": N}, {"address": "tcp://..."} or {"scheduler_file": ...}
}


def results_dir(results_root: str | Path, params_name: str, chapter: str) -> Path:
    """Return (and create) the folder holding one chapter's tables for one parameter set."""
    if not params_name or "/" in params_name:
        raise ValueError(f"params_name must be a plain name like 'smoke', got {params_name!r}")
    path = Path(results_root) / params_name / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path


def current_umask() -> int:
    """The process's file-creation mask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader (or a resumed run) therefore sees either the old file or the complete new
    one, never a half-written file. The file gets the permissions a plain ``open`` would
    give it under the user's umask (not ``mkstemp``'s 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write_bytes` for text (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))
