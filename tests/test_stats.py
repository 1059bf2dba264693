"""The verdict rule of cchlib.stats: intervals against scipy, the null band, the three states."""

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cchlib import mi, stats


def test_t_interval_and_pvalue_match_scipy():
    values = np.array([0.3, -0.1, 0.5, 0.2, 0.4])
    s = stats.summarise(values)
    low, high = stats.t_interval(s.mean, s.se, s.n)
    ref = sps.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=sps.sem(values))
    assert (low, high) == pytest.approx(ref)
    assert stats.t_pvalue(s.mean, s.se, s.n) == pytest.approx(sps.ttest_1samp(values, 0).pvalue)


def test_paired_gain_interval_is_ttest_rel():
    kd, nokd = np.array([0.81, 0.84, 0.80, 0.86]), np.array([0.80, 0.82, 0.81, 0.83])
    s = stats.summarise(kd - nokd)
    assert stats.t_pvalue(s.mean, s.se, s.n) == pytest.approx(sps.ttest_rel(kd, nokd).pvalue)


def test_fewer_than_two_values_give_nan():
    s = stats.summarise([0.4])
    assert np.isnan(stats.t_interval(s.mean, s.se, s.n)).all()
    assert np.isnan(stats.t_pvalue(s.mean, s.se, s.n))


def test_adjust_is_bh_and_keeps_nan():
    p = np.array([0.01, 0.04, np.nan, 0.03])
    out = stats.adjust(p)
    assert np.isnan(out[2])
    assert out[[0, 1, 3]] == pytest.approx(sps.false_discovery_control([0.01, 0.04, 0.03]))


def test_null_band_on_independent_data_covers_the_gap():
    """On independent data the gap and its null gap are exchangeable: the excess is centred on 0."""
    estimate = functools.partial(mi.estimate, method="ksg")
    excess = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        h_t, h_s, y = rng.normal(size=(150, 6)), rng.normal(size=(150, 2)), rng.integers(0, 3, 150)
        gap = estimate(h_t, h_s, seed=seed) - estimate(h_s, y, seed=seed)
        null = stats.null_mis(estimate, h_t, h_s, y, seed)
        excess.append(gap - null.gap)
    s = stats.summarise(excess)
    low, high = stats.t_interval(s.mean, s.se, s.n)
    assert low < 0 < high


def test_null_mis_destroys_dependence():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 2))
    estimate = functools.partial(mi.estimate, method="ksg")
    y = (z[:, 0] > 0).astype(int)
    null = stats.null_mis(estimate, z + 0.1 * rng.normal(size=z.shape), z, y, seed=3)
    assert estimate(z + 0.1 * rng.normal(size=z.shape), z) > 1.0
    assert abs(null.ts) < 0.2 and abs(null.sl) < 0.2


def _table(gap, gap_sd, null, gain, gain_sd, n=5, seed=0):
    rng = np.random.default_rng(seed)
    rows = [{"condition": c, "seed": s, "mi_gap": g + gap_sd * rng.normal(), "mi_gap_null": null + 0.01 * rng.normal(),
             "kd_gain": k + gain_sd * rng.normal()}
            for c, (g, k) in enumerate(zip(gap, gain)) for s in range(n)]
    per_seed = stats.gap_columns(pd.DataFrame(rows))
    return stats.summarise_seeds(per_seed, "condition", ["mi_gap", "mi_gap_null", "mi_gap_excess", "kd_gain"])


def test_verdict_states():
    table = stats.verdicts(_table([0.5, -0.5, 0.5, 0.001], 0.02, 0.0, [0.1, 0.1, 0.0001, 0.1], 0.01))
    assert list(table.verdict) == ["agrees", "disagrees", "unresolved", "unresolved"]
    assert list(table.select_verdict) == ["distil", "do not distil", "distil", "undecided"]
    assert set(table.verdict) <= set(stats.CCH_STATES)


