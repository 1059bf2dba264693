"""The committed result store: keyed by what was computed, read before the cache,
self-checking, store-only runs that train nothing, and verification by recomputation."""

import gzip
import json
import os

import pandas as pd
import pytest

from cchlib import book, report, resultstore, sweep
from cchlib.provenance import batch_record
from cchlib.resultstore import ResultStore, StoreError

from conftest import ROOT

CALLS = []


def toy_cell(condition, seeds, settings):
    CALLS.append(tuple(seeds))
    return {s: [{"value": condition["a"] * 10 + s + settings["shift"], "a": condition["a"], "seed": s}]
            for s in seeds}


def setup_function():
    CALLS.clear()


def _sweep(tmp_path, store, seeds=(0, 1), shift=0):
    return sweep.run_sweep(toy_cell, [{"a": 1}, {"a": 2}], list(seeds), {"shift": shift},
                           cache=tmp_path / "cache", progress=False, store=store)


def test_computed_cells_are_written_with_provenance_and_read_back_without_computing(tmp_path):
    store = ResultStore(tmp_path / "store")
    first = _sweep(tmp_path, store)
    records = store.records()
    assert len(records) == 4
    for path, record in records:
        assert path.name == "test_resultstore.toy_cell.jsonl.gz"  # compacted when the sweep ended
        assert record["provenance"]["batch_seeds"] == [0, 1]  # each condition's seeds ran as one batch
        assert record["provenance"]["batch_wall_s"] >= 0
        assert record["provenance"]["device"].startswith("cpu")
        assert record["settings"] == {"shift": 0}
    CALLS.clear()
    again = sweep.run_sweep(toy_cell, [{"a": 1}, {"a": 2}], [0, 1], {"shift": 0}, cache=tmp_path / "other-cache",
                            progress=False, store=ResultStore(tmp_path / "store", only=True))
    assert CALLS == []
    pd.testing.assert_frame_equal(first, again)  # columns too: in the order the cell function gave them
    assert list(again.columns) == ["value", "a", "seed"]


def test_a_code_edit_does_not_orphan_stored_cells(tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "store")
    _sweep(tmp_path, store)
    CALLS.clear()
    monkeypatch.setattr(sweep, "code_version", lambda module=None: "another-code-version")  # the cache key changes ...
    rows = _sweep(tmp_path, ResultStore(tmp_path / "store", only=True))  # ... the store key does not
    assert CALLS == [] and list(rows.value) == [10, 11, 20, 21]


def test_other_settings_are_other_cells(tmp_path):
    _sweep(tmp_path, ResultStore(tmp_path / "store"))
    rows = _sweep(tmp_path, ResultStore(tmp_path / "store"), shift=100)
    assert list(rows.value) == [110, 111, 120, 121]
    assert len(ResultStore(tmp_path / "store").records()) == 8


def test_a_store_only_run_names_the_missing_cells_and_computes_nothing(tmp_path):
    _sweep(tmp_path, ResultStore(tmp_path / "store"), seeds=[0])
    CALLS.clear()
    with pytest.raises(StoreError, match=r"lacks 2 of 4 cells.*\{'a': 1\} seed 1"):
        _sweep(tmp_path, ResultStore(tmp_path / "store", only=True))
    assert CALLS == []


def test_missing_cells_are_computed_and_added(tmp_path):
    _sweep(tmp_path, ResultStore(tmp_path / "store"), seeds=[0])
    CALLS.clear()
    _sweep(tmp_path, ResultStore(tmp_path / "store"), seeds=[0, 1])
    assert CALLS == [(1,), (1,)]
    assert len(ResultStore(tmp_path / "store").records()) == 4


def test_cells_taken_from_the_cache_are_added_to_the_store_without_a_wall_time(tmp_path):
    _sweep(tmp_path, None)
    CALLS.clear()
    _sweep(tmp_path, ResultStore(tmp_path / "store"))
    assert CALLS == []
    assert [r["provenance"]["batch_wall_s"] for _, r in ResultStore(tmp_path / "store").records()] == [None] * 4


def _lines(path):
    return gzip.decompress(path.read_bytes()).decode().splitlines()


