"""Hardening (issue 17): constant columns and file permissions."""

import os
import stat

import numpy as np
import pytest

from cchlib import mi
from cchlib.io import atomic_write_text
from cchlib.mi.inputs import constant_columns
from cchlib.train import drop_constant_columns


def float32_held_at(value=0.1, n=500, std=1.8e-7, seed=0):
    rng = np.random.default_rng(seed)
    return (np.float32(value) + rng.normal(0, std, n).astype(np.float32)).astype(np.float32)


def test_float32_rounding_noise_counts_as_constant_for_both_rules():
    rng = np.random.default_rng(1)
    h = np.c_[rng.normal(size=500), float32_held_at()].astype(np.float32)
    assert 0 < h[:, 1].std() < 1e-6
    assert constant_columns(h).tolist() == [False, True]
    assert drop_constant_columns(h).shape == (500, 1)
    with pytest.raises(ValueError, match=r"x has constant column\(s\) \[1\]"):
        mi.estimate(h, rng.normal(size=500), method="ksg")


def test_genuine_small_variation_is_not_constant():
    x = 1e9 + np.arange(100.0)  # float64 timestamps: tiny relative spread, but real
    assert not constant_columns(x).any()
    assert not constant_columns(np.array([0, 0, 1], dtype=np.int64)).any()


def test_all_constant_representation_is_a_clear_error_not_an_invalid_column():
    h = np.zeros((50, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="every unit .* is constant"):
        drop_constant_columns(h)


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_written_files_follow_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        path = atomic_write_text(tmp_path / "t.csv", "a\n1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert path.read_text() == "a\n1\n"
