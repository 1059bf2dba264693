"""The committed result store: the sweep cells of a parameter set, kept in the repository.

The sweep cache (:mod:`cchlib.sweep`) lives on one machine and is keyed by the code
version, so any edit to cchlib recomputes everything. The *store* is for results that
cost hours (the ``paper`` set, often on a GPU) and must reach readers who cannot
recompute them: it is committed under ``store/<params>/``, and a cell's key is *what*
was computed (the cell function's name, the condition, the seed and the settings), not
the code that computed it. A code edit that does not change a cell's numbers therefore
does not orphan it; :func:`verify` recomputes a random sample of stored cells to find
any that no longer reproduce.

Layout: ``store/<params>/<function>.jsonl.gz``, one JSON line per (condition, seed)
cell (appended to ``<function>.jsonl`` while a run goes, compressed when its sweep
ends), holding the function, condition, seed and settings (so the cell can be
recomputed), the rows with their SHA-256, and the provenance of the run that computed
it: code version (git commit and cchlib source hash), device, library versions, the
seeds computed in the same batch, the wall time of that batch and when it finished.
Never model weights.

A sweep uses the store named by ``$CCH_RESULT_STORE`` (the book runner sets it for the
``paper`` set): stored cells are read from it, missing cells are computed and written
into it. With ``$CCH_STORE_ONLY=1`` a missing cell is an error instead: the way to
render a stored chapter with the guarantee that nothing is trained.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import importlib
import json
import math
import os
import random
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cchlib.io import atomic_write_bytes

STORE_FORMAT = 1
STORE_ENV = "CCH_RESULT_STORE"
STORE_ONLY_ENV = "CCH_STORE_ONLY"
# How far a recomputed cell may move and still count as reproduced. Recomputing the
# same batch of seeds on the same kind of device gives the same numbers up to float
# rounding; neural MI estimates amplify rounding to a few 1e-3 nats (see
# sweep.BATCH_TOLERANCE), so the default tolerance is set above that and far below
# the spread between seeds.
VERIFY_TOLERANCE = {"rtol": 1e-3, "atol": 1e-2}


class StoreError(RuntimeError):
    """The store is damaged, or a store-only run met a cell the store does not hold."""


class MissingCells(StoreError):
    """A store-only run met cells the store does not hold (the book may then fall back)."""


def store_key(fn_name: str, condition: dict, seed: int, settings: dict) -> str:
    """The key of a stored cell: what was computed, without the code version."""
    payload = json.dumps({"fn": fn_name, "condition": condition, "seed": seed, "settings": settings},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def function_name(fn) -> str:
    """The importable name of a cell function, e.g. ``cchlib.experiments.synthetic.run_cell``."""
    return f"{fn.__module__}.{fn.__qualname__}"


def rows_checksum(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ResultStore:
    """A folder of stored cells (``store/<params>``); ``only`` forbids computing missing ones.

    Per cell function, cells are appended as JSON lines to ``<function>.jsonl`` as they
    finish, and :meth:`compact` (run at the end of every sweep) folds them into the
    compressed ``<function>.jsonl.gz`` that is committed. A line is complete only with
    its newline: a run killed while writing leaves a torn last line, which readers
    ignore (with a warning) and the next append cuts off. Every complete line is
    checked when read (:func:`parse_record`); a cell in both files is read once.
    """

    root: Path
    only: bool = False
    _cells: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # fn -> {key: record}

    @classmethod
    def from_environment(cls) -> "ResultStore | None":
        """The store named by ``$CCH_RESULT_STORE``, or None when it is unset."""
        root = os.environ.get(STORE_ENV)
        if not root:
            return None
        return cls(Path(root), only=os.environ.get(STORE_ONLY_ENV, "") not in ("", "0"))

    def path(self, fn_name: str, compressed: bool = False) -> Path:
        """The file of a cell function's cells: the committed ``.jsonl.gz``, or the ``.jsonl`` being appended."""
        name = fn_name.replace("<", "").replace(">", "")
        return self.root / f"{name}.jsonl{'.gz' if compressed else ''}"

    def cells(self, fn_name: str) -> dict[str, dict]:
        """A cell function's stored cells by key (read once, then kept up to date by :meth:`put`)."""
        if fn_name not in self._cells:
            found = {}
            for path in (self.path(fn_name, compressed=True), self.path(fn_name)):
                if path.exists():
                    found.update({r["key"]: r for r in read_records(path) if r["key"] not in found})
            self._cells[fn_name] = found
        return self._cells[fn_name]

    def get(self, fn_name: str, condition: dict, seed: int, settings: dict) -> list[dict] | None:
        """The stored rows of a cell, or None; a damaged store file is a :class:`StoreError`."""
        record = self.cells(fn_name).get(store_key(fn_name, condition, seed, settings))
        return None if record is None else record["rows"]

    def put(self, fn_name: str, condition: dict, seed: int, settings: dict, rows: list[dict],
            provenance: dict) -> Path:
        """Append one cell as one line to ``<function>.jsonl`` (flushed to disk before returning)."""
        key = store_key(fn_name, condition, seed, settings)
        record = json.loads(json.dumps(
            {"format": STORE_FORMAT, "key": key, "fn": fn_name, "condition": condition, "seed": seed,
             "settings": settings, "sha256": rows_checksum(rows), "rows": rows, "provenance": provenance},
            default=str))
        path = self.path(fn_name)
        append_line(path, json.dumps(record))  # keys in their order: a table's columns follow its rows' keys
        self.cells(fn_name)[key] = record
        return path

    def compact(self, fn_name: str) -> None:
        """Fold ``<function>.jsonl`` into ``<function>.jsonl.gz`` (written atomically), then remove it.

        Runs under the same lock as :func:`append_line`, so a line another run appends is
        either read here or written to a fresh ``.jsonl`` after the old one is removed,
        never to a removed file. Killed between the two steps, the cells are in both
        files; readers take each once, and the next compaction folds them again.
        """
        plain = self.path(fn_name)
        if not plain.exists():
            return
        with locked_file(plain) as handle:
            if handle is None:  # another run compacted it meanwhile
                return
            self._cells.pop(fn_name, None)
            records = self.cells(fn_name).values()
            text = "".join(json.dumps(r) + "\n" for r in records)
            atomic_write_bytes(self.path(fn_name, compressed=True), gzip.compress(text.encode("utf-8"), mtime=0))
            plain.unlink()

    def records(self) -> list[tuple[Path, dict]]:
        """Every stored cell, checked, as (file, record); a cell in both files of its function once."""
        names = sorted({p.name.split(".jsonl")[0] for p in self.root.glob("*.jsonl*")})
        return [(self.path(name, compressed=self.path(name, compressed=True).exists()), record)
                for name in names for record in self.cells(name).values()]


