"""MFH (Xue et al., ICLR 2023) on its synthetic MVD data, and CCH against MFH.

For one MVD setting (a :class:`~cchlib.data.mvd.MVDSpec` plus the teachers to try) and
a batch of seeds, :func:`run_cell`

1. draws each seed's data (:func:`cchlib.data.mvd.make_mvd`);
2. runs MFH's Algorithm 1 (:func:`fit_aligned_pair`, :func:`permutation_salience`): two
   logistic regressions, one per modality, trained jointly with cross-entropy on both
   and a distance between their outputs, then the salience of every channel of modality
   a = the mean distance after permuting that channel;
3. trains every requested teacher on its channels of modality a (:data:`TEACHERS`):
   ``regular`` (all channels), ``general`` (the true J1 n J2, MFH's Table 2),
   ``alg1_general`` (the k channels Algorithm 1 ranks highest, k = |J1 n J2|),
   ``alg1_specific`` (all channels but those k) and ``random`` (k channels at random);
4. trains, with :func:`cchlib.kd.run` (one call per teacher input width, one teacher
   copy per channel set), the student without distillation and one distilled student
   per teacher (MFH Eq. 1: rho CE + (1 - rho) KL, here
   :func:`cchlib.distill.classification_kd_loss` with ``lam = 1 - rho``);
5. measures test accuracies (in %) and estimates CCH's two mutual informations on the
   test split: I(H_T; H_S) and I(H_S; Y), with the estimator's nulls (``mi_ts_null``,
   ``mi_sl_null``).

Teachers and students are logistic regressions (:class:`cchlib.models.DecisionValueLR`,
one linear layer per seed), trained full-batch. Their representation H, which their
``features()`` return to kd.run, is the *decision value* z_1 - z_0 (the logit difference). With two classes the softmax depends on the
logits only through that difference, and the gradients of cross-entropy and of the KD
term are blind to adding a constant to both logits, so the other direction z_0 + z_1
never moves from its random initialisation: it is a random projection of the input
that carries nothing the model learned. (The input itself, which StackedMLP's ``features()``
returns for ``hidden = []``, is no use either: the shared decisive channels are
identical copies in both modalities, so I(X_a; X_b) is infinite.) H_S is the
*baseline* (non-distilled) student's decision value, as in the synthetic chapter: CCH is
checked before deciding to distil.

Every row reports MFH's gamma (and alpha, beta) of the data and of the teacher: a
teacher that sees only the channels C of modality a has decisive set J1 n C, and its
shares are :func:`cchlib.data.mvd.mvd_shares` of (J1 n C, J2).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from cchlib import criteria, kd
from cchlib.data.mvd import MVDSpec, alpha_setting, beta0_setting, gamma_setting, make_mvd, mvd_shares
from cchlib.data.synthetic import sampler_covariance
from cchlib.distill import cross_entropy
from cchlib.models import AlignedPair, DecisionValueLR, copy_generator, role_salt
from cchlib.mi import CheckedMI
from cchlib.stats import outcomes, spearman_rho, summarise_seeds
from cchlib.train import default_device, fit

TEACHERS = ("regular", "general", "alg1_general", "alg1_specific", "random")


@dataclass(frozen=True)
class Settings(CheckedMI):
    """The settings of :func:`run_cell`: the data size, the full-batch training, MFH's loss and the MI."""

    n_train: int
    n_test: int  # held-out samples: accuracies and MIs are measured on them
    epochs: int  # full-batch steps of every logistic regression (Algorithm 1's pair, teachers, students)
    lr: float
    optimiser: str
    rho: float  # MFH Eq. (1): weight of the label term; the KD term gets 1 - rho
    temperature: float
    alg1_repeats: int  # M, permutations per channel in Algorithm 1
    mi_method: str
    mi_options: dict


# --------------------------------------------------------------------------- conditions


def spec_condition(setting: str, level: float, spec: MVDSpec, teachers=("regular",)) -> dict:
    """A sweep condition: the setting's name, its x-axis value, the MVD spec and the teachers."""
    unknown = set(teachers) - set(TEACHERS)
    if unknown or not teachers:
        raise ValueError(f"teachers must be a non-empty subset of {TEACHERS}, got {list(teachers)}")
    return {
        "setting": setting,
        "level": float(level),
        "d1": spec.d1,
        "d2": spec.d2,
        "d": spec.d,
        "J1": list(spec.J1),
        "J2": list(spec.J2),
        "teachers": list(teachers),
    }


