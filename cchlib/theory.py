"""The jointly Gaussian linear model of the paper's Sec. 3 and App. A.

Data ``(x1, x2, y)`` are jointly Gaussian with mean zero and covariance blocks

    S11 = Cov(x1)      (p, p)     S12 = Cov(x1, x2)  (p, p)     S13 = Cov(x1, y)  (p,)
    S22 = Cov(x2)      (p, p)     S23 = Cov(x2, y)   (p,)       S33 = Var(y)      scalar

A teacher ``w1`` outputs ``w1' x1``; the student is fitted by Eq. (4),

    w_hat = argmin_w  sum_i (y_i - w' x2_i)^2 + lam * sum_i (w' x2_i - w1' x1_i)^2,

which is ordinary least squares of the *effective label* of Eq. (9),
``y_bar = (y + lam * w1' x1) / (1 + lam)``, on ``x2`` (set the gradient to zero:
``(1 + lam) X2'X2 w = X2'(y + lam X1 w1)``). For ``n < p`` the minimum-norm
interpolator of the same effective label is used (Theorem 3).

Excess risk (Eq. 5). With ``w* = S22^{-1} S23`` and ``sigma^2 = S33 - w*' S22 w*``,

    E_{x2,y}[(y - w' x2)^2] = S33 - 2 w' S23 + w' S22 w = sigma^2 + (w - w*)' S22 (w - w*),

so the population excess risk of any ``w`` is ``(w - w*)' S22 (w - w*)``.

Finite sample and asymptotics. ``y_bar = w_bar' x2 + e`` with ``w_bar`` of Eq. (10) and
``e`` independent of ``x2`` (Gaussian regression residual) of variance ``sigma_bar^2``
(Eq. 11). Least squares gives ``w_hat - w_bar = (X2'X2)^{-1} X2' e``, hence exactly, for
Gaussian designs and ``n > p + 1`` (inverse-Wishart mean),

    E[R] = (w_bar - w*)' S22 (w_bar - w*) + sigma_bar^2 * p / (n - p - 1),

and ``p / (n - p - 1) -> 1 / (kappa - 1)`` as ``n / p -> kappa > 1``: this is Eq. (13).

Everything here is numpy only (numpy.linalg; no torch). Functions that take the covariance take the six
blocks positionally, so a :class:`GaussianBlocks` ``B`` can be passed as ``*B``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cchlib.data.synthetic import sampler_covariance

__all__ = [
    "GaussianBlocks",
    "Condition",
    "Assumptions",
    "check_blocks",
    "joint_covariance",
    "split_covariance",
    "min_eigenvalue",
    "optimal_student_weight",
    "bayes_teacher_weight",
    "student_noise_variance",
    "effective_target",
    "asymptotic_excess_risk",
    "expected_excess_risk",
    "small_lambda_slope",
    "eq16_expansion",
    "exact_condition",
    "exact_condition_rho",
    "cch_condition",
    "theorem1_assumptions",
    "output_correlations",
    "gaussian_mi",
    "gaussian_mi_logdet",
    "optimal_surrogate_teacher",
    "optimal_surrogate_teacher_ci",
    "min_norm_expected_excess_risk",
    "optimal_surrogate_teacher_min_norm",
    "appb_blocks",
    "per_coordinate_blocks",
    "POPULATIONS",
    "population_blocks",
    "eq7_blocks",
    "eq7_is_psd",
    "random_blocks",
    "sample_joint",
    "fit_student",
    "excess_risk",
    "simulate_excess_risk",
    "summarize_teacher",
    "simulate_kd_gain",
    "mc_verdict",
    "cch_summary",
    "s12_boundary",
]


# ---------------------------------------------------------------------------------------
# Covariance blocks and validation
# ---------------------------------------------------------------------------------------


class GaussianBlocks(NamedTuple):
    """The six covariance blocks of Eq. (3); unpack with ``*blocks``."""

    S11: np.ndarray
    S12: np.ndarray
    S13: np.ndarray
    S22: np.ndarray
    S23: np.ndarray
    S33: float

    @property
    def p(self) -> int:
        return int(np.shape(self.S11)[0])

    def joint(self) -> np.ndarray:
        """The (2p+1, 2p+1) covariance of (x1, x2, y)."""
        return joint_covariance(*self)


class Condition(NamedTuple):
    """A condition of the form ``lhs <op> rhs``, with its truth value."""

    holds: bool
    lhs: float
    rhs: float


class Assumptions(NamedTuple):
    """Theorem 1's assumptions ``w1'S11 w1 <= S33`` (scale) and ``w1'S13 >= 0`` (sign)."""

    holds: bool
    scale_ok: bool
    sign_ok: bool
    teacher_var: float
    S33: float
    w1_S13: float


def joint_covariance(S11, S12, S13, S22, S23, S33) -> np.ndarray:
    """Assemble the (2p+1, 2p+1) covariance of (x1, x2, y) from its blocks (no checks)."""
    S13 = np.asarray(S13, float).reshape(-1, 1)
    S23 = np.asarray(S23, float).reshape(-1, 1)
    S12 = np.asarray(S12, float)
    top = np.hstack([np.asarray(S11, float), S12, S13])
    mid = np.hstack([S12.T, np.asarray(S22, float), S23])
    bottom = np.hstack([S13.T, S23.T, [[float(S33)]]])
    return np.vstack([top, mid, bottom])


