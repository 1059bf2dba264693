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
    with pytest.raises(ValueError, match="teacher input 1"):
        _run([0], [kd.Variant(teacher=1)])
    with pytest.raises(ValueError, match="task"):
        kd.run([kd.seed_data(_classes(0), "x1", "x2")], [0], teacher_net=_net("t"), student_net=_net("s"),
               variants=[kd.Variant()], schedule=SCHEDULE, mi_spec=KSG, task="ranking")
    with pytest.raises(ValueError, match="no modality 'x3'"):
        kd.seed_data(_classes(0), "x1", "x3")


def test_kd_loss_by_temperature_group_matches_per_copy_losses():
    import torch

    from cchlib.distill import classification_kd_loss

    torch.manual_seed(0)
    temps = [1.0, 1.0, 3.0, 1.0, 3.0]
    lam = torch.tensor([0.0, 0.5, 0.5, 0.0, 0.5])
    out, teacher, y = torch.randn(5, 7, 10), torch.randn(5, 7, 10), torch.randint(0, 10, (5, 7))
    got = kd._kd_loss("classification", lam, temps)(out, {"y": y, "teacher": teacher})
    want = torch.stack([classification_kd_loss(out[i], y[i], teacher[i], lam[i], temps[i]) for i in range(5)])
    assert torch.allclose(got, want, atol=1e-6)


def test_frozen_teacher_views_and_two_estimators():
    d = kd.seed_data(_classes(0), "x1", "x2")
    noisy = d.teacher_x[0] + np.random.default_rng(1).standard_normal(d.teacher_x[0].shape).astype(np.float32) * 3
    d.teacher_views, d.mi_rows = [d.teacher_x[0], noisy], d.test[:50]
    specs = {"": KSG, "_alt": kd.MISpec("ksg", {"k": 5}, samples=40)}
    rows = kd.run([d], [0], teacher_net=_net("teacher"), student_net=_net("student"),
                  variants=[kd.Variant(teacher=0), kd.Variant(teacher=1)], schedule=SCHEDULE, mi_spec=specs)[0]
    clean, blurred = rows
    assert clean["teacher_acc"] == clean["teacher_acc_view"] == blurred["teacher_acc"]  # view 0 = own inputs
    assert blurred["teacher_acc_view"] < clean["teacher_acc_view"]
    assert clean["mi_tl"] == blurred["mi_tl"] and clean["mi_ts"] != blurred["mi_ts"]  # I(H_T; Y) on clean inputs
    assert {"mi_ts_alt", "mi_sl_alt", "mi_tl_alt"} <= set(clean) and clean["mi_sl_alt"] != clean["mi_sl"]
    d.teacher_x = [d.teacher_x[0]] * 2
    with pytest.raises(ValueError, match="teacher_views need one teacher copy"):
        kd.run([d], [0], teacher_net=_net("teacher"), student_net=_net("student"), variants=[kd.Variant()],
               schedule=SCHEDULE, mi_spec=KSG)


def test_run_pairs_every_modality_teaches_the_others():
    ds = _classes(0)
    data = {m: kd.SeedData([], ds.modalities[m], ds.labels, ds.train_idx, ds.test_idx) for m in ("x1", "x2")}
    nets = {m: _net(f"pairs:{m}") for m in data}
    pairs = [("x1", "x2"), ("x2", "x1")]
    result = kd.run_pairs(data, nets, [0, 1], pairs=pairs, schedule=SCHEDULE, mi_spec=kd.MISpec("ksg", {}, repeats=2),
                          distil=kd.Variant(lam=0.5, temperature=2.0))
    a, b = result.rows[1]
    assert (a["teacher"], a["student"]) == ("x1", "x2") and a["mi_ts"] == b["mi_ts"]  # one estimate per pair
    assert a["mi_tl"] == b["mi_sl"] and a["acc_nokd"] == b["teacher_acc"] == result.scores["x2"]["acc"][1]
    assert {"acc_kd", "f1_kd", "mi_ts_se"} <= set(a) and a["mi_ts_se"] >= 0
    alone = kd.run_pairs(data, nets, [1], pairs=pairs[:1], schedule=SCHEDULE, mi_spec=KSG, distil=kd.Variant())
    assert alone.rows[1][0]["acc_nokd"] == a["acc_nokd"]  # a seed's baseline does not depend on its batch-mates
    with pytest.raises(ValueError, match="two different modalities"):
        kd.run_pairs(data, nets, [0], pairs=[("x1", "x1")], schedule=SCHEDULE, mi_spec=KSG)


def _fusion(seeds, lam=0.8):
    from cchlib.models import StackedFusionNet

    return kd.run_fusion([kd.seed_data(_classes(s), "x1", "x2") for s in seeds], seeds,
                         net=lambda seeds, d1, d2, k: StackedFusionNet(seeds, d1, d2, k, n_enc=6),
                         lam=lam, temperature=2.0, schedule=SCHEDULE)


def test_run_fusion_trains_fusion_and_fusion_kd_per_seed():
    out = _fusion([0, 3])
    assert sorted(out) == [0, 3] and [r["method"] for r in out[3]] == ["fusion", "fusion_kd"]
    for row in out[3]:
        assert {"acc", "auc", "f1_macro", "f1_weighted"} <= set(row) and 0 <= row["acc"] <= 1
    assert out[3] == _fusion([3])[3]  # a seed's rows do not depend on its batch-mates
    # lam = 0 makes Fusion+KD the same objective as direct fusion: the two copies agree
    plain = _fusion([3], lam=0.0)[3]
    assert {k: v for k, v in plain[0].items() if k != "method"} == {k: v for k, v in plain[1].items() if k != "method"}
    assert out[3][0] == plain[0]  # the direct-fusion copy does not see lam


def test_rows_are_checked_against_the_declared_schema():
    good = {0: [{"seed": 0, "variant": 0, "mse_kd": 0.5, "mse_nokd": 0.6, "teacher_mse": 0.2, "mi_ts": 1.0,
                 "mi_sl": 0.4, "mi_tl": 0.9}]}
    assert kd.check_rows(good, "run", "regression") is good
    with pytest.raises(ValueError, match=r"run: a row of seed 0 lacks \['mi_tl'\]"):
        kd.check_rows({0: [{k: v for k, v in good[0][0].items() if k != "mi_tl"}]}, "run", "regression")
    with pytest.raises(ValueError, match="are not numbers"):
        kd.check_rows({0: [{**good[0][0], "mi_ts": None}]}, "run", "regression")
    with pytest.raises(ValueError, match=r"lacks \['acc_kd', 'acc_nokd'"):  # a classification row needs acc and f1
        kd.check_rows(good, "run", "classification")


def test_the_criteria_gaps_and_labels_follow_the_registered_estimators():
    from cchlib import criteria, mi

    assert set(mi.NAMES) == set(mi.METHODS)
    assert criteria.GAPS == ("mi_gap", *(f"gap_{m}" for m in mi.METHODS))
    assert all(gap in criteria.LABELS and gap in criteria.CANDIDATES for gap in criteria.GAPS)
