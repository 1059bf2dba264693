"""Execute the book's notebooks with papermill for a parameter set, then build the book.

    python -m cchlib.book --params default              # run every chapter, build HTML
    python -m cchlib.book --params smoke --only synthetic
    python -m cchlib.book --params default --no-build   # execute only
    python -m cchlib.book --params paper --executor dask --workers 4   # sweeps on Dask

A parameter set is a folder ``notebooks/params/<NAME>/`` holding one YAML file per
notebook (``<notebook>.yml``) with the values that differ from the notebook's
``parameters`` cell (which is the ``default`` set). Add your own set by adding a folder;
no code changes. Every notebook listed in ``_toc.yml`` that has a Jupytext source
(``<entry>.py``) is executed, in table-of-contents order, into
``_build/<NAME>/src/`` beside copies of the hand-written pages; Jupyter Book 1.x then
builds ``_build/<NAME>/_build/html``. Before anything runs, every YAML of the set is
checked against its notebook's ``parameters`` cell (unknown names, wrong types, invalid
YAML: one error listing them all). A notebook that fails stops the run: its partial
copy is moved to ``_build/<NAME>/failed/`` so no half-executed chapter is ever rendered.
With ``--keep-going`` the remaining chapters run, the book is built with a page listing
the failed chapters and their errors, and the command still exits non-zero.

The ``paper`` set reads the committed result store ``store/paper/`` (see
:mod:`cchlib.resultstore`): its stored sweep cells are read, not recomputed. What
happens to a chapter whose cells the store lacks is ``--missing``:

- ``fallback`` (the paper set's default): the chapter is rendered at the ``default`` set
  instead, with a banner on its page saying so; nothing is trained for the stored
  chapters, and the book builds on a laptop;
- ``compute``: the missing cells are computed and added to the store (on a machine that
  can: sweeps marked ``needs_gpu`` are never trained on a CPU);
- ``fail`` (also ``--store-only``): a missing cell is an error.

A chapter's *optional* sweeps (``Chapter.sweep(..., required=False)``, such as MNIST's
GPU-only schedule) never make it fall back: the page shows the conditions the store
holds and lists the others as missing. The store's manifest ``chapters.json`` names
the chapters rendered from it and the cell functions each reads; with ``fallback``, a
chapter it does not name is rendered at ``default`` straight away, without a paper
attempt that could only fail.

Every chapter page of a book built with a store says which scale it shows and, when
the other scale's results are also on this machine, on which conditions the two
scales' verdicts differ. ``--store DIR`` names another store (for any set),
``--no-store`` turns it off. ``--verify-store --sample N`` recomputes N random stored
cells of each cell function and reports any that no longer reproduce.

    python -m cchlib.book --params paper                       # render from the store
    python -m cchlib.book --params paper --only mnist --missing compute   # fill the store
    python -m cchlib.book --params paper --verify-store --sample 5
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import papermill
import yaml

from cchlib import __version__, report, resultstore
from cchlib.io import RUNNER_PARAMETERS, atomic_write_text
from cchlib.provenance import SCALES


def _not_a_runner_parameter_warning(record: logging.LogRecord) -> bool:
    """Papermill warns of every parameter a notebook does not declare; the runner's are expected."""
    return not any(record.getMessage() == f"Passed unknown parameter: {name}" for name in RUNNER_PARAMETERS)


logging.getLogger("papermill").addFilter(_not_a_runner_parameter_warning)

PARAMS_DIR = Path("notebooks") / "params"
STORE_DIR = Path("store")  # committed result stores, one folder per parameter set
STORED_SETS = ("paper",)  # the sets whose results are committed (the others are build outputs)
MANIFEST = "chapters.json"  # in a store: {chapter: [cell functions it reads]}, the chapters rendered from it
FALLBACK_SET = "default"  # what a chapter is rendered at when the store lacks its cells (--missing fallback)
MISSING = ("fallback", "compute", "fail")  # what --missing can do with a chapter the store does not cover
# The errors after which --missing fallback renders a chapter at FALLBACK_SET: the store
# lacks cells, or the set needs data this machine does not have (the real CMU-MOSEI features).
FALLBACK_ON = ("MissingCells", "MoseiFileMissing")
GATHERERS = ("criteria", "scorecard")  # pages built from the other chapters' rows
# jupyter-book's command, run with this interpreter (its package has no __main__).
JUPYTER_BOOK = "import sys; from jupyter_book.cli.main import main; sys.exit(main())"


