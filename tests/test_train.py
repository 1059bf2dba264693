import pytest
import torch

from cchlib.models import StackedMLP
from cchlib.train import accuracy, fit, predict


def _mse(out, batch):
    return ((out - batch["y"]) ** 2).mean(dim=(-2, -1))


def _data(n_models, n=64, d=5):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n_models, n, d, generator=g)
    y = x[..., :1] * 2 - x[..., 1:2]
    return x, y


def _train(seeds, epochs=5):
    model = StackedMLP(seeds, 5, [8], 1, role="student")
    x, y = _data(len(seeds))
    curve = fit(model, x, {"y": y}, _mse, epochs=epochs, lr=0.01, batch_size=16)
    return model, curve, predict(model, x)


def test_training_is_deterministic_for_a_seed():
    _, curve_a, out_a = _train([3, 4])
    _, curve_b, out_b = _train([3, 4])
    assert curve_a == curve_b
    assert torch.equal(out_a, out_b)


def test_a_copy_does_not_depend_on_its_stack_mates():
    x, y = _data(1)
    alone = StackedMLP([7], 5, [8], 1)
    fit(alone, x, {"y": y}, _mse, epochs=4, lr=0.01, batch_size=16)
    stacked = StackedMLP([7, 8], 5, [8], 1)
    x2 = torch.cat([x, _data(2)[0][1:]])
    y2 = torch.cat([y, _data(2)[1][1:]])
    fit(stacked, x2, {"y": y2}, _mse, epochs=4, lr=0.01, batch_size=16)
    assert torch.allclose(predict(alone, x)[0], predict(stacked, x2)[0], atol=1e-5)


def test_different_seeds_and_roles_start_differently():
    a = StackedMLP([0, 1], 5, [8], 1, role="teacher")
    b = StackedMLP([0], 5, [8], 1, role="student")
    assert not torch.equal(a.weights[0][0], a.weights[0][1])
    assert not torch.equal(a.weights[0][0], b.weights[0][0])


def test_stack_matches_independent_linear_layers():
    model = StackedMLP([0, 1], 5, [8], 1)
    x = torch.randn(2, 10, 5)
    for m in range(2):
        h = torch.relu(x[m] @ model.weights[0][m] + model.biases[0][m])
        expected = h @ model.weights[1][m] + model.biases[1][m]
        assert torch.allclose(model(x)[m], expected, atol=1e-6)


def test_training_reduces_the_loss():
    _, curve, _ = _train([0, 1, 2], epochs=30)
    assert curve[-1] < 0.5 * curve[0]


def test_leaky_relu_activation_and_unknown_activation():
    import pytest

    model = StackedMLP([0], 3, [4], 1, activation="leaky_relu")
    h = model.features(torch.full((1, 2, 3), -10.0))
    assert (h < 0).any()  # leaky units pass negative values, ReLU would not
    with pytest.raises(ValueError, match="unknown activation"):
        StackedMLP([0], 3, [4], 1, activation="tanh")


def test_sgd_optimiser_trains_and_unknown_optimiser_is_refused():
    import pytest

    model = StackedMLP([0], 5, [8], 1)
    x, y = _data(1)
    curve = fit(model, x, {"y": y}, _mse, epochs=20, lr=0.05, batch_size=16, optimiser="sgd")
    assert curve[-1] < curve[0]
    with pytest.raises(ValueError, match="unknown optimiser"):
        fit(model, x, {"y": y}, _mse, epochs=1, lr=0.05, batch_size=16, optimiser="lbfgs")


def _bias_sum(out, batch):
    """A loss whose gradient w.r.t. the output bias is 1 per copy, whatever the weights."""
    return out.mean(dim=(-2, -1))


def test_cosine_schedule_scales_each_epoch_step():
    model = StackedMLP([0], 3, [], 1)
    before = model.biases[-1].detach().clone()
    x = torch.zeros(1, 4, 3)
    fit(model, x, {}, _bias_sum, epochs=4, lr=0.1, batch_size=4, optimiser="sgd", schedule="cosine")
    factors = [0.5 * (1 + torch.cos(torch.tensor(torch.pi * e / 4))) for e in range(4)]
    expected = before - 0.1 * sum(factors)
    assert torch.allclose(model.biases[-1], expected, atol=1e-6)


