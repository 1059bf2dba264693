"""Tests of cchlib.theory (the jointly Gaussian model of Sec. 3 / App. A) and of the theory
chapter's sweep cells (cchlib.experiments.theory).

Monte Carlo checks use fixed seeds and tolerances stated in standard errors (SE) of the
Monte Carlo mean, or in relative terms where an asymptotic formula is compared.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from cchlib import theory as T
from cchlib.chapter import Chapter
from cchlib.experiments import theory as mc


def _random_teacher(B, rng, scale):
    """A teacher near the Bayes direction, rescaled to w1'S11w1 = scale^2 * S33."""
    u = T.bayes_teacher_weight(B.S11, B.S13)
    u = u / np.linalg.norm(u) + 0.7 * rng.standard_normal(B.p) / np.sqrt(B.p)
    return scale * np.sqrt(B.S33 / (u @ B.S11 @ u)) * u


# --------------------------------------------------------------------- closed forms


def test_excess_risk_is_the_risk_above_the_bayes_risk():
    rng = np.random.default_rng(1)
    B = T.random_blocks(4, rng)
    w = rng.standard_normal(4)
    risk = B.S33 - 2 * w @ B.S23 + w @ B.S22 @ w  # E (y - w'x2)^2
    sigma2 = T.student_noise_variance(B.S22, B.S23, B.S33)
    assert np.isclose(risk - sigma2, T.excess_risk(w, B.S22, B.S23))


def test_fit_student_solves_eq4():
    rng = np.random.default_rng(2)
    n, p, lam = 30, 5, 0.7
    x2 = rng.standard_normal((n, p))
    y = rng.standard_normal(n)
    t = rng.standard_normal(n)
    # Eq. (4) as one least-squares problem: rows [X2; sqrt(lam) X2], targets [y; sqrt(lam) t]
    A = np.vstack([x2, np.sqrt(lam) * x2])
    b = np.concatenate([y, np.sqrt(lam) * t])
    direct = np.linalg.lstsq(A, b, rcond=None)[0]
    assert np.allclose(T.fit_student(x2, y, t, [lam])[0], direct)


def test_min_norm_fit_interpolates_the_effective_label():
    rng = np.random.default_rng(3)
    n, p, lam = 8, 20, 0.5
    x2, y, t = rng.standard_normal((n, p)), rng.standard_normal(n), rng.standard_normal(n)
    w = T.fit_student(x2, y, t, [lam])[0]
    assert np.allclose(x2 @ w, (y + lam * t) / (1 + lam))
    assert np.allclose(w, np.linalg.pinv(x2) @ ((y + lam * t) / (1 + lam)))


def test_effective_target_matches_a_regression_of_the_effective_label():
    rng = np.random.default_rng(4)
    B = T.random_blocks(3, rng)
    w1, lam = rng.standard_normal(3), 0.8
    w_bar, s2 = T.effective_target(lam, w1, *B)
    # population regression of y_bar = (y + lam w1'x1)/(1+lam) on x2, from the joint covariance
    a = np.concatenate([lam * w1, np.zeros(3), [1.0]]) / (1 + lam)
    C = B.joint()
    cov_x2_ybar = C[3:6] @ a
    assert np.allclose(w_bar, np.linalg.solve(B.S22, cov_x2_ybar))
    assert np.isclose(s2, a @ C @ a - cov_x2_ybar @ np.linalg.solve(B.S22, cov_x2_ybar))


# --------------------------------------------------------------------- Monte Carlo


@pytest.mark.parametrize("full", [False, True])
def test_finite_sample_risk_matches_monte_carlo(full):
    """E[R] = bias + sigma_bar^2 p/(n-p-1) exactly; MC within 4 SE at every lambda."""
    rng = np.random.default_rng(5)
    B = T.random_blocks(5, rng)
    w1 = _random_teacher(B, rng, 0.8)
    lams, n, reps = np.array([0.0, 0.2, 1.0, 4.0]), 15, 20_000
    R = T.simulate_excess_risk(lams, w1, *B, n=n, reps=reps, rng=rng, full=full)
    mean, se = R.mean(0), R.std(0, ddof=1) / np.sqrt(reps)
    expected = T.expected_excess_risk(lams, w1, *B, n=n)
    assert np.all(np.abs(mean - expected) < 4 * se), (mean, expected, se)
    assert np.all(se < 0.05 * expected)  # the check has power