def split_covariance(cov, p: int) -> GaussianBlocks:
    """Split a (2p+1, 2p+1) covariance of (x1, x2, y) into checked blocks."""
    cov = np.asarray(cov, float)
    if cov.shape != (2 * p + 1, 2 * p + 1):
        raise ValueError(f"covariance must be ({2 * p + 1}, {2 * p + 1}) for p={p}, got {cov.shape}")
    a, b = slice(0, p), slice(p, 2 * p)
    return check_blocks(
        cov[a, a], cov[a, b], cov[a, 2 * p], cov[b, b], cov[b, 2 * p], cov[2 * p, 2 * p]
    )


def min_eigenvalue(S11, S12, S13, S22, S23, S33) -> float:
    """Smallest eigenvalue of the joint covariance (negative = not a covariance)."""
    return float(np.linalg.eigvalsh(joint_covariance(S11, S12, S13, S22, S23, S33))[0])


def check_blocks(S11, S12, S13, S22, S23, S33, tol: float = 1e-9) -> GaussianBlocks:
    """Validate shapes, symmetry and positive semidefiniteness; return float blocks.

    Raises ``ValueError`` on a shape mismatch, a non-symmetric diagonal block, a joint
    covariance that is not positive semidefinite (smallest eigenvalue below
    ``-tol * max(1, largest |eigenvalue|)``), or a singular ``S22`` (the optimal student
    ``w* = S22^{-1} S23`` must exist).
    """
    S11 = np.atleast_2d(np.asarray(S11, float))
    p = S11.shape[0]
    S12 = np.atleast_2d(np.asarray(S12, float))
    S22 = np.atleast_2d(np.asarray(S22, float))
    S13 = np.asarray(S13, float).reshape(-1)
    S23 = np.asarray(S23, float).reshape(-1)
    S33_arr = np.asarray(S33, float)
    for name, block in (("S11", S11), ("S12", S12), ("S22", S22)):
        if block.shape != (p, p):
            raise ValueError(f"{name} must have shape ({p}, {p}) like S11, got {block.shape}")
    for name, block in (("S13", S13), ("S23", S23)):
        if block.shape != (p,):
            raise ValueError(f"{name} must be a vector of length {p}, got shape {block.shape}")
    if S33_arr.size != 1:
        raise ValueError(f"S33 must be a scalar, got shape {S33_arr.shape}")
    S33 = float(S33_arr.reshape(()))
    for name, block in (("S11", S11), ("S22", S22)):
        if not np.allclose(block, block.T, atol=1e-10, rtol=1e-8):
            raise ValueError(f"{name} must be symmetric")
    joint = joint_covariance(S11, S12, S13, S22, S23, S33)
    eig = np.linalg.eigvalsh(joint)
    scale = max(1.0, float(np.abs(eig).max()))
    if eig[0] < -tol * scale:
        raise ValueError(
            f"the joint covariance of (x1, x2, y) is not positive semidefinite "
            f"(smallest eigenvalue {eig[0]:.4g}); these blocks cannot be a covariance"
        )
    eig22 = np.linalg.eigvalsh(S22)
    if eig22[0] <= tol * max(1.0, float(np.abs(eig22).max())):
        raise ValueError(
            f"S22 is singular (smallest eigenvalue {eig22[0]:.4g}); the optimal student "
            "weight w* = S22^-1 S23 is undefined"
        )
    return GaussianBlocks(S11, S12, S13, S22, S23, S33)


def _check_w1(w1, p: int) -> np.ndarray:
    w1 = np.asarray(w1, float)
    if w1.shape != (p,):
        raise ValueError(f"teacher weight w1 must be a vector of length {p}, got shape {w1.shape}")
    return w1


def _check_kappa(kappa: float) -> float:
    kappa = float(kappa)
    if not kappa > 1:
        raise ValueError(
            f"kappa = n/p must be > 1 for the under-parameterised formulas (Eq. 13-17), got "
            f"{kappa}; for kappa < 1 use min_norm_expected_excess_risk or simulation"
        )
    return kappa


def _check_lam(lam):
    arr = np.asarray(lam, float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"the distillation weight lam must be finite and >= 0, got {lam}")
    return arr


def _as_output(value):
    value = np.asarray(value, float)
    return float(value) if value.ndim == 0 else value


# ---------------------------------------------------------------------------------------
# Population quantities
# ---------------------------------------------------------------------------------------


def optimal_student_weight(S22, S23) -> np.ndarray:
    """``w* = S22^{-1} S23``, the population-optimal student."""
    return np.linalg.solve(np.asarray(S22, float), np.asarray(S23, float))


def bayes_teacher_weight(S11, S13) -> np.ndarray:
    """``S11^{-1} S13``, the population-optimal (Bayes) teacher on x1 (pseudo-inverse if singular)."""
    S11 = np.asarray(S11, float)
    S13 = np.asarray(S13, float)
    try:
        return np.linalg.solve(S11, S13)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(S11) @ S13


def student_noise_variance(S22, S23, S33) -> float:
    """``sigma^2 = S33 - w*' S22 w*``: the Bayes risk of predicting y from x2."""
    w_star = optimal_student_weight(S22, S23)
    return float(S33 - w_star @ S23)


