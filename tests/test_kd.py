"""The distillation experiment core (cchlib.kd)."""

import numpy as np
import pytest

from cchlib import kd
from cchlib.data.paired import PairedDataset
from cchlib.models import StackedMLP


def _net(role, hidden=8):
    return lambda seeds, d_in, n_out: StackedMLP(seeds, d_in, [hidden], n_out, role=role)


def _classes(seed, n=160):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x1 = (y[:, None] + 0.3 * rng.standard_normal((n, 4))).astype(np.float32)
    x2 = (y[:, None] + 2.0 * rng.standard_normal((n, 3))).astype(np.float32)
    return PairedDataset({"x1": x1, "x2": x2}, y, np.arange(100), np.arange(100, n))


SCHEDULE = kd.Schedule(epochs=3, lr=1e-2, batch_size=32)
KSG = kd.MISpec("ksg", {})


def _run(seeds, variants=(kd.Variant(lam=0.5, temperature=2.0),), mi_spec=KSG, copies=1):
    return kd.run([kd.seed_data(_classes(s), "x1", "x2", copies) for s in seeds], seeds,
                  teacher_net=_net("teacher"), student_net=_net("student"), variants=list(variants),
                  schedule=SCHEDULE, mi_spec=mi_spec)


def test_rows_per_seed_and_variant_with_scores_and_mis():
    variants = [kd.Variant(lam=0.5, temperature=1.0), kd.Variant(lam=0.9, temperature=4.0)]
    out = _run([0, 1], variants)
    assert sorted(out) == [0, 1] and all(len(rows) == 2 for rows in out.values())
    row = out[0][1]
    assert row["variant"] == 1 and row["seed"] == 0
    for key in ("acc_kd", "acc_nokd", "f1_kd", "f1_nokd", "teacher_acc", "teacher_f1", "mi_ts", "mi_sl", "mi_tl"):
        assert np.isfinite(row[key]), key
    assert out[0][0]["acc_nokd"] == out[0][1]["acc_nokd"]  # one baseline per seed
    assert out[0][0]["acc_kd"] != out[0][1]["acc_kd"] or out[0][0]["f1_kd"] != out[0][1]["f1_kd"]


def test_a_seed_gives_the_same_rows_whichever_seeds_share_its_batch():
    assert _run([5])[5] == _run([2, 5])[5]


def test_regression_task_and_null_mis():
    rng = np.random.default_rng(0)
    n = 150
    y = rng.standard_normal(n).astype(np.float32)
    x1 = (y[:, None] + 0.1 * rng.standard_normal((n, 3))).astype(np.float32)
    x2 = (y[:, None] + rng.standard_normal((n, 2))).astype(np.float32)
    ds = PairedDataset({"a": x1, "b": x2}, y, np.arange(100), np.arange(100, n))
    out = kd.run([kd.seed_data(ds, "a", "b")], [0], teacher_net=_net("t"), student_net=_net("s"),
                 variants=[kd.Variant(lam=0.5)], schedule=SCHEDULE, mi_spec=kd.MISpec("ksg", {}, null=True),
                 task="regression")
    row = out[0][0]
    assert {"mse_kd", "mse_nokd", "teacher_mse", "mi_ts_null", "mi_sl_null"} <= set(row)
    assert row["mi_tl"] > row["mi_ts_null"]  # the teacher sees the target almost noise-free


def test_clear_errors():
    with pytest.raises(ValueError, match="teacher copy 1"):
        _run([0], [kd.Variant(teacher=1)])
    with pytest.raises(ValueError, match="task"):
        kd.run([kd.seed_data(_classes(0), "x1", "x2")], [0], teacher_net=_net("t"), student_net=_net("s"),
               variants=[kd.Variant()], schedule=SCHEDULE, mi_spec=KSG, task="ranking")
    with pytest.raises(ValueError, match="no modality 'x3'"):
        kd.seed_data(_classes(0), "x1", "x3")
