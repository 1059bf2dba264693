"""Intervals, the null test and verdicts: the one place where a verdict rule lives.

Every verdict of the book (a chapter's table, the scorecard) and of
``python -m cchlib.select`` comes from :func:`verdicts`, so all of them mean the same:

**KD gain.** A seed's baseline and distilled students are paired (same data, same
initialisation role, same batch order), so the gain ``score_kd - score_nokd`` is a paired
difference. Its interval is the t-interval over seeds, ``mean ± t_{n-1} · SE`` (df = n - 1,
:func:`t_interval`), and its p-value the one-sample t-test of mean 0 (:func:`t_pvalue`).

**MI gap.** ``gap = I(H_T;H_S) - I(H_S;Y)`` is estimated, and every estimator is biased:
on independent data LMI, KSG and MINE do not return 0, and they underestimate large MIs,
by amounts that depend on the dimensions and the sample size (which differ between the
two terms). The seed-to-seed spread says nothing about that bias. Two corrections
address it, and a gap is *resolved* only when both of these tests pass (an
intersection-union test: its p-value is the larger of the two):

1. **Beyond the estimator's null.** :func:`null_mis` measures the estimator on the same
   representations with the dependence removed (rows of H_T permuted against H_S,
   labels permuted against H_S): the per-seed null gaps. The mean gap is compared with
   the mean null gap by a two-sample t-test whose standard error shrinks as 1/sqrt(n)
   with n seeds (:func:`excess_over_null`). When every seed draws its own data
   (``independent_data``), this is Welch's test. When the seeds share one evaluation
   sample, every seed's gap carries that sample's chance dependence, which no number of
   seeds averages away; the test then keeps the shared part of the null variance (the
   null gaps vary by the sample *and* the seed, the gaps only by the seed), as
   :func:`excess_over_null` says, so it is never tighter than the data allow.
2. **The sign.** The gap's t-interval over seeds must exclude 0, with the same sign
   as the excess over the null.

**The estimator's bias at large MI**, which the null (measured at zero MI) does not
see, is reported beside every verdict rather than folded into it: where a chapter
measured its estimator on Gaussian data with known MI at its own dimensions and sample
size (:mod:`cchlib.mi.bias`), ``mi_gap_corrected`` (its SE includes the calibration's
own uncertainty) is shown next to the raw gap, and :func:`bias_check` says whether the
resolved sign survives it. The calibration assumes a latent shape for the
representations; the null test assumes nothing, so it alone decides.

**Many conditions.** p-values are adjusted across the conditions of one family (a
chapter; one ``select`` run) with Benjamini-Hochberg (:func:`adjust`,
``scipy.stats.false_discovery_control``) before anything is counted as resolved.

**Too few seeds.** With fewer than :data:`MIN_SEEDS` seeds no verdict is given:
"unresolved" (chapters, scorecard) or "undecided" (``select``). More seeds shrink both
tests; where the seeds share one sample, more samples shrink its shared part.

:data:`RULE` says all this in one sentence; the book's boxes glue it from here.
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
RULE = (
    "a condition is resolved when, after Benjamini-Hochberg adjustment within its chapter at 5%, "
    "(1) the mean MI gap differs from the estimator's mean null gap (the same estimator on permuted "
    "pairs; a two-sample t-test over seeds, which adds the null's shared-sample variance when the seeds "
    "share one evaluation sample), (2) the gap's 95% t-interval over seeds excludes 0, with the same "
    "sign as in (1), and (3) the distillation gain's paired 95% t-interval over seeds excludes 0; "
    f"fewer than {MIN_SEEDS} seeds give no verdict. Whether the gap's sign survives the estimator's "
    "bias at large MI (measured on Gaussian data with known MI at the chapter's shapes) is shown "
    "beside each verdict, not folded into it"
)
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
    n = np.asarray(n, dtype=float)
    return t_pvalue_df(mean, se, np.where(n >= 2, n - 1, np.nan))


def t_pvalue_df(mean, se, df) -> np.ndarray:
    """Two-sided p-value of ``mean / se`` against Student's t with ``df`` degrees of freedom (NaN df: NaN)."""
    mean, se, df = (np.asarray(a, dtype=float) for a in (mean, se, df))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, np.abs(mean) / se, np.where(mean == 0, 0.0, np.inf))
        p = 2 * sps.t.sf(t, df)
    return np.where(np.isfinite(df) & (df > 0), p, np.nan)


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


