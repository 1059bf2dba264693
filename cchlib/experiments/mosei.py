"""Sec. 4.3 / App. D: CMU-MOSEI, a text teacher for vision and audio students.

Three sweep cells, all on the temporal mean-pooled features of :mod:`cchlib.data.mosei`
(the real file when one is given, else the stand-in):

- :func:`run_pairs_cell` (Tables 2 and 3, and the teacher-selection comparison): per
  seed, one network per modality trained on the labels (each is the baseline student
  of its modality and the teacher of the others), then for every ordered pair
  (teacher, student) a student distilled from that teacher (Eq. 2). The MIs
  I(H_T; H_S), I(H_S; Y), I(H_T; Y) are estimated on test representations with each
  estimator in ``estimators`` (:class:`PairsSettings`).
- :func:`run_noise_cell` (Table 4): teachers trained on inputs with Gaussian noise of
  each level, a baseline student, and one distilled student per level
  (:class:`NoiseSettings`).
- :func:`run_selection_cell`: the a-priori step, per seed the MI gap of every
  candidate teacher for every student with its uncertainty over repeated estimates
  (:func:`cchlib.mi.estimate_with_se`; :class:`SelectionSettings`).

Each cell has its own settings class, holding only what it reads, so changing the
noise grid does not invalidate the cached pairs cells, and so on.

The network is Table 14 (:class:`cchlib.models.StackedMoseiNet`: temporal mean-pool, D -> 256 -> 128
-> 2 with ReLU, BatchNorm and dropout 0.3) and the training Table 15 (AdamW, lr 5e-4,
cosine schedule, T = 4.5, lambda = 0.5; :func:`cchlib.train.fit` with
``optimiser="adamw", schedule="cosine"``). Seeds are trained as one stack with
per-copy batch statistics (:class:`cchlib.models.StackedBatchNorm`) and per-copy
dropout masks, so a seed's result does not depend on which seeds share its batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cchlib import criteria, kd
from cchlib.data import mosei
from cchlib.mi import check_spec
from cchlib.models import StackedMoseiNet
from cchlib.settings import CellSettings

MODALITIES = mosei.MODALITIES


# ---------------------------------------------------------------------------
# Settings of the three cells
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shared(CellSettings):
    """What every cell reads: the data, Table 14's network, Table 15's training, the MI rows."""

    data: dict  # which features: see :func:`cchlib.data.mosei.data_spec`
    hidden: list[int]  # Table 14's hidden widths
    dropout: float
    epochs: int
    lr: float
    weight_decay: float  # AdamW's
    batch_size: int
    standardise: bool  # standardise each pooled feature with training statistics
    mi_options: dict  # per estimator name, its options (e.g. {"lmi": {"epochs": 100}})
    mi_samples: int | None  # test rows used for the MI estimates (None: all)

    def __post_init__(self):
        super().__post_init__()
        for method, options in self.mi_options.items():  # a flat dict would name an option as a method
            if not isinstance(options, dict):
                raise ValueError(f"mosei's mi_options holds options per estimator, e.g. {{'lmi': {{'epochs': 100}}}}; "
                                 f"got {method!r}: {options!r}")
            check_spec(method, options)
        for method in self.methods():
            check_spec(method, self.mi_options.get(method))

    def methods(self) -> list[str]:
        """The MI estimators this cell runs (checked when the settings are built): ``mi_method``, or
        Table 2's ``estimators`` in :class:`PairsSettings`."""
        return [self.mi_method]


@dataclass(frozen=True)
class PairsSettings(_Shared):
    """The settings of :func:`run_pairs_cell` (Tables 2 and 3)."""

    temperature: float
    lam: float  # weight of the distillation term of Eq. (2)
    estimators: list[str]  # Table 2's MI estimators, each estimated on every pair

    def methods(self) -> list[str]:
        return list(self.estimators)


@dataclass(frozen=True)
class NoiseSettings(_Shared):
    """The settings of :func:`run_noise_cell` (Table 4)."""

    temperature: float
    lam: float  # weight of the distillation term of Eq. (2)
    mi_method: str
    noise_levels: list[float]  # noise SDs on the teacher's inputs, relative to noise_relative_to
    noise_relative_to: str  # one of NOISE_REFERENCES, see :func:`noise_scale`