class BookError(RuntimeError):
    """A notebook failed or the book could not be built; the message says which and why."""


def toc_entries(root: Path) -> list[str]:
    """The ``file`` entries of ``_toc.yml`` (root first), without extensions."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [toc["root"]]
    for item in toc.get("chapters", []):
        entries.append(item["file"])
    return entries


def executable_entries(root: Path) -> list[str]:
    """Table-of-contents entries that are notebooks (they have a Jupytext ``.py`` source)."""
    return [entry for entry in toc_entries(root) if (root / f"{entry}.py").exists()]


def parameter_names(root: Path) -> list[str]:
    """The parameter sets that exist (folders under ``notebooks/params``)."""
    return sorted(p.name for p in (root / PARAMS_DIR).iterdir() if p.is_dir())


def parameter_folder(root: Path, params_name: str) -> Path:
    """The folder of a parameter set; only the names of folders under ``notebooks/params``."""
    names = parameter_names(root)
    if params_name not in names:
        close = difflib.get_close_matches(params_name, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise BookError(
            f"no parameter set {params_name!r}: --params takes the name of a folder under "
            f"{root / PARAMS_DIR} (existing sets: {', '.join(names)}), not a path.{hint}"
        )
    return root / PARAMS_DIR / params_name


def read_parameter_file(path: Path) -> dict:
    """One parameter YAML as a dict (empty when the file is absent or empty).

    Invalid YAML, or YAML that is not a mapping of ``name: value``, is a
    :class:`BookError` naming the file.
    """
    if not path.exists():
        return {}
    try:
        values = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise BookError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from error
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise BookError(
            f"{path} must be a mapping of parameter names to values (name: value per line); "
            f"it holds a YAML {type(values).__name__}"
        )
    return values


def load_parameters(root: Path, params_name: str, entry: str) -> dict:
    """The papermill parameters of one notebook for one parameter set."""
    values = read_parameter_file(parameter_folder(root, params_name) / f"{Path(entry).name}.yml")
    values["params_name"] = params_name
    return values


def notebook_defaults(root: Path, entry: str) -> dict:
    """The names assigned in a notebook's ``parameters`` cell, with their literal values.

    A value that is not a Python literal (an expression) maps to :data:`ANY`: its
    name is valid but its type is not checked.
    """
    notebook = jupytext.read(root / f"{entry}.py")
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise BookError(f"{entry}.py has no cell tagged 'parameters'")
    defaults = {}
    for node in ast.parse(cells[0].source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    defaults[target.id] = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError):
                    defaults[target.id] = ANY
    return defaults


ANY = object()  # a default whose type is not checked


def type_problem(value, default) -> str | None:
    """Why ``value`` cannot replace ``default`` (None when it can).

    The type must match the default's (bool, int, float, str, list, dict); an int may
    stand for a float; a default of None or a non-literal default accepts anything, and
    None (YAML ``null``) replaces any default (notebooks read it as "all", e.g. ``n_train``).
    """
    if default is None or default is ANY or value is None:
        return None
    expected = type(default)
    if expected is tuple:
        expected = list
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, expected) and (expected is bool or not isinstance(value, bool)):
        return None
    return f"expects {expected.__name__} (the default is {default!r}), got {type(value).__name__} {value!r}"


def validate_parameter_set(root: Path, params_name: str, entries: list[str]) -> None:
    """Check every YAML of a parameter set against its notebook's ``parameters`` cell.

    Each file must be valid YAML holding a mapping; each key must be a parameter of
    the notebook (an unknown key names the closest valid one); each value must have
    the default's type (see :func:`type_problem`); each file must belong to a notebook.
    All problems are reported together, before any notebook runs.
    """
    folder = parameter_folder(root, params_name)
    by_name = {Path(entry).name: entry for entry in entries}
    problems = []
    for path in sorted(folder.glob("*.y*ml")):
        if path.stem not in by_name:
            close = difflib.get_close_matches(path.stem, by_name, n=1)
            problems.append(f"{path}: no notebook named {path.stem!r} in _toc.yml"
                            + (f" (did you mean {close[0]}.yml?)" if close else ""))
            continue
        if path.suffix != ".yml":
            problems.append(f"{path}: parameter files end in .yml (rename it to {path.stem}.yml)")
            continue
        try:
            values = read_parameter_file(path)
        except BookError as error:
            problems.append(str(error))
            continue
        defaults = {**RUNNER_PARAMETERS, **notebook_defaults(root, by_name[path.stem])}
        for key, value in values.items():
            if key not in defaults:
                close = difflib.get_close_matches(key, defaults, n=1)
                problems.append(f"{path}: unknown parameter {key!r}"
                                + (f"; did you mean {close[0]!r}?" if close else "")
                                + f" (the notebook's parameters: {', '.join(defaults)})")
            elif (why := type_problem(value, defaults[key])) is not None:
                problems.append(f"{path}: parameter {key!r} {why}")
    if problems:
        raise BookError(f"parameter set {params_name!r} has {len(problems)} problem(s); nothing was run:\n  "
                        + "\n  ".join(problems))


def execute_notebook(
    root: Path, entry: str, params_name: str, out: Path, results_root: Path, overrides: dict | None = None
) -> None:
    """Execute one notebook from its Jupytext source into ``out`` with papermill.

    ``overrides`` (e.g. the sweep executor) are passed as extra parameters.
    """
    source = jupytext.read(root / f"{entry}.py")
    out.parent.mkdir(parents=True, exist_ok=True)
    unexecuted = out.with_suffix(".unexecuted.ipynb")
    nbformat.write(source, unexecuted)
    parameters = load_parameters(root, params_name, entry)
    parameters["results_root"] = str(results_root.resolve())
    parameters.update(overrides or {})
    try:
        papermill.execute_notebook(
            str(unexecuted),
            str(out),
            parameters=parameters,
            cwd=str((root / entry).parent),
            log_output=True,
            progress_bar=False,
            kernel_name="python3",
            language="python",
        )
    finally:
        unexecuted.unlink(missing_ok=True)
    hide_injected_parameters(out)


def hide_injected_parameters(path: Path) -> None:
    """Tag papermill's ``injected-parameters`` cell ``remove-cell`` in the executed notebook.

    That cell holds the builder's absolute ``results_root``; the run's parameters are shown
    once, in each chapter's provenance table, and no machine path belongs on a page.
    """
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(notebook, path)


def execute_chapter(
    root: Path, entry: str, params_name: str, out_dir: Path, results_root: Path, overrides: dict | None
) -> None:
    """Execute one chapter into ``out_dir/src``; on failure keep the partial copy in ``out_dir/failed``.

    The notebook executes into ``<entry>.partial.ipynb`` and takes its real name only
    when complete, so a failed or killed run never leaves a half-executed chapter to be
    rendered (a killed run's ``.partial`` and ``.unexecuted`` files are removed by the
    next run). A ``failed`` copy from an earlier run is removed before the chapter runs
    again, so the copy named in an error message is always the one of this run.
    """
    out = out_dir / "src" / f"{entry}.ipynb"
    partial = out.with_suffix(".partial.ipynb")  # papermill saves as it goes; renamed when complete
    failed = out_dir / "failed" / f"{entry}.ipynb"
    for stale in (out, partial, failed, out.with_suffix(".md")):  # the .md: a failure page of an earlier run
        stale.unlink(missing_ok=True)
    try:
        execute_notebook(root, entry, params_name, partial, results_root, overrides)
        partial.replace(out)
    except Exception as error:
        where = "No partially executed copy was written."
        if partial.exists():
            failed.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(partial, failed)
            where = f"The partially executed copy is {failed}"
        summary = f"{type(error).__name__}: {error}"
        if isinstance(error, papermill.PapermillExecutionError):  # its str() starts with a blank line
            summary = f"{error.ename}: {error.evalue} (cell {error.exec_count})\n{error}"
        raise BookError(f"notebook {entry} failed with parameter set {params_name!r}: {summary}\n{where}") from error


def write_failure_pages(src: Path, failures: dict[str, str], params_name: str) -> None:
    """Stand-in pages for chapters that failed, and a page listing them (added to the staged TOC)."""
    listing = [f"# Chapters that failed\n\nThese chapters failed with parameter set `{params_name}`; "
               "their pages show the error instead of results.\n"]
    for entry, message in failures.items():
        first_line = message.splitlines()[0]
        listing.append(f"- `{entry}`: {first_line}")
        (src / f"{entry}.md").write_text(
            f"# {Path(entry).name} (failed)\n\nThis chapter failed with parameter set `{params_name}` "
            f"and was not rendered.\n\n```text\n{message[-3000:]}\n```\n"
        )
    (src / "build_failures.md").write_text("\n".join(listing) + "\n")
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    toc.setdefault("chapters", []).append({"file": "build_failures"})
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))


def stage_pages(root: Path, src: Path) -> None:
    """Copy the book's configuration and hand-written pages into the staging folder."""
    src.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, src / name)
    book = root / "book"
    for path in book.rglob("*"):
        if path.is_file() and path.suffix in {".md", ".bib", ".png", ".svg", ".css"}:
            target = src / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def default_store(root: Path, params_name: str) -> Path | None:
    """The committed store of a parameter set (``store/<set>``), for the sets in :data:`STORED_SETS`."""
    return root / STORE_DIR / params_name if params_name in STORED_SETS else None


