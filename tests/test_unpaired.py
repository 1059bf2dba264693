"""Unpaired distillation: W1 against POT, label alignment by hand, and the no-pairing proof."""

import json
import numpy as np
import pandas as pd
import pytest
import torch

ot = pytest.importorskip("ot")

from cchlib.experiments import unpaired as exp  # noqa: E402
from cchlib.models import StackedMLP  # noqa: E402
from cchlib.unpaired import (  # noqa: E402
    StudentCopies,
    TeacherSet,
    alignment_metrics,
    class_mean_probs,
    feature_alignment_loss,
    fit_students,
    label_alignment,
    label_alignment_loss,
    quantile_summary,
    random_directions,
    sliced_wasserstein,
    teacher_summary,
    wasserstein_1d,
)

torch.set_num_threads(1)


# ------------------------------------------------------------------ Wasserstein-1 vs POT


@pytest.mark.parametrize("n, m", [(5, 5), (7, 4), (3, 11), (1, 6)])
def test_wasserstein_1d_matches_pot(n, m):
    rng = np.random.default_rng(n * 100 + m)
    a, b = rng.normal(size=n), rng.normal(size=m) * 2 + 0.3
    ours = float(wasserstein_1d(torch.tensor(a), torch.tensor(b)))
    cost = np.abs(a[:, None] - b[None, :])
    assert ours == pytest.approx(ot.emd2(np.full(n, 1 / n), np.full(m, 1 / m), cost), abs=1e-10)
    assert ours == pytest.approx(ot.wasserstein_1d(a, b, p=1), abs=1e-10)


def test_wasserstein_1d_is_batched_over_leading_dims():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 3, 4))
    ours = wasserstein_1d(torch.tensor(a), torch.tensor(b)).numpy()
    expected = [[ot.wasserstein_1d(a[i, j], b[i, j], p=1) for j in range(3)] for i in range(2)]
    np.testing.assert_allclose(ours, expected, atol=1e-10)


def test_sliced_wasserstein_matches_pot_with_the_same_directions():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=(6, 3)) + [1.0, 0.0, -0.5]
    directions = random_directions(3, 20, seed=0).double()
    ours = float(sliced_wasserstein(torch.tensor(x), torch.tensor(y), directions))
    pot = ot.sliced_wasserstein_distance(x, y, p=1, projections=directions.numpy())
    assert ours == pytest.approx(float(pot), abs=1e-10)
    # And direction by direction against the exact transport problem.
    per_direction = [
        ot.emd2(np.full(9, 1 / 9), np.full(6, 1 / 6), np.abs((x @ d)[:, None] - (y @ d)[None, :]))
        for d in directions.numpy().T
    ]
    assert ours == pytest.approx(np.mean(per_direction), abs=1e-10)


def test_sliced_wasserstein_is_zero_for_equal_sets_and_has_gradients():
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    directions = random_directions(4, 10, seed=1)
    assert float(sliced_wasserstein(x.detach(), x.detach()[torch.randperm(8)], directions)) == pytest.approx(0.0, abs=1e-6)
    shifted = x.detach() + 1.0
    sliced_wasserstein(x, shifted, directions).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_quantile_summary_with_as_many_quantiles_as_points_is_the_sorted_sample():
    values = torch.tensor([[3.0, -1.0, 2.0, 0.5]])
    np.testing.assert_array_equal(quantile_summary(values, 4).numpy(), [[-1.0, 0.5, 2.0, 3.0]])
    # Two quantiles of four points: the midpoints 1/4 and 3/4 pick the 2nd and 4th values.
    np.testing.assert_array_equal(quantile_summary(values, 2).numpy(), [[0.5, 3.0]])


def test_w1_shape_errors_are_clear():
    with pytest.raises(ValueError, match="leading shapes"):
        wasserstein_1d(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="feature widths"):
        sliced_wasserstein(torch.zeros(4, 3), torch.zeros(4, 2), random_directions(3, 2, 0))


# ------------------------------------------------------------------ label alignment by hand


