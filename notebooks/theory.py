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
# # Theory: when does distillation help in the jointly Gaussian model?
#
# Section 3 and Appendix A of Xie, Xu and Sanguinetti (2025) support the Cross-modal
# Complementarity Hypothesis (CCH) with a linear model. Teacher modality $x_1$, student
# modality $x_2$ and label $y$ are jointly Gaussian; a fixed linear teacher $w_1$ guides a
# linear student fitted by least squares plus a penalty, weighted by $\lambda$, that pulls the
# student's outputs towards the teacher's (their Eq. 4). The paper derives the student's
# asymptotic excess risk $\bar R(\lambda, w_1)$ (Eq. 13) for $n, p \to \infty$ with
# $n/p \to \kappa > 1$. From it come an exact condition for distillation to help at small
# $\lambda$ (Eq. 17) and Theorem 1: under two mild assumptions on the teacher, CCH,
# $I(w_1^\top x_1; w^{*\top} x_2) > I(w^{*\top} x_2; y)$, is enough for that condition to hold.
#
# This chapter re-derives these formulas, checks them against Monte Carlo simulations of the
# actual finite-sample estimator, and asks how good CCH is as a criterion: how often it is
# sufficient, how often it is too strict (distillation helps although CCH says it should not),
# and whether it ever predicts a gain that does not come. Everything here is computed from
# closed forms and simulations in `cchlib.theory` (numpy only, no neural networks).

# %% [markdown]
# :::{admonition} What we found
# :class: tip
# ```{glue:md} theory_finding
# :format: myst
# ```
# :::

# %% tags=["parameters", "remove-cell"]
params_name = "default"  # the parameter set; where and how it runs: cchlib.chapter.RUNNER_PARAMETERS
seeds = [0]  # Monte Carlo seeds: each (section, condition, seed) cell has its own random stream

# 1. analytic Eq. (13) against Monte Carlo, as p grows at fixed kappa = n/p
conv_sigmas = [0.5, 0.9, 0.4]  # (sigma12, sigma13, sigma23), per-coordinate model
conv_kappas = [1.5, 2.0, 4.0]
conv_ps = [10, 25, 50, 100, 200]
conv_lam = 0.5
conv_reps = 200

# 2. R(lambda) - R0 against lambda for three teachers (per-coordinate model)
curve_s13 = 0.9
curve_s23 = 0.6
curve_s12s = [0.25, 0.45, 0.7]
curve_p = 100
curve_kappa = 2.0
curve_lams = [0.0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
curve_reps = 200

# 3. the Sec. 4.1 line: sigma13 = 0.9, sigma23 = 0.4, sigma12 varied, at the paper's n and p
sec41_s13 = 0.9
sec41_s23 = 0.4
sec41_s12s = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
sec41_p = 100
sec41_n = 10000
sec41_lams = [0.01, 1.0]
sec41_reps = 40
boundary_ps = [10, 20, 50, 100]

# 4. maps over (sigma12, sigma13, sigma23) and over random covariances
map_step = 0.1
map_p = 20
map_kappa = 5
map_reps = 100
map_small_lam = 1e-4
map_large_lam = 1.0
random_count = 400
random_p = 5
random_kappa = 4
random_reps = 200
random_max_scale = 3.0

# 5. optimal surrogate teacher (Eq. 14 / 15)
sur_sigmas = [0.5, 0.9, 0.4]
# sur_ci_sigmas has sigma13 = sigma12 * sigma23, so x1 and y are independent given x2
sur_ci_sigmas = [0.8, 0.4, 0.5]
sur_p = 100
sur_kappa = 2.0
sur_lams = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0]
sur_reps = 100

# 6. Theorem 3: over-parameterised students (kappa < 1), minimum-norm least squares
ovr_sigmas = [0.5, 0.9, 0.4]
ovr_p = 200
ovr_kappa = 0.5
ovr_lams = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0]
ovr_reps = 200

# %% tags=["hide-cell"]

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from cchlib import theory as T
from cchlib.chapter import Chapter
from cchlib.experiments import theory as mc

chapter = Chapter.from_parameters("theory", globals(), device="cpu")  # numpy Monte Carlo: no GPU path
DATA = "Gaussian linear model (analytic + Monte Carlo)"


def show(df: pd.DataFrame, name: str) -> None:
    """Write a table to results/<params>/theory/<name>.csv and display it."""
    chapter.table(df, name)
    display(df)

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
chapter.provenance_table()

# %% [markdown]
# ## The model, and what we derived
#
# With $w^* = \Sigma_{22}^{-1}\Sigma_{23}$ (the best linear student) and
# $\sigma^2 = \Sigma_{33} - w^{*\top}\Sigma_{22}w^*$, any student $w$ has excess risk
# $(w - w^*)^\top \Sigma_{22} (w - w^*)$ over the Bayes risk $\sigma^2$ (expand
# $\mathbb E(y - w^\top x_2)^2$). Eq. (4) is least squares on the effective label
# $\bar y = (y + \lambda w_1^\top x_1)/(1+\lambda)$, which is
# $\bar w^\top x_2$ plus Gaussian noise of variance $\bar\sigma^2$, independent of $x_2$.
# For a Gaussian design the least-squares error is then exactly
# $\mathbb E[R] = (\bar w - w^*)^\top\Sigma_{22}(\bar w - w^*) + \bar\sigma^2\, p/(n-p-1)$,
# and $p/(n-p-1) \to 1/(\kappa-1)$ gives Eq. (13):
#
# $$\bar R(\lambda, w_1) = \frac{\lambda^2}{(1+\lambda)^2} B(w_1)
#   + \frac{\sigma^2 + 2\lambda c(w_1) + \lambda^2 d(w_1)}{(\kappa-1)(1+\lambda)^2},$$
#
# with $B$ the teacher's bias ($\|\Sigma_{22}^{1/2}(\Sigma_{22}^{-1}\Sigma_{12}^\top w_1 - w^*)\|^2$),
# $c = w_1^\top(\Sigma_{13} - \Sigma_{12}w^*)$ the covariance of the teacher's output with the
# student's irreducible residual $y - w^{*\top}x_2$, and $d = \mathrm{Var}(w_1^\top x_1 \mid x_2)$.
# Its slope at $\lambda = 0$ is $2(c - \sigma^2)/(\kappa - 1)$: distillation helps at small
# $\lambda$ exactly when $c < \sigma^2$ (Eq. 17), whatever $\kappa > 1$.
#
# Two parameterisations of Sec. 4.1 are used (see the notes below for why):
#
# * **appB**: the exact covariance of the sampler of App. B, which is what the paper's
#   experiments drew. With $J = \mathbf 1\mathbf 1^\top$:
#   $\Sigma_{11} = (1-\sigma_{13}^2)I + \sigma_{13}^2 J$,
#   $\Sigma_{22} = (1-\sigma_{23}^2)I + \sigma_{23}^2 J$,
#   $\Sigma_{12} = (\sigma_{12} - \sigma_{13}\sigma_{23})I + \sigma_{13}\sigma_{23}J$,
#   $\Sigma_{13} = \sigma_{13}\mathbf 1$, $\Sigma_{23} = \sigma_{23}\mathbf 1$, $\Sigma_{33} = 1$.
#   All coordinates share the one label, so averaging them recovers $y$ better as $p$ grows.
# * **per-coordinate**: Eq. (7) with $\Sigma_{13} = \sigma_{13}\mathbf 1/\sqrt p$ and
#   $\Sigma_{23} = \sigma_{23}\mathbf 1/\sqrt p$, i.e. $y = \sum_j y_j/\sqrt p$, where each
#   coordinate triple $(x_{1j}, x_{2j}, y_j)$ has correlations $(\sigma_{12}, \sigma_{13}, \sigma_{23})$.
#   It is a covariance whenever that $3\times 3$ correlation matrix is, for every $p$, and
#   $I(w^{*\top}x_2; y) = -\tfrac12\log(1-\sigma_{23}^2)$ does not depend on $p$.
#
# The teacher is the Bayes teacher $w_1 = \Sigma_{11}^{-1}\Sigma_{13}$ unless stated otherwise;
# it satisfies Theorem 1's assumptions.

