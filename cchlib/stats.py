"""Intervals, null bands and verdicts: the one place where a verdict rule lives.

Every verdict of the book (a chapter's table, the scorecard) and of
``python -m cchlib.select`` comes from :func:`verdicts`, so all of them mean the same:

**KD gain.** A seed's baseline and distilled students are paired (same data, same
initialisation role, same batch order), so the gain ``score_kd - score_nokd`` is a paired
difference. Its interval is the t-interval over seeds, ``mean ± t_{n-1} · SE`` (df = n - 1,
:func:`t_interval`), and its p-value the one-sample t-test of mean 0 (:func:`t_pvalue`).

**MI gap.** ``gap = I(H_T;H_S) - I(H_S;Y)`` is estimated, and every estimator is biased
(on independent data LMI, KSG and MINE do not return 0, and their bias depends on the
dimensions, which differ between the two terms). The seed-to-seed spread says nothing
about that bias, so a gap's sign could be "resolved" by bias alone. We therefore measure
the estimator's *null* on the same representations with the dependence removed
(:func:`null_mis`: rows of H_T permuted against H_S, labels permuted against H_S) and
test two things, each with a t-test over seeds:

1. the gap itself differs from 0 (its seed interval excludes 0), and
2. the gap lies outside the *null band*: what the estimator gives at this sample size
   and these dimensions when the true MIs are 0, spread included (the gap minus the
   mean null gap, against the spread of single null gaps plus the gap's own SE), with
   the same sign.

A gap is resolved only when both hold (an intersection-union test: its p-value is the
larger of the two). Why a band and not the seed interval alone: when the views and
labels are independent, permuting rows changes nothing in distribution, so the gap is
one more draw from the null gaps' distribution; but all seeds of a run share one data
sample, so the gap's seed spread misses that sample's fluctuation, which the null gaps
(one fresh permutation each) carry. When the gap is real, permuting destroys it.

**Many conditions.** p-values are adjusted across the conditions of one family (a
chapter; one ``select`` run) with Benjamini-Hochberg (:func:`adjust`,
``scipy.stats.false_discovery_control``) before anything is counted as resolved.

**Too few seeds.** With fewer than :data:`MIN_SEEDS` seeds no verdict is given:
"unresolved" (chapters, scorecard) or "undecided" (``select``). More seeds (or more
samples, which shrink both the spread and the estimator's null) are how to get one.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps

LEVEL = 0.95
ALPHA = 1 - LEVEL
MIN_SEEDS = 3
CCH_STATES = ("agrees", "disagrees", "unresolved")
SELECT_STATES = ("distil", "do not distil", "undecided")


# ---------------------------------------------------------------------------
# Intervals over seeds
# ---------------------------------------------------------------------------


class Summary(NamedTuple):
    """Mean, standard error (ddof=1) and number of values."""

    mean: float
    se: float
    n: int


def summarise(values) -> Summary:
    """Mean, SE of the mean (NaN for one value) and count of the finite ``values``."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Summary(float("nan"), float("nan"), 0)
    se = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")
    return Summary(float(values.mean()), se, int(values.size))