def test_class_mean_probs_and_label_alignment_by_hand():
    # Logits equal to log-probabilities, so softmax returns these probabilities exactly.
    probs = torch.tensor([[0.8, 0.2], [0.6, 0.4], [0.1, 0.9]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1])
    q = class_mean_probs(probs.log(), labels, 2)
    np.testing.assert_allclose(q.numpy(), [[0.7, 0.3], [0.1, 0.9]], atol=1e-12)
    q_student = torch.tensor([[0.5, 0.5], [0.2, 0.8]], dtype=torch.float64)
    kl0 = 0.7 * np.log(0.7 / 0.5) + 0.3 * np.log(0.3 / 0.5)
    kl1 = 0.1 * np.log(0.1 / 0.2) + 0.9 * np.log(0.9 / 0.8)
    assert float(label_alignment(q, q_student)) == pytest.approx((kl0 + kl1) / 2, abs=1e-12)
    weights = torch.tensor([0.25, 0.75], dtype=torch.float64)
    assert float(label_alignment(q, q_student, weights)) == pytest.approx(0.25 * kl0 + 0.75 * kl1, abs=1e-12)
    assert float(label_alignment(q, q)) == pytest.approx(0.0, abs=1e-12)


def test_class_mean_probs_temperature_and_missing_class():
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    q = class_mean_probs(logits, torch.tensor([0, 1]), 2, temperature=2.0)
    p = 1 / (1 + np.exp(-1.0))  # softmax of (1, 0)
    np.testing.assert_allclose(q.numpy(), [[p, 1 - p], [1 - p, p]], atol=1e-12)
    with pytest.raises(ValueError, match="every class"):
        class_mean_probs(logits, torch.tensor([0, 0]), 2)


def test_alignment_metrics_vanish_for_identical_sets_and_grow_with_a_shift():
    g = torch.Generator().manual_seed(0)
    h, logits, labels = torch.randn(40, 3, generator=g), torch.randn(40, 2, generator=g), torch.arange(40) % 2
    same = {"features": h, "logits": logits, "labels": labels}
    directions = random_directions(3, 16, seed=0)
    fa, la = alignment_metrics(same, same, 2, directions, 1.0)
    assert fa == pytest.approx(0.0, abs=1e-6) and la == pytest.approx(0.0, abs=1e-6)
    shifted = {"features": h + 1.0, "logits": logits + torch.tensor([2.0, 0.0]), "labels": labels}
    fa, la = alignment_metrics(shifted, same, 2, directions, 1.0)
    assert fa > 0.1 and la > 0.01


# ------------------------------------------------------------------ the no-pairing proof


def _toy_problem():
    """Three classes; a student dataset (x, y) and a teacher set paired row by row with it."""
    g = torch.Generator().manual_seed(0)
    n, k = 60, 3
    y = torch.arange(n) % k
    x = torch.randn(n, 5, generator=g) + y[:, None].float()
    t_feats = torch.randn(n, 4, generator=g) + 0.5 * y[:, None].float()
    t_logits = torch.randn(n, k, generator=g) + 2.0 * torch.nn.functional.one_hot(y, k)
    return x, y, TeacherSet(t_feats, t_logits, y.clone())


def _permuted(teacher: TeacherSet, perm) -> TeacherSet:
    return TeacherSet(teacher.features[perm], teacher.logits[perm], teacher.labels[perm])


def _train(teacher: TeacherSet, x, y, methods) -> StackedMLP:
    """Train one copy per method (same seed, so same initialisation and batches)."""
    weights = {"kd_paired": (0.5, 0.0, 0.0), "fa_la": (0.0, 1.0, 1.0), "fa": (0.0, 1.0, 0.0), "la": (0.0, 0.0, 1.0)}
    m = len(methods)
    lam = torch.tensor([weights[k] for k in methods])
    model = StackedMLP([3] * m, x.shape[1], [4], 3, role="student")
    copies = StudentCopies(
        x_source=torch.zeros(m, dtype=torch.long), teacher_source=torch.zeros(m, dtype=torch.long),
        pairing=torch.arange(len(y)).expand(m, -1), lam_kd=lam[:, 0], lam_fa=lam[:, 1], lam_la=lam[:, 2],
    )
    fit_students(
        model, x[None], y[None], [teacher], copies, n_classes=3, epochs=4, lr=0.01, per_class=4,
        temperature=2.0, n_directions=8, n_quantiles=6,
    )
    return model


