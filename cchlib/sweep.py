"""Sweeps: (condition, seed) cells, their on-disk cache, and the executor that runs them.

A sweep is a list of conditions (dicts such as ``{"sigma12": 0.3}``) crossed with a
list of seeds. Each (condition, seed) *cell* is an independent unit of work whose rows
are cached on disk under a key made of everything that affects them: the cell function,
the condition, the seed, the chapter's settings and the version of cchlib's code. An
interrupted run therefore resumes where it stopped, and a changed setting or changed
code never reuses stale results.

For speed, the missing seeds of one condition are computed together by one call of the
cell function (which trains them as one batched model); the cache is still per cell.
A cell function must therefore seed every generator per seed, so that a seed's result
does not depend on which seeds share its batch. It holds up to floating-point rounding,
not bit for bit: batched products of a different batch size may sum in another order,
so a seed trained alone and inside a batch differ in the last bits of float32 (see
:data:`BATCH_TOLERANCE`), and a neural MI estimate can amplify that to a few 1e-3 nats,
far below the spread between seeds. A seed's result is bit-identical for the same batch.

Each cell file is self-checking: it holds its key, a hash of the settings, its rows
and their SHA-256. A file that fails to parse or to check (empty, truncated, binary,
``[]``, another key, edited values, rows of the wrong shape) is reported with its path
in a warning, moved aside as ``<key>.json.bad-<time>`` and recomputed. Two runs sharing
a cache take per-cell locks (:class:`CellLocks`): a cell one run is computing is waited
for and read by the other, not computed twice.

Executors receive *tasks* (one condition, its missing seeds) and report each
task's result as it completes: ``local`` runs them in this process, one after another;
``dask`` submits them to a ``dask.distributed`` cluster (a ``LocalCluster`` of
``workers`` processes, or an existing scheduler given by ``address`` or
``scheduler_file``). Only the calling process reads and writes the cache, so workers
need no shared disk; a task whose worker dies is rescheduled by Dask on another worker.

A committed result store (:mod:`cchlib.resultstore`, named by ``$CCH_RESULT_STORE``)
comes before the cache: a cell it holds is read from it whatever the code version,
and a cell computed while it is set is written into it with its provenance.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import pandas as pd
from tqdm import tqdm

from cchlib.io import atomic_write_text
from cchlib.provenance import batch_record, code_version
from cchlib.resultstore import MissingCells, ResultStore, function_name

CellFunction = Callable[[dict, list, dict], dict]

# How far a seed's training results may move when other seeds share its batch (float32
# rounding of batched products; measured: relative 3e-7 on the synthetic chapter's MSEs).
# MI estimates built on those representations can move further (neural estimators
# amplify it: 0.0038 nats seen), still far below their spread between seeds.
BATCH_TOLERANCE = {"rtol": 1e-5}


class SweepError(RuntimeError):
    """Some cells failed; the others' results are cached and kept."""


@dataclass(frozen=True)
class Task:
    """One condition (the ``index``-th of the sweep) and its seeds still to compute."""

    index: int
    condition: dict = field(hash=False)
    seeds: tuple = ()