@pytest.mark.parametrize(
    "make",
    [lambda p: T.per_coordinate_blocks(0.5, 0.9, 0.4, p), lambda p: T.appb_blocks(0.3, 0.8, 0.5, p)],
    ids=["per-coordinate", "appB-sampler"],
)
def test_eq13_matches_monte_carlo_at_large_p(make):
    """Asymptotic Eq. (13) vs MC at p=100, kappa=4: within 4% relative (MC SE about 1%)."""
    rng = np.random.default_rng(6)
    p, kappa, reps = 100, 4, 200
    B = make(p)
    w1 = T.bayes_teacher_weight(B.S11, B.S13)
    lams = np.array([0.0, 0.1, 0.5, 2.0])
    R = T.simulate_excess_risk(lams, w1, *B, n=kappa * p, reps=reps, rng=rng)
    analytic = T.asymptotic_excess_risk(lams, w1, *B, kappa=kappa)
    rel = np.abs(R.mean(0) / analytic - 1)
    assert np.all(rel < 0.04), rel
    # and the MC mean of the KD gain has the sign Eq. (13) predicts where it is resolved
    gain = R[:, :1] - R[:, 1:]
    gain_an = analytic[0] - analytic[1:]
    resolved = np.abs(gain.mean(0)) > 3 * gain.std(0, ddof=1) / np.sqrt(reps)
    assert np.all(np.sign(gain.mean(0)[resolved]) == np.sign(gain_an[resolved]))


def test_min_norm_risk_matches_monte_carlo():
    """Theorem 3 regime (kappa < 1), isotropic S22: exact min-norm risk within 4 SE."""
    rng = np.random.default_rng(7)
    p, n, reps = 40, 15, 6000
    B = T.per_coordinate_blocks(0.6, 0.8, 0.4, p)
    for w1 in (np.zeros(p), T.bayes_teacher_weight(B.S11, B.S13)):
        lams = np.array([0.0, 0.5, 2.0])
        R = T.simulate_excess_risk(lams, w1, *B, n=n, reps=reps, rng=rng)
        mean, se = R.mean(0), R.std(0, ddof=1) / np.sqrt(reps)
        expected = T.min_norm_expected_excess_risk(lams, w1, *B, n=n)
        assert np.all(np.abs(mean - expected) < 4 * se), (mean, expected, se)


def test_appb_blocks_match_the_closed_form():
    s12, s13, s23, p = 0.5, 0.9, 0.4, 4
    B = T.appb_blocks(s12, s13, s23, p)
    eye, J = np.eye(p), np.ones((p, p))
    assert np.allclose(B.S11, (1 - s13**2) * eye + s13**2 * J)
    assert np.allclose(B.S22, (1 - s23**2) * eye + s23**2 * J)
    assert np.allclose(B.S12, (s12 - s13 * s23) * eye + s13 * s23 * J)
    assert np.allclose(B.S13, s13) and np.allclose(B.S23, s23) and np.isclose(B.S33, 1.0)
    # the identity Cov(X2) of Eq. (7) is *not* what the sampler draws
    assert np.abs(B.S22 - eye).max() > 0.1


def test_per_coordinate_model_identities():
    B = T.per_coordinate_blocks(0.6, 0.9, 0.4, 50)
    w1 = T.bayes_teacher_weight(B.S11, B.S13)
    r = T.output_correlations(w1, *B)
    assert np.isclose(r["rho12"], 0.6) and np.isclose(r["rho2y"], 0.4)
    assert np.isclose(T.student_noise_variance(B.S22, B.S23, B.S33), 1 - 0.4**2)


def test_eq7_psd_criterion_matches_eigenvalues():
    for s12 in (0.0, 0.3, 0.7):
        for s13, s23 in ((0.9, 0.4), (0.1, 0.05), (0.05, 0.02)):
            for p in (1, 10, 100):
                psd = T.min_eigenvalue(*T.eq7_blocks(s12, s13, s23, p)) >= -1e-12
                assert psd == T.eq7_is_psd(s12, s13, s23, p)
    assert not T.eq7_is_psd(0.5, 0.9, 0.4, 100)


# --------------------------------------------------------------------- small-lambda condition


def _one_sided_slope(f, h=1e-5):
    """Second-order one-sided finite difference of f at 0: (4 f(h) - f(2h) - 3 f(0)) / (2h)."""
    return (4 * f(h) - f(2 * h) - 3 * f(0.0)) / (2 * h)


