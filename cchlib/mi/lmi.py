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
                                           instead of three.  The fixed 1024-wide
                                           stack costs ~100x the arithmetic for
                                           64-d inputs and did not lower the bias
                                           on the known-MI suite (benchmarks/)
lr                 1e-3        1e-4        with Adam and these widths, 1e-3
                                           reaches the same validation loss in
                                           far fewer epochs
batch_size         512         512         same
epochs             300         300         same cap, rarely reached
patience           10          30          with 10x the learning rate, 10 epochs
                                           without progress means converged
min_delta          1e-4        0           improvements smaller than 1e-4 do
                                           not reset patience
best weights       restored    last        latentmi keeps a live state_dict
                                           reference, so it returns the final
                                           weights; here the best are copied
validation loss    dropout     dropout on  eval mode gives a noise-free stopping
                   off                     signal
latent output      linear      LeakyReLU   an invertible map per coordinate;
                                           KSG needs no extra nonlinearity
=================  ==========  ==========  =======================================

Tensors stay on one device (CUDA when available) and minibatches are drawn
by indexing with a permutation: no DataLoader, no per-sample Python objects.
The whole call runs inside :func:`cchlib.mi.rng.seeded_globals`, so a seed
gives the same estimate and the caller's RNG states are left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from . import ksg
from .inputs import is_labels, one_hot, require_samples
from .nets import hidden_width, mlp, pick_device, split_indices, to_tensor
from .rng import seeded_globals
from .training import TrainLog, train_early_stopping


@dataclass(frozen=True)
class LMIConfig:
    """Options of :func:`estimate`; see the module docstring for each default."""

    N_dims: int = 8
    validation_split: float = 0.5
    alpha: float = 1.0
    lam: float = 1.0
    dropout: float = 0.5
    hidden: int | None = None
    lr: float = 1e-3
    batch_size: int = 512
    epochs: int = 300
    patience: int = 10
    min_delta: float = 1e-4
    k: int = 3
    device: str | None = None
    verbose: bool = False

    @classmethod
    def from_options(cls, options: dict) -> "LMIConfig":
        """Build a config, rejecting unknown option names with a ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"method='lmi' got unknown option(s) {sorted(unknown)}; it accepts {sorted(known)}.")
        return cls(**options)


class CrossPredictiveAE(nn.Module):
    """Paired autoencoders for x and y whose latents also predict the other side."""

    def __init__(self, dx: int, dy: int, cfg: LMIConfig):
        super().__init__()
        hx = cfg.hidden or hidden_width(dx)
        hy = cfg.hidden or hidden_width(dy)
        self.encode_x = mlp([dx, hx, hx // 2, cfg.N_dims])
        self.encode_y = mlp([dy, hy, hy // 2, cfg.N_dims])
        self.decode_xx = mlp([cfg.N_dims, hx // 2, hx, dx])
        self.decode_yy = mlp([cfg.N_dims, hy // 2, hy, dy])
        self.decode_yx = mlp([cfg.N_dims, hx // 2, hx, dx], cfg.dropout)
        self.decode_xy = mlp([cfg.N_dims, hy // 2, hy, dy], cfg.dropout)
        self.alpha, self.lam = cfg.alpha, cfg.lam

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """alpha * self-reconstruction MSE + lam * cross-prediction MSE."""
        mse = nn.functional.mse_loss
        zx, zy = self.encode_x(x), self.encode_y(y)
        auto = mse(self.decode_xx(zx), x) + mse(self.decode_yy(zy), y)
        cross = mse(self.decode_yx(zy), x) + mse(self.decode_xy(zx), y)
        return self.alpha * auto + self.lam * cross


def _check(cfg: LMIConfig, n_train: int, n_val: int) -> None:
    """Reject settings the estimator cannot run with."""
    if cfg.N_dims < 1 or cfg.k < 1:
        raise ValueError(f"N_dims and k must be positive integers; got N_dims={cfg.N_dims}, k={cfg.k}.")
    require_samples(min(n_train, n_val), cfg.k + 1, "lmi",
                    f"both the training and held-out splits need k+1={cfg.k + 1} samples")


def fit(x: np.ndarray, y: np.ndarray, cfg: LMIConfig, seed: int = 0):
    """Train the cross-predictive autoencoders.

    Returns ``(model, zx, zy, log)``: the trained model with its best weights,
    the held-out latents as float64 arrays, and the :class:`TrainLog`.
    """
    y = one_hot(y) if is_labels(y) else y
    train_idx, val_idx = split_indices(len(x), [cfg.validation_split], seed)
    _check(cfg, len(train_idx), len(val_idx))
    device = pick_device(cfg.device)
    xt, yt = to_tensor(x, train_idx, device), to_tensor(y, train_idx, device)
    x_tr, y_tr = xt[train_idx], yt[train_idx]
    x_va, y_va = xt[val_idx], yt[val_idx]
    with seeded_globals(seed):
        model = CrossPredictiveAE(x.shape[1], y.shape[1], cfg).to(device)
        log = train_early_stopping(
            model,
            lambda idx: model.loss(x_tr[idx], y_tr[idx]),
            lambda: float(model.loss(x_va, y_va)),
            len(train_idx),
            lr=cfg.lr, batch_size=cfg.batch_size, epochs=cfg.epochs,
            patience=cfg.patience, min_delta=cfg.min_delta, device=device,
        )
    if cfg.verbose:
        print(f"lmi: {log.epochs_run} epochs, best held-out loss {log.best_score:.4f} at epoch {log.best_epoch}")
    with torch.no_grad():
        zx, zy = model.encode_x(x_va), model.encode_y(y_va)
    return model, zx.cpu().double().numpy(), zy.cpu().double().numpy(), log


def estimate(x: np.ndarray, y: np.ndarray, seed: int = 0, **options) -> float:
    """LMI estimate of I(x; y) in nats: KSG on held-out learned latents."""
    cfg = LMIConfig.from_options(options)
    _, zx, zy, _ = fit(x, y, cfg, seed)
    return ksg.ksg_mi(zx, zy, k=cfg.k, seed=seed)