def mvd_conditions(
    gamma_overlaps=(0, 2, 4, 6, 8, 10),
    alpha_unions=(10, 20, 30, 40, 50),
    alpha_hidden_d: int | None = 50,
    table2_gammas=(0.25, 0.5, 0.75),
    table2_d: int = 20,
) -> list[dict]:
    """Every MVD condition of the chapter.

    ``gamma``: Fig. 2 (d1 = 25, d2 = 50, d = 20, |J1| = |J2| = 10, level = |J1 n J2|);
    ``alpha``: Fig. 3 as App. B.2 writes it (d1 = d2 = 50, |J2| = 10, J1 = J1 u J2,
    d = |J1 u J2|, level = |J1 u J2|); ``alpha_hidden``: the same index sets with
    d = ``alpha_hidden_d`` decisive features (None: left out); ``table2``: d1 = d2 = 50,
    J1 = all ``table2_d`` decisive features, |J2| = gamma * table2_d (level = gamma), with
    every teacher of :data:`TEACHERS`.
    """
    conditions = [spec_condition("gamma", k, gamma_setting(k)) for k in gamma_overlaps]
    conditions += [spec_condition("alpha", u, alpha_setting(u)) for u in alpha_unions]
    if alpha_hidden_d is not None:
        conditions += [spec_condition("alpha_hidden", u, alpha_setting(u, d=alpha_hidden_d)) for u in alpha_unions]
    conditions += [spec_condition("table2", g, beta0_setting(g, d=table2_d), TEACHERS) for g in table2_gammas]
    return conditions


def first_of_each_data(table: pd.DataFrame, conditions: list[dict]) -> pd.Series:
    """True on the rows of ``table`` (``setting, level, teacher``, and ``seed`` if per seed) whose data no earlier row had.

    Two settings can describe the same MVD data (for example ``alpha`` at
    ``|J1 u J2| = 20`` and ``table2`` at gamma 0.5 with ``d = 20``, or ``alpha_hidden`` at
    ``d`` decisive features and ``alpha`` there): with the same seeds they are the same
    experiment, so a count over conditions takes each once.
    """
    data_of = {(c["setting"], float(c["level"])): (c["d1"], c["d2"], c["d"], tuple(c["J1"]), tuple(c["J2"]))
               for c in conditions}
    seeds = table.seed if "seed" in table else [None] * len(table)  # per-seed rows: each seed's row once
    keys = [(data_of[(s, float(lv))], t, seed) for s, lv, t, seed in zip(table.setting, table.level, table.teacher, seeds)]
    return ~pd.Series(keys, index=table.index).duplicated()


def condition_spec(condition: dict) -> MVDSpec:
    """The :class:`MVDSpec` a condition describes."""
    return MVDSpec(
        d1=condition["d1"], d2=condition["d2"], d=condition["d"], J1=tuple(condition["J1"]), J2=tuple(condition["J2"])
    )


# ------------------------------------------------------------------------------ helpers


def _stack(datasets, part: str, device):
    """(xa, xb, y) of one split for every seed: (S, n, d1), (S, n, d2), (S, n)."""
    splits = [ds.split(part) for ds in datasets]
    xa = torch.as_tensor(np.stack([m["xa"] for m, _ in splits]), device=device)
    xb = torch.as_tensor(np.stack([m["xb"] for m, _ in splits]), device=device)
    y = torch.as_tensor(np.stack([labels for _, labels in splits]), device=device)
    return xa, xb, y


def _fit_lr(model, x, targets, loss, train: dict) -> None:
    fit(model, x, targets, loss, epochs=train["epochs"], lr=train["lr"], batch_size=x.shape[1],
        optimiser=train["optimiser"])


# -------------------------------------------------------------------------- Algorithm 1


