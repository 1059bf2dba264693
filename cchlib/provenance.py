"""Provenance: which code, on which machine, with which libraries, computed a number.

Two records are built here, both from :func:`run_record`:

- :func:`chapter_record`, shown at the top of every chapter and written beside its
  tables (``provenance.json``): the parameter set, the seeds, when it ran;
- the record of a batch of stored cells (:func:`cchlib.resultstore.ResultStore.put`
  keeps it with each cell): the seeds of the batch and its wall time.

Both name the git commit (``+dirty`` when cchlib's own source is modified), the hash of
the cchlib source that ran (:func:`code_version`), the device, and every installed
distribution cchlib depends on, directly or through another (:func:`distributions`).

This module is the library's lowest floor: it imports nothing of cchlib but its version,
so every other module may import it.
"""

from __future__ import annotations

import ast
import hashlib
import platform
import re
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from cchlib import __version__

PACKAGE_ROOT = Path(__file__).parent
# What each parameter set's numbers are, for the provenance box and the scorecard.
SCALES = {
    "smoke": "smoke: tiny sizes that check the pipeline; the numbers support no conclusion",
    "default": "default: reduced sizes for a laptop (fewer seeds, samples and epochs than the paper)",
    "paper": "paper: the paper's sizes, epochs, grids and run counts where it gives them",
}
# The libraries named in a chapter's provenance table (all of them are in provenance.json).
SHOWN_LIBRARIES = ("torch", "numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "latentmi", "jupyter-book")


# ---------------------------------------------------------------------------
# The code: git commit and source hash
# ---------------------------------------------------------------------------


@lru_cache(maxsize=None)
def git_commit() -> str:
    """The commit of the checkout cchlib runs from, ``+dirty`` when cchlib's source or pyproject is modified.

    Only the code counts: a store or results folder rewritten by the run itself does not
    make the commit dirty.
    """
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=PACKAGE_ROOT, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", "../pyproject.toml"],
                               cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return commit + ("+dirty" if dirty else "")


def _module_file(name: str) -> Path | None:
    """The source file of a cchlib module or package (None for anything else)."""
    if name != "cchlib" and not name.startswith("cchlib."):
        return None
    base = PACKAGE_ROOT.parent.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def imported_modules(name: str, path: Path) -> set[str]:
    """The cchlib modules a module imports anywhere in its source (top level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from cchlib import report`
    with_parents = {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2)}
    return {m for m in with_parents if _module_file(m) is not None}


def module_closure(name: str) -> list[str]:
    """``name`` and every cchlib module it imports, directly or through others, sorted."""
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        todo.extend(imported_modules(module, path) - seen)
    return sorted(seen)


@lru_cache(maxsize=None)
def code_version(module: str | None = None) -> str:
    """A hash of the cchlib source a computation runs.

    With ``module``, the files of that module and of every cchlib module it imports
    (:func:`module_closure`), so an edit elsewhere in the library (a docstring in
    ``select.py``, a new chapter) leaves its cached cells valid; without, all of cchlib.
    Imports are read from the source, so the hash cannot see code reached another way
    (there is none in cchlib: no module is imported by name at run time).
    """
    files = ([_module_file(m) for m in module_closure(module)] if module is not None
             else sorted(PACKAGE_ROOT.rglob("*.py")))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(PACKAGE_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------------------
# The machine and the libraries
# ---------------------------------------------------------------------------


def device_name(device) -> str:
    """A human-readable name of the torch device that ran the computation."""
    import torch  # not at the top: the store and the book runner read records without torch's import time

    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def package_version(package: str) -> str:
    """The installed version of a package, or "not installed"."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    """The requirements of ``dist`` that apply here, with ``extras`` of it asked for."""
    wanted = []
    for line in dist.requires or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
        if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
            wanted.append(requirement)
    return wanted


@lru_cache(maxsize=None)
def _distributions(root: str) -> tuple[tuple[str, str], ...]:
    extras = frozenset(metadata.distribution(root).metadata.get_all("Provides-Extra") or ())
    todo, seen, found = [(root, extras)], set(), {}
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform, or an extra nobody installed
        found[_canonical(dist.metadata["Name"])] = dist.version
        todo += [(_canonical(r.name), frozenset(r.extras)) for r in _requirements(dist, set(extras))]
    return tuple(sorted(found.items()))


def distributions(root: str = "cchlib") -> dict[str, str]:
    """``{name: version}`` of every installed distribution ``root`` needs, directly or through another.

    Read from the installed metadata (``importlib.metadata``), following each
    requirement's extras and markers; ``root``'s own extras (for cchlib: test, dask,
    latentmi) count where they are installed. Where cchlib is not installed (run from a source
    folder on ``PYTHONPATH``), every installed distribution.
    """
    try:
        metadata.distribution(root)
    except metadata.PackageNotFoundError:
        return dict(sorted((_canonical(d.metadata["Name"]), d.version) for d in metadata.distributions()))
    return dict(_distributions(root))


# ---------------------------------------------------------------------------
# The records
# ---------------------------------------------------------------------------


def run_record(device) -> dict:
    """What every record names: code (commit, source hash), device, host, Python, libraries."""
    return {
        "git_commit": git_commit(),
        "code_version": code_version(),
        "cchlib": __version__,
        "device": device_name(device),
        "host": platform.node(),
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "numpy": package_version("numpy"),
        "distributions": distributions(),
    }


def chapter_record(params_name: str, seeds, device, store: str | None = None, **extra) -> dict:
    """What produced a chapter's numbers: parameter set, seeds, code, device, libraries, time.

    ``store``: the result store the chapter's sweeps read (``store/<set>``), if any.
    ``extra``: the chapter's own entries (data, estimator, epochs, ...), as text.
    """
    run = run_record(device)
    record = {
        "parameter set": params_name,
        "seeds": ", ".join(str(s) for s in seeds),
        "device": run["device"],
        "cchlib": f"{__version__} (commit {run['git_commit']}, source {run['code_version']})",
        "python": run["python"],
        **{name: package_version(name) for name in SHOWN_LIBRARIES},
        "run at (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "scale": SCALES.get(params_name, "a parameter set of the user's own"),
    }
    if store:
        record["result store"] = (f"{Path(store).parent.name}/{Path(store).name}: stored sweep cells were read "
                                  "(computed earlier, each with its own provenance), missing ones computed and added")
    record.update({k: str(v) for k, v in extra.items()})
    record["distributions"] = run["distributions"]
    return record


def batch_record(batch: list[int], wall_s: float | None, device) -> dict:
    """Where and how a batch of stored cells was computed: :func:`run_record`, the seeds and wall time."""
    return {
        **run_record(device),
        "batch_seeds": list(batch),
        "batch_wall_s": None if wall_s is None else round(wall_s, 2),
        "finished_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
