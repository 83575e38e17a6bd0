"""Pseudo-spectral ETDRK4 solvers: exact solutions, batches, the problem-object path, bad input.
(The observed orders in time and the spectral convergence in space are cases of
tests/solvers/test_orders.py.)"""

import numpy as np
import pytest

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.allen_cahn import AllenCahn
from pdesuite.problems.burgers import Burgers
from pdesuite.problems.convection import Convection
from pdesuite.problems.ks import KuramotoSivashinsky
from pdesuite.solvers.spectral.allen_cahn import AllenCahnSolver
from pdesuite.solvers.spectral.burgers import BurgersSolver
from pdesuite.solvers.spectral.convection import convection_solution, convection_solution_for
from pdesuite.solvers.spectral.etdrk4 import ETDRK4, phi_coefficients
from pdesuite.solvers.spectral.ks import KSSolver
from pdesuite.solvers.spectral.verification import allen_cahn_space_study, burgers_space_study


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


@pytest.mark.parametrize("nu", [0.0, 0.01])
@pytest.mark.parametrize("c", [0.0, 5.0, 50.0])
def test_convection_exact(c, nu):
    x = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    t = np.linspace(0, 1, 100)
    u = convection_solution(np.sin(x), t, c, nu)
    exact = np.exp(-nu * t)[:, None] * np.sin(x[None, :] - c * t[:, None])
    np.testing.assert_allclose(u, exact, atol=1e-12)


def test_ks_batch_equals_single_runs():
    lengths, nus = np.array([57.6, 64.0, 70.4]), np.array([0.5, 1.0, 1.5])
    x_unit = np.arange(128) / 128
    u0 = np.stack([np.sin(2 * np.pi * x_unit) + 0.3 * np.cos(4 * np.pi * x_unit + i) for i in range(3)])
    batched = KSSolver(128, lengths, nus, batch=3).solve(u0, dt=[0.2, 0.21, 0.19], n_steps=20, substeps=2)
    for b in range(3):
        single = KSSolver(128, lengths[b], nus[b]).solve(u0[b:b + 1], dt=[0.2, 0.21, 0.19][b], n_steps=20,
                                                          substeps=2)
        np.testing.assert_allclose(batched[b], single[0], rtol=1e-12, atol=1e-12)


def test_solvers_from_problem_objects_equal_the_numeric_path():
    """`from_problem(s)` builds the same solver as the numbers (the recipes rely on bitwise equality)."""
    x_unit = np.arange(64) / 64
    u0 = np.stack([np.sin(2 * np.pi * x_unit) + 0.3 * np.cos(4 * np.pi * x_unit + i) for i in range(2)])
    problems = [KuramotoSivashinsky(length=57.6, nu=0.5), KuramotoSivashinsky(length=70.4, nu=1.5)]
    by_problem = KSSolver.from_problems(problems, 64)
    assert by_problem.problems == tuple(problems) and by_problem.batch == 2
    by_numbers = KSSolver(64, np.array([57.6, 70.4]), nu=[0.5, 1.5], batch=2)
    np.testing.assert_array_equal(by_problem.solve(u0, 0.2, 5, substeps=2), by_numbers.solve(u0, 0.2, 5, substeps=2))
    burgers = BurgersSolver.from_problem(Burgers(nu=0.02), 64)
    np.testing.assert_array_equal(burgers.solve(u0[:1], 0.1, 3), BurgersSolver(64, nu=0.02).solve(u0[:1], 0.1, 3))
    ac = AllenCahnSolver.from_problem(AllenCahn(epsilon=1e-3, reaction=4.0), 64)
    reference = AllenCahnSolver(64, epsilon=1e-3, reaction=4.0)
    np.testing.assert_array_equal(ac.x, reference.x)
    np.testing.assert_array_equal(ac.solve(u0[:1], 0.05, 3), reference.solve(u0[:1], 0.05, 3))
    x, t = 2 * np.pi * x_unit, np.linspace(0.0, 1.0, 5)
    np.testing.assert_array_equal(convection_solution_for(Convection(c=3.0, nu=0.1), np.sin(x), t),
                                  convection_solution(np.sin(x), t, 3.0, 0.1))


@pytest.mark.parametrize("make, message", [
    (lambda: KSSolver.from_problems([], 64), "at least one"),
    (lambda: KSSolver.from_problem(Burgers(), 64), "solves KuramotoSivashinsky problems, got Burgers"),
    (lambda: AllenCahnSolver.from_problems([AllenCahn(), AllenCahn(epsilon=1e-3)], 64), "one epsilon"),
    (lambda: convection_solution_for(Burgers(), np.zeros(8), np.zeros(2)), "Convection problem"),
])
def test_problem_objects_of_the_wrong_kind_are_bad_input(make, message):
    with pytest.raises(BadInput, match=message):
        make()


def test_ks_keep_from_stores_only_the_tail():
    solver = KSSolver(64, 32.0)
    u0 = np.sin(2 * np.pi * solver.x / 32.0)
    full = solver.solve(u0, 0.25, 40)
    tail = solver.solve(u0, 0.25, 40, keep_from=30)
    assert tail.shape == (1, 11, 64)
    np.testing.assert_array_equal(tail, full[:, 30:])


