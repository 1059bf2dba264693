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


# --------------------------------------------------------------------------------------
# Checksum manifests: damaged copies of the real BSDS500 and TCGA files (issue 17)
# --------------------------------------------------------------------------------------

import gzip
import os
import shutil

from cchlib.data import store, tcga

SHARED = Path(os.environ.get("CCH_DATA_ROOT") or "/nonexistent")
needs_data = pytest.mark.skipif(not (SHARED / "tcga").is_dir() or not (SHARED / "bsds").is_dir(),
                                reason="needs $CCH_DATA_ROOT with tcga/ and bsds/")


@pytest.fixture
def tmp_root(tmp_path, monkeypatch):
    """An empty data root and cache in tmp_path; checksums on."""
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("CCH_DATA_ROOT", str(root))
    monkeypatch.setenv("CCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(store.SKIP_CHECKSUMS_ENV, raising=False)
    return root


def _copy_lihc(root: Path) -> Path:
    shutil.copytree(SHARED / "tcga" / "LIHC", root / "tcga" / "LIHC")
    return root / "tcga" / "LIHC"


@needs_data
def test_the_manifests_match_the_shared_data(monkeypatch):
    monkeypatch.delenv(store.SKIP_CHECKSUMS_ENV, raising=False)
    store.verify_files(SHARED / "bsds" / "train", "bsds500")
    store.verify_files(SHARED / "tcga", "tcga")
    sums = (SHARED / "bsds" / "SHA256SUMS").read_text().splitlines()
    assert store.read_manifest("bsds500") == {line.split()[1]: line.split()[0] for line in sums}
    read_by_loaders = {f"{c}/{n}" for c in tcga.COHORTS for n in ("rppa.csv.gz", "cnv_segments.csv.gz", tcga.LABEL_FILES[c])}
    assert set(store.read_manifest("tcga")) == read_by_loaders


@needs_data
def test_a_corrupt_tcga_gzip_is_named(tmp_root, monkeypatch):
    rppa = _copy_lihc(tmp_root) / "rppa.csv.gz"
    rppa.chmod(0o644)
    rppa.write_bytes(rppa.read_bytes()[: rppa.stat().st_size // 2])  # truncated gzip
    with pytest.raises(store.DataFileError, match=r"wrong SHA-256: " + re.escape(str(rppa)) + r".*Firehose.*CCH_SKIP_CHECKSUMS=1"):
        tcga.load_cohort("LIHC", ["rppa"])
    monkeypatch.setenv(store.SKIP_CHECKSUMS_ENV, "1")  # unchecked, the damage is still named
    with pytest.raises(store.DataFileError, match=re.escape(str(rppa)) + r" cannot be read \((EOFError|BadGzipFile)"):
        tcga.load_cohort("LIHC", ["rppa"])


@needs_data
def test_a_tcga_file_with_half_its_rows_is_reported(tmp_root, monkeypatch):
    rppa = _copy_lihc(tmp_root) / "rppa.csv.gz"
    lines = gzip.decompress(rppa.read_bytes()).splitlines(keepends=True)
    rppa.chmod(0o644)
    rppa.write_bytes(gzip.compress(b"".join(lines[: 1 + (len(lines) - 1) // 2])))  # a valid gzip, half the rows
    with pytest.raises(store.DataFileError, match=r"tcga data check failed.*wrong SHA-256: " + re.escape(str(rppa))):
        tcga.load_cohort("LIHC", ["rppa"])
    monkeypatch.setenv(store.SKIP_CHECKSUMS_ENV, "1")  # the documented opt-out loads it as it is
    assert len(tcga.load_cohort("LIHC", ["rppa"]).patients) < 150


def _copy_bsds(root: Path) -> Path:
    folder = root / "bsds" / "train"
    shutil.copytree(SHARED / "bsds" / "train", folder)
    for jpg in folder.iterdir():
        jpg.chmod(0o644)
    return folder


@needs_data
def test_a_truncated_bsds_jpeg_is_named(tmp_root, monkeypatch):
    jpg = sorted(_copy_bsds(tmp_root).glob("*.jpg"))[7]
    jpg.write_bytes(jpg.read_bytes()[:3000])
    with pytest.raises(store.DataFileError, match=r"wrong SHA-256: " + re.escape(str(jpg)) + r".*BSR_bsds500\.tgz"):
        M.load_backgrounds(download=False)
    monkeypatch.setenv(store.SKIP_CHECKSUMS_ENV, "1")
    with pytest.raises(store.DataFileError, match=re.escape(str(jpg)) + " cannot be read"):
        M.load_backgrounds(download=False)


@needs_data
def test_missing_bsds_images_are_reported_not_loaded(tmp_root):
    folder = _copy_bsds(tmp_root)
    for jpg in sorted(folder.glob("*.jpg"))[50:]:
        jpg.unlink()
    with pytest.raises(store.DataFileError, match=r"150 of 200 files missing from " + re.escape(str(folder))
                       + r".*and 145 more.*Get them from .*BSR_bsds500\.tgz.*CCH_SKIP_CHECKSUMS=1"):
        M.load_backgrounds(download=False)


def test_verify_files_skips_unlisted_names_and_honours_the_opt_out(tmp_path, monkeypatch):
    monkeypatch.delenv(store.SKIP_CHECKSUMS_ENV, raising=False)
    store.verify_files(tmp_path, "tcga", ["LIHC/mrna.csv.gz"])  # a user's own file: not in the manifest
    with pytest.raises(store.DataFileError, match="1 of 1 files missing.*LIHC/rppa.csv.gz"):
        store.verify_files(tmp_path, "tcga", ["LIHC/rppa.csv.gz"])
    monkeypatch.setenv(store.SKIP_CHECKSUMS_ENV, "1")
    store.verify_files(tmp_path, "tcga", ["LIHC/rppa.csv.gz"])