@contextlib.contextmanager
def store_environment(store: Path | None, store_only: bool):
    """Name the result store to the notebooks' kernels (they inherit the environment)."""
    saved = {name: os.environ.get(name) for name in (resultstore.STORE_ENV, resultstore.STORE_ONLY_ENV)}
    for name in saved:
        os.environ.pop(name, None)
    if store is not None:
        os.environ[resultstore.STORE_ENV] = str(store.resolve())
        os.environ[resultstore.STORE_ONLY_ENV] = "1" if store_only else "0"
    elif store_only:
        raise BookError("--store-only needs a result store: the paper set's store/paper, or --store DIR")
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def run(
    root: Path,
    params_name: str,
    only: list[str] | None = None,
    build: bool = True,
    results_root: Path | None = None,
    build_root: Path | None = None,
    overrides: dict | None = None,
    keep_going: bool = False,
    store: Path | None | bool = True,
    missing: str | None = None,
) -> Path | None:
    """Execute the notebooks (all, or those named in ``only``) and build the book.

    A failing chapter raises :class:`BookError` at once; with ``keep_going`` the
    other chapters still run, the book is built with a page listing the failed
    chapters and their errors, and a :class:`BookError` is raised at the end.

    Executed notebooks and the HTML go under ``build_root/<params_name>`` (default
    ``<root>/_build``), result tables under ``results_root`` (default ``<root>/results``).
    Returns the path of the built HTML index, or ``None`` when the build was skipped.

    ``store``: True for the parameter set's committed store (:func:`default_store`),
    a folder for another, False or None for none. ``missing``: what to do with a
    chapter whose cells the store lacks, one of :data:`MISSING` (default: ``fallback``
    for the stored sets, ``compute`` for the others).
    """
    root = root.resolve()
    store = default_store(root, params_name) if store is True else (store or None)
    missing = missing or ("fallback" if params_name in STORED_SETS and store is not None else "compute")
    check_missing_mode(missing, store, params_name)
    results_root = results_root or root / "results"
    out_dir = (build_root or root / "_build") / params_name
    src = out_dir / "src"
    entries = executable_entries(root)
    selected = entries
    if only:
        known = {Path(e).name: e for e in entries}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise BookError(f"unknown chapter(s) {unknown}; choose from {sorted(known)}")
        selected = [known[name] for name in only]
    validate_parameter_set(root, params_name, entries)  # fail before anything runs
    if missing == "fallback":
        validate_parameter_set(root, FALLBACK_SET, entries)
    stage_pages(root, src)
    strays = [*src.rglob("*.unexecuted.ipynb"), *src.rglob("*.partial.ipynb"), src / "build_failures.md"]
    for stray in strays:  # left by earlier runs, killed or failed
        stray.unlink(missing_ok=True)
    failures: dict[str, str] = {}
    if store is not None:
        print(f"result store: {store} (chapters with cells it lacks: {missing})", file=sys.stderr, flush=True)
    runner = Runner(root, params_name, out_dir, Path(results_root), overrides, store, missing)
    execute_all(runner, selected, keep_going, failures)
    stage_answer(Path(results_root), params_name, src)
    return finish(entries, src, out_dir, params_name, build, failures)


