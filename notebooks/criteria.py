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
# # Which criterion predicts the distillation gain?
#
# The paper proposes one rule for deciding, before distilling, whether a teacher on one
# modality will help a student on another: distil when the MI gap
# $I(H_T;H_S) - I(H_S;Y)$ is positive {cite}`xie2025cch`. The Modality Focusing
# Hypothesis proposes another, the share $\gamma$ of modality-general information
# {cite}`xue2023mfh`. Other rules are at hand: the label information the teacher's
# representation adds to the student's, $I(Y;H_T\mid H_S)$; how good the teacher is;
# how much the student still gets wrong; how similar the two representations are; how
# often the two already agree. This chapter scores all of them, on every condition of
# every chapter that runs on the book's experiment core (`cchlib.kd`), against the
# distillation gain that was actually measured, with every threshold fitted on other
# chapters than the one it decides.

# %% [markdown]
# :::{admonition} What we found
# :class: tip
# ```{glue:md} criteria_finding
# :format: myst
# ```
# :::
#
# ```{glue:figure} criteria_fig
# :name: fig-criteria
#
# Out-of-sample sign-rule accuracy of every candidate (dots, with 95% intervals of a
# Bayesian bootstrap stratified by chapter): the share of conditions where
# "distil when the candidate exceeds its threshold" matched the sign of the measured KD
# gain, each threshold fitted on the other chapters (0 for the gaps, 0.5 for $\gamma$).
# Every candidate of a panel is scored on the same conditions; the dashed and dotted
# lines are the trivial rules "always distil" and "never distil" on them. Filled dots:
# better than both trivial rules by paired tests (McNemar, BH-adjusted).
# ```

# %% tags=["parameters", "remove-cell"]
params_name = "default"  # the parameter set; where and how it runs: cchlib.chapter.RUNNER_PARAMETERS
n_boot = 2000  # bootstrap resamples of the conditions (within chapters)
bootstrap_seed = 0
min_resolved = 10  # the headline uses resolved-gain conditions when at least this many are pooled
coverage = 0.9  # a candidate joins the common ranking when present on at least this share of conditions

# %% tags=["hide-cell"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from cchlib import criteria, findings, report
from cchlib.chapter import Chapter
from cchlib.io import atomic_write_text

chapter = Chapter.from_parameters("criteria", {**globals(), "seeds": [bootstrap_seed]}, device="cpu", **{
    "bootstrap resamples": n_boot, "common-ranking coverage": coverage})
results_root = chapter.results_root  # where the other chapters wrote their criteria rows

# %% [markdown]
# ## Provenance
# Every number on this page was computed from the chapters' result tables of the run
# described here (its seed is the bootstrap's; the chapters' own seeds are in their
# provenance tables).

# %% tags=["remove-input"]
chapter.provenance_table()

