"""The stack protocol, the per-copy generator and the per-copy dropout of cchlib.models."""

import pytest
import torch

from cchlib import models
from cchlib.train import fit


def test_every_network_of_the_book_follows_the_stack_protocol():
    nets = [
        models.synthetic_mlp([0, 1], "t", p=4, hidden=3),
        models.image_mlp([0], 6, "t"),
        models.logistic_regression([0, 1], 3, "t"),
        models.StackedMoseiNet([0, 1], 5, "t", hidden=(4,)),
        models.StackedFusionNet([0], 3, 2, 3, n_enc=4),
        models.AlignedPair([0, 1], 3, 2),
        models.ModuleStack(lambda shape, k: torch.nn.Sequential(torch.nn.Linear(shape[0], 3), torch.nn.Linear(3, k)),
                           [0, 1], (5,), 2, "t"),
    ]
    for net in nets:
        assert isinstance(net, models.Stack), type(net).__name__
        models.check_stack(net, features=True)


def test_check_stack_names_what_is_missing():
    with pytest.raises(ValueError, match="lacks.*seeds"):
        models.check_stack(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="lacks"):
        fit(torch.nn.Linear(2, 2), torch.zeros(1, 4, 2), {}, lambda o, b: o.sum(), epochs=1, lr=0.1, batch_size=2)


def test_copy_generator_depends_on_seed_salt_and_stride_only():
    draw = lambda *a: torch.rand(3, generator=models.copy_generator(*a))  # noqa: E731
    assert torch.equal(draw(3, 7), draw(3, 7))
    assert not torch.equal(draw(3, 7), draw(4, 7))
    assert not torch.equal(draw(3, 7), draw(3, 8))
    assert not torch.equal(draw(3, 7), draw(3, 7, models.DROPOUT_STRIDE))
    assert models.copy_seed(2, 5) == 2 * models.SEED_STRIDE + 5
    assert models.role_salt("teacher") != models.role_salt("student")


def test_copy_dropout_masks_each_copy_from_its_own_generator():
    h = torch.ones(2, 50, 4)
    alone = models.copy_dropout(h[:1], 0.5, models.dropout_generators([7], 1), training=True)
    both = models.copy_dropout(h, 0.5, models.dropout_generators([7, 8], 1), training=True)
    assert torch.equal(alone[0], both[0])
    assert not torch.equal(both[0], both[1])
    assert set(both.unique().tolist()) == {0.0, 2.0}  # inverted dropout keeps the mean
    assert torch.equal(models.copy_dropout(h, 0.5, [], training=False), h)


def test_per_copy_mlp_starts_and_trains_like_the_stacked_layout():
    """PerCopyMLP is StackedMLP with separate per-copy tensors: same weights, same outputs, same training."""
    seeds, widths = [3, 5, 3], ([7, 4], 2)
    stacked = models.StackedMLP(seeds, 6, *widths, role="s", activation="leaky_relu")
    per_copy = models.PerCopyMLP(seeds, 6, *widths, role="s", activation="leaky_relu")
    for stack_layer, copy_layer in zip(stacked.weights, per_copy.weights):
        assert len(copy_layer) == len(seeds)
        for m in range(len(seeds)):
            assert torch.equal(stack_layer[m], copy_layer[m])
    x = torch.randn(1, 9, 6).expand(3, -1, -1)  # a stride-0 view, as the chapters pass it
    assert torch.allclose(stacked(x), per_copy(x), atol=1e-6)
    assert torch.allclose(stacked.features(x), per_copy.features(x), atol=1e-6)
    y = torch.randint(0, 2, (1, 9)).expand(3, -1)
    loss = lambda out, b: torch.nn.functional.cross_entropy(out.transpose(1, 2), b["y"], reduction="none").mean(1)  # noqa: E731
    for net in (stacked, per_copy):
        fit(net, x, {"y": y}, loss, epochs=3, lr=0.05, batch_size=4)
    assert torch.allclose(stacked(x), per_copy(x), atol=1e-4)
    assert torch.allclose(per_copy(x)[0], per_copy(x)[2])  # equal seeds, equal copies
    assert not torch.allclose(per_copy(x)[0], per_copy(x)[1])