def aligned_pair_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Eq. (28) per copy: MSE(f_a, f_b) + CE(y, f_a) + CE(y, f_b), the MSE on the logits."""
    za, zb = out[..., :2], out[..., 2:]
    return ((za - zb) ** 2).mean(dim=(-2, -1)) + cross_entropy(za, y) + cross_entropy(zb, y)


def fit_aligned_pair(seeds, xa: torch.Tensor, xb: torch.Tensor, y: torch.Tensor, train: dict) -> AlignedPair:
    """Step 1 of Algorithm 1: jointly train f_a on x_a and f_b on x_b (one pair per seed)."""
    pair = AlignedPair(seeds, xa.shape[-1], xb.shape[-1]).to(xa.device)
    _fit_lr(pair, torch.cat([xa, xb], dim=-1), {"y": y}, lambda out, b: aligned_pair_loss(out, b["y"]), train)
    return pair


@torch.no_grad()
def permutation_salience(fa, fb, xa: torch.Tensor, xb: torch.Tensor, repeats: int, seeds) -> np.ndarray:
    """Steps 2-9 of Algorithm 1: the salience of every channel of x_a, shape (S, d1), max 1.

    p_i is the mean, over ``repeats`` random permutations of channel i across samples,
    of the mean squared distance between f_a(permuted x_a) and f_b(x_b); p is then
    divided by its largest entry. ``fa`` and ``fb`` map (S, n, d) to (S, n, k); each
    seed's permutations come from its own generator.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be positive, got {repeats}")
    n_seeds, n, d1 = xa.shape
    target = fb(xb)  # (S, n, k)
    eye = torch.eye(d1, dtype=torch.bool, device=xa.device)
    generators = [copy_generator(s, role_salt("alg1-permutation")) for s in seeds]
    salience = torch.zeros(n_seeds, d1, dtype=torch.float64, device=xa.device)
    for _ in range(repeats):
        # order[s, i] is a permutation of the n samples, used for channel i of seed s
        order = torch.stack([torch.rand(d1, n, generator=g).argsort(-1) for g in generators]).to(xa.device)
        permuted = torch.gather(xa.transpose(1, 2), 2, order)  # (S, d1, n): channel i, permuted
        # tilde[s, i] is x_a of seed s with channel i replaced by its permutation
        tilde = torch.where(eye[None, :, None, :], permuted[:, :, :, None], xa[:, None, :, :])
        out = fa(tilde.reshape(n_seeds, d1 * n, d1)).reshape(n_seeds, d1, n, -1)
        salience += ((out - target[:, None]) ** 2).mean(dim=(-2, -1)).double()
    salience /= repeats
    return (salience / salience.max(dim=1, keepdim=True).values).cpu().numpy()


def precision_at_k(salience: np.ndarray, truth) -> float:
    """Share of the |truth| highest-salience channels that are in ``truth`` (NaN if empty)."""
    truth = set(int(i) for i in truth)
    if not truth:
        return float("nan")
    top = np.argsort(-np.asarray(salience), kind="stable")[: len(truth)]
    return len(truth & set(top.tolist())) / len(truth)


def salience_by_group(salience: np.ndarray, spec: MVDSpec) -> dict[str, float]:
    """Mean salience of the shared (J1 n J2), teacher-only (J1 minus J2) and noise channels of x_a."""
    groups = {
        "sal_shared": spec.shared,
        "sal_specific": sorted(set(spec.J1) - set(spec.J2)),
        "sal_noise": sorted(set(range(spec.d1)) - set(spec.J1)),
    }
    return {k: float(np.mean(salience[list(v)])) if len(v) else float("nan") for k, v in groups.items()}


def teacher_channels(kind: str, spec: MVDSpec, salience: np.ndarray, seed: int) -> list[int]:
    """The channels of modality a a teacher of this kind sees (see :data:`TEACHERS`)."""
    k = len(spec.shared)
    top = np.argsort(-salience, kind="stable")[:k].tolist()
    if kind == "regular":
        return list(range(spec.d1))
    if k == 0:
        raise ValueError(f"a {kind!r} teacher needs |J1 n J2| > 0")
    if kind == "general":
        return list(spec.shared)
    if kind == "alg1_general":
        return sorted(top)
    if kind == "alg1_specific":
        return sorted(set(range(spec.d1)) - set(top))
    if kind == "random":
        rng = np.random.default_rng([int(seed), zlib.crc32(b"random-teacher")])
        return sorted(rng.choice(spec.d1, size=k, replace=False).tolist())
    raise ValueError(f"unknown teacher {kind!r}; choose one of {TEACHERS}")


