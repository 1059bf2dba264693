"""Sec. 4.2 / App. C, Algorithm 1: an MNIST teacher distilled into an MNIST-M student.

For one condition (the blending weight ``alpha`` of MNIST-M, a training schedule and a
list of temperatures) and a batch of seeds, :func:`run_cell` follows Algorithm 1:

1. train one teacher per seed on clean MNIST (Table 11 network, Table 12 schedule);
2. train the baseline student of each seed on MNIST-M with labels only;
3. freeze the teacher; for every blur ``gamma`` take its soft targets on *blurred*
   MNIST images (image ``i`` of MNIST-M carries the digit of MNIST image ``i``) and
   train, for every temperature ``T``, a new student with Eq. (2);
4. evaluate every student on the MNIST-M test set.

Steps 2 and 3 run as *one* :class:`~cchlib.models.StackedMLP`: for each seed, the
baseline (``lambda = 0``) and one student per (gamma, T), all sharing the seed's
initialisation and batch order, so a KD gain is a paired difference. All copies read
the same input tensor (a stride-0 view), so nothing is copied per student.

The mutual informations come from the penultimate (256-unit) layers on the first
``mi_samples`` test images: ``I_TS(gamma) = I(H_teacher(blur_gamma(x_MNIST));
H_baseline(x_MNIST-M))``, ``I_SL = I(H_baseline; Y)`` and ``I_TL = I(H_teacher(x); Y)``.
The baseline student is used (as in the other chapters) because CCH is a criterion to
check *before* distilling; this also matches the paper's Table 13, whose I(H_student; Y)
does not change with gamma.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from cchlib import mi, report
from cchlib.data.digits import load_data
from cchlib.data.mnist import gaussian_blur
from cchlib.distill import classification_kd_loss, cross_entropy
from cchlib.models import StackedMLP, image_mlp
from cchlib.train import accuracy, default_device, drop_constant_columns, fit

EVAL_CHUNK = 512  # test images per forward pass when evaluating a stack


def _flat(images: np.ndarray, device) -> torch.Tensor:
    return torch.as_tensor(images.reshape(len(images), -1), device=device)


def _shared(x: torch.Tensor, n_models: int) -> torch.Tensor:
    """The same (n, d) inputs for every copy, as an (M, n, d) view without copying."""
    return x.unsqueeze(0).expand(n_models, -1, -1)


@torch.no_grad()
def apply_shared(model: StackedMLP, x: torch.Tensor, features: bool = False) -> torch.Tensor:
    """Every copy of ``model`` on the same inputs (n, d), in chunks: (M, n, out)."""
    fn = model.features if features else model
    parts = [fn(_shared(x[s : s + EVAL_CHUNK], model.n_models)) for s in range(0, len(x), EVAL_CHUNK)]
    return torch.cat(parts, dim=1)


@torch.no_grad()
def apply_each(model: StackedMLP, x: torch.Tensor, features: bool = False) -> torch.Tensor:
    """Copy ``m`` on its own inputs ``x[m]`` (M, n, d), in chunks: (M, n, out)."""
    fn = model.features if features else model
    return torch.cat([fn(x[:, s : s + EVAL_CHUNK]) for s in range(0, x.shape[1], EVAL_CHUNK)], dim=1)


def temperature_groups(temperature: torch.Tensor) -> list[tuple[float, torch.Tensor]]:
    """The distinct temperatures of a stack and the copies having each, computed once."""
    return [(t, torch.nonzero(temperature == t).squeeze(-1)) for t in torch.unique(temperature).tolist()]


def kd_losses(outputs, batch, lam: torch.Tensor, groups) -> torch.Tensor:
    """Eq. (2) for every copy, each with its own ``lam`` and temperature: shape (M,).

    :func:`cchlib.distill.classification_kd_loss` takes one temperature, so the copies
    are taken group by group (``groups`` from :func:`temperature_groups`) and their
    losses put back in stack order.
    """
    losses = outputs.new_empty(outputs.shape[0])
    for t, idx in groups:
        losses[idx] = classification_kd_loss(outputs[idx], batch["y"][idx], batch["teacher"][idx], lam[idx], t)
    return losses


def student_plan(seeds, gammas, temperatures):
    """The copies of the student stack: per seed, the baseline then every (gamma, T).

    Returns a list of ``(seed, gamma, T)`` with ``gamma = T = None`` for baselines.
    """
    plan = []
    for seed in seeds:
        plan.append((seed, None, None))
        plan += [(seed, g, t) for g in gammas for t in temperatures]
    return plan


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Algorithm 1 for one condition and a batch of seeds; one row per (gamma, T) and seed.

    ``condition``: ``alpha``, ``schedule`` (a name), ``optimiser``, ``lr``, ``epochs``,
    ``temperatures`` and ``mi_alt`` (also estimate the MIs with the second estimator).
    ``settings``: ``gammas``, ``lam``, ``batch_size``, ``mi_method``, ``mi_options``,
    ``mi_samples`` (test images used; ``None`` = all), the same three with the suffix
    ``_alt`` for the second estimator, and the data settings of :func:`load_data`.
    Columns ``mi_ts_alt, mi_sl_alt, mi_tl_alt`` appear only when ``mi_alt`` is set.
    """
    s = settings
    device = default_device()
    data = load_data(condition["alpha"], s)
    gammas = [float(g) for g in s["gammas"]]
    temps = [float(t) for t in condition["temperatures"]]
    if not gammas or not temps:
        raise ValueError("the MNIST experiment needs at least one blur gamma and one temperature")
    train = dict(
        epochs=condition["epochs"], lr=condition["lr"], batch_size=s["batch_size"],
        optimiser=condition["optimiser"],
    )
    y = torch.as_tensor(data["y_train"], device=device)
    y_test = torch.as_tensor(data["y_test"], device=device)
    x_t = _flat(data["teacher_train"], device)
    x_s = torch.as_tensor(data["student_train"], device=device)
    x_s_test = torch.as_tensor(data["student_test"], device=device)

    # 1. Teachers on clean MNIST, one per seed.
    teacher = image_mlp(seeds, x_t.shape[1], "teacher").to(device)
    fit(teacher, _shared(x_t, len(seeds)), {"y": y.expand(len(seeds), -1)}, lambda out, b: cross_entropy(out, b["y"]), **train)
    teacher_acc = accuracy(apply_shared(teacher, _flat(data["teacher_test"], device)), y_test)

    # Soft targets (logits) of the frozen teachers on blurred MNIST, per gamma.
    soft = {g: apply_shared(teacher, _flat(gaussian_blur(data["teacher_train"], g), device)) for g in gammas}

    # 2 + 3. Baselines and distilled students of every seed, as one stack.
    plan = student_plan(seeds, gammas, temps)
    seed_pos = {seed: i for i, seed in enumerate(seeds)}
    teacher_targets = torch.stack(
        [soft[g][seed_pos[seed]] if g is not None else torch.zeros_like(soft[gammas[0]][0]) for seed, g, _ in plan]
    )
    lam = torch.tensor([0.0 if g is None else s["lam"] for _, g, _ in plan], device=device)
    groups = temperature_groups(torch.tensor([1.0 if t is None else t for _, _, t in plan], device=device))
    students = image_mlp([seed for seed, _, _ in plan], x_s.shape[1], "student").to(device)
    m = len(plan)
    fit(
        students, _shared(x_s, m), {"y": y.expand(m, -1), "teacher": teacher_targets},
        lambda out, b: kd_losses(out, b, lam, groups), **train,
    )
    student_acc = accuracy(apply_shared(students, x_s_test), y_test)

    # MI on the first test images: teacher (blurred inputs) vs baseline student.
    blurred_test = {g: _flat(gaussian_blur(data["teacher_test"], g), device) for g in gammas}
    teacher_acc_blur = {g: accuracy(apply_shared(teacher, blurred_test[g]), y_test) for g in gammas}
    estimators = {"": ("mi_method", "mi_options", "mi_samples")}
    if condition.get("mi_alt") and s.get("mi_method_alt"):
        estimators["_alt"] = ("mi_method_alt", "mi_options_alt", "mi_samples_alt")
    n_rep = max(s.get(key) or len(y_test) for _, _, key in estimators.values())
    base_rows = [i for i, (_, g, _) in enumerate(plan) if g is None]
    h_s = apply_shared(students, x_s_test[:n_rep], features=True)[base_rows].cpu().numpy()
    h_t = {g: apply_shared(teacher, blurred_test[g][:n_rep], features=True).cpu().numpy() for g in gammas}
    h_t_clean = apply_shared(teacher, _flat(data["teacher_test"][:n_rep], device), features=True).cpu().numpy()

    results = {}
    for i, seed in enumerate(seeds):
        mis = {}
        for suffix, (method_key, options_key, samples_key) in estimators.items():
            n_mi = s.get(samples_key) or len(y_test)
            est = lambda a, b: mi.estimate(  # noqa: E731
                a, b, method=s[method_key], seed=seed, **(s.get(options_key) or {})
            )
            hs = drop_constant_columns(h_s[i][:n_mi])
            labels = data["y_test"][:n_mi]
            mis[f"mi_sl{suffix}"] = est(hs, labels)
            mis[f"mi_tl{suffix}"] = est(drop_constant_columns(h_t_clean[i][:n_mi]), labels)
            for g in gammas:
                mis[f"mi_ts{suffix}", g] = est(drop_constant_columns(h_t[g][i][:n_mi]), hs)
        base_acc = float(student_acc[plan.index((seed, None, None))])
        rows = []
        for g in gammas:
            for t in temps:
                row = {
                    "alpha": condition["alpha"], "schedule": condition["schedule"], "gamma": g, "T": t,
                    "seed": seed, "acc_kd": float(student_acc[plan.index((seed, g, t))]), "acc_nokd": base_acc,
                    "teacher_acc": float(teacher_acc[i]), "teacher_acc_blur": float(teacher_acc_blur[g][i]),
                }
                for suffix in estimators:
                    row[f"mi_ts{suffix}"] = mis[f"mi_ts{suffix}", g]
                    row[f"mi_sl{suffix}"] = mis[f"mi_sl{suffix}"]
                    row[f"mi_tl{suffix}"] = mis[f"mi_tl{suffix}"]
                rows.append(row)
        results[seed] = rows
    return results


