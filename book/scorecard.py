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
# Every condition of every chapter run with this parameter set, as one test of the
# Cross-modal Complementarity Hypothesis: CCH predicts that distillation helps where the
# MI gap $I(H_T;H_S) - I(H_S;Y)$ is positive. Each point below is one condition: its MI
# gap (nats) against its measured distillation gain, with 95% intervals over seeds.
# Points in the shaded quadrants are where the gain has the sign CCH predicted.

# %% tags=["parameters", "remove-cell"]
params_name = "default"
results_root = "../results"
permutations = 4999  # permutations of the chance-agreement test

# %% tags=["remove-cell"]
import base64

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from myst_nb import glue

from cchlib import report, stats
from cchlib.figures import BOOK_STYLE

plt.style.use(BOOK_STYLE)  # type legible at the page width

table = report.collect_scorecard(results_root, params_name)
if table.empty:
    raise RuntimeError(
        f"no chapter has written scorecard rows under {results_root}/{params_name}; "
        "execute the chapters first (python -m cchlib.book runs them in order)"
    )
COLOURS = {"agrees": "tab:green", "disagrees": "tab:red", "unresolved": "tab:grey"}
# What each chapter's KD gain measures (distilled minus baseline student), for the axis labels.
GAIN_UNITS = {"theory": "R0 − R (squared units of y)", "synthetic": "test MSE reduction",
              "mnist": "test accuracy (fraction)", "mosei": "weighted F1", "tcga": "weighted F1",
              "mfh": "test accuracy (% points)", "unpaired": "test accuracy (fraction)",
              "new_modalities": "test accuracy (fraction)"}
chapters = list(dict.fromkeys(table.chapter))
cols = min(2, len(chapters))
rows_n = int(np.ceil(len(chapters) / cols))
fig, axes = plt.subplots(rows_n, cols, figsize=(5.5 * cols, 4.2 * rows_n), squeeze=False)
for ax, chapter in zip(axes.flat, chapters):
    part = table[table.chapter == chapter]
    x_err = np.nan_to_num(np.abs([part.mi_gap - part.mi_gap_low, part.mi_gap_high - part.mi_gap]))
    y_err = np.nan_to_num(np.abs([part.kd_gain - part.kd_gain_low, part.kd_gain_high - part.kd_gain]))
    ax.errorbar(part.mi_gap, part.kd_gain, yerr=y_err, xerr=x_err, fmt="none", ecolor="0.6", lw=0.8, zorder=1)
    for state, colour in COLOURS.items():
        sel = part[part.verdict == state]
        ax.scatter(sel.mi_gap, sel.kd_gain, c=colour, s=18, zorder=2, label=f"{state} ({len(sel)})")
    x_lim, y_lim = ax.get_xlim(), ax.get_ylim()
    x_lim = (min(x_lim[0], -0.05 * np.ptp(x_lim)), max(x_lim[1], 0.05 * np.ptp(x_lim)))
    y_lim = (min(y_lim[0], -0.05 * np.ptp(y_lim)), max(y_lim[1], 0.05 * np.ptp(y_lim)))
    ax.fill_between([0, x_lim[1]], 0, y_lim[1], color="tab:green", alpha=0.08, lw=0)
    ax.fill_between([x_lim[0], 0], y_lim[0], 0, color="tab:green", alpha=0.08, lw=0)
    ax.axhline(0, color="black", lw=0.6)
    ax.axvline(0, color="black", lw=0.6)
    ax.set(xlim=x_lim, ylim=y_lim, title=chapter, xlabel="MI gap (nats)",
           ylabel=f"KD gain\n({GAIN_UNITS.get(chapter, 'the chapter’s units')})")
    ax.legend(fontsize=9, loc="best")
for ax in list(axes.flat)[len(chapters):]:
    ax.set_visible(False)
