"""Tests of cchlib.mi: accuracy on samples with known MI, validation, seeding, silence.

Sample sizes and epochs are kept small so the file runs in about a minute on
two CPU cores; tolerances are stated per test and sized to the estimators'
known small-sample bias and spread at these sizes.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import integrate, stats
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

from cchlib import mi
from cchlib.mi import known, lmi, suite
from cchlib.mi.nets import split_indices, stacked_parts

FAST_LMI = dict(epochs=60, patience=5)
FAST_LATENTMI = dict(epochs=2, patience=1)
LATENTMI_SHORT = dict(lr=1e-3, batch_size=128, patience=5, epochs=60)


@pytest.fixture(scope="module")
def pair_08():
    """One Gaussian pair with correlation 0.8: I = -1/2 log(0.36) = 0.511 nats."""
    return known.gaussian_pair(1500, rho=[0.8], seed=1)


@pytest.fixture(scope="module")
def two_clusters():
    """Two equiprobable unit-variance 1-D Gaussians at -2 and +2, with labels."""
    return known.gaussian_mixture_labels(1500, n_classes=2, signal_dims=1, separation=4.0, seed=2)


# --- the known-MI samplers themselves ------------------------------------------------


def test_gaussian_pair_truth_matches_canonical_correlation_formula():
    data = known.gaussian_pair(10, rho=[0.9, 0.5], noise_dims=3, seed=0)
    assert data.mi == pytest.approx(-0.5 * np.log(1 - 0.81) - 0.5 * np.log(1 - 0.25))
    noisy = known.gaussian_pair(10, rho=[0.9, 0.5], noise_dims=3, ambient_noise=1e-4, seed=0)
    assert noisy.mi == pytest.approx(data.mi, abs=1e-3)
    assert known.gaussian_pair(10, rho=[0.9, 0.5], dim=16, ambient_noise=1.0, seed=0).mi < data.mi


def test_gaussian_pair_empirical_correlation_matches_rho():
    data = known.gaussian_pair(20000, rho=[0.8], seed=0)
    assert abs(np.corrcoef(data.x[:, 0], data.y[:, 0])[0, 1]) == pytest.approx(0.8, abs=0.01)  # embedding may flip sign


def test_mixture_truth_matches_quadrature():
    """I(x; c) = h(x) - h(x | c) for two unit Gaussians at +-2, by numerical integration."""
    density = lambda t: 0.5 * (stats.norm.pdf(t, -2) + stats.norm.pdf(t, 2))  # noqa: E731
    h_x = integrate.quad(lambda t: -density(t) * np.log(density(t)), -12, 12)[0]
    truth = h_x - 0.5 * np.log(2 * np.pi * np.e)
    mc = known.gaussian_mixture_labels(10, 2, 1, separation=4.0, seed=0).mi
    assert mc == pytest.approx(truth, abs=5e-3)


# --- KSG / Ross ----------------------------------------------------------------------


def test_ksg_gaussian_pair_close_to_truth_and_to_sklearn(pair_08):
    est = mi.estimate(pair_08.x, pair_08.y, method="ksg")
    assert est == pytest.approx(pair_08.mi, abs=0.05)
    reference = mutual_info_regression(pair_08.x, pair_08.y[:, 0], n_neighbors=3, random_state=0)[0]
    assert est == pytest.approx(reference, abs=2e-3)


def test_ksg_multivariate_gaussian_close_to_truth():
    data = known.gaussian_pair(2000, rho=[0.6, 0.6], seed=3)  # 0.446 nats, 2-D vs 2-D
    assert mi.estimate(data.x, data.y, method="ksg") == pytest.approx(data.mi, abs=0.06)


def test_ksg_independent_is_near_zero():
    rng = np.random.default_rng(4)
    assert abs(mi.estimate(rng.standard_normal((1500, 2)), rng.standard_normal((1500, 2)), method="ksg")) < 0.03


def test_ross_labels_close_to_truth_and_to_sklearn(two_clusters):
    est = mi.estimate(two_clusters.x, two_clusters.y, method="ksg")
    assert est == pytest.approx(two_clusters.mi, abs=0.05)
    reference = mutual_info_classif(two_clusters.x, two_clusters.y, discrete_features=False,
                                    n_neighbors=3, random_state=0)[0]
    assert est == pytest.approx(reference, abs=2e-3)


def test_ksg_k_option_changes_estimate_but_stays_close(pair_08):
    est = mi.estimate(pair_08.x, pair_08.y, method="ksg", k=10)
    assert est != mi.estimate(pair_08.x, pair_08.y, method="ksg")
    assert est == pytest.approx(pair_08.mi, abs=0.05)


# --- LMI (cchlib's own) --------------------------------------------------------------


def test_lmi_low_rank_gaussian_in_32_dims():
    """3 shared factors (rho 0.8) embedded in 32 dims with ambient noise: truth ~1.5 nats."""
    data = known.gaussian_pair(2000, rho=[0.8] * 3, dim=32, ambient_noise=0.1, seed=5)
    est = mi.estimate(data.x, data.y, method="lmi", **FAST_LMI)
    assert est == pytest.approx(data.mi, abs=0.35)


def test_lmi_labels_close_to_truth(two_clusters):
    est = mi.estimate(two_clusters.x, two_clusters.y, method="lmi", **FAST_LMI)
    assert est == pytest.approx(two_clusters.mi, abs=0.1)


def test_lmi_restores_best_weights(pair_08):
    x, y = pair_08.x, pair_08.y
    cfg = lmi.LMIConfig(epochs=30, patience=3)
    model, zx, zy, log = lmi.fit(x, y, cfg, seeds=[0])
    assert log.best_epoch[0] < log.epochs_run - 1  # stopped after a worse epoch ...
    splits = [split_indices(len(x), [cfg.validation_split], 0)]
    cpu = torch.device("cpu")
    (_, x_va), (_, y_va) = stacked_parts(x, splits, cpu), stacked_parts(y, splits, cpu)
    with torch.no_grad():
        loss = float(model.losses(x_va, y_va, gens=[])[0])
    assert loss == pytest.approx(log.best_score[0], rel=1e-5)  # ... yet holds the best epoch's weights
    assert zx.shape == zy.shape == (1, len(splits[0][1]), cfg.N_dims)


def test_lmi_stacked_seeds_match_single_seed_runs(pair_08):
    """Each copy of a stacked fit has its own split, draws and early stopping."""
    stacked = lmi.estimate_many(pair_08.x, pair_08.y, seeds=[3, 4], epochs=20, patience=2)
    alone = [mi.estimate(pair_08.x, pair_08.y, method="lmi", seed=s, epochs=20, patience=2) for s in (3, 4)]
    assert stacked == pytest.approx(alone, abs=1e-3)
    assert stacked[0] != stacked[1]


def test_lmi_is_deterministic_for_a_seed(pair_08):
    a = mi.estimate(pair_08.x, pair_08.y, method="lmi", seed=3, epochs=5)
    b = mi.estimate(pair_08.x, pair_08.y, method="lmi", seed=3, epochs=5)
    c = mi.estimate(pair_08.x, pair_08.y, method="lmi", seed=4, epochs=5)
    assert a == b
    assert a != c


def test_lmi_leaves_global_rng_untouched_and_is_silent(pair_08, capsys):
    before = (random.getstate(), np.random.get_state()[1].copy(), torch.random.get_rng_state())
    mi.estimate(pair_08.x, pair_08.y, method="lmi", epochs=2)
    assert random.getstate() == before[0]
    assert np.array_equal(np.random.get_state()[1], before[1])
    assert torch.equal(torch.random.get_rng_state(), before[2])
    assert capsys.readouterr().out == ""


# --- MINE ----------------------------------------------------------------------------


def test_mine_gaussian_pair_close_to_truth(pair_08):
    est = mi.estimate(pair_08.x, pair_08.y, method="mine")  # defaults: its noisy stopping signal needs the full patience
    assert est == pytest.approx(pair_08.mi, abs=0.12)


def test_mine_labels_close_to_truth(two_clusters):
    est = mi.estimate(two_clusters.x, two_clusters.y, method="mine")  # defaults: its noisy stopping signal needs the full patience
    assert est == pytest.approx(two_clusters.mi, abs=0.12)


def test_mine_is_deterministic_for_a_seed(pair_08):
    a = mi.estimate(pair_08.x, pair_08.y, method="mine", seed=1, epochs=3)
    assert a == mi.estimate(pair_08.x, pair_08.y, method="mine", seed=1, epochs=3)


# --- the latentmi reference wrapper --------------------------------------------------


@pytest.fixture(scope="module")
def small_pair():
    """A small Gaussian pair with correlation 0.9 (0.830 nats = 1.198 bits)."""
    return known.gaussian_pair(600, rho=[0.9], seed=6)


def test_latentmi_wrapper_reports_nats(small_pair):
    from latentmi import lmi as reference_lmi

    from cchlib.mi.rng import seeded_globals

    est = mi.estimate(small_pair.x, small_pair.y, method="latentmi", seed=2, **FAST_LATENTMI)
    with seeded_globals(2):
        pointwise, _, _ = reference_lmi.estimate(small_pair.x.astype(np.float32), small_pair.y.astype(np.float32),
                                                 quiet=True, **FAST_LATENTMI)
    assert est == pytest.approx(np.nanmean(pointwise) * np.log(2), rel=1e-6)
    assert abs(est - small_pair.mi) < abs(est - small_pair.mi / np.log(2))  # closer to nats than bits


def test_latentmi_wrapper_is_silent_seeded_and_restores_rngs(small_pair, capsys):
    before = (random.getstate(), np.random.get_state()[1].copy(), torch.random.get_rng_state())
    a = mi.estimate(small_pair.x, small_pair.y, method="latentmi", seed=1, **FAST_LATENTMI)
    b = mi.estimate(small_pair.x, small_pair.y, method="latentmi", seed=1, **FAST_LATENTMI)
    assert a == b
    assert capsys.readouterr().out == ""
    assert random.getstate() == before[0]
    assert np.array_equal(np.random.get_state()[1], before[1])
    assert torch.equal(torch.random.get_rng_state(), before[2])


def test_latentmi_wrapper_accepts_labels(two_clusters):
    est = mi.estimate(two_clusters.x[:600], two_clusters.y[:600], method="latentmi", **FAST_LATENTMI)
    assert np.isfinite(est)


# --- front door: inputs, options, repeats --------------------------------------------


def test_torch_tensors_and_numpy_give_the_same_estimate(pair_08):
    as_numpy = mi.estimate(pair_08.x, pair_08.y, method="ksg")
    as_torch = mi.estimate(torch.as_tensor(pair_08.x), torch.as_tensor(pair_08.y[:, 0]), method="ksg")
    assert as_numpy == as_torch


def test_float_1d_y_is_continuous_and_int_1d_y_is_labels(two_clusters):
    labels = two_clusters.y
    as_labels = mi.estimate(two_clusters.x, labels, method="ksg")
    as_floats = mi.estimate(two_clusters.x, labels.astype(float) + 1e-3 * np.arange(len(labels)), method="ksg")
    assert as_labels != as_floats


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((10, 2)) + np.arange(10)[:, None], np.arange(9.0), "same samples"),
        (np.r_[np.arange(9.0), np.nan], np.arange(10.0), "NaN or inf"),
        (np.arange(10.0), np.r_[np.arange(9.0), np.inf], "NaN or inf"),
        (np.c_[np.arange(10.0), np.ones(10)], np.arange(10.0), "constant column"),
        (np.arange(10.0), np.zeros(10, dtype=int), "single class"),
        (np.zeros((10, 2, 2)), np.arange(10.0), "1-D"),
        (np.arange(3.0), np.arange(3.0)[::-1].copy(), "at least 4 samples"),
    ],
)
def test_bad_input_raises_value_error(x, y, message):
    with pytest.raises(ValueError, match=message):
        mi.estimate(x, y, method="ksg")


@pytest.mark.parametrize("method", ["lmi", "mine", "latentmi"])
def test_neural_methods_reject_too_few_samples(method):
    x = np.arange(6.0)
    with pytest.raises(ValueError, match="needs at least"):
        mi.estimate(x, x**2, method=method)


def test_ross_rejects_tiny_classes():
    x, labels = np.arange(20.0), np.r_[np.zeros(18, dtype=int), 1, 1]
    with pytest.raises(ValueError, match="every class"):
        mi.estimate(x, labels, method="ksg")


@pytest.mark.parametrize("method", ["lmi", "mine", "latentmi", "ksg"])
def test_unknown_options_raise_value_error(method, pair_08):
    with pytest.raises((ValueError, TypeError)):
        mi.estimate(pair_08.x, pair_08.y, method=method, no_such_option=1)


def test_unknown_method_raises_value_error(pair_08):
    with pytest.raises(ValueError, match="unknown MI method"):
        mi.estimate(pair_08.x, pair_08.y, method="nope")


def test_estimate_with_se(pair_08):
    result = mi.estimate_with_se(pair_08.x, pair_08.y, method="mine", repeats=3, epochs=3)
    assert len(result.values) == 3
    assert result.mean == pytest.approx(np.mean(result.values))
    assert result.se == pytest.approx(np.std(result.values, ddof=1) / np.sqrt(3))
    assert result.se > 0
    with pytest.raises(ValueError, match="at least 2 seeds"):
        mi.estimate_with_se(pair_08.x, pair_08.y, method="ksg", seeds=[0])


# --- stacked repeats, the 64-d low-rank case, agreement with the reference, the suite cell ---


def test_estimate_with_se_lmi_trains_seeds_together_and_matches_estimate(pair_08):
    result = mi.estimate_with_se(pair_08.x, pair_08.y, method="lmi", seeds=[5, 6], epochs=10)
    alone = mi.estimate(pair_08.x, pair_08.y, method="lmi", seed=6, epochs=10)
    assert result.values[1] == pytest.approx(alone, abs=1e-3)
    assert mi.estimate_many(pair_08.x, pair_08.y, method="ksg", seeds=[0, 1]) == [
        mi.estimate(pair_08.x, pair_08.y, method="ksg", seed=s) for s in (0, 1)]


@pytest.fixture(scope="module")
def low_rank_64():
    """Two shared factors (rho 0.9) in 64 coordinates per side, small ambient noise: ~1.66 nats."""
    return known.gaussian_pair(2000, rho=[0.9, 0.9], dim=64, ambient_noise=0.1, seed=7)


@pytest.fixture(scope="module")
def low_rank_64_estimates(low_rank_64):
    """Each estimator once on the 64-d pair (KSG alone takes seconds in 128 joint dimensions)."""
    return {m: mi.estimate(low_rank_64.x, low_rank_64.y, method=m) for m in ("lmi", "ksg", "mine")}


@pytest.mark.parametrize(("method", "low", "high"), [
    # Measured at this size (share of the truth): lmi ~0.9-1.0, mine ~0.85-0.9, ksg ~0.56;
    # every estimator is low, and the bounds say how low each may be.
    ("lmi", 0.8, 1.05),
    ("ksg", 0.45, 0.7),
    ("mine", 0.7, 1.05),
])
def test_64d_low_rank_pair_estimates_within_stated_share_of_truth(low_rank_64, low_rank_64_estimates,
                                                                  method, low, high):
    assert low * low_rank_64.mi < low_rank_64_estimates[method] < high * low_rank_64.mi


def test_lmi_beats_ksg_on_64d_low_rank_pair(low_rank_64, low_rank_64_estimates):
    """The case latent MI is built for: its latents undo the embedding that blinds KSG."""
    errors = {m: abs(v - low_rank_64.mi) for m, v in low_rank_64_estimates.items()}
    assert errors["lmi"] < errors["ksg"]


def test_lmi_agrees_with_reference_latentmi_within_seed_spread():
    """cchlib's lmi at its defaults vs the reference package (its own networks and code).

    The reference runs a shorter schedule than its defaults (lr 1e-3, batches of 128,
    patience 5, at most 60 epochs) so the test takes seconds, not minutes.
    """
    data = known.gaussian_pair(600, rho=[0.8, 0.8], seed=8)  # 2-d vs 2-d, 1.02 nats
    ours = mi.estimate_with_se(data.x, data.y, method="lmi", repeats=3)
    ref = mi.estimate_with_se(data.x, data.y, method="latentmi", repeats=3, **LATENTMI_SHORT)
    spread = np.std(ours.values, ddof=1) + np.std(ref.values, ddof=1)
    assert abs(ours.mean - ref.mean) < 2 * spread + 0.05


def test_suite_cell_rows_carry_truth_estimate_and_time():
    condition = suite.noise_conditions(8, 2, 0.8, [2])[0]
    rows = suite.run_cell(condition, [0, 1], dict(n=300, data_seed=0, methods=["ksg", "lmi"],
                                                  method_options={"lmi": {"epochs": 3}}))
    assert sorted(rows) == [0, 1]
    assert [r["method"] for r in rows[0]] == ["ksg", "lmi"]
    truth = known.gaussian_pair(300, rho=[0.8, 0.8], dim=8, noise_dims=2, ambient_noise=0.1, seed=0).mi
    assert rows[1][0]["truth"] == pytest.approx(truth)
    assert rows[0][0]["unshared_share"] == pytest.approx(0.5)
    assert all(r["seconds"] > 0 and np.isfinite(r["estimate"]) for r in rows[0] + rows[1])


def test_suite_settings_name_a_mistyped_setting():
    with pytest.raises(ValueError, match="'n'"):
        suite.Settings(n=300.0, data_seed=0, methods=["ksg"], method_options={})
    with pytest.raises(ValueError, match="'method'"):
        suite.run_cell(suite.noise_conditions(8, 2, 0.8, [2])[0], [0],
                       dict(n=300, data_seed=0, method=["ksg"], method_options={}))


@pytest.mark.parametrize("method", ["lmi", "mine"])
def test_unknown_estimator_option_is_named(pair_08, method):
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['epoch'\]"):
        mi.estimate(pair_08.x, pair_08.y, method=method, epoch=3)


@pytest.mark.parametrize("method", ["lmi", "mine", "ksg"])
def test_sparse_column_constant_on_a_training_split_gives_a_finite_estimate(method):
    """The cause of issue 15: a ReLU-like feature non-zero on a few rows only.

    With 300 rows and 3 non-zero entries, some seeds' training split holds none
    of them; standardising by that split's zero spread used to turn the column
    into inf and the estimate into a KD-tree error.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 5))
    x[:, 0] = 0.0
    x[[3, 100, 250], 0] = [1.0, 2.0, 0.5]
    labels = rng.integers(0, 2, 300)
    options = {} if method == "ksg" else {"epochs": 5}
    values = mi.estimate_many(x, labels, method=method, seeds=range(6), **options)
    assert np.isfinite(values).all()