def cell_key(fn: CellFunction, condition: dict, seed: int, settings: dict) -> str:
    """The cache key of one cell."""
    fn_source = "" if fn.__module__.startswith("cchlib.") else inspect.getsource(fn)
    payload = json.dumps(
        {
            "fn": f"{fn.__module__}.{fn.__qualname__}",
            "fn_source": fn_source,
            "condition": condition,
            "seed": seed,
            "settings": settings,
            "code": code_version(fn.__module__ if fn.__module__.startswith("cchlib.") else None),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


CELL_FORMAT = 1


class BadCell(ValueError):
    """A cache file that is not a complete, unedited cell of this key."""


def settings_hash(settings: dict) -> str:
    """A short hash of a chapter's settings, stored in each cell for a self-check."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _rows_checksum(rows) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def _cache_path(cache: Path, key: str) -> Path:
    return cache / key[:2] / f"{key}.json"


def check_rows(rows) -> list[dict]:
    """Schema of one cell's rows: a non-empty list of flat dicts sharing the same keys."""
    if not isinstance(rows, list) or not rows:
        raise BadCell(f"its rows are {type(rows).__name__} {str(rows)[:40]!r}, not a non-empty list of rows")
    columns = None
    for row in rows:
        if not isinstance(row, dict) or not row:
            raise BadCell(f"a row is {str(row)[:40]!r}, not a dict of values")
        if any(isinstance(v, (dict, list)) for v in row.values()):
            raise BadCell(f"a row holds a nested value: {str(row)[:60]!r}")
        if columns is not None and set(row) != columns:
            raise BadCell(f"rows disagree on their columns: {sorted(columns)} vs {sorted(row)}")
        columns = set(row)
    return rows


def cell_record(key: str, settings: dict, rows: list[dict]) -> dict:
    """What a cache file holds: the key and settings hash, the rows and their checksum."""
    return {"format": CELL_FORMAT, "key": key, "settings": settings_hash(settings),
            "sha256": _rows_checksum(rows), "rows": rows}


def read_cell(path: Path, key: str, settings: dict) -> list[dict]:
    """The rows of one cell file, after checking it is whole and belongs to ``key``.

    Raises :class:`BadCell` saying what is wrong (unreadable, not JSON, another key or
    settings, rows edited after writing, rows not of the expected shape).
    """
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise BadCell(f"it is not a JSON file ({type(error).__name__}: {str(error)[:80]})") from error
    if not isinstance(record, dict) or record.get("format") != CELL_FORMAT:
        raise BadCell(f"it is not a cell record of format {CELL_FORMAT} (got {str(record)[:40]!r})")
    if record.get("key") != key:
        raise BadCell(f"it holds key {record.get('key')!r}, not {key!r}")
    if record.get("settings") != settings_hash(settings):
        raise BadCell("it was computed with other settings")
    rows = check_rows(record.get("rows"))
    if record.get("sha256") != _rows_checksum(rows):
        raise BadCell("its rows do not match their checksum (edited or damaged)")
    return rows


def _load(cache: Path | None, key: str, settings: dict):
    """A cell's cached rows, or None when absent; a bad file is reported and moved aside."""
    if cache is None:
        return None
    path = _cache_path(cache, key)
    if not path.exists():
        return None
    try:
        return read_cell(path, key, settings)
    except (BadCell, OSError) as error:
        aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
        path.replace(aside)
        warnings.warn(f"sweep cache: {path} is unusable ({error}); moved to {aside.name} and recomputing", stacklevel=3)
        return None


def _store(cache: Path | None, key: str, settings: dict, rows: list[dict]) -> None:
    if cache is not None:
        atomic_write_text(_cache_path(cache, key), json.dumps(cell_record(key, settings, check_rows(rows))))


class CellLocks:
    """Per-cell advisory locks (``<key>.lock`` beside the cell file), so two runs sharing
    a cache do not compute the same cell twice: a run takes the lock of each cell it
    computes and keeps it until the cell is stored; another run waits for that lock and
    then reads the cell (or computes it, if the first run died without storing it).
    The empty lock files stay in the cache. POSIX ``flock``; without a cache, no locks.
    """

    def __init__(self, cache: Path | None):
        self.cache = cache
        self.held: dict[str, object] = {}

    def _open(self, key: str):
        path = _cache_path(self.cache, key).with_suffix(".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a")

    def acquire(self, key: str, wait: bool) -> bool:
        """Take the lock of ``key``; without ``wait``, give up (False) when another holds it."""
        if self.cache is None or key in self.held:
            return True
        handle = self._open(key)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            return False
        self.held[key] = handle
        return True

    def release(self, key: str) -> None:
        handle = self.held.pop(key, None)
        if handle is not None:
            handle.close()  # closing the file releases its flock

    def release_all(self) -> None:
        for key in list(self.held):
            self.release(key)


def _tasks(conditions: list[dict], seeds: list[int], skip: set, chunk: int) -> list[Task]:
    """The work left: each condition's seeds not in ``skip``, in chunks of at most ``chunk``."""
    if chunk < 1:
        raise ValueError(f"seeds_per_task must be positive, got {chunk}")
    tasks = []
    for i, condition in enumerate(conditions):
        missing = [s for s in seeds if (i, s) not in skip]
        for start in range(0, len(missing), chunk):
            tasks.append(Task(index=i, condition=condition, seeds=tuple(missing[start : start + chunk])))
    return tasks


def _timed_call(fn: CellFunction, condition: dict, seeds: list, settings: dict) -> dict:
    """Run a cell function and time it (module level, so Dask can pickle it)."""
    start = time.monotonic()
    result = fn(condition, seeds, settings)
    return {"result": result, "seconds": time.monotonic() - start}


def _run_local(fn: CellFunction, tasks: list[Task], settings: dict, **options):
    """Run tasks one after another in this process, yielding (task, result or error)."""
    if options:
        raise ValueError(f"the local executor takes no options, got {sorted(options)}")
    for task in tasks:
        try:
            yield task, fn(task.condition, list(task.seeds), settings)
        except Exception as error:  # reported per task; the other tasks go on
            yield task, error


def dask_client(workers: int | None = None, address: str | None = None, scheduler_file: str | None = None):
    """A ``dask.distributed`` client: to a scheduler if one is named, else a new LocalCluster.

    The local cluster runs ``workers`` single-threaded worker processes (default: one
    per core). Its dashboard address is printed so a user can watch the sweep.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as error:
        raise ImportError("the dask executor needs dask.distributed, an optional extra of cchlib: "
                          "pip install -e '.[dask]' (make install includes it)") from error

    if address or scheduler_file:
        client = Client(address, scheduler_file=scheduler_file)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    print(f"Dask cluster: {len(client.scheduler_info()['workers'])} workers, dashboard {client.dashboard_link}")
    return client


def _run_dask(fn: CellFunction, tasks: list[Task], settings: dict, client=None, **cluster_options):
    """Submit every task to a Dask cluster and yield (task, result or error) as they finish."""
    own_client = client is None
    client = client or dask_client(**cluster_options)  # first: it says how to install dask when it is missing
    from dask.distributed import as_completed

    try:
        futures = {
            client.submit(fn, t.condition, list(t.seeds), settings, pure=False): t
            for t in tasks
        }
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as error:  # a failing cell, or a KilledWorker after retries
                yield futures[future], error
    finally:
        if own_client:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()


EXECUTORS = {"local": _run_local, "dask": _run_dask}


def run_sweep(
    fn: CellFunction,
    conditions: list[dict],
    seeds,
    settings: dict,
    *,
    cache: str | Path | None = None,
    executor: str = "local",
    executor_options: dict | None = None,
    seeds_per_task: int | None = None,
    label: str = "sweep",
    progress: bool = True,
    store: ResultStore | None = None,
) -> pd.DataFrame:
    """Compute (or load from the cache) every (condition, seed) cell; return all rows.

    ``executor_options`` go to the executor: for ``dask``, ``workers``, ``address``,
    ``scheduler_file`` or an existing ``client``. ``seeds_per_task`` splits a condition's
    missing seeds into several tasks (more parallelism across workers, less batching);
    by default one task holds all of them.

    Rows come back ordered by condition, then seed, as listed. When some cells fail,
    the others are still cached, and a :class:`SweepError` names each failed cell and
    its error.

    ``store`` (default: the one named by ``$CCH_RESULT_STORE``, if any) is read before
    the cache and receives every cell this run computes or takes from the cache; a
    store-only store raises :class:`~cchlib.resultstore.StoreError` listing the cells
    it lacks, before anything is computed.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {sorted(EXECUTORS)}")
    seeds = [int(s) for s in seeds]
    if not conditions or not seeds:
        raise ValueError("a sweep needs at least one condition and one seed")
    cache = Path(cache) if cache is not None else None
    keys = {(i, s): cell_key(fn, c, s, settings) for i, c in enumerate(conditions) for s in seeds}
    store = store if store is not None else ResultStore.from_environment()
    locks = CellLocks(cache)
    done = _from_store(store, fn, conditions, seeds, settings)
    bar = tqdm(total=len(keys), desc=label, unit="cell", disable=not progress)
    failures = []
    run = dict(fn=fn, conditions=conditions, seeds=seeds, settings=settings, cache=cache, keys=keys,
               done=done, locks=locks, failures=failures, failed=set(), bar=bar, executor=executor,
               executor_options=executor_options or {}, chunk=seeds_per_task or len(seeds), store=store)
    bar.update(len(done))
    try:
        busy = _from_cache(**run)
        _compute(skip=busy, **run)
        _wait_for_others(busy, **run)
        _compute(skip=set(), **run)  # cells the other run left undone (it died or failed)
    finally:
        locks.release_all()
        bar.close()
        if store is not None:
            store.compact(function_name(fn))
    if failures:
        raise SweepError(f"{len(failures)} sweep task(s) failed:\n  " + "\n  ".join(failures))
    rows = [row for cell in keys for row in done[cell]]
    return pd.DataFrame(rows)


def _from_cache(fn, conditions, settings, cache, keys, done, locks, bar, store, **_) -> set:
    """Take the cells the cache holds (and add them to the store); lock the others.

    Returns the cells another run holds the lock of (it computes them now).
    """
    busy = set()
    for cell, key in keys.items():
        if cell in done:
            continue
        rows = _load(cache, key, settings)
        if rows is None and not locks.acquire(key, wait=False):
            busy.add(cell)
            continue
        if rows is None:  # locked: re-read, another run may have just finished it
            rows = _load(cache, key, settings)
        if rows is not None:
            locks.release(key)
            done[cell] = rows
            _put(store, fn, conditions[cell[0]], cell[1], settings, rows, _batch_provenance(store, [cell[1]], None))
            bar.update(1)
    return busy


def _wait_for_others(busy: set, settings, cache, keys, done, locks, bar, **_) -> None:
    """Wait for the other runs computing ``busy`` cells, then take what they cached."""
    for cell in sorted(busy):
        locks.acquire(keys[cell], wait=True)
        if (rows := _load(cache, keys[cell], settings)) is not None:
            locks.release(keys[cell])
            done[cell] = rows
            bar.update(1)


def _from_store(store: ResultStore | None, fn, conditions, seeds, settings) -> dict:
    """The cells the store holds, by (condition index, seed); store-only: all or an error."""
    if store is None:
        return {}
    name = function_name(fn)
    found, missing = {}, []
    for i, condition in enumerate(conditions):
        for seed in seeds:
            rows = store.get(name, condition, seed, settings)
            if rows is None:
                missing.append(f"{condition} seed {seed}")
            else:
                found[(i, seed)] = rows
    if store.only and missing:
        raise MissingCells(f"the result store {store.root} lacks {len(missing)} of {len(conditions) * len(seeds)} "
                         f"cells of {name} (store-only run, nothing is computed): " + "; ".join(missing[:10])
                         + (" ..." if len(missing) > 10 else "")
                         + ". Run without --store-only to compute them, or with the settings they were stored with.")
    return found


def _batch_provenance(store: ResultStore | None, batch, seconds) -> dict | None:
    """The provenance of a batch of cells (None without a store): computed once per batch."""
    if store is None:
        return None
    from cchlib.device import default_device

    return batch_record(batch, seconds, default_device())


def _put(store: ResultStore | None, fn, condition, seed, settings, rows, provenance) -> None:
    """Write one cell into the store, when there is one."""
    if store is not None:
        store.put(function_name(fn), condition, seed, settings, rows, provenance)


def _compute(fn, conditions, seeds, settings, cache, keys, done, locks, failures, failed, bar,
             executor, executor_options, chunk, skip, store):
    """Run the tasks for every cell not yet done, failed or in ``skip``; store each result."""
    tasks = _tasks(conditions, seeds, set(done) | skip | failed, chunk)
    if not tasks:
        return
    start = time.monotonic()
    pending = len(tasks)
    for task, outcome in EXECUTORS[executor](partial(_timed_call, fn), tasks, settings, **executor_options):
        pending -= 1
        cells = [(task.index, seed) for seed in task.seeds]
        result = outcome if isinstance(outcome, Exception) else outcome["result"]
        if not isinstance(result, Exception):
            try:
                for seed in task.seeds:
                    check_rows(result[seed])
            except (BadCell, KeyError, TypeError) as error:
                result = ValueError(f"the cell function returned bad rows for seed {seed}: {error}")
        if isinstance(result, Exception):
            failed.update(cells)
            failures.append(f"{task.condition} seeds {list(task.seeds)}: {type(result).__name__}: {result}")
        else:
            provenance = _batch_provenance(store, task.seeds, outcome["seconds"])
            for cell in cells:
                _store(cache, keys[cell], settings, result[cell[1]])
                _put(store, fn, task.condition, cell[1], settings, result[cell[1]], provenance)
                locks.release(keys[cell])
                done[cell] = result[cell[1]]
        bar.update(len(cells))
        bar.set_postfix(tasks_left=pending, failed=len(failures), elapsed=f"{time.monotonic() - start:.0f}s")
