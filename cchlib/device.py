"""Where tensors live: the one place that picks the compute device.

CUDA when it is present, otherwise the CPU. Two environment variables make a run
checkable on a GPU machine (``benchmarks/gpu_mnist_paper.py`` sets both):

``CCH_DEVICE``      the device to use (``cuda``, ``cuda:1``, ``cpu``); asking for CUDA
                    where there is none is an error, never a silent CPU fallback.
``CCH_DEVICE_LOG``  a file to which every choice is appended as one JSON line naming
                    the calling module and the device, so a run can show that each
                    stage (training, each MI estimator) ran where it should.
"""

from __future__ import annotations

import json
import os
import sys

import torch


def default_device(requested: str | torch.device | None = None) -> torch.device:
    """``requested``, else ``$CCH_DEVICE``, else CUDA when available, else the CPU."""
    choice = requested or os.environ.get("CCH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {choice!r} was asked for (argument or CCH_DEVICE) but torch sees no CUDA device; "
                           "unset CCH_DEVICE to run on the CPU.")
    _log(device)
    return device


def _log(device: torch.device) -> None:
    """Append the caller's module and the device to ``$CCH_DEVICE_LOG`` when it is set."""
    path = os.environ.get("CCH_DEVICE_LOG")
    if path:
        caller = sys._getframe(2).f_globals.get("__name__", "?")
        with open(path, "a") as log:
            log.write(json.dumps({"module": caller, "device": str(device)}) + "\n")
