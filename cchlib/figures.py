"""The book's figure style: type that stays legible when a figure is shrunk to the page.

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
