"""Calibration of the verdicts of ``python -m cchlib.select``, measured on data with known answers.

Scenarios (every draw is a fresh data set from its own seed):

* ``noise-classes``: three views of dimensions 4, 8 and 2 and binary labels, all
  independent. Every true MI is 0, so every (teacher, student) row must be *undecided*.
* ``noise-regression``: two views of dimensions 10 and 3 and a continuous target, all
  independent; same requirement.
* ``planted-negative``: an informative student view (a class-dependent latent seen
  through noise) and a teacher view independent of everything. I(H_T;H_S) = 0 and
  I(H_S;Y) > 0, so the gap is clearly negative: the right verdict is *do not distil*.
* ``planted-positive``: teacher and student views share a strong 3-d common factor that
  has nothing to do with the label, the student sees the label only weakly. I(H_T;H_S)
  is large and I(H_S;Y) small: the right verdict is *distil*.

For each scenario the script reports the share of rows with a decided verdict (noise:
the false-decision rate, which must be at most 5%) or the share of draws where the
right verdict was decided (planted: the power). ``select`` runs at its default seeds
and MI method unless told otherwise; nothing here is tuned to make a scenario pass.

Usage::

    python benchmarks/calibration.py                       # defaults of select (LMI, 5 seeds), 20 draws
    python benchmarks/calibration.py --mi-method ksg --epochs 10 --draws 20 --out results/calibration

Writes ``<out>/calibration_rows.csv`` (every row of every draw) and
``<out>/calibration_summary.csv`` (one row per scenario), read by the scorecard page.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from cchlib.io import atomic_write_text
from cchlib import select as cch

N = 300


def noise_classes(rng):
    return {"v1": rng.standard_normal((N, 4)), "v2": rng.standard_normal((N, 8)),
            "v3": rng.standard_normal((N, 2))}, rng.integers(0, 2, N)


def noise_regression(rng):
    return {"v1": rng.standard_normal((N, 10)), "v2": rng.standard_normal((N, 3))}, rng.standard_normal(N)


def planted_negative(rng):
    y = rng.integers(0, 2, N)
    z = 1.5 * y[:, None] + 0.5 * rng.standard_normal((N, 3))
    return {"student": z @ rng.standard_normal((3, 6)) + 0.3 * rng.standard_normal((N, 6)),
            "teacher": rng.standard_normal((N, 6))}, y


def planted_positive(rng):
    y = rng.integers(0, 2, N)
    common = rng.standard_normal((N, 3))
    label = 0.3 * y[:, None] + rng.standard_normal((N, 1))
    view = lambda: np.hstack([common, label]) @ rng.standard_normal((4, 6)) + 0.1 * rng.standard_normal((N, 6))  # noqa: E731
    return {"student": view(), "teacher": view()}, y


# scenario -> (data maker, rows judged, the right verdict or None for "must be undecided")
SCENARIOS = {
    "noise-classes": (noise_classes, None, None),
    "noise-regression": (noise_regression, None, None),
    "planted-negative": (planted_negative, ("teacher", "student"), "do not distil"),
    "planted-positive": (planted_positive, ("teacher", "student"), "distil"),
}


def run(scenarios, draws: int, mi_method: str, mi_repeats: int, epochs: int, seeds) -> pd.DataFrame:
    """Every row of ``select`` on every draw of every scenario (no KD check: the verdict needs none)."""
    rows = []
    for name in scenarios:
        make, pair, right = SCENARIOS[name]
        for draw in range(draws):
            rng = np.random.default_rng([draw, 2025])
            views, y = make(rng)
            ds = cch.from_arrays(views, y, split_seed=draw, name=f"{name} draw {draw}")
            options = dict(students=[pair[1]], teachers=[pair[0]]) if pair else {}
            result = cch.select_teachers(ds, seeds=seeds, settings=cch.Settings(epochs=epochs),
                                         mi_method=mi_method, mi_repeats=mi_repeats, progress=False, **options)
            table = result.ranking.assign(scenario=name, draw=draw, right=right or "undecided")
            rows.append(table[["scenario", "draw", "teacher", "student", "n_seeds", "mi_gap", "mi_gap_low",
                               "mi_gap_high", "mi_gap_null", "mi_gap_p", "verdict", "right"]])
    return pd.concat(rows, ignore_index=True)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: rows, share decided, share with the right decision, share with the wrong one."""
    out = rows.assign(decided=rows.verdict != "undecided", correct=rows.verdict == rows.right)
    out["wrong"] = out.decided & ~out.correct
    summary = out.groupby("scenario", sort=False).agg(
        draws=("draw", "nunique"), rows=("verdict", "size"), share_decided=("decided", "mean"),
        share_right=("correct", "mean"), share_wrong_decided=("wrong", "mean"),
    )
    planted = summary.index.str.startswith("planted")
    summary["requirement"] = np.where(planted, "right verdict decided in >= 80% of draws",
                                      "decided share <= 5%")
    summary["met"] = np.where(planted, summary.share_right >= 0.8, summary.share_decided <= 0.05)
    return summary.reset_index()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--draws", type=int, default=20)
    p.add_argument("--mi-method", default="lmi")
    p.add_argument("--mi-repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=cch.Settings.epochs)
    p.add_argument("--seeds", type=int, nargs="+", default=list(cch.DEFAULT_SEEDS))
    p.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    p.add_argument("--out", default="results/calibration")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    started = time.monotonic()
    rows = run(args.scenarios, args.draws, args.mi_method, args.mi_repeats, args.epochs, args.seeds)
    summary = summarise(rows).assign(mi_method=args.mi_method, seeds=len(args.seeds), epochs=args.epochs, n=N)
    out = Path(args.out)
    atomic_write_text(out / "calibration_rows.csv", rows.to_csv(index=False))
    atomic_write_text(out / "calibration_summary.csv", summary.to_csv(index=False))
    with pd.option_context("display.width", 200):
        print(summary.round(3).to_string(index=False))
    print(f"\n{(time.monotonic() - started) / 60:.1f} min; wrote {out}/calibration_rows.csv and calibration_summary.csv")


if __name__ == "__main__":
    main()
