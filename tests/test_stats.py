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