def _copy_params(model: StackedMLP, m: int) -> torch.Tensor:
    return torch.cat([p[m].flatten() for p in model.parameters()])


def test_teacher_summary_and_loss_ignore_the_order_of_teacher_rows():
    _, y, teacher = _toy_problem()
    directions = random_directions(4, 8, seed=0)
    within = torch.as_tensor(exp.within_class_permutation(y.numpy(), seed=1))
    across = torch.randperm(len(y), generator=torch.Generator().manual_seed(2))
    g = torch.Generator().manual_seed(3)
    feats, logits = torch.randn(1, 3, 5, 4, generator=g), torch.randn(1, 3, 5, 3, generator=g)

    def loss(summary):
        q, p = summary
        return feature_alignment_loss(feats, directions[None], q[None]) + label_alignment_loss(logits, p[None], 2.0)

    base = teacher_summary(teacher, directions, 6, 3, 2.0)
    for perm in (within, across):
        q, p = teacher_summary(_permuted(teacher, perm), directions, 6, 3, 2.0)
        assert torch.equal(q, base[0])
        torch.testing.assert_close(p, base[1], rtol=0, atol=1e-6)
        torch.testing.assert_close(loss((q, p)), loss(base), rtol=0, atol=1e-6)
    # Control: scrambling which label each teacher row carries does change the loss.
    scrambled = TeacherSet(teacher.features, teacher.logits, teacher.labels[across])
    assert (loss(teacher_summary(scrambled, directions, 6, 3, 2.0)) - loss(base)).abs().item() > 1e-3


def test_unpaired_students_do_not_depend_on_the_pairing():
    """Shuffling the teacher's rows within or across classes leaves FA/LA students unchanged;
    paired KD (positive control) changes, and so does an unpaired student whose teacher
    labels are scrambled (so the test can see a change when there is one)."""
    x, y, teacher = _toy_problem()
    methods = ["fa_la", "fa", "la", "kd_paired"]
    within = torch.as_tensor(exp.within_class_permutation(y.numpy(), seed=1))
    across = torch.randperm(len(y), generator=torch.Generator().manual_seed(2))
    assert (y[within] == y).all() and (y[across] != y).any()
    reference = _train(teacher, x, y, methods)
    for perm in (within, across):
        shuffled = _train(_permuted(teacher, perm), x, y, methods)
        for m in range(3):  # the unpaired copies
            torch.testing.assert_close(_copy_params(shuffled, m), _copy_params(reference, m), rtol=0, atol=1e-5)
        assert (_copy_params(shuffled, 3) - _copy_params(reference, 3)).abs().max() > 1e-3
    scrambled = TeacherSet(teacher.features, teacher.logits, teacher.labels[across])
    changed = _train(scrambled, x, y, methods)
    assert (_copy_params(changed, 0) - _copy_params(reference, 0)).abs().max() > 1e-3


def test_within_class_permutation_keeps_classes_and_moves_rows():
    labels = np.repeat([0, 1, 2], 20)
    perm = exp.within_class_permutation(labels, seed=0)
    assert sorted(perm) == list(range(60))
    assert (labels[perm] == labels).all() and (perm != np.arange(60)).mean() > 0.5


def test_fit_students_rejects_a_mismatched_plan():
    x, y, teacher = _toy_problem()
    model = StackedMLP([0, 1], 5, [4], 3)
    copies = StudentCopies(
        x_source=torch.zeros(1, dtype=torch.long), teacher_source=torch.zeros(1, dtype=torch.long),
        pairing=torch.arange(len(y))[None], lam_kd=torch.zeros(1), lam_fa=torch.zeros(1), lam_la=torch.zeros(1),
    )
    with pytest.raises(ValueError, match="copies planned"):
        fit_students(model, x[None], y[None], [teacher], copies, n_classes=3, epochs=1, lr=0.01, per_class=2,
                     temperature=1.0, n_directions=2, n_quantiles=2)