@contextmanager
def locked_file(path: Path, create: bool = False):
    """Open ``path`` for appending under an exclusive ``flock``; yield the handle (None if it is gone).

    A run that waited for the lock while another removed the file (a compaction) would
    hold a lock on a file no longer in the folder: the handle is checked against the
    path after locking, and the file is reopened (``create``) or None is yielded.
    """
    while True:
        try:
            handle = open(path, "a+b") if create else open(path, "r+b")
        except FileNotFoundError:
            yield None
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(handle.fileno()).st_ino:
                yield handle
                return
            if not create:
                yield None
                return


def append_line(path: Path, line: str) -> None:
    """Append a line under an exclusive lock, first cutting off a torn last line if there is one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked_file(path, create=True) as handle:
        end = handle.seek(0, os.SEEK_END)
        if end:
            handle.seek(end - 1)
            if handle.read(1) != b"\n":  # a run died mid-line: keep only the complete lines
                handle.seek(0)
                handle.truncate(handle.read().rfind(b"\n") + 1)
                handle.seek(0, os.SEEK_END)
        handle.write(line.encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


REQUIRED = {"format", "key", "fn", "condition", "seed", "settings", "sha256", "rows", "provenance"}
REQUIRED_PROVENANCE = {"git_commit", "code_version", "device", "torch", "numpy", "batch_seeds", "batch_wall_s",
                       "finished_utc"}
REPAIR = "restore the file from git (git checkout -- <file>), or delete the line to recompute that cell"


def read_records(path: Path) -> list[dict]:
    """The cells of one store file, each checked by :func:`parse_record`; a torn last line is skipped."""
    try:
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
    except (UnicodeDecodeError, OSError, EOFError) as error:
        raise StoreError(f"{path} is not readable {'gzip ' if path.suffix == '.gz' else ''}UTF-8 text "
                         f"({type(error).__name__}: {error}); {REPAIR}") from error
    lines = text.split("\n")
    if lines[-1].strip():
        warnings.warn(f"{path}: the last line is incomplete (a run stopped while writing it); ignored, and cut "
                      "off at the next write", stacklevel=2)
    return [parse_record(line, f"{path}:{number}") for number, line in enumerate(lines[:-1], 1) if line.strip()]


def parse_record(line: str, where: str) -> dict:
    """One stored cell, after checking its format, fields, key and rows' checksum."""
    try:
        record = json.loads(line)
    except ValueError as error:
        raise StoreError(f"{where} is not a JSON record ({str(error)[:80]}); {REPAIR}") from error
    problems = []
    if not isinstance(record, dict):
        problems.append("it is not a JSON object")
    elif record.get("format") != STORE_FORMAT:
        problems.append(f"format {record.get('format')!r}, expected {STORE_FORMAT}")
    elif missing := REQUIRED - set(record):
        problems.append(f"missing fields {sorted(missing)}")
    elif missing := REQUIRED_PROVENANCE - set(record["provenance"]):
        problems.append(f"provenance lacks {sorted(missing)}")
    elif not isinstance(record["rows"], list) or not record["rows"]:
        problems.append("it holds no rows")
    elif rows_checksum(record["rows"]) != record["sha256"]:
        problems.append("its rows do not match their checksum (edited or damaged)")
    elif record["key"] != store_key(record["fn"], record["condition"], record["seed"], record["settings"]):
        problems.append("its key does not match its function, condition, seed and settings (edited)")
    if problems:
        raise StoreError(f"{where} is not a valid stored cell: {'; '.join(problems)}; {REPAIR}")
    return record