def _write_lines(path, lines):
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def _rewrite_line(path, number, change):
    """Apply ``change`` to the record on line ``number`` (1-based) of a compressed store file."""
    lines = _lines(path)
    record = json.loads(lines[number - 1])
    change(record)
    lines[number - 1] = json.dumps(record)
    _write_lines(path, lines)


@pytest.mark.parametrize("damage, message", [
    (lambda r: r["rows"][0].update(value=999), "do not match their checksum"),
    (lambda r: r.pop("provenance"), "missing fields"),
    (lambda r: r["provenance"].pop("device"), "provenance lacks"),
    (lambda r: r.update(format=0), "format 0"),
    (lambda r: r["condition"].update(a=5), "key does not match"),
])
def test_a_damaged_stored_cell_is_an_error_naming_the_file_and_line(tmp_path, damage, message):
    store = ResultStore(tmp_path / "store")
    _sweep(tmp_path, store, seeds=[0])
    path = store.records()[0][0]
    _rewrite_line(path, 2, damage)
    with pytest.raises(StoreError, match=message) as error:
        _sweep(tmp_path, ResultStore(tmp_path / "store"), seeds=[0])
    assert f"{path.name}:2" in str(error.value)


def test_a_line_that_is_not_json_is_an_error(tmp_path):
    store = ResultStore(tmp_path / "store")
    _sweep(tmp_path, store, seeds=[0])
    path = store.records()[0][0]
    _write_lines(path, ["{not json", *_lines(path)])
    with pytest.raises(StoreError, match=":1 is not a JSON record"):
        ResultStore(tmp_path / "store").records()
    path.write_bytes(path.read_bytes()[:30])  # a truncated gzip file
    with pytest.raises(StoreError, match="not readable gzip"):
        ResultStore(tmp_path / "store").records()


def test_a_torn_last_line_is_ignored_then_cut_off_by_the_next_write(tmp_path):
    """A run killed while appending leaves half a line: readers skip it, the next append removes it."""
    store = ResultStore(tmp_path / "store")
    provenance = batch_record([0], 1.0, "cpu")
    for a in (1, 2):
        store.put("test_resultstore.toy_cell", {"a": a}, 0, {"shift": 0}, [{"value": a}], provenance)
    path = store.path("test_resultstore.toy_cell")
    whole = path.read_text()
    path.write_text(whole + whole.splitlines()[0][:40])  # half of a third record, no newline
    with pytest.warns(UserWarning, match="last line is incomplete"):
        assert len(ResultStore(tmp_path / "store").records()) == 2
    ResultStore(tmp_path / "store").put("test_resultstore.toy_cell", {"a": 3}, 0, {"shift": 0},
                                        [{"value": 3}], provenance)
    assert path.read_text().startswith(whole) and path.read_text().endswith("\n")
    assert len(ResultStore(tmp_path / "store").records()) == 3


def test_compaction_folds_appended_cells_into_the_compressed_file_once(tmp_path):
    store = ResultStore(tmp_path / "store")
    _sweep(tmp_path, store, seeds=[0])  # 2 cells, compacted
    gz = store.path("test_resultstore.toy_cell", compressed=True)
    plain = store.path("test_resultstore.toy_cell")
    assert gz.exists() and not plain.exists()
    plain.write_text("\n".join(_lines(gz)[:1]) + "\n")  # a run killed between writing .gz and removing .jsonl
    again = ResultStore(tmp_path / "store")
    assert len(again.records()) == 2  # the cell in both files counts once
    _sweep(tmp_path, again, seeds=[0, 1])  # 2 new cells appended, then everything compacted
    assert not plain.exists() and len(_lines(gz)) == 4
    assert len({json.loads(line)["key"] for line in _lines(gz)}) == 4