HIGHER_IS_BETTER = {"acc": True, "f1": True, "mse": False}  # the scores of cchlib.kd's rows


def outcomes(per_seed: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Add the outcome columns of :mod:`cchlib.kd`'s rows: ``kd_gain`` and the MI gaps.

    The one definition of the distillation gain: ``kd_gain`` is the student's
    ``<metric>_kd`` minus its ``<metric>_nokd`` for a score (accuracy, F1), and the
    reverse for an error (MSE), so a positive gain always means that distillation
    helped; both students of a seed share initialisation and batches, so it is a
    paired difference. The gap columns are :func:`gap_columns`'.
    """
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r}; one of {sorted(HIGHER_IS_BETTER)}")
    kd, nokd = per_seed[f"{metric}_kd"], per_seed[f"{metric}_nokd"]
    return gap_columns(per_seed.assign(kd_gain=kd - nokd if HIGHER_IS_BETTER[metric] else nokd - kd))


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

    ``n_seeds`` counts the seeds with a finite first column. Missing columns are skipped;
    a column name that appears twice is an error (its values would be counted twice).
    """
    repeated = sorted(set(per_seed.columns[per_seed.columns.duplicated()]))
    if repeated:
        raise ValueError(f"per-seed rows hold the column(s) {repeated} twice; select each column once")
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


class Excess(NamedTuple):
    """The mean gap beyond the mean null gap, its standard error, degrees of freedom and p-value."""

    value: np.ndarray
    se: np.ndarray
    df: np.ndarray
    p: np.ndarray


def excess_over_null(table: pd.DataFrame) -> Excess:
    """The two-sample test of the mean gap against the mean null gap, per row.

    Both means are over the row's ``n_seeds`` seeds (one null gap per seed), so the
    standard error ``sqrt(gap_se² + null_se²)`` shrinks as 1/sqrt(n): Welch's test,
    with Welch-Satterthwaite degrees of freedom, when the seeds drew independent data
    (column ``independent_data`` true). When they share one evaluation sample (the
    column false or absent: the cautious default), every seed's gap carries the same
    chance dependence of that sample, so the mean gap keeps a shared error that seeds
    cannot average away. The null gaps (a fresh permutation each) vary by the sample and
    the seed, the gaps by the seed alone, so with per-seed variances ``s²`` the variance
    of the difference of means is ``s_null² (1 + 1/n) - s_gap² (1 - 1/n)``; ``s_gap²`` is
    taken at its lower-quartile bound ``s_gap² (n-1) / chi²_{0.75, n-1}`` (a cautious
    subtraction) and the total never below Welch's, with Welch-Satterthwaite degrees of
    freedom for that difference of two variance estimates (at least 1). With few seeds
    those degrees of freedom can be tiny, so the p-value is the smaller of this test's
    and the null *band*'s (the gap against one new null draw, ``s_null² (1 + 1/n) +
    s_gap²/n`` with ``n - 1`` degrees of freedom, an upper bound on the variance).
    Measured size on random-effects noise (the shared part 0-100% of the null variance,
    3-20 seeds): at most 5.5% (``tests/test_stats.py``; ``benchmarks/null_power.py`` on
    the real pipeline). NaN without null columns.
    """
    if "mi_gap_null" not in table:
        nan = np.full(len(table), np.nan)
        return Excess(nan, nan, nan, nan)
    n = table.n_seeds.to_numpy(float)
    gap_var = table.mi_gap_se.to_numpy(float) ** 2
    null_var = table.mi_gap_null_se.to_numpy(float) ** 2
    independent = (table["independent_data"].fillna(False).astype(bool).to_numpy()
                   if "independent_data" in table else np.zeros(len(table), bool))
    welch = gap_var + null_var
    # shared design: Var = s_null²(1 + 1/n) - s_gap²(1 - 1/n), never below Welch's; the seed
    # variance subtracted is deflated to its lower quartile bound, so that a noisy s_gap² does
    # not talk the shared part away
    deflate = (n - 1) / sps.chi2.ppf(0.75, np.maximum(n - 1, 1))
    a, b = n * null_var * (1 + 1 / n), n * gap_var * (1 - 1 / n) * deflate
    shared_design = ~independent & (a - b > welch)
    variance = np.where(shared_design, a - b, welch)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Welch-Satterthwaite degrees of freedom of each variance estimate
        welch_df = welch**2 / ((gap_var**2 + null_var**2) / (n - 1))
        shared_df = (a - b) ** 2 / ((a**2 + b**2) / (n - 1))
    df = np.where(shared_design, np.maximum(shared_df, 1.0), np.where(welch > 0, welch_df, n - 1))
    df = np.where(n >= 2, np.minimum(df, 2 * (n - 1)), np.nan)
    value = (table.mi_gap - table.mi_gap_null).to_numpy(float)
    p = t_pvalue_df(value, np.sqrt(variance), df)
    band = t_pvalue_df(value, np.sqrt(a + gap_var), np.where(n >= 2, n - 1, np.nan))
    p = np.where(independent, p, np.fmin(p, band))
    return Excess(value, np.sqrt(variance), df, p)


def bias_check(table: pd.DataFrame) -> np.ndarray:
    """Whether each gap's sign survives the estimator's bias at large MI (:mod:`cchlib.mi.bias`).

    ``"kept"`` when the bias-corrected gap has the raw gap's sign, ``"reversed"`` when
    not, ``"beyond calibration"`` when an MI lies above anything the estimator gave on
    the calibration data (NaN correction), ``""`` where the chapter measured no
    calibration. Reported beside each verdict, not folded into it: the calibration data
    are Gaussian with a chosen latent shape, so the correction is only as right as that
    shape is for the representations (at a few dozen samples it can move an MI by
    nats), while the null test needs no model.
    """
    if "mi_gap_corrected" not in table:
        return np.full(len(table), "", dtype=object)
    corrected, raw = table.mi_gap_corrected.to_numpy(float), table.mi_gap.to_numpy(float)
    return np.where(~np.isfinite(corrected), "beyond calibration",
                    np.where(np.sign(corrected) == np.sign(raw), "kept", "reversed")).astype(object)


def verdicts(table: pd.DataFrame, level: float = LEVEL, adjust_method: str = "bh") -> pd.DataFrame:
    """Intervals, p-values and the three-state verdicts of a family of conditions.

    ``table``: one row per condition with ``mi_gap, mi_gap_se, n_seeds`` and, for the
    null test, ``mi_gap_null, mi_gap_null_se`` (mean and SE of the per-seed null gaps;
    0 and 0 for an exact, analytic gap) and ``independent_data`` (whether each seed drew
    its own data; absent means shared, see :func:`excess_over_null`); optionally
    ``mi_gap_corrected, mi_gap_corrected_se`` (:mod:`cchlib.mi.bias`) and ``kd_gain,
    kd_gain_se``. Summaries come from :func:`summarise_seeds` (after :func:`gap_columns`).

    Adds ``mi_gap_low/high`` (t-interval of the raw gap; ``mi_gap_corrected_low/high``
    for the corrected one), ``mi_gap_excess_p`` (unadjusted test against the null),
    ``mi_gap_p`` (BH-adjusted, intersection of "gap ≠ 0" and "gap ≠ null gap", same
    sign), ``gap_resolved``, ``cch_predicts_gain`` (gap > 0), ``bias_check``
    (:func:`bias_check`), ``select_verdict`` (distil /
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
    excess = excess_over_null(out)
    out["mi_gap_low"], out["mi_gap_high"] = t_interval(out.mi_gap, out.mi_gap_se, n, level)
    if "mi_gap_corrected" in out:
        out["mi_gap_corrected_low"], out["mi_gap_corrected_high"] = t_interval(
            out.mi_gap_corrected, out.mi_gap_corrected_se, n, level)
    out["mi_gap_excess_p"] = excess.p
    same_sign = np.sign(out.mi_gap.to_numpy(float)) == np.sign(excess.value)
    p_gap = np.fmax(t_pvalue(out.mi_gap, out.mi_gap_se, n), out.mi_gap_excess_p.to_numpy(float))
    p_gap = np.where(enough, np.where(same_sign | ~np.isfinite(p_gap), p_gap, 1.0), np.nan)
    out["mi_gap_p"] = adjust(p_gap, adjust_method)
    out["gap_resolved"] = out.mi_gap_p < alpha
    out["cch_predicts_gain"] = out.mi_gap > 0
    out["bias_check"] = bias_check(out)
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
        reasons.append("gap not separated from 0 or from the estimator's null")
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