# %%
eq7 = T.eq7_blocks(0.5, 0.9, 0.4, 100)
eq7_min_eig = T.min_eigenvalue(*eq7)
eq7_max_p = int(np.floor((1 - 0.5**2) / (0.9**2 + 0.4**2 - 2 * 0.5 * 0.9 * 0.4)))
chapter.glue(eq7_min_eig=eq7_min_eig, eq7_max_p=eq7_max_p)
psd_table = pd.DataFrame(
    [
        {
            "covariance": name,
            "p": 100,
            "smallest eigenvalue": T.min_eigenvalue(*blocks),
            "Var(y) explained by w*'x2": float(blocks.S23 @ T.optimal_student_weight(blocks.S22, blocks.S23)),
        }
        for name, blocks in [
            ("Eq. (7) as printed", eq7),
            ("appB (App. B sampler)", T.appb_blocks(0.5, 0.9, 0.4, 100)),
            ("per-coordinate", T.per_coordinate_blocks(0.5, 0.9, 0.4, 100)),
        ]
    ]
)
psd_table["Var(y) explained by w*'x2"] = psd_table["Var(y) explained by w*'x2"].where(
    psd_table["smallest eigenvalue"] > -1e-9
)
show(psd_table, "covariance_check")

# %% [markdown]
# At $(\sigma_{12}, \sigma_{13}, \sigma_{23}) = (0.5, 0.9, 0.4)$ and $p = 100$, Eq. (7) as
# printed has smallest eigenvalue {glue:text}`theory_eq7_min_eig:.2f`: it is not a covariance
# (it is one only for $p \le$ {glue:text}`theory_eq7_max_p`).
#
# ```{admonition} Notes on the paper
# :class: note
#
# * **Eq. (7) vs. App. B.** Eq. (7) with $\Sigma_{13} = \sigma_{13}\mathbf 1_p$ and identity
#   blocks is positive semidefinite only when
#   $p(\sigma_{13}^2 + \sigma_{23}^2 - 2\sigma_{12}\sigma_{13}\sigma_{23}) \le 1 - \sigma_{12}^2$
#   (Schur complement), which fails at the paper's $p = 100$. App. B's sampler draws a
#   different law: $\mathrm{Cov}(X_2) = (1-\sigma_{23}^2)I + \sigma_{23}^2\mathbf 1\mathbf 1^\top$,
#   not $I$ (we derived its full covariance above and check it against the sampler in the
#   tests). We use the sampler's covariance ("appB") because that is what the experiments
#   ran, and a per-coordinate rescaling of Eq. (7) because it keeps Eq. (7)'s intent (unit
#   identity blocks, correlations $\sigma_{ij}$ per coordinate) for every $p$.
# * **Eq. (13)** is asymptotic. At finite $n$ the exact mean excess risk of the Gaussian-design
#   least-squares student has $p/(n-p-1)$ in place of $1/(\kappa-1)$; the Monte Carlo below
#   confirms both. The paper's excess risk Eq. (5) is $(\hat w - w^*)^\top\Sigma_{22}(\hat w - w^*)$.
# * **Eq. (16)** is a correct first-order expansion, but it keeps the factor
#   $(1+\lambda)^{-2}$ on the first term; expanded, the slope at $\lambda = 0$ is
#   $\frac{2}{\kappa-1}[w_1^\top(\Sigma_{13} - \Sigma_{12}w^*) - \sigma^2]$. The $-2\lambda\sigma^2/(\kappa-1)$
#   part, which is what makes almost any teacher help at small $\lambda$, is hidden in that
#   factor. Our finite-difference test of Eq. (13) confirms this slope.
# * **Eq. (17)** writes $\hat w$ where the teacher weight $w_1$ is meant.
# * **Eq. (19)** normalises by $\sqrt{w^{*\top}\Sigma_{22}w^*}$; the correlation of $w_1^\top x_1$
#   with $y$ needs $\sqrt{\Sigma_{33}}$. Only with $\sqrt{\Sigma_{33}}$ is Eq. (21) equivalent to
#   Eq. (17) (tested).
# * **Eq. (22).** Equal Gaussian mutual informations compare $|\rho|$, so CCH gives
#   $|\rho(w_1x_1, w^*x_2)| > \rho(w^*x_2, y)$, while the proof uses the signed
#   $\rho(w_1x_1, w^*x_2) > \rho(w^*x_2, y)$; a teacher output negatively correlated with
#   the student's is not covered. The last sentence also says
#   $\sqrt{\Sigma_{33}}/\sqrt{w_1^\top\Sigma_{11}w_1} \le 1$, where the assumption
#   $w_1^\top\Sigma_{11}w_1 \le \Sigma_{33}$ gives $\ge 1$ (which is what the step needs).
#   The theorem itself survives: regress the teacher output on the residual
#   $e = y - w^{*\top}x_2$ and on $w^{*\top}x_2$ (uncorrelated),
#   $w_1^\top x_1 = \alpha e + \gamma w^{*\top}x_2 + \xi$. CCH says $|\gamma| > |\alpha|$, so
#   $w_1^\top\Sigma_{11}w_1 \ge \alpha^2\sigma^2 + \gamma^2 w^{*\top}\Sigma_{22}w^* > \alpha^2\Sigma_{33}$.
#   With the scale assumption this forces $|\alpha| < 1$, i.e. $c = \alpha\sigma^2 < \sigma^2$, which is Eq. (17).
#   The sign assumption $w_1^\top\Sigma_{13} \ge 0$ is not needed. The tests check this on random cases,
#   and the random-covariance map below looks for counterexamples.
# * **Eq. (14)** prints $\Sigma_{12}^\top\Sigma_{22}^{-1}\Sigma_{12}$ and $\Sigma_{12}^\top w^*$; with
#   $\Sigma_{12} = \mathrm{Cov}(x_1, x_2)$ as in Eq. (13), the gradient gives
#   $\Sigma_{12}\Sigma_{22}^{-1}\Sigma_{12}^\top$ and $\Sigma_{12}w^*$ (the same when $\Sigma_{12}$ is
#   symmetric, as in Sec. 4.1). Eq. (15) follows from the corrected Eq. (14).
# * Theorem 2 writes $R(\lambda, \tilde w)$ for $R(\lambda, w_1)$. It calls $w^*$ "the optimal teacher
#   weight", but $w^*$ is the optimal *student*; the optimal teacher is $\Sigma_{11}^{-1}\Sigma_{13}$.
#   The sentence after Theorem 1 says "student representations and the teacher" where it means
#   "and the labels".
# * CCH in Theorem 1 is evaluated at the population-optimal student $w^*$ and a fixed teacher,
#   not at trained networks' representations as in the experiments.
# ```

