"""A sweep run in a subprocess, for the store's kill and concurrency tests (tests/test_store_kill.py).

``python -c "import store_worker; store_worker.main()" STORE CALLS CONDITIONS [--slow-compact MARKER]``
computes ``slow_cell`` over ``CONDITIONS`` (a comma-separated list of integers) x seeds 0, 1
into the result store at ``STORE``, without a sweep cache (so only the store can resume
it), logging each call's condition to ``CALLS``. With ``--slow-compact``, the compaction
writes the compressed file, touches ``MARKER`` and waits: a kill then lands between
writing ``.jsonl.gz`` and removing ``.jsonl``.
"""

import sys
import time
from pathlib import Path

from cchlib import resultstore, sweep

CALLS = None


def slow_cell(condition, seeds, settings):
    with open(CALLS, "a") as log:
        log.write(f"{condition['a']}\n")
    time.sleep(settings["pause"])
    return {s: [{"value": condition["a"] * 10 + s, "a": condition["a"], "seed": s}] for s in seeds}


def main():
    global CALLS
    store, CALLS, conditions = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3].split(",")]
    if "--slow-compact" in sys.argv:
        marker = Path(sys.argv[sys.argv.index("--slow-compact") + 1])
        write = resultstore.atomic_write_bytes

        def slow_write(path, data):
            out = write(path, data)
            marker.touch()
            time.sleep(60)
            return out

        resultstore.atomic_write_bytes = slow_write
    sweep.run_sweep(slow_cell, [{"a": a} for a in conditions], [0, 1], {"pause": 0.15}, cache=None,
                    progress=False, store=resultstore.ResultStore(Path(store)))
