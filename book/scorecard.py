# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
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
from IPython.display import display
from myst_nb import glue

from cchlib import report

table = report.collect_scorecard(results_root, params_name)
if table.empty:
    raise RuntimeError(
        f"no chapter has written scorecard rows under {results_root}/{params_name}; "
        "execute the chapters first (python -m cchlib.book runs them in order)"
    )
by_chapter = table.groupby("chapter").agg(
    conditions=("agrees", "size"), agree=("agrees", "sum"), share_agree=("agrees", "mean")
)
display(by_chapter.round(3))
glue("scorecard_share", float(table.agrees.mean()), display=False)
glue("scorecard_n", len(table), display=False)

# %% [markdown]
# Across {glue:text}`scorecard_n` conditions, the sign of the measured distillation gain
# matched CCH's prediction in a share of {glue:text}`scorecard_share:.2f` of them.

# %%
display(table.round(4))
