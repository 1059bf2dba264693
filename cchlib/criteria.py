"""Which criterion predicts the distillation gain? Candidates, per-condition rows, comparison.

CCH says: distil when ``I(H_T;H_S) - I(H_S;Y) > 0``. It has rivals that a practitioner
could compute from the same things BEFORE distilling (the teacher, the baseline student,
their representations and outputs on held-out rows):

==========================  ==============================================================
column                      candidate
==========================  ==============================================================
``mi_gap``                  the CCH gap with the chapter's estimator (``kd.MISpec``)
``gap_ksg``                 the CCH gap with KSG (cheap, always computed)
``gap_<method>``            the CCH gap with each estimator of ``MISpec.gap_methods``
``crit_cmi``                I(Y;H_T|H_S), the label information the teacher's representation
                            adds to the student's, by held-out linear probes
                            (:func:`cchlib.mi.conditional.probe_cmi`)
``crit_cmi_knn``            the same by kNN estimates on principal components
                            (:func:`cchlib.mi.conditional.knn_cmi`)
``mi_tl``                   I(H_T;Y), the teacher's information about the label
``crit_soft_info``          the label information of the teacher's outputs (soft labels),
                            by a held-out probe (:func:`cchlib.mi.conditional.probe_information`)
``crit_headroom``           the baseline student's held-out error (:func:`headroom`)
``crit_teacher_score``      the teacher's own test score (accuracy, or minus its MSE)
``crit_cka``                linear CKA of H_T and H_S (:func:`linear_cka`)
``crit_probe``              held-out linear probe of the teacher's outputs from H_S
                            (R^2 for regression, accuracy of the teacher's class)
``crit_agreement``          agreement of teacher and baseline-student predictions (share
                            of equal classes; correlation of outputs for regression)
``crit_gamma``              MFH's share of modality-general information, where the data
                            define it (a chapter supplies it per condition)
==========================  ==============================================================

plus two trivial rules, "always distil" and "never distil".

Three layers live here: the candidate functions (pure numpy/sklearn, tested on known
answers); :func:`add_columns`, the one diagnostics step of :func:`cchlib.kd.run` that puts
the candidates into every per-seed row; and :func:`write_criteria_rows`, which a chapter
calls next to its scorecard rows to write ``criteria_rows.csv`` (candidate means, the KD
gain's mean/SE/n_seeds and the verdict of :func:`cchlib.stats.verdicts`). The criteria
chapter reads those files (:func:`collect`) and ranks the candidates out of sample on
identical conditions (:func:`decisions`, :func:`rank`), and :func:`answer` says in words
what the ranking shows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from cchlib import mi, report, stats
from cchlib.mi import conditional
from cchlib.train import drop_constant_columns

PROBE_TEST_SHARE = 0.5  # the probe's own held-out share of the rows
PROBE_SALT = 4049  # seeds the probe's split: default_rng([seed, PROBE_SALT])
GAPS = ("mi_gap", *(f"gap_{method}" for method in mi.METHODS))  # the chapter's own gap, then one per estimator
CANDIDATES = (*GAPS, "crit_cmi", "crit_cmi_knn", "crit_gamma", "mi_tl", "crit_soft_info", "crit_teacher_score",
              "crit_headroom", "crit_cka", "crit_probe", "crit_agreement")
TRIVIAL = ("always distil", "never distil")
LABELS = {
    "mi_gap": "CCH gap (chapter's estimator)",
    **{f"gap_{method}": f"CCH gap ({name})" for method, name in mi.NAMES.items()},
    "crit_cmi": "I(Y;H_T|H_S), probes",
    "crit_cmi_knn": "I(Y;H_T|H_S), kNN",
    "crit_gamma": "MFH gamma",
    "crit_soft_info": "teacher's soft-label information",
    "crit_headroom": "student's error (headroom)",
    "mi_tl": "I(H_T;Y)",
    "crit_teacher_score": "teacher score",
    "crit_cka": "linear CKA",
    "crit_probe": "probe of teacher from H_S",
    "crit_agreement": "prediction agreement",
    "always distil": "always distil",
    "never distil": "never distil",
}

# ---------------------------------------------------------------------------
# The candidates, on one seed's held-out rows
# ---------------------------------------------------------------------------


def _two_d(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    a = a[:, None] if a.ndim == 1 else a
    if a.ndim != 2 or len(a) < 2:
        raise ValueError(f"{name} must be (n, d) with n >= 2 rows, got shape {np.shape(a)}")
    return a


def linear_cka(a, b) -> float:
    """Linear CKA of two representations of the same rows (Kornblith et al. 2019).

    ``||A'B||_F^2 / (||A'A||_F ||B'B||_F)`` on column-centred ``a`` (n, d_a) and ``b``
    (n, d_b): 1 for identical representations, invariant to orthogonal transforms and
    isotropic scaling of either; NaN when one of them is constant.
    """
    a, b = _two_d(a, "a"), _two_d(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a and b need the same rows, got {len(a)} and {len(b)}")
    a, b = a - a.mean(0), b - b.mean(0)
    norm = np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)
    return float(np.linalg.norm(a.T @ b) ** 2 / norm) if norm > 0 else float("nan")


def _probe_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng([int(seed), PROBE_SALT]).permutation(n)
    cut = n - max(1, int(round(n * PROBE_TEST_SHARE)))
    return perm[:cut], perm[cut:]


def probe_score(h, target, task: str, seed: int = 0) -> float:
    """How well a linear probe on ``h`` predicts ``target`` on rows it was not fitted on.

    The rows are split by ``seed`` (half held out). Regression: ``target`` (n, k) are the
    teacher's outputs, ridge regression (alpha 1) on standardised ``h``, score R^2 on
    the held-out half (variance-weighted over outputs; 0 is no better than the mean).
    Classification: ``target`` (n,) are the teacher's predicted classes, logistic
    regression, score accuracy (a single class in the fitted half is predicted as such).
    """
    h = _two_d(h, "h")
    target = np.asarray(target)
    if len(target) != len(h):
        raise ValueError(f"h and target need the same rows, got {len(h)} and {len(target)}")
    fit_rows, held = _probe_split(len(h), seed)
    scaler = StandardScaler().fit(h[fit_rows])
    x_fit, x_held = scaler.transform(h[fit_rows]), scaler.transform(h[held])
    if task == "regression":
        y = _two_d(target, "target")
        pred = Ridge(alpha=1.0).fit(x_fit, y[fit_rows]).predict(x_held)
        return float(r2_score(y[held], pred.reshape(y[held].shape), multioutput="variance_weighted"))
    if task != "classification":
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    classes = np.unique(target[fit_rows])
    if len(classes) == 1:
        return float(np.mean(target[held] == classes[0]))
    model = LogisticRegression(max_iter=1000).fit(x_fit, target[fit_rows])
    return float(np.mean(model.predict(x_held) == target[held]))


def agreement(out_t, out_s, task: str) -> float:
    """Agreement of two models' predictions on the same rows.

    Classification: outputs are (n, classes) logits, the share of rows whose argmax
    classes are equal. Regression: outputs are (n,) or (n, 1), Pearson's correlation
    (NaN when one of them is constant).
    """
    out_t, out_s = np.asarray(out_t, dtype=float), np.asarray(out_s, dtype=float)
    if out_t.shape != out_s.shape:
        raise ValueError(f"outputs need the same shape, got {out_t.shape} and {out_s.shape}")
    if task == "classification":
        return float(np.mean(out_t.argmax(-1) == out_s.argmax(-1)))
    if task != "regression":
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    t, s = out_t.ravel(), out_s.ravel()
    if np.ptp(t) == 0 or np.ptp(s) == 0:
        return float("nan")
    return float(np.corrcoef(t, s)[0, 1])


def headroom(out_s, labels, task: str) -> float:
    """The baseline student's error on the held-out rows: what distillation could still fix.

    Classification: the share of rows whose argmax class is wrong (``out_s`` (n, classes)
    logits, ``labels`` (n,)). Regression: MSE over the targets' variance, i.e. 1 - R^2
    (``out_s`` and ``labels`` (n, 1)), so that both are unit-free.
    """
    out_s, labels = np.asarray(out_s, dtype=float), np.asarray(labels)
    if task == "classification":
        return float(np.mean(out_s.argmax(-1) != labels))
    if task != "regression":
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    y = labels.reshape(out_s.shape).astype(float)
    variance = float(np.var(y))
    return float(np.mean((out_s - y) ** 2) / variance) if variance > 0 else float("nan")


def soft_label_information(out_t, labels, seed: int = 0) -> float:
    """The label information (nats) in the teacher's outputs on held-out rows (its soft labels).

    A probe on the outputs (logits, or regression outputs) rather than the outputs read
    as probabilities, so that an over- or under-confident teacher is not penalised for its
    temperature (:func:`cchlib.mi.conditional.probe_information`).
    """
    return conditional.probe_information(drop_constant_columns(np.asarray(out_t, dtype=float)), labels, seed)


def teacher_score(row: dict) -> float:
    """The teacher's test score from a :func:`cchlib.kd.run` row, higher is better.

    On the view the variant distils from (``teacher_<score>_view``, frozen-teacher
    reuse) when there is one, else on the teacher's own inputs.
    """
    for suffix in ("_view", ""):
        if f"teacher_acc{suffix}" in row:
            return float(row[f"teacher_acc{suffix}"])
        if f"teacher_mse{suffix}" in row:
            return -float(row[f"teacher_mse{suffix}"])
    raise ValueError(f"the row has no teacher score (teacher_acc or teacher_mse): {sorted(row)}")


KSG_GAP_ROWS = 2000  # rows of the KSG gap candidate: its cost grows as n^2 (8 s at 2,000 rows of 256 units, 3.5 min at 10,000)


def _gap(method: str, options: dict, h_t, h_s, labels, seed: int, mi_sl: float | None = None) -> tuple[float, float]:
    """``(I(H_T;H_S) - I(H_S;Y), I(H_S;Y))`` with one estimator; NaN (and a warning) if it cannot run.

    KSG reads only the first :data:`KSG_GAP_ROWS` rows (every stored chapter but the
    full-data MNIST has at most that many MI rows).
    """
    if method == "ksg":
        h_t, h_s, labels = h_t[:KSG_GAP_ROWS], h_s[:KSG_GAP_ROWS], labels[:KSG_GAP_ROWS]
    try:
        sl = mi.estimate(h_s, labels, method=method, seed=seed, **options) if mi_sl is None else mi_sl
        return mi.estimate(h_t, h_s, method=method, seed=seed, **options) - sl, sl
    except ValueError as err:  # e.g. KSG with a class rarer than k + 1 rows
        warnings.warn(f"criteria: the {method} gap could not be estimated ({err}); it is NaN", stacklevel=3)
        return float("nan"), float("nan")


def seed_candidates(h_t, h_s, out_t, out_s, labels, task: str, seed: int, gap_methods=("ksg",),
                    mi_options: dict | None = None) -> dict:
    """The candidates of one (seed, teacher): everything but the chapter's own MIs.

    ``h_t``, ``h_s``: the teacher's and BASELINE student's representations on the
    held-out (MI) rows; ``out_t``, ``out_s``: their outputs on the same rows;
    ``labels``: those rows' classes (n,) or targets (n, 1). ``gap_methods``: estimators
    of the extra ``gap_<method>`` columns, with ``mi_options[method]`` as options.
    """
    h_t, h_s = drop_constant_columns(np.asarray(h_t)), drop_constant_columns(np.asarray(h_s))
    target = np.asarray(out_t).argmax(-1) if task == "classification" else np.asarray(out_t)
    row = {"crit_cka": linear_cka(h_t, h_s), "crit_probe": probe_score(h_s, target, task, seed),
           "crit_agreement": agreement(out_t, out_s, task), "crit_headroom": headroom(out_s, labels, task),
           "crit_cmi": _or_nan(conditional.probe_cmi, h_t, h_s, labels, seed),
           "crit_cmi_knn": conditional.knn_cmi(h_t, h_s, labels, seed),
           "crit_soft_info": _or_nan(soft_label_information, out_t, labels, seed)}
    for method in gap_methods:
        row[f"gap_{method}"] = _gap(method, (mi_options or {}).get(method, {}), h_t, h_s, labels, seed)[0]
    return row


def _or_nan(estimate, *args) -> float:
    """``estimate(*args)``, or NaN with a warning when its inputs cannot carry it (e.g. too few rows)."""
    try:
        return estimate(*args)
    except ValueError as err:
        warnings.warn(f"criteria: {estimate.__name__} could not be computed ({err}); it is NaN", stacklevel=3)
        return float("nan")


def _main_spec(mi_spec) -> tuple[str, object]:
    """The chapter's own estimator: ``mi_spec``, or the first of a ``{suffix: MISpec}`` dict."""
    if isinstance(mi_spec, dict):
        suffix = "" if "" in mi_spec else next(iter(mi_spec))
        return suffix, mi_spec[suffix]
    return "", mi_spec