def check_missing_mode(missing: str, store: Path | None, params_name: str) -> None:
    """``missing`` must be one of :data:`MISSING`; fallback and fail need a store, fallback another set."""
    if missing not in MISSING:
        raise BookError(f"--missing must be one of {', '.join(MISSING)}, got {missing!r}")
    if missing != "compute" and store is None:
        raise BookError(f"--missing {missing} (or --store-only) needs a result store: the paper set's "
                        "store/paper, or --store DIR")
    if missing == "fallback" and params_name == FALLBACK_SET:
        raise BookError(f"--missing fallback renders a chapter at {FALLBACK_SET!r} instead, and the set "
                        f"{params_name!r} is that set already: use --missing compute or fail")


@dataclass(frozen=True)
class Runner:
    """How this build executes a chapter: the set, the folders, the store and ``--missing``."""

    root: Path
    params_name: str
    out_dir: Path
    results_root: Path
    overrides: dict | None
    store: Path | None
    missing: str

    def execute(self, entry: str) -> tuple[str, str]:
        """Execute one chapter; return the parameter set it was rendered at, and why (if a fallback)."""
        chapter = Path(entry).name
        args = (self.root, entry, self.params_name, self.out_dir, self.results_root, self.overrides)
        stale = self.results_root / self.params_name / chapter / report.STORE_USE_FILE
        stale.unlink(missing_ok=True)  # written afresh by the chapter's sweeps
        if self.missing == "fallback" and chapter not in GATHERERS and chapter not in read_manifest(self.store):
            reason = f"the result store holds no `{self.params_name}` results of this chapter"
        else:
            try:
                with store_environment(self.store, self.missing != "compute"):  # fallback: first try store-only
                    execute_chapter(*args)
                if self.store is not None:
                    update_manifest(self.store, chapter, stale)
                return self.params_name, ""
            except BookError as error:
                if self.missing != "fallback" or not lacks_cells(error):
                    raise
                reason = fallback_reason(error.__cause__, self.params_name)
        # what a failed attempt wrote (its provenance, early tables) is not this book's result
        shutil.rmtree(self.results_root / self.params_name / chapter, ignore_errors=True)
        print(f"      {reason}: rendering {entry} at {FALLBACK_SET!r} instead", file=sys.stderr, flush=True)
        with store_environment(None, False):
            execute_chapter(self.root, entry, FALLBACK_SET, self.out_dir, self.results_root, self.overrides)
        return FALLBACK_SET, reason

    def record(self, entry: str, scale: str, reason: str = "") -> None:
        """Note the scale a chapter was rendered at (for the scorecard), and say it on its page."""
        chapter = Path(entry).name
        report.record_chapter_scale(self.results_root, self.params_name, chapter, scale)
        from_store = self.store is not None and scale == self.params_name
        banner = scale_banner(chapter, scale, self.params_name, self.results_root, from_store, reason)
        add_banner(self.out_dir / "src" / f"{entry}.ipynb", banner)


