"""Pseudo-spectral ETDRK4 solvers: exact solutions, observed orders, bad input."""

import numpy as np
import pytest

from pdesuite.errors import BadInput, SolverError
from pdesuite.solvers.fem.verification import observed_rate
from pdesuite.solvers.spectral.allen_cahn import AllenCahnSolver
from pdesuite.solvers.spectral.burgers import BurgersSolver, cole_hopf_solution
from pdesuite.solvers.spectral.convection import convection_solution
from pdesuite.solvers.spectral.etdrk4 import ETDRK4, phi_coefficients
from pdesuite.solvers.spectral.ks import KSSolver, ks_initial_condition

COLE_HOPF = dict(c0=3.0, coefficients=[1.0, 0.6, 0.3], wavenumbers=[1, 2, 3], phases=[0.1, 1.0, 2.0])


def burgers_error(n, dt, nu=0.1, t_end=1.0):
    solver = BurgersSolver(n, nu=nu)
    x = solver.x[0]
    u = solver.solve(cole_hopf_solution(x, [0.0], nu, **COLE_HOPF), dt=dt, n_steps=int(round(t_end / dt)))
    return np.abs(u[0, -1] - cole_hopf_solution(x, [t_end], nu, **COLE_HOPF)[0]).max()


def test_phi_coefficients_match_direct_formulas_away_from_zero():
    z = np.array([-3.0, -0.5, 2.0])
    q, f1, f2, f3 = phi_coefficients(z)
    e = np.exp(z)
    np.testing.assert_allclose(q, (np.exp(z / 2) - 1) / z, rtol=1e-12)
    np.testing.assert_allclose(f1, (-4 - z + e * (4 - 3 * z + z**2)) / z**3, rtol=1e-10)
    np.testing.assert_allclose(f2, (2 + z + e * (z - 2)) / z**3, rtol=1e-10)
    np.testing.assert_allclose(f3, (-4 - 3 * z - z**2 + e * (4 - z)) / z**3, rtol=1e-10)
    # near z = 0 the direct formulas cancel catastrophically; the limits are 1/2, 1/6, 1/6, 1/6
    q0, f10, f20, f30 = phi_coefficients(np.array([1e-9]))
    np.testing.assert_allclose([q0[0], f10[0], f20[0], f30[0]], [0.5, 1 / 6, 1 / 6, 1 / 6], rtol=1e-7)


def test_etdrk4_is_exact_for_linear_problems():
    linear = np.array([-2.0, -0.3 + 4j, 0.0])
    v0 = np.array([1.0, 2.0 - 1j, 0.5])
    stepper = ETDRK4(linear, 0.37)
    v = v0
    for _ in range(10):
        v = stepper.step(v, lambda w: np.zeros_like(w))
    np.testing.assert_allclose(v, v0 * np.exp(linear * 3.7), rtol=1e-12)


def test_burgers_matches_cole_hopf_to_1e6_and_converges_spectrally():
    errors = [burgers_error(n, 0.01) for n in (16, 32, 64)]
    assert errors[2] < 1e-6, errors  # ν = 0.1 on a 64-point grid
    assert errors[1] < 1e-2 * errors[0] and errors[2] < 1e-4 * errors[1], errors  # faster than any power


def test_etdrk4_order_four_in_time():
    dts = [0.2, 0.1, 0.05, 0.025]
    errors = [burgers_error(128, dt, t_end=2.0) for dt in dts]
    rate = observed_rate(dts, errors)
    assert abs(rate - ETDRK4.order) < 0.3, (rate, errors)


@pytest.mark.parametrize("nu", [0.0, 0.01])
@pytest.mark.parametrize("c", [0.0, 5.0, 50.0])
def test_convection_exact(c, nu):
    x = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    t = np.linspace(0, 1, 100)
    u = convection_solution(np.sin(x), t, c, nu)
    exact = np.exp(-nu * t)[:, None] * np.sin(x[None, :] - c * t[:, None])
    np.testing.assert_allclose(u, exact, atol=1e-12)


def ks_self_convergence(t_end=4.0, dt=0.2):
    rng = np.random.default_rng(1)
    solver = KSSolver(256, 64.0, nu=1.0)
    x = solver.x[0]
    u0 = ks_initial_condition(x, 64.0, rng.uniform(-0.5, 0.5, 10), rng.uniform(0, 2 * np.pi, 10),
                              rng.integers(1, 3, 10))[None]
    steps = int(round(t_end / dt))
    reference = solver.solve(u0, dt, steps, substeps=64)[0, -1]
    substeps = [1, 2, 4, 8]
    errors = [np.abs(solver.solve(u0, dt, steps, substeps=m)[0, -1] - reference).max() for m in substeps]
    return [dt / m for m in substeps], errors


