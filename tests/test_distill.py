import math

import pytest
import torch

from cchlib.distill import classification_kd_loss, cross_entropy, regression_kd_loss


def test_regression_kd_loss_hand_computed():
    student = torch.tensor([1.0, 2.0])
    target = torch.tensor([0.0, 2.0])
    teacher = torch.tensor([1.0, 4.0])
    # label MSE = (1 + 0)/2 = 0.5; teacher MSE = (0 + 4)/2 = 2
    assert regression_kd_loss(student, target, teacher, 0.5).item() == pytest.approx(0.5 + 0.5 * 2)
    assert regression_kd_loss(student, target, teacher, 0.0).item() == pytest.approx(0.5)


def test_regression_kd_loss_per_model_lambda():
    student = torch.zeros(2, 3, 1)
    target = torch.ones(2, 3, 1)
    teacher = torch.full((2, 3, 1), 2.0)
    losses = regression_kd_loss(student, target, teacher, torch.tensor([0.0, 1.0]))
    assert torch.allclose(losses, torch.tensor([1.0, 5.0]))


def test_regression_kd_loss_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        regression_kd_loss(torch.zeros(3), torch.zeros(4), torch.zeros(3), 0.1)


def test_classification_kd_loss_hand_computed():
    student = torch.tensor([[0.0, math.log(3.0)]])  # softmax = [1/4, 3/4]
    teacher = torch.tensor([[0.0, 0.0]])  # softmax = [1/2, 1/2]
    labels = torch.tensor([1])
    ce = -math.log(0.75)
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    loss = classification_kd_loss(student, labels, teacher, lam=0.4, temperature=1.0)
    assert loss.item() == pytest.approx(0.6 * ce + 0.4 * kl, rel=1e-6)


def test_classification_kd_loss_temperature_squared_factor():
    student = torch.tensor([[0.0, math.log(3.0) * 2]])  # at T = 2: softmax = [1/4, 3/4]
    teacher = torch.tensor([[0.0, 0.0]])
    labels = torch.tensor([0])
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    loss = classification_kd_loss(student, labels, teacher, lam=1.0, temperature=2.0)
    assert loss.item() == pytest.approx(4 * kl, rel=1e-6)


def test_classification_kd_loss_rejects_bad_temperature():
    with pytest.raises(ValueError, match="temperature"):
        classification_kd_loss(torch.zeros(1, 2), torch.tensor([0]), torch.zeros(1, 2), 0.5, 0.0)


def test_cross_entropy_hand_computed_and_equal_to_eq2_without_teacher():
    logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0]]])  # p(class 0) = 1/2, 3/4
    labels = torch.tensor([[0, 1]])
    expected = (math.log(2.0) + math.log(4.0)) / 2
    assert cross_entropy(logits, labels).item() == pytest.approx(expected)
    assert torch.allclose(cross_entropy(logits, labels), classification_kd_loss(logits, labels, logits, 0.0, 2.0))