# %% [markdown]
# ## 1. Eq. (13) against Monte Carlo
#
# Each repetition draws a training set of size $n = \kappa p$, fits Eq. (4) in closed form and
# computes the exact population excess risk of the fitted student. Below, the
# per-coordinate model with $(\sigma_{12}, \sigma_{13}, \sigma_{23})$ from `conv_sigmas`, the Bayes
# teacher, and $\lambda$ = `conv_lam`.
#
# Every Monte Carlo of this chapter runs as a sweep of cells (`cchlib.experiments.theory`),
# cached on disk like the other chapters' sweeps: a cell is one condition of one section
# (here one $(\kappa, p)$) for one seed, and it draws from its own random stream, seeded by
# the seed, the section and the condition. With several seeds, their repetitions are
# pooled into one sample per condition.

# %%
conv_rows = chapter.sweep(
    mc.run_convergence, [{"kappa": float(kappa), "p": int(p)} for kappa in conv_kappas for p in conv_ps], seeds,
    mc.ConvergenceSettings.from_parameters(globals(), prefix="conv_"), label="theory 1: Eq. (13)",
)
conv = mc.pool_seeds(conv_rows, ["kappa", "p"], ["R"]).rename(
    columns={"R_mean": "MC mean R", "R_se": "MC SE", "R_sd": "MC SD across training sets"}
)[["kappa", "p", "n", "n/p", "MC mean R", "MC SE", "MC SD across training sets", "finite-sample E[R]", "Eq. (13)"]]
conv["MC / Eq. (13)"] = conv["MC mean R"] / conv["Eq. (13)"]
conv["|MC - E[R]| / SE"] = (conv["MC mean R"] - conv["finite-sample E[R]"]).abs() / conv["MC SE"]
show(conv.round(5), "eq13_vs_monte_carlo")

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for kappa, d in conv.groupby("kappa"):
    (line,) = axes[0].plot(d["p"], d["Eq. (13)"], "-", label=f"Eq. (13), kappa={kappa:g}")
    axes[0].plot(d["p"], d["finite-sample E[R]"], ":", color=line.get_color())
    axes[0].errorbar(d["p"], d["MC mean R"], yerr=2 * d["MC SE"], fmt="o", color=line.get_color(), ms=4)
    axes[1].plot(d["p"], d["MC SD across training sets"] / d["Eq. (13)"], "o-", color=line.get_color(), label=f"kappa={kappa:g}")
axes[0].set(xscale="log", yscale="log", xlabel="dimension p", ylabel=f"excess risk R(λ={conv_lam:g})\n(squared units of y)",
            title="(a) mean excess risk")
axes[0].legend()
axes[1].set(xscale="log", yscale="log", xlabel="dimension p", ylabel="SD of R across training sets\n/ Eq. (13) (ratio)",
            title="(b) spread across training sets")
axes[1].legend()
plt.tight_layout()
chapter.glue(fig_convergence=fig)

# %% [markdown]
# ```{glue:figure} theory_fig_convergence
# :name: "fig-theory-convergence"
#
# Eq. (13) against simulation as the dimension $p$ grows at fixed $\kappa = n/p$ (log-log
# axes). (a) The excess risk $R(\lambda)$ in squared units of $y$: Monte Carlo means over
# training sets (dots, ±2 SE), the exact finite-sample mean (dotted) and Eq. (13) (line),
# one colour per $\kappa$. (b) The spread of $R$ across training sets relative to Eq. (13).
# Look at whether the dots reach the line as $p$ grows in (a), and whether the spread falls
# in (b): that is what "asymptotic" buys.
# ```

# %%
largest = conv[conv["p"] == conv["p"].max()]
chapter.glue(conv_max_rel_err_largest_p=float((largest["MC / Eq. (13)"] - 1).abs().max()),
             conv_largest_p=int(conv["p"].max()), conv_max_z_exact=float(conv["|MC - E[R]| / SE"].max()))