fig.tight_layout()
glue("scorecard_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} scorecard_fig
# :name: fig-scorecard
#
# MI gap (nats) against the measured KD gain, one point per condition and one panel per
# chapter; each panel's vertical axis gives its chapter's unit of gain (accuracy, weighted
# F1, reduction of test MSE or of excess risk). Bars are 95% t-intervals over seeds; green:
# CCH's sign agreed, red: disagreed, grey: unresolved (an interval crossing 0, a gap not
# separated from the estimator's null, too few seeds,
# or no null measured); the legend counts
# each. The shaded quadrants are where the gain has the sign CCH predicts: look at how
# many points lie outside them, and whether the gain grows with the gap.
# ```

# %% tags=["remove-cell"]
# the pooled row counts one scale: the book's own where its chapters have it (paper in the paper book)
pool_scale = params_name if (table.scale == params_name).any() else table.scale.mode().iloc[0]
summary = report.scorecard_summary(table, permutations=permutations, scale=pool_scale)
overall = summary.loc["all empirical"]
glue("scorecard_pool_scale", pool_scale, display=False)
glue("scorecard_rule", stats.RULE, display=False)
not_pooled = table[~table.pooled.fillna(True).astype(bool)]
glue("scorecard_not_pooled", Markdown(
    "; ".join(f"{c}: {int(len(g))} ({', '.join(dict.fromkeys(g.pool_note.fillna('')))})"
              for c, g in not_pooled.groupby("chapter", sort=False)) or "none"), display=False)
resolved_checked = table[(table.verdict != "unresolved") & (table.bias_check.fillna("") != "")]
glue("scorecard_bias_counts", Markdown(
    f"{int((resolved_checked.bias_check == 'kept').sum())} keep their sign, "
    f"{int((resolved_checked.bias_check == 'reversed').sum())} are reversed by the correction and "
    f"{int((resolved_checked.bias_check == 'beyond calibration').sum())} lie beyond its calibrated range"),
    display=False)
glue("scorecard_resolved_by_chapter", Markdown("; ".join(
    f"{c}: {int((g.verdict != 'unresolved').sum())} of {len(g)}" for c, g in table.groupby("chapter", sort=False))),
    display=False)
glue("scorecard_n", int(overall.conditions), display=False)
glue("scorecard_share", float(overall["share agree"]), display=False)
glue("scorecard_chance", float(overall["share by chance"]), display=False)
glue("scorecard_share_p", float(overall["p (agree > chance)"]), display=False)
glue("scorecard_rho", float(overall.spearman), display=False)
glue("scorecard_rho_low", float(overall.spearman_low), display=False)
glue("scorecard_rho_high", float(overall.spearman_high), display=False)
glue("scorecard_rho_p", float(overall.spearman_p), display=False)
glue("scorecard_agrees", int(overall.agrees), display=False)
glue("scorecard_disagrees", int(overall.disagrees), display=False)
glue("scorecard_unresolved", int(overall.unresolved), display=False)
no_null = table.note.fillna("").str.contains("no null MIs")
glue("scorecard_no_null", int(no_null.sum()), display=False)
glue("scorecard_no_null_chapters", ", ".join(dict.fromkeys(table.chapter[no_null])) or "none", display=False)

# %% [markdown]
# ## CCH tested across conditions
#
# Pooled over the empirical chapters at the {glue:text}`scorecard_pool_scale` scale
# ({glue:text}`scorecard_n` conditions; the analytic theory chapter is reported on its own
# row, and rows shown but not pooled are listed below), the sign of the measured gain
# matched the sign of the MI gap in a share of {glue:text}`scorecard_share:.2f`. Agreement
# alone means little: if most gaps and most gains in a chapter are positive, most signs
# agree by chance. Pairing each chapter's gaps with its gains at random would give a share
# of {glue:text}`scorecard_chance:.2f` (permutation p-value of doing better:
# {glue:text}`scorecard_share_p:.3f`). Spearman's rank correlation between gap and gain,
# both z-scored within each chapter so that accuracy, F1 and MSE units do not mix, is
# {glue:text}`scorecard_rho:.2f` (95% interval {glue:text}`scorecard_rho_low:.2f` to
# {glue:text}`scorecard_rho_high:.2f`, p = {glue:text}`scorecard_rho_p:.3f`).
#
# Beside each verdict: whether the gap's sign survives the estimator's bias at large MI
# (`bias_check`): of the resolved rows of the chapters that measured it,
# {glue:md}`scorecard_bias_counts`.
#
# Verdicts: where both the gap and the gain are resolved, CCH **agreed** in
# {glue:text}`scorecard_agrees` pooled conditions and **disagreed** in
# {glue:text}`scorecard_disagrees`; the other {glue:text}`scorecard_unresolved` are
# **unresolved**. Resolved rows per chapter (all rows, pooled or not):
# {glue:md}`scorecard_resolved_by_chapter`. Shown but not pooled:
# {glue:md}`scorecard_not_pooled`.
#
# :::{admonition} How a verdict is reached (`cchlib.stats`)
# :class: note
# The rule, as `cchlib.stats.RULE` states it: {glue:text}`scorecard_rule`.
#
# Why each part: an estimator reports a non-zero MI on independent data and
# underestimates large MIs, and differently for $I(H_T;H_S)$ and $I(H_S;Y)$, so a gap's
# sign can be the estimator's. Test (1) asks whether pure noise could give the gap: the
# null gaps are the same estimator on the same representations with the pairs permuted.
# Its standard error shrinks with the number of seeds; where all seeds share one test
# set, the part of the null's spread that comes from that one sample is added, since
# seeds cannot average it away. The bias check asks whether the sign survives the
# estimator's bias at large MI, measured on Gaussian data with known MI at each chapter's widths and
# sample size (`cchlib.mi.bias`); it is shown beside the verdict, not folded into it,
# because it assumes a latent shape for the representations while the null test assumes
# nothing. The measured size and power of the rule are in the calibration section below.
# :::
#
# Per chapter (the row `all empirical` pools the empirical chapters at one scale; its
# chance share keeps each chapter's base rates):

# %% tags=["remove-input"]
show = summary.rename(columns={"spearman": "Spearman", "spearman_low": "low", "spearman_high": "high",
                               "spearman_p": "p (Spearman)"})
scales = table.groupby("chapter", sort=False).scale.first()  # the scale each chapter's page shows
show.insert(0, "scale", scales.reindex(show.index).fillna(" + ".join(sorted(set(table.scale)))))
display(show.round(3))

# %% [markdown]
# ## Every condition
#
# Rounded; the full-precision table is `results/<parameter set>/scorecard.csv`, and each
# chapter's rows can be downloaded below. `gap [95% CI]` and `gain [95% CI]` are over
# seeds; `bias-corrected gap` is the gap with each MI read back through the estimator's
# calibration curve (blank where the chapter has none; "nan" where an MI lies beyond the
# range the estimator was calibrated on); `null gap` is the estimator's gap on permuted
# pairs; `note` says why a row is unresolved.

# %% tags=["remove-input"]
def ci(mean, low, high, digits=3):
    return [f"{m:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]" if np.isfinite(lo) else f"{m:+.{digits}f}"
            for m, lo, hi in zip(mean, low, high)]


narrow = pd.DataFrame({
    "chapter": table.chapter, "condition": table.condition, "seeds": table.n_seeds,
    "gap [95% CI]": ci(table.mi_gap, table.mi_gap_low, table.mi_gap_high),
    "bias-corrected gap [95% CI]": ci(table.mi_gap_corrected, table.mi_gap_corrected_low,
                                      table.mi_gap_corrected_high),
    "sign after bias": table.bias_check.fillna(""),
    "null gap": table.mi_gap_null.round(3),
    "gain [95% CI]": ci(table.kd_gain, table.kd_gain_low, table.kd_gain_high, 4),
    "verdict": table.verdict, "note": table.note.fillna(""),
})
with pd.option_context("display.max_rows", None, "display.max_colwidth", 50):
    display(narrow)

# %% tags=["remove-input"]
def download_link(frame: pd.DataFrame, name: str) -> str:
    """An HTML link carrying the CSV itself (the page stays self-contained offline)."""
    payload = base64.b64encode(frame.to_csv(index=False).encode()).decode()
    return f'<a download="{name}" href="data:text/csv;base64,{payload}">{name}</a>'


links = [download_link(table[table.chapter == c], f"{c}_scorecard_rows.csv") for c in chapters]
links.append(download_link(table, "scorecard.csv"))
display(HTML("Download: " + " · ".join(links)))

# %% [markdown]
# ## The two scales side by side
#
# The `paper` set runs the paper's sizes and seed counts; `default` a reduced version for
# a laptop. When both have been run into the same results folder, this section lists
# the conditions both ran and marks those whose verdict changed with the scale (more
# seeds can resolve what fewer left open, and larger training can change a gain's sign).

# %% tags=["remove-input"]
other_scale = "default" if params_name == "paper" else "paper"
scales = report.compare_scales(results_root, params_name, other_scale)
if scales is None:
    display(Markdown(f"This build has no `{other_scale}` results beside the `{params_name}` ones, so there is "
                     f"nothing to compare; build both (`make book` and `make book PARAMS=paper`) to see it."))
else:
    changed = int(scales.differs.sum())
    display(Markdown(f"{len(scales)} conditions ran at both scales; the verdict differs on **{changed}**."))
    with pd.option_context("display.max_rows", None):
        display(scales.round(4))

# %% [markdown]
# ## How many seeds a verdict needs
#
# For each chapter: the typical size of its measured gains (median |gain|), their
# typical seed-to-seed spread (median per-seed SD, from the SEs), the seeds run, and the
# seeds a paired t-test needs to resolve a gain of that size with 80% power at the 5%
# level (`cchlib.stats.seeds_needed`; ∞ above 200). Before the multiple-comparison
# adjustment, so a lower bound.

# %% tags=["remove-input"]
def power_row(part: pd.DataFrame) -> dict:
    gain, sd = part.kd_gain.abs().median(), (part.kd_gain_se * np.sqrt(part.n_seeds)).median()
    return {"median |gain|": gain, "median per-seed SD": sd, "seeds run": int(part.n_seeds.max()),
            "seeds needed (80% power)": stats.seeds_needed(gain, sd)}


power = pd.DataFrame({c: power_row(p) for c, p in table.groupby("chapter", sort=False)}).T
display(power.round(4))

# %% [markdown]
# ## Calibration of the verdict rule
#
# A verdict rule is only as good as its behaviour where the answer is known.
# `benchmarks/calibration.py` runs `python -m cchlib.select` at its default seeds on
# pure-noise data (every true MI is 0: every row must be undecided; at most 5% of rows
# may be decided) and on data with a planted answer (an independent teacher: the right
# verdict is *do not distil*; a teacher sharing a strong label-free factor with the
# student: *distil*; the share of draws giving the right verdict is the rule's power).
# Its summary, when it has been run for this results folder
# (`python benchmarks/calibration.py --out <results>/calibration`):

# %% tags=["remove-input"]
from pathlib import Path

calibration = Path(results_root) / "calibration" / "calibration_summary.csv"
committed = sorted(Path("../benchmarks/measured").glob("calibration_*_summary.csv"))  # the page runs in book/
if calibration.exists():
    display(pd.read_csv(calibration).round(3))
elif committed:
    display(Markdown("Not run for this results folder; the summaries below were measured by "
                     "`benchmarks/calibration.py` (at `select`'s defaults, LMI, and with KSG) and committed "
                     "with the code (`benchmarks/measured/`, see `benchmarks/README.md`), so they describe "
                     "the rule, not this run. Run the benchmark with `--out <results>/calibration` to "
                     "measure it here."))
    display(pd.concat([pd.read_csv(p) for p in committed], ignore_index=True).round(3))
else:
    display(Markdown(f"*Not run for this results folder* (no `{calibration.name}`): "
                     "run `python benchmarks/calibration.py` to measure it."))

# %% [markdown]
# ### Size and power against the number of seeds
#
# `benchmarks/null_power.py` asks how the rule behaves as seeds grow, on shapes it was
# never tuned on (two views of 12 and 5 dimensions with three classes, of 7 and 2 with a
# continuous target; 400 samples, one data set per draw shared by its seeds): on pure noise
# the share of decided rows is the rule's size; with a planted label-free factor shared by
# teacher and student, of three strengths, the share of draws deciding *distil* is its
# power. Each draw trains 20 seeds once and the verdict is recomputed from its first 3, 5,
# 10 and 20.

# %% tags=["remove-input"]
power_files = sorted(Path("../benchmarks/measured").glob("null_power_*_summary.csv"))
if power_files:
    curves = pd.concat([pd.read_csv(p) for p in power_files], ignore_index=True)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (scenario, method), part in curves.groupby(["scenario", "mi_method"], sort=False):
        noise = scenario.startswith("noise")
        y = part.share_decided if noise else part.share_right
        ax.plot(part.seeds, y, marker="o", ls="--" if noise else "-",
                label=f"{scenario} ({method}, {int(part.draws.iloc[0])} draws)")
    ax.axhline(0.05, color="black", lw=0.8, ls=":")
    ax.text(ax.get_xlim()[0], 0.06, "5% size limit", fontsize=8)
    ax.set(xlabel="seeds", ylabel="share decided (noise, dashed)\nor right (planted, solid)",
           xticks=sorted(curves.seeds.unique()), ylim=(-0.02, 1.02))
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    glue("scorecard_power_fig", fig, display=False)
    plt.close(fig)
    display(curves[["scenario", "seeds", "draws", "rows", "share_decided", "share_right", "mean_excess_nats",
                    "mi_method"]].round(3))
else:
    display(Markdown("*Not measured yet*: run `python benchmarks/null_power.py --out benchmarks/measured`."))

# %% [markdown]
# ```{glue:figure} scorecard_power_fig
# :name: fig-scorecard-power
#
# The verdict rule against the number of seeds (`benchmarks/null_power.py`, committed
# measurements): dashed, the share of pure-noise rows given a verdict (must stay under the
# dotted 5% line); solid, the share of planted draws where *distil* was decided. The
# table gives each point, with the mean gap beyond the estimator's null in nats (the
# planted effect's size as the estimator sees it).
# ```

# %% [markdown]
# Whether another criterion computed before distilling predicts the gain better than the
# MI gap is the question of {doc}`the criteria chapter <../notebooks/criteria>`.
