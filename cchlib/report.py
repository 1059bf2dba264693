"""Tables, the provenance table and the reproduction scorecard.

Every table a chapter shows is written as a CSV under
``<results_root>/<params_name>/<chapter>/`` by :func:`write_table`, atomically, so a
reader can always trace a number in the book back to a file. Each chapter also writes
its scorecard rows (one per condition: the MI gap beside the measured KD gain) with
:func:`write_scorecard_rows`, whose verdicts (agrees / disagrees / unresolved) come from
:func:`cchlib.stats.verdicts`; the scorecard page gathers them with
:func:`collect_scorecard` and tests CCH across conditions with :func:`scorecard_summary`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cchlib import stats
from cchlib.io import atomic_write_text, results_dir

SCORECARD_COLUMNS = [
    "chapter",
    "condition",
    "n_seeds",
    "mi_gap",
    "mi_gap_se",
    "mi_gap_low",
    "mi_gap_high",
    "mi_gap_null",
    "mi_gap_null_se",
    "mi_gap_excess_p",
    "independent_data",
    "mi_gap_corrected",
    "mi_gap_corrected_se",
    "mi_gap_corrected_low",
    "mi_gap_corrected_high",
    "bias_check",
    "mi_gap_p",
    "kd_gain",
    "kd_gain_se",
    "kd_gain_low",
    "kd_gain_high",
    "kd_gain_p",
    "cch_predicts_gain",
    "kd_helped",
    "agrees",
    "verdict",
    "note",
    "pooled",
    "pool_note",
    "data",
]
SCORECARD_NEEDS = {"condition", "mi_gap", "mi_gap_se", "kd_gain", "kd_gain_se", "n_seeds"}


def write_table(
    df: pd.DataFrame, results_root: str | Path, params_name: str, chapter: str, name: str
) -> Path:
    """Write one table of a chapter as ``<name>.csv`` and return its path."""
    path = results_dir(results_root, params_name, chapter) / f"{name}.csv"
    return atomic_write_text(path, df.to_csv(index=False))


def scorecard_rows(
    chapter: str,
    conditions: pd.DataFrame,
    data: str | None = None,
) -> pd.DataFrame:
    """Turn per-condition summaries over seeds into scorecard rows with verdicts.

    ``conditions`` needs ``condition, mi_gap, mi_gap_se, kd_gain, kd_gain_se, n_seeds``:
    means and standard errors over ``n_seeds`` seeds, ``mi_gap = I(H_T;H_S) - I(H_S;Y)``
    in nats, ``kd_gain`` signed so that a positive value means distillation helped the
    student (lower MSE, higher accuracy), paired per seed. For a gap to be resolved it
    also needs the estimator's null (:func:`cchlib.stats.null_mis`): ``mi_gap_null,
    mi_gap_null_se``, mean and SE of the per-seed null gaps; an exact (analytic) gap has
    no estimator and passes
    ``mi_gap_null = mi_gap_null_se = 0``. Without them the row is "unresolved" and its
    ``note`` says why.

    The rows of one call are one family for the Benjamini-Hochberg adjustment
    (:func:`cchlib.stats.verdicts`): call once per chapter. ``verdict`` is exactly
    agrees / disagrees / unresolved; ``agrees`` compares the point estimates' signs.
    ``data`` names the dataset actually used (or give a ``data`` column per row), so a
    stand-in is never mistaken for the real one. Optional columns: ``independent_data``
    (each seed drew its own data; :func:`cchlib.stats.excess_over_null`),
    ``mi_gap_corrected`` and its SE (:meth:`cchlib.chapter.Chapter.bias_corrected`), and
    ``pooled`` with ``pool_note`` (False and the reason for a row shown but kept out of
    the pooled test: a stand-in dataset, a condition outside a theorem's scope).
    """
    missing = SCORECARD_NEEDS - set(conditions.columns)
    if missing:
        raise ValueError(
            f"scorecard conditions lack columns {sorted(missing)}; give means and SEs over seeds and "
            "n_seeds (the number of seeds behind each row), e.g. from cchlib.stats.summarise_seeds"
        )
    if data is None and "data" not in conditions:
        raise ValueError("name the data actually used: pass data=... or give conditions a 'data' column")
    rows = stats.verdicts(conditions)
    rows["chapter"] = chapter
    for column in ("mi_gap_null", "mi_gap_null_se", "mi_gap_excess_p", "mi_gap_corrected", "mi_gap_corrected_se",
                   "mi_gap_corrected_low", "mi_gap_corrected_high"):
        if column not in rows:
            rows[column] = np.nan
    rows["independent_data"] = rows.get("independent_data", False)
    rows["pooled"] = rows.get("pooled", True)
    rows["pool_note"] = rows.get("pool_note", "")
    rows["agrees"] = rows["cch_predicts_gain"] == rows["kd_helped"]
    rows["note"] = [stats.why_unresolved(r) for _, r in rows.iterrows()]
    if data is not None:
        rows["data"] = data
    return rows[SCORECARD_COLUMNS].reset_index(drop=True)


ANALYTIC_CHAPTERS = ("theory",)  # exact gaps and Monte Carlo gains: reported apart from the estimated ones


def standardised(values: pd.Series, groups: pd.Series) -> pd.Series:
    """``values`` z-scored within each group (a chapter), so that chapters' units do not mix."""
    grouped = values.groupby(groups)
    z = (values - grouped.transform("mean")) / grouped.transform("std").replace(0, np.nan)
    return z.round(12)  # equal z-scores stay equal (tied ranks), whatever the units' rounding


def scorecard_summary(table: pd.DataFrame, permutations: int = 4999, seed: int = 0,
                      scale: str | None = None) -> pd.DataFrame:
    """CCH tested across conditions, per chapter and pooled over the empirical chapters.

    Columns: conditions; the share whose signs agree and the share expected by chance
    (gaps permuted across the conditions of a chapter, keeping its base rates) with a
    one-sided permutation p-value; Spearman's rho between gap and gain with its 95%
    interval and p-value; and the counts of the three verdicts (after each chapter's
    Benjamini-Hochberg adjustment).

    Only rows marked ``pooled`` count (a stand-in dataset, or a condition outside a
    theorem's scope, is shown on the page but counted nowhere). The pooled row,
    ``all empirical``, leaves out the analytic chapters (:data:`ANALYTIC_CHAPTERS`) and,
    with ``scale``, rows of any other scale; its Spearman is computed on gaps and gains
    z-scored within each chapter, since chapters measure gains in different units.
    """
    if table.empty:
        raise ValueError("the scorecard is empty: no chapter has written scorecard rows")
    pooled = table[table["pooled"].fillna(True).astype(bool)] if "pooled" in table else table

    def one(part: pd.DataFrame, standardise: bool = False) -> dict:
        expected = sum(len(g) * stats.chance_agreement(g.mi_gap, g.kd_gain) for _, g in part.groupby("chapter"))
        row = {"conditions": len(part), "share agree": float(part.agrees.mean()) if len(part) else np.nan,
               "share by chance": expected / len(part) if len(part) else np.nan,
               "p (agree > chance)": stats.agreement_pvalue(part.mi_gap, part.kd_gain, part["chapter"],
                                                           permutations, seed) if len(part) else np.nan}
        gap, gain = part.mi_gap, part.kd_gain
        if standardise:
            gap, gain = standardised(gap, part.chapter), standardised(gain, part.chapter)
            keep = np.isfinite(gap) & np.isfinite(gain)
            gap, gain = gap[keep], gain[keep]
        row.update(stats.spearman(gap, gain))
        row.update({state: int((part.verdict == state).sum()) for state in stats.CCH_STATES})
        return row

    rows = {chapter: one(part) for chapter, part in pooled.groupby("chapter", sort=False)}
    empirical = pooled[~pooled.chapter.isin(ANALYTIC_CHAPTERS)]
    if scale is not None and "scale" in empirical:
        empirical = empirical[empirical.scale == scale]
    rows["all empirical"] = one(empirical, standardise=True)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("chapter")


def write_scorecard_rows(
    conditions: pd.DataFrame,
    results_root: str | Path,
    params_name: str,
    chapter: str,
    data: str | None = None,
) -> pd.DataFrame:
    """Compute a chapter's scorecard rows, write them, and return them."""
    rows = scorecard_rows(chapter, conditions, data)
    write_table(rows, results_root, params_name, chapter, "scorecard_rows")
    return rows


SCALES_FILE = "chapter_scales.json"  # per build: the parameter set each chapter was rendered at


def record_chapter_scale(results_root: str | Path, params_name: str, chapter: str, scale: str) -> None:
    """Note that a book built with ``params_name`` rendered ``chapter`` at ``scale``.

    They differ when the paper book falls back to the default set for a chapter whose
    cells the result store lacks; the scorecard and the criteria chapter then read that
    chapter's rows from the scale it was rendered at.
    """
    scales = recorded_scales(results_root, params_name)
    scales[chapter] = scale
    path = Path(results_root) / params_name / SCALES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(scales, indent=1, sort_keys=True))


