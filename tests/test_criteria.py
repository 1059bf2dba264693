"""Candidate criteria of the distillation gain (cchlib.criteria): known answers and the comparison."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.stats import ortho_group

from cchlib import criteria, kd, stats
from test_kd import _classes, _net


# ---------------------------------------------------------------------------
# Candidates with known answers
# ---------------------------------------------------------------------------


def test_cka_of_a_representation_with_itself_is_one_and_invariant():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((200, 6))
    assert criteria.linear_cka(h, h) == pytest.approx(1.0)
    q = ortho_group.rvs(6, random_state=1)
    assert criteria.linear_cka(h, 3.5 * h @ q) == pytest.approx(1.0)
    other = rng.standard_normal((200, 4))
    assert criteria.linear_cka(h @ q, other) == pytest.approx(criteria.linear_cka(h, 2 * other))
    assert criteria.linear_cka(h, other) < 0.2  # independent: near 0 (positive bias ~ d/n)


def test_cka_errors_and_constant_input():
    with pytest.raises(ValueError, match="same rows"):
        criteria.linear_cka(np.ones((5, 2)), np.ones((4, 2)))
    assert np.isnan(criteria.linear_cka(np.ones((5, 2)), np.arange(10.0).reshape(5, 2)))


def test_probe_on_independent_data_is_near_zero_and_on_dependent_data_high():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((600, 5))
    independent = rng.standard_normal((600, 1))
    assert abs(criteria.probe_score(h, independent, "regression", seed=0)) < 0.05
    linear = h @ np.arange(1.0, 6.0)[:, None]
    assert criteria.probe_score(h, linear, "regression", seed=0) > 0.99
    classes = rng.integers(0, 2, 600)
    assert abs(criteria.probe_score(h, classes, "classification", seed=0) - 0.5) < 0.1  # chance
    assert criteria.probe_score(h, (h[:, 0] > 0).astype(int), "classification", seed=0) > 0.95


def test_probe_with_one_class_and_bad_task():
    h = np.random.default_rng(0).standard_normal((20, 2))
    assert criteria.probe_score(h, np.zeros(20, int), "classification") == 1.0
    with pytest.raises(ValueError, match="task"):
        criteria.probe_score(h, np.zeros(20), "ranking")


def test_agreement_of_identical_predictions_is_one():
    logits = np.random.default_rng(0).standard_normal((50, 3))
    assert criteria.agreement(logits, logits, "classification") == 1.0
    assert criteria.agreement(logits, -logits, "classification") < 0.5
    out = np.random.default_rng(1).standard_normal((50, 1))
    assert criteria.agreement(out, out, "regression") == pytest.approx(1.0)
    assert criteria.agreement(out, 2 * out + 1, "regression") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        criteria.agreement(out, logits, "regression")


def test_teacher_score_is_higher_for_better():
    assert criteria.teacher_score({"teacher_acc": 0.8, "teacher_f1": 0.7}) == 0.8
    assert criteria.teacher_score({"teacher_mse": 0.2}) == -0.2
    assert criteria.teacher_score({"teacher_acc": 0.9, "teacher_acc_view": 0.6}) == 0.6
    with pytest.raises(ValueError, match="teacher score"):
        criteria.teacher_score({})


# ---------------------------------------------------------------------------
# The diagnostics step of kd.run
# ---------------------------------------------------------------------------


def test_kd_run_rows_carry_the_candidates():
    variants = [kd.Variant(lam=0.5, temperature=2.0), kd.Variant(lam=0.9, temperature=2.0)]
    out = kd.run([kd.seed_data(_classes(s), "x1", "x2") for s in (0, 1)], [0, 1], teacher_net=_net("t"),
                 student_net=_net("s"), variants=variants, schedule=kd.Schedule(epochs=3, lr=1e-2, batch_size=32),
                 mi_spec=kd.MISpec("ksg", {}))
    row = out[1][0]
    new = ("crit_cmi", "crit_cmi_knn", "crit_soft_info", "crit_headroom")
    for key in ("crit_cka", "crit_probe", "crit_agreement", "crit_teacher_score", "gap_ksg", *new):
        assert np.isfinite(row[key]), key
    assert 0 <= row["crit_cka"] <= 1 and 0 <= row["crit_probe"] <= 1 and 0 <= row["crit_agreement"] <= 1
    assert row["crit_headroom"] == pytest.approx(1 - row["acc_nokd"])  # MI rows are the test rows here
    assert row["gap_ksg"] == row["mi_ts"] - row["mi_sl"]  # the chapter's own estimator: copied
    assert row["crit_teacher_score"] == row["teacher_acc"]
    assert {k: v for k, v in out[1][1].items() if k.startswith("crit_")} == {
        k: v for k, v in row.items() if k.startswith("crit_")}  # one teacher: same candidates
    assert criteria.columns_of(row).keys() == {"crit_cka", "crit_probe", "crit_agreement", "crit_teacher_score",
                                               "gap_ksg", *new}


# ---------------------------------------------------------------------------
# Per-condition rows and the comparison
# ---------------------------------------------------------------------------


def test_criteria_rows_summarise_seeds_with_the_verdict():
    per_seed = pd.DataFrame({
        "cond": ["a"] * 3 + ["b"] * 3, "seed": [0, 1, 2] * 2,
        "kd_gain": [0.10, 0.11, 0.12, -0.01, 0.01, 0.0], "mi_ts": [1.0] * 6, "mi_sl": [0.5] * 6,
        "crit_cka": [0.2, 0.4, 0.6, 0.1, 0.1, 0.1],
    })
    rows = criteria.criteria_rows(per_seed, "cond", "toy", estimator="ksg")
    assert list(rows.condition) == ["cond=a", "cond=b"]
    assert rows.crit_cka.tolist() == pytest.approx([0.4, 0.1])
    assert rows.kd_gain_se.iloc[0] == pytest.approx(0.01 / np.sqrt(3))
    assert rows.n_seeds.tolist() == [3, 3]
    assert rows.gain_resolved.tolist() == [True, False]
    assert set(rows.verdict) <= {"agrees", "disagrees", "unresolved"}
    with pytest.raises(ValueError, match="kd_gain"):
        criteria.criteria_rows(per_seed.drop(columns="kd_gain"), "cond", "toy")


FIXTURE = pd.DataFrame({
    "chapter": ["c1"] * 4 + ["c2"] * 4,
    "condition": list("abcdefgh"),
    "kd_gain": [0.3, 0.1, -0.2, -0.4, 0.5, -0.1, 0.2, -0.3],
    "mi_gap": [1.0, -0.5, 0.2, -1.0, 0.4, 0.3, -0.2, -0.6],
    "crit_cka": [0.9, 0.7, 0.5, 0.1, 0.8, 0.2, 0.6, 0.4],
})


def test_pooled_statistics_by_hand():
    out = criteria.compare(FIXTURE, calibrate_on="c1", n_boot=200, seed=0)
    assert list(out.columns) == criteria.RESULT_COLUMNS
    gap_all = out[(out.candidate == "mi_gap") & (out.chapter == "all")].iloc[0]
    # signs (gap > 0, gain > 0): TT FT TF FF TT TF FT FF -> 4 of 8 right
    assert gap_all.sign_accuracy == pytest.approx(4 / 8)
    assert gap_all.n_conditions == 8
    assert gap_all.spearman == pytest.approx(sps.spearmanr(FIXTURE.mi_gap, FIXTURE.kd_gain).statistic)
    # c1: gains rank 4,3,2,1 and cka ranks 4,3,2,1 -> rho 1; best threshold between 0.5 and 0.7 = 0.6
    cka_c1 = out[(out.candidate == "crit_cka") & (out.chapter == "c1")].iloc[0]
    assert cka_c1.spearman == pytest.approx(1.0) and cka_c1.sign_accuracy == 1.0
    # the threshold 0.6 applied unchanged to c2: distil at 0.8 (gain +), not at 0.2, 0.6, 0.4 -> 3 of 4
    cka_c2 = out[(out.candidate == "crit_cka") & (out.chapter == "c2")].iloc[0]
    assert cka_c2.sign_accuracy == pytest.approx(3 / 4)
    always = out[(out.candidate == "always distil") & (out.chapter == "all")].iloc[0]
    never = out[(out.candidate == "never distil") & (out.chapter == "all")].iloc[0]
    assert always.sign_accuracy == 0.5 and never.sign_accuracy == 0.5 and np.isnan(always.spearman)
    assert (out.sign_accuracy_low <= out.sign_accuracy + 1e-12).all()
    assert (out.sign_accuracy_high >= out.sign_accuracy - 1e-12).all()


def test_bootstrap_is_seeded_and_brackets_the_statistic():
    x = np.arange(20.0)
    y = x + np.random.default_rng(0).standard_normal(20) * 5
    a = criteria.bootstrap_interval(stats.spearman_rho, x, y, n_boot=300, seed=3)
    assert a == criteria.bootstrap_interval(stats.spearman_rho, x, y, n_boot=300, seed=3)
    assert a[0] < stats.spearman_rho(x, y) < a[1]
    assert np.isnan(criteria.bootstrap_interval(stats.spearman_rho, [1.0], [2.0])[0])


def test_best_threshold_and_leave_one_chapter_out():
    assert criteria.best_threshold([0.1, 0.5, 0.9], [-1, 1, 1]) == pytest.approx(0.3)
    assert criteria.best_threshold([0.1, 0.5], [1, 1]) == -np.inf  # always distil
    loco = criteria.leave_one_chapter_out(FIXTURE)
    row = loco[(loco.candidate == "crit_cka") & (loco.held_out == "c2")].iloc[0]
    assert row.threshold == pytest.approx(0.6) and row.sign_accuracy == pytest.approx(3 / 4)


def test_mfh_gamma_keeps_its_a_priori_threshold_whatever_the_calibration_chapter():
    """Gamma exists only where MFH's data define it; its rule is fixed at 0.5, never fitted."""
    table = pd.DataFrame({
        "chapter": ["tcga", "tcga", "mfh", "mfh"], "kd_gain": [1.0, -1.0, 1.0, -1.0],
        "crit_cka": [0.9, 0.1, 0.8, 0.2], "crit_gamma": [np.nan, np.nan, 0.7, 0.3],
    })
    thresholds = criteria.thresholds_for(table, "tcga")
    assert thresholds["crit_gamma"] == 0.5
    assert 0.1 <= thresholds["crit_cka"] < 0.9  # fitted on tcga
    assert criteria.sign_accuracy(table.crit_gamma[2:], table.kd_gain[2:], thresholds["crit_gamma"]) == 1.0