@dataclass(frozen=True)
class SelectionSettings(_Shared):
    """The settings of :func:`run_selection_cell` (the a-priori teacher ranking)."""

    mi_method: str
    selection_repeats: int  # repeated MI estimates per quantity, for its standard error


# ---------------------------------------------------------------------------
# Data per cell
# ---------------------------------------------------------------------------


NOISE_REFERENCES = ("pooled", "steps")


def noise_scale(features: mosei.MoseiFeatures, modality: str, relative_to: str = "pooled") -> np.ndarray:
    """Per-feature SD, on the pooled input, of noise of level 1.

    ``"pooled"``: noise of level ``a`` has SD ``a`` times the SD of the pooled feature
    over the training rows (the input the first Linear layer sees).
    ``"steps"``: noise of level ``a`` is added to every one of the L time steps of the
    input sequence, independently, with SD ``a`` times the feature's SD over the real
    training steps. The mean-pool of L such draws is Gaussian with SD
    ``a * step_std / sqrt(L)``, so adding that to the pooled input is the same in
    distribution and needs no (N, L, D) noise array.
    """
    if relative_to == "pooled":
        x = features.dataset.modalities[modality][features.dataset.train_idx]
        return x.astype(np.float64).std(axis=0)
    if relative_to == "steps":
        return features.step_std[modality] / math.sqrt(features.seq_len)
    raise ValueError(f"noise must be relative to one of {NOISE_REFERENCES}, got {relative_to!r}")