def add_columns(results: dict, data, variants, h_t, h_s, out_t, out_s, mi_spec, task: str) -> dict:
    """The diagnostics step of :func:`cchlib.kd.run`: candidate columns in every row.

    ``results``: per seed the rows of ``kd.run`` (one per variant, seeds in the order
    of ``data``); ``h_t``, ``out_t``: per teacher input a variant may name (seed-major)
    the representation and outputs on the MI rows; ``h_s``, ``out_s``: the same per
    student copy (per seed the baseline first). Adds the columns of :func:`seed_candidates`
    (``crit_cka``, ``crit_probe``, ``crit_agreement``, ``crit_headroom``, ``crit_cmi``,
    ``crit_cmi_knn``, ``crit_soft_info``), ``crit_teacher_score`` and ``gap_<method>`` for KSG (default
    options) and each method of ``mi_spec.gap_methods`` (``{method: options}``); the gap
    of the chapter's own estimator is its ``mi_ts - mi_sl``, copied, not estimated
    again. The rows are the MI rows (the first ``mi_spec.samples`` when set). Computed
    once per (seed, teacher input).
    """
    suffix, spec = _main_spec(mi_spec)
    t_sources, copies, n = len(h_t) // len(data), 1 + len(variants), spec.samples
    extra = {"ksg": {}, **spec.gap_methods}
    own = extra.pop(spec.method, None) is not None
    for i, (d, rows) in enumerate(zip(data, results.values())):
        seed = int(rows[0]["seed"])
        labels = d.y[d.rows("mi")][:n]
        labels = labels if task == "classification" else labels[:, None]
        done = {}
        for row, v in zip(rows, variants):
            if v.teacher not in done:
                t, s = i * t_sources + v.teacher, i * copies
                done[v.teacher] = seed_candidates(h_t[t][:n], h_s[s][:n], out_t[t][:n], out_s[s][:n], labels, task,
                                                  seed, tuple(extra), extra)
            row.update(done[v.teacher], crit_teacher_score=teacher_score(row))
            if own:
                row[f"gap_{spec.method}"] = row[f"mi_ts{suffix}"] - row[f"mi_sl{suffix}"]
    return results