def recorded_scales(results_root: str | Path, params_name: str) -> dict[str, str]:
    """``{chapter: set}`` as recorded by :func:`record_chapter_scale` for a book of ``params_name``."""
    path = Path(results_root) / params_name / SCALES_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def rendered_scale(results_root: str | Path, params_name: str, chapter: str) -> str:
    """The set a book of ``params_name`` rendered ``chapter`` at (itself unless recorded otherwise)."""
    return recorded_scales(results_root, params_name).get(chapter, params_name)


def chapter_files(results_root: str | Path, params_name: str, filename: str) -> list[tuple[Path, str]]:
    """Each chapter's ``filename`` for a book of ``params_name``, with the scale it comes from.

    A chapter rendered at another set (see :func:`record_chapter_scale`) is read from
    that set's folder; sorted by chapter.
    """
    found = {p.parent.name: (p, params_name) for p in (Path(results_root) / params_name).glob(f"*/{filename}")}
    for chapter, scale in recorded_scales(results_root, params_name).items():
        found.pop(chapter, None)
        path = Path(results_root) / scale / chapter / filename
        if path.exists():
            found[chapter] = (path, scale)
    return [found[chapter] for chapter in sorted(found)]


STORE_USE_FILE = "store_use.json"  # per chapter: its sweeps' cells, and how many the result store held


