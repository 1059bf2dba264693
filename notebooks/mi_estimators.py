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
# # Mutual-information estimators (paper App. F)
#
# Every test of the Cross-modal Complementarity Hypothesis in this book compares two
# estimated mutual informations, $I(H_T; H_S)$ and $I(H_S; Y)$, of learned
# representations {cite}`xie2025cch`. Neither is known; both come from an estimator.
# The paper uses three: latent MI {cite}`gowri2024lmi` (the `latentmi` package) for its
# main results, and MINE {cite}`belghazi2018mine` and the $k$-nearest-neighbour
# estimators of Kraskov et al. {cite}`kraskov2004ksg` and Ross {cite}`ross2014mi` as a
# cross-check (Table 2), noting that their absolute values differ while their
# orderings agree.
#
# This chapter measures the estimators where the answer *is* known: jointly Gaussian
# pairs with exact MI, pairs whose shared signal is hidden among many unshared
# dimensions, and continuous inputs against class labels. For each estimator it shows
# the bias, the spread over estimator seeds and the cost in time, checks whether
# orderings and MI-gap signs survive the biases, and ends with guidance. `lmi` is
# cchlib's own implementation of latent MI, `latentmi` the reference package; all
# values are in nats.

# %% [markdown]
# :::{admonition} What we found
# :class: tip
# ```{glue:md} mi_estimators_finding
# :format: myst
# ```
# :::

# %% tags=["parameters", "remove-cell"]
params_name = "default"  # the parameter set; where and how it runs: cchlib.chapter.RUNNER_PARAMETERS
seeds = [0, 1, 2]  # estimator seeds (split, initialisation, batch order); the data draw is fixed
data_seed = 0  # seed of every condition's data draw
n = 2000  # samples per condition
methods = ["ksg", "lmi", "mine"]  # estimators run on every condition
method_options = {}  # per-method options, e.g. {"lmi": {"epochs": 100}}
factors = 4  # shared Gaussian factors per side
accuracy_dims = [4, 16, 64]  # coordinates per side
accuracy_rhos = [0.3, 0.6, 0.8, 0.9]  # canonical correlation of each shared factor
noise_dim = 32  # coordinates per side in the noise suite
noise_rho = 0.8
noise_dims = [0, 4, 12, 20, 28]  # unshared noise factors mixed into each side
label_dims = [4, 64]
label_separations = [1.0, 2.0, 3.0]  # cluster-centre scale of the label mixtures
n_classes = 10
label_signal_dims = 4
reference_method = "latentmi"  # the reference package, run at its own defaults ...
reference_noise_dims = [0, 28]  # ... on these noise-suite conditions only (it is slow)
reference_seeds = [0]  # one seed, since one latentmi estimate on 2000 samples takes minutes on a CPU
reference_options = {}

# %% tags=["hide-cell"]
import dataclasses
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from scipy import stats

from cchlib.chapter import Chapter
from cchlib.mi import suite

chapter = Chapter.from_parameters("mi_estimators", globals(), **{
    "samples per condition": n, "estimators": ", ".join(methods), "reference": reference_method})

# %% [markdown]
# ## Provenance
# Every number on this page was computed by the run described here.

# %% tags=["remove-input"]
chapter.provenance_table()

# %% [markdown]
# ```{admonition} Notes on the paper
# :class: note
# - **Units.** App. F does not say in which unit Table 2 is reported. The `latentmi`
#   package returns *bits*, while KSG/Ross and MINE are naturally in nats; if the table
#   mixes the two, part of the difference between its rows is a factor
#   $\log_2 e \approx 1.44$. Every value in this book is in nats (our `latentmi` wrapper
#   converts).
# - **"50 runs".** Table 2 gives mean $\pm$ std over 50 runs without saying whether a
#   run retrains the networks or only re-runs the estimator. Here the spread is over
#   estimator seeds (split, initialisation, batch order) on one fixed data draw, and
#   bias is measured against the exact MI.
# - **Estimator settings.** The paper gives none for MINE or KSG. We use KSG
#   estimator 1 with $k = 3$ (Ross's estimator for labels) and MINE with the
#   bias-corrected gradient, a held-out stopping split and the bound evaluated on a
#   separate test split (settings in `cchlib.mi.mine`).
# - **Our `lmi` vs `latentmi`.** `lmi` follows the latent-MI algorithm with networks
#   sized to the input, Adam with learning rate $2 \times 10^{-3}$, batches of 256,
#   patience 5 with a minimum improvement of $10^{-3}$, and the best weights truly
#   restored; `latentmi` 0.1.3 uses fixed 1024/512/256 widths, $10^{-4}$, batches of 512,
#   patience 30 and returns its last weights (the differences, and why, are listed in
#   `cchlib.mi.lmi`).
# ```