def test_adamw_decays_weights_when_the_gradient_is_zero():
    model = StackedMLP([0], 3, [], 1)
    w0 = model.weights[0].detach().clone()
    x = torch.zeros(1, 8, 3)
    fit(model, x, {}, lambda out, b: (out * 0).sum(dim=(-2, -1)), epochs=3, lr=0.1, batch_size=4,
        optimiser="adamw", weight_decay=0.5)
    assert torch.allclose(model.weights[0], w0 * (1 - 0.1 * 0.5) ** 6, atol=1e-6)


def test_single_sample_last_batch_is_skipped_and_model_left_in_eval_mode():
    model = StackedMLP([0], 3, [], 1)
    seen = []
    fit(model, torch.zeros(1, 5, 3), {}, lambda out, b: seen.append(out.shape[1]) or out.sum(dim=(-2, -1)),
        epochs=1, lr=0.1, batch_size=2)
    assert seen == [2, 2] and not model.training


def test_unknown_schedule_is_rejected():
    model = StackedMLP([0], 3, [], 1)
    try:
        fit(model, torch.zeros(1, 4, 3), {}, _bias_sum, epochs=1, lr=0.1, batch_size=4, schedule="step")
    except ValueError as err:
        assert "schedule" in str(err)
    else:
        raise AssertionError("an unknown schedule must raise ValueError")


def test_accuracy_per_copy_with_shared_or_own_labels():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]], [[0.0, 2.0], [0.0, 1.0], [1.0, 3.0]]])
    assert accuracy(logits, torch.tensor([0, 1, 1])).tolist() == pytest.approx([2 / 3, 2 / 3])
    assert accuracy(logits, torch.tensor([[0, 1, 0], [1, 1, 1]])).tolist() == [1.0, 1.0]


def test_bfloat16_training_keeps_float32_weights_and_learns_like_float32():
    x, y = _data(2, n=256)
    runs = {}
    for precision in ("float32", "bfloat16"):
        model = StackedMLP([3, 4], 5, [16], 1, role="student")
        curve = fit(model, x, {"y": y}, _mse, epochs=20, lr=0.01, batch_size=32, precision=precision)
        assert all(p.dtype == torch.float32 for p in model.parameters())
        runs[precision] = (curve, predict(model, x))
    (curve32, out32), (curve16, out16) = runs["float32"], runs["bfloat16"]
    assert curve16[-1] < 0.2 * curve16[0]  # it learns
    assert curve16[-1] == pytest.approx(curve32[-1], rel=0.3)  # to about the same loss
    assert not torch.equal(out16, out32)  # and the products really ran in bfloat16
    with pytest.raises(ValueError, match="unknown precision"):
        fit(StackedMLP([1], 5, [8], 1), x[:1], {"y": y[:1]}, _mse, epochs=1, lr=0.01, batch_size=16, precision="fp8")


def test_the_fused_optimiser_follows_the_same_update_rule():
    """fused=True: the same training up to rounding, for Adam and SGD."""
    from cchlib.models import StackedMLP

    x = torch.randn(2, 16, 5)
    y = torch.randint(0, 2, (2, 16))
    loss = lambda out, b: torch.nn.functional.cross_entropy(out.transpose(1, 2), b["y"], reduction="none").mean(1)  # noqa: E731
    for optimiser in ("adam", "sgd"):
        nets = [StackedMLP([0, 1], 5, [4], 2, role="t") for _ in range(2)]
        for net, fused in zip(nets, (False, True)):
            fit(net, x, {"y": y}, loss, epochs=4, lr=0.05, batch_size=8, optimiser=optimiser, fused=fused)
        assert torch.allclose(nets[0](x), nets[1](x), atol=1e-5)
        assert not torch.equal(nets[0](x), StackedMLP([0, 1], 5, [4], 2, role="t")(x))  # it did train