def test_verify_recomputes_a_sample_and_finds_a_cell_that_no_longer_reproduces(tmp_path):
    store = ResultStore(tmp_path / "store")
    _sweep(tmp_path, store)
    report = resultstore.verify(store, sample=4, progress=lambda _: None)
    assert report["reproduced"].all() and (report["max_abs_difference"] == 0).all()
    path = store.records()[0][0]  # the code now gives another number: re-write a cell as if stored earlier
    _rewrite_line(path, 1, _shift_value(0.5))
    report = resultstore.verify(ResultStore(store.root), sample=4, progress=lambda _: None)
    stale = report[~report.reproduced]
    assert len(stale) == 1 and stale.max_abs_difference.iloc[0] == pytest.approx(0.5)
    assert "value: stored" in stale.first_difference.iloc[0]


def _shift_value(by):
    """A change to a record: its value moved by ``by``, with a matching checksum (as if computed so)."""
    def change(record):
        record["rows"][0]["value"] += by
        record["sha256"] = resultstore.rows_checksum(record["rows"])
    return change


def test_compare_rows_tolerance_and_labels():
    assert resultstore.compare_rows([{"x": 1.0, "k": "a"}], [{"x": 1.0005, "k": "a"}], rtol=1e-3, atol=0)[0]
    assert not resultstore.compare_rows([{"x": 1.0}], [{"x": 1.01}], rtol=1e-3, atol=0)[0]
    assert not resultstore.compare_rows([{"x": 1.0, "k": "a"}], [{"x": 1.0, "k": "b"}], rtol=1, atol=1)[0]
    assert not resultstore.compare_rows([{"x": 1.0}], [{"y": 1.0}], rtol=1, atol=1)[0]
    # a timing the cell measured is not compared, but must be there
    assert resultstore.compare_rows([{"x": 1.0, "seconds": 4.4}], [{"x": 1.0, "seconds": 4.8}], rtol=0, atol=0)[0]
    assert not resultstore.compare_rows([{"x": 1.0, "seconds": 4.4}], [{"x": 1.0}], rtol=1, atol=1)[0]


def test_the_book_names_the_store_to_its_kernels_and_restores_the_environment(tmp_path):
    with book.store_environment(tmp_path, store_only=True):
        assert os.environ[resultstore.STORE_ENV] == str(tmp_path.resolve())
        assert ResultStore.from_environment() == ResultStore(tmp_path.resolve(), only=True)
    assert resultstore.STORE_ENV not in os.environ
    with pytest.raises(book.BookError, match="--store-only needs a result store"):
        with book.store_environment(None, store_only=True):
            pass
    assert book.default_store(ROOT, "paper") == ROOT / "store" / "paper"
    assert book.default_store(ROOT, "smoke") is None


def other_cell(condition, seeds, settings):
    return {s: [{"value": -condition["a"] - s, "seed": s}] for s in seeds}


def test_verify_samples_every_cell_function_and_can_be_narrowed_to_some(tmp_path):
    store = ResultStore(tmp_path / "store")
    _sweep(tmp_path, store)  # 4 cells of toy_cell
    sweep.run_sweep(other_cell, [{"a": 1}], [0], {}, cache=tmp_path / "cache", progress=False, store=store)
    report = resultstore.verify(store, sample=1, progress=lambda _: None)
    assert set(report.fn) == {"test_resultstore.other_cell", "test_resultstore.toy_cell"}
    assert report.groupby("fn").sampled.sum().tolist() == [1, 1]  # one sampled cell of each function
    narrowed = resultstore.verify(store, sample=3, functions=["other"], progress=lambda _: None)
    assert list(narrowed.fn) == ["test_resultstore.other_cell"] and narrowed.reproduced.all()
    with pytest.raises(StoreError, match="no cells to verify of functions matching"):
        resultstore.verify(store, sample=1, functions=["absent"], progress=lambda _: None)


def test_verify_store_command_reports_and_fails_on_a_stale_cell(tmp_path, capsys):
    store = ResultStore(tmp_path / "store")
    _sweep(tmp_path, store, seeds=[0])
    assert book.main(["--params", "smoke", "--verify-store", "--store", str(store.root), "--sample", "2"]) == 0
    assert "2 of 2 cells reproduced" in capsys.readouterr().out
    _rewrite_line(store.records()[0][0], 1, _shift_value(1))
    assert book.main(["--params", "smoke", "--verify-store", "--store", str(store.root), "--sample", "2"]) == 1
    assert "1 of 2 cells reproduced" in capsys.readouterr().out