# ------------------------------------------------------------------ the experiment cell


SETTINGS = dict(
    hidden=[8], activation="relu", lr=0.01, batch_size=50, teacher_epochs=3, epochs=3, per_class=10,
    temperature=2.0, lam=0.5, lam_fa=1.0, lam_la=1.0, strong_factor=10.0, n_directions=8, n_quantiles=8, eval_directions=8,
    mi_method="ksg", mi_options={}, mi_samples=100, n_train=100, n_test=120, d1=25, d2=50, d=20, n_each=10,
)


def test_mvd_cell_rows_and_seed_batching(tmp_path, monkeypatch):
    log = tmp_path / "devices.jsonl"
    monkeypatch.setenv("CCH_DEVICE_LOG", str(log))
    monkeypatch.setenv("CCH_DEVICE", "cpu")
    both = exp.run_cell({"dataset": "mvd", "overlap": 5}, [0, 1], SETTINGS)
    assert {"module": "cchlib.experiments.unpaired", "device": "cpu"} in map(json.loads, log.read_text().splitlines())
    alone = exp.run_cell({"dataset": "mvd", "overlap": 5}, [1], SETTINGS)
    rows = pd.DataFrame(both[0] + both[1])
    assert set(exp.METHODS) == set(rows.method)
    for column in ["dataset", "condition", "method", "seed", "acc", "fa", "la", "mi_ts", "mi_sl", "mi_ts_shuffled",
                   "mi_ts_null", "mi_sl_null"]:
        assert rows[column].notna().all(), column
    assert (rows[rows.method == "nokd"].gain == 0).all()
    pd.testing.assert_frame_equal(pd.DataFrame(both[1]), pd.DataFrame(alone[1]), atol=1e-6)
    summary = exp.summarise(rows)
    scorecard = exp.cch_predictions(summary)
    # one row per prediction: paired KD (true-pair gap) and KD on shuffled pairs (the shuffled
    # gap, which FA and LA would only repeat)
    assert len(scorecard) == 2 and scorecard.condition.str.endswith("kd_paired").sum() == 1
    paired = summary[summary.method == "kd_paired"].iloc[0]
    shuffled = summary[summary.method == "kd_shuffled"].iloc[0]
    assert scorecard.mi_gap.iloc[0] == pytest.approx(paired.mi_gap)
    assert scorecard.mi_gap.iloc[1] == pytest.approx(shuffled.mi_gap_shuffled)
    assert scorecard.mi_gap_null.iloc[0] == pytest.approx(paired.mi_gap_null)
    assert (scorecard.n_seeds == 2).all() and scorecard.independent_data.all()  # MVD draws data per seed


def test_bad_conditions_are_refused():
    with pytest.raises(ValueError, match="dataset"):
        exp.run_cell({"dataset": "imagenet"}, [0], SETTINGS)
    with pytest.raises(ValueError, match="unknown method"):
        exp.method_weights("teleport", exp.MVDSettings.from_dict(SETTINGS))


def test_settings_name_a_mistyped_or_foreign_setting():
    with pytest.raises(ValueError, match="'n_each' must be int"):
        exp.MVDSettings.from_dict({**SETTINGS, "n_each": 10.0})
    mnist = {k: v for k, v in SETTINGS.items() if k not in ("d1", "d2", "d", "n_each")}
    mnist.update(gammas=[0.0], student_channels=1, recipe="paper", mnistm_seed=0, threshold=0.5, mnist_path=None,
                 bsds_path=None)
    with pytest.raises(ValueError, match="'mnistm_seed' must be int"):
        exp.MNISTSettings.from_dict({**mnist, "mnistm_seed": "0"})
    with pytest.raises(ValueError, match="no setting 'd1'"):  # an MVD setting in an MNIST cell
        exp.run_cell({"dataset": "mnist", "alpha": 0.2}, [0], {**mnist, "d1": 25})
