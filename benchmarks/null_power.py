"""Size and power of the MI-gap verdict against the number of seeds, on data with known answers.

``calibration.py`` checks the rule at ``select``'s default seed count; this script asks
how the rule behaves as seeds grow, on shapes that the rule was never tuned on:

* ``noise-*``: views and labels all independent (every true MI is 0). Every row must be
  *undecided*; the share decided is the rule's size, which must stay at or below 5%.
* ``planted-<a>``: teacher and student views share a label-free factor of strength
  ``a`` (larger: a larger I(H_T;H_S)), and the student sees the label weakly, so the
  right verdict is *distil*; the share of draws deciding it is the power.

Each draw trains ``max(--seeds)`` seeds once through ``python -m cchlib.select`` (one
data set per draw, shared by the seeds: the harder case for the null test), and the
verdict is recomputed from the first 3, 5, 10 and 20 seeds' rows, so the power curve
compares seed counts on the same draws.

Usage::

    python benchmarks/null_power.py --draws 20 --out benchmarks/measured
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

N = 400


def noise_classes(rng, _):
    return {"a": rng.standard_normal((N, 12)), "b": rng.standard_normal((N, 5))}, rng.integers(0, 3, N)


def noise_regression(rng, _):
    return {"a": rng.standard_normal((N, 7)), "b": rng.standard_normal((N, 2))}, rng.standard_normal(N)


def planted(rng, strength):
    y = rng.integers(0, 2, N)
    common = rng.standard_normal((N, 2))
    label = 0.4 * y[:, None] + rng.standard_normal((N, 1))

    def view(dims):
        signal = np.hstack([strength * common, label]) @ rng.standard_normal((3, dims))
        return signal + rng.standard_normal((N, dims))

    return {"teacher": view(8), "student": view(6)}, y


# name -> (maker, strength, rows judged, right verdict or None for "must be undecided")
SCENARIOS = {
    "noise-classes": (noise_classes, 0.0, None, None),
    "noise-regression": (noise_regression, 0.0, None, None),
    "planted-0.2": (planted, 0.2, ("teacher", "student"), "distil"),
    "planted-0.4": (planted, 0.4, ("teacher", "student"), "distil"),
    "planted-0.8": (planted, 0.8, ("teacher", "student"), "distil"),
}


def run(scenarios, draws: int, seed_counts, mi_method: str, epochs: int) -> pd.DataFrame:
    """One row per (scenario, draw, seed count, judged pair): the verdict and the gap's excess over the null."""
    rows = []
    for name in scenarios:
        make, strength, pair, right = SCENARIOS[name]
        for draw in range(draws):
            rng = np.random.default_rng([draw, 31337])
            views, y = make(rng, strength)
            ds = cch.from_arrays(views, y, split_seed=draw, name=f"{name} draw {draw}")
            options = dict(students=[pair[1]], teachers=[pair[0]]) if pair else {}
            result = cch.select_teachers(ds, seeds=list(range(max(seed_counts))), settings=cch.Settings(epochs=epochs),
                                         mi_method=mi_method, mi_repeats=2, kd_check=False, progress=False, **options)
            for k in seed_counts:
                ranking = cch.rank(cch.summarise(result.per_seed[result.per_seed.seed < k]))
                rows.append(ranking.assign(scenario=name, draw=draw, seeds=k, right=right or "undecided")[
                    ["scenario", "draw", "seeds", "teacher", "student", "mi_gap", "mi_gap_null", "mi_gap_p",
                     "verdict", "right"]])
    return pd.concat(rows, ignore_index=True)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and seed count: rows, share decided, share right, mean gap beyond the null."""
    out = rows.assign(decided=rows.verdict != "undecided", correct=rows.verdict == rows.right,
                      excess=rows.mi_gap - rows.mi_gap_null)
    summary = out.groupby(["scenario", "seeds"], sort=False).agg(
        draws=("draw", "nunique"), rows=("verdict", "size"), share_decided=("decided", "mean"),
        share_right=("correct", "mean"), mean_excess_nats=("excess", "mean"),
    ).reset_index()
    noise = summary.scenario.str.startswith("noise")
    summary["measures"] = np.where(noise, "size (decided on noise; must be <= 0.05)", "power (right verdict decided)")
    return summary


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--draws", type=int, default=20)
    p.add_argument("--seeds", type=int, nargs="+", default=[3, 5, 10, 20], help="seed counts compared")
    p.add_argument("--mi-method", default="ksg")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    p.add_argument("--out", default="results/calibration")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    started = time.monotonic()
    rows = run(args.scenarios, args.draws, sorted(args.seeds), args.mi_method, args.epochs)
    summary = summarise(rows).assign(mi_method=args.mi_method, epochs=args.epochs, n=N)
    out = Path(args.out)
    atomic_write_text(out / f"null_power_{args.mi_method}_rows.csv", rows.to_csv(index=False))
    atomic_write_text(out / f"null_power_{args.mi_method}_summary.csv", summary.to_csv(index=False))
    with pd.option_context("display.width", 200):
        print(summary.round(3).to_string(index=False))
    print(f"\n{(time.monotonic() - started) / 60:.1f} min; wrote {out}/null_power_{args.mi_method}_*.csv")


if __name__ == "__main__":
    main()
