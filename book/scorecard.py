# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproduction scorecard
#
# One row per condition of every chapter executed with this parameter set: the MI gap
# $I(H_T;H_S) - I(H_S;Y)$ (nats, mean and standard error over seeds), the measured
# distillation gain (positive means the distilled student did better), whether CCH
# predicted a gain (gap > 0), and whether the measured sign agrees. The `data` column
# names the dataset actually used; a stand-in is always named as one. The same table is
# written to `results/<parameter set>/scorecard.csv`.

# %% tags=["parameters"]
params_name = "default"
results_root = "../results"

# %%
import pandas as pd
from IPython.display import display
from myst_nb import glue

from cchlib import report

table = report.collect_scorecard(results_root, params_name)
if table.empty:
    raise RuntimeError(
        f"no chapter has written scorecard rows under {results_root}/{params_name}; "
        "execute the chapters first (python -m cchlib.book runs them in order)"
    )
resolved = (table.mi_gap.abs() > 2 * table.mi_gap_se) & (table.kd_gain.abs() > 2 * table.kd_gain_se)
table = table.assign(resolved=resolved)
by_chapter = table.groupby("chapter").agg(
    conditions=("agrees", "size"), agree=("agrees", "sum"), share_agree=("agrees", "mean"),
    resolved=("resolved", "sum"),
)
by_chapter["agree among resolved"] = table[table.resolved].groupby("chapter").agrees.sum()
by_chapter = by_chapter.fillna({"agree among resolved": 0}).astype({"agree among resolved": int})
display(by_chapter.round(3))
glue("scorecard_share", float(table.agrees.mean()), display=False)
glue("scorecard_n", len(table), display=False)
glue("scorecard_resolved", int(table.resolved.sum()), display=False)
glue("scorecard_resolved_agree", int(table[table.resolved].agrees.sum()), display=False)

# %% [markdown]
# Across {glue:text}`scorecard_n` conditions, the sign of the measured distillation gain
# matched CCH's prediction in a share of {glue:text}`scorecard_share:.2f` of them. Many
# gaps and gains are smaller than their standard errors, so their signs are not settled
# by the seeds run. A condition counts as *resolved* when both the MI gap and the KD gain
# lie more than two standard errors from zero: {glue:text}`scorecard_resolved` conditions
# are, and CCH's sign was right for {glue:text}`scorecard_resolved_agree` of them.
#
# Every condition, as written to `scorecard.csv`:

# %%
with pd.option_context("display.max_rows", None, "display.max_colwidth", 60):
    display(table.round(4))