def read_manifest(store: Path | None) -> dict[str, list[str]]:
    """The store's manifest: the chapters rendered from it, each with the cell functions it reads."""
    path = None if store is None else store / MANIFEST
    if path is None or not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except ValueError as error:
        raise BookError(f"{path} is not valid JSON ({error}); restore it from git, or delete it (the next "
                        "book run that renders chapters from the store writes it again)") from error
    return manifest


def update_manifest(store: Path, chapter: str, store_use: Path) -> None:
    """Name ``chapter`` in the store's manifest, with the cell functions its last run read (``store_use``)."""
    functions = sorted(json.loads(store_use.read_text())["cells"]) if store_use.exists() else []
    manifest = read_manifest(store)
    if manifest.get(chapter) != functions:
        manifest[chapter] = functions
        atomic_write_text(store / MANIFEST, json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")


def fallback_reason(cause: papermill.PapermillExecutionError, params_name: str) -> str:
    """Why a chapter could not be rendered at ``params_name``, in words fit for its page (no paths)."""
    if cause.ename == "MoseiFileMissing":
        return f"this machine lacks the real CMU-MOSEI features that the `{params_name}` set needs"
    counts = re.search(r"lacks (\d+) of (\d+) cells of (\S+)", cause.evalue)
    if counts is None:
        return f"the result store lacks some of the chapter's `{params_name}` cells"
    missing, total, function = counts.groups()
    return (f"the result store lacks {missing} of the {total} `{params_name}` cells of the chapter's sweep of "
            f"`{function}` (the first sweep it met with cells missing)")


def lacks_cells(error: BookError) -> bool:
    """Whether a chapter failed because the store lacks its cells or this machine its data."""
    cause = error.__cause__
    return isinstance(cause, papermill.PapermillExecutionError) and cause.ename in FALLBACK_ON


def scale_banner(chapter: str, scale: str, params_name: str, results_root: Path, from_store: bool,
                 reason: str = "") -> str:
    """The note at the top of a chapter page: its scale, and where the other scale's verdicts differ."""
    described = SCALES.get(scale, f"{scale}: a parameter set of your own").split(": ", 1)[-1]
    if scale == params_name:
        kind, text = "note", f"**Scale: `{scale}`**: {described}."
        if from_store:
            text = f"{text} {report.store_use_sentence(results_root, scale, chapter)}".rstrip()
    else:
        kind = "warning"
        text = (f"**Scale: `{scale}`, not `{params_name}`.** This page shows the `{scale}` set because "
                f"{reason or 'the chapter could not be rendered at ' + params_name}. The `{scale}` set: "
                f"{described}. On a machine with what the `{params_name}` set needs, "
                f"`python -m cchlib.book --params {params_name} --only {chapter} --missing compute` computes it.")
    if chapter in GATHERERS:
        text += (" This page gathers the other chapters' rows, each at the scale that chapter's page shows "
                 "(the `scale` column).")
    other = {"paper": FALLBACK_SET, FALLBACK_SET: "paper"}.get(scale)
    comparison = report.compare_chapter_scales(results_root, chapter, scale, other) if other else ""
    return f"```{{{kind}}}\n{text} {comparison}".rstrip() + "\n```"


def add_banner(path: Path, text: str) -> None:
    """Insert a markdown cell into an executed notebook, after its "What we found" box (or its title)."""
    notebook = nbformat.read(path, as_version=4)
    where = next((i + 1 for i, cell in enumerate(notebook.cells[:4])
                  if cell.cell_type == "markdown" and "What we found" in cell.source), 1)
    notebook.cells.insert(where, nbformat.v4.new_markdown_cell(text, metadata={"tags": ["scale-banner"]}))
    nbformat.write(notebook, path)


def execute_all(runner: Runner, selected: list[str], keep_going: bool, failures: dict) -> None:
    """Execute the selected chapters in order; failures are raised, or collected with ``keep_going``."""
    start = time.monotonic()
    for number, entry in enumerate(selected, 1):
        print(f"[{number}/{len(selected)}] executing {entry} with parameter set {runner.params_name!r} "
              f"({time.monotonic() - start:.0f}s elapsed)", file=sys.stderr, flush=True)
        try:
            scale, reason = runner.execute(entry)
        except BookError as error:
            if not keep_going:
                raise
            failures[entry] = str(error)
            print(f"error: {error}\n      continuing (--keep-going)", file=sys.stderr, flush=True)
            continue
        runner.record(entry, scale, reason)
        print(f"      done in {time.monotonic() - start:.0f}s total", file=sys.stderr, flush=True)


ANSWER_FILE = "answer.md"  # the criteria chapter's answer, included in the book's first page


def stage_answer(results_root: Path, params_name: str, src: Path) -> None:
    """Put this build's answer (written by the criteria chapter) where the introduction includes it.

    Without one (the criteria chapter was not run for this set), the page says so instead.
    """
    answer = results_root / params_name / "criteria" / ANSWER_FILE
    text = answer.read_text() if answer.exists() else (
        f"*The criteria chapter has not been run for the `{params_name}` parameter set, so this build has no "
        "answer yet: run `python -m cchlib.book` without `--only`.*\n")
    atomic_write_text(src / "book" / ANSWER_FILE, text)


def finish(entries, src, out_dir, params_name, build, failures):
    """After the chapters ran: failure pages, then the Jupyter Book build."""
    if failures:
        write_failure_pages(src, failures, params_name)
        if not build:
            raise failure_summary(failures, "Not building the book (--no-build).")
    if not build:
        return None
    missing = [e for e in entries if not (src / f"{e}.ipynb").exists() and e not in failures]
    if missing:
        print(f"Not building the book: {missing} not yet executed with parameter set "
              f"{params_name!r}. Run without --only to execute every chapter.")
        return None
    print(f"building the book in {out_dir}", file=sys.stderr, flush=True)
    completed = subprocess.run(
        [sys.executable, "-c", JUPYTER_BOOK, "build", str(src), "--path-output", str(out_dir)],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise BookError(f"jupyter-book build failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}")
    index = out_dir / "_build" / "html" / "index.html"
    print(f"The book is at {index}")
    if failures:
        raise failure_summary(failures, f"The book was built with a page listing them: "
                                        f"{out_dir / '_build' / 'html' / 'build_failures.html'}")
    return index


def failure_summary(failures: dict[str, str], what_now: str) -> BookError:
    """The error that ends a --keep-going run in which chapters failed."""
    lines = [f"  {entry}: {message.splitlines()[0]}" for entry, message in failures.items()]
    return BookError(f"{len(failures)} chapter(s) failed:\n" + "\n".join(lines) + f"\n{what_now}")


def executor_overrides(executor, workers=None, scheduler=None, scheduler_file=None) -> dict:
    """Notebook parameters that select the sweep executor (empty: the notebooks' own)."""
    options = {k: v for k, v in (("workers", workers), ("address", scheduler), ("scheduler_file", scheduler_file)) if v}
    if options and executor != "dask":
        raise BookError("--workers, --scheduler and --scheduler-file need --executor dask")
    if executor is None:
        return {}
    return {"executor": executor, "executor_options": options}


def verify_store(root: Path, params_name: str, store: Path | bool, sample: int | None, seed: int,
                 functions: list[str] | None = None) -> int:
    """Recompute a sample of stored cells (``None``: all), one retraining per batch; print a report; 0 when all reproduce."""
    folder = default_store(root, params_name) if store is True else store
    if not folder or not Path(folder).is_dir():
        raise BookError(f"no result store to verify for parameter set {params_name!r} "
                        f"(looked for {folder or root / STORE_DIR / params_name}); name one with --store DIR")
    tolerance = resultstore.VERIFY_TOLERANCE
    outcome = resultstore.verify(resultstore.ResultStore(Path(folder)), sample, seed, functions=functions,
                                progress=lambda line: print(line, file=sys.stderr, flush=True), **tolerance)
    print(outcome.to_string(index=False))
    failed = int((~outcome["reproduced"]).sum())
    sampled = int(outcome["sampled"].sum())
    batches = outcome.groupby(["fn", "condition"]).batch_seconds.first()
    print(f"{len(outcome) - failed} of {len(outcome)} cells reproduced within rtol {tolerance['rtol']}, "
          f"atol {tolerance['atol']} (on each value: |stored - recomputed| <= atol + rtol * |stored|): "
          f"{sampled} sampled and {len(outcome) - sampled} more of the same batches, from {len(batches)} "
          f"retrained batches ({batches.sum():.0f} s)")
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface of ``cch-book`` (``python -m cchlib.book``)."""
    parser = argparse.ArgumentParser(prog="cch-book", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s (cchlib) {__version__}")
    parser.add_argument("--params", default="default", help="parameter set: smoke, default, paper, or your own (default: default)")
    parser.add_argument("--only", nargs="+", metavar="CHAPTER", help="execute only these notebooks (by name)")
    parser.add_argument("--no-build", action="store_true", help="execute notebooks but do not build HTML")
    parser.add_argument("--results-root", type=Path, help="where result tables go (default: ./results)")
    parser.add_argument("--root", type=Path, default=Path("."), help="the book's root folder, with _toc.yml (default: the current folder)")
    parser.add_argument("--keep-going", action="store_true",
                        help="run the other chapters after a failure; build the book with a page listing "
                             "the failures; still exit non-zero")
    parser.add_argument("--executor", choices=["local", "dask"], help="how sweep cells run (default: local)")
    parser.add_argument("--workers", type=int, help="dask: number of local worker processes (default: dask's)")
    parser.add_argument("--scheduler", help="dask: address of a running scheduler (tcp://host:port)")
    parser.add_argument("--scheduler-file", help="dask: scheduler file written by e.g. dask-jobqueue")
    parser.add_argument("--store", type=Path, help="result store to read and fill (default: store/paper for "
                        "the paper set, none for the others)")
    parser.add_argument("--no-store", action="store_true", help="use no result store, even for the paper set")
    parser.add_argument("--missing", choices=MISSING,
                        help="a chapter whose cells the store lacks: render it at the default set instead "
                             "(fallback), compute them (compute), or fail (fail); default: fallback with a store, "
                             "compute without")
    parser.add_argument("--store-only", action="store_true",
                        help="the same as --missing fail: a cell the store lacks is an error, nothing is trained")
    parser.add_argument("--verify-store", action="store_true",
                        help="recompute --sample random stored cells and report any that no longer reproduce")
    parser.add_argument("--sample", type=int, default=3,
                        help="--verify-store: how many cells of each cell function (default: 3)")
    parser.add_argument("--all", action="store_true",
                        help="--verify-store: every stored cell of the selected functions instead of a sample")
    parser.add_argument("--functions", nargs="+", metavar="NAME",
                        help="--verify-store: only the cell functions whose name contains one of these")
    parser.add_argument("--sample-seed", type=int, default=0, help="--verify-store: which random sample (default: 0)")
    return parser


def main(argv=None) -> int:
    """Run the command: exit status 1 when a chapter, the build or a store check fails, 2 for bad arguments."""
    args = parser().parse_args(argv)
    store = False if args.no_store else (args.store or True)
    try:
        if args.verify_store:
            return verify_store(args.root.resolve(), args.params, store, None if args.all else args.sample,
                                args.sample_seed, args.functions)
        overrides = executor_overrides(args.executor, args.workers, args.scheduler, args.scheduler_file)
        run(args.root, args.params, args.only, not args.no_build, args.results_root, overrides=overrides,
            keep_going=args.keep_going, store=store, missing="fail" if args.store_only else args.missing)
    except (BookError, resultstore.StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
