"""Shared test set-up: every test gets its own empty cache folder."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Point cchlib's cache at a fresh folder so tests never reuse each other's results."""
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"