def test_standardize_uses_the_whole_column_when_the_reference_part_is_constant():
    from cchlib.mi.inputs import standardize

    a = np.array([[0.0, 1.0], [0.0, 2.0], [4.0, 3.0], [0.0, 4.0]])
    out = standardize(a, ref=a[:2])
    assert np.isfinite(out).all()
    assert out[2, 0] == pytest.approx(4.0 / a[:, 0].std())  # centred on the reference mean 0
    assert out[:, 1] == pytest.approx((a[:, 1] - 1.5) / 0.5)


def test_diverging_training_names_the_estimator_and_shapes(pair_08):
    with pytest.raises(ValueError, match=r"lmi on x \(1500, 1\) and y \(1500, 1\).*NaN/inf.*lr"):
        mi.estimate(pair_08.x, pair_08.y, method="lmi", lr=1e30, epochs=3)


def test_matched_samplers_have_the_stated_mi():
    """The calibration samplers: exact Gaussian MI, and the label MI of the latent mixture."""
    from cchlib.mi import known
    pair = known.matched_pair(20_000, 64, 3, rho=0.8, seed=0)
    assert pair.x.shape == (20_000, 64) and pair.y.shape == (20_000, 3)
    assert pair.mi == pytest.approx(-1.5 * np.log(1 - 0.64))  # min(4, 8, 3) = 3 shared factors
    # the dependence is linear Gaussian: canonical correlations of the data recover it
    cc = np.linalg.svd(np.linalg.qr(pair.x - pair.x.mean(0))[0][:, :8].T
                       @ np.linalg.qr(pair.y - pair.y.mean(0))[0], compute_uv=False)[:3]
    assert cc == pytest.approx([0.8] * 3, abs=0.02)
    labels = known.matched_labels(5_000, 16, 3, separation=0.0, seed=1, mc_draws=20_000)
    assert labels.mi == pytest.approx(0.0, abs=1e-9) and set(np.unique(labels.y)) <= {0, 1, 2}


