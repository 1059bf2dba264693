"""The result store under real kills and concurrent runs: nothing finished is lost or duplicated.

Each test runs sweeps in subprocesses (tests/store_worker.py) and kills them with SIGKILL,
as a power loss or an out-of-memory kill would, then checks what the next run finds.
"""

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cchlib.resultstore import ResultStore
from conftest import ROOT

FN = "store_worker.slow_cell"


def _start(store: Path, calls: Path, conditions, *extra) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    return subprocess.Popen([sys.executable, "-c", "import store_worker; store_worker.main()", str(store), str(calls),
                             ",".join(map(str, conditions)), *map(str, extra)], env=env, cwd=ROOT)


def _wait_for(predicate, timeout=60.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "the worker did not get there in time"
        time.sleep(0.02)


def _compacted_keys(store: Path) -> list[str]:
    text = gzip.decompress((store / f"{FN}.jsonl.gz").read_bytes()).decode()
    return [json.loads(line)["key"] for line in text.splitlines() if line.strip()]


def _stored_conditions(store: Path) -> set[int]:
    return {r["condition"]["a"] for _, r in ResultStore(store).records()}


def _plain_lines(store: Path) -> int:
    path = store / f"{FN}.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def test_a_killed_compute_keeps_every_finished_cell_and_the_rerun_computes_only_the_rest(tmp_path):
    store, calls = tmp_path / "store", tmp_path / "calls.txt"
    conditions = list(range(12))
    worker = _start(store, calls, conditions)
    _wait_for(lambda: _plain_lines(store) >= 6)  # three batches (conditions) finished
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    finished = _stored_conditions(store)
    assert 3 <= len(finished) < len(conditions)
    calls.unlink()
    assert _start(store, calls, conditions).wait(timeout=120) == 0
    recomputed = {int(line) for line in calls.read_text().split()}
    assert not recomputed & finished, "a cell finished before the kill was computed again"
    assert recomputed | finished == set(conditions)
    keys = _compacted_keys(store)
    assert len(keys) == 2 * len(conditions) == len(set(keys))  # every cell once
    assert not (store / f"{FN}.jsonl").exists()


def test_a_kill_during_compaction_loses_nothing_and_the_next_run_folds_it_once(tmp_path):
    store, calls, marker = tmp_path / "store", tmp_path / "calls.txt", tmp_path / "compacting"
    worker = _start(store, calls, [1, 2, 3], "--slow-compact", marker)
    _wait_for(marker.exists)  # the .gz is written, the .jsonl not yet removed
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert (store / f"{FN}.jsonl").exists() and (store / f"{FN}.jsonl.gz").exists()
    assert len(ResultStore(store).records()) == 6  # a cell in both files is read once
    calls.unlink()
    assert _start(store, calls, [1, 2, 3, 4]).wait(timeout=120) == 0
    assert calls.read_text().split() == ["4"]  # only the new condition was computed
    keys = _compacted_keys(store)
    assert len(keys) == 8 == len(set(keys)) and not (store / f"{FN}.jsonl").exists()


def test_two_runs_on_one_store_lose_and_duplicate_nothing(tmp_path):
    """The first run compacts while the second still appends (the race a lock must close); three rounds."""
    for round_ in range(3):
        store = tmp_path / f"store{round_}"
        first = _start(store, tmp_path / f"a{round_}.txt", list(range(0, 6)))
        second = _start(store, tmp_path / f"b{round_}.txt", list(range(3, 20)))  # overlapping conditions 3-5
        assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
        records = ResultStore(store).records()  # every file the next reader meets is valid
        assert {r["condition"]["a"] for _, r in records} == set(range(20)) and len(records) == 40
        ResultStore(store).compact(FN)  # whatever is left appended is folded in once
        keys = _compacted_keys(store)
        assert len(keys) == 40 == len(set(keys))
