"""The Laplace solution of the GC column (D = 0, linear kinetics) against closed forms and moments."""

import numpy as np
import pytest
from scipy.special import gammainc
from scipy.stats import poisson

from pdesuite.problems.chromatography import Analyte, Chromatography, Injection
from pdesuite.solvers.laplace.column import FittingBasis, LaplaceColumn


def thomas_step(t, A, k_d):
    """Exact step response of the retained part: Σ_n Poisson(n; A) P(Gamma(n, k_d) <= t) (a molecule
    adsorbs a Poisson(A) number of times while in the gas for t0, and stays Exp(k_d) each time)."""
    t = np.asarray(t, dtype=float)
    n = np.arange(1, int(A + 12 * np.sqrt(A) + 60))
    out = np.zeros_like(t)
    late = t > 0
    out[late] = (poisson.pmf(n, A)[None, :] * gammainc(n[None, :], k_d * t[late][:, None])).sum(axis=1)
    return out


def single(k_a, k_d, injection, **kw):
    return Chromatography(length=1.0, velocity=0.1, alpha=1.0, analytes=(Analyte("a", k_a, k_d, 2.0),),
                          injection=injection, **kw)


@pytest.mark.parametrize("k_a,k_d", [(2.0, 1.0), (30.0, 5.0), (300.0, 50.0)])
def test_pulse_response_is_the_exact_thomas_solution(k_a, k_d):
    tau = 0.7
    problem = single(k_a, k_d, Injection("pulse", tau, 1.0))
    t0, A = problem.hold_up_time, k_a * problem.hold_up_time
    t = np.linspace(0.0, problem.end_time(), 500)
    s = t - t0 - 1.0
    exact = 2.0 * (np.exp(-A) * ((s > 0) & (s < tau)) + thomas_step(s, A, k_d) - thomas_step(s - tau, A, k_d))
    value = LaplaceColumn(problem).outlet(t)[:, 0]
    assert np.abs(value - exact).max() / exact.max() < 1e-9


@pytest.mark.parametrize("shape", ["pulse", "gaussian"])
def test_moments_with_a_pressure_drop(shape):
    """Area·P = c0 ∫f (the mass through the outlet), mean = t0 (1 + k') + the injection's mean,
    variance = 2 k' t0/k_d + σ_inj²."""
    injection = Injection(shape, 0.8, 0.0 if shape == "pulse" else 5.0)
    problem = single(40.0, 8.0, injection, p_in=2.5, p_out=1.0)
    t = np.linspace(0.0, problem.end_time() + 20, 40001)
    c = LaplaceColumn(problem).outlet(t)[:, 0]
    area = np.trapezoid(c, t)
    mean = np.trapezoid(t * c, t) / area
    var = np.trapezoid((t - mean) ** 2 * c, t) / area
    a = problem.analytes[0]
    assert area * problem.pressure_ratio == pytest.approx(a.c0 * injection.area, rel=1e-6)
    assert mean == pytest.approx(problem.retention_time(a), rel=1e-6)
    assert var == pytest.approx(problem.peak_variance(a), rel=1e-4)


def test_variable_velocity_is_the_constant_one_with_the_same_hold_up_time_scaled_by_1_over_P():
    injection = Injection("gaussian", 0.5, 3.0)
    constant = single(25.0, 6.0, injection)
    variable = single(25.0, 6.0, injection, p_in=4.0, p_out=1.0)
    assert variable.hold_up_time == constant.hold_up_time
    t = np.linspace(0, constant.end_time(), 800)
    np.testing.assert_allclose(LaplaceColumn(variable).outlet(t) * 4.0, LaplaceColumn(constant).outlet(t),
                               atol=1e-12)


def test_components_decouple_and_response_factors_weight_them():
    analytes = (Analyte("b", 30.0, 10.0, 1.0), Analyte("t", 60.0, 9.0, 0.5), Analyte("x", 120.0, 11.0, 0.8))
    mixture = Chromatography(length=1.5, velocity=0.1, alpha=0.5, analytes=analytes,
                             injection=Injection("pulse", 0.5, 0.0), p_in=2.0, p_out=1.0)
    t = np.linspace(0, mixture.end_time(), 1200)
    together = LaplaceColumn(mixture).outlet(t)
    for i, a in enumerate(analytes):
        alone = LaplaceColumn(mixture.replace_analytes([a])).outlet(t)[:, 0]
        np.testing.assert_allclose(together[:, i], alone, atol=1e-14)
    np.testing.assert_allclose(LaplaceColumn(mixture).chromatogram(t, [1.0, 2.0, 0.5]),
                               together @ [1.0, 2.0, 0.5], atol=1e-14)


def test_fitting_basis_has_unit_area_and_exact_derivatives():
    injection = Injection("pulse", 0.5, 0.0)
    t = np.linspace(0, 120, 2401)
    basis = FittingBasis(t, 10.0, injection, 8192)
    A, kd = np.array([80.0, 300.0]), np.array([5.0, 12.0])
    h, dA, dkd = basis.shapes(A, kd)
    np.testing.assert_allclose(np.trapezoid(h, t, axis=1), 1.0, rtol=1e-5)
    eps = 1e-5  # central differences in ln A, ln k_d
    hA = (basis.shapes(A * np.exp(eps), kd)[0] - basis.shapes(A * np.exp(-eps), kd)[0]) / (2 * eps)
    hk = (basis.shapes(A, kd * np.exp(eps))[0] - basis.shapes(A, kd * np.exp(-eps))[0]) / (2 * eps)
    np.testing.assert_allclose(dA, hA, atol=1e-7 * h.max())
    np.testing.assert_allclose(dkd, hk, atol=1e-7 * h.max())
    # the same shapes as the column solution, unit area
    problem = Chromatography(length=1.0, velocity=0.1, alpha=1.0, analytes=(Analyte("a", 8.0, 5.0, 1.0),),
                             injection=injection)
    direct = LaplaceColumn(problem).outlet(t)[:, 0] / injection.area
    np.testing.assert_allclose(h[0], direct, atol=1e-10 * direct.max())