# %% [markdown]
# ```{admonition} Notes on the paper
# :class: note
# - **Only CCH is tested in the paper.** It reports, per experiment, whether the gap's
#   sign matched the gain; it never compares CCH with another criterion. The rivals here
#   are ours: each is computed from what CCH itself uses (the teacher, the *baseline*
#   student, their representations and outputs on the held-out rows on which the MIs
#   are estimated), before any distillation.
# - **Candidates** (`cchlib.criteria`): the gap with the chapter's estimator and with
#   KSG; $I(Y;H_T\mid H_S)$, the label information the teacher's representation adds
#   to the student's, by the chain rule with held-out linear probes (the probe on
#   $[H_S,H_T]$ against the probe on $H_S$: cross-entropy reduction for classes,
#   $\tfrac12\log$ of the MSE ratio for targets) and by kNN estimates on each
#   representation's first 8 principal components (`cchlib.mi.conditional`, tested
#   against closed-form Gaussian values); $I(H_T;Y)$; the label information of the
#   teacher's outputs (its soft labels, by a held-out probe); the teacher's test score;
#   the baseline student's held-out error (its headroom; $1-R^2$ for regression); linear
#   CKA of $H_T$ and $H_S$; a linear probe of the teacher's outputs from $H_S$; the
#   agreement of teacher and student predictions; MFH's $\gamma$ where MFH's generator
#   defines it; and the trivial rules "always distil" and "never distil".
# - **Out of sample.** A candidate says "distil" when it exceeds a threshold. For the
#   gaps it is 0 (the paper's rule) and for MFH's $\gamma$ 0.5 (the MFH chapter's
#   reading), both fixed in advance. For every other candidate no threshold is given
#   anywhere, so the conditions of each chapter are decided by the best-accuracy
#   threshold of all the *other* chapters' conditions (leave one chapter out). No
#   number on this page uses a threshold fitted on the conditions it scores. Higher
#   values always mean "distil".
# - **Identical conditions, paired tests.** The ranking scores every candidate present
#   on at least {glue:text}`criteria_coverage_share` of the conditions on the same conditions
#   (those where all of them are present); each is compared with "always distil",
#   "never distil" and the CCH gap by an exact McNemar test on those conditions. A
#   candidate *beats the trivial rules* when it is more accurate than both and the
#   larger of its two p-values, Benjamini-Hochberg adjusted over the candidates, is
#   below 5%. Candidates present on fewer conditions (MFH's $\gamma$) are ranked alone
#   on their own conditions, against the trivial rules on those same conditions.
# - **Which conditions count.** The headline counts the conditions whose KD gain the
#   verdict layer resolves (a gain indistinguishable from 0 has no sign to predict)
#   when there are at least {glue:text}`criteria_min_resolved` of them; all conditions
#   are ranked too. Accuracy intervals are stratified by chapter: per chapter the
#   outcomes' shares are drawn from a Dirichlet with Jeffreys' prior (a Bayesian
#   bootstrap that, unlike resampling conditions, does not collapse to a point when a
#   rule is right on every condition of a chapter), chapters weighted by their sizes.
#   Spearman's rho uses the candidate and the gain z-scored within each chapter, whose
#   units differ, with an interval over conditions resampled within chapters.
# - **Thresholds across chapters** compare raw values: nats from different estimators
#   and data, accuracies of different tasks. A rule that does not transfer between
#   chapters is what a practitioner with one new dataset would meet too.
# ```

# %% [markdown]
# ## The conditions
# Every chapter on the experiment core writes `criteria_rows.csv` beside its scorecard
# rows: per condition the candidates' means over seeds, the KD gain (mean, SE, seeds) and
# whether the verdict layer resolves the gain's sign.

# %% tags=["hide-input"]
table = criteria.collect(results_root, params_name)
if table.empty:
    raise RuntimeError(
        f"no chapter has written criteria_rows.csv under {results_root}/{params_name}; "
        "execute the chapters first (python -m cchlib.book runs them in order)"
    )
table["gain_resolved"] = table.gain_resolved.fillna(False).astype(bool)
chapters = list(dict.fromkeys(table.chapter))
overview = table.groupby("chapter", sort=False).agg(
    conditions=("condition", "size"), gain_resolved=("gain_resolved", "sum"),
    gain_positive=("kd_gain", lambda g: int((g > 0).sum())), estimator=("estimator", "first"),
    scale=("scale", "first"),  # the parameter set the chapter's page shows
)
display(overview)
chapter.glue(n=len(table), n_resolved=int(table.gain_resolved.sum()), chapters=Markdown(", ".join(chapters)),
             coverage_share=f"{coverage:.0%}")
scored = {p.parent.name for p, _ in report.chapter_files(results_root, params_name, "scorecard_rows.csv")}
chapter.glue(missing=Markdown(", ".join(sorted(scored - set(chapters))) or "none"))

