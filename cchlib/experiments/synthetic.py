"""Sec. 4.1 / App. B: teacher on X1, students on X2, with and without distillation.

For one value of sigma12 and a batch of seeds, :func:`run_cell` draws each seed's data,
trains the teachers (one per seed) and, as one stack, the baseline student (lambda = 0)
and the distilled students (one per lambda) of every seed, then estimates
I(H1; H2), I(H2; Y) and I(H1; Y) on the held-out split.

The student representation H2 is the *baseline* (non-distilled) student's hidden layer:
CCH is meant as an a-priori criterion, to be checked before deciding to distil, and
the distilled student's representation would already carry the teacher's influence.
"""

from __future__ import annotations

import numpy as np
import torch

from cchlib import mi
from cchlib.data.synthetic import make_synthetic
from cchlib.distill import regression_kd_loss
from cchlib.models import synthetic_mlp
from cchlib.train import default_device, drop_constant_columns, fit, predict, representations


def _stack(datasets, part: str, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x1, x2, y) of one split for every seed, as (S, n, .) tensors on ``device``."""
    splits = [ds.split(part) for ds in datasets]
    x1 = torch.as_tensor(np.stack([m["x1"] for m, _ in splits]), device=device)
    x2 = torch.as_tensor(np.stack([m["x2"] for m, _ in splits]), device=device)
    y = torch.as_tensor(np.stack([labels for _, labels in splits]), device=device)[..., None]
    return x1, x2, y


def _mse(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-copy mean squared error over samples, shape (M,)."""
    return ((outputs - y) ** 2).mean(dim=(-2, -1))


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Train and evaluate one sigma12 condition for a batch of seeds.

    ``condition`` holds ``sigma12``; ``settings`` holds sigma13, sigma23, n_train,
    n_test, p, hidden, lams, epochs, lr, batch_size, mi_method and mi_options.
    Returns, per seed, one row per lambda.
    """
    s = settings
    device = default_device()
    datasets = [
        make_synthetic(condition["sigma12"], s["sigma13"], s["sigma23"], s["n_train"], s["n_test"], s["p"], seed)
        for seed in seeds
    ]
    x1, x2, y = _stack(datasets, "train", device)
    x1_test, x2_test, y_test = _stack(datasets, "test", device)
    train = dict(epochs=s["epochs"], lr=s["lr"], batch_size=s["batch_size"])

    teacher = synthetic_mlp(seeds, "teacher", s["p"], s["hidden"]).to(device)
    fit(teacher, x1, {"y": y}, lambda out, b: _mse(out, b["y"]), **train)

    # Baseline (lambda = 0) and distilled students of every seed, trained as one stack.
    lams = [0.0, *s["lams"]]
    per_seed = len(lams)
    student_seeds = [seed for seed in seeds for _ in lams]
    students = synthetic_mlp(student_seeds, "student", s["p"], s["hidden"]).to(device)
    lam = torch.tensor(lams * len(seeds), device=device)
    expand = lambda t: t.repeat_interleave(per_seed, dim=0)  # noqa: E731
    targets = {"y": expand(y), "teacher": expand(predict(teacher, x1))}
    fit(
        students,
        expand(x2),
        targets,
        lambda out, b: regression_kd_loss(out, b["y"], b["teacher"], lam),
        **train,
    )

    teacher_mse = _mse(predict(teacher, x1_test), y_test).cpu().numpy()
    student_mse = _mse(predict(students, expand(x2_test)), expand(y_test)).cpu().numpy()
    h1 = representations(teacher, x1_test).cpu().numpy()
    h2 = representations(students, expand(x2_test)).cpu().numpy()[::per_seed]  # baselines
    labels = y_test.cpu().numpy()

    results = {}
    for i, seed in enumerate(seeds):
        h1_i, h2_i = drop_constant_columns(h1[i]), drop_constant_columns(h2[i])
        estimate = lambda a, b: mi.estimate(a, b, method=s["mi_method"], seed=seed, **s["mi_options"])  # noqa: E731
        mi_ts, mi_sl, mi_tl = estimate(h1_i, h2_i), estimate(h2_i, labels[i]), estimate(h1_i, labels[i])
        base = student_mse[i * per_seed]
        results[seed] = [
            {
                "sigma12": condition["sigma12"],
                "lam": lam_value,
                "seed": seed,
                "mse_kd": float(student_mse[i * per_seed + j]),
                "mse_nokd": float(base),
                "teacher_mse": float(teacher_mse[i]),
                "mi_ts": mi_ts,
                "mi_sl": mi_sl,
                "mi_tl": mi_tl,
            }
            for j, lam_value in enumerate(lams)
            if j > 0
        ]
    return results