def summarise(rows: pd.DataFrame, keys: list[str], suffix: str = "") -> pd.DataFrame:
    """Per ``keys``: mean and SE over seeds of accuracies, MIs, the MI gap and the KD gain.

    ``kd_gain = acc_kd - acc_nokd`` (paired by seed; positive when distillation helped)
    and ``mi_gap = mi_ts - mi_sl``, from the MI columns ending in ``suffix`` (``""`` for
    the main estimator, ``"_alt"`` for the second one).
    """
    mi_cols = [f"mi_ts{suffix}", f"mi_sl{suffix}", f"mi_tl{suffix}"]
    missing = set(keys + mi_cols + ["acc_kd", "acc_nokd"]) - set(rows.columns)
    if missing:
        raise ValueError(f"rows lack columns {sorted(missing)}")
    rows = rows.assign(
        kd_gain=rows.acc_kd - rows.acc_nokd, mi_gap=rows[f"mi_ts{suffix}"] - rows[f"mi_sl{suffix}"],
        mi_ts=rows[f"mi_ts{suffix}"], mi_sl=rows[f"mi_sl{suffix}"], mi_tl=rows[f"mi_tl{suffix}"],
    )
    out = []
    for key, group in rows.groupby(keys, sort=True):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        for column in ["acc_kd", "acc_nokd", "kd_gain", "teacher_acc", "teacher_acc_blur",
                       "mi_ts", "mi_sl", "mi_tl", "mi_gap"]:
            row[column], row[f"{column}_se"] = report.mean_se(group[column])
        row["seeds"] = len(group)
        out.append(row)
    return pd.DataFrame(out)


