"""The estimator's own bias, measured where a chapter uses it, and the MI gap corrected for it.

Every MI estimator of the book is biased: it reports a positive MI on independent data
and underestimates large MIs, by amounts that depend on the dimensions and the sample
size. The two terms of CCH's gap, I(H_T;H_S) (two wide representations) and I(H_S;Y)
(a representation and a label), sit at different dimensions and often different MI
levels, so their biases do not cancel and the raw gap's sign can be the estimator's.

This module measures the bias at a chapter's own shapes: for each term it draws Gaussian
data with known MI (:func:`cchlib.mi.known.matched_pair`, :func:`matched_labels`) with
the term's dimensions and sample size, at a ladder of dependence strengths, and runs the
chapter's estimator on it (:func:`run_cell`, a sweep cell: cached and, at ``paper``,
committed to the result store). The curve "estimate against truth" is then inverted to
read a measured MI as the true MI that would give it on such data (:func:`invert`), and
:func:`corrected_gap` forms the bias-corrected gap with an SE that adds the curve's own
uncertainty to the seeds'.

The calibration data are Gaussian with the dependence on 4 of 8 latent factors, not the
representations' real distribution: the correction removes the bias the estimator has on
data of this shape, and the book shows the raw and corrected gaps side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


from .api import CheckedMI, estimate
from .known import matched_labels, matched_pair

# Dependence ladders: canonical correlations of the shared factors (pairs, continuous
# targets) and class separations (labels). Each spans no dependence to nearly all.
RHOS = (0.0, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99)
SEPARATIONS = (0.0, 0.5, 1.0, 1.5, 2.5, 4.0, 6.0)
SHAPE_COLUMNS = ("mi_n", "d_t", "d_s", "y_classes")  # y_classes 0: a continuous target


@dataclass(frozen=True)
class Settings(CheckedMI):
    """The estimator calibrated: the chapter's MI method and its options."""

    mi_method: str
    mi_options: dict


def term_conditions(mi_n: int, d_t: int, d_s: int, y_classes: int) -> list[dict]:
    """The calibration cells of one chapter shape: both terms at every ladder step.

    ``ts`` is I(H_T;H_S) with ``d_t`` and ``d_s`` coordinates; ``sl`` is I(H_S;Y) with a
    label of ``y_classes`` classes (0: a one-dimensional continuous target).
    """
    pair = [{"term": "ts", "n": int(mi_n), "dx": int(d_s), "dy": int(d_t), "classes": 0, "level": rho}
            for rho in RHOS]
    if y_classes:
        label = [{"term": "sl", "n": int(mi_n), "dx": int(d_s), "dy": 0, "classes": int(y_classes), "level": sep}
                 for sep in SEPARATIONS]
    else:
        label = [{"term": "sl", "n": int(mi_n), "dx": int(d_s), "dy": 1, "classes": 0, "level": rho}
                 for rho in RHOS]
    return pair + label


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Estimate a known MI once per seed (a fresh sample and estimator seed each)."""
    s = Settings.from_dict(settings)
    out = {}
    for seed in seeds:
        if condition["classes"]:
            known = matched_labels(condition["n"], condition["dx"], condition["classes"], condition["level"],
                                   seed=int(seed))
        else:
            known = matched_pair(condition["n"], condition["dx"], condition["dy"], condition["level"], seed=int(seed))
        value = estimate(known.x, known.y, method=s.mi_method, seed=int(seed), **s.mi_options)
        out[seed] = [{**condition, "seed": int(seed), "truth": known.mi, "estimate": float(value)}]
    return out


def curves(rows: pd.DataFrame) -> pd.DataFrame:
    """Per shape, term and ladder step: the true MI and the estimate's mean and SE over seeds."""
    keys = ["term", "n", "dx", "dy", "classes", "level"]
    grouped = rows.groupby(keys, sort=True)
    out = grouped.agg(truth=("truth", "mean"), estimate=("estimate", "mean"), estimate_sd=("estimate", "std"),
                      repeats=("estimate", "size")).reset_index()
    out["estimate_se"] = out.estimate_sd / np.sqrt(out.repeats)
    return out


