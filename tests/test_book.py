"""Execute the book with the smoke parameter set, and check the runner's contracts."""

import logging
import re
import shutil

import jupytext
import nbformat
import pandas as pd
import pytest

from cchlib import book
from conftest import ROOT

FIG_COLUMNS = {"sigma12", "lam", "seed", "mse_kd", "mse_nokd", "mi_ts", "mi_sl"}


# `smoke_book` (the smoke book, built once per session) is in conftest.py.


def test_synthetic_smoke_csv_contract(smoke_book):
    tmp, _ = smoke_book
    params = book.load_parameters(ROOT, "smoke", "notebooks/synthetic")
    n_cells = len(params["seeds"]) * len(params["sigma12_grid"])
    for name, n_lams in (("fig1", 1), ("fig4", 4)):
        table = pd.read_csv(tmp / "results" / "smoke" / "synthetic" / f"{name}.csv")
        assert FIG_COLUMNS <= set(table.columns)
        assert len(table) == n_cells * n_lams
        assert not table[list(FIG_COLUMNS)].isna().any().any()
        assert not table.duplicated(["sigma12", "lam", "seed"]).any()
    fig1 = pd.read_csv(tmp / "results" / "smoke" / "synthetic" / "fig1.csv")
    assert set(fig1.lam) == {0.3}


def test_scorecard_contract(smoke_book):
    tmp, _ = smoke_book
    table = pd.read_csv(tmp / "results" / "smoke" / "scorecard.csv")
    needed = {"chapter", "condition", "mi_gap", "mi_gap_se", "kd_gain", "kd_gain_se", "cch_predicts_gain", "agrees"}
    assert needed <= set(table.columns)
    assert "synthetic" in set(table.chapter)
    assert ((table.mi_gap > 0) == table.cch_predicts_gain).all()
    assert set(table.verdict) <= {"agrees", "disagrees", "unresolved"} and table.verdict.notna().all()
    assert {"n_seeds", "mi_gap_low", "mi_gap_high", "mi_gap_null", "kd_gain_low", "kd_gain_high"} <= set(table.columns)


def test_scorecard_counts_each_condition_once_with_its_real_seed_count(smoke_book):
    """No chapter repeats a condition, and no row claims more seeds than the chapter ran."""
    tmp, _ = smoke_book
    table = pd.read_csv(tmp / "results" / "smoke" / "scorecard.csv")
    repeated = table[table.duplicated(["chapter", "condition"], keep=False)]
    assert repeated.empty, repeated[["chapter", "condition"]]
    for chapter, part in table.groupby("chapter"):
        if chapter == "theory":  # its n_seeds counts Monte Carlo training sets, not seeds
            continue
        seeds = book.load_parameters(ROOT, "smoke", f"notebooks/{chapter}")["seeds"]
        assert (part.n_seeds <= len(seeds)).all(), (chapter, part.n_seeds.max(), len(seeds))
    # the same measured numbers under two names would be one condition counted twice
    numbers = table.dropna(subset=["mi_gap", "kd_gain"]).round(12)
    assert not numbers.duplicated(["chapter", "mi_gap", "kd_gain", "mi_gap_null"]).any()


def test_book_is_built_with_every_chapter(smoke_book):
    tmp, index = smoke_book
    assert index is not None and index.exists()
    html = index.parent
    for entry in book.toc_entries(ROOT):
        page = html / f"{entry}.html"
        assert page.exists(), f"{page} missing"
    chapter = (html / "notebooks" / "synthetic.html").read_text()
    assert "Traceback" not in chapter and "Notes on the paper" in chapter
    assert "parameter set" in chapter and "smoke" in chapter


def test_every_glued_name_the_prose_quotes_is_glued_once(smoke_book):
    """A name glued twice or quoted but never glued is only a warning of the HTML build: fail here instead."""
    tmp, _ = smoke_book
    notebooks = sorted((tmp / "build").glob("**/src/notebooks/*.ipynb"))  # the executed chapters
    assert len(notebooks) >= 10
    for path in notebooks:
        cells = nbformat.read(path, as_version=4).cells
        glued = [o.get("metadata", {}).get("scrapbook", {}).get("name") for c in cells for o in c.get("outputs", [])]
        glued = [name for name in glued if name]
        prose = "".join(c.source for c in cells if c.cell_type == "markdown")
        quoted = set(re.findall(r"\{glue:[a-z]+\}`([^`:]+)", prose)) | set(re.findall(r"\{glue:[a-z]+\} (\S+)", prose))
        assert len(glued) == len(set(glued)), (path.name, sorted({n for n in glued if glued.count(n) > 1}))
        assert quoted <= set(glued), (path.name, sorted(quoted - set(glued)))