# %% [markdown]
# In {numref}`fig-theory-convergence`, at $p$ = {glue:text}`theory_conv_largest_p` the Monte Carlo mean is within
# {glue:text}`theory_conv_max_rel_err_largest_p:.3f` (relative) of Eq. (13) for every $\kappa$;
# the remaining gap is the finite-sample factor $p/(n-p-1)$ vs. $1/(\kappa-1)$, which the exact
# finite-sample mean accounts for (largest deviation {glue:text}`theory_conv_max_z_exact:.1f`
# Monte Carlo standard errors over all rows). The spread across training sets shrinks like
# $1/\sqrt p$, so a single large-$p$ run already sits on the curve: that is the sense of the
# paper's "asymptotically".

# %% [markdown]
# ## 2. $R(\lambda) - R_0$ for teachers that satisfy and violate CCH
#
# Per-coordinate model with $\sigma_{13}$ = `curve_s13`, $\sigma_{23}$ = `curve_s23` and three values
# of $\sigma_{12}$. With the Bayes teacher, CCH reads $|\sigma_{12}| > \sigma_{23}$ here, and
# Eq. (17) reads $\sigma_{13}^2 - \sigma_{12}\sigma_{13}\sigma_{23} < 1 - \sigma_{23}^2$.

# %%
curve_rows = chapter.sweep(
    mc.run_curve, [{"sigma12": float(s12)} for s12 in curve_s12s], seeds,
    mc.CurveSettings.from_parameters(globals(), prefix="curve_", sigma13=curve_s13, sigma23=curve_s23),
    label="theory 2: R(lambda) - R0",
)
curves = mc.pool_seeds(curve_rows, ["sigma12", "lambda"], ["change"]).rename(
    columns={"change_mean": "MC: R - R0", "change_se": "MC SE"})
teachers = curves.drop_duplicates("sigma12")[["sigma12", *mc.TEACHER_COLUMNS, "slope"]].reset_index(drop=True)
curves = curves[["sigma12", "lambda", "Eq. (13): R - R0", "finite-sample: R - R0", "MC: R - R0", "MC SE"]]
show(teachers.round(4), "curve_teachers")

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for s12, d in curves.groupby("sigma12"):
    row = teachers.set_index("sigma12").loc[s12]
    label = f"σ12={s12:g} (CCH {'holds' if row.cch else 'fails'}, Eq. 17 {'holds' if row.exact else 'fails'})"
    for ax, cut in zip(axes, [np.inf, 0.2]):
        dd = d[d["lambda"] <= cut]
        (line,) = ax.plot(dd["lambda"], dd["Eq. (13): R - R0"], "-", label=label)
        ax.errorbar(dd["lambda"], dd["MC: R - R0"], yerr=2 * dd["MC SE"], fmt="o", ms=4, color=line.get_color())
for ax, title in zip(axes, ["(a) all λ", "(b) zoom on small λ"]):
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="distillation weight λ", ylabel="R(λ) − R0 (squared units of y)", title=title)
axes[0].legend(fontsize=9)
plt.tight_layout()
chapter.glue(fig_curves=fig)

# %% [markdown]
# ```{glue:figure} theory_fig_curves
# :name: "fig-theory-curves"
#
# The change of excess risk $R(\lambda) - R_0$ (squared units of $y$; below 0: distillation
# helps) against the distillation weight $\lambda$ for three teachers, Eq. (13) (lines) and
# Monte Carlo (dots, ±2 SE); the legend says for each teacher whether CCH and Eq. (17) hold.
# (b) zooms on small $\lambda$, where Theorem 1 speaks: compare the sign of each curve's
# initial slope with the legend.
# ```

# %% [markdown]
# The three teachers of {numref}`fig-theory-curves` show the three cases: KD hurts and CCH says so; KD helps at small
# $\lambda$ although CCH fails (CCH too strict); KD helps and CCH says so. Away from
# $\lambda \to 0$ the teacher's bias term $\lambda^2 B/(1+\lambda)^2$ takes over, so a
# teacher that helps at small $\lambda$ can hurt at $\lambda \approx 1$: Theorem 1 and CCH
# speak only about the small-$\lambda$ slope.

# %% [markdown]
# ## 3. The Sec. 4.1 line at the paper's $n$ and $p$
#
# $\sigma_{13}$ = `sec41_s13`, $\sigma_{23}$ = `sec41_s23` and $\sigma_{12}$ varied, as in Fig. 1,
# with $n$ = `sec41_n` and $p$ = `sec41_p`. These rows are this chapter's scorecard rows: the
# MI gap is the analytic $I(w_1^\top x_1; w^{*\top}x_2) - I(w^{*\top}x_2; y)$ with the Bayes teacher,
# and the KD gain $R_0 - R(\lambda)$ is the Monte Carlo mean over `sec41_reps` training sets per seed.

# %%
sec41_rows = chapter.sweep(
    mc.run_sec41, [{"model": model, "sigma12": float(s12)} for model in T.POPULATIONS for s12 in sec41_s12s], seeds,
    mc.Sec41Settings.from_parameters(globals(), prefix="sec41_", sigma13=sec41_s13, sigma23=sec41_s23),
    label="theory 3: Sec. 4.1 line",
)
sec41 = mc.pool_seeds(sec41_rows, ["model", "sigma12", "lambda"], ["R0", "kd_gain"]).rename(
    columns={"R0_mean": "R0 (MC)", "kd_gain_mean": "kd_gain"})
sec41["MC verdict"] = T.mc_verdict(sec41["kd_gain"], sec41["kd_gain_se"])
sec41 = sec41[["model", "sigma12", "lambda", *mc.TEACHER_COLUMNS[:4], "exact (Eq. 17)", "R0 (MC)", "kd_gain",
               "kd_gain_se", "kd_gain (finite-sample E)", "MC verdict"]]
show(sec41, "sec41_line")