def test_slope_matches_finite_difference_of_eq13_and_eq17_gives_its_sign():
    rng = np.random.default_rng(9)
    kappa = 3.0
    signs = set()
    for _ in range(40):
        B = T.random_blocks(4, rng)
        w1 = _random_teacher(B, rng, rng.uniform(0.1, 3.0))
        fd = _one_sided_slope(lambda lam: T.asymptotic_excess_risk(lam, w1, *B, kappa=kappa))
        slope = T.small_lambda_slope(w1, *B, kappa=kappa)
        assert np.isclose(fd, slope, rtol=1e-5, atol=1e-8)
        # Eq. (16) as printed has the same value and slope at lambda = 0
        fd16 = _one_sided_slope(lambda lam: T.eq16_expansion(lam, w1, *B, kappa=kappa))
        assert np.isclose(fd16, slope, rtol=1e-5, atol=1e-8)
        ex = T.exact_condition(w1, *B)
        assert ex.holds == (slope < 0)
        assert T.exact_condition_rho(w1, *B).holds == ex.holds  # Eq. (21) == Eq. (17)
        signs.add(ex.holds)
    assert signs == {True, False}  # both outcomes were exercised


def test_cch_implies_eq17_when_teacher_variance_is_at_most_S33():
    """Theorem 1 (scale assumption only; the sign assumption is not needed)."""
    rng = np.random.default_rng(10)
    hits = 0
    for _ in range(300):
        B = T.random_blocks(3, rng)
        w1 = _random_teacher(B, rng, rng.uniform(0.05, 1.0))
        if rng.random() < 0.5:
            w1 = -w1  # violates the sign assumption half the time
        if T.cch_condition(w1, *B).holds:
            hits += 1
            assert T.exact_condition(w1, *B).holds
    assert hits > 20


def test_overscaled_teacher_is_a_cch_counterexample():
    """t = 2 e + 3 w*'x2 (e the student's residual): CCH holds, w1'S13 >= 0, but
    w1'S11w1 > S33 and KD hurts at small lambda, in theory and in simulation."""
    s23 = 0.6
    # p = 1: x1 = 2 e + 3 w* x2 + small noise, with e = y - w* x2 independent of x2
    w_star, sigma2 = s23, 1 - s23**2
    var_t = 4 * sigma2 + 9 * w_star**2 + 0.01
    B = T.check_blocks(
        [[var_t]], [[3 * w_star]], [2 * sigma2 + 3 * w_star * s23], [[1.0]], [s23], 1.0
    )
    w1 = np.array([1.0])
    assert T.cch_condition(w1, *B).holds
    asm = T.theorem1_assumptions(w1, *B)
    assert asm.sign_ok and not asm.scale_ok
    assert not T.exact_condition(w1, *B).holds
    rng = np.random.default_rng(11)
    R = T.simulate_excess_risk([0.0, 0.05], w1, *B, n=6, reps=20_000, rng=rng)
    gain = R[:, 0] - R[:, 1]
    assert gain.mean() < -4 * gain.std(ddof=1) / np.sqrt(gain.size)


# --------------------------------------------------------------------- optimal surrogate teacher


def test_eq14_minimises_eq13():
    rng = np.random.default_rng(12)
    B = T.random_blocks(4, rng)
    kappa, lam = 2.5, 0.3
    w = T.optimal_surrogate_teacher(lam, *B, kappa=kappa)
    best = T.asymptotic_excess_risk(lam, w, *B, kappa=kappa)
    for _ in range(20):
        other = w + 0.05 * rng.standard_normal(4)
        assert T.asymptotic_excess_risk(lam, other, *B, kappa=kappa) > best
    assert best <= T.asymptotic_excess_risk(lam, T.bayes_teacher_weight(B.S11, B.S13), *B, kappa=kappa)


def test_eq15_is_eq14_when_x1_and_y_are_independent_given_x2():
    s12, s23 = 0.8, 0.5
    B = T.per_coordinate_blocks(s12, s12 * s23, s23, 6)  # S13 = S12 w*
    w15 = T.optimal_surrogate_teacher_ci(*B, kappa=3.0)
    for lam in (0.1, 1.0, 10.0):
        assert np.allclose(T.optimal_surrogate_teacher(lam, *B, kappa=3.0), w15)


