"""Latent mutual information (LMI), cchlib's own implementation, in nats.

Gowri, Lun, Klein & Yin (NeurIPS 2024), "Approximating mutual information of
high-dimensional variables using learned representations": compress x and y
to low-dimensional latents with a pair of autoencoders whose latents are also
trained to *cross-predict* the other variable, then estimate MI between the
latents with KSG.  Because z_x = f(x) and z_y = g(y), I(z_x; z_y) <= I(x; y)
whatever the networks learn; the cross-prediction terms push the latents to
keep the information x and y share.

Algorithm (per call):

1. standardise x and y with training-split statistics and clip to +-10
   (class labels are one-hot encoded first);
2. split the samples at random into a training part and a held-out part
   (``validation_split`` of them);
3. train encoders E_x, E_y, self-decoders D_xx, D_yy and cross-decoders
   D_xy, D_yx (dropout on their inputs) to minimise
   ``alpha * (|D_xx(E_x x) - x|^2 + |D_yy(E_y y) - y|^2)
   + lam * (|D_yx(E_y y) - x|^2 + |D_xy(E_x x) - y|^2)`` (mean squared errors);
4. after each epoch evaluate that loss on the held-out part (dropout off);
   stop after ``patience`` epochs without improvement and restore a *copy*
   of the best weights;
5. return KSG (``k`` neighbours) of the held-out latents.

Defaults, and where they differ from ``latentmi`` 0.1.3 (whose algorithm
this follows; the code is written from the paper and this description):

=================  ==========  ==========  =======================================
option             here        latentmi    why
=================  ==========  ==========  =======================================
N_dims             8           8           same latent size
validation_split   0.5         0.5         same; held-out half for stopping + KSG
alpha, lam         1, 1        1, 1        same loss weights
dropout            0.5         0.5         same, on the cross-decoders
hidden             auto        1024/512/   widths sized to the input: the first
                               256         hidden layer has 2*d units rounded up to
                                           a power of two, clamped to [64, 1024],
                                           then half of that; two hidden layers
                                           instead of three (an int h gives h, h/2;
                                           a sequence gives the widths).  The fixed
                                           1024-wide stack costs ~100x the
                                           arithmetic for 64-d inputs; bias and
                                           spread of both are compared on the
                                           known-MI suite in benchmarks/README.md
lr                 2e-3        1e-4        with Adam and these widths, 2e-3 with
                                           batches of 256 reaches the same
                                           estimates in 3-4x fewer sample passes
                                           than 1e-3 with 512 (known-MI checks in
                                           benchmarks/README.md)
batch_size         256         512         more, smaller steps per epoch: fewer
                                           epochs at small n (at n = 1,000 a
                                           batch of 512 is one step per epoch)
epochs             300         300         same cap, rarely reached
patience           5           30          5 epochs without progress: the held-out
                                           loss is evaluated without dropout, so
                                           it is a smooth stopping signal; longer
                                           patience did not change the estimates
min_delta          1e-3        0           improvements smaller than 1e-3 do
                                           not reset patience: with 1e-4, a
                                           slowly creeping held-out loss kept one
                                           n = 10,000 fit running for all 300
                                           epochs (224 CPU s) for the estimate
                                           that 1e-3 reached in 45 (8 CPU s)
best weights       restored    last        latentmi keeps a live state_dict
                                           reference, so it returns the final
                                           weights; here the best are copied
validation loss    dropout     dropout on  eval mode gives a noise-free stopping
                   off                     signal
latent output      linear      LeakyReLU   an invertible map per coordinate;
                                           KSG needs no extra nonlinearity
activations        LeakyReLU   LeakyReLU   the slope of cchlib.models.StackedMLP;
                   0.01        0.2         not tuned
initialisation     like        Xavier      cchlib.models.StackedMLP's, per seed
                   nn.Linear   uniform
=================  ==========  ==========  =======================================

Tensors stay on one device (CUDA when available) and minibatches are drawn
by indexing with a permutation: no DataLoader, no per-sample Python objects.
:func:`estimate_many` trains the networks of several seeds as one stacked
model (:class:`cchlib.models.StackedMLP`, see :mod:`.nets`), which is how
:func:`cchlib.mi.estimate_with_se` gets its repeats; :func:`estimate` is the
one-seed case.  Every random draw comes from per-seed generators, so a seed
gives the same estimate and global RNG states are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..device import default_device
from ..models import StackedMLP
from . import ksg
from .inputs import check_options, is_labels, one_hot, require_samples
from .nets import dropout, epoch_orders, generators, hidden_width, mse, split_indices, stacked_parts
from .training import NonFiniteTraining, train_early_stopping


@dataclass(frozen=True)
class LMIConfig:
    """Options of :func:`estimate`; see the module docstring for each default."""

    N_dims: int = 8
    validation_split: float = 0.5
    alpha: float = 1.0
    lam: float = 1.0
    dropout: float = 0.5
    hidden: int | Sequence[int] | None = None
    lr: float = 2e-3
    batch_size: int = 256
    epochs: int = 300
    patience: int = 5
    min_delta: float = 1e-3
    k: int = 3
    device: str | None = None
    verbose: bool = False

    @classmethod
    def from_options(cls, options: dict) -> "LMIConfig":
        """Build a config, rejecting unknown option names with a ValueError."""
        check_options(cls, options, "lmi")
        return cls(**options)

    def widths(self, dim: int) -> list[int]:
        """Encoder hidden widths for a ``dim``-dimensional input (decoders mirror them)."""
        if self.hidden is None:
            return [hidden_width(dim), hidden_width(dim) // 2]
        if isinstance(self.hidden, (int, np.integer)):
            return [int(self.hidden), int(self.hidden) // 2]
        return [int(h) for h in self.hidden]


def _decode_with_dropout(net: StackedMLP, z: torch.Tensor, p: float, gens: list[torch.Generator]) -> torch.Tensor:
    """``net(z)`` with inverted dropout on the input of every layer (copy r's masks from ``gens[r]``)."""
    layers = list(zip(net.weights, net.biases))
    h = z
    for i, (w, b) in enumerate(layers):
        h = torch.baddbmm(b, dropout(h, p, gens), w)
        if i < len(layers) - 1:
            h = net.activation(h)
    return h


class CrossPredictiveAE(nn.Module):
    """Paired autoencoders for x and y whose latents also predict the other side; one copy per seed."""

    def __init__(self, dx: int, dy: int, cfg: LMIConfig, seeds: list[int]):
        super().__init__()
        hx, hy, n = cfg.widths(dx), cfg.widths(dy), cfg.N_dims

        def net(name: str, d_in: int, hidden: list[int], d_out: int) -> StackedMLP:
            return StackedMLP(seeds, d_in, hidden, d_out, role=f"lmi.{name}", activation="leaky_relu")

        self.encode_x, self.encode_y = net("encode_x", dx, hx, n), net("encode_y", dy, hy, n)
        self.decode_xx, self.decode_yy = net("decode_xx", n, hx[::-1], dx), net("decode_yy", n, hy[::-1], dy)
        self.decode_yx, self.decode_xy = net("decode_yx", n, hx[::-1], dx), net("decode_xy", n, hy[::-1], dy)
        self.alpha, self.lam, self.p = cfg.alpha, cfg.lam, cfg.dropout

    def losses(self, x: torch.Tensor, y: torch.Tensor, gens: list[torch.Generator]) -> torch.Tensor:
        """Per copy (R,): alpha * self-reconstruction MSE + lam * cross-prediction MSE (dropout when training)."""
        zx, zy = self.encode_x(x), self.encode_y(y)
        auto = mse(self.decode_xx(zx), x) + mse(self.decode_yy(zy), y)
        if self.training and self.p > 0:
            x_hat, y_hat = (_decode_with_dropout(self.decode_yx, zy, self.p, gens),
                            _decode_with_dropout(self.decode_xy, zx, self.p, gens))
        else:
            x_hat, y_hat = self.decode_yx(zy), self.decode_xy(zx)
        return self.alpha * auto + self.lam * (mse(x_hat, x) + mse(y_hat, y))


def _check(cfg: LMIConfig, n_train: int, n_val: int) -> None:
    """Reject settings the estimator cannot run with."""
    if cfg.N_dims < 1 or cfg.k < 1:
        raise ValueError(f"N_dims and k must be positive integers; got N_dims={cfg.N_dims}, k={cfg.k}.")
    if not 0 <= cfg.dropout < 1:
        raise ValueError(f"dropout must lie in [0, 1); got {cfg.dropout}.")
    require_samples(min(n_train, n_val), cfg.k + 1, "lmi",
                    f"both the training and held-out splits need k+1={cfg.k + 1} samples")


def fit(x: np.ndarray, y: np.ndarray, cfg: LMIConfig, seeds: Sequence[int] = (0,)):
    """Train the cross-predictive autoencoders of every seed as one stacked model.

    Returns ``(model, zx, zy, log)``: the trained model (each copy with its
    best weights), the held-out latents as float64 arrays of shape
    (R, n_val, N_dims), and the :class:`~cchlib.mi.training.TrainLog`.
    """
    seeds = [int(s) for s in seeds]
    y = one_hot(y) if is_labels(y) else y
    splits = [split_indices(len(x), [cfg.validation_split], s) for s in seeds]
    _check(cfg, len(splits[0][0]), len(splits[0][1]))
    device = default_device(cfg.device)
    (x_tr, x_va), (y_tr, y_va) = stacked_parts(x, splits, device), stacked_parts(y, splits, device)
    gens = generators(seeds, device)
    rows = torch.arange(len(seeds), device=device)[:, None]
    model = CrossPredictiveAE(x.shape[1], y.shape[1], cfg, seeds).to(device)
    log = train_early_stopping(
        model,
        lambda idx: model.losses(x_tr[rows, idx], y_tr[rows, idx], gens),
        lambda: model.losses(x_va, y_va, gens),
        lambda: epoch_orders(gens, x_tr.shape[1], device),
        lr=cfg.lr, batch_size=cfg.batch_size, epochs=cfg.epochs,
        patience=cfg.patience, min_delta=cfg.min_delta,
        name=f"lmi on x {x.shape} and y {y.shape}",
    )
    if cfg.verbose:
        print(f"lmi: {log.epochs_run} epochs; per seed {seeds}: best epoch {log.best_epoch}, "
              f"held-out loss {[round(s, 4) for s in log.best_score]}")
    with torch.no_grad():
        zx, zy = model.encode_x(x_va), model.encode_y(y_va)
    if not (torch.isfinite(zx).all() and torch.isfinite(zy).all()):
        raise NonFiniteTraining(f"lmi on x {x.shape} and y {y.shape} (held-out latents)", log.epochs_run - 1, seeds)
    return model, zx.cpu().double().numpy(), zy.cpu().double().numpy(), log


def estimate_many(x: np.ndarray, y: np.ndarray, seeds: Sequence[int], **options) -> list[float]:
    """LMI estimates of I(x; y) in nats, one per seed, trained as one stacked model."""
    cfg = LMIConfig.from_options(options)
    _, zx, zy, _ = fit(x, y, cfg, seeds)
    return [ksg.ksg_mi(a, b, k=cfg.k, seed=s) for a, b, s in zip(zx, zy, seeds)]


def estimate(x: np.ndarray, y: np.ndarray, seed: int = 0, **options) -> float:
    """LMI estimate of I(x; y) in nats: KSG on held-out learned latents."""
    return estimate_many(x, y, [seed], **options)[0]