# %% tags=["hide-input"]
conditions = pd.DataFrame(
    {
        "condition": [
            f"model={r.model},s12={r.sigma12:g},s13={sec41_s13:g},s23={sec41_s23:g},lam={r['lambda']:g},n={sec41_n},p={sec41_p}"
            for _, r in sec41.iterrows()
        ],
        "mi_gap": sec41["mi_gap"],
        "mi_gap_se": 0.0,
        "kd_gain": sec41["kd_gain"],
        "kd_gain_se": sec41["kd_gain_se"],
        "n_seeds": sec41_reps * len(seeds),  # Monte Carlo training sets behind each gain
        # the gap is exact (Eq. 17), not estimated: no estimator, so its null is exactly 0
        "mi_gap_null": 0.0,
        "mi_gap_null_se": 0.0,
        # Theorem 1 speaks of small lambda; lambda = 1 (pure distillation) is shown, not pooled
        "pooled": sec41["lambda"] < 1,
        "pool_note": np.where(sec41["lambda"] < 1, "", "lambda = 1: outside Theorem 1's small-lambda scope"),
    }
)
score = chapter.scorecard(conditions, data=DATA)
display(score)
chapter.glue(scorecard_agree_share=float(score["agrees"].mean()), scorecard_rows=int(len(score)))

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
for col, (model, d) in enumerate(sec41.groupby("model", sort=False)):
    first = d[d["lambda"] == sec41_lams[0]]
    axes[0, col].plot(first["sigma12"], first["I_teacher_student"], "o-", label="I(w1'x1; w*'x2)")
    axes[0, col].plot(first["sigma12"], first["I_student_label"], "s--", label="I(w*'x2; y)")
    axes[0, col].set(ylabel="MI (nats)", title=f"({'ab'[col]}) {model}: the two MIs")
    axes[0, col].legend()
    for lam, dl in d.groupby("lambda"):
        rel = dl["kd_gain"] / dl["R0 (MC)"]
        axes[1, col].errorbar(dl["sigma12"], rel, yerr=2 * dl["kd_gain_se"] / dl["R0 (MC)"], fmt="o-", ms=4, label=f"lambda={lam:g}")
    axes[1, col].axhline(0, color="grey", lw=0.8)
    axes[1, col].set(xlabel="σ12 (correlation of x1 and x2)", ylabel="KD gain (R0 − R) / R0\n(share of R0)",
                     title=f"({'cd'[col]}) {model}: KD gain, n={sec41_n}, p={sec41_p}")
    axes[1, col].legend(fontsize=9)
plt.tight_layout()
chapter.glue(fig_sec41=fig)

# %% [markdown]
# ```{glue:figure} theory_fig_sec41
# :name: "fig-theory-sec41"
#
# The Sec. 4.1 line for the two populations (columns). Top, (a, b): the two mutual
# informations CCH compares (nats) against $\sigma_{12}$; CCH predicts a gain where the solid
# curve lies above the dashed one. Bottom, (c, d): the Monte Carlo KD gain $(R_0 - R)/R_0$ as
# a share of the baseline risk (±2 SE), one curve per $\lambda$. Look at whether the gain
# turns positive at the $\sigma_{12}$ where the two MI curves cross.
# ```

# %% [markdown]
# Where the two switch on the appB line of {numref}`fig-theory-sec41`, as $p$ grows (Bayes teacher; the $\sigma_{12}$ at which
# Eq. 17 and CCH change sign):

# %%
brows = []
for model in T.POPULATIONS:
    for p in boundary_ps:
        brows.append(
            {
                "model": model,
                "p": p,
                "sigma12 where Eq. (17) switches": T.s12_boundary(model, sec41_s13, sec41_s23, p, "exact"),
                "sigma12 where CCH switches": T.s12_boundary(model, sec41_s13, sec41_s23, p, "cch"),
            }
        )
boundaries = pd.DataFrame(brows)
show(boundaries.round(4), "sec41_boundaries")
b_appb = boundaries[(boundaries["model"] == "appB") & (boundaries["p"] == max(boundary_ps))].iloc[0]
chapter.glue(appb_exact_boundary=float(b_appb["sigma12 where Eq. (17) switches"]),
             appb_cch_boundary=float(b_appb["sigma12 where CCH switches"]), boundary_p=int(max(boundary_ps)))

# %% [markdown]
# In the appB model at $p$ = {glue:text}`theory_boundary_p`, the Bayes teacher helps at small
# $\lambda$ from $\sigma_{12} \approx$ {glue:text}`theory_appb_exact_boundary:.3f` on, and CCH
# switches at $\sigma_{12} \approx$ {glue:text}`theory_appb_cch_boundary:.3f`. The paper's Fig. 1
# suggests the two coincide; the distance between these two values is the band in which CCH
# is too strict (when CCH switches later) or predicts a gain Eq. (17) denies (when it
# switches earlier). In the per-coordinate model CCH switches at $\sigma_{12} = \sigma_{23}$ (for the Bayes
# teacher $\rho_{12} = \sigma_{12}$ and $\rho_{2y} = \sigma_{23}$ there), and the table shows where,
# if anywhere ("NaN": nowhere on the line), Eq. (17) switches.
# Over these rows the sign of the simulated KD gain agrees with CCH's prediction in
# {glue:text}`theory_scorecard_agree_share:.2f` of the {glue:text}`theory_scorecard_rows` scorecard rows.

# %% [markdown]
# ## 4. Maps: how good a criterion is CCH?
#
# For every valid $(\sigma_{12}, \sigma_{13}, \sigma_{23})$ on a grid of step `map_step`
# ($\sigma_{13}, \sigma_{23} > 0$ without loss of generality: flipping the sign of $x_1$ or $x_2$
# flips the signs of two correlations and changes nothing else), with the Bayes teacher,
# $p$ = `map_p` and $n = \kappa p$, we record CCH, the exact condition Eq. (17), and the
# Monte Carlo verdict at a small $\lambda$ (`map_small_lam`) and at $\lambda$ = `map_large_lam`:
# "helps" or "hurts" when the mean gain is more than 2 standard errors from zero (common random
# numbers for $R_0$ and $R(\lambda)$), otherwise "inconclusive".