def _pieces(w1, B: GaussianBlocks) -> dict:
    """The scalars Eq. (13) is made of, for teacher w1 (validated blocks)."""
    w_star = optimal_student_weight(B.S22, B.S23)
    theta = np.linalg.solve(B.S22, B.S12.T @ w1)  # S22^-1 S12' w1
    diff = theta - w_star
    sigma2 = float(B.S33 - w_star @ B.S23)
    c = float(w1 @ (B.S13 - B.S12 @ w_star))  # Cov(w1'x1, y - w*'x2)
    d = float(w1 @ B.S11 @ w1 - w1 @ B.S12 @ theta)  # Var(w1'x1 | x2)
    return {
        "w_star": w_star,
        "theta": theta,
        "bias": float(diff @ B.S22 @ diff),
        "sigma2": sigma2,
        "c": c,
        "d": d,
    }


def effective_target(lam: float, w1, S11, S12, S13, S22, S23, S33) -> tuple[np.ndarray, float]:
    """``(w_bar, sigma_bar^2)`` of Eqs. (10)-(11): y_bar = w_bar' x2 + N(0, sigma_bar^2)."""
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    lam = float(_check_lam(lam))
    q = _pieces(w1, B)
    w_bar = (q["w_star"] + lam * q["theta"]) / (1 + lam)
    sigma_bar2 = (q["sigma2"] + 2 * lam * q["c"] + lam**2 * q["d"]) / (1 + lam) ** 2
    return w_bar, float(sigma_bar2)


def _risk_from_pieces(lam, q: dict, variance_factor: float):
    lam = np.asarray(lam, float)
    bias = lam**2 / (1 + lam) ** 2 * q["bias"]
    noise = (q["sigma2"] + 2 * lam * q["c"] + lam**2 * q["d"]) / (1 + lam) ** 2
    return bias + variance_factor * noise


def asymptotic_excess_risk(lam, w1, S11, S12, S13, S22, S23, S33, kappa):
    """Eq. (13): the asymptotic excess risk R_bar(lam, w1) for n/p -> kappa > 1.

    ``lam`` may be a scalar (returns a float) or an array (returns an array).
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    kappa = _check_kappa(kappa)
    lam = _check_lam(lam)
    return _as_output(_risk_from_pieces(lam, _pieces(w1, B), 1.0 / (kappa - 1)))


def expected_excess_risk(lam, w1, S11, S12, S13, S22, S23, S33, n: int):
    """Exact finite-sample ``E[R(lam, w1)]`` for least squares on n Gaussian samples, n > p + 1.

    Same as Eq. (13) with ``1/(kappa-1)`` replaced by ``p/(n-p-1)`` (inverse-Wishart mean).
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    if int(n) != n or n <= B.p + 1:
        raise ValueError(f"the finite-sample formula needs an integer n > p + 1 = {B.p + 1}, got {n}")
    lam = _check_lam(lam)
    return _as_output(_risk_from_pieces(lam, _pieces(w1, B), B.p / (n - B.p - 1)))


def small_lambda_slope(w1, S11, S12, S13, S22, S23, S33, kappa) -> float:
    """``dR_bar/dlam`` at ``lam = 0``: ``2/(kappa-1) * [w1'(S13 - S12 w*) - sigma^2]``.

    Derived from Eq. (13): the bias term is O(lam^2) and ``1/(1+lam)^2 = 1 - 2 lam + O(lam^2)``.
    (The finite-sample slope is the same with ``p/(n-p-1)`` for ``1/(kappa-1)``.)
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    kappa = _check_kappa(kappa)
    q = _pieces(w1, B)
    return 2.0 / (kappa - 1) * (q["c"] - q["sigma2"])


def eq16_expansion(lam, w1, S11, S12, S13, S22, S23, S33, kappa):
    """Eq. (16) as printed: ``sigma^2/((kappa-1)(1+lam)^2) + 2 lam/(kappa-1) w1'(S13 - S12 w*)``."""
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    kappa = _check_kappa(kappa)
    lam = _check_lam(lam)
    q = _pieces(w1, B)
    return _as_output(q["sigma2"] / ((kappa - 1) * (1 + lam) ** 2) + 2 * lam / (kappa - 1) * q["c"])


# ---------------------------------------------------------------------------------------
# Conditions: the exact small-lambda condition (17)/(21) and CCH
# ---------------------------------------------------------------------------------------


def _exact(w1, B: GaussianBlocks) -> Condition:
    q = _pieces(w1, B)
    return Condition(bool(q["c"] < q["sigma2"]), q["c"], q["sigma2"])