def test_verify_retrains_each_batch_once_and_checks_its_other_cells_for_free(tmp_path, capsys):
    """Sampling every seed of a batch retrains that batch once; --all checks every stored cell."""
    store = ResultStore(tmp_path / "store")
    sweep.run_sweep(toy_cell, [{"a": 1}, {"a": 2}, {"a": 3}], [0, 1, 2, 3], {"shift": 0}, cache=tmp_path / "cache",
                    progress=False, store=store)  # 3 batches of 4 seeds
    CALLS.clear()
    lines = []
    report = resultstore.verify(ResultStore(store.root), sample=12, progress=lines.append)
    assert sorted(CALLS) == [(0, 1, 2, 3)] * 3 and len(lines) == 3 and "batch 1/3" in lines[0]
    assert len(report) == 12 and report.sampled.all() and report.reproduced.all()
    CALLS.clear()
    report = resultstore.verify(ResultStore(store.root), sample=1, progress=lambda _: None)
    assert CALLS == [(0, 1, 2, 3)]  # one sampled cell: its batch, once
    assert report.sampled.sum() == 1 and len(report) == 4 and report.reproduced.all()  # 3 more for free
    CALLS.clear()
    assert book.main(["--params", "smoke", "--verify-store", "--store", str(store.root), "--all"]) == 0
    assert len(CALLS) == 3 and "12 of 12 cells reproduced" in capsys.readouterr().out


def test_the_committed_store_is_well_formed():
    """Every committed cell parses and checks (read_records), sits in its function's file, and
    names a cell function that can be re-run."""
    functions = set()
    for folder in sorted((ROOT / "store").glob("*")):
        for path, record in ResultStore(folder).records():
            assert path.name in (f"{record['fn']}.jsonl", f"{record['fn']}.jsonl.gz"), path
            functions.add(record["fn"])
    for name in functions:
        resultstore.import_function(name)
    # the README's table of stored chapters names these
    assert {"cchlib.experiments.synthetic.run_cell", "cchlib.experiments.mfh.run_cell",
            "cchlib.experiments.theory.run_map_point"} <= functions


def test_a_chapter_renders_from_a_fixture_store_without_training(tmp_path, monkeypatch):
    """Fill a store with the synthetic chapter's smoke cells, then render it store-only from an
    empty cache: nothing may be computed (a missing cell would be an error) and the tables match."""
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache-1"))
    run = dict(only=["synthetic"], build=False, build_root=tmp_path / "build", store=tmp_path / "store")
    book.run(ROOT, "smoke", results_root=tmp_path / "first", **run)
    stored = ResultStore(tmp_path / "store").records()
    # the chapter's sweep and the calibration of its MI estimator (the bias correction)
    assert stored and {r["fn"] for _, r in stored} == {"cchlib.experiments.synthetic.run_cell",
                                                       "cchlib.mi.bias.run_cell"}
    assert json.loads((tmp_path / "store" / book.MANIFEST).read_text()) == {  # the manifest names the chapter
        "synthetic": ["cchlib.experiments.synthetic.run_cell", "cchlib.mi.bias.run_cell"]}
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache-2"))
    book.run(ROOT, "smoke", results_root=tmp_path / "second", missing="fail", **run)
    assert not list((tmp_path / "cache-2" / "sweeps").rglob("*.json"))  # no cell was computed and cached
    for table in ("fig1.csv", "fig4.csv", "summary.csv"):
        first = pd.read_csv(tmp_path / "first" / "smoke" / "synthetic" / table)
        pd.testing.assert_frame_equal(first, pd.read_csv(tmp_path / "second" / "smoke" / "synthetic" / table))
    banner = _banner(tmp_path / "build" / "smoke" / "src" / "notebooks" / "synthetic.ipynb")
    params = book.load_parameters(ROOT, "smoke", "notebooks/synthetic")
    sweep_cells, cells = len(params["seeds"]) * len(params["sigma12_grid"]), len(stored)
    assert "**Scale: `smoke`**" in banner and f"All {cells} of its sweep cells were read from the committed" in banner
    (tmp_path / "store" / "cchlib.experiments.synthetic.run_cell.jsonl.gz").unlink()
    book.run(ROOT, "smoke", results_root=tmp_path / "third", missing="compute", **run)  # computed from the cache
    banner = _banner(tmp_path / "build" / "smoke" / "src" / "notebooks" / "synthetic.ipynb")
    assert (f"{cells - sweep_cells} of the {cells} sweep cells it shows were read from the committed result store; "
            f"the other {sweep_cells}") in banner