# %% [markdown]
# ## The known-MI suite
# One data draw of {glue:text}`mi_estimators_n` samples per condition; each estimator
# runs once per estimator seed (the networks of all seeds of `lmi` and `mine` are
# trained as one stacked model). Cells are cached on disk.

# %%
conditions = (
    suite.accuracy_conditions(accuracy_dims, accuracy_rhos, factors)
    + suite.noise_conditions(noise_dim, factors, noise_rho, noise_dims)
    + suite.label_conditions(label_dims, label_separations, n_classes, label_signal_dims)
)
settings = suite.Settings.from_parameters(globals())
rows = chapter.sweep(suite.run_cell, conditions, seeds, settings)
reference_settings = dataclasses.replace(settings, methods=[reference_method],
                                         method_options={reference_method: reference_options})
reference_rows = chapter.sweep(
    suite.run_cell, suite.noise_conditions(noise_dim, factors, noise_rho, reference_noise_dims), reference_seeds,
    reference_settings,
)
rows = pd.concat([rows, reference_rows], ignore_index=True)
rows["bias"] = rows.estimate - rows.truth
_ = chapter.table(rows, "estimates")


# %%
def summarise(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per condition and method: truth, mean estimate, bias, seed SD and seconds per estimate."""
    out = table.groupby(keys + ["method"], sort=False).agg(
        truth=("truth", "first"), estimate=("estimate", "mean"), seed_sd=("estimate", "std"),
        seconds=("seconds", "mean"),
    ).reset_index()
    out["bias"] = out.estimate - out.truth
    return out


condition_keys = ["suite", "dim", "rho", "noise_dims", "unshared_share", "separation"]
summary = summarise(rows.fillna({"rho": -1, "noise_dims": -1, "separation": -1}), condition_keys)
_ = chapter.table(summary, "summary")
all_methods = list(dict.fromkeys(list(methods) + [reference_method]))
colors = dict(zip(all_methods, plt.rcParams["axes.prop_cycle"].by_key()["color"]))

# %% [markdown]
# ## Accuracy on Gaussian pairs: estimate against truth
# Each side has {glue:text}`mi_estimators_factors` shared factors with the same
# canonical correlation, mapped into `dim` coordinates. In {numref}`fig-mi-estimators-pairs`, points are means over estimator
# seeds, bars one seed-to-seed standard deviation; the dashed line is a perfect
# estimator.

# %% tags=["hide-input"]
def plot_against_truth(part: pd.DataFrame, dims, xlabel: str, title, suptitle: str = "") -> plt.Figure:
    """One panel per dimension: each estimator's mean estimate (+- seed SD) against the truth."""
    fig, axes = plt.subplots(1, len(dims), figsize=(min(12, 3.8 * len(dims)), 4.2), sharey=True)
    for ax, dim in zip(np.atleast_1d(axes), dims):
        panel = part[part.dim == dim]
        top = max(panel.truth.max(), panel.estimate.max()) * 1.1
        ax.plot([0, top], [0, top], "k--", lw=1, label="truth")
        for method, group in panel.groupby("method", sort=False):
            ax.errorbar(group.truth, group.estimate, group.seed_sd.fillna(0), marker="o", color=colors[method],
                        label=method)
        ax.set(xlabel=xlabel, title=title(dim))
    np.atleast_1d(axes)[0].set_ylabel("estimated MI (nats)")
    np.atleast_1d(axes)[0].legend()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


acc = summary[summary.suite == "accuracy"]
fig = plot_against_truth(acc, accuracy_dims, "true MI (nats)", lambda dim: f"{dim}-d vs {dim}-d",
                         "Gaussian pairs with shared low-rank factors")
chapter.glue(fig_pairs=fig)

# %% [markdown]
# ```{glue:figure} mi_estimators_fig_pairs
# :name: "fig-mi-estimators-pairs"
#
# Each estimator's estimate against the true MI (both in nats) on Gaussian pairs, one
# panel per dimension of each side; means over estimator seeds, bars one seed-to-seed
# standard deviation. On the dashed diagonal an estimate equals the truth; below it the
# estimator falls short. Look at how far each colour drops below the diagonal as the
# dimension grows.
# ```

# %%
bias_table = acc.pivot_table(index=["dim", "rho", "truth"], columns="method", values="bias").round(3)
display(bias_table)
worst = acc.groupby("method").bias.apply(lambda b: b.abs().max())
high = acc[acc.dim == max(accuracy_dims)]
high_rel = (high.estimate / high.truth).groupby(high.method).mean()
chapter.glue(**{f"worst_bias_{m}": float(v) for m, v in worst.items()},
             **{f"high_dim_ratio_{m}": float(v) for m, v in high_rel.items()},
             below_truth=float((acc.bias < 0).mean()), high_dim=max(accuracy_dims))

# %% [markdown]
# At {glue:text}`mi_estimators_high_dim` dimensions per side, the estimates recover on
# average {glue:text}`mi_estimators_high_dim_ratio_lmi:.2f` of the true MI for `lmi`,
# {glue:text}`mi_estimators_high_dim_ratio_ksg:.2f` for KSG and
# {glue:text}`mi_estimators_high_dim_ratio_mine:.2f` for MINE (ratios of mean estimate
# to truth over the correlation grid). Over all dimensions and correlations,
# {glue:text}`mi_estimators_below_truth:.0%` of the mean estimates lie below the truth,
# (the table above gives each bias). Where an estimate falls short, the mechanisms are
# known: KSG's $k$-nearest-neighbour distances in many dimensions cannot resolve strong
# dependence from {glue:text}`mi_estimators_n` samples, MINE maximises a lower bound with
# a finite network and finite data, and latent MI's latents and the KSG step on them keep
# only part of the shared information; how large each shortfall is in this run is in the
# table.

# %% [markdown]
# ## Where estimators break: shared signal hidden among unshared dimensions
# Each side has {glue:text}`mi_estimators_noise_dim` coordinates: the same
# {glue:text}`mi_estimators_factors` shared factors, plus a growing number of
# independent noise factors mixed into every coordinate by a random rotation. The true
# MI stays (nearly) the same; only the share of each side that the other side does not
# see grows. Learned representations sit somewhere on this axis: a teacher's hidden
# layer shares some directions with the student's and has many of its own. See {numref}`fig-mi-estimators-noise`.

# %% tags=["hide-input"]
noise = summary[summary.suite == "noise"]
fig, ax = plt.subplots(figsize=(7.5, 4.5))
for method, group in noise.groupby("method", sort=False):
    ax.errorbar(group.unshared_share, group.estimate, group.seed_sd.fillna(0), marker="o", color=colors[method],
                label=method)
ax.plot(noise.unshared_share, noise.truth, "k--", lw=1, label="truth")
ax.set(xlabel="share of each side's factors that are unshared", ylabel="MI (nats)",
       title=f"{noise_dim}-d vs {noise_dim}-d, {factors} shared factors at ρ = {noise_rho}")
ax.legend()
fig.tight_layout()
chapter.glue(fig_noise=fig)
display(noise.pivot_table(index=["noise_dims", "unshared_share", "truth"], columns="method",
                          values="estimate").round(3))

# %% [markdown]
# ```{glue:figure} mi_estimators_fig_noise
# :name: "fig-mi-estimators-noise"
#
# Each estimator's MI estimate (nats) as a growing share of each side's factors is
# private to that side (the table above gives the values); the dashed line is the true
# MI, which stays nearly constant. Means over estimator seeds, bars one seed-to-seed
# standard deviation. Look at which estimators keep their estimate as the private share
# grows and which fall away from the truth.
# ```

# %%
def recovered(method: str, noise_count: int) -> float:
    """Mean estimate over truth of ``method`` at ``noise_count`` noise factors."""
    row = noise[(noise.method == method) & (noise.noise_dims == noise_count)]
    return float((row.estimate / row.truth).iloc[0]) if len(row) else float("nan")


chapter.glue(most_noise=max(noise_dims), **{f"recovered_{which}_{m}": recovered(m, count) for m in noise.method.unique()
                                            for which, count in [("clean", min(noise_dims)), ("noisy", max(noise_dims))]})

# %% [markdown]
# With {glue:text}`mi_estimators_most_noise` unshared factors per side, `lmi` recovers
# {glue:text}`mi_estimators_recovered_noisy_lmi:.2f` of the true MI (against
# {glue:text}`mi_estimators_recovered_clean_lmi:.2f` without them), the reference
# `latentmi` {glue:text}`mi_estimators_recovered_noisy_latentmi:.2f` (against
# {glue:text}`mi_estimators_recovered_clean_latentmi:.2f`), KSG
# {glue:text}`mi_estimators_recovered_noisy_ksg:.2f` and MINE
# {glue:text}`mi_estimators_recovered_noisy_mine:.2f`. The autoencoders of latent MI
# spend their few latent dimensions on whatever explains most of each side's variance;
# when most of that variance is private, the shared directions are squeezed out and the
# KSG step on the latents sees little dependence. KSG on the raw coordinates drowns in
# the private dimensions for the same reason as in high dimension. MINE trains its
# statistics network on the pair itself, with no compression of either side, so it is
# not exposed to that squeeze (compare its two ratios above). An estimate of $I(H_T; H_S)$ between two wide hidden layers is therefore
# a lower bound whose looseness depends on the estimator and on how much each layer
# holds that the other does not.

# %% [markdown]
# ## Continuous inputs against class labels
# $x$ is drawn from one of {glue:text}`mi_estimators_n_classes` equiprobable Gaussian
# clusters in {glue:text}`mi_estimators_label_signal_dims` coordinates, padded with
# independent noise coordinates and rotated; $y$ is the cluster. The truth is computed
# by Monte Carlo over the exact posterior. This is the shape of $I(H_S; Y)$. See {numref}`fig-mi-estimators-labels`.

# %% tags=["hide-input"]
labels = summary[summary.suite == "labels"]
fig = plot_against_truth(labels, label_dims, "true I(x; y) (nats)", lambda dim: f"{dim}-d x vs {n_classes} classes")
chapter.glue(fig_labels=fig)
display(labels.pivot_table(index=["dim", "separation", "truth"], columns="method", values="estimate").round(3))

# %% [markdown]
# ```{glue:figure} mi_estimators_fig_labels
# :name: "fig-mi-estimators-labels"
#
# Each estimator's estimate of $I(x; y)$ between continuous inputs and class labels
# against the truth (both in nats), one panel per input dimension; means over estimator
# seeds, bars one seed-to-seed standard deviation, dashed diagonal: a perfect estimator.
# This is the shape of $I(H_S; Y)$ (at most the log of the number of classes): look at
# which estimators stay near the diagonal and how each shortfall grows with the truth.
# ```

# %% [markdown]
# ## Why absolute values differ while orderings agree
# Table 2 of the paper shows three estimators disagreeing on the size of each MI but
# agreeing on which is larger. The suite lets us check both halves of that statement
# against the truth. For every estimator: the rank correlation (Spearman) between its
# estimates and the true MI over the Gaussian-pair conditions of the accuracy suite,
# and, for every two of those conditions, whether the estimator gets the sign of their
# difference right. The last column is the question CCH asks: for every combination of
# a continuous-pair condition (accuracy and noise suites) with a labels condition, is
# the sign of the "MI gap" $I(x_a; x_b) - I(x; y)$ estimated correctly?

# %%
def sign_agreement(estimates: np.ndarray, truths: np.ndarray) -> float:
    """Share of pairs (i, j) whose estimated difference has the sign of the true one."""
    pairs = [(i, j) for i, j in itertools.combinations(range(len(truths)), 2) if truths[i] != truths[j]]
    return float(np.mean([np.sign(estimates[i] - estimates[j]) == np.sign(truths[i] - truths[j])
                          for i, j in pairs]))


def gap_agreement(pairs_: pd.DataFrame, labels_: pd.DataFrame) -> float:
    """Share of (pair condition, label condition) combinations whose MI-gap sign is estimated right."""
    hits = [np.sign(a.estimate - b.estimate) == np.sign(a.truth - b.truth)
            for a in pairs_.itertuples() for b in labels_.itertuples()]
    return float(np.mean(hits)) if hits else float("nan")


continuous = summary[summary.suite != "labels"]
ordering = []
for method in methods:
    ranked = acc[acc.method == method]
    ordering.append({
        "method": method,
        "Spearman with truth": stats.spearmanr(ranked.estimate, ranked.truth)[0] if len(ranked) > 2 else np.nan,
        "pairwise order right": sign_agreement(ranked.estimate.to_numpy(), ranked.truth.to_numpy()),
        "MI-gap sign right": gap_agreement(continuous[continuous.method == method], labels[labels.method == method]),
        "mean |bias|, pairs (nats)": continuous[continuous.method == method].bias.abs().mean(),
        "mean |bias|, labels (nats)": labels[labels.method == method].bias.abs().mean(),
    })
ordering = pd.DataFrame(ordering)
chapter.show(ordering, "ordering", decimals=3)
best = {"best_pairs": ordering.loc[ordering["mean |bias|, pairs (nats)"].idxmin(), "method"],
        "best_labels": ordering.loc[ordering["mean |bias|, labels (nats)"].idxmin(), "method"],
        "best_gap": ordering.loc[ordering["MI-gap sign right"].idxmax(), "method"]}
chapter.glue(**best, **{f"{what}_{r['method']}": float(r[column]) for r in ordering.to_dict("records")
                        for what, column in [("gap_right", "MI-gap sign right"), ("order_right", "pairwise order right")]})

# %% tags=["remove-cell"]
from cchlib.findings import finding, verdict

by_condition = acc.pivot_table(index=["dim", "rho"], columns="method", values="estimate")
orders = [np.sign(by_condition.iloc[i] - by_condition.iloc[j]).dropna().nunique()
          for i, j in itertools.combinations(range(len(by_condition)), 2)]
same, differ = sum(k == 1 for k in orders), sum(k > 1 for k in orders)
per_method = "; ".join(f"`{r['method']}` {r['pairwise order right']:.0%} and {r['MI-gap sign right']:.0%}"
                       for _, r in ordering.iterrows())
chapter.glue(finding=Markdown(finding(
    "the estimators (latent MI, MINE, KSG) differ in absolute MI but agree on orderings (Sec. 4.3 and "
    "App. F; shown on CMU-MOSEI in the paper's Table 2, reproduced in the MOSEI chapter).",
    f"on {len(by_condition)} Gaussian conditions with known MI (`{params_name}` parameter set), the "
    f"{by_condition.shape[1]} estimators ordered {same} of {same + differ} pairs of conditions the same "
    f"way. Share of condition pairs ordered as the truth, and of MI-gap signs right: {per_method}.",
    verdict(same, differ),
    "Each pair of conditions supports the claim when every estimator orders it the same way and "
    "contradicts it otherwise; agreement between estimators says nothing about the sign of a gap "
    "between a pair MI and a label MI (see the gap column above).",
)))

# %% [markdown]
# Within the accuracy suite, `lmi` orders {glue:text}`mi_estimators_order_right_lmi:.0%` of the pairs of conditions
# correctly, KSG {glue:text}`mi_estimators_order_right_ksg:.0%` and MINE
# {glue:text}`mi_estimators_order_right_mine:.0%` (compare these shares with the
# biases above to see whether orderings survive better than absolute values here). The MI
# gap can be less forgiving, because its two terms are estimated on different kinds of
# data with different biases: where a continuous pair with many unshared dimensions is
# underestimated more than an MI with labels, the estimated gap is pushed down. The
# gap's sign is right in {glue:text}`mi_estimators_gap_right_lmi:.0%` of the
# combinations for `lmi`, {glue:text}`mi_estimators_gap_right_ksg:.0%` for KSG and
# {glue:text}`mi_estimators_gap_right_mine:.0%` for MINE. In this run the smallest mean
# bias on continuous pairs was {glue:text}`mi_estimators_best_pairs`'s, on labels
# {glue:text}`mi_estimators_best_labels`'s, and the most reliable gap sign
# {glue:text}`mi_estimators_best_gap`'s. Agreement between estimators, as in Table 2,
# is evidence about orderings *within* one kind of MI, not about the sign or size of a
# gap between a pair MI and a label MI; a small gap should be read with its error bar
# and with the knowledge that $I(H_T; H_S)$ is biased low.

# %% [markdown]
# ## What each estimate costs
# Wall-clock seconds per estimate, averaged over conditions of each size (a stacked
# fit of several seeds is divided by its seeds). These were measured on the machine
# named under Provenance, which may have been shared with other work; see
# `benchmarks/README.md` for a controlled comparison of `lmi` with `latentmi`. See {numref}`fig-mi-estimators-cost`.

# %% tags=["hide-input"]
cost = rows.groupby(["suite", "dim", "method"], sort=False).seconds.mean().unstack("method").round(2)
_ = chapter.table(cost.reset_index(), "seconds")
display(cost)
fig, ax = plt.subplots(figsize=(7, 4))
per_method = rows.groupby("method", sort=False).seconds.mean()
ax.bar(per_method.index, per_method.values, color=[colors[m] for m in per_method.index])
ax.set(ylabel="seconds per estimate (mean over conditions)", xlabel="estimator",
       title=f"cost at n = {n}")
fig.tight_layout()
chapter.glue(fig_cost=fig, **{f"seconds_{m}": float(v) for m, v in per_method.items()})

# %% [markdown]
# ```{glue:figure} mi_estimators_fig_cost
# :name: "fig-mi-estimators-cost"
#
# Wall-clock seconds per estimate for each estimator, averaged over all conditions of
# this run (the table above splits them by suite and dimension). Compare the bars'
# heights: the cost that a more accurate estimate would have to justify.
# ```

# %% [markdown]
# ## Which estimator to use
# The numbers above come from this run; the guidance below rests on how each estimator
# works, and the run's numbers say how much each point mattered here. In this run the
# smallest mean bias on continuous pairs was {glue:text}`mi_estimators_best_pairs`'s, on
# labels {glue:text}`mi_estimators_best_labels`'s, and the MI-gap sign was right most often
# for {glue:text}`mi_estimators_best_gap` (rerun the chapter before relying on these for
# another setting).
# - **`lmi`** (cchlib's latent MI) is the paper's algorithm with networks sized to the
#   input, built to cost less than the reference ({glue:text}`mi_estimators_seconds_lmi:.1f` s per estimate
#   against {glue:text}`mi_estimators_seconds_latentmi:.1f` s for the reference package
#   here). Its autoencoders compress each side, so it can lose shared directions when
#   most of each side is unshared (the noise suite above shows how much). Use
#   `estimate_with_se(..., repeats=R)` for error bars; the repeats are trained as one
#   stacked model.
# - **`mine`** trains on the pair without compressing either side, so it is the natural
#   cross-check for two wide hidden layers with many unshared dimensions; its seed spread
#   is larger (it needs repeats) and its stopping signal noisy. Where a chapter's
#   conclusion rests on the sign of $I(H_T;H_S) - I(H_S;Y)$, check it with `mine` as well
#   as `lmi`.
# - **`ksg`** (Ross's estimator for labels) needs no training and is nearly free for a
#   few dimensions per side; $k$-nearest-neighbour distances lose resolution as the
#   dimension grows, and its seed only breaks ties.
# - **`latentmi`** only to compare with the paper's own numbers; it is the same
#   algorithm as `lmi` at a higher cost.
# - Whatever the estimator, compare MIs estimated on the same kind of data, report the
#   seed spread, and read a gap between a representation-pair MI and a label MI as
#   uncertain in sign when it is small: the two terms carry different biases.