def import_function(name: str):
    """The cell function named ``module.qualname`` (only module-level functions can be re-run)."""
    module_name, _, attribute = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise StoreError(f"cannot import the cell function {name!r} to recompute it: {error}") from error


WALL_CLOCK_COLUMNS = ("seconds",)  # timings a cell measures (cchlib.mi.suite): what a rerun cannot reproduce


def compare_rows(stored: list[dict], fresh: list[dict], rtol: float, atol: float) -> tuple[bool, float, str]:
    """Whether two cells' rows agree: same columns and labels, numbers within tolerance.

    The wall-clock columns (:data:`WALL_CLOCK_COLUMNS`) must be present in both but are
    not compared: a timing depends on the machine and its load, not on the code.
    Returns (agrees, the largest absolute difference, what differed first).
    """
    if len(stored) != len(fresh):
        return False, math.inf, f"{len(stored)} stored rows, {len(fresh)} recomputed"
    worst, first = 0.0, ""
    for a, b in zip(stored, fresh):
        if set(a) != set(b):
            return False, math.inf, f"columns differ: {sorted(set(a) ^ set(b))}"
        for column, x in a.items():
            if column in WALL_CLOCK_COLUMNS:
                continue
            y = b[column]
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
                if math.isnan(x) and math.isnan(y):
                    continue
                gap = abs(x - y)
                worst = max(worst, gap if not math.isnan(gap) else math.inf)
                if not gap <= atol + rtol * abs(x) and not first:
                    first = f"{column}: stored {x:.6g}, recomputed {y:.6g}"
            elif x != y and not first:
                first = f"{column}: stored {x!r}, recomputed {y!r}"
    return not first, worst, first


