"""MNIST loader (checksums, search order, errors), BSDS backgrounds, MNIST-M, blur, KD loss grouping."""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from cchlib.data import mnist as M
from cchlib.data.paired import PairedDataset


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (uint8) holding ``array``."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def fake_mnist(folder: Path, n_train=6, n_test=4) -> dict:
    """Write four tiny IDX .gz files; return name -> MD5 of their decompressed content."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, array in arrays.items():
        raw = idx_bytes(array)
        (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        digests[name] = hashlib.md5(raw).hexdigest()
    return digests


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    """No data root, and a home folder without caches."""
    monkeypatch.delenv("CCH_DATA_ROOT", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_parse_idx_roundtrip_and_bad_header():
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    assert np.array_equal(M.parse_idx(idx_bytes(array)), array)
    with pytest.raises(ValueError, match="magic"):
        M.parse_idx(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="holds 23 values"):
        M.parse_idx(idx_bytes(array)[:-1])


def test_fake_files_fail_the_published_checksums(no_data_anywhere):
    folder = no_data_anywhere / "mnist"
    fake_mnist(folder)
    with pytest.raises(M.MNISTChecksumError, match="6bbc9ace898e44ae57da46a324031adb"):
        M.load_mnist(folder, download=False)


def test_loader_accepts_files_with_matching_checksums(no_data_anywhere, monkeypatch):
    folder = no_data_anywhere / "mine"
    monkeypatch.setattr(M, "MNIST_MD5", fake_mnist(folder))
    data = M.load_mnist(folder, download=False)
    assert data.x_train.shape == (6, 28, 28) and data.x_test.shape == (4, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert data.source == folder


def test_corrupted_file_is_rejected(no_data_anywhere, monkeypatch):
    folder = no_data_anywhere / "mine"
    monkeypatch.setattr(M, "MNIST_MD5", fake_mnist(folder))
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[-1] ^= 1  # one flipped bit in the content
    labels.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(M.MNISTChecksumError, match="t10k-labels-idx1-ubyte"):
        M.load_mnist(folder, download=False)
    labels.write_bytes(b"not gzip at all")
    with pytest.raises(M.MNISTChecksumError, match="cannot be decompressed"):
        M.load_mnist(folder, download=False)


def test_search_order_data_root_then_torchvision_layout(no_data_anywhere, monkeypatch):
    root = no_data_anywhere / "root"
    tv = no_data_anywhere / "home" / ".cache" / "MNIST" / "raw"
    digests = fake_mnist(tv)
    monkeypatch.setattr(M, "MNIST_MD5", digests)
    assert M.find_mnist(download=False) == tv  # the torchvision layout under ~/.cache
    fake_mnist(root / "mnist")
    monkeypatch.setenv("CCH_DATA_ROOT", str(root))
    assert M.find_mnist(download=False) == root / "mnist"  # the data root comes first


def test_missing_files_raise_a_helpful_error(no_data_anywhere):
    folder = no_data_anywhere / "empty"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"")  # one of four is not enough
    with pytest.raises(M.MNISTMissing) as info:
        M.load_mnist(folder, download=False)
    message = str(info.value)
    for name in M.MNIST_MD5:
        assert f"{name}.gz" in message
    assert str(folder) in message and "CCH_DATA_ROOT" in message


@pytest.mark.skipif(not os.environ.get("CCH_DATA_ROOT"), reason="needs $CCH_DATA_ROOT with mnist/")
def test_real_mnist_loads_with_published_checksums():
    data = M.load_mnist(download=False)
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(data.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_jpegs(folder: Path, n=3, size=(40, 36)) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"{i}.jpg")


def test_backgrounds_from_a_folder_and_missing_error(no_data_anywhere, monkeypatch):
    folder = no_data_anywhere / "bsds"
    write_jpegs(folder)
    monkeypatch.setenv("CCH_SKIP_CHECKSUMS", "1")  # three made-up images, not BSDS500's
    bg = M.load_backgrounds(folder, download=False)
    assert bg.is_bsds and len(bg.images) == 3 and bg.images[0].shape == (40, 36, 3)
    assert 0.0 <= bg.images[0].min() and bg.images[0].max() <= 1.0
    monkeypatch.setattr(M, "_skimage_backgrounds", lambda: None)  # as without scikit-image
    with pytest.raises(M.BackgroundsMissing, match="BSDS500/data/images/train"):
        M.load_backgrounds(no_data_anywhere / "nothing", download=False)


def test_skimage_fallback_is_labelled_a_stand_in(no_data_anywhere, monkeypatch):
    stand_in = M.Backgrounds((np.zeros((30, 30, 3), np.float32),), "scikit-image sample images (1; a stand-in for BSDS500)", "skimage.data")
    monkeypatch.setattr(M, "_skimage_backgrounds", lambda: stand_in)
    bg = M.load_backgrounds(no_data_anywhere / "nothing", download=False)
    assert not bg.is_bsds and "stand-in" in bg.name


@pytest.fixture
def backgrounds():
    rng = np.random.default_rng(2)
    images = tuple(rng.random((h, w, 3)).astype(np.float32) for h, w in [(40, 50), (60, 30), (28, 28)])
    return M.Backgrounds(images, "BSDS500 test double", "memory")


@pytest.fixture
def digits():
    return np.random.default_rng(3).integers(0, 256, (50, 28, 28)).astype(np.uint8)


def test_mnist_m_shape_range_channels_and_determinism(digits, backgrounds):
    a = M.make_mnist_m(digits, backgrounds, alpha=0.2, seed=0)
    assert a.shape == (50, 28, 28, 3) and a.dtype == np.uint8
    assert np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 0], a[..., 2])
    assert np.array_equal(a, M.make_mnist_m(digits, backgrounds, alpha=0.2, seed=0))
    assert not np.array_equal(a, M.make_mnist_m(digits, backgrounds, alpha=0.2, seed=1))
    # the digit adds exactly alpha of full intensity where it is on
    on = M.binarise(digits) == 1
    bg = M.make_mnist_m(np.zeros_like(digits), backgrounds, alpha=0.2, seed=0)
    diff = a[..., 0].astype(int) - bg[..., 0].astype(int)
    assert np.all(np.abs(diff[on] - 51) <= 1) and np.all(diff[~on] == 0)
    # a subset build equals the same images of the full build
    sub = M.make_mnist_m(digits, backgrounds, alpha=0.2, seed=0, index=[3, 40])
    assert np.array_equal(sub, a[[3, 40]])


def test_mnist_m_alpha_extremes(digits, backgrounds):
    only_digit = M.make_mnist_m(digits, backgrounds, alpha=1.0, seed=0)
    assert np.array_equal(only_digit[..., 0], (M.binarise(digits) * 255).astype(np.uint8))
    other_digits = np.random.default_rng(9).integers(0, 256, digits.shape).astype(np.uint8)
    only_background = M.make_mnist_m(digits, backgrounds, alpha=0.0, seed=0)
    assert np.array_equal(only_background, M.make_mnist_m(other_digits, backgrounds, alpha=0.0, seed=0))
    with pytest.raises(ValueError, match="alpha"):
        M.make_mnist_m(digits, backgrounds, alpha=1.5)


def test_ganin_recipe_is_abs_difference_with_colour_patch(digits, backgrounds):
    g = M.make_mnist_m(digits, backgrounds, seed=0, recipe="ganin")
    assert g.shape == (50, 28, 28, 3) and not np.array_equal(g[..., 0], g[..., 1])
    blank = M.make_mnist_m(np.zeros_like(digits), backgrounds, seed=0, recipe="ganin")
    on = M.binarise(digits) == 1
    assert np.all(np.abs(g[on].astype(int) - (255 - blank[on].astype(int))) <= 1)
    with pytest.raises(ValueError, match="recipe"):
        M.make_mnist_m(digits, backgrounds, recipe="nope")


def test_load_mnist_m_caches_one_build(digits, backgrounds, isolated_cache):
    data = M.MNIST(digits[:30], np.zeros(30, np.int64), digits[30:], np.zeros(20, np.int64), Path("."))
    train, test = M.load_mnist_m(data, backgrounds, alpha=0.3, seed=5)
    assert train.shape == (30, 28, 28, 3) and test.shape == (20, 28, 28, 3)
    files = list((isolated_cache / "mnist_m").glob("*.npy"))
    assert len(files) == 1
    again_train, _ = M.load_mnist_m(data, backgrounds, alpha=0.3, seed=5)
    assert np.array_equal(train, again_train) and len(list((isolated_cache / "mnist_m").glob("*.npy"))) == 1
    M.load_mnist_m(data, backgrounds, alpha=0.18, seed=5)
    assert len(list((isolated_cache / "mnist_m").glob("*.npy"))) == 2


def test_blur_gamma_zero_is_identity_and_blur_smooths(digits):
    images = digits[:5].astype(np.float32)
    assert np.array_equal(M.gaussian_blur(images, 0.0), images)
    blurred = M.gaussian_blur(images, 1.5)
    assert blurred.shape == images.shape
    assert blurred.std() < 0.7 * images.std()  # smoothing lowers pixel contrast
    centre = np.zeros((1, 28, 28), np.float32)
    centre[0, 14, 14] = 1.0
    assert abs(M.gaussian_blur(centre, 2.5).sum() - 1.0) < 1e-4  # mass kept away from borders
    with pytest.raises(ValueError, match="non-negative"):
        M.gaussian_blur(images, -1.0)


def tiny_data(alpha, settings):
    """A stand-in for load_data: 96 training and 40 test images of two easy classes."""
    rng = np.random.default_rng(0)

    def split(n):
        y = rng.integers(0, 2, n)
        digits = rng.random((n, 28, 28)).astype(np.float32) * 0.2
        digits[y == 1, 10:18, 10:18] += 0.8
        student = (alpha * digits + (1 - alpha) * rng.random((n, 28, 28))).reshape(n, -1).astype(np.float32)
        return digits, student, y.astype(np.int64)

    parts = [split(96), split(40)]
    teacher, student, y = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return PairedDataset({"mnist": teacher, "mnistm": student}, y, np.arange(96), np.arange(96, 136), name="tiny")


def test_run_cell_rows_and_seed_batching(monkeypatch):
    from cchlib.experiments import mnist as exp

    monkeypatch.setattr(exp, "load_data", tiny_data)
    settings = dict(gammas=[0.0, 2.5], lam=0.5, batch_size=32, mi_method="ksg", mi_samples=30,
                    mi_method_alt="ksg", mi_samples_alt=20)
    condition = dict(alpha=0.5, schedule="test", optimiser="adam", lr=1e-3, epochs=2, temperatures=[1, 3], mi_alt=True)
    both = exp.run_cell(condition, [0, 1], settings)
    alone = exp.run_cell(condition, [1], settings)
    rows = both[1]
    assert len(rows) == 4 and {(r["gamma"], r["T"]) for r in rows} == {(0.0, 1.0), (0.0, 3.0), (2.5, 1.0), (2.5, 3.0)}
    assert len({r["acc_nokd"] for r in rows}) == 1 and len({r["mi_sl"] for r in rows}) == 1  # one baseline per seed
    assert rows[0]["teacher_acc"] == rows[0]["teacher_acc_blur"]  # gamma = 0 is the clean teacher
    assert {"mi_ts_alt", "mi_sl_alt", "mi_tl_alt"} <= set(rows[0])
    for a, b in zip(rows, alone[1]):  # a seed's result does not depend on its batch-mates
        assert a["acc_kd"] == b["acc_kd"] and a["acc_nokd"] == b["acc_nokd"]
        assert a["mi_ts"] == pytest.approx(b["mi_ts"], abs=1e-6)
    no_alt = exp.run_cell({**condition, "mi_alt": False}, [0], settings)[0][0]
    assert "mi_ts_alt" not in no_alt


def test_settings_name_a_mistyped_setting():
    from cchlib.experiments import mnist as exp

    s = exp.Settings.from_dict(dict(gammas=[0.0], lam=0.5, batch_size=32, mi_method="ksg"))
    assert s.as_dict()["recipe"] == "paper" and s.mi_samples is None  # load_data's and run_cell's defaults
    with pytest.raises(ValueError, match="'batch_size'"):
        exp.Settings.from_dict(dict(gammas=[0.0], lam=0.5, batch_size=32.0, mi_method="ksg"))
