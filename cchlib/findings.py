"""The "What we found" box that opens every chapter.

A chapter states, right under its title, the paper's claim, what this run found and a
verdict. The box's text is composed here from the run's numbers (the chapter glues it
with ``glue(key, Markdown(finding(...)), display=False)`` and shows it with a
``{glue:md}`` directive inside a "What we found" admonition), so a sentence whose truth
depends on the run is never typed by hand.

Verdict words (:data:`VERDICTS`), from the conditions whose sign was resolved:
"reproduced" when every resolved condition supports the claim, "not reproduced" when
every resolved one contradicts it, "partly reproduced" when they split, and
"undecided" when none is resolved (intervals include zero, or too few seeds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from cchlib import stats

VERDICTS = ("reproduced", "partly reproduced", "not reproduced", "undecided")
MIN_SEEDS = 3  # fewer seeds than this give no interval worth a verdict


def verdict(supporting: int, contradicting: int) -> str:
    """The verdict word for counts of resolved conditions that support / contradict a claim."""
    if supporting < 0 or contradicting < 0:
        raise ValueError(f"counts must be >= 0, got {supporting} and {contradicting}")
    if supporting and contradicting:
        return "partly reproduced"
    if supporting:
        return "reproduced"
    if contradicting:
        return "not reproduced"
    return "undecided"


def _excludes_zero(mean, se, n_seeds: int, level: float) -> np.ndarray:
    """Whether the t-interval ``mean ± t_{n-1} se`` lies on one side of zero."""
    mean, se = np.asarray(mean, dtype=float), np.asarray(se, dtype=float)
    if n_seeds < MIN_SEEDS:
        return np.zeros(mean.shape, dtype=bool)
    half = sps.t.ppf(0.5 + level / 2, n_seeds - 1) * se
    return np.isfinite(half) & (np.abs(mean) > half)


def cch_tally(score: pd.DataFrame, n_seeds: int, level: float = 0.95) -> dict:
    """Count a chapter's scorecard rows that agree with CCH, disagree, or are unresolved.

    Uses the rows' ``verdict`` column (agrees / disagrees / unresolved) when the chapter
    computed one; otherwise a row is resolved when the t-intervals over ``n_seeds``
    seeds of both its MI gap and its KD gain exclude zero.
    """
    if "verdict" in score:
        words = score["verdict"].astype(str)
    else:
        resolved = _excludes_zero(score.mi_gap, score.mi_gap_se, n_seeds, level) & _excludes_zero(
            score.kd_gain, score.kd_gain_se, n_seeds, level
        )
        agrees = (score.mi_gap > 0).to_numpy() == (score.kd_gain > 0).to_numpy()
        words = pd.Series(np.where(resolved, np.where(agrees, "agrees", "disagrees"), "unresolved"))
    return {word: int((words == word).sum()) for word in ("agrees", "disagrees", "unresolved")}


def finding(claim: str, result: str, verdict_word: str, basis: str) -> str:
    """Markdown body of a "What we found" box.

    Args:
        claim: what the paper claims, in one sentence.
        result: what this run found, with its numbers (already formatted).
        verdict_word: one of :data:`VERDICTS`.
        basis: the numbers and rule behind the verdict, in one sentence.
    """
    if verdict_word not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict_word!r}")
    return (
        f"- **The paper:** {claim}\n"
        f"- **This run:** {result}\n"
        f"- **Verdict: {verdict_word}.** {basis}\n"
    )


def cch_finding(claim: str, score: pd.DataFrame, n_seeds: int, params_name: str, what: str) -> str:
    """The box of a chapter whose finding is how often CCH's sign matched the KD gain.

    ``what`` names the conditions (e.g. "values of sigma12 and lambda"); the verdict
    counts resolved conditions only, so the box holds whatever the run gives.
    """
    tally = cch_tally(score, n_seeds)
    total = len(score)
    raw = int(((score.mi_gap > 0) == (score.kd_gain > 0)).sum())
    data = f" on {score['data'].iloc[0]}" if "data" in score and len(score) else ""
    result = (
        f"with the `{params_name}` parameter set ({n_seeds} seed(s), {total} {what}{data}), the "
        f"sign of the MI gap matched the sign of the distillation gain in {raw} of {total} conditions."
    )
    resolved = score[score.verdict != "unresolved"] if "verdict" in score else score.iloc[:0]
    checks = resolved["bias_check"].fillna("") if "bias_check" in resolved else pd.Series(dtype=object)
    bias = ""
    if (checks != "").any():
        bias = (f" Of the resolved, {int((checks == 'kept').sum())} keep their gap's sign after the correction "
                f"for the estimator's bias at large MI, {int((checks == 'reversed').sum())} do not, and "
                f"{int((checks == 'beyond calibration').sum())} lie beyond its calibrated range.")
    basis = (
        f"Of the {total} conditions, {tally['agrees'] + tally['disagrees']} are resolved: CCH was right on "
        f"{tally['agrees']} and wrong on {tally['disagrees']}; {tally['unresolved']} are unresolved.{bias} "
        f"The rule (`cchlib.stats`): {stats.RULE}."
    )
    return finding(claim, result, verdict(tally["agrees"], tally["disagrees"]), basis)
