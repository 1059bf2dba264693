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


def test_out_of_sample_decisions_never_use_the_chapters_own_gains():
    out, thresholds = criteria.decisions(FIXTURE, "crit_cka")
    # c2's threshold comes from c1 alone: gains rank 4,3,2,1 with cka 0.9,0.7,0.5,0.1 -> cut 0.6
    assert thresholds["c2"] == pytest.approx(0.6)
    assert out[FIXTURE.chapter == "c2"].tolist() == [1.0, 0.0, 0.0, 0.0]  # only 0.8 exceeds 0.6
    # changing c2's own gains does not move c2's threshold (only c1's threshold)
    flipped = FIXTURE.assign(kd_gain=np.where(FIXTURE.chapter == "c2", -FIXTURE.kd_gain, FIXTURE.kd_gain))
    assert criteria.decisions(flipped, "crit_cka")[1]["c2"] == thresholds["c2"]
    # gaps keep CCH's own threshold 0, trivial rules are constants
    gap, gap_thresholds = criteria.decisions(FIXTURE, "mi_gap")
    assert set(gap_thresholds.values()) == {0.0} and gap.tolist() == (FIXTURE.mi_gap > 0).astype(float).tolist()
    assert criteria.decisions(FIXTURE, "always distil")[0].eq(1.0).all()


def test_rank_by_hand_on_identical_conditions():
    out = criteria.rank(FIXTURE, ["mi_gap", "crit_cka"], n_boot=200, seed=0).set_index("candidate")
    assert list(out.reset_index().columns) == criteria.RANKING_COLUMNS
    # signs (gap > 0, gain > 0): TT FT TF FF TT TF FT FF -> 4 of 8 right
    assert out.loc["mi_gap", "sign_accuracy"] == pytest.approx(4 / 8)
    # cka out of sample: c2 by c1's cut 0.6 -> 0.8+ 0.2- 0.6(no)+ 0.4- : 3 of 4;
    # c1 by c2's cut (c2: cka 0.8 0.2 0.6 0.4, gains + - + -: cut 0.5) -> 0.9 0.7 0.5 0.1 vs + + - - : 4 of 4
    assert out.loc["crit_cka", "sign_accuracy"] == pytest.approx(7 / 8)
    assert out.loc["always distil", "sign_accuracy"] == 0.5 == out.loc["crit_cka", "always_accuracy"]
    assert out.loc["crit_cka", "vs_always"] == pytest.approx(3 / 8)
    assert out.loc["crit_cka", "vs_gap"] == pytest.approx(3 / 8)
    # McNemar: cka right and always wrong on 4, the reverse on 1 -> binomial(4 of 5)
    assert out.loc["crit_cka", "vs_always_p"] == pytest.approx(sps.binomtest(4, 5).pvalue)
    assert not out.beats_trivial.any()  # 8 conditions cannot show it
    assert out.index[0] == "crit_cka"  # sorted by accuracy
    assert (out.sign_accuracy_low <= out.sign_accuracy + 1e-12).all()
    assert (out.sign_accuracy_high >= out.sign_accuracy - 1e-12).all()


def test_a_real_criterion_is_decided_and_noise_is_not():
    """Power and size of the ranking's verdict: a candidate equal to the gain's sign beats the
    trivial rules on 60 conditions; a candidate of pure noise does so in at most 5% of draws."""
    rng = np.random.default_rng(1)
    beaten = []
    for draw in range(40):
        gain = rng.standard_normal(60)
        table = pd.DataFrame({"chapter": np.repeat(["a", "b", "c"], 20), "kd_gain": gain,
                              "mi_gap": np.where(rng.random(60) < 0.9, gain, -gain),
                              "crit_cka": rng.standard_normal(60)})
        out = criteria.rank(table, ["mi_gap", "crit_cka"], n_boot=100, seed=draw).set_index("candidate")
        assert out.loc["mi_gap", "beats_trivial"], draw
        beaten.append(out.loc["crit_cka", "beats_trivial"])
    assert np.mean(beaten) <= 0.05


def test_rank_refuses_conditions_a_candidate_cannot_decide():
    table = FIXTURE.assign(crit_gamma=[0.7, 0.6, 0.3, 0.6, np.nan, np.nan, np.nan, np.nan])
    with pytest.raises(ValueError, match="rank_alone"):
        criteria.rank(table, ["crit_gamma"], n_boot=50)
    alone = criteria.rank_alone(table, "crit_gamma", n_boot=50).iloc[0]
    assert alone.n_conditions == 4 and alone.sign_accuracy == pytest.approx(3 / 4)  # a priori cut 0.5
    assert alone.always_accuracy == 0.5  # the trivial rule on the SAME four conditions


def test_common_conditions_and_stratified_resamples():
    table = FIXTURE.assign(crit_gamma=[0.7] + [np.nan] * 7, crit_probe=[np.nan] + [0.5] * 7)
    kept, rows = criteria.common_conditions(table, ["mi_gap", "crit_probe", "crit_gamma"], coverage=0.8)
    assert kept == ["mi_gap", "crit_probe"] and len(rows) == 7
    one_chapter = FIXTURE.assign(crit_cka=np.where(FIXTURE.chapter == "c1", FIXTURE.crit_cka, np.nan))
    assert criteria.decidable(one_chapter, ["mi_gap", "crit_cka"]) == ["mi_gap"]  # no other chapter to fit on
    assert criteria.decidable(one_chapter.assign(mi_gap=np.nan), ["mi_gap"]) == []  # absent everywhere
    idx = criteria.stratified_resamples(FIXTURE.chapter, 50, 0)
    chapters = FIXTURE.chapter.to_numpy()
    assert (chapters[idx] == chapters).all()  # each resample keeps every chapter's size


