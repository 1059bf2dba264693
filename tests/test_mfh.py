"""MFH chapter: MVD generator bookkeeping, Algorithm 1 on a case with a known answer, the cell."""

import numpy as np
import pandas as pd
import pytest
import torch

from cchlib.data.mvd import (
    MVDSpec,
    alpha_setting,
    beta0_setting,
    gamma_setting,
    make_mvd,
    mvd_shares,
    sample_mvd,
)
from cchlib import stats
from cchlib.experiments import mfh
from cchlib.models import DecisionValueLR, logistic_regression


def test_shares_of_a_hand_example():
    # J1 = {0,1,2}, J2 = {2,3}: union 4, shared 1, only-a {0,1}, only-b {3}
    gamma, alpha, beta = mvd_shares([0, 1, 2], [2, 3])
    assert (gamma, alpha, beta) == pytest.approx((0.25, 0.5, 0.25))
    assert mvd_shares([5], [5]) == pytest.approx((1.0, 0.0, 0.0))


def test_gamma_setting_matches_the_printed_gamma_values():
    # App. B.2: gamma takes [0, 0.11, 0.25, 0.43, 0.67, 1] and alpha = beta = (1 - gamma) / 2
    specs = [gamma_setting(k) for k in (0, 2, 4, 6, 8, 10)]
    assert [round(s.gamma, 2) for s in specs] == [0.0, 0.11, 0.25, 0.43, 0.67, 1.0]
    for k, s in zip((0, 2, 4, 6, 8, 10), specs):
        assert (s.d1, s.d2, s.d) == (25, 50, 20)
        assert len(s.J1) == len(s.J2) == 10 and len(s.shared) == k and len(s.union) == 20 - k
        assert s.alpha == pytest.approx((1 - s.gamma) / 2) and s.beta == pytest.approx(s.alpha)


def test_alpha_setting_matches_the_printed_alpha_values():
    # App. B.2 prints [0, 0.5, 0.67, 0.75, 0.80, 0.83]; |J1 u J2| = 10..50 gives the first five
    specs = [alpha_setting(u) for u in (10, 20, 30, 40, 50)]
    assert [round(s.alpha, 2) for s in specs] == [0.0, 0.5, 0.67, 0.75, 0.8]
    for s in specs:
        assert s.beta == 0 and s.gamma == pytest.approx(1 - s.alpha) and s.d == len(s.union)
    hidden = alpha_setting(20, d=50)
    assert hidden.d == 50 and hidden.alpha == pytest.approx(0.5)


def test_beta0_setting_and_shares_sum_to_one():
    for g in (0.25, 0.5, 0.75):
        s = beta0_setting(g)
        assert s.gamma == pytest.approx(g) and s.beta == 0
        assert s.gamma + s.alpha + s.beta == pytest.approx(1)
    with pytest.raises(ValueError, match="whole number"):
        beta0_setting(0.33)


def test_spec_rejects_bad_index_sets():
    with pytest.raises(ValueError, match="outside"):
        MVDSpec(d1=5, d2=10, d=10, J1=(0, 7), J2=(0,))  # 7 >= d1
    with pytest.raises(ValueError, match="outside"):
        MVDSpec(d1=10, d2=10, d=3, J1=(0,), J2=(4,))  # 4 >= d
    with pytest.raises(ValueError, match="repeated"):
        MVDSpec(d1=10, d2=10, d=5, J1=(1, 1), J2=(0,))


def test_samples_copy_the_decisive_features_and_label_by_delta():
    spec = MVDSpec(d1=8, d2=6, d=5, J1=(0, 1, 2), J2=(2, 3))
    rng = np.random.default_rng(0)
    delta = rng.standard_normal(5)
    s = sample_mvd(spec, 400, delta, rng)
    np.testing.assert_array_equal(s.xa[:, [0, 1, 2]], s.xstar[:, [0, 1, 2]])
    np.testing.assert_array_equal(s.xb[:, [2, 3]], s.xstar[:, [2, 3]])
    np.testing.assert_array_equal(s.xa[:, 2], s.xb[:, 2])  # the shared channel is one feature
    np.testing.assert_array_equal(s.y, (s.xstar.astype(float) @ delta > 0).astype(int))
    assert not np.allclose(s.xa[:, 3], s.xstar[:, 3])  # a noise channel of a, not x*_3
    assert abs(np.corrcoef(s.xa[:, 0], s.xb[:, 0])[0, 1]) < 0.2  # x_b's channel 0 is noise