def test_the_first_page_shows_this_builds_answer_and_the_ranking_has_the_candidates(smoke_book):
    tmp, index = smoke_book
    criteria_dir = tmp / "results" / "smoke" / "criteria"
    answer = (criteria_dir / "answer.md").read_text()
    intro = (index.parent / "book" / "intro.html").read_text()
    assert "computed at" in answer and "replaced, when" not in intro
    assert ("No criterion beats the trivial rules" in intro) == answer.startswith("**No criterion")
    ranked = pd.concat([pd.read_csv(criteria_dir / f"criteria_{kind}_all.csv") for kind in ("ranking", "alone")])
    candidates = set(ranked.candidate) - {"always distil", "never distil"}
    assert {"crit_cmi", "mi_gap", "crit_headroom", "crit_soft_info"} <= candidates and len(candidates) >= 9


def test_stage_answer_copies_the_answer_or_says_it_is_missing(tmp_path):
    (tmp_path / "src" / "book").mkdir(parents=True)
    book.stage_answer(tmp_path / "results", "mine", tmp_path / "src")
    assert "has not been run for the `mine` parameter set" in (tmp_path / "src" / "book" / "answer.md").read_text()
    (tmp_path / "results" / "mine" / "criteria").mkdir(parents=True)
    (tmp_path / "results" / "mine" / "criteria" / "answer.md").write_text("**Yes.**\n")
    book.stage_answer(tmp_path / "results", "mine", tmp_path / "src")
    assert (tmp_path / "src" / "book" / "answer.md").read_text() == "**Yes.**\n"


def test_failing_notebook_stops_and_keeps_partial_copy(tmp_path):
    root = tmp_path / "proj"
    (root / "notebooks" / "params" / "smoke").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "book" / "intro.md").write_text("# Intro\n")
    shutil.copy(ROOT / "_config.yml", root)
    (root / "book" / "references.bib").write_text("")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/broken\n")
    (root / "notebooks" / "broken.py").write_text(
        '# %% tags=["parameters"]\nparams_name = "default"\nresults_root = "."\n\n# %%\nraise RuntimeError("deliberate")\n'
    )
    with pytest.raises(book.BookError, match="(?s)notebooks/broken failed.*deliberate") as info:
        book.run(root, "smoke")
    failed = root / "_build" / "smoke" / "failed" / "notebooks" / "broken.ipynb"
    assert str(failed) in str(info.value) and failed.exists()
    assert not (root / "_build" / "smoke" / "src" / "notebooks" / "broken.ipynb").exists()
    assert not (root / "_build" / "smoke" / "_build").exists()


def test_unknown_parameter_set_and_chapter():
    with pytest.raises(book.BookError, match="no parameter set 'nope'"):
        book.run(ROOT, "nope", build=False)
    with pytest.raises(book.BookError, match="unknown chapter"):
        book.run(ROOT, "smoke", only=["nope"], build=False)


def test_every_notebook_has_every_parameter_set_and_a_parameters_cell():
    for entry in book.executable_entries(ROOT):
        notebook = jupytext.read(ROOT / f"{entry}.py")
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "params_name" in tagged[0].source
        if entry.startswith("notebooks/"):
            for name in ("smoke", "default", "paper"):
                assert (ROOT / "notebooks" / "params" / name / f"{entry.split('/')[-1]}.yml").exists()


def test_papermill_reads_every_parameter_of_every_notebook(tmp_path):
    """papermill parses each line of a parameters cell; one it cannot parse (e.g. an ``=`` in
    its comment) makes every run warn that the parameter is unknown, though it is not."""
    import papermill

    for entry in book.executable_entries(ROOT):
        path = tmp_path / f"{entry.replace('/', '_')}.ipynb"
        nbformat.write(jupytext.read(ROOT / f"{entry}.py"), path)
        assert set(papermill.inspect_notebook(str(path))) == set(book.notebook_defaults(ROOT, entry)), entry