def test_mfh_gamma_keeps_its_a_priori_threshold_and_the_table_says_how():
    """Gamma exists only where MFH's data define it; its rule is fixed at 0.5, never fitted."""
    table = pd.DataFrame({
        "chapter": ["tcga", "tcga", "mfh", "mfh"], "kd_gain": [1.0, -1.0, 1.0, -1.0],
        "crit_cka": [0.9, 0.1, 0.8, 0.2], "crit_gamma": [np.nan, np.nan, 0.7, 0.3],
    })
    out = criteria.thresholds_table(table, ["crit_gamma", "crit_cka"]).set_index(["candidate", "held_out"])
    assert out.loc[("crit_gamma", "mfh"), "threshold"] == 0.5 and out.loc[("crit_gamma", "mfh"), "how"] == "a priori"
    assert 0.1 <= out.loc[("crit_cka", "mfh"), "threshold"] < 0.9  # fitted on tcga
    assert criteria.decisions(table, "crit_gamma")[0].tolist()[2:] == [1.0, 0.0]


def test_the_answer_names_a_winner_only_when_the_tests_decide():
    rng = np.random.default_rng(3)
    gain = rng.standard_normal(60)
    table = pd.DataFrame({"chapter": np.repeat(["a", "b", "c"], 20), "kd_gain": gain,
                          "mi_gap": rng.standard_normal(60), "crit_cmi": gain + 0.1 * rng.standard_normal(60)})
    ranked = criteria.rank(table, ["mi_gap", "crit_cmi"], n_boot=200)
    text = criteria.answer(ranked, "all conditions", {"a": "paper", "b": "paper", "c": "default"})
    assert text.startswith("**I(Y;H_T|H_S), probes** beats both trivial rules")
    assert "`paper`: a, b; `default`: c" in text
    assert criteria.cch_verdict(ranked) == "undecided"  # a noise gap: not shown better, not shown worse
    noise = criteria.rank(table.assign(crit_cmi=rng.standard_normal(60)), ["mi_gap", "crit_cmi"], n_boot=200)
    assert criteria.answer(noise, "all", {}).startswith("**No criterion beats the trivial rules out of sample.**")
    wrong = criteria.rank(table.assign(mi_gap=-gain), ["mi_gap"], n_boot=200)
    assert criteria.cch_verdict(wrong) == "not reproduced"
    right = criteria.rank(table.assign(mi_gap=gain), ["mi_gap"], n_boot=200)
    assert criteria.cch_verdict(right) == "reproduced"


def test_outcome_draws_are_stratified_and_do_not_collapse_on_uniform_chapters():
    chapters = np.array(["a"] * 13 + ["b"] * 7)
    right = np.array([True] * 13 + [False] * 7)  # right on every condition of a, wrong on every one of b
    draws = criteria.outcome_draws(right, None, chapters, 4000, seed=0)
    low, high = np.percentile(draws, [2.5, 97.5])
    assert low < 13 / 20 < high and high - low > 0.1  # resampling conditions would give [0.65, 0.65]
    assert np.all((draws >= 0) & (draws <= 1))
    # a difference of identical rules is centred on 0; a rule right wherever the other is wrong on +1
    same = criteria.outcome_draws(right, right, chapters, 2000, seed=1)
    assert abs(np.median(same)) < 0.02
    flip = criteria.outcome_draws(np.ones(20, bool), np.zeros(20, bool), chapters, 2000, seed=1)
    assert np.percentile(flip, 5) > 0.6 and np.median(flip) > 0.8


def test_per_chapter_counts_only_decided_conditions_and_spearman_skips_lone_chapters():
    table = FIXTURE.assign(crit_gamma=[0.7, 0.6, 0.3, 0.6, np.nan, np.nan, np.nan, np.nan])
    out = criteria.per_chapter(table, ["crit_gamma"]).set_index(["candidate", "chapter"])
    assert out.loc[("crit_gamma", "c1"), "sign_accuracy"] == pytest.approx(3 / 4)
    assert np.isnan(out.loc[("crit_gamma", "c2"), "sign_accuracy"]) and out.loc[("crit_gamma", "c2"), "n_conditions"] == 0
    lone = pd.concat([FIXTURE, FIXTURE.iloc[:1].assign(chapter="c3")], ignore_index=True)  # a chapter of one
    rho = criteria.rank(lone, ["mi_gap"], n_boot=40).set_index("candidate").loc["mi_gap", "spearman"]
    assert np.isfinite(rho)


def test_the_ksg_gap_reads_at_most_its_row_cap(monkeypatch):
    """KSG's cost grows as n^2: the gap candidate uses the first KSG_GAP_ROWS rows only."""
    from cchlib import criteria

    seen = []
    monkeypatch.setattr(criteria.mi, "estimate", lambda a, b, method, seed, **o: seen.append(len(a)) or 0.0)
    monkeypatch.setattr(criteria, "KSG_GAP_ROWS", 30)
    h = np.zeros((50, 2))
    criteria._gap("ksg", {}, h, h, np.zeros(50, int), 0)
    criteria._gap("lmi", {}, h, h, np.zeros(50, int), 0)
    assert seen == [30, 30, 50, 50]