def test_min_norm_optimal_teacher_minimises_and_beats_the_zero_teacher():
    B = T.per_coordinate_blocks(0.5, 0.9, 0.4, 30)
    n, lam = 10, 0.5
    w = T.optimal_surrogate_teacher_min_norm(lam, *B, n=n)
    best = T.min_norm_expected_excess_risk(lam, w, *B, n=n)
    rng = np.random.default_rng(13)
    for _ in range(10):
        assert T.min_norm_expected_excess_risk(lam, w + 0.05 * rng.standard_normal(30), *B, n=n) > best
    assert best < T.min_norm_expected_excess_risk(lam, np.zeros(30), *B, n=n)


# --------------------------------------------------------------------- Gaussian MI


@pytest.mark.parametrize("rho", [0.0, 0.3, -0.6, 0.95])
def test_gaussian_mi_identity(rho):
    cov = np.array([[2.0, rho * np.sqrt(2 * 0.5)], [rho * np.sqrt(2 * 0.5), 0.5]])
    assert np.isclose(T.gaussian_mi(rho), T.gaussian_mi_logdet(cov))


def test_gaussian_mi_by_numerical_integration():
    rho = 0.6
    det = 1 - rho**2

    def integrand(b, a):
        joint = np.exp(-(a * a - 2 * rho * a * b + b * b) / (2 * det)) / (2 * np.pi * np.sqrt(det))
        marg = np.exp(-(a * a + b * b) / 2) / (2 * np.pi)
        return joint * np.log(joint / marg)

    value, _ = integrate.dblquad(integrand, -8, 8, -8, 8, epsabs=1e-9)
    assert np.isclose(value, T.gaussian_mi(rho), rtol=1e-5)
    assert np.isclose(T.gaussian_mi(rho), -0.5 * np.log(1 - rho**2))
    assert T.gaussian_mi(1.0) == np.inf and T.gaussian_mi(np.nan) == 0.0


# --------------------------------------------------------------------- errors


def test_value_errors():
    B = T.per_coordinate_blocks(0.5, 0.9, 0.4, 5)
    w1 = np.ones(5)
    with pytest.raises(ValueError, match="positive semidefinite"):
        T.asymptotic_excess_risk(0.1, np.ones(100), *T.eq7_blocks(0.5, 0.9, 0.4, 100), kappa=2)
    with pytest.raises(ValueError, match="kappa"):
        T.asymptotic_excess_risk(0.1, w1, *B, kappa=1.0)
    with pytest.raises(ValueError, match="kappa"):
        T.small_lambda_slope(w1, *B, kappa=0.5)
    with pytest.raises(ValueError, match="kappa"):
        T.optimal_surrogate_teacher(0.1, *B, kappa=0.9)
    with pytest.raises(ValueError, match="length 5"):
        T.asymptotic_excess_risk(0.1, np.ones(4), *B, kappa=2)
    with pytest.raises(ValueError, match="S13"):
        T.asymptotic_excess_risk(0.1, w1, B.S11, B.S12, B.S13[:4], B.S22, B.S23, B.S33, kappa=2)
    with pytest.raises(ValueError, match="S12"):
        T.exact_condition(w1, B.S11, B.S12[:, :4], B.S13, B.S22, B.S23, B.S33)
    with pytest.raises(ValueError, match="S33"):
        T.cch_condition(w1, B.S11, B.S12, B.S13, B.S22, B.S23, np.ones(2))
    with pytest.raises(ValueError, match="lam"):
        T.asymptotic_excess_risk(-0.1, w1, *B, kappa=2)
    with pytest.raises(ValueError, match="n > p"):
        T.expected_excess_risk(0.1, w1, *B, n=6)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        T.gaussian_mi(1.2)
    with pytest.raises(ValueError, match="correlation triple"):
        T.appb_blocks(0.0, 0.9, 0.9, 5)
    with pytest.raises(ValueError, match="correlation triple"):
        T.per_coordinate_blocks(-0.9, 0.9, 0.9, 5)
    with pytest.raises(ValueError, match="independent given"):
        T.optimal_surrogate_teacher_ci(*B, kappa=2)
    with pytest.raises(ValueError, match="isotropic"):
        T.min_norm_expected_excess_risk(0.1, w1, *T.appb_blocks(0.5, 0.9, 0.4, 5), n=2)