def write_store_use(use: dict, results_root: str | Path, params_name: str, chapter: str,
                    missing: list[dict] = ()) -> Path:
    """Write what a chapter's sweeps read from the result store beside its tables.

    ``use``: ``{cell function: (cells read from the store, cells)}``; ``missing``: the
    conditions of its optional sweeps that the store lacks (see
    :meth:`cchlib.chapter.Chapter.sweep`), each shown as missing on the page.
    """
    path = results_dir(results_root, params_name, chapter) / STORE_USE_FILE
    record = {"cells": {fn: list(counts) for fn, counts in use.items()}, "missing": list(missing)}
    return atomic_write_text(path, json.dumps(record, indent=1, default=str))


def describe_condition(condition: dict) -> str:
    """A sweep condition in words for a page: ``key value`` pairs, lists shortened."""
    def value(v):
        return f"{v[0]}..{v[-1]}" if isinstance(v, list) and len(v) > 2 else str(v)
    return ", ".join(f"{key} {value(v)}" for key, v in condition.items())


def store_use_sentence(results_root: str | Path, params_name: str, chapter: str) -> str:
    """How many of a chapter's sweep cells its last run read from the result store, and what it lacked."""
    path = Path(results_root) / params_name / chapter / STORE_USE_FILE
    if not path.exists():
        return ""
    record = json.loads(path.read_text())
    counts = record["cells"].values()
    read, total = sum(r for r, _ in counts), sum(t for _, t in counts)
    missing = record["missing"]
    shown = total - sum(m["cells"] for m in missing)  # cells of the conditions the page shows
    read_shown = read - sum(m["cells held"] for m in missing)
    if not missing and read == total:
        text = (f"All {total:,} of its sweep cells were read from the committed result store, each with the "
                "provenance of the run that computed it.")
    elif read_shown == shown:
        text = (f"The {shown:,} sweep cells it shows were read from the committed result store, each with the "
                "provenance of the run that computed it.")
    else:
        text = (f"{read_shown:,} of the {shown:,} sweep cells it shows were read from the committed result store; "
                f"the other {shown - read_shown:,} were computed in this build.")
    return f"{text} {missing_sentence(missing)}".rstrip()


