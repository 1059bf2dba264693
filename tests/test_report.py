import json

import numpy as np
import pandas as pd
import pytest

from cchlib import provenance, report
from cchlib.io import results_dir


def _conditions():
    return pd.DataFrame(
        {
            "condition": ["a", "b", "c"],
            "mi_gap": [0.2, -0.1, 0.3],
            "mi_gap_se": [0.01, 0.01, 0.01],
            "kd_gain": [0.05, -0.02, -0.01],
            "kd_gain_se": [0.01, 0.005, 0.01],
            "n_seeds": [5, 5, 5],
            "mi_gap_null": [0.0, 0.0, 0.3],
            "mi_gap_null_se": [0.01, 0.01, 0.01],
        }
    )


def test_scorecard_agreement_logic():
    rows = report.scorecard_rows("toy", _conditions(), data="toy data")
    assert list(rows.columns) == report.SCORECARD_COLUMNS
    assert list(rows.cch_predicts_gain) == [True, False, True]
    assert list(rows.kd_helped) == [True, False, False]
    assert list(rows.agrees) == [True, True, False]
    # c: the gap equals the estimator's null gap, so its sign is not resolved
    assert list(rows.verdict) == ["agrees", "agrees", "unresolved"]
    assert "estimator's null" in rows.note.iloc[2]


def test_scorecard_verdict_needs_seeds_and_null():
    few = report.scorecard_rows("toy", _conditions().assign(n_seeds=2), data="d")
    assert (few.verdict == "unresolved").all() and few.note.str.contains("seeds").all()
    no_null = report.scorecard_rows("toy", _conditions().drop(columns=["mi_gap_null", "mi_gap_null_se"]), data="d")
    assert (no_null.verdict == "unresolved").all() and no_null.note.str.contains("null").all()
    assert set(report.scorecard_rows("toy", _conditions(), data="d").verdict) <= {"agrees", "disagrees", "unresolved"}


def test_scorecard_summary_columns():
    rows = pd.concat([report.scorecard_rows(ch, _conditions(), data="d") for ch in ("one", "two")])
    summary = report.scorecard_summary(rows, permutations=99)
    assert list(summary.index) == ["one", "two", "all empirical"]
    assert {"share agree", "share by chance", "p (agree > chance)", "spearman", "spearman_low", "spearman_high",
            "spearman_p", "agrees", "disagrees", "unresolved"} <= set(summary.columns)
    assert summary.loc["all empirical", "conditions"] == 6 and summary.loc["all empirical", "agrees"] == 4


def test_pooled_row_keeps_to_one_scale_leaves_out_theory_and_rows_not_pooled():
    one = report.scorecard_rows("one", _conditions(), data="d").assign(scale="paper")
    other = report.scorecard_rows("two", _conditions(), data="d").assign(scale="default")
    theory = report.scorecard_rows("theory", _conditions(), data="d").assign(scale="paper")
    stand_in = report.scorecard_rows("three", _conditions().assign(pooled=False, pool_note="stand-in"),
                                     data="d").assign(scale="paper")
    summary = report.scorecard_summary(pd.concat([one, other, theory, stand_in]), permutations=99, scale="paper")
    assert summary.loc["all empirical", "conditions"] == 3  # only "one": "two" is at default, "three" not pooled
    assert "three" not in summary.index and summary.loc["theory", "conditions"] == 3
    # within-chapter z-scores: a chapter whose gains are 1000x larger weighs the same
    scaled = one.assign(chapter="big", kd_gain=one.kd_gain * 1000)
    both = report.scorecard_summary(pd.concat([one, scaled]), permutations=99, scale="paper")
    same = report.scorecard_summary(pd.concat([one, one.assign(chapter="copy")]), permutations=99, scale="paper")
    assert both.loc["all empirical", "spearman"] == pytest.approx(same.loc["all empirical", "spearman"])
    # two positive gaps of three and one positive gain of three: 2/3 * 1/3 + 1/3 * 2/3
    assert summary.loc["one", "share by chance"] == pytest.approx(4 / 9)


def test_scorecard_rejects_missing_columns():
    with pytest.raises(ValueError, match="kd_gain"):
        report.scorecard_rows("toy", _conditions().drop(columns=["kd_gain"]), data="x")
    with pytest.raises(ValueError, match="n_seeds"):
        report.scorecard_rows("toy", _conditions().drop(columns=["n_seeds"]), data="x")


def test_collect_scorecard(tmp_path):
    report.write_scorecard_rows(_conditions(), tmp_path, "smoke", "one", data="d1")
    report.write_scorecard_rows(_conditions().iloc[:1], tmp_path, "smoke", "two", data="d2")
    table = report.collect_scorecard(tmp_path, "smoke")
    assert len(table) == 4 and set(table.chapter) == {"one", "two"}
    assert (tmp_path / "smoke" / "scorecard.csv").exists()


def test_write_table_and_provenance(tmp_path):
    path = report.write_table(pd.DataFrame({"x": [1, 2]}), tmp_path, "smoke", "ch", "t")
    assert path == tmp_path / "smoke" / "ch" / "t.csv"
    assert list(pd.read_csv(path).x) == [1, 2]
    record = provenance.chapter_record("smoke", [0, 1], "cpu")
    assert record["seeds"] == "0, 1" and record["device"].startswith("cpu")
    p = report.write_provenance(record, tmp_path, "smoke", "ch")
    written = json.loads(p.read_text())
    assert written["parameter set"] == "smoke" and written["distributions"]["numpy"] == np.__version__
    markdown = report.provenance_markdown(record)
    assert "| seeds | 0, 1 |" in markdown
    assert f"| distributions | {len(record['distributions'])} installed" in markdown  # not one row each
    with pytest.raises(ValueError):
        results_dir(tmp_path, "../escape", "ch")


def test_beside_paper_labels_paper_columns():
    ours = pd.DataFrame({"gamma": [0.0, 0.5], "gap": [0.1, 0.2]})
    paper = pd.DataFrame({"gamma": [0.0], "gap": [0.44]})
    joined = report.beside_paper(ours, paper, on=["gamma"])
    assert list(joined.columns) == ["gamma", "gap", "paper: gap"]
    assert np.isnan(joined["paper: gap"][1])


def test_scorecard_names_its_scale_and_scales_are_compared(tmp_path):
    report.write_scorecard_rows(_conditions(), tmp_path, "paper", "one", data="d1")
    assert report.compare_scales(tmp_path, "paper", "default") is None  # the default set has not run
    paper = report.collect_scorecard(tmp_path, "paper")
    assert set(paper.scale) == {"paper"}
    flipped = _conditions().assign(kd_gain=lambda c: -c.kd_gain)
    report.write_scorecard_rows(flipped, tmp_path, "default", "one", data="d1")
    report.collect_scorecard(tmp_path, "default")
    both = report.compare_scales(tmp_path, "paper", "default")
    assert len(both) == len(paper)
    assert list(both["differs"]) == list(both["verdict (paper)"] != both["verdict (default)"])
    assert (both["kd_gain (paper)"] == -both["kd_gain (default)"]).all()


def test_provenance_names_the_scale_and_the_result_store():
    assert provenance.chapter_record("paper", [0], "cpu")["scale"].startswith("paper: the paper's sizes")
    assert "result store" not in provenance.chapter_record("paper", [0], "cpu")
    stored = provenance.chapter_record("paper", [0], "cpu", store="/somewhere/store/paper")
    assert stored["result store"].startswith("store/paper: stored sweep cells")