def t_interval(mean, se, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided t-interval ``mean ± t_{n-1} · se`` (NaN where n < 2); arrays broadcast."""
    mean, se, n = (np.asarray(a, dtype=float) for a in (mean, se, n))
    with np.errstate(invalid="ignore"):
        half = sps.t.ppf(0.5 + level / 2, np.where(n >= 2, n - 1, np.nan)) * se
    return mean - half, mean + half


def t_pvalue(mean, se, n) -> np.ndarray:
    """Two-sided p-value of the t-test of mean 0 from summaries (NaN where n < 2).

    Equals ``scipy.stats.ttest_1samp(values, 0).pvalue`` for the values summarised.
    A zero SE with a non-zero mean gives p = 0; a zero SE with a zero mean gives p = 1.
    """
    mean, se, n = (np.asarray(a, dtype=float) for a in (mean, se, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, np.abs(mean) / se, np.where(mean == 0, 0.0, np.inf))
        p = 2 * sps.t.sf(t, np.where(n >= 2, n - 1, np.nan))
    return np.where(n >= 2, p, np.nan)


def adjust(pvalues, method: str = "bh") -> np.ndarray:
    """Benjamini-Hochberg (``"bh"``) or Benjamini-Yekutieli (``"by"``) adjusted p-values.

    NaN p-values (no test possible) stay NaN and do not count as tests.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = sps.false_discovery_control(np.clip(p[ok], 0, 1), method=method)
    return out


# ---------------------------------------------------------------------------
# The estimator's null: the same representations with the dependence removed
# ---------------------------------------------------------------------------


class NullMI(NamedTuple):
    """MIs of permuted pairs (nats): ``ts`` = I(H_T[perm]; H_S), ``sl`` = I(H_S; Y[perm])."""

    ts: float
    sl: float

    @property
    def gap(self) -> float:
        """The null gap ``ts - sl``: what the estimator reports as a gap when both MIs are 0."""
        return self.ts - self.sl


def permuted_mi(estimate: Callable, a, b, seed: int, stream: int = 0) -> float:
    """``estimate(a, b[perm], seed=seed)``: the MI estimate with the rows of ``b`` shuffled.

    The permutation comes from ``numpy.random.default_rng([seed, 7919, stream])``, so it
    is reproducible and different streams (teacher, labels) get independent permutations.
    """
    b = np.asarray(b)
    perm = np.random.default_rng([int(seed), 7919, int(stream)]).permutation(len(b))
    return float(estimate(a, b[perm], seed=seed))


def null_mis(estimate: Callable, h_t, h_s, y, seed: int) -> NullMI:
    """The estimator's null MIs on one seed's representations, for the MI-gap verdict.

    Args:
        estimate: ``estimate(a, b, seed=...) -> float`` in nats, the SAME estimator (and
            options, and averaging over repeats) used for the real MIs of this seed, e.g.
            ``functools.partial(cchlib.mi.estimate, method="lmi")``.
        h_t, h_s: the teacher's and student's representations on the evaluation split,
            (n, d_t) and (n, d_s), rows paired.
        y: the labels (or regression targets) of those n rows.
        seed: the training seed; it seeds the permutations and is passed to ``estimate``.

    Returns:
        ``NullMI(ts, sl)`` with ``ts = I(H_T[perm]; H_S)`` and ``sl = I(H_S; Y[perm])``:
        each pair's dependence is destroyed while sizes, dimensions and marginals stay.
        Store ``mi_ts_null = ts`` and ``mi_sl_null = sl`` in the per-seed rows beside
        ``mi_ts`` and ``mi_sl``; :func:`gap_columns` then forms ``mi_gap_null`` and the
        excess. When one student has several teachers, ``sl`` does not depend on the
        teacher: compute it once with ``permuted_mi(estimate, h_s, y, seed, stream=2)``.
    """
    h_t, h_s = np.asarray(h_t), np.asarray(h_s)
    if len(h_t) != len(h_s) or len(h_s) != len(y):
        raise ValueError(f"h_t, h_s and y need the same rows; got {len(h_t)}, {len(h_s)}, {len(y)}")
    return NullMI(permuted_mi(estimate, h_s, h_t, seed, stream=1), permuted_mi(estimate, h_s, y, seed, stream=2))


def gap_columns(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Add ``mi_gap`` and, when the null MIs are there, ``mi_gap_null`` and ``mi_gap_excess``.

    Per seed: ``mi_gap = mi_ts - mi_sl``, ``mi_gap_null = mi_ts_null - mi_sl_null`` and
    ``mi_gap_excess = mi_gap - mi_gap_null`` (the gap beyond the estimator's null).
    """
    out = per_seed.copy()
    if "mi_gap" not in out:
        out["mi_gap"] = out.mi_ts - out.mi_sl
    if {"mi_ts_null", "mi_sl_null"} <= set(out.columns):
        out["mi_gap_null"] = out.mi_ts_null - out.mi_sl_null
    if "mi_gap_null" in out:
        out["mi_gap_excess"] = out.mi_gap - out.mi_gap_null
    return out


def summarise_seeds(per_seed: pd.DataFrame, by, columns) -> pd.DataFrame:
    """Per group of ``by``: ``<column>``, ``<column>_se`` and ``n_seeds`` for each column.

    ``n_seeds`` counts the seeds with a finite first column. Missing columns are skipped.
    """
    columns = [c for c in columns if c in per_seed]
    rows = []
    for key, group in per_seed.groupby(by, sort=False):
        row = dict(zip([by] if isinstance(by, str) else by, key if isinstance(key, tuple) else (key,)))
        for column in columns:
            s = summarise(group[column])
            row[column], row[f"{column}_se"] = s.mean, s.se
        row["n_seeds"] = summarise(group[columns[0]]).n if columns else len(group)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------


def _excess(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The gap beyond the null and its SE, against the null *band* (not just its mean).

    The seeds of one run share one data sample, so the seed spread of the gap misses the
    sample's own fluctuation; each null gap comes from a fresh permutation and carries
    it. A gap is compared with a single new null gap: its SE combines the spread of the
    null gaps (per-seed SD squared, times ``1 + 1/n``) with the gap's own SE, the
    prediction-interval form ``sqrt((n + 1) · null_se² + gap_se²)``. NaN without nulls.
    """
    if "mi_gap_null" not in table:
        nan = np.full(len(table), np.nan)
        return nan, nan
    n = table.n_seeds.to_numpy(float)
    null_se = table.mi_gap_null_se.to_numpy(float)
    return ((table.mi_gap - table.mi_gap_null).to_numpy(float),
            np.sqrt((n + 1) * null_se**2 + table.mi_gap_se.to_numpy(float) ** 2))


def verdicts(table: pd.DataFrame, level: float = LEVEL, adjust_method: str = "bh") -> pd.DataFrame:
    """Intervals, p-values and the three-state verdicts of a family of conditions.

    ``table``: one row per condition with ``mi_gap, mi_gap_se, n_seeds`` and, for the
    null band, ``mi_gap_null, mi_gap_null_se`` (mean and SE of the per-seed null gaps;
    0 and 0 for an exact, analytic gap); optionally ``kd_gain, kd_gain_se``. Summaries
    come from :func:`summarise_seeds` (after :func:`gap_columns`).

    Adds ``mi_gap_low/high`` (t-interval), ``mi_gap_null`` (if it can),
    ``mi_gap_p`` (BH-adjusted, intersection of "gap ≠ 0" and "gap ≠ null gap"),
    ``gap_resolved``, ``cch_predicts_gain`` (gap > 0), ``select_verdict`` (distil /
    do not distil / undecided) and, with a gain, ``kd_gain_low/high``, ``kd_gain_p``
    (BH-adjusted), ``gain_resolved``, ``kd_helped`` and ``verdict`` (agrees / disagrees
    / unresolved). Rows are never dropped; rows with fewer than :data:`MIN_SEEDS`
    seeds, or without null MIs, are unresolved / undecided.
    """
    needed = {"mi_gap", "mi_gap_se", "n_seeds"}
    missing = needed - set(table.columns)
    if missing:
        raise ValueError(f"verdicts need the columns {sorted(needed)}; missing {sorted(missing)} "
                         "(summarise per-seed rows with cchlib.stats.summarise_seeds)")
    alpha = 1 - level
    out = table.copy()
    n = out.n_seeds.to_numpy(float)
    enough = n >= MIN_SEEDS
    gap, gap_se = out.mi_gap.to_numpy(float), out.mi_gap_se.to_numpy(float)
    excess, excess_se = _excess(out)
    out["mi_gap_low"], out["mi_gap_high"] = t_interval(gap, gap_se, n, level)
    same_sign = np.sign(gap) == np.sign(excess)
    p_gap = np.fmax(t_pvalue(gap, gap_se, n), t_pvalue(excess, excess_se, n))
    p_gap = np.where(enough, np.where(same_sign | ~np.isfinite(p_gap), p_gap, 1.0), np.nan)
    out["mi_gap_p"] = adjust(p_gap, adjust_method)
    out["gap_resolved"] = out.mi_gap_p < alpha
    out["cch_predicts_gain"] = out.mi_gap > 0
    out["select_verdict"] = np.where(out.gap_resolved, np.where(out.cch_predicts_gain, "distil", "do not distil"),
                                     "undecided")
    if "kd_gain" in out:
        gain, gain_se = out.kd_gain.to_numpy(float), out.kd_gain_se.to_numpy(float)
        out["kd_gain_low"], out["kd_gain_high"] = t_interval(gain, gain_se, n, level)
        out["kd_gain_p"] = adjust(np.where(enough, t_pvalue(gain, gain_se, n), np.nan), adjust_method)
        out["gain_resolved"] = out.kd_gain_p < alpha
        out["kd_helped"] = out.kd_gain > 0
        both = out.gap_resolved & out.gain_resolved
        out["verdict"] = np.where(both, np.where(out.kd_helped == out.cch_predicts_gain, "agrees", "disagrees"),
                                  "unresolved")
    return out


def why_unresolved(row) -> str:
    """A short reason a row has no verdict ('' when it has one)."""
    if row.get("n_seeds", 0) < MIN_SEEDS:
        return f"{int(row.get('n_seeds', 0))} seeds < {MIN_SEEDS}"
    if not np.isfinite(row.get("mi_gap_null", np.nan)):
        return "no null MIs (estimator bias unmeasured)"
    reasons = []
    if not row.get("gap_resolved", False):
        reasons.append("gap within seed spread or null band")
    if "gain_resolved" in row and not row["gain_resolved"]:
        reasons.append("gain interval includes 0")
    return "; ".join(reasons)


# ---------------------------------------------------------------------------
# Association of gap and gain (the scorecard as a test of CCH)
# ---------------------------------------------------------------------------


def chance_agreement(gap, gain) -> float:
    """Share of sign agreements expected if gaps were permuted across the conditions.

    With shares ``p`` of positive gaps and ``q`` of positive gains, a random pairing
    agrees with probability ``p q + (1 - p)(1 - q)`` (the exact permutation mean).
    """
    p, q = np.mean(np.asarray(gap) > 0), np.mean(np.asarray(gain) > 0)
    return float(p * q + (1 - p) * (1 - q))


def agreement_pvalue(gap, gain, groups=None, permutations: int = 4999, seed: int = 0) -> float:
    """One-sided permutation p-value that signs agree more often than chance.

    Gaps are permuted against gains within each group (a chapter), so each chapter's
    base rates of positive gaps and gains are kept.
    """
    gap, gain = np.asarray(gap, float) > 0, np.asarray(gain, float) > 0
    groups = np.zeros(len(gap)) if groups is None else np.asarray(groups)
    rng = np.random.default_rng(seed)
    observed = np.sum(gap == gain)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    hits = 0
    for _ in range(permutations):
        shuffled = gap.copy()
        for idx in members:
            shuffled[idx] = gap[rng.permutation(idx)]
        hits += np.sum(shuffled == gain) >= observed
    return float((hits + 1) / (permutations + 1))


def spearman_rho(x, y) -> float:
    """Spearman's rho of x and y; NaN with fewer than 3 values or a constant side."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(sps.spearmanr(x, y).statistic)


def spearman(gap, gain, level: float = LEVEL) -> dict:
    """Spearman's rho between gap and gain, its Fisher-z interval and two-sided p-value.

    The interval uses the standard error ``sqrt(1.06 / (n - 3))`` of ``atanh(rho)``
    (Fieller, Hartley and Pearson 1957); NaN with fewer than 4 conditions.
    """
    gap, gain = np.asarray(gap, float), np.asarray(gain, float)
    n = len(gap)
    if n < 4 or np.ptp(gap) == 0 or np.ptp(gain) == 0:
        return {"spearman": np.nan, "spearman_low": np.nan, "spearman_high": np.nan, "spearman_p": np.nan}
    result = sps.spearmanr(gap, gain)
    z, half = np.arctanh(np.clip(result.statistic, -0.9999, 0.9999)), sps.norm.ppf(0.5 + level / 2)
    se = np.sqrt(1.06 / (n - 3))
    return {"spearman": float(result.statistic), "spearman_low": float(np.tanh(z - half * se)),
            "spearman_high": float(np.tanh(z + half * se)), "spearman_p": float(result.pvalue)}


def seeds_needed(gain, sd, level: float = LEVEL, power: float = 0.8, max_seeds: int = 200) -> float:
    """Seeds a paired t-test needs to resolve a gain of size ``gain`` with per-seed SD ``sd``.

    The smallest n >= :data:`MIN_SEEDS` whose two-sided test at ``1 - level`` reaches
    ``power`` (noncentral t); ``inf`` when more than ``max_seeds`` would be needed.
    """
    if not np.isfinite(gain) or not np.isfinite(sd) or gain == 0:
        return float("inf")
    if sd == 0:
        return float(MIN_SEEDS)
    for n in range(MIN_SEEDS, max_seeds + 1):
        crit = sps.t.ppf(0.5 + level / 2, n - 1)
        delta = abs(gain) / sd * np.sqrt(n)
        if sps.nct.sf(crit, n - 1, delta) + sps.nct.cdf(-crit, n - 1, delta) >= power:
            return float(n)
    return float("inf")
