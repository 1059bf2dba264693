import numpy as np
import pytest

from cchlib.data import PairedDataset
from cchlib.data.synthetic import input_mis, make_synthetic, sample_synthetic, sampler_coefficients, sampler_covariance


def test_sampler_covariance_matches_empirical():
    rng = np.random.default_rng(0)
    x1, x2, y = sample_synthetic(0.5, 0.9, 0.4, n=200_000, p=4, rng=rng)
    empirical = np.cov(np.hstack([x1, x2, y[:, None]]), rowvar=False)
    exact = sampler_covariance(0.5, 0.9, 0.4, p=4)
    assert np.abs(empirical - exact).max() < 0.015


def test_sampler_covariance_is_not_eq7_identity_blocks():
    cov = sampler_covariance(0.3, 0.9, 0.4, p=3)
    cov22 = cov[3:6, 3:6]
    assert np.allclose(np.diag(cov22), 1.0)
    assert np.allclose(cov22[0, 1], 0.4**2)  # coordinates share Y: not the identity
    # per-coordinate correlations are the intended ones
    assert np.isclose(cov[0, 3], 0.3) and np.isclose(cov[0, -1], 0.9) and np.isclose(cov[3, -1], 0.4)
    assert np.isclose(cov[0, 0], 1.0)


def test_negative_noise_variance_is_refused():
    with pytest.raises(ValueError, match="not a valid correlation triple.*must lie in \\[-0.039, 0.759\\]"):
        sampler_coefficients(0.9, 0.9, 0.4)
    assert sampler_coefficients(0.7, 0.9, 0.4).v > 0


def test_make_synthetic_split_and_determinism():
    a = make_synthetic(0.3, n_train=50, n_test=20, p=5, seed=3)
    b = make_synthetic(0.3, n_train=50, n_test=20, p=5, seed=3)
    c = make_synthetic(0.3, n_train=50, n_test=20, p=5, seed=4)
    assert a.n_samples == 70 and a.task == "regression"
    assert np.array_equal(a.modalities["x1"], b.modalities["x1"])
    assert not np.array_equal(a.modalities["x1"], c.modalities["x1"])
    (train, y_train), (test, y_test) = a.split("train"), a.split("test")
    assert train["x2"].shape == (50, 5) and test["x1"].shape == (20, 5) and y_test.shape == (20,)


def _dataset(**overrides):
    fields = dict(
        modalities={"a": np.zeros((4, 2)), "b": np.ones((4, 3))},
        labels=np.array([0, 1, 0, 1]),
        train_idx=np.array([0, 1, 2]),
        test_idx=np.array([3]),
    )
    fields.update(overrides)
    return PairedDataset(**fields)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"modalities": {"a": np.zeros((3, 2))}}, "has 3 samples but there are 4 labels"),
        ({"modalities": {"a": np.array([[0.0], [np.nan], [1.0], [2.0]])}}, "NaN/inf"),
        ({"labels": np.array(["x", "y", "x", "y"])}, "dtype"),
        ({"labels": np.array([0.0, np.inf, 1.0, 2.0])}, "NaN or inf"),
        ({"test_idx": np.array([], dtype=int)}, "test split is empty"),
        ({"test_idx": np.array([2])}, "overlap"),
        ({"train_idx": np.array([0, 9])}, "integer indices"),
        ({"modalities": {}}, "at least one modality"),
    ],
)
def test_validation_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        _dataset(**overrides)


def test_valid_dataset_task():
    assert _dataset().task == "classification"


def test_input_mis_are_the_gaussian_mutual_informations():
    """p = 1: I(X1;X2) = -log(1 - s12^2)/2 and I(X2;Y) = -log(1 - s23^2)/2; p > 1 adds up shared evidence."""
    mi12, mi2y = input_mis(0.5, 0.9, 0.4, p=1)
    assert mi12 == pytest.approx(-0.5 * np.log(1 - 0.25)) and mi2y == pytest.approx(-0.5 * np.log(1 - 0.16))
    many12, many2y = input_mis(0.5, 0.9, 0.4, p=100)
    assert many2y > mi2y and many12 > mi12