def _banner(path) -> str:
    import nbformat

    cells = [c for c in nbformat.read(path, as_version=4).cells if "scale-banner" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "one scale banner per page"
    return cells[0].source


def test_a_chapter_the_store_lacks_falls_back_to_the_other_set_and_says_so(tmp_path, monkeypatch):
    """The paper book on a store without the chapter's cells: the chapter is rendered at the
    fallback set (smoke here, for speed), its page carries a warning, and the book's scorecard
    reads that chapter's rows from the set it was rendered at, labelled with that scale."""
    monkeypatch.setattr(book, "FALLBACK_SET", "smoke")
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "empty-store").mkdir()  # a manifest naming the chapter, as a store that lost its cells would have
    (tmp_path / "empty-store" / book.MANIFEST).write_text(json.dumps({"synthetic": ["x.run_cell"]}))
    book.run(ROOT, "paper", only=["synthetic"], build=False, build_root=tmp_path / "build",
             results_root=tmp_path / "results", store=tmp_path / "empty-store")
    banner = _banner(tmp_path / "build" / "paper" / "src" / "notebooks" / "synthetic.ipynb")
    assert "**Scale: `smoke`, not `paper`.**" in banner and "--only synthetic --missing compute" in banner
    cells = len(book.load_parameters(ROOT, "paper", "notebooks/synthetic")["seeds"]) * len(
        book.load_parameters(ROOT, "paper", "notebooks/synthetic")["sigma12_grid"])
    assert (f"the result store lacks {cells} of the {cells} `paper` cells of the chapter's sweep of "
            "`cchlib.experiments.synthetic.run_cell`") in banner
    assert str(tmp_path) not in banner  # no machine path on a page
    assert json.loads((tmp_path / "results" / "paper" / "chapter_scales.json").read_text()) == {"synthetic": "smoke"}
    table = report.collect_scorecard(tmp_path / "results", "paper")
    assert len(table) and set(table.chapter) == {"synthetic"} and set(table.scale) == {"smoke"}
    assert not list(ResultStore(tmp_path / "empty-store").records())  # a fallback writes nothing to the store
    assert not (tmp_path / "results" / "paper" / "synthetic").exists()  # nor keeps the failed attempt's outputs


def test_a_chapter_the_manifest_does_not_name_falls_back_without_a_paper_attempt(tmp_path, monkeypatch):
    """No paper attempt (whose cost is loading the data) for a chapter the store has never held."""
    monkeypatch.setattr(book, "FALLBACK_SET", "smoke")
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    store = tmp_path / "store"
    store.mkdir()
    (store / book.MANIFEST).write_text(json.dumps({"tcga": ["cchlib.experiments.tcga.run_noise_cell"]}))
    attempts = []
    real = book.execute_chapter
    monkeypatch.setattr(book, "execute_chapter", lambda *a: attempts.append(a[2]) or real(*a))
    book.run(ROOT, "paper", only=["synthetic"], build=False, build_root=tmp_path / "build",
             results_root=tmp_path / "results", store=store)
    assert attempts == ["smoke"]  # straight to the fallback set
    banner = _banner(tmp_path / "build" / "paper" / "src" / "notebooks" / "synthetic.ipynb")
    assert "because the result store holds no `paper` results of this chapter" in banner
    assert json.loads((store / book.MANIFEST).read_text()) == {"tcga": ["cchlib.experiments.tcga.run_noise_cell"]}
    with pytest.raises(book.BookError, match="not valid JSON"):
        (store / book.MANIFEST).write_text("{")
        book.read_manifest(store)


