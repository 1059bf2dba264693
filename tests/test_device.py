"""The one device helper: explicit choices, no silent CPU fallback, and the device log."""

import json

import pytest
import torch

from cchlib import mi
from cchlib.device import default_device


def test_cpu_when_asked_and_cuda_refused_without_a_gpu(monkeypatch):
    monkeypatch.setenv("CCH_DEVICE", "cpu")
    assert default_device().type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv("CCH_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="CCH_DEVICE.*no CUDA"):
            default_device()


def test_every_choice_is_logged_with_its_module(tmp_path, monkeypatch):
    log = tmp_path / "devices.jsonl"
    monkeypatch.setenv("CCH_DEVICE_LOG", str(log))
    monkeypatch.setenv("CCH_DEVICE", "cpu")
    rng = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=rng)
    mi.estimate(x, x[:, :1] + 0.1 * torch.randn(200, 1, generator=rng), method="lmi", epochs=2)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"module": "cchlib.mi.lmi", "device": "cpu"} in entries