def test_gap_inside_null_band_is_unresolved():
    """A gap clearly above 0 but equal to the estimator's null gap is bias, not signal."""
    table = stats.verdicts(_table([0.3], 0.01, 0.3, [0.1], 0.01))
    assert table.mi_gap_low.iloc[0] > 0
    assert table.select_verdict.iloc[0] == "undecided"


def test_too_few_seeds_or_no_null_is_unresolved():
    two = stats.verdicts(_table([0.5], 0.01, 0.0, [0.1], 0.01, n=2))
    assert two.verdict.iloc[0] == "unresolved" and two.select_verdict.iloc[0] == "undecided"
    no_null = _table([0.5], 0.01, 0.0, [0.1], 0.01).drop(columns=["mi_gap_null", "mi_gap_null_se",
                                                                    "mi_gap_excess", "mi_gap_excess_se"])
    out = stats.verdicts(no_null)
    assert out.verdict.iloc[0] == "unresolved"
    assert "null" in stats.why_unresolved(out.iloc[0])


def test_verdicts_name_missing_columns():
    with pytest.raises(ValueError, match="n_seeds"):
        stats.verdicts(pd.DataFrame({"mi_gap": [0.1], "mi_gap_se": [0.01]}))


def test_chance_agreement_and_spearman():
    gap, gain = np.array([1, 2, -1, -2, 3, 0.5, 1.5]), np.array([0.1, 0.3, -0.1, -0.3, 0.2, 0.05, 0.4])
    assert stats.chance_agreement(gap, gain) == pytest.approx((5 / 7) ** 2 + (2 / 7) ** 2)
    rho = stats.spearman(gap, gain)
    assert rho["spearman"] == pytest.approx(sps.spearmanr(gap, gain).statistic)
    assert rho["spearman_low"] < rho["spearman"] < rho["spearman_high"]
    assert stats.agreement_pvalue(gap, gain, permutations=999) < 0.1


def test_seeds_needed_grows_as_the_gain_shrinks():
    assert stats.seeds_needed(1.0, 0.5) <= stats.seeds_needed(0.3, 0.5) <= stats.seeds_needed(0.1, 0.5)
    assert stats.seeds_needed(0.0, 0.5) == np.inf


def test_calibration_benchmark_fast_version():
    """benchmarks/calibration.py, small: noise stays undecided, planted answers are found with the right sign."""
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("calibration", ROOT / "benchmarks" / "calibration.py")
    calibration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(calibration)
    rows = calibration.run(list(calibration.SCENARIOS), draws=2, mi_method="ksg", mi_repeats=2, epochs=10,
                           seeds=[0, 1, 2, 3, 4])
    summary = calibration.summarise(rows).set_index("scenario")
    assert (summary.share_wrong_decided == 0).all(), summary
    assert summary.loc[["noise-classes", "noise-regression"], "share_decided"].max() <= 0.05
    assert summary.loc[["planted-negative", "planted-positive"], "share_right"].min() >= 0.5


def _summary(gaps, nulls, independent):
    g, z = stats.summarise(gaps), stats.summarise(nulls)
    return pd.DataFrame({"mi_gap": [g.mean], "mi_gap_se": [g.se], "mi_gap_null": [z.mean],
                         "mi_gap_null_se": [z.se], "n_seeds": [g.n], "independent_data": [independent]})