def missing_sentence(missing: list[dict]) -> str:
    """The conditions a chapter shows as missing (:attr:`cchlib.chapter.Chapter.missing`), in words; empty if none."""
    if not missing:
        return ""
    return ("**Not in the result store, and shown as missing (nothing was trained for them):** "
            + "; ".join(f"{describe_condition(m['condition'])} ({m['cells held']} of {m['cells']} seeds stored"
                        + ("; it needs a GPU" if m.get("needs GPU") else "") + ")" for m in missing) + ".")


def collect_scorecard(results_root: str | Path, params_name: str) -> pd.DataFrame:
    """Gather every chapter's scorecard rows for one parameter set's book, and write them.

    The ``scale`` column names the parameter set each chapter's rows come from.
    """
    parts = [pd.read_csv(p).assign(scale=scale) for p, scale in chapter_files(results_root, params_name,
                                                                            "scorecard_rows.csv")]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*SCORECARD_COLUMNS, "scale"])
    table = table[["chapter", "scale", *[c for c in SCORECARD_COLUMNS if c != "chapter"]]]
    atomic_write_text(Path(results_root) / params_name / "scorecard.csv", table.to_csv(index=False))
    return table


COMPARED = ["chapter", "condition", "verdict", "mi_gap", "kd_gain", "n_seeds"]


def compare_scales(results_root: str | Path, scale: str, other: str) -> pd.DataFrame | None:
    """The CCH verdicts of one scale beside another's, for the conditions both ran.

    Reads each chapter's rows rendered at exactly ``scale`` and at ``other`` (a chapter
    the ``scale`` book showed at another set is left out); returns None when ``other``
    has no rows on this machine. One row per (chapter, condition) present in both, with
    each set's verdict, MI gap and KD gain, and ``differs`` when the verdicts differ.
    """
    frames = {}
    for name in (scale, other):
        parts = [pd.read_csv(p)[COMPARED] for p, at in chapter_files(results_root, name, "scorecard_rows.csv")
                 if at == name]
        if not parts:
            return None
        frames[name] = pd.concat(parts, ignore_index=True)
    both = frames[scale].merge(frames[other], on=["chapter", "condition"], suffixes=(f" ({scale})", f" ({other})"))
    both["differs"] = both[f"verdict ({scale})"] != both[f"verdict ({other})"]
    return both


def compare_chapter_scales(results_root: str | Path, chapter: str, scale: str, other: str) -> str:
    """One sentence for a chapter page: on which conditions the other scale's verdict differs.

    Empty when this machine has not rendered the chapter at ``other`` (or the chapter
    writes no scorecard rows).
    """
    paths = [Path(results_root) / name / chapter / "scorecard_rows.csv" for name in (scale, other)]
    if not all(path.exists() for path in paths) or rendered_scale(results_root, other, chapter) != other:
        return ""
    here, there = (pd.read_csv(path)[COMPARED] for path in paths)
    both = here.merge(there, on=["chapter", "condition"], suffixes=("", "_other"))
    changed = both[both.verdict != both.verdict_other]
    text = (f"This machine also rendered the chapter at `{other}`: of the {len(both)} conditions both ran, "
            f"the verdict differs on {len(changed)}")
    if changed.empty:
        return text + "."
    listed = "; ".join(f"{r.condition}: {r.verdict} here, {r.verdict_other} at `{other}`"
                       for r in changed.head(8).itertuples())
    return text + f" ({listed}{'; ...' if len(changed) > 8 else ''})."


def write_provenance(
    record: dict, results_root: str | Path, params_name: str, chapter: str
) -> Path:
    """Store a chapter's provenance record beside its tables, as JSON."""
    path = results_dir(results_root, params_name, chapter) / "provenance.json"
    return atomic_write_text(path, json.dumps(record, indent=2))


def provenance_markdown(record: dict) -> str:
    """The provenance record as a two-column Markdown table for the book."""
    lines = ["| what | value |", "|---|---|"]
    for key, value in record.items():
        if isinstance(value, dict):  # the installed distributions: too many for the page
            value = f"{len(value)} installed, with versions, in this chapter's `provenance.json`"
        lines.append(f"| {key} | {value} |")
    return "\n".join(lines)


def beside_paper(ours: pd.DataFrame, paper: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Join our table with the paper's values, the paper's columns prefixed ``paper:``.

    The paper's numbers only ever sit in their own, labelled columns.
    """
    paper = paper.rename(columns={c: f"paper: {c}" for c in paper.columns if c not in on})
    return ours.merge(paper, on=on, how="left")