# --------------------------------------------------------------------- chapter helpers


def test_s12_boundary_per_coordinate_cch_is_sigma23():
    # per-coordinate model, Bayes teacher: rho12 = sigma12, rho2y = sigma23
    assert np.isclose(T.s12_boundary("per-coordinate", 0.9, 0.4, 10, "cch"), 0.4, atol=1e-6)
    # Eq. (17) there: s13^2 - s12 s13 s23 < 1 - s23^2, switching at s12 = (s13^2 + s23^2 - 1)/(s13 s23)
    s13, s23 = 0.9, 0.6
    assert np.isclose(T.s12_boundary("per-coordinate", s13, s23, 10, "exact"), (s13**2 + s23**2 - 1) / (s13 * s23), atol=1e-6)


def test_verdicts_and_summary():
    v = T.mc_verdict([1.0, -1.0, 0.1], [0.1, 0.1, 0.1])
    assert list(v) == ["helps", "hurts", "inconclusive"]
    s = T.cch_summary([True, True, False, False], ["helps", "hurts", "helps", "inconclusive"], exact=[True, True, True, False])
    assert s["cch_sufficient"] == 0.5 and s["cch_too_strict"] == 0.5 and s["counterexamples"] == 1
    assert s["exact_vs_mc_disagree"] == 1


# --------------------------------------------------------------------- the chapter's sweep cells

SIGMAS = [0.5, 0.9, 0.4]
MAP = dict(p=6, kappa=4, small_lam=1e-3, large_lam=1.0, reps=20)
CELLS = {  # one small condition and settings per cell function of cchlib.experiments.theory
    "convergence": (mc.run_convergence, {"kappa": 2.0, "p": 8},
                    mc.ConvergenceSettings(sigmas=SIGMAS, lam=0.5, reps=20)),
    "curve": (mc.run_curve, {"sigma12": 0.45}, mc.CurveSettings(sigma13=0.9, sigma23=0.6, p=8, kappa=2.0,
                                                                 lams=[0.0, 0.5], reps=20)),
    "sec41": (mc.run_sec41, {"model": "appB", "sigma12": 0.3},
              mc.Sec41Settings(sigma13=0.9, sigma23=0.4, p=8, n=40, lams=[0.01, 1.0], reps=20)),
    "map": (mc.run_map_point, {"population": "per-coordinate", "sigma12": 0.5, "sigma13": 0.6, "sigma23": 0.3},
            mc.MapSettings(**MAP)),
    "random": (mc.run_random_case, {"case": 3}, mc.RandomSettings(**MAP, max_scale=3.0)),
    "surrogate": (mc.run_surrogate, {"lambda": 0.5}, mc.ModelSettings(sigmas=SIGMAS, p=8, kappa=2.0, reps=20)),
    "min_norm": (mc.run_min_norm, {"teacher": "Bayes teacher", "lams": [0.0, 1.0]},
                 mc.ModelSettings(sigmas=SIGMAS, p=8, kappa=0.5, reps=20)),
}


@pytest.mark.parametrize("name", CELLS)
def test_a_cells_rows_for_a_seed_do_not_depend_on_the_seeds_sharing_its_call(name):
    """Each (seed, section, condition) has its own stream: seed 1 alone or among others, the same rows."""
    fn, condition, settings = CELLS[name]
    together = fn(condition, [0, 1, 2], settings.as_dict())
    alone = fn(condition, [1], settings.as_dict())
    assert alone[1] == together[1]
    assert together[0] != together[1]  # and the seeds do draw different training sets
    assert json.loads(json.dumps(together)) == {str(k): v for k, v in together.items()}  # plain JSON values


def test_cell_streams_differ_between_seeds_sections_and_conditions():
    draw = lambda *args: mc.cell_rng(*args).standard_normal()  # noqa: E731
    values = {draw(0, "map", {"case": 1}), draw(1, "map", {"case": 1}), draw(0, "random", {"case": 1}),
              draw(0, "map", {"case": 2})}
    assert len(values) == 4
    assert draw(0, "map", {"a": 1, "b": 2}) == draw(0, "map", {"b": 2, "a": 1})  # the condition, not its key order


