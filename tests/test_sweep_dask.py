"""The dask executor on a real 2-worker LocalCluster on loopback."""

import os
import sys

import cloudpickle
import pandas as pd
import pytest

from cchlib import sweep
from cchlib.experiments.synthetic import run_cell

distributed = pytest.importorskip("distributed")

SMOKE = dict(
    sigma13=0.9, sigma23=0.4, n_train=200, n_test=100, p=10, hidden=8, lams=[0.3], epochs=2,
    lr=0.01, batch_size=100, mi_method="ksg", mi_options={},
)


@pytest.fixture(scope="module")
def client():
    # Functions defined in this test module are shipped by value: workers cannot import it.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_dask_equals_local(client, tmp_path):
    conditions = [{"sigma12": 0.0}, {"sigma12": 0.6}]
    local = sweep.run_sweep(run_cell, conditions, [0, 1], SMOKE, cache=tmp_path / "a", progress=False)
    remote = sweep.run_sweep(
        run_cell, conditions, [0, 1], SMOKE, cache=tmp_path / "b", executor="dask",
        executor_options={"client": client}, seeds_per_task=1, progress=False,
    )
    assert list(local.columns) == list(remote.columns)
    assert not remote.duplicated(["sigma12", "lam", "seed"]).any()
    pd.testing.assert_frame_equal(local, remote, rtol=1e-4, atol=1e-5)


def test_dask_failing_cell_is_named_and_others_kept(client, tmp_path):
    conditions = [{"sigma12": 0.2}, {"sigma12": 0.95}]  # 0.95 gives a negative variance
    with pytest.raises(sweep.SweepError, match="'sigma12': 0.95.*negative noise variance"):
        sweep.run_sweep(run_cell, conditions, [0], SMOKE, cache=tmp_path, executor="dask",
                        executor_options={"client": client}, progress=False)
    kept = sweep.run_sweep(run_cell, conditions[:1], [0], SMOKE, cache=tmp_path, progress=False)
    assert len(kept) == 1


def die_once(condition, seeds, settings):
    """Kill the worker process the first time it is called; succeed when retried."""
    marker = settings["marker"]
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return {s: [{"seed": s, "value": condition["a"]}] for s in seeds}


def test_dask_survives_a_killed_worker(client, tmp_path):
    settings = {"marker": str(tmp_path / "died")}
    rows = sweep.run_sweep(die_once, [{"a": 1}, {"a": 2}], [0], settings, executor="dask",
                           executor_options={"client": client}, progress=False)
    assert os.path.exists(settings["marker"])
    assert sorted(rows.value) == [1, 2]
