"""The book's figure style, and the figure of a teacher selection (:func:`plot_selection`).

The style keeps type legible when a figure is shrunk to the page.

The rendered book shows a figure at the page width (about 700 px), so a two-panel figure
of 11 inches (1100 px at 100 dpi) is shown at about two thirds of its size. Matplotlib's
10-point default then reads like 6-point type. Every chapter applies this style once,
after its imports::

    plt.style.use(BOOK_STYLE)

Size figures to 10-11 inches for two panels and 6.5-7 inches for one; put what a title
would explain into the figure's caption (a ``{glue:figure}`` block) rather than into long
titles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BOOK_STYLE: dict[str, object] = {
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "figure.titlesize": 13,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
}


def plot_selection(ranking: pd.DataFrame, task: str = "classification", title: str = ""):
    """Figure of a selection: (a) MI gap, 95% interval and verdict per pair; (b) KD gain against gap.

    In (a) each pair's gap is drawn with its 95% t-interval over seeds, coloured by its
    verdict (undecided rows included), and its null gap (the estimator on permuted
    pairs) as a hollow marker. Panel (b) needs a KD check; the quadrants where the gain
    has the sign CCH predicts are shaded. Without a KD check, (b) shows I(H_T;H_S)
    against I(H_S;Y) instead (points above the diagonal have a positive gap).
    Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    labels = [f"{t} → {s}" for t, s in zip(ranking.teacher, ranking.student)]
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 0.35 * len(ranking) + 2.5))
    pos = np.arange(len(ranking))[::-1]
    gap_err = _half_widths(ranking.mi_gap, ranking.mi_gap_low, ranking.mi_gap_high)
    ax_a.errorbar(ranking.mi_gap, pos, xerr=gap_err, fmt="none", ecolor="black", capsize=3)
    for state, colour in VERDICT_COLOURS.items():
        rows = (ranking.verdict == state).to_numpy()
        ax_a.scatter(ranking.mi_gap[rows], pos[rows], c=colour, zorder=3, label=state)
    if "mi_gap_null" in ranking:
        ax_a.scatter(ranking.mi_gap_null, pos, facecolors="none", edgecolors="tab:red", zorder=3,
                     label="null gap (permuted pairs)")
    ax_a.axvline(0, color="black", lw=0.8)
    ax_a.legend(loc="best", fontsize=9)
    ax_a.set(yticks=pos, yticklabels=labels, xlabel="MI gap I(H_T;H_S) − I(H_S;Y) (nats), 95% CI over seeds",
             title="(a) CCH verdict per teacher → student")
    if "kd_gain" in ranking:
        unit = "test accuracy, fraction" if task == "classification" else "test MSE reduction"
        ax_b.errorbar(ranking.mi_gap, ranking.kd_gain, xerr=gap_err,
                      yerr=_half_widths(ranking.kd_gain, ranking.kd_gain_low, ranking.kd_gain_high),
                      fmt="o", capsize=3)
        x_lim, y_lim = ax_b.get_xlim(), ax_b.get_ylim()
        ax_b.fill_between([0, x_lim[1]], 0, y_lim[1], color="tab:green", alpha=0.1, label="sign agrees with CCH")
        ax_b.fill_between([x_lim[0], 0], y_lim[0], 0, color="tab:green", alpha=0.1)
        ax_b.axhline(0, color="black", lw=0.8)
        ax_b.axvline(0, color="black", lw=0.8)
        for x, y, text in zip(ranking.mi_gap, ranking.kd_gain, labels):
            ax_b.annotate(text, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
        ax_b.set(xlim=x_lim, ylim=y_lim, xlabel="MI gap (nats)", ylabel=f"KD gain, distilled − baseline\n({unit})",
                 title="(b) measured KD gain against the MI gap")
    else:
        ax_b.errorbar(ranking.mi_sl, ranking.mi_ts, xerr=ranking.mi_sl_se, yerr=ranking.mi_ts_se, fmt="o", capsize=3)
        top = float(max(ranking.mi_sl.max(), ranking.mi_ts.max())) * 1.1
        ax_b.plot([0, top], [0, top], color="black", lw=0.8, label="gap = 0")
        ax_b.set(xlabel="I(H_S;Y) (nats)", ylabel="I(H_T;H_S) (nats)", title="(b) the two terms of the gap")
    ax_b.legend(loc="best", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


VERDICT_COLOURS = {"distil": "tab:green", "do not distil": "tab:blue", "undecided": "tab:grey"}


def _half_widths(mean, low, high) -> np.ndarray:
    """(2, n) error-bar lengths of intervals; 0 where an interval is undefined (too few seeds)."""
    return np.nan_to_num(np.abs(np.vstack([np.asarray(mean) - low, np.asarray(high) - mean])))


def distillation_and_mi(summary: pd.DataFrame, x: str, xlabel: str, score: str, score_label: str, titles: tuple,
                        mi_labels: tuple = (r"$I(H_T;H_S)$", r"$I(H_S;Y)$"), teacher: tuple | None = None):
    """The paper's two-panel figure of one sweep (its Fig. 1 and Fig. 2) against the swept axis ``x``.

    (a) The student's ``score`` with (``<score>_kd``) and without (``<score>_nokd``)
    distillation, and optionally a teacher's score, ``teacher = (column, label)``;
    (b) the two mutual informations CCH compares, ``mi_ts`` and ``mi_sl`` in nats.
    ``summary`` holds means over seeds and their SEs (``<column>_se``); bars are one
    SE. ``titles`` are the two panels'. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(11, 4))
    s = summary

    def curve(ax, column, **style):
        ax.errorbar(s[x], s[column], s[f"{column}_se"], **style)

    curve(ax_a, f"{score}_kd", marker="o", label="student with KD")
    curve(ax_a, f"{score}_nokd", marker="s", ls="--", label="student without KD")
    if teacher is not None:
        curve(ax_a, teacher[0], marker="^", ls=":", color="grey", label=teacher[1])
    ax_a.set(xlabel=xlabel, ylabel=score_label, title=titles[0])
    ax_a.legend()
    curve(ax_b, "mi_ts", marker="o", color="tab:red", label=mi_labels[0])
    curve(ax_b, "mi_sl", marker="s", color="tab:purple", label=mi_labels[1])
    ax_b.set(xlabel=xlabel, ylabel="mutual information (nats)", title=titles[1])
    ax_b.legend()
    fig.tight_layout()
    return fig
