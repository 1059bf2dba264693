"""Seeding that leaves the caller's random state untouched.

Estimators that rely on global random number generators (the reference
``latentmi`` package draws from ``numpy.random``, ``torch`` and Python's
``random``) are run inside :func:`seeded_globals`, which seeds all three and
restores their previous states on exit, so calling an estimator never changes
what the rest of a notebook draws next.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


@contextlib.contextmanager
def seeded_globals(seed: int):
    """Seed Python, numpy and torch (CPU and CUDA) global RNGs; restore them on exit."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.random.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.random.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
