"""I(Y; H_T | H_S) (cchlib.mi.conditional) against values known in closed form."""

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from cchlib import criteria
from cchlib.mi import conditional


def _gaussian_regression(n: int, seed: int):
    """y = s0 + s1 + t + e with t = 0.6 s0 + 0.8 u: I(y; t | s) = 0.5 log((0.64 + 0.49) / 0.49)."""
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((n, 3))
    t = 0.6 * s[:, :1] + 0.8 * rng.standard_normal((n, 1))
    y = s[:, :1] + s[:, 1:2] + t + 0.7 * rng.standard_normal((n, 1))
    return t, s, y, 0.5 * np.log((0.64 + 0.49) / 0.49)


def _binary_mixture_information(mu: float) -> float:
    """I(Y; X) for Y uniform on {0, 1} and X | Y ~ N(+-mu, 1): h(X) - h(X | Y), by quadrature."""
    density = lambda x: 0.5 * sps.norm.pdf(x - mu) + 0.5 * sps.norm.pdf(x + mu)  # noqa: E731
    h_x = integrate.quad(lambda x: -density(x) * np.log(density(x)), -15, 15)[0]
    return h_x - 0.5 * np.log(2 * np.pi * np.e)


def test_probe_cmi_of_a_gaussian_linear_model_matches_the_closed_form():
    t, s, y, exact = _gaussian_regression(4000, 0)
    assert conditional.probe_cmi(t, s, y, seed=1) == pytest.approx(exact, abs=0.04)
    # the teacher alone is not what counts: swapping roles gives I(y; s | t), a different number
    assert conditional.probe_cmi(s, t, y, seed=1) > exact + 0.3


def test_knn_cmi_of_a_gaussian_linear_model_matches_the_closed_form():
    t, s, y, exact = _gaussian_regression(4000, 0)
    assert conditional.knn_cmi(t, s, y, seed=1) == pytest.approx(exact, abs=0.1)


@pytest.mark.parametrize("estimator", [conditional.probe_cmi, conditional.knn_cmi])
def test_cmi_of_classes_from_a_teacher_the_student_lacks(estimator):
    """Y binary, the teacher a Gaussian mixture around +-1, the student independent noise:
    I(Y; T | S) = I(Y; T), known by a 1-D integral (and a logistic probe is Bayes-optimal)."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 4000)
    t = (2 * y - 1)[:, None] + rng.standard_normal((4000, 1))
    s = rng.standard_normal((4000, 4))
    assert estimator(t, s, y, seed=3) == pytest.approx(_binary_mixture_information(1.0), abs=0.04)


@pytest.mark.parametrize("estimator", [conditional.probe_cmi, conditional.knn_cmi])
def test_cmi_is_near_zero_when_the_student_already_has_the_teachers_information(estimator):
    rng = np.random.default_rng(4)
    s = rng.standard_normal((3000, 4))
    t = s[:, :1] + 0.01 * rng.standard_normal((3000, 1))  # a noisy copy of what the student has
    y = (s[:, 0] + 0.5 * rng.standard_normal(3000) > 0).astype(int)
    assert abs(estimator(t, s, y, seed=5)) < 0.03


def test_probe_information_of_a_gaussian_channel_and_its_errors():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4000, 1))
    y = x + 0.5 * rng.standard_normal((4000, 1))
    assert conditional.probe_information(x, y, seed=0) == pytest.approx(0.5 * np.log(1.25 / 0.25), abs=0.04)
    assert conditional.probe_information(x, y, seed=0) == conditional.probe_information(x, y, seed=0)  # seeded
    with pytest.raises(ValueError, match="same rows"):
        conditional.probe_information(x[:10], y[:11])
    with pytest.raises(ValueError, match="at least 4 rows"):
        conditional.probe_information(x[:3], y[:3])


def test_knn_cmi_is_nan_with_a_warning_when_a_class_is_too_rare():
    rng = np.random.default_rng(7)
    y = np.array([0] * 50 + [1] * 2)
    with pytest.warns(UserWarning, match="knn_cmi"):
        assert np.isnan(conditional.knn_cmi(rng.standard_normal((52, 2)), rng.standard_normal((52, 2)), y))


def test_headroom_and_soft_label_information():
    labels = np.array([0, 1, 1, 0])
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0], [1.0, 0.0]])  # one of four wrong
    assert criteria.headroom(logits, labels, "classification") == 0.25
    y = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert criteria.headroom(y + 0.5, y, "regression") == pytest.approx(0.25 / 1.25)
    rng = np.random.default_rng(8)
    classes = rng.integers(0, 3, 3000)
    informative = np.eye(3)[classes] * 2 + rng.standard_normal((3000, 3))
    assert criteria.soft_label_information(informative, classes) > 0.3
    assert abs(criteria.soft_label_information(rng.standard_normal((3000, 3)), classes)) < 0.02