@pytest.mark.parametrize("settings, name", [
    (dict(sigmas=SIGMAS, lam=0.5, reps="20"), "reps"),
    (dict(sigmas=SIGMAS, lam="half", reps=20), "lam"),
    (dict(sigmas=0.5, lam=0.5, reps=20), "sigmas"),
])
def test_a_mistyped_theory_setting_is_a_value_error_naming_it(settings, name):
    with pytest.raises(ValueError, match=f"setting '{name}' must be"):
        mc.ConvergenceSettings(**settings)
    with pytest.raises(ValueError, match=f"setting '{name}' must be"):  # also when a cell reads its dict
        mc.run_convergence({"kappa": 2.0, "p": 8}, [0], settings)
    with pytest.raises(ValueError, match=r"no setting 'rep' \(did you mean 'reps'\?\)"):
        mc.run_convergence({"kappa": 2.0, "p": 8}, [0], {"sigmas": SIGMAS, "lam": 0.5, "rep": 20})


def test_a_convergence_cell_agrees_with_the_exact_finite_sample_mean():
    """Sec. 1's cell: the simulated mean risk within 4 SE of E[R] = bias + sigma_bar^2 p/(n-p-1)."""
    settings = mc.ConvergenceSettings(sigmas=SIGMAS, lam=0.5, reps=2000)
    cell = mc.run_convergence({"kappa": 4.0, "p": 10}, [0, 1], settings.as_dict())
    rows = pd.DataFrame(cell[0] + cell[1])
    row = mc.pool_seeds(rows, ["kappa", "p"], ["R"]).iloc[0]
    assert row["reps"] == 4000 and row["n"] == 40
    assert abs(row["R_mean"] - row["finite-sample E[R]"]) < 4 * row["R_se"], row
    assert row["R_se"] < 0.05 * row["finite-sample E[R]"]  # the check has power


def test_a_min_norm_cell_agrees_with_the_closed_form():
    """Sec. 6's cell (kappa < 1): the best teacher's simulated risk within 4 SE of its closed form."""
    settings = mc.ModelSettings(sigmas=SIGMAS, p=20, kappa=0.5, reps=3000).as_dict()
    (row,) = mc.run_min_norm({"teacher": mc.BEST_TEACHER, "lams": [1.0]}, [0], settings)[0]
    assert abs(row["R_mean"] - row["closed form E[R]"]) < 4 * row["R_sd"] / np.sqrt(row["reps"]), row
    with pytest.raises(ValueError, match="one lambda per condition"):
        mc.run_min_norm({"teacher": mc.BEST_TEACHER, "lams": [0.5, 1.0]}, [0], settings)


def test_pooling_seeds_is_one_sample_of_all_their_repetitions():
    rng = np.random.default_rng(3)
    samples = {0: rng.exponential(size=7), 1: rng.exponential(size=12) + 0.5}
    rows = pd.DataFrame([{"x": 1, "const": "a", "seed": s, "reps": v.size, **mc._stats("v", v)}
                         for s, v in samples.items()])
    pooled = mc.pool_seeds(rows, ["x"], ["v"]).iloc[0]
    everything = np.concatenate(list(samples.values()))
    assert pooled["reps"] == 19 and pooled["const"] == "a" and "seed" not in pooled
    assert np.isclose(pooled["v_mean"], everything.mean()) and np.isclose(pooled["v_sd"], everything.std(ddof=1))
    assert np.isclose(pooled["v_se"], everything.std(ddof=1) / np.sqrt(19))


def test_theory_cells_run_as_a_cached_sweep(tmp_path):
    """The cells' rows pass the sweep's checks, and a second run reads them from the cache."""
    chapter = Chapter("theory", "smoke", tmp_path / "results", cache_root=tmp_path / "cache")
    conditions = mc.map_conditions(0.45, 4)
    assert conditions and all(set(c) == {"population", "sigma12", "sigma13", "sigma23"} for c in conditions)
    first = chapter.sweep(mc.run_map_point, conditions, [0, 1], mc.MapSettings(**MAP), label="test")
    assert len(first) == 2 * len(conditions)
    written = {path: path.stat().st_mtime_ns for path in (tmp_path / "cache").rglob("*.json")}
    assert len(written) == len(first)
    pd.testing.assert_frame_equal(chapter.sweep(mc.run_map_point, conditions, [0, 1], mc.MapSettings(**MAP)), first)
    assert {path: path.stat().st_mtime_ns for path in (tmp_path / "cache").rglob("*.json")} == written  # none rewritten