def modality_inputs(features: mosei.MoseiFeatures, modality: str, level: float, seed: int, standardise: bool,
                    relative_to: str = "pooled") -> np.ndarray:
    """One modality's pooled inputs for all rows, with teacher-input noise of ``level``
    (see :func:`noise_scale`), standardised with the (noisy) training rows' mean and
    SD when ``standardise``.

    The noise draw is fixed per (seed, level): the same noisy measurement in every
    epoch and at test time.
    """
    if level < 0:
        raise ValueError(f"noise level must be non-negative, got {level}")
    x = features.dataset.modalities[modality].astype(np.float64)
    if level > 0:
        rng = np.random.default_rng([int(seed), int(round(level * 1_000_000)), 4242, MODALITIES.index(modality)])
        x = x + level * noise_scale(features, modality, relative_to) * rng.standard_normal(x.shape)
    if standardise:
        train = x[features.dataset.train_idx]
        sd = train.std(axis=0)
        x = (x - train.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return x.astype(np.float32)


def _mi_rows(features: mosei.MoseiFeatures, n: int | None) -> np.ndarray:
    """The test rows whose representations the MI estimates use (a fixed subset when ``n``)."""
    test = features.dataset.test_idx
    if n is None or n >= len(test):
        return test
    return np.sort(np.random.default_rng(20251013).permutation(test)[: int(n)])


def _pairs(features, seeds, s: _Shared, mi_spec, distil: kd.Variant | None) -> kd.PairsResult:
    """Every modality's baseline (Table 14) as the others' teacher: :func:`cchlib.kd.run_pairs`.

    ``distil``: also train a student distilled from each teacher (None: baselines only).
    """
    ds = features.dataset
    data = {m: kd.SeedData([], modality_inputs(features, m, 0.0, 0, s.standardise), ds.labels, ds.train_idx,
                           ds.test_idx, _mi_rows(features, s.mi_samples)) for m in MODALITIES}
    return kd.run_pairs(
        data, {m: _net(m, s) for m in MODALITIES}, seeds, pairs=[(t, st) for t in MODALITIES for st in MODALITIES if t != st],
        schedule=_schedule(s), mi_spec=mi_spec, n_out=2, distil=distil,
        diagnostics=distil is not None,  # the criteria chapter's candidates, where a KD gain is measured
    )


def _schedule(s: _Shared) -> kd.Schedule:
    """Table 15: AdamW with a cosine schedule."""
    return kd.Schedule(s.epochs, s.lr, s.batch_size, optimiser="adamw", weight_decay=s.weight_decay,
                       schedule="cosine")


# ---------------------------------------------------------------------------
# Tables 2 and 3: every ordered (teacher, student) pair, every estimator
# ---------------------------------------------------------------------------


def run_pairs_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Baselines of all modalities, distilled students of all ordered pairs, MIs.

    ``condition`` is ``{}``-like (only its presence matters); ``settings`` is a
    :class:`PairsSettings` as a dict. Returns per seed one row per (teacher, student,
    estimator).
    """
    s = PairsSettings.from_dict(settings)
    features = mosei.load_features(s.data)
    specs = {f"@{m}": kd.MISpec(m, dict(s.mi_options.get(m, {})), null=True) for m in s.estimators}
    result = _pairs(features, seeds, s, specs, distil=kd.Variant(lam=s.lam, temperature=s.temperature))
    scores = ["acc_kd", "acc_nokd", "f1_kd", "f1_nokd", "teacher_acc", "teacher_f1"]
    return {seed: [
        {"experiment": "pairs", "teacher": r["teacher"], "student": r["student"], "noise": 0.0, "seed": seed,
         **{c: r[c] for c in scores}, **{c: r[f"{c}@{m}"] for c in ("mi_ts", "mi_sl", "mi_tl", *kd.NULL_COLUMNS)},
         "estimator": m, "data": features.source, **criteria.columns_of(r)}
        for m in s.estimators for r in rows] for seed, rows in result.rows.items()}


# ---------------------------------------------------------------------------
# Table 4: Gaussian noise on the teacher's inputs
# ---------------------------------------------------------------------------


def _net(modality: str, s: _Shared):
    """Table 14 for :func:`cchlib.kd.run`: ``net(seeds, d_in, n_out)``, role named by the modality."""
    return lambda seeds, d_in, n_out: StackedMoseiNet(seeds, d_in, f"mosei-{modality}", s.hidden, n_out, s.dropout)


NOISE_COLUMNS = ["acc_kd", "acc_nokd", "f1_kd", "f1_nokd", "teacher_acc", "teacher_f1", "mi_ts", "mi_sl", "mi_tl",
                 *kd.NULL_COLUMNS]


def run_noise_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Teacher ``condition["teacher"]`` with input noise of each level -> ``condition["student"]``.

    Per seed: one teacher per noise level (same initialisation), one baseline student
    and one distilled student per level (same initialisation and batch order as the
    baseline), through :func:`cchlib.kd.run`. ``settings`` is a :class:`NoiseSettings`
    as a dict; MIs with its ``mi_method``. Returns per seed one row per level.
    """
    s = NoiseSettings.from_dict(settings)
    t_mod, s_mod = condition["teacher"], condition["student"]
    if t_mod not in MODALITIES or s_mod not in MODALITIES or t_mod == s_mod:
        raise ValueError(f"teacher and student must be two different modalities of {MODALITIES}")
    levels = [float(v) for v in s.noise_levels]
    features = mosei.load_features(s.data)
    ds = features.dataset
    mi_rows = _mi_rows(features, s.mi_samples)
    data = [
        kd.SeedData([modality_inputs(features, t_mod, level, seed, s.standardise, s.noise_relative_to)
                     for level in levels], modality_inputs(features, s_mod, 0.0, seed, s.standardise),
                    ds.labels, ds.train_idx, ds.test_idx, mi_rows)
        for seed in seeds
    ]
    method = s.mi_method
    results = kd.run(
        data, seeds, teacher_net=_net(t_mod, s), student_net=_net(s_mod, s), n_out=2,
        variants=[kd.Variant(teacher=j, lam=s.lam, temperature=s.temperature) for j in range(len(levels))],
        schedule=_schedule(s), mi_spec=kd.MISpec(method, dict(s.mi_options.get(method, {})), null=True),
    )
    return {
        seed: [{"experiment": "noise", "teacher": t_mod, "student": s_mod, "noise": levels[r["variant"]], "seed": seed,
                **{c: r[c] for c in NOISE_COLUMNS}, "estimator": method, "data": features.source,
                **criteria.columns_of(r)}
               for r in rows]
        for seed, rows in results.items()
    }


# ---------------------------------------------------------------------------
# Teacher selection: MI gaps with their uncertainty
# ---------------------------------------------------------------------------


def run_selection_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Per seed, the MI gap I(H_T; H_S) - I(H_S; Y) of every candidate teacher T for
    every student S, each MI as the mean and SE of ``selection_repeats`` estimates
    (:func:`cchlib.mi.estimate_with_se`, method ``mi_method``; ``settings`` is a
    :class:`SelectionSettings` as a dict).

    The networks are the baselines of :func:`run_pairs_cell` (same initialisation and
    batch order), so this needs no distillation: it is what a user would compute
    before deciding which teacher to distil from.
    """
    s = SelectionSettings.from_dict(settings)
    features = mosei.load_features(s.data)
    method = s.mi_method
    spec = kd.MISpec(method, dict(s.mi_options.get(method, {})), repeats=s.selection_repeats)
    result = _pairs(features, seeds, s, spec, distil=None)
    return {seed: [
        {"teacher": r["teacher"], "student": r["student"], "seed": seed, "estimator": method,
         "mi_ts": r["mi_ts"], "mi_ts_se": r["mi_ts_se"], "mi_sl": r["mi_sl"], "mi_sl_se": r["mi_sl_se"],
         "mi_gap": r["mi_ts"] - r["mi_sl"], "mi_gap_se": math.hypot(r["mi_ts_se"], r["mi_sl_se"]), "data": features.source}
        for r in rows] for seed, rows in result.rows.items()}


def rank_candidates(selection: pd.DataFrame, gains: pd.DataFrame) -> pd.DataFrame:
    """For each student, its candidate teachers ranked by MI gap beside the measured gains.

    ``selection``: teacher, student, mi_gap, mi_gap_se (one row per pair, e.g. averaged
    over selection seeds). ``gains``: teacher, student, kd_gain, kd_gain_se. Adds
    ``rank_by_gap`` and ``rank_by_gain`` (1 = best) and whether the two rankings agree
    for that student (``same_order``) and whether the gap-ranked first choice is also
    the best measured teacher (``same_first``).
    """
    needed_s, needed_g = {"teacher", "student", "mi_gap", "mi_gap_se"}, {"teacher", "student", "kd_gain", "kd_gain_se"}
    if needed_s - set(selection) or needed_g - set(gains):
        raise ValueError(f"selection needs {sorted(needed_s)} and gains {sorted(needed_g)}")
    table = selection.merge(gains, on=["teacher", "student"], how="inner")
    table["rank_by_gap"] = table.groupby("student")["mi_gap"].rank(ascending=False, method="min").astype(int)
    table["rank_by_gain"] = table.groupby("student")["kd_gain"].rank(ascending=False, method="min").astype(int)
    agree = table.groupby("student").apply(lambda g: bool((g.rank_by_gap == g.rank_by_gain).all()), include_groups=False)
    first = table.groupby("student").apply(
        lambda g: bool(g.loc[g.mi_gap.idxmax(), "teacher"] == g.loc[g.kd_gain.idxmax(), "teacher"]), include_groups=False
    )
    table["same_order"] = table.student.map(agree)
    table["same_first"] = table.student.map(first)
    return table.sort_values(["student", "rank_by_gap"]).reset_index(drop=True)


def ordering_test(table2: pd.DataFrame) -> pd.DataFrame:
    """Per estimator, the modalities ordered by I(H_m; Y) and the teacher it picks.

    ``table2`` has one row per estimator with columns ``I(text;Y)``, ``I(vision;Y)``,
    ``I(audio;Y)`` (means). ``same_teacher`` is True on every row when all estimators
    pick the same teacher; ``same_order`` when they order all modalities alike.
    """
    cols = {m: f"I({m};Y)" for m in MODALITIES}
    rows = []
    for _, r in table2.iterrows():
        order = sorted(MODALITIES, key=lambda m: -r[cols[m]])
        rows.append({"estimator": r["estimator"], "order by I(H;Y)": " > ".join(order), "teacher picked": order[0]})
    out = pd.DataFrame(rows)
    out["same_teacher"] = out["teacher picked"].nunique() == 1
    out["same_order"] = out["order by I(H;Y)"].nunique() == 1
    return out