def test_null_test_shrinks_with_seeds_when_seeds_draw_their_own_data():
    """Welch's test: with per-seed SDs fixed, the SE falls as 1/sqrt(n) (the old band did not)."""
    rng = np.random.default_rng(0)
    base_g, base_z = rng.normal(size=1000), rng.normal(size=1000)
    se = {}
    for n in (5, 20, 80):
        g = 0.1 * (base_g[:n] - base_g[:n].mean()) / base_g[:n].std(ddof=1)
        z = 0.1 * (base_z[:n] - base_z[:n].mean()) / base_z[:n].std(ddof=1)
        se[n] = stats.excess_over_null(_summary(g, z, True)).se[0]
    assert se[5] / se[20] == pytest.approx(2.0, rel=1e-6) and se[20] / se[80] == pytest.approx(2.0, rel=1e-6)
    ref = sps.ttest_ind(0.3 + base_g[:10], base_z[:10], equal_var=False)
    table = _summary(0.3 + base_g[:10], base_z[:10], True)
    excess = stats.excess_over_null(table)
    assert excess.p[0] == pytest.approx(ref.pvalue)


def test_a_shared_sample_keeps_its_share_of_the_null_spread():
    """Gaps alike across seeds (one shared sample), nulls spread: the SE stays near the null's SD."""
    gaps = 0.2 + 0.001 * np.arange(10)
    nulls = np.random.default_rng(1).normal(0, 0.1, 10)
    shared = stats.excess_over_null(_summary(gaps, nulls, False))
    independent = stats.excess_over_null(_summary(gaps, nulls, True))
    assert shared.se[0] > np.std(nulls, ddof=1) > 2 * independent.se[0]


def test_null_test_size_on_noise_with_a_shared_sample_component():
    """Random-effects noise (a shared draw per condition plus seed noise): <= 5% decided, not Welch's excess."""
    rng = np.random.default_rng(2)
    decided, welch = [], []
    for _ in range(2000):
        u = rng.normal(0, 0.08)  # the shared sample's chance dependence, in every seed's gap
        gaps = u + rng.normal(0, 0.06, 5)
        nulls = rng.normal(0, 0.1, 5)  # a fresh permutation each: sample and seed variance
        for independent, out in ((False, decided), (True, welch)):
            out.append(stats.excess_over_null(_summary(gaps, nulls, independent)).p[0] < 0.05)
    assert np.mean(decided) <= 0.06
    assert np.mean(welch) > 0.08  # the test that ignores the shared sample is too liberal here


def test_a_gap_four_standard_errors_from_its_null_is_resolved_at_ten_seeds():
    rng = np.random.default_rng(3)
    gaps, nulls = -0.25 + 0.05 * rng.standard_normal(10), 0.05 * rng.standard_normal(10)
    table = _summary(gaps, nulls, True).assign(kd_gain=[-0.1], kd_gain_se=[0.01])
    combined = np.hypot(table.mi_gap_se, table.mi_gap_null_se)[0]
    assert abs(table.mi_gap[0] - table.mi_gap_null[0]) > 4 * combined
    out = stats.verdicts(table)
    assert out.gap_resolved.iloc[0] and out.select_verdict.iloc[0] == "do not distil"


def test_the_bias_check_is_reported_beside_the_verdict():
    table = _table([-0.3], 0.01, 0.0, [-0.1], 0.01)
    plain = stats.verdicts(table)
    assert plain.bias_check.iloc[0] == "" and plain.verdict.iloc[0] == "agrees"
    checked = stats.verdicts(table.assign(mi_gap_corrected=[0.2, ][:1], mi_gap_corrected_se=[0.01]))
    assert checked.bias_check.iloc[0] == "reversed" and checked.verdict.iloc[0] == "agrees"
    assert stats.verdicts(table.assign(mi_gap_corrected=[np.nan], mi_gap_corrected_se=[np.nan])
                          ).bias_check.iloc[0] == "beyond calibration"
    assert stats.verdicts(table.assign(mi_gap_corrected=[-0.5], mi_gap_corrected_se=[0.01])
                          ).bias_check.iloc[0] == "kept"


def test_summarise_seeds_refuses_a_repeated_column():
    frame = pd.DataFrame([[0, 0.1, 0.2]], columns=["c", "mi_tl", "mi_tl"])
    with pytest.raises(ValueError, match="mi_tl"):
        stats.summarise_seeds(frame, "c", ["mi_tl"])