def test_allen_cahn_spatial_convergence_and_end_state():
    study = allen_cahn_space_study()
    # interfaces of width ~sqrt(1e-4/5) need ~1000 points; then the error falls faster than any power
    e1, e2 = study["errors"]
    assert e2 < 0.05 * e1 and e2 < 1e-3, (e1, e2)
    # the benchmark's known end state at t = 1: plateaus at ±1, u(-1) = -1, bounded by 1
    final = study["final"]
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


class _Unfactored(KSSolver):
    """KS through the generic path: N(v) evaluated in full at every stage."""

    def nonlinear_factor(self):
        return None


def test_factored_nonlinearity_matches_generic_path():
    x_unit = np.arange(128) / 128
    u0 = np.stack([np.sin(2 * np.pi * x_unit) + 0.3 * np.cos(4 * np.pi * x_unit + i) for i in range(2)])
    lengths = np.array([60.0, 66.0])
    fused = KSSolver(128, lengths, 1.0, batch=2).solve(u0, 0.2, 25, substeps=2)
    generic = _Unfactored(128, lengths, 1.0, batch=2).solve(u0, 0.2, 25, substeps=2)
    np.testing.assert_allclose(fused, generic, rtol=0, atol=1e-12)
    # the state stays dealiased: no energy above n/3 in the stored fields
    spectrum = np.abs(np.fft.rfft(fused[:, -1], axis=-1))
    assert spectrum[:, 128 // 3 + 1:].max() < 1e-12 * spectrum.max()


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble])
def test_burgers_factored_path_matches_cole_hopf(dtype):
    errors = burgers_space_study((64,))["errors"] if dtype is np.float64 else None
    if errors is not None:
        assert errors[0] < 1e-6
    # the same solve in extended precision agrees with float64 to float64 round-off
    x = 2 * np.pi * np.arange(64) / 64
    u0 = np.sin(x)[None, :]
    ref = BurgersSolver(64, nu=0.1).solve(u0, 0.05, 20, substeps=4)
    other = BurgersSolver(64, nu=0.1, dtype=dtype).solve(u0, 0.05, 20, substeps=4)
    assert other.dtype == dtype
    np.testing.assert_allclose(other.astype(float), ref, rtol=0, atol=1e-13)


@pytest.mark.skipif(np.finfo(np.longdouble).eps > 1e-18, reason="long double is not x87 extended here")
def test_extended_precision_lowers_the_round_off_floor():
    """ETDRK4 is exact for linear problems, so what remains is round-off: ~1e-16 relative in
    float64, ~1e-19 in long double (the KS benchmark's reference relies on it)."""
    linear = np.array([-2.0, -0.3 + 4j, 0.0, -50.0])
    v0 = np.array([1.0, 2.0 - 1j, 0.5, 1.0])

    def error(dtype):
        complex_type = np.clongdouble if dtype is np.longdouble else np.complex128
        stepper = ETDRK4(linear.astype(complex_type), dtype(0.37) / 10)
        v = v0.astype(complex_type)
        for _ in range(100):
            v = stepper.step(v, np.zeros_like)
        exact = v0.astype(complex_type) * np.exp(linear.astype(complex_type) * dtype(0.37) * 10)
        return float(np.max(np.abs(v - exact) / np.maximum(np.abs(exact), 1e-300)))

    double, extended = error(np.float64), error(np.longdouble)
    assert extended < 1e-16 and double > 100 * extended, (double, extended)  # measured 1.2e-14, 1.1e-17


def test_bad_dtype_is_rejected():
    with pytest.raises(BadInput, match="dtype"):
        KSSolver(64, 22.0, dtype=np.float32)


def test_torch_backend_matches_numpy():
    """solve(device=...) runs the same float64 scheme with torch's FFT (for GPU batches)."""
    x_unit = np.arange(128) / 128
    u0 = np.stack([np.sin(2 * np.pi * x_unit) + 0.3 * np.cos(4 * np.pi * x_unit + i) for i in range(3)])
    lengths = np.array([60.0, 64.0, 68.0])
    reference = KSSolver(128, lengths, 1.0, batch=3).solve(u0, 0.2, 20, substeps=2, keep_from=5)
    on_torch = KSSolver(128, lengths, 1.0, batch=3).solve(u0, 0.2, 20, substeps=2, keep_from=5, device="cpu")
    assert on_torch.shape == reference.shape and on_torch.dtype == np.float64
    np.testing.assert_allclose(on_torch, reference, rtol=0, atol=1e-12)
    with pytest.raises(BadInput, match="device"):
        AllenCahnSolver(64).solve(np.zeros((1, 64)), 0.1, 2, device="cpu")
    with pytest.raises(BadInput, match="not available"):
        KSSolver(64, 22.0).solve(np.zeros((1, 64)), 0.1, 2, device="nonsense")
