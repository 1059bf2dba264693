"""`python -m cchlib.select`: damaged files, options and outputs checked before any training (issue 17)."""

import os
import stat

import numpy as np
import pytest

from cchlib import select as cch
from test_select import write_npz

FAST = ["--epochs", "1", "--hidden", "8", "--mi-method", "ksg", "--mi-repeats", "2", "--seeds", "0", "--quiet"]


@pytest.fixture
def no_training(monkeypatch):
    """Any attempt to train fails the test: these inputs must be rejected before."""
    def refuse(*args, **kwargs):
        raise AssertionError("training started before the input was rejected")
    monkeypatch.setattr(cch.kd, "run_pairs", refuse)


def run(capsys, *argv):
    try:
        status = cch.main([*map(str, argv)])
    except SystemExit as exit_:  # argparse rejects an option
        status = exit_.code
    return status, capsys.readouterr()


def one_line_error(out, *needles):
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cch-select: error:"), out.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_payload_byte(path):
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # inside the first member's data: its CRC no longer matches
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _flip_payload_byte, lambda p: p.write_bytes(b"not a zip at all\n" * 20)],
                         ids=["truncated", "crc", "not-zip"])
def test_damaged_npz_is_one_line_naming_the_file(tmp_path, capsys, no_training, damage):
    data = write_npz(tmp_path / "d.npz")
    damage(data)
    status, out = run(capsys, "--data", data, *FAST, "--out", tmp_path / "r")
    assert status == 2
    one_line_error(out, str(data), "not a readable .npz")


@pytest.mark.parametrize(
    "option, message",
    [(["--mi-repeats", "1"], "--mi-repeats: must be at least 2"), (["--seeds", "-1"], "--seeds: must be at least 0"),
     (["--epochs", "0"], "--epochs: must be at least 1")],
)
def test_bad_options_are_rejected_by_name(tmp_path, capsys, no_training, option, message):
    data = write_npz(tmp_path / "d.npz")
    status, out = run(capsys, "--data", data, *FAST, *option)
    assert status == 2 and message in out.err


@pytest.mark.parametrize(
    "changes, needles",
    [
        ({"y": np.zeros(200, dtype=int)}, ["single class"]),
        ({"y": np.full(200, 1.5)}, ["regression target is constant"]),
        ({"b": np.full((200, 4), 3.0)}, ["modality 'b' is constant"]),
        ({"a": np.ones((200, 5)) + 1j}, ["modality 'a' is complex-valued"]),
        ({"train_idx": np.arange(0, 140).astype(float), "test_idx": np.arange(140, 200).astype(float)},
         ["train_idx must be a 1-D array of integer"]),
        ({"train_idx": np.r_[np.arange(0, 139), 0], "test_idx": np.arange(140, 200)}, ["train_idx repeats"]),
    ],
    ids=["one-class", "constant-target", "constant-modality", "complex", "float-split", "duplicate-split"],
)
def test_unusable_data_is_rejected_before_training(tmp_path, capsys, no_training, changes, needles):
    data = write_npz(tmp_path / "d.npz", **changes)
    status, out = run(capsys, "--data", data, *FAST, "--out", tmp_path / "r")
    assert status == 2
    one_line_error(out, *needles)


@pytest.mark.parametrize("make_bad", ["read-only", "file-as-parent"])
def test_unwritable_out_is_rejected_before_training(tmp_path, capsys, no_training, make_bad):
    if make_bad == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root can write into a read-only folder")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        out = folder / "res"
    else:
        (tmp_path / "afile").write_text("x")
        out = tmp_path / "afile" / "res"
    data = write_npz(tmp_path / "d.npz")
    status, result = run(capsys, "--data", data, *FAST, "--out", out)
    assert status == 2
    one_line_error(result, "--out: cannot write")


def test_out_naming(tmp_path):
    assert cch.output_paths("run.v1") == (cch.Path("run.v1.csv"), cch.Path("run.v1.json"))
    assert cch.output_paths(f"{tmp_path}/res/") == (tmp_path / "res" / "cch_selection.csv",
                                                    tmp_path / "res" / "cch_selection.json")
    assert cch.output_paths(str(tmp_path)) == (tmp_path / "cch_selection.csv", tmp_path / "cch_selection.json")


def test_out_folder_receives_the_files_with_the_users_umask(tmp_path, capsys):
    data = write_npz(tmp_path / "d.npz")
    old = os.umask(0o022)
    try:
        status, out = run(capsys, "--data", data, *FAST, "--out", f"{tmp_path}/res/")
    finally:
        os.umask(old)
    assert status == 0, out.err
    written = tmp_path / "res" / "cch_selection.csv"
    assert written.exists() and (tmp_path / "res" / "cch_selection.json").exists()
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