def pair_columns(rows: dict, h: dict, outputs: dict, labels, task: str) -> dict:
    """The diagnostics step of :func:`cchlib.kd.run_pairs`: candidate columns in every pair row.

    ``rows``: per seed the rows of ``run_pairs`` (seeds in the order of the stacks'
    copies); ``h[m]``, ``outputs[m]``: modality ``m``'s representations and outputs on
    the MI rows, one per copy (seed). Each modality's network is the baseline student
    and the teacher, so the candidates need no distilled network.
    """
    for i, seed_rows in enumerate(rows.values()):
        for row in seed_rows:
            t, s = row["teacher"], row["student"]
            row.update(seed_candidates(h[t][i], h[s][i], outputs[t][i], outputs[s][i], labels, task, int(row["seed"])),
                       crit_teacher_score=teacher_score(row))
    return rows


def columns_of(row: dict) -> dict:
    """The candidate columns of a :func:`cchlib.kd.run` row, for a chapter's cell rows."""
    return {k: v for k, v in row.items() if k.startswith(("crit_", "gap_"))}


def candidate_columns(table: pd.DataFrame) -> list[str]:
    """The candidate columns present in ``table``, in :data:`CANDIDATES` order."""
    return [c for c in CANDIDATES if c in table]


def with_candidates(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``table[columns]`` plus the candidate columns, each column once (``mi_tl`` is both)."""
    return table[list(dict.fromkeys([*columns, *candidate_columns(table)]))]


# ---------------------------------------------------------------------------
# Per-condition rows of a chapter
# ---------------------------------------------------------------------------


def criteria_rows(per_seed: pd.DataFrame, by, chapter: str, condition=None, estimator: str = "") -> pd.DataFrame:
    """One row per condition: candidate means, the KD gain over seeds and its verdict.

    ``per_seed``: one row per (condition, seed) with ``kd_gain`` (positive when
    distillation helped), ``mi_ts``, ``mi_sl`` (and the null MIs when computed) and the
    candidate columns (:func:`add_columns`; ``crit_gamma`` where the chapter defines it).
    ``by``: the columns naming a condition; ``condition``: a function of a summary row
    giving its label (default: ``by``'s values joined). The verdict columns
    (``gain_resolved``, ``kd_gain_low/high``, ``kd_gain_p``, ``verdict``) come from
    :func:`cchlib.stats.verdicts` with the chapter's conditions as one family.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = {"kd_gain", "mi_ts", "mi_sl", *by} - set(per_seed.columns)
    if missing:
        raise ValueError(f"criteria rows need per-seed columns {sorted(missing)}")
    table = stats.gap_columns(per_seed)
    values = ["kd_gain", *candidate_columns(table), "mi_gap_null"]
    summary = stats.summarise_seeds(table, by, values)
    label = condition or (lambda r: ", ".join(f"{k}={r[k]}" for k in by))
    summary.insert(0, "condition", [label(r) for _, r in summary.iterrows()])
    summary.insert(0, "chapter", chapter)
    summary["estimator"] = estimator
    return stats.verdicts(summary)


def write_criteria_rows(per_seed: pd.DataFrame, by, results_root, params_name: str, chapter: str,
                        condition=None, estimator: str = "") -> pd.DataFrame:
    """:func:`criteria_rows`, written as ``criteria_rows.csv`` beside the scorecard rows."""
    rows = criteria_rows(per_seed, by, chapter, condition, estimator)
    report.write_table(rows, results_root, params_name, chapter, "criteria_rows")
    return rows


def collect(results_root, params_name: str) -> pd.DataFrame:
    """Every chapter's ``criteria_rows.csv`` of one parameter set's book, concatenated.

    A chapter that book rendered at another set is read from that set, with a ``scale``
    column naming where each row comes from (:func:`cchlib.report.chapter_files`).
    """
    parts = [pd.read_csv(p).assign(scale=scale)
             for p, scale in report.chapter_files(results_root, params_name, "criteria_rows.csv")]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["chapter", "condition", "kd_gain"])


# ---------------------------------------------------------------------------
# The comparison: out-of-sample sign rules on the same conditions, paired tests
# ---------------------------------------------------------------------------


def sign_accuracy(score, gain, threshold: float) -> float:
    """Share of conditions where "distil when score > threshold" matches "gain > 0"."""
    score, gain = np.asarray(score, float), np.asarray(gain, float)
    return float(np.mean((score > threshold) == (gain > 0))) if len(score) else float("nan")


def best_threshold(score, gain) -> float:
    """The threshold whose rule "distil when score > threshold" is right most often.

    Candidates are the midpoints between consecutive distinct scores and the two ends
    (``-inf``: always distil; the largest score: never); ties go to the smallest
    threshold. NaN without values.
    """
    score, gain = np.asarray(score, float), np.asarray(gain, float)
    if not len(score):
        return float("nan")
    values = np.unique(score)
    cuts = np.concatenate([[-np.inf], (values[:-1] + values[1:]) / 2, [values[-1]]])
    accuracy = [sign_accuracy(score, gain, c) for c in cuts]
    return float(cuts[int(np.argmax(accuracy))])


# Thresholds fixed before looking at any gain: 0 for the gaps (CCH's own rule), and MFH's
# gamma read as "distil when more than half of the teacher's decisive information is
# modality-general" (the MFH chapter's reading).
A_PRIORI_THRESHOLDS = {**{gap: 0.0 for gap in GAPS}, "crit_gamma": 0.5}
RANKING_COLUMNS = [
    "candidate", "n_conditions", "n_chapters", "sign_accuracy", "sign_accuracy_low", "sign_accuracy_high",
    "always_accuracy", "never_accuracy", "vs_always", "vs_always_low", "vs_always_high", "vs_always_p",
    "vs_never", "vs_never_low", "vs_never_high", "vs_never_p", "vs_gap", "vs_gap_low", "vs_gap_high", "vs_gap_p", "beats_trivial_p",
    "beats_trivial", "spearman", "spearman_low", "spearman_high",
]


def decisions(table: pd.DataFrame, candidate: str) -> tuple[pd.Series, dict]:
    """Out-of-sample "distil?" decisions of one candidate on every condition, and its thresholds.

    The rule is "distil when the candidate exceeds a threshold". The threshold is
    :data:`A_PRIORI_THRESHOLDS` where one exists; otherwise, for the conditions of each
    chapter, the best-accuracy threshold (:func:`best_threshold`) fitted on the OTHER
    chapters' conditions, so no condition is decided by a threshold fitted on its own
    chapter. The trivial rules decide the same everywhere. NaN where the candidate is
    missing or no other chapter has it (no threshold can be fitted).
    """
    if candidate in TRIVIAL:
        return pd.Series(float(candidate == "always distil"), index=table.index), {}
    values, out, thresholds = table[candidate].astype(float), pd.Series(np.nan, index=table.index), {}
    for chapter in dict.fromkeys(table.chapter):
        here = table.chapter == chapter
        if candidate in A_PRIORI_THRESHOLDS:
            threshold = A_PRIORI_THRESHOLDS[candidate]
        else:
            train = table[~here & values.notna() & table.kd_gain.notna()]
            threshold = best_threshold(train[candidate], train.kd_gain)
        thresholds[chapter] = threshold
        if not np.isnan(threshold):  # -inf (always distil) is a threshold too
            decided = here & values.notna()
            out[decided] = (values[decided] > threshold).astype(float)
    return out, thresholds


def thresholds_table(table: pd.DataFrame, candidates) -> pd.DataFrame:
    """Each candidate's threshold per held-out chapter (:func:`decisions`), and how it was set."""
    rows = [{"candidate": c, "held_out": chapter, "threshold": t,
             "how": "a priori" if c in A_PRIORI_THRESHOLDS else "fitted on the other chapters"}
            for c in candidates for chapter, t in decisions(table, c)[1].items()]
    return pd.DataFrame(rows, columns=["candidate", "held_out", "threshold", "how"])


def stratified_resamples(chapters, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) row indices resampled with replacement WITHIN each chapter (chapter sizes kept)."""
    chapters = np.asarray(chapters)
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, len(chapters)), dtype=int)
    for chapter in dict.fromkeys(chapters):
        rows = np.flatnonzero(chapters == chapter)
        out[:, rows] = rows[rng.integers(0, len(rows), (n_boot, len(rows)))]
    return out


def _interval(draws: np.ndarray, level: float = stats.LEVEL) -> tuple[float, float]:
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    return float(np.percentile(draws, tail)), float(np.percentile(draws, 100 - tail))


def mcnemar_p(right: np.ndarray, other_right: np.ndarray) -> float:
    """Exact two-sided McNemar test: do two rules, judged on the same conditions, differ in accuracy?"""
    right, other_right = np.asarray(right, bool), np.asarray(other_right, bool)
    only_this, only_other = int(np.sum(right & ~other_right)), int(np.sum(~right & other_right))
    if only_this + only_other == 0:
        return 1.0
    return float(sps.binomtest(only_this, only_this + only_other, 0.5).pvalue)


def outcome_draws(right: np.ndarray, other: np.ndarray | None, chapters, n_draw: int, seed: int) -> np.ndarray:
    """Draws of a rule's accuracy (``other`` None) or of its accuracy difference with another rule.

    A stratified Bayesian bootstrap with Jeffreys' prior. Per chapter, the accuracy is
    drawn from Beta(right + 1/2, wrong + 1/2); for a difference of two rules judged on the
    same conditions, the shares of the four outcomes (both right, only the first, only
    the second, both wrong) are drawn from Dirichlet(counts + 1/2). Chapters are weighted
    by their numbers of conditions. Resampling conditions instead collapses to a point
    when every condition of a chapter has the same outcome (a rule right on all 13
    conditions of a chapter is not right on all of them with certainty).
    """
    right, chapters = np.asarray(right, bool), np.asarray(chapters)
    rng = np.random.default_rng(seed)
    out = np.zeros(n_draw)
    for chapter in dict.fromkeys(chapters):
        here = chapters == chapter
        a = right[here]
        if other is None:
            out += here.mean() * rng.beta(a.sum() + 0.5, (~a).sum() + 0.5, n_draw)
            continue
        b = np.asarray(other, bool)[here]
        counts = np.array([np.sum(a & b), np.sum(a & ~b), np.sum(~a & b), np.sum(~a & ~b)], float)
        shares = rng.dirichlet(counts + 0.5, n_draw)
        out += here.mean() * (shares[:, 1] - shares[:, 2])
    return out


def _paired(right: np.ndarray, other: np.ndarray, chapters, n_draw: int, seed: int) -> tuple[float, ...]:
    """Accuracy difference of two rules on the same conditions, its interval (:func:`outcome_draws`), McNemar p."""
    diff = float(np.mean(right.astype(float) - other.astype(float)))
    return (diff, *_interval(outcome_draws(right, other, chapters, n_draw, seed)), mcnemar_p(right, other))


def _spearman(score: np.ndarray, gain: np.ndarray, chapters: np.ndarray, resamples: np.ndarray):
    """Spearman's rho of candidate and gain, both z-scored within chapters, with its bootstrap interval."""
    frame = pd.DataFrame({"score": score, "gain": gain, "chapter": chapters})

    def z(f: pd.DataFrame):  # a chapter of one condition, or a constant, has no z-score: left out
        both = pd.DataFrame({"s": report.standardised(f.score, f.chapter), "g": report.standardised(f.gain, f.chapter)})
        both = both[np.isfinite(both.s) & np.isfinite(both.g)]
        return both.s, both.g

    rho = stats.spearman_rho(*z(frame))
    draws = np.array([stats.spearman_rho(*z(frame.iloc[idx].reset_index(drop=True))) for idx in resamples])
    return rho, *_interval(draws)


def decidable(table: pd.DataFrame, candidates) -> list[str]:
    """The candidates that can decide out of sample: an a-priori threshold, or present in two chapters or more."""
    present = table.groupby("chapter")[list(candidates)].agg(lambda v: v.notna().any()).sum()
    return [c for c in candidates if c in A_PRIORI_THRESHOLDS and present[c] or present[c] >= 2]


def common_conditions(table: pd.DataFrame, candidates, coverage: float) -> tuple[list, pd.DataFrame]:
    """The decidable candidates present on at least ``coverage`` of the conditions, and the conditions where all are."""
    candidates = [c for c in decidable(table, candidates) if table[c].notna().mean() >= coverage]
    return candidates, table.dropna(subset=[*candidates, "kd_gain"])


def rank(table: pd.DataFrame, candidates, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Every candidate's out-of-sample sign-rule accuracy on the SAME conditions, with paired tests.

    ``table``: condition rows (:func:`collect`) on which every candidate is present (see
    :func:`common_conditions`). Decisions come from :func:`decisions` (leave one chapter
    out where a threshold is fitted). Per candidate: accuracy with a 95% interval
    stratified by chapter (:func:`outcome_draws`); the trivial rules' accuracies on the
    same conditions; the paired accuracy differences against "always distil", "never
    distil" and the CCH gap (``mi_gap``), each with its interval and an exact McNemar
    p-value; ``beats_trivial`` when the candidate is more accurate than both trivial rules
    and the larger of its two McNemar p-values, Benjamini-Hochberg adjusted over the
    candidates, is below 5%; Spearman's rho with the gain, both z-scored within chapters,
    with an interval over conditions resampled within chapters.
    Sorted by accuracy.
    """
    gain, chapters = table.kd_gain.to_numpy(float), table.chapter.to_numpy()
    truth = gain > 0
    resamples = stratified_resamples(chapters, n_boot // 4, seed)  # for Spearman's interval
    decided = {c: decisions(table, c)[0] for c in [*candidates, *TRIVIAL]}
    undecided = [c for c, d in decided.items() if d.isna().any()]
    if undecided:
        raise ValueError(f"{undecided} decide no rule on some of these conditions (missing, or no other chapter "
                         "to fit a threshold on): rank them alone (rank_alone) or drop those conditions")
    right = {c: d.to_numpy() == truth for c, d in decided.items()}
    reference = right.get("mi_gap")
    rows = []
    for c in [*candidates, *TRIVIAL]:
        r = right[c]
        vs_always, vs_never = (_paired(r, right[rule], chapters, n_boot, seed) for rule in TRIVIAL)
        vs_gap = _paired(r, reference, chapters, n_boot, seed) if reference is not None and c != "mi_gap" else (np.nan,) * 4
        rho = (_spearman(table[c].to_numpy(float), gain, chapters, resamples) if c not in TRIVIAL
               else (np.nan,) * 3)
        rows.append({
            "candidate": c, "n_conditions": len(table), "n_chapters": len(set(chapters)),
            "sign_accuracy": r.mean(), **dict(zip(("sign_accuracy_low", "sign_accuracy_high"), _interval(
                outcome_draws(r, None, chapters, n_boot, seed)))),
            "always_accuracy": right["always distil"].mean(), "never_accuracy": right["never distil"].mean(),
            "vs_always": vs_always[0], "vs_always_low": vs_always[1], "vs_always_high": vs_always[2],
            "vs_always_p": vs_always[3], "vs_never": vs_never[0], "vs_never_low": vs_never[1],
            "vs_never_high": vs_never[2], "vs_never_p": vs_never[3],
            "vs_gap": vs_gap[0], "vs_gap_low": vs_gap[1], "vs_gap_high": vs_gap[2], "vs_gap_p": vs_gap[3],
            "beats_trivial_p": max(vs_always[3], vs_never[3]) if c not in TRIVIAL else np.nan,
            "spearman": rho[0], "spearman_low": rho[1], "spearman_high": rho[2],
        })
    out = pd.DataFrame(rows, columns=RANKING_COLUMNS)
    adjusted = stats.adjust(out.beats_trivial_p)
    out["beats_trivial"] = (adjusted < 0.05) & (out.vs_always > 0) & (out.vs_never > 0)
    return out.sort_values("sign_accuracy", ascending=False, kind="stable").reset_index(drop=True)


def rank_alone(table: pd.DataFrame, candidate: str, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`rank` of one candidate on its own conditions (those where it is present), with the same tests."""
    return rank(table.dropna(subset=[candidate, "kd_gain"]), [candidate], n_boot, seed).query("candidate == @candidate")


def per_chapter(table: pd.DataFrame, candidates) -> pd.DataFrame:
    """Out-of-sample accuracy of every candidate and trivial rule within each chapter (no intervals).

    Only the conditions a candidate decides count (``n_conditions``); NaN where it decides none."""
    truth = table.kd_gain.to_numpy(float) > 0
    rows = []
    for c in [*candidates, *TRIVIAL]:
        decided = decisions(table, c)[0].to_numpy()
        for chapter in dict.fromkeys(table.chapter):
            here = (table.chapter == chapter).to_numpy() & np.isfinite(decided)
            right = decided[here] == truth[here]
            rows.append({"candidate": c, "chapter": chapter, "n_conditions": int(here.sum()),
                         "sign_accuracy": float(right.mean()) if here.any() else np.nan})
    return pd.DataFrame(rows, columns=["candidate", "chapter", "n_conditions", "sign_accuracy"])


# ---------------------------------------------------------------------------
# The answer, in words computed from a ranking
# ---------------------------------------------------------------------------


def _acc(row) -> str:
    return f"{row.sign_accuracy:.2f} [{row.sign_accuracy_low:.2f}, {row.sign_accuracy_high:.2f}]"


def cch_verdict(ranked: pd.DataFrame) -> str:
    """The CCH gap's verdict: reproduced if it beats both trivial rules (:func:`rank`'s
    ``beats_trivial``), not reproduced if its paired interval lies wholly below the better
    trivial rule, undecided otherwise (including a ranking without the gap)."""
    rows = ranked.set_index("candidate")
    if "mi_gap" not in rows.index:
        return "undecided"
    gap = rows.loc["mi_gap"]
    if gap.beats_trivial:
        return "reproduced"
    high = gap.vs_always_high if gap.always_accuracy >= gap.never_accuracy else gap.vs_never_high
    return "not reproduced" if high < 0 else "undecided"


def answer(ranked: pd.DataFrame, basis: str, scales: dict) -> str:
    """The book's answer in a few sentences: which criterion, if any, beats the trivial rules out of sample.

    ``ranked``: :func:`rank` on the headline conditions; ``basis``: which conditions
    (e.g. "whose gain is resolved"); ``scales``: chapter -> parameter set it was computed at.
    """
    rows = ranked.set_index("candidate")
    real = rows.drop(index=[c for c in TRIVIAL if c in rows.index])
    first = real.iloc[0]
    n, k = int(first.n_conditions), int(first.n_chapters)
    trivial = (f"*always distil* is right on {first.always_accuracy:.2f} of them and *never distil* on "
               f"{first.never_accuracy:.2f}")
    winners = real[real.beats_trivial]
    if len(winners):
        best = winners.iloc[0]
        lead = (f"**{LABELS.get(best.name, best.name)}** beats both trivial rules out of sample: its rule "
                f"(threshold fitted on the other chapters) is right on a share {_acc(best)} of {n} conditions "
                f"({basis}) from {k} chapters, where {trivial} (paired McNemar tests, BH-adjusted over the "
                f"{len(real)} candidates, p < 0.05).")
    else:
        lead = (f"**No criterion beats the trivial rules out of sample.** On {n} conditions ({basis}) from {k} "
                f"chapters, {trivial}; the best candidate, **{LABELS.get(first.name, first.name)}**, is right on "
                f"{_acc(first)}, and no candidate is shown better than both trivial rules (paired McNemar tests, "
                f"BH-adjusted over the {len(real)} candidates).")
    named = [c for c in ("mi_gap", "crit_cmi") if c in real.index]
    details = "; ".join(f"{LABELS[c]}: {_acc(real.loc[c])}" for c in named)
    by_scale = {}
    for chapter, scale in scales.items():
        by_scale.setdefault(scale, []).append(chapter)
    where = "; ".join(f"`{scale}`: {', '.join(sorted(chs))}" for scale, chs in by_scale.items())
    return (f"{lead} Sign accuracy with its 95% interval (a Bayesian bootstrap stratified by chapter): "
            f"{details}. Chapters and the parameter set each was computed at: {where}.")