def _batch_of(record: dict) -> tuple:
    """What one retraining computes: the function, condition, settings and seeds of a stored cell's batch."""
    return (record["fn"], json.dumps(record["condition"], sort_keys=True), json.dumps(record["settings"], sort_keys=True),
            tuple(record["provenance"]["batch_seeds"]))


def verify(store: ResultStore, sample: int | None = 3, seed: int = 0, rtol: float = VERIFY_TOLERANCE["rtol"],
           atol: float = VERIFY_TOLERANCE["atol"], functions: list[str] | None = None,
           progress=print) -> pd.DataFrame:
    """Recompute stored cells, one retraining per batch, and compare them with what is stored.

    ``sample`` cells are drawn from *each* cell function (so that every code path is
    checked, not mostly the function with the most cells), or from those whose name
    contains one of ``functions``; ``sample=None`` takes every stored cell of them.
    The sampled cells are grouped by the batch that computed them (function, condition,
    settings and the batch's seeds, so batched training sums in the same order), and
    each batch is retrained once on this machine's device: every sampled cell of it is
    compared, and so are the batch's other stored cells, which come for free
    (``sampled`` False in the report). Returns one row per compared cell: the function,
    condition, seed, whether it was sampled, whether it reproduced, the largest
    absolute difference, what differed, and the seconds its batch took.
    """
    by_function: dict[str, list] = {}
    for path, record in store.records():
        if not functions or any(part in record["fn"] for part in functions):
            by_function.setdefault(record["fn"], []).append((path, record))
    if not by_function:
        raise StoreError(f"the store {store.root} holds no cells to verify"
                         + (f" of functions matching {functions}" if functions else ""))
    rng = random.Random(seed)
    chosen = [pick for name in sorted(by_function)
              for pick in (by_function[name] if sample is None
                           else rng.sample(by_function[name], min(sample, len(by_function[name]))))]
    batches: dict[tuple, set] = {}
    for _, record in chosen:
        batches.setdefault(_batch_of(record), set()).add(record["seed"])
    members = {}  # every stored cell of each chosen batch, by batch
    for name in by_function:
        for path, record in by_function[name]:
            if _batch_of(record) in batches:
                members.setdefault(_batch_of(record), []).append((path, record))
    expected = {batch: members[batch][0][1]["provenance"].get("batch_wall_s") or 0.0 for batch in batches}
    results = []
    for number, (batch, sampled) in enumerate(batches.items(), 1):
        left = sum(expected[b] for b in list(batches)[number - 1:])
        fn_name, condition, _, seeds = batch
        progress(f"[batch {number}/{len(batches)}] retraining {fn_name} {condition} seeds {list(seeds)} "
                 f"(about {left / 60:.1f} min left, from the stored batch times)")
        start = time.monotonic()
        try:
            record = members[batch][0][1]
            fresh = import_function(fn_name)(record["condition"], list(seeds), record["settings"])
            error = None
        except Exception as failure:  # reported per cell; the other batches are still checked
            fresh, error = None, f"recomputation failed: {type(failure).__name__}: {failure}"
        seconds = round(time.monotonic() - start, 1)
        for path, record in sorted(members[batch], key=lambda item: item[1]["seed"]):
            if error is None:
                fresh_rows = json.loads(json.dumps(fresh[record["seed"]], default=str))
                agrees, worst, what = compare_rows(record["rows"], fresh_rows, rtol, atol)
            else:
                agrees, worst, what = False, math.nan, error
            results.append({"fn": fn_name, "condition": condition, "seed": record["seed"],
                            "sampled": record["seed"] in sampled, "reproduced": agrees, "max_abs_difference": worst,
                            "first_difference": what, "batch_seconds": seconds,
                            "stored_on": record["provenance"]["device"], "file": path.name})
    return pd.DataFrame(results)
