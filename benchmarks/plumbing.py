"""Count the plumbing lines of chapter notebooks: the measure of issue #31.

The issue names plumbing as "parameters, settings, provenance, saving, glue, scorecard,
findings". A code line is counted as plumbing when it

- sets one of the runner's parameters in the ``parameters`` cell (the parameter set's
  name, results folder, cache and executor: where and how, not what, is computed;
  the science parameters are the experiment's knobs and are not counted), or
- belongs to a simple statement that does bookkeeping: it builds the chapter or a
  sweep's settings, writes or shows provenance, saves a table, glues a value into the
  prose, writes scorecard or criteria rows or the findings box, or times the run.

Compound statements (``def``, ``if``, ``for``) are looked into, so only the bookkeeping
lines inside them count. Imports, blank and comment lines are not counted; displays of
tables are not (showing a table is what a chapter is for).

    python benchmarks/plumbing.py notebooks/synthetic.py notebooks/mnist.py notebooks/tcga.py
"""

from __future__ import annotations

import ast
import sys

import jupytext

RUNNER = ("params_name", "results_root", "cache_root", "executor", "executor_options")
MARKERS = ("glue(", "chapter.table", "chapter.show", "chapter.scorecard", "chapter.criteria", "chapter.glue",
           "chapter.conclude", "chapter.provenance", "Chapter(", "Chapter.from_parameters", "Settings", "settings = dict",
           "cch_finding", "time.monotonic", "plt.style", "provenance")


def code_lines(source: str, first: int, last: int) -> int:
    """Non-blank, non-comment lines of ``source`` between lines ``first`` and ``last`` (1-based)."""
    lines = source.splitlines()[first - 1:last]
    return sum(bool(line.strip()) and not line.strip().startswith("#") for line in lines)


def statement_lines(node: ast.stmt, source: str) -> tuple[int, int]:
    """(plumbing, all) code lines of one statement, looking into compound statements."""
    bodies = [getattr(node, name) for name in ("body", "orelse", "finalbody") if getattr(node, name, None)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return 0, 0
    if not bodies or isinstance(node, ast.ClassDef):
        n = code_lines(source, node.lineno, node.end_lineno)
        text = ast.get_source_segment(source, node) or ""
        return (n if any(marker in text for marker in MARKERS) else 0), n
    plumbing = total = 0
    inner = [child for body in bodies for child in body]
    for child in inner:
        p, t = statement_lines(child, source)
        plumbing, total = plumbing + p, total + t
    header = code_lines(source, node.lineno, node.end_lineno) - total  # the def/if/for lines themselves
    return plumbing, total + header


def count(path: str) -> tuple[int, int]:
    """(plumbing, all) code lines of a Jupytext notebook (imports aside)."""
    plumbing = total = 0
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "parameters" in cell.metadata.get("tags", []):
            for node in ast.parse(source).body:
                n = code_lines(source, node.lineno, node.end_lineno)
                runner = any(isinstance(t, ast.Name) and t.id in RUNNER for t in getattr(node, "targets", []))
                plumbing, total = plumbing + (n if runner else 0), total + n
            continue
        for node in ast.parse(source).body:
            p, t = statement_lines(node, source)
            plumbing, total = plumbing + p, total + t
    return plumbing, total


if __name__ == "__main__":
    for path in sys.argv[1:]:
        p, t = count(path)
        print(f"{path}: {p} plumbing lines of {t} code lines")
