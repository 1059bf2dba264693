"""The teacher-selection workflow: loaders, malformed input, models, the command, the template."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from cchlib import book
from cchlib import select as cch
from conftest import ROOT

FAST = ["--epochs", "2", "--hidden", "16", "--mi-method", "ksg", "--mi-repeats", "2", "--quiet"]


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def arrays(n=200, seed=0):
    """Two informative views and labels, paired by row."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    z = y[:, None] + 0.5 * rng.standard_normal((n, 3))
    return {"a": z @ rng.standard_normal((3, 5)), "b": z @ rng.standard_normal((3, 4))}, y


def write_npz(path, **changes):
    modalities, y = arrays()
    payload = {**modalities, "y": y, **changes}
    np.savez(path, **{k: v for k, v in payload.items() if v is not None})
    return path


def run(capsys, *argv):
    status = cch.main([*map(str, argv)])
    return status, capsys.readouterr()


# --- the command -----------------------------------------------------------


def test_command_happy_path_writes_ranking(tmp_path, capsys):
    data = write_npz(tmp_path / "d.npz")
    status, out = run(capsys, "--data", data, *FAST, "--seeds", 0, 1, "--kd-check", "--out", tmp_path / "res")
    assert status == 0, out.err
    assert "MI gap" in out.out and "CCH verdict" in out.out
    table = pd.read_csv(tmp_path / "res.csv")
    assert set(zip(table.teacher, table.student)) == {("a", "b"), ("b", "a")}
    assert {"mi_ts", "mi_ts_se", "mi_sl", "mi_gap", "mi_gap_se", "kd_gain", "verdict", "agrees"} <= set(table)
    assert np.allclose(table.mi_gap, table.mi_ts - table.mi_sl)
    assert (table.cch_predicts_gain == (table.mi_gap > 0)).all()
    payload = json.loads((tmp_path / "res.json").read_text())
    assert payload["task"] == "classification" and len(payload["ranking"]) == 2


def test_command_reads_csv_folder_matched_by_id(tmp_path, capsys):
    modalities, y = arrays()
    ids = [f"s{i}" for i in range(len(y))]
    folder = tmp_path / "csv"
    folder.mkdir()
    pd.DataFrame({"sample_id": ids, "y": np.where(y == 1, "yes", "no")}).to_csv(folder / "labels.csv", index=False)
    for name, x in modalities.items():  # rows shuffled: matching must go by id
        order = np.random.default_rng(1).permutation(len(y))
        table = pd.DataFrame(x[order]).assign(sample_id=np.array(ids)[order])
        table.to_csv(folder / f"{name}.csv", index=False)
    ds = cch.load_paired(folder)
    assert np.allclose(ds.modalities["a"], modalities["a"].astype(np.float32))
    status, out = run(capsys, "--data", folder, *FAST, "--out", tmp_path / "res")
    assert status == 0, out.err


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"y": None}, "has no labels"),
        ({"a": np.full((200, 5), np.nan)}, "NaN"),
        ({"b": np.zeros((200, 1))}, "single column"),
        ({"a": np.ones((150, 5))}, "150 samples but there are 200 labels"),
    ],
)
def test_command_rejects_malformed_npz(tmp_path, capsys, changes, message):
    data = write_npz(tmp_path / "d.npz", **changes)
    status, out = run(capsys, "--data", data, *FAST)
    assert status == 2
    assert message in out.err and out.err.startswith("cch-select: error:")


def test_command_rejects_too_few_samples(tmp_path, capsys):
    modalities, y = arrays(n=40)
    np.savez(tmp_path / "d.npz", y=y, **modalities)
    status, out = run(capsys, "--data", tmp_path / "d.npz", *FAST)
    assert status == 2 and "too few samples" in out.err


def test_command_rejects_mismatched_ids(tmp_path, capsys):
    folder = tmp_path / "csv"
    folder.mkdir()
    pd.DataFrame({"sample_id": range(100), "y": [0, 1] * 50}).to_csv(folder / "labels.csv", index=False)
    pd.DataFrame({"sample_id": range(100), "f1": 1.0, "f2": 2.0}).to_csv(folder / "a.csv", index=False)
    pd.DataFrame({"sample_id": range(5, 105), "f1": 1.0, "f2": 2.0}).to_csv(folder / "b.csv", index=False)
    status, out = run(capsys, "--data", folder, *FAST)
    assert status == 2 and "mismatched ids: b.csv lacks 5 labelled ids" in out.err


def test_command_rejects_missing_label_values_in_csv(tmp_path, capsys):
    folder = tmp_path / "csv"
    folder.mkdir()
    labels = pd.DataFrame({"sample_id": range(100), "y": ["a", "b"] * 50})
    labels.loc[3, "y"] = None
    labels.to_csv(folder / "labels.csv", index=False)
    for name in ("a", "b"):
        pd.DataFrame({"sample_id": range(100), "f1": np.arange(100.0), "f2": 1.0}).to_csv(folder / f"{name}.csv", index=False)
    status, out = run(capsys, "--data", folder, *FAST)
    assert status == 2 and "1 labels are missing" in out.err