# ------------------------------------------------------------------ the paper's values

PAPER_TEACHER = {  # alpha -> teacher test accuracy (mean, SE or None) and I(H_teacher; Y) in nats
    0.2: {"teacher_acc": 0.981, "teacher_acc_se": None, "mi_tl": 2.0485},  # Fig. 2 caption
    0.18: {"teacher_acc": 0.9812, "teacher_acc_se": 0.0003, "mi_tl": 1.9095},  # Table 13 caption
}


def paper_table1() -> pd.DataFrame:
    """Table 1 (alpha = 0.2): MI gap per gamma; student accuracy difference +- SE per (gamma, T)."""
    gaps = {0.0: 0.4399, 0.5: 0.2662, 1.5: 0.0199, 2.5: -0.0032, 3.5: -0.1590}
    diffs = {
        0.0: [(0.0010, 0.0040), (0.0146, 0.0035), (0.0318, 0.0040), (0.0350, 0.0046)],
        0.5: [(0.0069, 0.0054), (0.0152, 0.0055), (0.0296, 0.0031), (0.0353, 0.0028)],
        1.5: [(0.0002, 0.0089), (0.0149, 0.0034), (0.0156, 0.0042), (0.0091, 0.0051)],
        2.5: [(-0.1190, 0.0165), (-0.1627, 0.0101), (-0.1757, 0.0219), (-0.1516, 0.0154)],
        3.5: [(-0.2797, 0.0126), (-0.4597, 0.0041), (-0.4623, 0.0209), (-0.4364, 0.0137)],
    }
    return pd.DataFrame([
        {"gamma": g, "T": float(t), "MI gap": gaps[g], "acc diff": d, "acc diff SE": se}
        for g, pairs in diffs.items() for t, (d, se) in zip([1, 2, 3, 4], pairs)
    ])


def paper_table13() -> pd.DataFrame:
    """Table 13 (alpha = 0.18, T = 3): MIs, accuracies with and without KD (+- SE), gap, difference."""
    values = [  # gamma, I_TS, I_SL, KD acc, SE, no-KD acc, SE, MI gap, acc diff, SE
        (0.0, 1.3956, 1.2685, 0.8484, 0.0019, 0.8338, 0.0034, 0.1271, 0.0146, 0.0052),
        (0.5, 1.2949, 1.2685, 0.8425, 0.0042, 0.8338, 0.0034, 0.0264, 0.0087, 0.0070),
        (1.5, 1.2533, 1.2685, 0.8296, 0.0017, 0.8338, 0.0034, -0.0152, -0.0042, 0.0034),
        (2.5, 0.9472, 1.2685, 0.6216, 0.0243, 0.8338, 0.0034, -0.3213, -0.2122, 0.0232),
        (3.5, 0.7817, 1.2685, 0.3325, 0.0179, 0.8338, 0.0034, -0.4868, -0.5013, 0.0190),
    ]
    columns = ["gamma", "I_TS", "I_SL", "KD acc", "KD acc SE", "no-KD acc", "no-KD acc SE",
               "MI gap", "acc diff", "acc diff SE"]
    return pd.DataFrame(values, columns=columns)
