"""Data loaders on damaged files: fall back to a good copy, rebuild derived caches (issue 17)."""

import re
from pathlib import Path

import numpy as np
import pytest

from cchlib.data import mnist as M
from test_mnist import fake_mnist


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("CCH_DATA_ROOT", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_a_bad_mnist_gz_falls_back_to_the_good_cached_copy(no_data_anywhere, monkeypatch):
    mine = no_data_anywhere / "mine"
    monkeypatch.setattr(M, "MNIST_MD5", fake_mnist(mine))
    fake_mnist(M.cache_dir("mnist"))  # a good copy in the cache
    bad = mine / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:10])  # truncated gzip
    with pytest.warns(UserWarning, match=re.escape(str(bad)) + ".*cannot be decompressed.*next copy"):
        data = M.load_mnist(mine, download=False)
    assert data.source == M.cache_dir("mnist") and data.y_train.shape == (6,)


def test_every_copy_bad_names_each_file(no_data_anywhere, monkeypatch):
    mine = no_data_anywhere / "mine"
    monkeypatch.setattr(M, "MNIST_MD5", fake_mnist(mine))
    (mine / "t10k-images-idx3-ubyte.gz").write_bytes(b"junk")
    with pytest.warns(UserWarning), pytest.raises(M.MNISTChecksumError, match="t10k-images-idx3-ubyte.gz"):
        M.load_mnist(mine, download=False)


@pytest.mark.parametrize("damage", [lambda p: p.write_bytes(p.read_bytes()[:200]), lambda p: p.write_bytes(b"")],
                         ids=["truncated", "empty"])
def test_a_corrupt_mnist_m_cache_is_rebuilt(no_data_anywhere, damage):
    digits = np.random.default_rng(3).integers(0, 256, (50, 28, 28)).astype(np.uint8)
    rng = np.random.default_rng(2)
    backgrounds = M.Backgrounds(tuple(rng.random((40, 50, 3)).astype(np.float32) for _ in range(2)), "double", "memory")
    data = M.MNIST(digits[:30], np.zeros(30, np.int64), digits[30:], np.zeros(20, np.int64), Path("."))
    train, test = M.load_mnist_m(data, backgrounds, alpha=0.3, seed=5)
    (cached,) = (no_data_anywhere / "cache" / "mnist_m").glob("*.npy")
    damage(cached)
    with pytest.warns(UserWarning, match=re.escape(cached.name) + ".*rebuilding"):
        again, _ = M.load_mnist_m(data, backgrounds, alpha=0.3, seed=5)
    assert np.array_equal(train, again)
    assert np.load(cached).shape == (50, 28, 28, 1)


def test_a_pickle_found_by_the_search_is_not_unpickled(tmp_path, monkeypatch):
    """An untrusted mosei_raw.pkl under the data root must not run: only a named file or an opt-in."""
    import pickle

    from cchlib.data import mosei

    root = tmp_path / "root"
    (root / "mosei").mkdir(parents=True)
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (root / "mosei" / mosei.PICKLE_NAME).write_bytes(pickle.dumps(Evil()))
    monkeypatch.delenv(mosei.PATH_ENV, raising=False)
    monkeypatch.delenv(mosei.TRUST_ENV, raising=False)
    monkeypatch.setenv("CCH_DATA_ROOT", str(root))
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(mosei.MoseiFileMissing, match="unpickles only a file you name"):
        mosei.load_mosei(required=True)
    assert not marker.exists()
    monkeypatch.setenv(mosei.TRUST_ENV, "1")  # the explicit opt-in unpickles it (and runs it)
    with pytest.raises(ValueError):
        mosei.load_mosei(required=True)
    assert marker.exists()