def test_bias_inversion_reads_estimates_back_as_truths():
    """A curve estimate = truth / 2: inversion doubles, carries the slope, and refuses a saturated value."""
    from cchlib.mi import bias
    curve = pd.DataFrame({"truth": [0.0, 1.0, 2.0, 4.0], "estimate": [0.0, 0.5, 1.0, 2.0],
                          "estimate_se": [0.01, 0.01, 0.02, 0.02]})
    truth, slope, se = bias.invert([0.25, 1.5, -0.1, 2.5], curve)
    assert truth[:2] == pytest.approx([0.5, 3.0]) and slope[:2] == pytest.approx([2.0, 2.0])
    assert truth[2] == 0.0 and np.isnan(truth[3])
    assert se[0] == pytest.approx(0.02) and se[1] == pytest.approx(0.04)
    conditions = pd.DataFrame({"mi_ts": [1.5], "mi_sl": [0.25], "mi_gap_se": [0.1], "mi_n": [100], "d_t": [4],
                               "d_s": [4], "y_classes": [0]})
    rows = []
    for c in bias.term_conditions(100, 4, 4, 0):
        rows.append({**c, "seed": 0, "truth": 10 * c["level"], "estimate": 5 * c["level"]})
        rows.append({**c, "seed": 1, "truth": 10 * c["level"], "estimate": 5 * c["level"]})
    out = bias.corrected_gap(conditions, bias.curves(pd.DataFrame(rows)))
    assert out.mi_gap_corrected.iloc[0] == pytest.approx(3.0 - 0.5)
    assert out.mi_gap_corrected_se.iloc[0] == pytest.approx(0.2)  # the seed SE carried through slope 2
