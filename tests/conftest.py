"""Shared test set-up: every test gets its own empty cache folder; the smoke book is built once."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Point cchlib's cache at a fresh folder so tests never reuse each other's results."""
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CCH_RESULT_STORE", raising=False)  # no committed store unless a test names one
    monkeypatch.delenv("CCH_STORE_ONLY", raising=False)
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory):
    """Run every chapter with `smoke` and build the HTML book once per test session.

    Returns ``(folder, index)``: results under ``folder/results``, the book under
    ``folder/build``, ``index`` the built ``index.html``. Shared by ``test_book.py`` and
    ``test_browser.py``; the sweeps get their own empty cache. Set ``CCH_SMOKE_BOOK``
    to reuse an earlier build (a folder holding ``results/`` and ``build/``).
    """
    from cchlib import book

    prebuilt = os.environ.get("CCH_SMOKE_BOOK")  # a folder with results/ and build/ of an earlier smoke run
    if prebuilt:
        index = Path(prebuilt) / "build" / "_build" / "html" / "index.html"
        if not index.exists():
            raise FileNotFoundError(f"CCH_SMOKE_BOOK={prebuilt} has no {index}; unset it to build the smoke book")
        return Path(prebuilt), index
    tmp = tmp_path_factory.mktemp("book")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCH_CACHE_DIR", str(tmp / "cache"))
        index = book.run(ROOT, "smoke", results_root=tmp / "results", build_root=tmp / "build")
    return tmp, index