# ----------------------------------------------------------------------------- the cell


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Train and evaluate one MVD condition for a batch of seeds; one row per (seed, teacher).

    ``condition`` comes from :func:`spec_condition`; ``settings`` is a :class:`Settings`
    as a dict. Accuracies are in percent.
    """
    s = Settings.from_dict(settings)
    spec = condition_spec(condition)
    device = default_device()
    train = dict(epochs=s.epochs, lr=s.lr, optimiser=s.optimiser)
    datasets = [make_mvd(spec, s.n_train, s.n_test, seed) for seed in seeds]
    xa, xb, y = _stack(datasets, "train", device)

    # Algorithm 1 on the training split.
    pair = fit_aligned_pair(seeds, xa, xb, y, train)
    salience = permutation_salience(pair.fa, pair.fb, xa, xb, s.alg1_repeats, seeds)

    kinds = list(condition["teachers"])
    channels = {kind: [teacher_channels(kind, spec, salience[i], seed) for i, seed in enumerate(seeds)] for kind in kinds}
    distilled = _distil(datasets, seeds, kinds, channels, s, device)

    data_gamma, data_alpha, data_beta = mvd_shares(spec.J1, spec.J2)
    results = {}
    for i, seed in enumerate(seeds):
        ranking = {"alg1_precision": precision_at_k(salience[i], spec.shared), **salience_by_group(salience[i], spec)}
        rows = []
        for kind in kinds:
            r = distilled[seed, kind]
            t_gamma, t_alpha, t_beta = mvd_shares(sorted(set(spec.J1) & set(channels[kind][i])), spec.J2)
            rows.append({
                "setting": condition["setting"], "level": condition["level"], "teacher": kind, "seed": seed,
                "gamma": data_gamma, "alpha": data_alpha, "beta": data_beta,
                "teacher_gamma": t_gamma, "teacher_alpha": t_alpha, "teacher_beta": t_beta,
                "teacher_channels": len(channels[kind][i]),
                **{c: r[c] * 100 for c in ("teacher_acc", "acc_nokd", "acc_kd")},  # percent, as MFH
                **{c: r[c] for c in ("mi_ts", "mi_sl", "mi_tl", *kd.NULL_COLUMNS)}, **ranking,
                "crit_gamma": t_gamma, **criteria.columns_of(r),  # the criteria chapter's candidates
            })
        results[seed] = rows
    return results


def _lr(role: str):
    """kd.run's network: a logistic regression per copy whose representation is its decision value."""
    return lambda seeds, d_in, n_out: DecisionValueLR(seeds, d_in, role)


def _distil(datasets, seeds, kinds, channels, s: Settings, device) -> dict:
    """:func:`cchlib.kd.run` per input width: one teacher per channel set, the baseline, one student per teacher.

    Kinds of one width share a teacher stack (a copy per kind); the students are trained
    full-batch, MFH Eq. (1) with ``lam = 1 - rho``. Returns kd.run's row per (seed, kind).
    """
    widths = {}
    for kind in kinds:
        widths.setdefault(len(channels[kind][0]), []).append(kind)
    out = {}
    for group in widths.values():
        data = [kd.SeedData([ds.modalities["xa"][:, channels[k][i]] for k in group], ds.modalities["xb"], ds.labels,
                            ds.train_idx, ds.test_idx) for i, ds in enumerate(datasets)]
        rows = kd.run(
            data, seeds, teacher_net=_lr("teacher"), student_net=_lr("student"), n_out=2, device=device,
            variants=[kd.Variant(teacher=j, lam=1.0 - s.rho, temperature=s.temperature) for j in range(len(group))],
            schedule=kd.Schedule(s.epochs, s.lr, s.n_train, s.optimiser),
            mi_spec=kd.MISpec(s.mi_method, s.mi_options, null=True),
        )
        out.update({(seed, group[r["variant"]]): r for seed in seeds for r in rows[seed]})
    return out


# ----------------------------------------------------------------------- summaries