def test_make_mvd_is_reproducible_and_split():
    spec = gamma_setting(4)
    a, b, c = make_mvd(spec, 20, 30, seed=1), make_mvd(spec, 20, 30, seed=1), make_mvd(spec, 20, 30, seed=2)
    np.testing.assert_array_equal(a.modalities["xa"], b.modalities["xa"])
    assert not np.array_equal(a.modalities["xa"], c.modalities["xa"])
    assert a.task == "classification" and len(a.train_idx) == 20 and len(a.test_idx) == 30


def test_precision_at_k():
    assert mfh.precision_at_k([0.1, 0.9, 0.8, 0.2], [1, 2]) == 1.0
    assert mfh.precision_at_k([0.9, 0.1, 0.8, 0.2], [1, 2]) == 0.5
    assert np.isnan(mfh.precision_at_k([0.1, 0.2], []))


def test_algorithm1_recovers_the_shared_channels():
    # Modality a: decisive channels 0..9, all of equal weight (delta = 1); modality b
    # sees 0..3 of them. Channels 4..9 are decisive for the teacher only, 10..19 are
    # noise. Permuting channel i moves the aligned distance by about 2 w_a,i w_b,i, so
    # Algorithm 1 must put 0..3 on top and cannot tell 4..9 from noise.
    spec = MVDSpec(d1=20, d2=20, d=10, J1=tuple(range(10)), J2=(0, 1, 2, 3))
    seeds = [0, 1]
    samples = [sample_mvd(spec, 1000, np.ones(spec.d), np.random.default_rng(seed)) for seed in seeds]
    xa = torch.as_tensor(np.stack([s.xa for s in samples]))
    xb = torch.as_tensor(np.stack([s.xb for s in samples]))
    y = torch.as_tensor(np.stack([s.y for s in samples]))
    pair = mfh.fit_aligned_pair(seeds, xa, xb, y, dict(epochs=300, lr=0.1, optimiser="sgd"))
    salience = mfh.permutation_salience(pair.fa, pair.fb, xa, xb, repeats=3, seeds=seeds)
    assert salience.shape == (2, 20) and np.allclose(salience.max(axis=1), 1.0)
    for i in range(2):
        assert mfh.precision_at_k(salience[i], spec.shared) == 1.0
        groups = mfh.salience_by_group(salience[i], spec)
        assert groups["sal_shared"] > groups["sal_specific"] + 0.5
        assert abs(groups["sal_specific"] - groups["sal_noise"]) < 0.05


def test_teacher_channels_and_their_gamma():
    spec = beta0_setting(0.5, d1=30, d2=30, d=10)  # J1 = 0..9, J2 = 0..4
    salience = np.zeros(30)
    salience[[0, 1, 2, 3, 9]] = 1.0  # a ranking that gets 4 of the 5 shared channels
    general = mfh.teacher_channels("general", spec, salience, seed=0)
    top = mfh.teacher_channels("alg1_general", spec, salience, seed=0)
    rest = mfh.teacher_channels("alg1_specific", spec, salience, seed=0)
    assert general == [0, 1, 2, 3, 4] and top == [0, 1, 2, 3, 9] and sorted(top + rest) == list(range(30))
    assert mvd_shares(set(spec.J1) & set(general), spec.J2)[0] == 1.0
    assert mvd_shares(set(spec.J1) & set(top), spec.J2)[0] == pytest.approx(4 / 6)
    assert len(mfh.teacher_channels("random", spec, salience, seed=3)) == 5


SMALL = dict(n_train=100, n_test=150, epochs=40, lr=0.1, optimiser="sgd", rho=0.5, temperature=1.0,
             alg1_repeats=2, mi_method="ksg", mi_options={})


def test_settings_name_a_mistyped_setting():
    with pytest.raises(ValueError, match="'alg1_repeats' must be int"):
        mfh.Settings.from_dict({**SMALL, "alg1_repeats": "2"})