# %% [markdown]
# {glue:text}`criteria_n` conditions from the chapters {glue:md}`criteria_chapters`;
# the KD gain's sign is resolved in {glue:text}`criteria_n_resolved` of them. Chapters
# with scorecard rows but no candidate rows in this run: {glue:md}`criteria_missing`.

# %% [markdown]
# ## The ranking
# Every candidate present on enough conditions, scored on the same conditions: its
# out-of-sample sign accuracy with a 95% interval, the trivial rules' accuracies on those
# conditions, and its paired accuracy differences against "always distil", "never
# distil" and the CCH gap (`vs_*`, with McNemar p-values). First over the headline
# conditions, then over all conditions.

# %%
candidates = criteria.candidate_columns(table)
bases = {"resolved": (table[table.gain_resolved], "whose gain is resolved"), "all": (table, "all conditions")}
ranked, alone, common = {}, {}, {}
for name, (rows, _) in bases.items():
    common[name], on = criteria.common_conditions(rows, candidates, coverage)
    if len(on) < 2:
        continue
    ranked[name] = criteria.rank(on, common[name], n_boot=n_boot, seed=bootstrap_seed)
    others = [c for c in criteria.decidable(rows, candidates) if c not in common[name]]
    alone[name] = pd.concat([criteria.rank_alone(rows, c, n_boot, bootstrap_seed) for c in others],
                            ignore_index=True) if others else ranked[name].iloc[:0]
    _ = chapter.table(ranked[name], f"criteria_ranking_{name}")
    _ = chapter.table(alone[name], f"criteria_alone_{name}")
headline = "resolved" if "resolved" in ranked and ranked["resolved"].n_conditions.iloc[0] >= min_resolved else "all"
basis = bases[headline][1]
SHOWN = ["candidate", "n_conditions", "sign_accuracy", "sign_accuracy_low", "sign_accuracy_high", "always_accuracy",
         "never_accuracy", "vs_always", "vs_always_p", "vs_never", "vs_never_p", "vs_gap", "vs_gap_p",
         "beats_trivial", "spearman"]
for name in ranked:
    display(Markdown(f"**Conditions {bases[name][1]}** ({int(ranked[name].n_conditions.iloc[0])} conditions, "
                     f"{int(ranked[name].n_chapters.iloc[0])} chapters)"))
    display(ranked[name][SHOWN].assign(candidate=lambda d: d.candidate.map(criteria.LABELS)).round(3))

# %% [markdown]
# ### Candidates ranked on their own conditions
# A candidate that exists only on some chapters (MFH's $\gamma$ on MFH's data) is scored
# where it exists, beside the trivial rules on exactly those conditions.

# %%
for name in alone:
    display(alone[name][SHOWN].assign(candidate=lambda d: d.candidate.map(criteria.LABELS)).round(3))