def test_the_reason_for_a_fallback_names_what_is_missing_without_a_path():
    import papermill

    lacks = papermill.PapermillExecutionError(
        0, 1, "", "MissingCells", "the result store /home/me/store/paper lacks 5 of 5 cells of "
        "cchlib.experiments.unpaired.run_cell (store-only run, nothing is computed): ...", [])
    reason = book.fallback_reason(lacks, "paper")
    assert reason.startswith("the result store lacks 5 of the 5 `paper` cells") and "/home/me" not in reason
    mosei = papermill.PapermillExecutionError(0, 1, "", "MoseiFileMissing", "no file was found", [])
    assert "real CMU-MOSEI features" in book.fallback_reason(mosei, "paper")


@pytest.mark.parametrize("ename, falls_back", [("MissingCells", True), ("MoseiFileMissing", True),
                                               ("ValueError", False), ("StoreError", False)])
def test_only_missing_cells_or_missing_data_make_a_chapter_fall_back(ename, falls_back):
    import papermill

    cause = papermill.PapermillExecutionError(0, 1, "", ename, "evalue", [])
    try:
        raise book.BookError("notebook failed") from cause
    except book.BookError as error:
        assert book.lacks_cells(error) is falls_back


def test_missing_modes_are_checked_before_anything_runs(tmp_path):
    with pytest.raises(book.BookError, match="--missing must be one of"):
        book.run(ROOT, "paper", only=["synthetic"], build=False, missing="skip", store=tmp_path)
    with pytest.raises(book.BookError, match="needs a result store"):
        book.run(ROOT, "smoke", only=["synthetic"], build=False, missing="fail", store=False)
    with pytest.raises(book.BookError, match="is that set already"):
        book.run(ROOT, "default", only=["synthetic"], build=False, missing="fallback", store=tmp_path)


def _rows(root, scale, chapter, verdicts):
    folder = root / scale / chapter
    folder.mkdir(parents=True, exist_ok=True)
    rows = pd.DataFrame({"chapter": chapter, "condition": [f"c{i}" for i in range(len(verdicts))],
                         "verdict": verdicts, "mi_gap": 0.1, "kd_gain": 0.2, "n_seeds": 5})
    rows.to_csv(folder / "scorecard_rows.csv", index=False)


def test_chapter_files_follow_the_scale_each_chapter_was_rendered_at(tmp_path):
    _rows(tmp_path, "paper", "a", ["agrees"])
    _rows(tmp_path, "paper", "b", ["agrees"])  # stale: this book rendered b at default
    _rows(tmp_path, "default", "b", ["unresolved", "agrees"])
    report.record_chapter_scale(tmp_path, "paper", "b", "default")
    found = report.chapter_files(tmp_path, "paper", "scorecard_rows.csv")
    assert [(p.parent.parent.name, p.parent.name, scale) for p, scale in found] == [
        ("paper", "a", "paper"), ("default", "b", "default")]
    # the comparison of scales leaves out the chapter the paper book showed at default
    both = report.compare_scales(tmp_path, "paper", "default")
    assert both is None or "b" not in set(both.chapter)


def test_a_chapter_page_names_the_conditions_whose_verdict_changes_with_scale(tmp_path):
    _rows(tmp_path, "paper", "a", ["agrees", "unresolved", "disagrees"])
    _rows(tmp_path, "default", "a", ["agrees", "agrees", "disagrees"])
    text = report.compare_chapter_scales(tmp_path, "a", "paper", "default")
    assert "of the 3 conditions both ran, the verdict differs on 1" in text
    assert "c1: unresolved here, agrees at `default`" in text
    assert report.compare_chapter_scales(tmp_path, "missing", "paper", "default") == ""
    banner = book.scale_banner("a", "paper", "paper", tmp_path, from_store=True)
    assert banner.startswith("```{note}") and "differs on 1" in banner
    report.record_chapter_scale(tmp_path, "default", "a", "smoke")  # the default book showed it at smoke:
    assert report.compare_chapter_scales(tmp_path, "a", "paper", "default") == ""  # its default rows are stale