# %%
def with_verdicts(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Pool the seeds of each case; its gains and SEs, and the MC verdicts, at the small and large lambda."""
    table = mc.pool_seeds(rows, by, ["gain_small", "gain_large"])
    for tag in ("small", "large"):
        table = table.rename(columns={f"gain_{tag}_mean": f"gain_{tag}", f"gain_{tag}_se": f"gain_se_{tag}"})
        table[f"verdict_{tag}"] = T.mc_verdict(table[f"gain_{tag}"], table[f"gain_se_{tag}"])
    gains = [f"{c}_{tag}" for tag in ("small", "large") for c in ("gain", "gain_se", "verdict")]
    return table[[c for c in table.columns if c not in gains and c != "reps" and not c.endswith("_sd")] + gains]


vals_pos = np.round(np.arange(map_step, 1.0 - 1e-9, map_step), 6)
n_map = int(round(map_kappa * map_p))
grid_rows = chapter.sweep(mc.run_map_point, mc.map_conditions(map_step, map_p), seeds,
                          mc.MapSettings.from_parameters(globals(), prefix="map_"), label="theory 4: map")
grid_map = with_verdicts(grid_rows, ["population", "sigma12", "sigma13", "sigma23"])
_ = chapter.table(grid_map, "map_grid")
print(f"{len(grid_map)} valid grid points ({map_p=}, n={n_map}, {map_reps} training sets each)")

# %% [markdown]
# Random covariances: `random_count` cases per seed, each drawn from its own random stream:
# a random correlation matrix of $(x_1, x_2, y)$ from a factor model with
# one to three latent factors ($p$ = `random_p`), and a teacher of one of three kinds: the Bayes teacher,
# a perturbation of it, and an almost random direction, each rescaled so that
# $w_1^\top\Sigma_{11}w_1 = s^2\,\Sigma_{33}$ with $s$ uniform up to `random_max_scale`. So
# Theorem 1's scale assumption holds for $s \le 1$ and fails above; the sign assumption fails for
# some of the random directions.

# %%
random_rows = chapter.sweep(
    mc.run_random_case, [{"case": i} for i in range(random_count)], seeds,
    mc.RandomSettings.from_parameters(globals(), prefix="random_", small_lam=map_small_lam, large_lam=map_large_lam),
    label="theory 4: random covariances",
)
rand_map = with_verdicts(random_rows, ["seed", "case"])  # each seed draws its own cases
_ = chapter.table(rand_map, "map_random")

# %%
srows = []
for pop, d in pd.concat([grid_map, rand_map], ignore_index=True).groupby("population", sort=False):
    for tag, lam in (("small", map_small_lam), ("large", map_large_lam)):
        # Eq. (17) is a small-lambda statement, so it is compared with the small-lambda verdict only
        exact = d["exact"] if tag == "small" else None
        s = T.cch_summary(d["cch"], d[f"verdict_{tag}"], exact=exact, assumptions=d["assumptions"])
        srows.append({"population": pop, "lambda": lam, **s})
summary = pd.DataFrame(srows)
share_cols = [c for c in summary.columns if c.startswith(("share", "cch_"))]
show(summary.round({c: 3 for c in share_cols}), "cch_summary")

# %% tags=["remove-cell"]
chapter.glue(**mc.map_facts(summary, map_small_lam, map_large_lam))
maps = pd.concat([grid_map, rand_map], ignore_index=True)
chapter.glue(finding=Markdown(mc.map_finding(maps, conv["|MC - E[R]| / SE"].max(), params_name)))

# %% tags=["hide-input"]
def category(row, tag="small"):
    v = row[f"verdict_{tag}"]
    if v == "inconclusive":
        return "inconclusive"
    if row["cch"]:
        return "CCH holds, KD helps" if v == "helps" else "CCH holds, KD hurts (counterexample)"
    return "CCH fails, KD helps (too strict)" if v == "helps" else "CCH fails, KD hurts"


colors = {
    "CCH holds, KD helps": "tab:green",
    "CCH fails, KD helps (too strict)": "tab:orange",
    "CCH fails, KD hurts": "tab:blue",
    "CCH holds, KD hurts (counterexample)": "tab:red",
    "inconclusive": "lightgrey",
}
grid_map["category_small"] = grid_map.apply(category, axis=1)
slices = sorted({vals_pos[np.argmin(np.abs(vals_pos - t))] for t in (0.3, 0.6, 0.9)})
fig, axes = plt.subplots(2, len(slices), figsize=(3.7 * len(slices), 8), squeeze=False, sharex=True, sharey=True)
for r, model in enumerate(T.POPULATIONS):
    for c, s13 in enumerate(slices):
        ax = axes[r, c]
        d = grid_map[(grid_map["population"] == model) & np.isclose(grid_map["sigma13"], s13)]
        for cat, color in colors.items():
            dd = d[d["category_small"] == cat]
            ax.scatter(dd["sigma12"], dd["sigma23"], c=color, s=36, marker="s", label=cat if (r, c) == (0, 0) else None)
        ax.set(title=f"{model}, σ13={s13:g}", xlabel="σ12", ylabel="σ23")
fig.legend(loc="lower center", ncol=2)
fig.suptitle(f"Bayes teacher, MC verdict at lambda={map_small_lam:g} (p={map_p}, n={n_map})")
plt.tight_layout(rect=(0, 0.1, 1, 0.97))
chapter.glue(fig_maps=fig)

# %% [markdown]
# ```{glue:figure} theory_fig_maps
# :name: "fig-theory-maps"
#
# Where CCH and the Monte Carlo verdict agree, over the grid of correlations
# ($\sigma_{12}$ horizontal, $\sigma_{23}$ vertical, both dimensionless), one panel per
# population (rows) and slice of $\sigma_{13}$ (columns). Green and blue: CCH was right;
# orange: distillation helped although CCH failed (CCH too strict); red: CCH held but
# distillation hurt (a counterexample to sufficiency); grey: the simulation could not tell.
# Look for red squares, and for where orange fills the map.
# ```

# %%
ce = rand_map[rand_map["cch"] & ~rand_map["exact"]]
cols = ["teacher", "teacher scale s", "I_teacher_student", "I_student_label", "eq17_lhs", "eq17_rhs",
        "teacher_var", "w1_S13", "assume_scale", "assume_sign", "gain_small", "gain_se_small", "verdict_small"]
show(ce[cols].round(5), "cch_without_eq17")

# %% [markdown]
# **What the maps of {numref}`fig-theory-maps` say** (Monte Carlo at small $\lambda$, {glue:text}`theory_cases_small` cases in all):
#
# * How close is CCH to sufficient? The share P(KD helps | CCH holds) is at least
#   {glue:text}`theory_cch_sufficient_share:.2f` in every population (the other cases are
#   inconclusive or counterexamples). Counterexamples (CCH holds, KD significantly hurts):
#   {glue:text}`theory_counterexamples_small`; of those, {glue:text}`theory_counterexamples_small_assump`
#   met Theorem 1's assumptions.
#   Cases where CCH holds but the exact condition Eq. (17) fails: {glue:text}`theory_cch_not_exact`,
#   all listed in the table above with their assumption flags. The argument in the notes
#   says these can only occur when the teacher's output variance exceeds $\Sigma_{33}$.
# * How often is CCH too strict? Among cases where KD helps, CCH fails in
#   {glue:text}`theory_cch_too_strict_appb:.2f` (appB grid),
#   {glue:text}`theory_cch_too_strict_percoord:.2f` (per-coordinate grid) and
#   {glue:text}`theory_cch_too_strict_random:.2f` (random covariances). In the per-coordinate grid
#   the Bayes teacher satisfies Eq. (17) at {glue:text}`theory_share_exact_percoord:.2f` of the points.
#   The reason is visible in the slope $2(c - \sigma^2)/(\kappa-1)$: distilling rescales the label
#   noise by $(1+\lambda)^{-2}$, so even an uninformative teacher ($w_1 = 0$, $c = 0$) helps at
#   small $\lambda$, by shrinkage. CCH, which compares information, does not see this.
# * The exact condition and the simulation disagree in {glue:text}`theory_exact_vs_mc_disagree_small`
#   resolved cases at small $\lambda$ (Eq. 17 is exact for the finite-sample mean, too).
# * At $\lambda$ = `map_large_lam` the teacher's bias matters: CCH-holding teachers can hurt
#   ({glue:text}`theory_counterexamples_large` cases; P(helps | CCH) down to
#   {glue:text}`theory_cch_sufficient_large_min:.2f`). This is outside Theorem 1, which is about small $\lambda$.

# %% [markdown]
# ## 5. The optimal surrogate teacher (Eq. 14, Eq. 15)
#
# For each $\lambda$, Eq. (13) is a convex quadratic in $w_1$; its minimiser Eq. (14) is the best
# teacher *for this student*, which need not be the Bayes teacher. Per-coordinate model,
# $(\sigma_{12}, \sigma_{13}, \sigma_{23})$ = `sur_sigmas`, $p$ = `sur_p`, $\kappa$ = `sur_kappa`.

# %%
sur_rows = chapter.sweep(
    mc.run_surrogate, [{"lambda": float(lam)} for lam in sur_lams], seeds,
    mc.ModelSettings.from_parameters(globals(), prefix="sur_"), label="theory 5: Eq. (14) teacher",
)
sur = mc.pool_seeds(sur_rows, ["lambda"], ["R"]).rename(columns={"R_mean": "R, Eq. (14) teacher (MC)", "R_se": "MC SE"})
sur = sur[["lambda", "R0", "R, zero teacher", "R, Bayes teacher", "R, Eq. (14) teacher", "R, Eq. (14) teacher (MC)",
           "MC SE", "corr(Eq. 14 teacher, Bayes teacher)", "norm ratio |Eq. 14| / |Bayes|"]]
R0_an = float(sur["R0"].iloc[0])  # R0 does not depend on lambda
show(sur.round(5), "optimal_surrogate")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.5, 4.5))
for col, style in [("R, zero teacher", ":"), ("R, Bayes teacher", "--"), ("R, Eq. (14) teacher", "-")]:
    ax.plot(sur["lambda"], sur[col], style, label=col.replace("R, ", "Eq. (13), "))
ax.errorbar(sur["lambda"], sur["R, Eq. (14) teacher (MC)"], yerr=2 * sur["MC SE"], fmt="o", ms=4, label="Eq. (14) teacher, MC (2 SE)")
ax.axhline(R0_an, color="grey", lw=0.8, label="R0 (no teacher)")
ax.set(xscale="log", xlabel="distillation weight λ (log scale)", ylabel="excess risk (squared units of y)",
       title=f"κ={sur_kappa:g}, p={sur_p}")
ax.legend(fontsize=9)
plt.tight_layout()
chapter.glue(fig_surrogate=fig)

# %% [markdown]
# ```{glue:figure} theory_fig_surrogate
# :name: "fig-theory-surrogate"
#
# Excess risk (squared units of $y$) against the distillation weight $\lambda$ for three
# teachers, Eq. (13) (lines): none (zero teacher), the Bayes teacher, and Eq. (14)'s optimal
# surrogate teacher, with its Monte Carlo check (dots, ±2 SE); the grey line is the risk
# without a teacher. Look at where the Eq. (14) teacher's curve lies below the Bayes
# teacher's, that is, where a teacher built for the student beats the best predictor of $y$.
# ```

# %%
s12c, s13c, s23c = sur_ci_sigmas
Bc = T.per_coordinate_blocks(s12c, s13c, s23c, sur_p)
w15 = T.optimal_surrogate_teacher_ci(*Bc, kappa=sur_kappa)
w_bayes_c = T.bayes_teacher_weight(Bc.S11, Bc.S13)
ci_rows = [
    {
        "lambda": lam,
        "max |Eq. 14 - Eq. 15|": float(np.abs(T.optimal_surrogate_teacher(lam, *Bc, kappa=sur_kappa) - w15).max()),
        "R, Eq. (15) teacher": T.asymptotic_excess_risk(lam, w15, *Bc, kappa=sur_kappa),
        "R, Bayes teacher": T.asymptotic_excess_risk(lam, w_bayes_c, *Bc, kappa=sur_kappa),
        "R0": T.asymptotic_excess_risk(0.0, w15, *Bc, kappa=sur_kappa),
    }
    for lam in sur_lams
]
sur_ci = pd.DataFrame(ci_rows)
show(sur_ci, "optimal_surrogate_ci")
chapter.glue(eq15_max_diff=float(sur_ci["max |Eq. 14 - Eq. 15|"].max()),
             sur_best_gain=float(1 - sur["R, Eq. (14) teacher"].min() / R0_an),
             bayes_best_gain=float(1 - sur["R, Bayes teacher"].min() / R0_an))
first, last = sur.iloc[0], sur.iloc[-1]
chapter.glue(sur_cos_first=float(first["corr(Eq. 14 teacher, Bayes teacher)"]), sur_lam_first=float(first["lambda"]),
             sur_cos_last=float(last["corr(Eq. 14 teacher, Bayes teacher)"]), sur_lam_last=float(last["lambda"]),
             zero_best_gain=float(1 - sur["R, zero teacher"].min() / R0_an),
             zero_beats_bayes_share=float((sur["R, zero teacher"] < sur["R, Bayes teacher"]).mean()))

# %% [markdown]
# By construction the Eq. (14) teacher of {numref}`fig-theory-surrogate` is at least as good as the Bayes teacher at every
# $\lambda$ under Eq. (13) (the table checks this against the Monte Carlo); at its best $\lambda$ on this grid it lowers the excess risk by a fraction
# {glue:text}`theory_sur_best_gain:.2f` of $R_0$, against {glue:text}`theory_bayes_best_gain:.2f`
# for the Bayes teacher and {glue:text}`theory_zero_best_gain:.2f` for the zero teacher (pure
# label shrinkage); the zero teacher is better than the Bayes teacher at
# {glue:text}`theory_zero_beats_bayes_share:.2f` of these $\lambda$ values. The Eq. (14) teacher is
# not the Bayes teacher: its cosine similarity with the Bayes teacher is
# {glue:text}`theory_sur_cos_first:.2f` at $\lambda$ = {glue:text}`theory_sur_lam_first:.2f` and
# {glue:text}`theory_sur_cos_last:.2f` at $\lambda$ = {glue:text}`theory_sur_lam_last:.2f`. For small
# $\lambda$, Eq. (14) gives $\lambda w_1 \to -M^{-1}(\Sigma_{13} - \Sigma_{12}w^*)/(\kappa-1)$: the
# best teacher *subtracts* its prediction of the student's irreducible residual from the label,
# a denoising rather than a transfer of knowledge. Mutual information cannot tell $w_1$ from
# $-w_1$, so CCH is blind to this sign, while Eq. (17) is not. When $x_1$ and $y$ are independent given $x_2$ (`sur_ci_sigmas`, where the Bayes teacher
# brings no new information), Eq. (14) no longer depends on $\lambda$ and equals Eq. (15) (largest
# difference {glue:text}`theory_eq15_max_diff:.1e`).

# %% [markdown]
# ## 6. Theorem 3: over-parameterised students ($\kappa < 1$)
#
# For $n < p$ the student is the minimum-norm interpolator of the effective label (Eq. 23).
# The paper's asymptotic formula (Eqs. 25-30) needs a fixed-point solve; for the isotropic
# $\Sigma_{22}$ of the per-coordinate model the finite-sample mean has a closed form
# (projection onto the row space has mean $(n/p)I$, and
# $\mathbb E\,\mathrm{tr}(X_2X_2^\top)^{-1} = n/(p-n-1)$), which we check by simulation and
# minimise over $w_1$, as Theorem 3 asks.

# %%
# fixed teachers: one simulation serves every lambda (common random numbers); the best
# teacher depends on lambda, one condition each (at lambda = 0 the teacher plays no role)
n_ovr = int(round(ovr_kappa * ovr_p))
ovr_rows = chapter.sweep(
    mc.run_min_norm, mc.min_norm_conditions(ovr_lams), seeds,
    mc.ModelSettings.from_parameters(globals(), prefix="ovr_"), label="theory 6: Theorem 3",
)
ovr = mc.pool_seeds(ovr_rows, ["teacher", "lambda"], ["R"]).rename(columns={"R_mean": "MC mean R", "R_se": "MC SE"})
ovr = ovr[["teacher", "lambda", "closed form E[R]", "MC mean R", "MC SE"]]
ovr["|MC - E[R]| / SE"] = (ovr["MC mean R"] - ovr["closed form E[R]"]).abs() / ovr["MC SE"]
show(ovr.round(5), "theorem3_min_norm")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.5, 4.5))
for name, d in ovr.groupby("teacher", sort=False):
    (line,) = ax.plot(d["lambda"], d["closed form E[R]"], "-", label=f"{name} (closed form)")
    ax.errorbar(d["lambda"], d["MC mean R"], yerr=2 * d["MC SE"], fmt="o", ms=4, color=line.get_color())
ax.set(xlabel="distillation weight λ", ylabel="excess risk (squared units of y)",
       title=f"minimum-norm student, κ={ovr_kappa:g} (p={ovr_p}, n={n_ovr})")
ax.legend(fontsize=9)
plt.tight_layout()
chapter.glue(fig_min_norm=fig)

# %% [markdown]
# ```{glue:figure} theory_fig_min_norm
# :name: "fig-theory-min-norm"
#
# Theorem 3's over-parameterised case ($\kappa < 1$, minimum-norm student): excess risk in
# squared units of $y$ against $\lambda$, closed form (lines) and Monte Carlo (dots, ±2 SE),
# for the zero teacher, the Bayes teacher and the best teacher at each $\lambda$. Look at
# whether the dots sit on the lines (the closed form is right) and where the best teacher's
# curve lies below the zero teacher's.
# ```

# %%
pos = ovr[ovr["lambda"] > 0]
zero = pos[pos["teacher"] == "zero teacher"].set_index("lambda")["MC mean R"]
best = pos[pos["teacher"] == "best teacher for this lambda"].set_index("lambda")
best_se = best["MC SE"]
beats = ((zero - best["MC mean R"]) > 2 * np.sqrt(best_se**2 + pos[pos["teacher"] == "zero teacher"].set_index("lambda")["MC SE"] ** 2))
chapter.glue(thm3_beats_share=float(beats.mean()), thm3_max_z=float(ovr["|MC - E[R]| / SE"].max()))

# %% [markdown]
# In {numref}`fig-theory-min-norm`, the closed form's largest deviation from the simulation is {glue:text}`theory_thm3_max_z:.1f`
# standard errors (over many rows, a few deviations beyond 2 are expected by chance). Theorem 3
# states that the best teacher beats the zero teacher $R(\lambda, 0)$ at every positive
# $\lambda$; in the simulation it does so by more than two standard errors at a share
# {glue:text}`theory_thm3_beats_share:.2f` of the positive $\lambda$ values. Note that $R(\lambda, 0)$ itself is below $R_0$ here: scaling the
# labels down by $1/(1+\lambda)$ is a shrinkage that helps the noisy interpolator.

# %% tags=["remove-cell"]
chapter.glue_run_time()

# %% [markdown]
# This chapter ran in {glue:text}`theory_total_seconds:.0f` s, of which
# {glue:text}`theory_sweep_seconds:.0f` s in its sweeps (cells read back from the cache or
# the result store cost no computing time).