def test_paired_ipynb_matches_py_source():
    for entry in book.executable_entries(ROOT):
        source = jupytext.read(ROOT / f"{entry}.py")
        paired = nbformat.read(ROOT / f"{entry}.ipynb", as_version=4)
        assert [c.source for c in source.cells] == [c.source for c in paired.cells], (
            f"{entry}.ipynb is out of sync; run `jupytext --sync {entry}.py`"
        )


def test_executor_options_become_notebook_parameters():
    assert book.executor_overrides(None) == {}
    assert book.executor_overrides("dask", workers=2) == {"executor": "dask", "executor_options": {"workers": 2}}
    with pytest.raises(book.BookError, match="need --executor dask"):
        book.executor_overrides("local", scheduler="tcp://127.0.0.1:8786")


def _broken_project(root, chapters):
    """A tiny book whose chapters are ``{name: code}`` notebooks; returns the root."""
    (root / "notebooks" / "params" / "smoke").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "book" / "intro.md").write_text("# Intro\n")
    shutil.copy(ROOT / "_config.yml", root)
    (root / "book" / "references.bib").write_text("")
    toc = "".join(f"  - file: notebooks/{name}\n" for name in chapters)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: book/intro\nchapters:\n{toc}")
    for name, code in chapters.items():
        (root / "notebooks" / f"{name}.py").write_text(
            f'# %% tags=["parameters"]\nparams_name = "default"\nresults_root = "."\n\n# %%\n{code}\n'
        )
    return root


def test_keep_going_runs_the_rest_builds_a_failure_page_and_still_fails(tmp_path):
    root = _broken_project(tmp_path / "proj", {
        "broken": 'raise RuntimeError("deliberate")',
        "fine": 'print("ok")',
    })
    with pytest.raises(book.BookError, match=r"(?s)1 chapter\(s\) failed.*notebooks/broken.*deliberate"):
        book.run(root, "smoke", keep_going=True)
    out = root / "_build" / "smoke"
    assert (out / "src" / "notebooks" / "fine.ipynb").exists()
    html = out / "_build" / "html"
    assert "deliberate" in (html / "build_failures.html").read_text()
    assert "deliberate" in (html / "notebooks" / "broken.html").read_text()
    assert (out / "failed" / "notebooks" / "broken.ipynb").exists()
    # Once the chapter is mended, its failure page and failed copy go away.
    (root / "notebooks" / "broken.py").write_text(
        '# %% tags=["parameters"]\nparams_name = "default"\nresults_root = "."\n\n# %%\nprint("mended")\n'
    )
    book.run(root, "smoke", keep_going=True)
    assert not (out / "failed" / "notebooks" / "broken.ipynb").exists()
    assert not (out / "src" / "notebooks" / "broken.md").exists()
    assert not (out / "src" / "build_failures.md").exists()


def test_keep_going_is_a_command_line_flag(tmp_path, capsys):
    root = _broken_project(tmp_path / "proj", {"broken": 'raise RuntimeError("deliberate")'})
    status = book.main(["--root", str(root), "--params", "smoke", "--keep-going", "--no-build"])
    assert status == 1
    assert "deliberate" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "notebooks").glob("*.py")))
def test_smoke_uses_each_chapters_default_estimators(name):
    """`make test` must fail the way `make book` would: smoke runs the default estimators (issue 15)."""
    import yaml

    defaults = book.notebook_defaults(ROOT, f"notebooks/{name}")
    smoke = yaml.safe_load((ROOT / "notebooks" / "params" / "smoke" / f"{name}.yml").read_text()) or {}
    for key in ("mi_method", "mi_method_alt", "methods", "estimators"):
        if key in defaults and key in smoke:
            chosen = smoke[key] if isinstance(smoke[key], list) else [smoke[key]]
            wanted = defaults[key] if isinstance(defaults[key], list) else [defaults[key]]
            assert set(wanted) <= set(chosen), f"smoke/{name}.yml sets {key}={smoke[key]!r}; default is {defaults[key]!r}"


# ---------------------------------------------------------------- parameter-set validation (issue 17)


