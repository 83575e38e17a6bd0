"""Numerical inverse Laplace transforms: known inverses, and agreement of the independent methods."""

import math

import numpy as np
import pytest
from scipy.special import i0

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.chromatography import Analyte, Chromatography, Injection
from pdesuite.solvers.laplace.column import LaplaceColumn, injection_transform
from pdesuite.solvers.laplace.inversion import FourierSeries, fourier_series, invert, talbot

GAUSS = Injection("gaussian", 0.4, 3.0)

# name: (F, f, methods that apply). Talbot needs no delay; the Fourier series needs fast decay on the line.
KNOWN = {
    "t exp(-t)": (lambda s: 1 / (s + 1) ** 2, lambda t: t * np.exp(-t), ("talbot", "bromwich")),
    "1/sqrt(pi t)": (lambda s: 1 / np.sqrt(s), lambda t: 1 / np.sqrt(np.pi * t), ("talbot", "bromwich")),
    "heat kernel": (lambda s: np.exp(-np.sqrt(s)), lambda t: np.exp(-1 / (4 * t)) / (2 * np.sqrt(np.pi * t**3)),
                    ("talbot", "fourier", "bromwich")),
    "I0(2 sqrt(t/2))": (lambda s: np.exp(0.5 / s) / s, lambda t: i0(2 * np.sqrt(0.5 * t)), ("talbot",)),
    "gaussian": (lambda s: injection_transform(s, GAUSS), lambda t: GAUSS.profile(t), ("fourier", "bromwich")),
}
T = np.linspace(0.25, 8.0, 9)


@pytest.mark.parametrize("case", list(KNOWN))
def test_known_inverses(case):
    F, f, methods = KNOWN[case]
    for method in methods:
        t = T[::4] if method == "bromwich" else T  # adaptive quadrature is slow: fewer times
        exact = f(t)
        value = invert(F, t, method)
        error = np.abs(value - exact).max() / np.abs(exact).max()
        assert error < 1e-10, (method, error)


def test_fourier_series_refuses_a_slowly_decaying_transform():
    with pytest.raises(SolverError, match="no convergence"):
        fourier_series(lambda s: 1 / (s + 1) ** 2, T, max_terms=1 << 14)


def test_fft_and_direct_summation_agree():
    F = KNOWN["heat kernel"][0]
    even = np.linspace(0.2, 6.0, 60)
    plan = FourierSeries(even, 4096)
    assert plan._fft is not None
    uneven = even.copy()
    uneven[7] += 1e-3  # breaks the even spacing: direct summation
    direct = FourierSeries(uneven, 4096, period=plan.period)
    assert direct._fft is None
    a, b = plan(F(plan.s)), direct(F(direct.s))
    np.testing.assert_allclose(np.delete(a, 7), np.delete(b, 7), atol=1e-13)


def column(k_a, k_d, injection, pressures=None):
    return Chromatography(length=1.0, velocity=0.1, alpha=1.0, analytes=(Analyte("a", k_a, k_d),),
                          injection=injection, **(pressures or {}))


@pytest.mark.parametrize("k_a,k_d", [(2.0, 1.0), (30.0, 5.0), (400.0, 50.0)])
def test_methods_agree_on_smooth_chromatograms(k_a, k_d):
    """Gaussian injection (a smooth outlet): the FFT trapezoid rule and adaptive quadrature to 1e-8,
    Talbot too where its contour applies (weak retention, A = α k_a t0 = 20)."""
    problem = column(k_a, k_d, Injection("gaussian", 0.5, 4.0), {"p_in": 2.0, "p_out": 1.0})
    t = np.linspace(problem.hold_up_time + 0.5, problem.end_time(), 15)
    curves = {m: LaplaceColumn(problem, method=m).outlet(t)[:, 0] for m in ("fourier", "bromwich")}
    scale = curves["fourier"].max()
    assert np.abs(curves["fourier"] - curves["bromwich"]).max() / scale < 1e-8
    if k_a * problem.hold_up_time <= 20:
        late = t > problem.hold_up_time + 8.0  # Talbot is exact once the Gaussian has entered
        tal = LaplaceColumn(problem, method="talbot", talbot_nodes=48).outlet(t[late])[:, 0]
        assert np.abs(tal - curves["bromwich"][late]).max() / scale < 1e-8


def test_talbot_and_bromwich_agree_on_a_pulse_through_a_weak_column():
    problem = column(1.0, 0.5, Injection("pulse", 2.0, 0.0))
    t = np.linspace(11.0, problem.end_time(), 6)
    tal = LaplaceColumn(problem, method="talbot", talbot_nodes=48).outlet(t)[:, 0]
    bro = LaplaceColumn(problem, method="bromwich").outlet(t)[:, 0]
    assert np.abs(tal - bro).max() / np.abs(bro).max() < 1e-8


def test_talbot_says_when_its_contour_does_not_apply():
    problem = column(300.0, 50.0, Injection("pulse", 0.2, 0.0))  # A = 3000: essential singularity at -k_d
    with pytest.raises(SolverError, match="Talbot"):
        LaplaceColumn(problem, method="talbot").outlet(np.linspace(0, problem.end_time(), 50))


def test_bad_input():
    with pytest.raises(BadInput):
        talbot(lambda s: 1 / s, [0.0, 1.0])
    with pytest.raises(BadInput):
        invert(lambda s: 1 / s, [1.0], "stehfest")
    with pytest.raises(BadInput):
        talbot(lambda s: 1 / s, [1.0], n=7)
    assert math.isclose(talbot(lambda s: 1 / s, [2.0])[0], 1.0, rel_tol=1e-12)
