"""2D Navier-Stokes (vorticity) pseudo-spectral solver: exact Taylor-Green decay, invariants, bad input.
(The observed time orders and the spectral convergence in space are cases of tests/solvers/test_orders.py.)"""

import math

import numpy as np
import pytest

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.ns2d import NS2D
from pdesuite.solvers.spectral.ns2d import NS2DSolver
from pdesuite.solvers.spectral.verification import taylor_green_error


def fitted_rate(steps, errors):
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


def test_taylor_green_vortex_decays_exactly():
    """Unforced, at rest: ω = sin 2πx sin 2πy e^(-8π²νt); the error is the time error alone (space is exact)."""
    problem = NS2D(nu=0.01, forcing_amplitude=0.0)
    errors = [taylor_green_error(problem, n, 0.01) for n in (8, 16, 32)]
    assert errors[1] < 1e-6, errors
    assert max(errors) - min(errors) < 1e-12, errors  # independent of n: no spatial error at all


def test_mean_vorticity_is_conserved():
    problem = NS2D(nu=1e-3, forcing_amplitude=0.1, t_end=2.0)
    w0 = np.stack([problem.initial_vorticity(np.random.default_rng(i), 32) + c for i, c in enumerate((0.0, 0.3))])
    w = NS2DSolver(problem, 32, 0.02).solve(w0, np.linspace(0.0, 2.0, 5))
    means = w.mean(axis=(2, 3))
    np.testing.assert_allclose(means, np.array([[0.0], [0.3]]) + 0 * means, atol=1e-13)
    assert np.all(np.abs(w[:, -1] - w[:, 0]).max(axis=(1, 2)) > 0.01)  # it did evolve


def test_inviscid_energy_and_enstrophy_conservation_converges():
    """ν = 0, f = 0: the dealiased system conserves energy and enstrophy; the RK drift is third order."""
    problem = NS2D(nu=0.0, forcing_amplitude=0.0)
    w0 = np.stack([problem.initial_vorticity(np.random.default_rng(i), 32) * 5 for i in range(2)])
    drifts = []
    for dt in (0.04, 0.02, 0.01):
        w = NS2DSolver(problem, 32, dt).solve(w0, np.array([0.0, 2.0]))
        enstrophy = (w**2).mean(axis=(2, 3))
        drifts.append(np.max(np.abs(enstrophy[:, 1] / enstrophy[:, 0] - 1)))
    assert drifts[-1] < 1e-4, drifts
    assert fitted_rate([0.04, 0.02, 0.01], drifts) > 2.5, drifts


def test_batch_solves_like_single_samples():
    problem = NS2D(t_end=1.0)
    w0 = np.stack([problem.initial_vorticity(np.random.default_rng(i), 32) for i in range(3)])
    solver = NS2DSolver(problem, 32, 0.02)
    together = solver.solve(w0, np.array([0.0, 0.5, 1.0]))
    alone = np.concatenate([solver.solve(w0[i:i + 1], np.array([0.0, 0.5, 1.0])) for i in range(3)])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_allclose(together[:, 0], solver.truncate(w0), atol=1e-14)


def test_grf_matches_its_covariance():
    """Var ω0 = Σ_k 2σ²(4π²|k|² + τ²)^(-α) (the FNO field), checked on 400 draws at n = 32."""
    problem = NS2D()
    samples = np.stack([problem.initial_vorticity(np.random.default_rng(i), 32) for i in range(400)])
    variance = float(np.sum(2.0 * problem.grf_sqrt_eigenvalues(32) ** 2))
    assert samples.var() == pytest.approx(variance, rel=0.05)
    assert abs(samples.mean(axis=(1, 2))).max() < 1e-12
    assert problem.sigma == pytest.approx(7**1.5)


@pytest.mark.parametrize("kwargs, message", [
    ({"nu": -1e-3}, "nu must be >= 0"),
    ({"t_end": 0.0}, "t_end must be positive"),
    ({"nu": math.nan}, "nu must be >= 0"),
    ({"forcing_wavenumber": 0}, "forcing_wavenumber"),
])
def test_bad_problem_parameters(kwargs, message):
    with pytest.raises(BadInput, match=message):
        NS2D(**kwargs)


@pytest.mark.parametrize("n, dt, message", [(15, 0.01, "even integer"), (0, 0.01, "even integer"),
                                            (16, 0.0, "dt must be positive")])
def test_bad_solver_parameters(n, dt, message):
    with pytest.raises(BadInput, match=message):
        NS2DSolver(NS2D(), n, dt)


def test_cfl_checked_before_any_step():
    problem = NS2D()
    solver = NS2DSolver(problem, 32, 1.0)
    w0 = problem.initial_vorticity(np.random.default_rng(0), 32)[None] * 10
    with pytest.raises(BadInput, match="CFL number"):
        solver.solve(w0, np.array([1.0]))
    with pytest.raises(BadInput, match="multiples of dt"):
        NS2DSolver(problem, 32, 0.3).solve(w0 / 100, np.array([1.0]))


def test_growing_flow_stops_with_the_step_named():
    problem = NS2D(nu=0.0, forcing_amplitude=50.0)  # forcing accelerates the flow past the CFL limit
    w0 = problem.initial_vorticity(np.random.default_rng(0), 16)[None]
    with pytest.raises(SolverError, match=r"CFL number .* at step \d+"):
        NS2DSolver(problem, 16, 0.05).solve(w0, np.array([1.0]))


def test_blow_up_raises_solver_error(monkeypatch):
    monkeypatch.setattr(NS2DSolver, "cfl_max", math.inf)  # let an unstable run go on until it overflows
    problem = NS2D(nu=0.0, forcing_amplitude=0.0)
    w0 = problem.initial_vorticity(np.random.default_rng(0), 16)[None] * 100
    with np.errstate(all="ignore"), pytest.raises(SolverError, match=r"non-finite .* at step \d+"):
        NS2DSolver(problem, 16, 0.5).solve(w0, np.array([100.0]))
