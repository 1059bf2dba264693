"""Mutual-information estimation for the CCH book; every estimate is in nats.

Use :func:`estimate` (one number), :func:`estimate_many` (one per seed) or
:func:`estimate_with_se` (mean and standard error over seeds).  See :mod:`cchlib.mi.api` for the methods.
"""

from .api import DEFAULT_METHOD, METHODS, NAMES, CheckedMI, MIEstimate, check_spec, estimate, estimate_many, estimate_with_se

__all__ = ["DEFAULT_METHOD", "METHODS", "NAMES", "CheckedMI", "MIEstimate", "check_spec", "estimate", "estimate_many", "estimate_with_se"]