def summarise(rows: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean and standard error (``<column>_se``) over seeds of ``columns``, per group ``by``, and ``n_seeds``."""
    missing = set(by) | set(columns)
    missing -= set(rows.columns)
    if missing:
        raise ValueError(f"rows lack columns {sorted(missing)}")
    return summarise_seeds(rows, list(by), columns)


def condition_table(rows: pd.DataFrame, by=("setting", "level", "teacher")) -> pd.DataFrame:
    """Per condition: mean +- SE over seeds of accuracies, MIs, the MI gap and the KD gain.

    ``kd_gain = acc_kd - acc_nokd`` (percentage points, positive when distillation
    helped, paired by seed), ``mi_gap = mi_ts - mi_sl`` (nats, CCH's criterion) and, with
    the null MIs, the estimator's null gap ``mi_gap_null`` (:func:`cchlib.stats.outcomes`).
    MFH's criterion is ``teacher_gamma``, the gamma preserved in the teacher.
    """
    rows = outcomes(rows, "acc")
    columns = ["gamma", "alpha", "teacher_gamma", "teacher_acc", "acc_nokd", "acc_kd", "kd_gain",
               "mi_ts", "mi_sl", "mi_gap", "alg1_precision"] + (["mi_gap_null"] if "mi_gap_null" in rows else [])
    return summarise(rows, list(by), columns)


def information_shares(s12: float, s13: float, s23: float, p: int) -> tuple[float, float, float]:
    """MVD's (gamma, alpha, beta) with feature counts replaced by label information (ours, not MFH's).

    On the Gaussian regression of Sec. 4.1 (App. B sampler) there are no decisive index
    sets: the one decisive variable, Y, is in both modalities, so MFH's literal gamma is
    1 for every sigma12. To give MFH a graded criterion there, we transcribe App. B.2's
    bookkeeping with exact Gaussian informations in place of set sizes:
    alpha = 1 - I(X2;Y)/I(X1,X2;Y) (label information only the teacher's modality has),
    beta = 1 - I(X1;Y)/I(X1,X2;Y), gamma = 1 - alpha - beta (the shared share, the
    co-information over the total).
    """
    cov = sampler_covariance(s12, s13, s23, p)
    x1, x2 = list(range(p)), list(range(p, 2 * p))

    def info(idx):  # I(X_idx; Y) in nats for jointly Gaussian variables
        s_xy = cov[idx, -1]
        explained = s_xy @ np.linalg.solve(cov[np.ix_(idx, idx)], s_xy)
        return 0.5 * np.log(cov[-1, -1] / (cov[-1, -1] - explained))

    i1, i2, both = info(x1), info(x2), info(x1 + x2)
    alpha, beta = 1 - i2 / both, 1 - i1 / both
    return 1 - alpha - beta, alpha, beta


def criterion_agreement(table: pd.DataFrame, group: str, gamma_threshold: float = 0.5) -> pd.DataFrame:
    """Per group of conditions (and over all): how well each criterion predicts the KD gain.

    ``table`` has one row per condition with ``mi_gap``, ``kd_gain`` and ``mfh_gamma``.
    CCH predicts a gain where mi_gap > 0. MFH states no threshold; we read "gamma is
    large" as gamma > ``gamma_threshold``. Both are also scored on ordering: the
    Spearman correlation of the criterion with the measured gain.
    """
    missing = {group, "mi_gap", "kd_gain", "mfh_gamma"} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks columns {sorted(missing)}")
    out = []
    for key, part in list(table.groupby(group, sort=False)) + [("all", table)]:
        helped = part.kd_gain > 0
        cch = (part.mi_gap > 0) == helped
        mfh = (part.mfh_gamma > gamma_threshold) == helped
        out.append({
            group: key,
            "conditions": len(part),
            "KD helped": int(helped.sum()),
            "CCH sign agreements": int(cch.sum()),
            "MFH sign agreements": int(mfh.sum()),
            "Spearman(MI gap, KD gain)": spearman_rho(part.mi_gap, part.kd_gain),
            "Spearman(MFH gamma, KD gain)": spearman_rho(part.mfh_gamma, part.kd_gain),
        })
    return pd.DataFrame(out)