def invert(measured, curve: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read measured MIs back as true MIs through one term's calibration curve.

    Returns ``(truth, slope, se)``: the true MI whose mean estimate equals the measured
    value (linear interpolation along the curve made monotone), the local slope
    d truth / d estimate (the factor by which the seed spread carries over), and the SE
    of the correction from the curve's own means. Below the curve's lowest mean (no
    dependence) the truth is its lowest, 0; above its highest the estimator has
    saturated on the calibration data and the truth is unknown: NaN.
    """
    curve = curve.sort_values("truth")
    est = np.maximum.accumulate(curve.estimate.to_numpy(float))  # an estimator's mean is monotone in the truth
    truth, est_se = curve.truth.to_numpy(float), curve.estimate_se.to_numpy(float)
    measured = np.asarray(measured, float)
    keep = np.r_[True, np.diff(est) > 1e-9]  # a flat stretch cannot be inverted: keep its first point
    est, truth, est_se = est[keep], truth[keep], est_se[keep]
    if len(est) < 2:
        raise ValueError("the calibration curve is flat: the estimator does not respond to the MI at this shape")
    slopes = np.diff(truth) / np.diff(est)
    segment = np.clip(np.searchsorted(est, measured) - 1, 0, len(slopes) - 1)
    below, above = measured < est[0], measured > est[-1]
    value = np.where(above, np.nan, np.interp(measured, est, truth))
    slope = np.where(below, 1.0, np.where(above, np.nan, slopes[segment]))
    se = np.where(below, est_se[0], np.interp(measured, est, est_se) * slope)
    return value, slope, se


def corrected_gap(conditions: pd.DataFrame, curve_table: pd.DataFrame) -> pd.DataFrame:
    """Add the bias-corrected MIs and gap to per-condition summaries.

    ``conditions`` needs ``mi_ts, mi_sl, mi_gap_se`` (means over seeds) and the shape
    columns :data:`SHAPE_COLUMNS`. Adds ``mi_ts_corrected``, ``mi_sl_corrected``,
    ``mi_gap_corrected = mi_ts_corrected - mi_sl_corrected`` and its SE: the seeds' SE of
    the gap carried through the steeper of the two local slopes, plus the two curves'
    own SEs (the correction is shared by all seeds, so seeds do not average it away).
    A term above the highest estimate of its curve has no correction (NaN), which
    :func:`cchlib.stats.bias_check` reports as "beyond calibration".
    """
    out = conditions.copy()
    for column in ("mi_ts_corrected", "mi_sl_corrected", "mi_gap_corrected", "mi_gap_corrected_se"):
        out[column] = np.nan
    for shape, idx in out.groupby(list(SHAPE_COLUMNS)).groups.items():
        mi_n, d_t, d_s, classes = (int(v) for v in shape)
        part = curve_table[curve_table.n == mi_n]
        ts = part[(part.term == "ts") & (part.dx == d_s) & (part.dy == d_t)]
        sl = part[(part.term == "sl") & (part.dx == d_s) & (part.classes == classes)]
        if ts.empty or sl.empty:
            raise ValueError(f"no calibration curve for n={mi_n}, d_t={d_t}, d_s={d_s}, classes={classes}; "
                             "run the calibration cells of this shape first (term_conditions)")
        ts_true, ts_slope, ts_se = invert(out.loc[idx, "mi_ts"], ts)
        sl_true, sl_slope, sl_se = invert(out.loc[idx, "mi_sl"], sl)
        seed_se = out.loc[idx, "mi_gap_se"].to_numpy(float) * np.maximum(ts_slope, sl_slope)
        out.loc[idx, "mi_ts_corrected"], out.loc[idx, "mi_sl_corrected"] = ts_true, sl_true
        out.loc[idx, "mi_gap_corrected"] = ts_true - sl_true
        out.loc[idx, "mi_gap_corrected_se"] = np.sqrt(seed_se**2 + ts_se**2 + sl_se**2)
    return out