def test_command_needs_kind_of_3d_array(tmp_path, capsys):
    modalities, y = arrays()
    data = write_npz(tmp_path / "d.npz", c=np.random.default_rng(0).standard_normal((200, 3, 4)))
    status, out = run(capsys, "--data", data, *FAST)
    assert status == 2 and "--kind" in out.err
    status, out = run(capsys, "--data", data, *FAST, "--kind", "c=sequence", "--out", tmp_path / "r")
    assert status == 0, out.err


# --- the library ---------------------------------------------------------------


def test_labels_are_encoded_by_task():
    assert cch.encode_labels(np.array(["b", "a", "b"])).tolist() == [1, 0, 1]
    assert cch.encode_labels(np.array([3, 7, 3])).tolist() == [0, 1, 0]
    assert cch.encode_labels(np.array([0.5, 1.5])).dtype == np.float64
    with pytest.raises(ValueError, match="whole numbers"):
        cch.encode_labels(np.array([0.5, 1.0]), task="classification")


def test_split_is_stratified_and_disjoint():
    modalities, y = arrays(n=300)
    ds = cch.from_arrays(modalities, y, test_frac=0.3)
    assert not np.intersect1d(ds.train_idx, ds.test_idx).size
    assert len(ds.train_idx) + len(ds.test_idx) == 300
    assert abs(ds.labels[ds.test_idx].mean() - ds.labels.mean()) < 0.02


def test_model_kinds_share_the_chapters_networks():
    from cchlib.models import IMAGE_HIDDEN as HIDDEN
    from cchlib.models import StackedMoseiNet

    image = cch.make_model("image", [0, 1], (8, 8, 1), 3, "t")
    assert [w.shape[-1] for w in image.weights] == [*HIDDEN, 3]
    assert isinstance(cch.make_model("sequence", [0], (5,), 2, "t"), StackedMoseiNet)
    with pytest.raises(ValueError, match="unknown model kind"):
        cch.make_model("transformer", [0], (5,), 2, "t")


def test_user_module_factory_trains_and_gives_representations():
    def factory(input_shape, n_out):
        return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(input_shape)), 6), nn.ReLU(), nn.Linear(6, n_out))

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    ds = cch.from_arrays({"img": rng.standard_normal((200, 2, 3)) + y[:, None, None], "v": rng.standard_normal((200, 4))}, y)
    result = cch.select_teachers(
        ds, kinds={"img": factory}, seeds=[0, 1], settings=cch.Settings(epochs=30, lr=1e-2, hidden=[8]),
        mi_method="ksg", mi_repeats=2, progress=False,
    )
    assert len(result.ranking) == 2
    assert (result.baselines.query("modality == 'img'").score > 0.7).all()  # the informative view was learned
    stack = cch.make_model(factory, [0, 1], (2, 3), 2, "r")
    assert stack.features(torch.zeros(2, 5, 2, 3)).shape == (2, 5, 6)
    same = cch.make_model(factory, [0, 1], (2, 3), 2, "r")
    assert torch.equal(stack.copies[1][1].weight, same.copies[1][1].weight)  # seeded per copy


def test_factory_without_representation_is_rejected():
    with pytest.raises(ValueError, match="features"):
        cch.make_model(lambda shape, k: nn.Linear(shape[0], k), [0], (4,), 2, "r")


def test_informative_teacher_ranks_above_noise():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    z = y[:, None] + 0.7 * rng.standard_normal((600, 3))
    views = {
        "student": z + 0.7 * rng.standard_normal((600, 3)),
        "teacher": z + 0.1 * rng.standard_normal((600, 3)),
        "noise": rng.standard_normal((600, 3)),
    }
    ds = cch.from_arrays(views, y)
    result = cch.select_teachers(ds, students=["student"], seeds=[0], settings=cch.Settings(epochs=15, hidden=[16]),
                                 mi_method="ksg", mi_repeats=2, progress=False)
    assert result.ranking.teacher.tolist() == ["teacher", "noise"]
    assert result.ranking.mi_ts.iloc[0] > result.ranking.mi_ts.iloc[1] + 0.2


def test_regression_labels_run_with_kd_check():
    modalities, y = arrays()
    ds = cch.from_arrays(modalities, y + 0.1 * np.random.default_rng(0).standard_normal(len(y)))
    assert ds.task == "regression"
    result = cch.select_teachers(ds, seeds=[0], settings=cch.Settings(epochs=2), mi_method="ksg", mi_repeats=2,
                                 kd_check=True, progress=False)
    assert np.isfinite(result.ranking.kd_gain).all()
    assert (result.baselines.score <= 0).all()  # minus the MSE


# --- the template notebook -------------------------------------------------------