def exact_condition(w1, S11, S12, S13, S22, S23, S33) -> Condition:
    """Eq. (17) with w1 for the paper's w-hat: KD helps at small lam iff lhs < rhs.

    ``lhs = w1'(S13 - S12 S22^{-1} S23)`` (covariance of the teacher output with the
    student's irreducible residual ``y - w*'x2``), ``rhs = S33 - w*'S22 w* = sigma^2``.
    It does not depend on kappa (> 1), and holds for the finite-sample expectation too.
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    return _exact(_check_w1(w1, B.p), B)


def _correlations(w1, B: GaussianBlocks) -> dict:
    w_star = optimal_student_weight(B.S22, B.S23)
    a = float(np.sqrt(max(w1 @ B.S11 @ w1, 0.0)))
    b = float(np.sqrt(max(w_star @ B.S22 @ w_star, 0.0)))
    s = float(np.sqrt(B.S33))
    rho12 = float(w1 @ B.S12 @ w_star / (a * b)) if a > 0 and b > 0 else float("nan")
    rho1y = float(w1 @ B.S13 / (a * s)) if a > 0 and s > 0 else float("nan")
    rho2y = b / s if s > 0 else float("nan")

    def clip(r):
        return float(np.clip(r, -1.0, 1.0)) if np.isfinite(r) else r

    return {"rho12": clip(rho12), "rho1y": clip(rho1y), "rho2y": clip(rho2y), "a": a, "b": b, "s": s}


def output_correlations(w1, S11, S12, S13, S22, S23, S33) -> dict:
    """Correlations of Eqs. (18)-(20) with the corrected normaliser of Eq. (19).

    ``rho12 = corr(w1'x1, w*'x2)``, ``rho1y = corr(w1'x1, y)`` (normalised by
    ``sqrt(S33)``, not ``sqrt(w*'S22 w*)`` as Eq. (19) prints), ``rho2y = corr(w*'x2, y)``.
    NaN where an output is constant (w1'S11w1 = 0 or w* = 0). Also returns the standard
    deviations ``a = sqrt(w1'S11 w1)``, ``b = sqrt(w*'S22 w*)``, ``s = sqrt(S33)``.
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    return _correlations(_check_w1(w1, B.p), B)


def exact_condition_rho(w1, S11, S12, S13, S22, S23, S33) -> Condition:
    """Eq. (21): ``rho12 > rho1y / rho2y - (1 - rho2y^2)/rho2y * sqrt(S33)/sqrt(w1'S11w1)``.

    Equivalent to :func:`exact_condition` whenever w1'S11w1 > 0 and w* != 0 (with Eq. 19's
    normaliser corrected to sqrt(S33)); raises ValueError otherwise.
    """
    r = output_correlations(w1, S11, S12, S13, S22, S23, S33)
    if not (r["a"] > 0 and r["b"] > 0):
        raise ValueError("Eq. (21) needs a non-constant teacher output and w* != 0")
    rhs = r["rho1y"] / r["rho2y"] - (1 - r["rho2y"] ** 2) / r["rho2y"] * r["s"] / r["a"]
    return Condition(bool(r["rho12"] > rhs), r["rho12"], float(rhs))


def gaussian_mi(rho):
    """``I = -1/2 log(1 - rho^2)`` nats, the mutual information of two jointly Gaussian scalars.

    NaN correlations (a constant variable) give 0; |rho| = 1 gives inf; |rho| > 1 raises.
    """
    rho = np.asarray(rho, float)
    if np.any(np.abs(rho[np.isfinite(rho)]) > 1 + 1e-12):
        raise ValueError(f"a correlation must lie in [-1, 1], got {rho}")
    r2 = np.clip(np.nan_to_num(rho, nan=0.0) ** 2, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        out = -0.5 * np.log1p(-r2)
    return _as_output(out)


def gaussian_mi_logdet(cov2) -> float:
    """Mutual information of a bivariate Gaussian from its 2x2 covariance,
    ``1/2 log(C11 C22 / det C)``: an independent route to :func:`gaussian_mi`."""
    cov2 = np.asarray(cov2, float)
    if cov2.shape != (2, 2):
        raise ValueError(f"need a 2x2 covariance, got shape {cov2.shape}")
    return float(0.5 * (np.log(cov2[0, 0]) + np.log(cov2[1, 1]) - np.linalg.slogdet(cov2)[1]))


def _cch(w1, B: GaussianBlocks, r: dict | None = None) -> Condition:
    r = _correlations(w1, B) if r is None else r
    lhs = gaussian_mi(r["rho12"])
    rhs = gaussian_mi(r["rho2y"])
    return Condition(bool(lhs > rhs), float(lhs), float(rhs))


def cch_condition(w1, S11, S12, S13, S22, S23, S33) -> Condition:
    """CCH: ``I(w1'x1; w*'x2) > I(w*'x2; y)`` with Gaussian MI (nats) as lhs, rhs."""
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    return _cch(_check_w1(w1, B.p), B)


def _assumptions(w1, B: GaussianBlocks) -> Assumptions:
    var = float(w1 @ B.S11 @ w1)
    w13 = float(w1 @ B.S13)
    scale_ok = var <= B.S33 * (1 + 1e-12)
    sign_ok = w13 >= 0
    return Assumptions(bool(scale_ok and sign_ok), bool(scale_ok), bool(sign_ok), var, B.S33, w13)


def theorem1_assumptions(w1, S11, S12, S13, S22, S23, S33) -> Assumptions:
    """Theorem 1's side conditions ``w1'S11w1 <= S33`` and ``w1'S13 >= 0``."""
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    return _assumptions(_check_w1(w1, B.p), B)


def summarize_teacher(w1, S11, S12, S13, S22, S23, S33, kappa: float | None = None) -> dict:
    """One row of everything the theory says about teacher w1: MIs, CCH, Eq. (17), assumptions."""
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    r = _correlations(w1, B)
    cch = _cch(w1, B, r)
    q = _pieces(w1, B)
    asm = _assumptions(w1, B)
    row = {
        "I_teacher_student": cch.lhs,
        "I_student_label": cch.rhs,
        "mi_gap": cch.lhs - cch.rhs,
        "cch": cch.holds,
        "eq17_lhs": q["c"],
        "eq17_rhs": q["sigma2"],
        "exact": bool(q["c"] < q["sigma2"]),
        "rho12": r["rho12"],
        "rho1y": r["rho1y"],
        "rho2y": r["rho2y"],
        "teacher_var": asm.teacher_var,
        "w1_S13": asm.w1_S13,
        "assume_scale": asm.scale_ok,
        "assume_sign": asm.sign_ok,
        "assumptions": asm.holds,
    }
    if kappa is not None:
        row["slope"] = 2.0 / (_check_kappa(kappa) - 1) * (q["c"] - q["sigma2"])
    return row


# ---------------------------------------------------------------------------------------
# Optimal surrogate teachers
# ---------------------------------------------------------------------------------------


def optimal_surrogate_teacher(lam: float, S11, S12, S13, S22, S23, S33, kappa) -> np.ndarray:
    """The minimiser over w1 of Eq. (13) at fixed lam > 0: Eq. (14), transposes corrected.

    Setting the gradient of Eq. (13) to zero gives
    ``lam [P + D/(kappa-1)] w1 = lam S12 w* - (S13 - S12 w*)/(kappa-1)`` with
    ``P = S12 S22^{-1} S12'`` and ``D = S11 - P`` (Eq. 14 prints ``S12' S22^{-1} S12`` and
    ``S12' w*``; the two agree when S12 is symmetric, as in Sec. 4.1).
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    kappa = _check_kappa(kappa)
    lam = float(_check_lam(lam))
    if lam <= 0:
        raise ValueError("the optimal surrogate teacher of Eq. (14) needs lam > 0")
    w_star = optimal_student_weight(B.S22, B.S23)
    P = B.S12 @ np.linalg.solve(B.S22, B.S12.T)
    M = P + (B.S11 - P) / (kappa - 1)
    rhs = B.S12 @ w_star - (B.S13 - B.S12 @ w_star) / (lam * (kappa - 1))
    return np.linalg.solve(M, rhs)


def optimal_surrogate_teacher_ci(S11, S12, S13, S22, S23, S33, kappa, tol: float = 1e-8) -> np.ndarray:
    """Eq. (15): ``(kappa-1) (S11 + (kappa-2) P)^{-1} S12 w*``, valid when x1 _||_ y | x2.

    Raises ValueError unless ``S13 = S12 S22^{-1} S23`` (within ``tol`` relative).
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    kappa = _check_kappa(kappa)
    w_star = optimal_student_weight(B.S22, B.S23)
    gap = B.S13 - B.S12 @ w_star
    if np.linalg.norm(gap) > tol * max(1.0, np.linalg.norm(B.S13)):
        raise ValueError(
            "Eq. (15) needs x1 and y independent given x2 (S13 = S12 S22^-1 S23); "
            f"here |S13 - S12 w*| = {np.linalg.norm(gap):.3g}"
        )
    P = B.S12 @ np.linalg.solve(B.S22, B.S12.T)
    return (kappa - 1) * np.linalg.solve(B.S11 + (kappa - 2) * P, B.S12 @ w_star)


def _isotropic_scale(S22) -> float:
    S22 = np.asarray(S22, float)
    s = float(np.mean(np.diag(S22)))
    if not np.allclose(S22, s * np.eye(S22.shape[0]), atol=1e-10 * max(1.0, s)):
        raise ValueError("the closed-form minimum-norm risk needs an isotropic S22 = s * I")
    return s


def _min_norm_quadratic(w1, B: GaussianBlocks, n: int):
    """Pieces of the exact finite-sample min-norm risk for S22 = s I and p > n + 1."""
    s = _isotropic_scale(B.S22)
    p = B.p
    if int(n) != n or not 1 <= n < p - 1:
        raise ValueError(f"the min-norm formula needs an integer 1 <= n < p - 1 = {p - 1}, got {n}")
    return s, n / p, n / (p - n - 1)


def min_norm_expected_excess_risk(lam, w1, S11, S12, S13, S22, S23, S33, n: int):
    """Exact finite-sample ``E[R]`` of the minimum-norm student (Eq. 23) for ``S22 = s I``.

    With ``z = x2/sqrt(s)`` and ``u = sqrt(s) w``, the interpolator is ``P u_bar + noise``
    with ``E[P] = (n/p) I`` (row-space projection) and ``E tr (Z Z')^{-1} = n/(p-n-1)``:
    ``E[R] = (n/p)|u_bar|^2 - 2 (n/p) u_bar'u* + |u*|^2 + sigma_bar^2 n/(p-n-1)``.
    A finite-sample check of Theorem 3 (kappa < 1) in the isotropic case.
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    s, frac, noise_factor = _min_norm_quadratic(w1, B, n)
    lam = _check_lam(lam)
    q = _pieces(w1, B)
    u_star = np.sqrt(s) * q["w_star"]
    u_theta = np.sqrt(s) * q["theta"]
    lam_ = lam[..., None] if lam.ndim else lam
    u_bar = (u_star + lam_ * u_theta) / (1 + lam_)
    signal = frac * np.sum(u_bar**2, axis=-1) - 2 * frac * (u_bar @ u_star) + u_star @ u_star
    sigma_bar2 = (q["sigma2"] + 2 * lam * q["c"] + lam**2 * q["d"]) / (1 + lam) ** 2
    return _as_output(signal + sigma_bar2 * noise_factor)


def optimal_surrogate_teacher_min_norm(lam: float, S11, S12, S13, S22, S23, S33, n: int) -> np.ndarray:
    """Minimiser over w1 of :func:`min_norm_expected_excess_risk` at fixed lam > 0 (S22 = s I).

    ``[k S12 S12'/s + q D] w1 = k S12 w* - (q/lam)(S13 - S12 w*)`` with ``k = n/p``,
    ``q = n/(p-n-1)`` and ``D = S11 - S12 S12'/s``.
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    s, frac, noise_factor = _min_norm_quadratic(np.zeros(B.p), B, n)
    lam = float(_check_lam(lam))
    if lam <= 0:
        raise ValueError("the optimal surrogate teacher needs lam > 0")
    w_star = optimal_student_weight(B.S22, B.S23)
    P = B.S12 @ B.S12.T / s
    M = frac * P + noise_factor * (B.S11 - P)
    rhs = frac * (B.S12 @ w_star) - noise_factor / lam * (B.S13 - B.S12 @ w_star)
    return np.linalg.solve(M, rhs)


# ---------------------------------------------------------------------------------------
# The Sec. 4.1 parameterisations
# ---------------------------------------------------------------------------------------


def _check_sigmas(s12, s13, s23):
    for name, value in (("sigma12", s12), ("sigma13", s13), ("sigma23", s23)):
        if not -1 < value < 1:
            raise ValueError(f"{name} must lie in (-1, 1), got {value}")


def appb_blocks(s12: float, s13: float, s23: float, p: int) -> GaussianBlocks:
    """Exact covariance of App. B's sampler (the parameterisation this chapter uses for Sec. 4.1).

    It is :func:`cchlib.data.synthetic.sampler_covariance`, split into blocks. In closed
    form, with ``J = 1 1'``: ``S11 = (1-s13^2) I + s13^2 J``, ``S22 = (1-s23^2) I + s23^2 J``,
    ``S12 = (s12 - s13 s23) I + s13 s23 J``, ``S13 = s13 1``, ``S23 = s23 1``, ``S33 = 1``:
    unit variances and the intended per-coordinate correlations, but coordinates share Y.
    """
    return split_covariance(sampler_covariance(s12, s13, s23, p), p)


def per_coordinate_blocks(s12: float, s13: float, s23: float, p: int) -> GaussianBlocks:
    """Eq. (7) rescaled so that it is a covariance for every p: each coordinate j of x1, x2
    carries its own share of y.

    ``S11 = S22 = I``, ``S12 = s12 I``, ``S13 = s13/sqrt(p) 1``, ``S23 = s23/sqrt(p) 1``,
    ``S33 = 1``: the law of ``y = sum_j y_j / sqrt(p)`` with i.i.d. triples
    ``(x1_j, x2_j, y_j)`` of correlations (s12, s13, s23). PSD iff that 3x3 correlation
    matrix is; then ``w*'S22 w* = s23^2`` for every p.
    """
    _check_sigmas(s12, s13, s23)
    R = np.array([[1, s12, s13], [s12, 1, s23], [s13, s23, 1]], float)
    if np.linalg.eigvalsh(R)[0] < -1e-12:
        raise ValueError(
            f"sigma12={s12}, sigma13={s13}, sigma23={s23} are not a valid correlation triple"
        )
    one = np.ones(p) / np.sqrt(p)
    return check_blocks(np.eye(p), s12 * np.eye(p), s13 * one, np.eye(p), s23 * one, 1.0)


POPULATIONS = {"appB": appb_blocks, "per-coordinate": per_coordinate_blocks}


def population_blocks(model: str, s12: float, s13: float, s23: float, p: int) -> GaussianBlocks:
    """The blocks of a Sec. 4.1 population by name ("appB" or "per-coordinate"; see :data:`POPULATIONS`).

    A ``ValueError`` when the name is unknown or the correlations give no covariance.
    """
    make = POPULATIONS.get(model)
    if make is None:
        raise ValueError(f"model must be one of {sorted(POPULATIONS)}, got {model!r}")
    return make(s12, s13, s23, p)


def eq7_blocks(s12: float, s13: float, s23: float, p: int) -> GaussianBlocks:
    """Eq. (7) literally, without any check (it is often not a covariance)."""
    one = np.ones(p)
    return GaussianBlocks(np.eye(p), s12 * np.eye(p), s13 * one, np.eye(p), s23 * one, 1.0)


def eq7_is_psd(s12: float, s13: float, s23: float, p: int) -> bool:
    """Eq. (7) is PSD iff ``|s12| <= 1`` and ``p (s13^2 + s23^2 - 2 s12 s13 s23) <= 1 - s12^2``
    (Schur complement of the x-block)."""
    if abs(s12) >= 1:
        return False
    return p * (s13**2 + s23**2 - 2 * s12 * s13 * s23) <= (1 - s12**2) * (1 + 1e-12)


def random_blocks(
    p: int, rng: np.random.Generator, rank: int | None = None, df: int | None = None
) -> GaussianBlocks:
    """A random correlation matrix of (x1, x2, y), returned as blocks.

    ``rank=None``: a normalised Wishart matrix with ``df`` degrees of freedom (default drawn
    between 2p+2 and 4p+2); its correlations are weak, of order 1/sqrt(df).
    ``rank=r``: a factor model ``A A' + diag(psi)`` with ``r`` Gaussian factors and unique
    variances ``psi ~ U(0.05, 1)``, whose correlations are strong: every variable loads on
    the same few latent factors, as modalities that share a cause do.
    """
    d = 2 * p + 1
    if rank is None:
        m = int(df) if df is not None else int(rng.integers(d + 1, 2 * d + 1))
        G = rng.standard_normal((d, m))
        C = G @ G.T / m
    else:
        if int(rank) != rank or rank < 1:
            raise ValueError(f"rank must be a positive integer, got {rank}")
        A = rng.standard_normal((d, int(rank)))
        C = A @ A.T + np.diag(rng.uniform(0.05, 1.0, d))
    sd = np.sqrt(np.diag(C))
    C = C / np.outer(sd, sd)
    return split_covariance((C + C.T) / 2, p)


# ---------------------------------------------------------------------------------------
# Monte Carlo of the finite-sample estimator of Eq. (4)
# ---------------------------------------------------------------------------------------


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    """A factor L with L L' = cov for a PSD matrix (eigen-decomposition, tolerant of singular)."""
    e, V = np.linalg.eigh(cov)
    return V * np.sqrt(np.clip(e, 0.0, None))


def sample_joint(S11, S12, S13, S22, S23, S33, n: int, rng: np.random.Generator):
    """Draw n samples ``(x1, x2, y)`` from Eq. (3)."""
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    L = _sqrt_psd(B.joint())
    z = rng.standard_normal((n, L.shape[1])) @ L.T
    p = B.p
    return z[:, :p], z[:, p : 2 * p], z[:, 2 * p]


def fit_student(x2, y, t, lams) -> np.ndarray:
    """Closed-form solution of Eq. (4) for every lam, given teacher outputs ``t = X1 w1``.

    Least squares of ``y_bar = (y + lam t)/(1+lam)`` on ``x2`` (minimum-norm interpolation
    if n < p). Leading batch dimensions are allowed: ``x2`` (..., n, p), ``y, t`` (..., n).
    Returns (..., len(lams), p). Linear in the label, so two solves serve every lam.
    """
    x2 = np.asarray(x2, float)
    Y = np.stack([np.asarray(y, float), np.asarray(t, float)], axis=-1)  # (..., n, 2)
    n, p = x2.shape[-2:]
    if Y.shape[:-1] != x2.shape[:-1]:
        raise ValueError(f"y and t must have shape {x2.shape[:-1]}, got {Y.shape[:-1]}")
    xt = np.swapaxes(x2, -1, -2)
    if n >= p:
        sol = np.linalg.solve(xt @ x2, xt @ Y)  # (..., p, 2)
    else:
        sol = xt @ np.linalg.solve(x2 @ xt, Y)  # min-norm: X'(XX')^{-1} Y
    lams = np.atleast_1d(np.asarray(lams, float))
    w_y, w_t = sol[..., 0], sol[..., 1]  # (..., p)
    lam = lams.reshape((1,) * (w_y.ndim - 1) + (-1, 1))
    return (w_y[..., None, :] + lam * w_t[..., None, :]) / (1 + lam)


def excess_risk(w_hat, S22, S23) -> np.ndarray:
    """Population excess risk of Eq. (5): ``(w_hat - w*)' S22 (w_hat - w*)``, over the last axis."""
    diff = np.asarray(w_hat, float) - optimal_student_weight(S22, S23)
    return np.einsum("...i,ij,...j->...", diff, np.asarray(S22, float), diff)


def simulate_excess_risk(
    lams,
    w1,
    S11,
    S12,
    S13,
    S22,
    S23,
    S33,
    n: int,
    reps: int,
    rng: np.random.Generator,
    full: bool = False,
    chunk_floats: int = 4_000_000,
) -> np.ndarray:
    """Monte Carlo of ``R(lam, w1)``: ``reps`` independent training sets of size n.

    Each repetition draws a training set, fits Eq. (4) in closed form for every lam (the
    same data for every lam: common random numbers), and evaluates the exact population
    excess risk. ``full=True`` draws ``(x1, x2, y)`` and forms ``t = X1 w1``;
    the default draws ``(x2, y, t = w1'x1)`` directly from their joint Gaussian law, which is
    the same estimator at a fraction of the cost. Returns an array (reps, len(lams)).
    """
    B = check_blocks(S11, S12, S13, S22, S23, S33)
    w1 = _check_w1(w1, B.p)
    lams = np.atleast_1d(_check_lam(lams))
    if int(n) != n or n < 1 or int(reps) != reps or reps < 1:
        raise ValueError(f"n and reps must be positive integers, got n={n}, reps={reps}")
    p = B.p
    if full:
        L = _sqrt_psd(B.joint())
    else:
        cov = np.empty((p + 2, p + 2))
        cov[:p, :p] = B.S22
        cov[:p, p] = cov[p, :p] = B.S23
        cov[:p, p + 1] = cov[p + 1, :p] = B.S12.T @ w1
        cov[p, p] = B.S33
        cov[p, p + 1] = cov[p + 1, p] = w1 @ B.S13
        cov[p + 1, p + 1] = w1 @ B.S11 @ w1
        L = _sqrt_psd(cov)
    d = L.shape[0]
    batch = max(1, min(reps, chunk_floats // max(1, n * d)))
    out = np.empty((reps, lams.size))
    done = 0
    while done < reps:
        b = min(batch, reps - done)
        z = rng.standard_normal((b, n, d)) @ L.T
        if full:
            x2, y, t = z[..., p : 2 * p], z[..., 2 * p], z[..., :p] @ w1
        else:
            x2, y, t = z[..., :p], z[..., p], z[..., p + 1]
        w_hat = fit_student(x2, y, t, lams)  # (b, L, p)
        out[done : done + b] = excess_risk(w_hat, B.S22, B.S23)
        done += b
    return out


# ---------------------------------------------------------------------------------------
# Summaries used by the theory chapter
# ---------------------------------------------------------------------------------------


def simulate_kd_gain(lams, w1, S11, S12, S13, S22, S23, S33, n: int, reps: int, rng) -> dict:
    """Monte Carlo of the KD gain ``R0 - R(lam, w1)`` with common random numbers.

    Returns arrays over ``lams``: ``risk`` and ``risk_se`` (mean excess risk and its SE),
    ``gain`` and ``gain_se`` (``R0 - R(lam)``; positive = distillation helps), and the
    scalars ``R0``, ``R0_se``. ``lam = 0`` is simulated on the same training sets.
    """
    lams = np.atleast_1d(np.asarray(lams, float))
    R = simulate_excess_risk(np.concatenate([[0.0], lams]), w1, S11, S12, S13, S22, S23, S33, n, reps, rng)
    gains = R[:, :1] - R[:, 1:]
    root = np.sqrt(reps)
    sd = (lambda a: a.std(axis=0, ddof=1)) if reps > 1 else (lambda a: np.full(a.shape[1:], np.nan))
    return {
        "lam": lams,
        "risk": R[:, 1:].mean(0),
        "risk_se": sd(R[:, 1:]) / root,
        "gain": gains.mean(0),
        "gain_se": sd(gains) / root,
        "R0": float(R[:, 0].mean()),
        "R0_se": float(sd(R[:, :1])[0] / root),
    }


def mc_verdict(gain, gain_se, z: float = 2.0):
    """``"helps"`` / ``"hurts"`` where the Monte Carlo gain is more than ``z`` SE from zero,
    else ``"inconclusive"`` (vectorised)."""
    gain, gain_se = np.asarray(gain, float), np.asarray(gain_se, float)
    out = np.where(gain > z * gain_se, "helps", np.where(gain < -z * gain_se, "hurts", "inconclusive"))
    return out.item() if out.ndim == 0 else out


def cch_summary(cch, verdict, exact=None, assumptions=None) -> dict:
    """How CCH fares against simulated outcomes.

    ``cch``: bool per case; ``verdict``: "helps"/"hurts"/"inconclusive" per case.
    ``cch_sufficient`` = P(KD helps | CCH holds); ``cch_too_strict`` = P(CCH fails | KD helps);
    ``counterexamples`` = cases where CCH holds and KD significantly hurts (and how many of
    those met Theorem 1's assumptions). With ``exact``, also how often the exact condition
    (Eq. 17) disagrees with a resolved simulation verdict.
    """
    cch = np.asarray(cch, bool)
    verdict = np.asarray(verdict)
    helps, hurts = verdict == "helps", verdict == "hurts"
    resolved = helps | hurts
    out = {
        "cases": int(cch.size),
        "share_cch": float(cch.mean()) if cch.size else float("nan"),
        "share_helps": float(helps.mean()) if cch.size else float("nan"),
        "share_hurts": float(hurts.mean()) if cch.size else float("nan"),
        "share_inconclusive": float((~resolved).mean()) if cch.size else float("nan"),
        "cch_sufficient": float(helps[cch].mean()) if cch.any() else float("nan"),
        "cch_too_strict": float((~cch[helps]).mean()) if helps.any() else float("nan"),
        "cch_agrees_resolved": float((cch[resolved] == helps[resolved]).mean()) if resolved.any() else float("nan"),
        "counterexamples": int((cch & hurts).sum()),
    }
    if assumptions is not None:
        out["counterexamples_with_assumptions"] = int((cch & hurts & np.asarray(assumptions, bool)).sum())
    if exact is not None:
        exact = np.asarray(exact, bool)
        out["share_exact"] = float(exact.mean()) if exact.size else float("nan")
        out["exact_vs_mc_disagree"] = int(((exact & hurts) | (~exact & helps)).sum())
        out["cch_and_not_exact"] = int((cch & ~exact).sum())
    return out


def s12_boundary(model: str, s13: float, s23: float, p: int, condition: str = "exact", grid: int = 25) -> float:
    """The sigma12 at which the Bayes teacher's ``condition`` ("exact" = Eq. 17, "cch") switches
    on the Sec. 4.1 line of ``model`` ("appB" or "per-coordinate"); NaN if it never switches.

    Scans the valid sigma12 range on ``grid`` points, then refines the first sign change by
    bisection.
    """
    if model not in POPULATIONS:
        raise ValueError(f"model must be 'appB' or 'per-coordinate', got {model!r}")
    if condition not in ("exact", "cch"):
        raise ValueError(f"condition must be 'exact' or 'cch', got {condition!r}")

    def margin(s12: float) -> float:
        B = population_blocks(model, s12, s13, s23, p)
        w1 = bayes_teacher_weight(B.S11, B.S13)
        if condition == "exact":
            q = _pieces(w1, B)
            return q["sigma2"] - q["c"]  # > 0: KD helps at small lam
        c = _cch(w1, B)
        return c.lhs - c.rhs

    xs, ms = [], []
    for s12 in np.linspace(-0.999, 0.999, grid):
        try:
            ms.append(margin(float(s12)))
            xs.append(float(s12))
        except ValueError:
            continue
    for i in range(len(xs) - 1):
        if np.sign(ms[i]) != np.sign(ms[i + 1]) and xs[i + 1] - xs[i] < 0.1:
            lo, hi, mlo = xs[i], xs[i + 1], ms[i]
            for _ in range(30):
                mid = 0.5 * (lo + hi)
                mm = margin(mid)
                if np.sign(mm) == np.sign(mlo):
                    lo, mlo = mid, mm
                else:
                    hi = mid
            return 0.5 * (lo + hi)
    return float("nan")