def test_run_cell_rows_and_seed_independence():
    condition = mfh.spec_condition("table2", 0.5, beta0_setting(0.5, d1=12, d2=12, d=8), mfh.TEACHERS)
    both = mfh.run_cell(condition, [0, 1], SMALL)
    alone = mfh.run_cell(condition, [1], SMALL)
    assert pd.DataFrame(both[1]).equals(pd.DataFrame(alone[1]))
    rows = pd.DataFrame(both[0])
    assert list(rows.teacher) == list(mfh.TEACHERS)
    assert {"setting", "gamma", "alpha", "seed", "teacher_acc", "acc_nokd", "acc_kd", "mi_ts", "mi_sl"} <= set(rows.columns)
    assert (rows.acc_nokd == rows.acc_nokd.iloc[0]).all()  # one baseline per seed
    assert rows[["mi_ts_null", "mi_sl_null"]].notna().all().all()
    assert mfh.condition_table(pd.DataFrame(both[0] + both[1])).mi_gap_null_se.notna().all()
    general = rows.set_index("teacher").loc["general"]
    assert general.teacher_gamma == 1.0 and general.teacher_channels == 4
    assert rows.set_index("teacher").loc["regular"].teacher_gamma == pytest.approx(0.5)


def test_criterion_agreement_counts_signs_and_ranks():
    table = pd.DataFrame({
        "setting": ["s"] * 4,
        "mi_gap": [-1.0, -0.5, 0.5, 1.0],
        "kd_gain": [-0.2, 0.1, 0.3, 0.4],
        "mfh_gamma": [0.9, 0.7, 0.2, 0.1],
    })
    out = mfh.criterion_agreement(table, "setting").set_index("setting")
    assert out.loc["s", "KD helped"] == 3
    assert out.loc["s", "CCH sign agreements"] == 3  # misses only the second row
    assert out.loc["s", "MFH sign agreements"] == 1  # gamma > 0.5 on rows 1-2: right only on row 2
    assert out.loc["s", "Spearman(MI gap, KD gain)"] == pytest.approx(1.0)
    assert out.loc["s", "Spearman(MFH gamma, KD gain)"] == pytest.approx(-1.0)
    assert out.loc["all", "conditions"] == 4
    assert np.isnan(stats.spearman_rho([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="mfh_gamma"):
        mfh.criterion_agreement(table.drop(columns="mfh_gamma"), "setting")


def test_condition_table_pairs_gains_by_seed():
    rows = pd.DataFrame({
        "setting": ["g"] * 3, "level": [1.0] * 3, "teacher": ["regular"] * 3, "seed": [0, 1, 2],
        "gamma": [0.5] * 3, "alpha": [0.25] * 3, "teacher_gamma": [0.5] * 3, "teacher_acc": [80.0] * 3,
        "acc_nokd": [60.0, 70.0, 80.0], "acc_kd": [61.0, 71.0, 81.0],
        "mi_ts": [0.5, 0.6, 0.7], "mi_sl": [0.2, 0.2, 0.2], "alg1_precision": [1.0] * 3,
    })
    out = mfh.condition_table(rows).iloc[0]
    assert out.kd_gain == pytest.approx(1.0) and out.kd_gain_se == pytest.approx(0.0)
    assert out.mi_gap == pytest.approx(0.4) and out.n_seeds == 3


def test_information_shares_bookkeeping():
    gamma, alpha, beta = mfh.information_shares(0.3, 0.6, 0.6, p=5)
    assert gamma + alpha + beta == pytest.approx(1.0)
    assert alpha == pytest.approx(beta)  # the two modalities are exchangeable here
    # the teacher's modality carries more label information: its unique share is larger
    gamma, alpha, beta = mfh.information_shares(0.3, 0.9, 0.4, p=5)
    assert alpha > beta


def test_decision_value_networks_are_logistic_regressions_read_through_z1_minus_z0():
    x = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))
    net = DecisionValueLR([0, 1], 3, "teacher")
    z = net(x)
    assert torch.equal(z, logistic_regression([0, 1], 3, "teacher")(x))
    assert torch.equal(net.features(x), (z[..., 1] - z[..., 0])[..., None])