# %% tags=["hide-input"]
def accuracy_panel(ax, frame: pd.DataFrame, title: str) -> None:
    """One panel: candidates top to bottom by accuracy, intervals, the trivial rules as lines."""
    real = frame[~frame.candidate.isin(criteria.TRIVIAL)].iloc[::-1]
    y = np.arange(len(real))
    for yi, (_, r) in zip(y, real.iterrows()):
        ax.plot([r.sign_accuracy_low, r.sign_accuracy_high], [yi, yi], color="C0", lw=2)
        ax.plot(r.sign_accuracy, yi, "o", color="C0", mfc="C0" if r.beats_trivial else "white", ms=7)
    first = frame.iloc[0]
    ax.axvline(first.always_accuracy, color="C3", ls="--", label=f"always distil ({first.always_accuracy:.2f})")
    ax.axvline(first.never_accuracy, color="C2", ls=":", label=f"never distil ({first.never_accuracy:.2f})")
    ax.set_yticks(y, [criteria.LABELS.get(c, c) for c in real.candidate])
    ax.set_xlim(0, 1)
    ax.set_xlabel("out-of-sample sign-rule accuracy (share of conditions)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=9)


panels = [name for name in (headline, "all" if headline == "resolved" else None) if name in ranked]
fig, axes = plt.subplots(len(panels), 1, figsize=(8, len(panels) * (0.42 * len(candidates) + 2.2)), squeeze=False)
for ax, name, letter in zip(axes[:, 0], panels, "ab"):
    n = int(ranked[name].n_conditions.iloc[0])
    accuracy_panel(ax, ranked[name], f"({letter}) conditions {bases[name][1]}: {n}")
fig.tight_layout()
chapter.glue(fig=fig)

# %% [markdown]
# ## Per chapter and the thresholds
# Out-of-sample accuracy of each candidate within each chapter (all conditions where it
# is present), and the thresholds that decided each chapter: a candidate whose rule
# works in one chapter but not when its threshold comes from the others does not
# transfer.

# %%
on_all = table.dropna(subset=["kd_gain"])
decidable = criteria.decidable(on_all, candidates)
by_chapter = criteria.per_chapter(on_all, decidable)
_ = chapter.table(by_chapter, "criteria_by_chapter")
display(by_chapter.pivot(index="candidate", columns="chapter", values="sign_accuracy")
        .reindex(index=[*decidable, *criteria.TRIVIAL], columns=chapters)
        .rename(index=criteria.LABELS).round(2))
thresholds = criteria.thresholds_table(on_all, decidable)
_ = chapter.table(thresholds, "criteria_thresholds")
display(thresholds.pivot(index="candidate", columns="held_out", values="threshold")
        .reindex(index=decidable, columns=chapters).rename(index=criteria.LABELS).round(3))

# %% [markdown]
# A fitted threshold carries the base rate of helpful distillation of the chapters it was
# fitted on. Where the chapters differ in that base rate (gains mostly positive in one,
# mostly negative in another), a rule fitted on the others can do worse than either
# trivial rule on the chapter left out: read the table of thresholds beside the
# per-chapter accuracies. The gaps' threshold 0 and $\gamma$'s 0.5 are fixed in advance
# and cannot carry a base rate.

# %% [markdown]
# ## Verdict
# ```{glue:md} criteria_verdict
# :format: myst
# ```

# %% tags=["remove-cell"]
scales = dict(zip(overview.index, overview.scale))
answer = criteria.answer(ranked[headline], f"those {basis}" if headline == "resolved" else basis, scales)
atomic_write_text(chapter.results_dir / "answer.md", answer + "\n")  # the book's first page shows it
chapter.glue(verdict=Markdown(answer))
rows = ranked[headline].set_index("candidate")
gap = rows.loc["mi_gap"] if "mi_gap" in rows.index else None
chapter.glue(finding=Markdown(findings.finding(
    "the sign of the MI gap $I(H_T;H_S) - I(H_S;Y)$ tells, before distilling, whether distillation will help.",
    (f"with the `{params_name}` parameter set, over {int(rows.n_conditions.iloc[0])} conditions ({basis}) of "
     f"{int(rows.n_chapters.iloc[0])} chapter(s), the gap's sign rule was right in a share of "
     + (f"{gap.sign_accuracy:.2f} [{gap.sign_accuracy_low:.2f}, {gap.sign_accuracy_high:.2f}]" if gap is not None
        else "n/a")
     + f"; *always distil* in {rows.always_accuracy.iloc[0]:.2f}, *never distil* in "
     f"{rows.never_accuracy.iloc[0]:.2f}. Candidates shown better than both trivial rules: "
     + (", ".join(criteria.LABELS.get(c, c) for c in rows.index[rows.beats_trivial]) or "none") + "."),
    criteria.cch_verdict(ranked[headline]),
    "Reproduced if the gap's sign rule beats both trivial rules on the same conditions (paired McNemar tests, "
    "BH-adjusted over the candidates, p < 0.05), not reproduced if its paired interval against the better "
    "trivial rule lies below 0, undecided otherwise.",
)))
