"""The "What we found" box: verdict words, the CCH tally, and paths shown on pages."""

import pandas as pd
import pytest

from cchlib import findings
from cchlib.data.store import shown_path


def test_verdict_words():
    assert findings.verdict(3, 0) == "reproduced"
    assert findings.verdict(0, 2) == "not reproduced"
    assert findings.verdict(2, 1) == "partly reproduced"
    assert findings.verdict(0, 0) == "undecided"
    with pytest.raises(ValueError, match="counts must be >= 0"):
        findings.verdict(-1, 0)


def _score(gap, gap_se, gain, gain_se):
    return pd.DataFrame({"mi_gap": gap, "mi_gap_se": gap_se, "kd_gain": gain, "kd_gain_se": gain_se})


def test_tally_counts_only_resolved_conditions():
    score = _score([1.0, 1.0, -1.0, 0.1], [0.1] * 4, [2.0, -2.0, -2.0, 2.0], [0.1, 0.1, 0.1, 0.1])
    # the last gap is within t_{2} * SE = 0.43 of zero: unresolved
    assert findings.cch_tally(score, n_seeds=3) == {"agrees": 2, "disagrees": 1, "unresolved": 1}
    # two seeds give no verdict at all, however small the SE
    assert findings.cch_tally(score, n_seeds=2) == {"agrees": 0, "disagrees": 0, "unresolved": 4}


def test_tally_prefers_a_computed_verdict_column():
    score = _score([1.0], [0.1], [2.0], [0.1]).assign(verdict=["unresolved"])
    assert findings.cch_tally(score, n_seeds=5)["unresolved"] == 1


def test_cch_finding_says_undecided_when_intervals_include_zero():
    score = _score([0.01, -0.02], [0.1, 0.1], [0.5, -0.5], [1.0, 1.0]).assign(data="stand-in X")
    box = findings.cch_finding("CCH holds.", score, n_seeds=3, params_name="smoke", what="conditions")
    assert "**Verdict: undecided.**" in box and "stand-in X" in box and "2 of 2" in box
    with pytest.raises(ValueError, match="verdict must be one of"):
        findings.finding("a", "b", "maybe", "c")


def test_shown_path_hides_machine_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("CCH_DATA_ROOT", str(tmp_path))
    assert shown_path(tmp_path / "mnist") == "$CCH_DATA_ROOT/mnist"
    assert shown_path("/opt/somewhere/deep/mnist") == "deep/mnist"
