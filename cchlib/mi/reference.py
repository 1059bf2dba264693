"""The reference latent-MI estimator: the ``latentmi`` package (0.1.3), wrapped.

``latentmi.lmi.estimate`` (Gowri et al., NeurIPS 2024) returns pointwise MI
estimates in *bits* (NaN for the training samples), prints a progress line
every epoch whatever its ``quiet`` flag says, and draws its split, shuffling
and initialisation from the global numpy / torch RNGs.  This wrapper

* converts to nats and returns the mean of the pointwise estimates, as the
  package's own examples do;
* swallows its stdout;
* seeds numpy, torch and ``random`` for the call and restores their previous
  states afterwards (:func:`cchlib.mi.rng.seeded_globals`);
* one-hot encodes class labels, since the package needs 2-D float arrays.

Options are passed through under the package's own names (``N_dims``,
``epochs``, ``patience``, ``batch_size``, ``lr``, ``validation_split``, ...).
Known behaviour of 0.1.3 that this wrapper keeps, because it is the
reference: its early stopper stores a live ``state_dict`` reference, so the
*last* weights rather than the best are used; and the validation half is used
both for early stopping and for the KSG estimate.
"""

from __future__ import annotations

import contextlib
import inspect
import io

import numpy as np

from .inputs import is_labels, one_hot, require_samples
from .rng import seeded_globals

NATS_PER_BIT = float(np.log(2.0))
_FIXED = ("Xs", "Ys", "quiet")


def _latentmi():
    """The ``latentmi.lmi`` module, an optional dependency (the ``latentmi`` extra)."""
    try:
        from latentmi import lmi
    except ImportError as error:
        raise ImportError("method='latentmi' needs the latentmi package, an optional extra of cchlib: "
                          "pip install -e '.[latentmi]' (make install includes it; it needs numpy < 2)") from error
    return lmi


def check_options(options: dict) -> None:
    """Reject option names that ``latentmi.lmi.estimate`` does not take."""
    lmi = _latentmi()
    allowed = set(inspect.signature(lmi.estimate).parameters) - set(_FIXED)
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(
            f"method='latentmi' got unknown option(s) {sorted(unknown)}; "
            f"latentmi.lmi.estimate accepts {sorted(allowed)}."
        )


def estimate(x: np.ndarray, y: np.ndarray, seed: int = 0, **options) -> float:
    """I(x; y) in nats from ``latentmi.lmi.estimate``, silent and seed-contained."""
    lmi = _latentmi()
    check_options(options)
    split = options.get("validation_split", 0.5)
    require_samples(int(len(x) * split), 4, "latentmi", "its KSG step needs k=3 neighbours in the held-out split")
    y = one_hot(y) if is_labels(y) else y
    with seeded_globals(seed), contextlib.redirect_stdout(io.StringIO()):
        pointwise, _, _ = lmi.estimate(x.astype(np.float32), y.astype(np.float32), quiet=True, **options)
    return float(np.nanmean(pointwise)) * NATS_PER_BIT
