"""Provenance records and the library's import graph (issue 31)."""

import subprocess
from importlib import metadata

import pytest

from cchlib import provenance
from test_layout import _modules


def test_distributions_follow_requirements_through_other_distributions():
    found = provenance.distributions()
    assert found["torch"] == metadata.version("torch") and found["pandas"] == metadata.version("pandas")
    # not requirements of cchlib itself: reached through pandas and through jupyter-book
    assert "python-dateutil" in found and "sphinx" in found
    assert found["dask"] == metadata.version("dask")  # an extra of cchlib, installed here
    assert "typing-extensions" in found  # through several others


def test_a_distribution_that_is_not_installed_lists_everything_installed():
    everything = provenance.distributions("no-such-distribution")
    assert set(provenance.distributions()) <= set(everything)


def test_batch_and_chapter_records_share_the_run_record():
    batch = provenance.batch_record([3, 4], 12.345, "cpu")
    assert batch["batch_seeds"] == [3, 4] and batch["batch_wall_s"] == 12.35
    chapter = provenance.chapter_record("smoke", [0], "cpu", epochs=3)
    assert chapter["epochs"] == "3"
    assert chapter["distributions"] == batch["distributions"]
    assert batch["git_commit"] in chapter["cchlib"] and batch["code_version"] in chapter["cchlib"]


def test_a_modified_store_file_does_not_make_the_commit_dirty(tmp_path):
    """Only cchlib's source and pyproject count: a run rewrites store files as it goes."""
    repo = tmp_path / "repo"
    (repo / "cchlib").mkdir(parents=True)
    (repo / "store").mkdir()
    for path in (repo / "cchlib" / "x.py", repo / "store" / "cells.jsonl", repo / "pyproject.toml"):
        path.write_text("1\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "."], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "x"], cwd=repo, check=True)

    def commit_of_copy():
        provenance.git_commit.cache_clear()
        return provenance.git_commit()

    original = provenance.PACKAGE_ROOT
    try:
        provenance.PACKAGE_ROOT = repo / "cchlib"
        (repo / "store" / "cells.jsonl").write_text("2\n")
        assert not commit_of_copy().endswith("+dirty")
        (repo / "cchlib" / "x.py").write_text("2\n")
        assert commit_of_copy().endswith("+dirty")
    finally:
        provenance.PACKAGE_ROOT = original
        provenance.git_commit.cache_clear()


def _import_graph() -> dict[str, set[str]]:
    """Every cchlib module and the cchlib modules it imports (top level or inside a function).

    ``from cchlib import x`` counts as importing ``x``; the package ``cchlib`` itself (its
    ``__init__`` holds the version only) is left out.
    """
    names = {name for name, _ in _modules()}
    return {name: {m for m in provenance.imported_modules(name, path) if m in names and m not in ("cchlib", name)
                   and not name.startswith(m + ".")}  # a package's own parents are imported by Python, not by it
            for name, path in _modules()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if state.get(other) == "open":
                return stack[stack.index(other):] + [other]
            if other not in state and (found := visit(other)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    assert _cycle(_import_graph()) is None, " -> ".join(_cycle(_import_graph()))


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", ["cchlib.provenance", "cchlib.io"])
def test_the_lowest_floor_imports_nothing_of_cchlib(module):
    assert _import_graph()[module] == set()


def test_the_lock_pins_every_distribution_cchlib_needs_at_its_installed_version():
    """`make install` installs requirements-cpu.lock: it must be the environment the tests run in."""
    from conftest import ROOT

    lines = (ROOT / "requirements-cpu.lock").read_text().splitlines()
    pinned = dict(line.split("==", 1) for line in lines if line and not line.startswith("#"))
    pinned = {provenance._canonical(name): version for name, version in pinned.items()}
    needed = {name: version.split("+")[0] for name, version in provenance.distributions().items() if name != "cchlib"}
    stale = {name: (pinned.get(name), version) for name, version in needed.items() if pinned.get(name) != version}
    assert not stale, f"(locked, installed) differ; run `make lock`: {stale}"
