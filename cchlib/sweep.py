"""Sweeps: (condition, seed) cells, their on-disk cache, and the executor that runs them.

A sweep is a list of conditions (dicts such as ``{"sigma12": 0.3}``) crossed with a
list of seeds. Each (condition, seed) *cell* is an independent unit of work whose rows
are cached on disk under a key made of everything that affects them: the cell function,
the condition, the seed, the chapter's settings and the version of cchlib's code. An
interrupted run therefore resumes where it stopped, and a changed setting or changed
code never reuses stale results.

For speed, the missing seeds of one condition are computed together by one call of the
cell function (which trains them as one batched model); the cache is still per cell.
A cell function must therefore give a seed the same result whichever seeds share its
batch. Executors receive *tasks* (one condition, its missing seeds) and report each
task's result as it completes: ``local`` runs them in this process, one after another;
``dask`` submits them to a ``dask.distributed`` cluster (a ``LocalCluster`` of
``workers`` processes, or an existing scheduler given by ``address`` or
``scheduler_file``). Only the calling process reads and writes the cache, so workers
need no shared disk; a task whose worker dies is rescheduled by Dask on another worker.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pandas as pd
from tqdm import tqdm

from cchlib.report import atomic_write_text

CellFunction = Callable[[dict, list, dict], dict]


class SweepError(RuntimeError):
    """Some cells failed; the others' results are cached and kept."""


@dataclass(frozen=True)
class Task:
    """One condition (the ``index``-th of the sweep) and its seeds still to compute."""

    index: int
    condition: dict = field(hash=False)
    seeds: tuple = ()


@lru_cache(maxsize=None)
def code_version() -> str:
    """A hash of cchlib's source code: any edit to the library invalidates the cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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
            "code": code_version(),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _cache_path(cache: Path, key: str) -> Path:
    return cache / key[:2] / f"{key}.json"


def _load(cache: Path | None, key: str):
    if cache is None:
        return None
    path = _cache_path(cache, key)
    return json.loads(path.read_text()) if path.exists() else None


def _store(cache: Path | None, key: str, rows: list[dict]) -> None:
    if cache is not None:
        atomic_write_text(_cache_path(cache, key), json.dumps(rows))


def _tasks(conditions: list[dict], seeds: list[int], done: dict, chunk: int) -> list[Task]:
    """The work left: each condition's missing seeds, in chunks of at most ``chunk``."""
    if chunk < 1:
        raise ValueError(f"seeds_per_task must be positive, got {chunk}")
    tasks = []
    for i, condition in enumerate(conditions):
        missing = [s for s in seeds if (i, s) not in done]
        for start in range(0, len(missing), chunk):
            tasks.append(Task(index=i, condition=condition, seeds=tuple(missing[start : start + chunk])))
    return tasks


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
    from dask.distributed import Client, LocalCluster

    if address or scheduler_file:
        client = Client(address, scheduler_file=scheduler_file)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    print(f"Dask cluster: {len(client.scheduler_info()['workers'])} workers, dashboard {client.dashboard_link}")
    return client


def _run_dask(fn: CellFunction, tasks: list[Task], settings: dict, client=None, **cluster_options):
    """Submit every task to a Dask cluster and yield (task, result or error) as they finish."""
    from dask.distributed import as_completed

    own_client = client is None
    client = client or dask_client(**cluster_options)
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
) -> pd.DataFrame:
    """Compute (or load from the cache) every (condition, seed) cell; return all rows.

    ``executor_options`` go to the executor: for ``dask``, ``workers``, ``address``,
    ``scheduler_file`` or an existing ``client``. ``seeds_per_task`` splits a condition's
    missing seeds into several tasks (more parallelism across workers, less batching);
    by default one task holds all of them.

    Rows come back ordered by condition, then seed, as listed. When some cells fail,
    the others are still cached, and a :class:`SweepError` names each failed cell and
    its error.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {sorted(EXECUTORS)}")
    seeds = [int(s) for s in seeds]
    if not conditions or not seeds:
        raise ValueError("a sweep needs at least one condition and one seed")
    cache = Path(cache) if cache is not None else None
    keys = {(i, s): cell_key(fn, c, s, settings) for i, c in enumerate(conditions) for s in seeds}
    done = {cell: rows for cell, key in keys.items() if (rows := _load(cache, key)) is not None}
    tasks = _tasks(conditions, seeds, done, seeds_per_task or len(seeds))
    failures = []
    bar = tqdm(total=len(keys), initial=len(done), desc=label, unit="cell", disable=not progress)
    start = time.monotonic()
    outcomes = EXECUTORS[executor](fn, tasks, settings, **(executor_options or {})) if tasks else []
    pending = len(tasks)
    for task, result in outcomes:
        pending -= 1
        i = task.index
        if isinstance(result, Exception):
            failures.append(f"{task.condition} seeds {list(task.seeds)}: {type(result).__name__}: {result}")
        else:
            for seed in task.seeds:
                _store(cache, keys[(i, seed)], result[seed])
                done[(i, seed)] = result[seed]
        bar.update(len(task.seeds))
        bar.set_postfix(tasks_left=pending, failed=len(failures), elapsed=f"{time.monotonic() - start:.0f}s")
    bar.close()
    if failures:
        raise SweepError(f"{len(failures)} sweep task(s) failed:\n  " + "\n  ".join(failures))
    rows = [row for cell in keys for row in done[cell]]
    return pd.DataFrame(rows)