def _project_with_params(tmp_path, yml: str | None, name="smoke"):
    root = _broken_project(tmp_path / "proj", {"chap": 'print("ran")'})
    (root / "notebooks" / "chap.py").write_text(
        '# %% tags=["parameters"]\nparams_name = "default"\nresults_root = "."\n'
        'epochs = 10\nlr = 0.01\nseeds = [0, 1]\nverbose = False\nnote = None\n\n# %%\nprint("ran")\n'
    )
    if yml is not None:
        (root / "notebooks" / "params" / "smoke" / "chap.yml").write_text(yml)
    return root


@pytest.mark.parametrize(
    "yml, message",
    [
        ("epoch: 5\n", r"chap.yml: unknown parameter 'epoch'; did you mean 'epochs'\?"),
        ('epochs: "five"\n', r"chap.yml: parameter 'epochs' expects int .*got str 'five'"),
        ("seeds: 3\n", r"chap.yml: parameter 'seeds' expects list .*got int 3"),
        ("verbose: 1\n", r"parameter 'verbose' expects bool"),
        ("epochs: 2.5\n", r"parameter 'epochs' expects int"),
        ("epochs: [1\n", r"chap.yml is not valid YAML"),
        ("- 1\n- 2\n", r"chap.yml must be a mapping .* YAML list"),
    ],
)
def test_bad_parameter_files_fail_before_anything_runs(tmp_path, yml, message):
    root = _project_with_params(tmp_path, yml)
    with pytest.raises(book.BookError, match=message):
        book.run(root, "smoke", build=False)
    assert not (root / "_build" / "smoke" / "src").exists()  # nothing staged, nothing executed


def test_good_parameter_values_pass_validation(tmp_path):
    root = _project_with_params(tmp_path, "epochs: 3\nlr: 1\nseeds: [4]\nverbose: true\nnote: anything\n")
    book.validate_parameter_set(root, "smoke", book.executable_entries(root))


def test_the_runners_parameters_are_valid_in_every_notebook_and_their_type_is_checked(tmp_path):
    root = _project_with_params(tmp_path, "executor: dask\nexecutor_options: {workers: 2}\ncache_root: /tmp/c\n")
    book.validate_parameter_set(root, "smoke", book.executable_entries(root))  # chap.py declares none of them
    (root / "notebooks" / "params" / "smoke" / "chap.yml").write_text("executor_options: 2\n")
    with pytest.raises(book.BookError, match="parameter 'executor_options' expects dict"):
        book.validate_parameter_set(root, "smoke", book.executable_entries(root))


def test_papermill_does_not_warn_of_the_runners_parameters_but_of_others(caplog):
    logger = logging.getLogger("papermill")
    with caplog.at_level(logging.WARNING, logger="papermill"):
        logger.warning("Passed unknown parameter: results_root")
        logger.warning("Passed unknown parameter: epochz")
    assert [r.getMessage() for r in caplog.records] == ["Passed unknown parameter: epochz"]


def test_a_parameter_file_for_no_notebook_is_an_error(tmp_path):
    root = _project_with_params(tmp_path, None)
    (root / "notebooks" / "params" / "smoke" / "chapp.yml").write_text("epochs: 3\n")
    with pytest.raises(book.BookError, match=r"no notebook named 'chapp'.*did you mean chap.yml"):
        book.validate_parameter_set(root, "smoke", book.executable_entries(root))


@pytest.mark.parametrize("name", ["../../../somewhere", "smoke/..", "/tmp", "smok"])
def test_params_must_name_a_folder_under_notebooks_params(tmp_path, name):
    root = _project_with_params(tmp_path, None)
    with pytest.raises(book.BookError, match="not a path"):
        book.run(root, name, build=False)
    assert not (tmp_path / "somewhere").exists() and not (root / "_build").exists()


def test_the_real_parameter_sets_are_valid():
    entries = book.executable_entries(ROOT)
    for name in book.parameter_names(ROOT):
        book.validate_parameter_set(ROOT, name, entries)


def test_strays_of_a_killed_run_are_removed_and_never_rendered(tmp_path):
    root = _project_with_params(tmp_path, None)
    src = root / "_build" / "smoke" / "src" / "notebooks"
    src.mkdir(parents=True)
    for stray in ("chap.unexecuted.ipynb", "chap.partial.ipynb", "other.partial.unexecuted.ipynb"):
        (src / stray).write_text("{}")
    book.run(root, "smoke", build=False)
    assert sorted(p.name for p in src.iterdir()) == ["chap.ipynb"]