def test_template_notebook_runs_on_a_user_npz(tmp_path):
    data = cch.make_demo_npz(tmp_path / "mine.npz", n=400)
    out = tmp_path / "run.ipynb"
    book.execute_notebook(
        ROOT, "notebooks/template_new_modality", "smoke", out, tmp_path / "results",
        overrides={"data_path": str(data), "model_kinds": dict(cch.DEMO_KINDS), "chapter": "mine"},
    )
    folder = tmp_path / "results" / "smoke" / "mine"
    ranking = pd.read_csv(folder / "ranking.csv")
    assert len(ranking) == 4 * 3
    rows = pd.read_csv(folder / "scorecard_rows.csv")
    assert len(rows) == len(ranking) and (rows.data == "mine (mine.npz)").all()
    assert "Traceback" not in out.read_text()


# --- the verdict (cchlib.stats) ------------------------------------------------------


def test_pure_noise_is_undecided_on_every_row():
    """Views and labels all independent: no row may get a decided verdict at the defaults."""
    rng = np.random.default_rng(1)
    n = 200
    views = {"v1": rng.standard_normal((n, 4)), "v2": rng.standard_normal((n, 8)), "v3": rng.standard_normal((n, 2))}
    ds = cch.from_arrays(views, rng.integers(0, 2, n))
    result = cch.select_teachers(ds, settings=cch.Settings(epochs=2, hidden=[16]), mi_method="ksg", mi_repeats=2,
                                 kd_check=True, progress=False)
    ranking = result.ranking
    assert len(ranking) == 6 and (ranking.n_seeds == len(cch.DEFAULT_SEEDS)).all()
    assert (ranking.verdict == "undecided").all(), ranking[["teacher", "student", "mi_gap", "mi_gap_p"]]
    assert set(ranking.kd_verdict) <= {"agrees", "disagrees", "unresolved"}
    assert {"mi_gap_null", "mi_gap_low", "mi_gap_high", "why_undecided"} <= set(ranking)
    assert "undecided" in cch.format_ranking(ranking)


def test_too_few_seeds_are_undecided_and_shown(tmp_path, capsys):
    data = write_npz(tmp_path / "d.npz")
    status, out = run(capsys, "--data", data, *FAST, "--seeds", 0, 1, "--out", tmp_path / "res")
    assert status == 0, out.err
    table = pd.read_csv(tmp_path / "res.csv")
    assert len(table) == 2 and (table.verdict == "undecided").all()
    assert table.why_undecided.str.contains("seeds").all()


def test_criteria_option_reports_the_candidates(tmp_path, capsys):
    """The criteria (default on) add CCH's rival criteria per pair, I(Y;H_T|H_S) printed; --no-criteria: none."""
    modalities, y = arrays()
    data = tmp_path / "d.npz"
    np.savez(data, a=modalities["a"], b=modalities["b"], copy=modalities["a"].copy(), y=y)
    status, out = run(capsys, "--data", data, *FAST, "--seeds", 0, 1, "--criteria", "--out", tmp_path / "res")
    assert status == 0, out.err
    table = pd.read_csv(tmp_path / "res.csv")
    assert {"crit_cka", "crit_probe", "crit_agreement", "crit_teacher_score", "gap_ksg"} <= set(table)
    assert table[["crit_cka", "crit_probe", "crit_agreement", "crit_teacher_score"]].notna().all().all()
    assert ((table.crit_cka >= 0) & (table.crit_cka <= 1 + 1e-9)).all()
    assert table.crit_cmi.notna().all() and "I(Y;H_T|H_S)" in out.out
    without = run(capsys, "--data", data, *FAST, "--seeds", 0, 1, "--no-criteria", "--out", tmp_path / "plain")
    assert without[0] == 0 and "crit_cka" not in pd.read_csv(tmp_path / "plain.csv")


def test_a_failed_computation_exits_1_and_bad_input_exits_2(tmp_path, capsys, monkeypatch):
    """Exit status 2 is for the user's input only; an error while training is the computation's."""
    data = write_npz(tmp_path / "d.npz")
    status, out = run(capsys, "--data", data, *FAST, "--students", "nosuch")
    assert status == 2 and "unknown modalities ['nosuch']" in out.err

    def diverges(*args, **kwargs):
        raise RuntimeError("the loss became NaN")

    monkeypatch.setattr(cch, "select_teachers", diverges)
    status, out = run(capsys, "--data", data, *FAST, "--out", tmp_path / "r")
    assert status == 1 and "the computation failed: RuntimeError: the loss became NaN" in out.err


def test_every_option_has_help_and_the_commands_have_a_version(capsys):
    from cchlib import __version__, book

    for parser in (cch.parser(), book.parser()):
        undocumented = [a.dest for a in parser._actions if not a.help]
        assert not undocumented, f"{parser.prog}: no help for {undocumented}"
    with pytest.raises(SystemExit) as exit_:
        cch.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"cch-select (cchlib) {__version__}"


@pytest.mark.parametrize("script", ["cch-select", "cch-book"])
def test_the_console_scripts_are_installed(script):
    """`make install` (pip install -e .) puts both commands beside the interpreter."""
    import subprocess
    import sys
    from pathlib import Path

    from cchlib import __version__

    done = subprocess.run([str(Path(sys.executable).parent / script), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"{script} (cchlib) {__version__}"