def test_ks_time_order_against_refined_steps():
    h, errors = ks_self_convergence()
    rate = observed_rate(h, errors)
    assert abs(rate - 4) < 0.3, (rate, errors)


def test_ks_batch_equals_single_runs():
    lengths, nus = np.array([57.6, 64.0, 70.4]), np.array([0.5, 1.0, 1.5])
    x_unit = np.arange(128) / 128
    u0 = np.stack([np.sin(2 * np.pi * x_unit) + 0.3 * np.cos(4 * np.pi * x_unit + i) for i in range(3)])
    batched = KSSolver(128, lengths, nus, batch=3).solve(u0, dt=[0.2, 0.21, 0.19], n_steps=20, substeps=2)
    for b in range(3):
        single = KSSolver(128, lengths[b], nus[b]).solve(u0[b:b + 1], dt=[0.2, 0.21, 0.19][b], n_steps=20,
                                                          substeps=2)
        np.testing.assert_allclose(batched[b], single[0], rtol=1e-12, atol=1e-12)


def test_ks_keep_from_stores_only_the_tail():
    solver = KSSolver(64, 32.0)
    u0 = np.sin(2 * np.pi * solver.x / 32.0)
    full = solver.solve(u0, 0.25, 40)
    tail = solver.solve(u0, 0.25, 40, keep_from=30)
    assert tail.shape == (1, 11, 64)
    np.testing.assert_array_equal(tail, full[:, 30:])


def test_allen_cahn_time_self_convergence():
    solver = AllenCahnSolver(256)
    x = solver.x
    u0 = x**2 * np.cos(np.pi * x)
    reference = solver.solve(u0, 0.05, 20, substeps=256)[0, -1]
    substeps = [4, 8, 16, 32]
    errors = [np.abs(solver.solve(u0, 0.05, 20, substeps=m)[0, -1] - reference).max() for m in substeps]
    rate = observed_rate([0.05 / m for m in substeps], errors)
    assert abs(rate - 4) < 0.3, (rate, errors)


def test_allen_cahn_spatial_convergence_and_end_state():
    finals = {}
    for n in (512, 1024, 2048):
        solver = AllenCahnSolver(n)
        x = solver.x
        finals[n] = solver.solve(x**2 * np.cos(np.pi * x), 0.005, 200, substeps=4)[0, -1][:: n // 512]
    # interfaces of width ~sqrt(1e-4/5) need ~1000 points; then the error falls faster than any power
    e1, e2 = np.abs(finals[512] - finals[2048]).max(), np.abs(finals[1024] - finals[2048]).max()
    assert e2 < 0.05 * e1 and e2 < 1e-3, (e1, e2)
    # the benchmark's known end state at t = 1: plateaus at ±1, u(-1) = -1, bounded by 1
    final = finals[2048]
    assert np.abs(final).max() < 1.0 + 1e-6 and final[0] == pytest.approx(-1.0, abs=1e-4)


@pytest.mark.parametrize("make", [
    lambda: KSSolver(255, 64.0), lambda: KSSolver(0, 64.0), lambda: KSSolver(64, -1.0),
    lambda: KSSolver(64, 64.0, nu=-1.0), lambda: BurgersSolver(64, nu=-0.1),
    lambda: AllenCahnSolver(64, epsilon=0.0),
    lambda: BurgersSolver(64).solve(np.zeros((1, 64)), dt=0.0, n_steps=3),
    lambda: BurgersSolver(64).solve(np.zeros((1, 64)), dt=0.1, n_steps=0),
    lambda: BurgersSolver(64).solve(np.zeros((2, 64)), dt=0.1, n_steps=3),
])
def test_bad_input(make):
    with pytest.raises(BadInput):
        make()


def test_blow_up_is_reported_with_its_step():
    solver = BurgersSolver(64, nu=0.0, dealias=False)  # inviscid, undealiased: a shock blows up
    x = solver.x
    with pytest.raises(SolverError, match="blew up at output step"):
        solver.solve(10 * np.sin(x), dt=0.5, n_steps=200)
