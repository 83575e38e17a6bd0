"""Nonlinear diffusion u_t = α∇·(u∇u) + f: manufactured solutions give the declared orders; the
PIG Gaussian reference converges under grid refinement; bad input is refused."""

import numpy as np
import pytest

from pdesuite.errors import BadInput
from pdesuite.problems.base import NUMPY
from pdesuite.problems.pig import NonlinearDiffusion
from pdesuite.solvers.fd.nonlinear_diffusion import NonlinearDiffusionSolver

ALPHA = 0.05


def rate(h, errors) -> float:
    """Least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


# -- a smooth, non-polynomial manufactured solution (for the order in space) ----------------------
def _s(x, m):
    return m.sin(m.pi * x[0]) * m.cos(0.5 * m.pi * x[1]) + 0.5 * m.cos(0.5 * m.pi * x[0]) * m.sin(m.pi * x[1])


def _s_x(x, m):
    return (m.pi * m.cos(m.pi * x[0]) * m.cos(0.5 * m.pi * x[1])
            - 0.25 * m.pi * m.sin(0.5 * m.pi * x[0]) * m.sin(m.pi * x[1]))


def _s_y(x, m):
    return (-0.5 * m.pi * m.sin(m.pi * x[0]) * m.sin(0.5 * m.pi * x[1])
            + 0.5 * m.pi * m.cos(0.5 * m.pi * x[0]) * m.cos(m.pi * x[1]))


def smooth_exact(x, t, m):
    return 1.0 + 0.5 * m.exp(-t) * _s(x, m)


def smooth_source(x, t, m):
    # u = 1 + e s, e = e^{-t}/2, Δs = -(5/4)π² s:  f = u_t - α(|∇u|² + u Δu)
    e = 0.5 * m.exp(-t)
    grad2 = e * e * (_s_x(x, m) ** 2 + _s_y(x, m) ** 2)
    return -e * _s(x, m) - ALPHA * (grad2 - smooth_exact(x, t, m) * e * 1.25 * m.pi**2 * _s(x, m))


# -- a solution bilinear in space: u² has degree 2 per axis, so the 5-point Δ_h(u²) is exact and
# -- the error is the time discretization's alone (for the order in time)
def bilinear_exact(x, t, m):
    return 2.0 + 0.5 * m.sin(2 * t) * x[0] + 0.3 * m.cos(3 * t) * x[1] + 0.4 * m.sin(t + 1) * x[0] * x[1]


def bilinear_source(x, t, m):
    u_t = m.cos(2 * t) * x[0] - 0.9 * m.sin(3 * t) * x[1] + 0.4 * m.cos(t + 1) * x[0] * x[1]
    u_x = 0.5 * m.sin(2 * t) + 0.4 * m.sin(t + 1) * x[1]
    u_y = 0.3 * m.cos(3 * t) + 0.4 * m.sin(t + 1) * x[0]
    return u_t - ALPHA * (u_x**2 + u_y**2)  # Δu = 0


def max_error(problem, cells, substeps, t_end=1.0):
    solver = NonlinearDiffusionSolver(problem, cells)
    u = solver.solve(np.array([0.0, t_end]), substeps=substeps)[-1]
    return np.abs(u - problem.exact(solver.points, t_end, NUMPY)).max()


def test_manufactured_order_in_space():
    problem = NonlinearDiffusion(alpha=ALPHA, exact=smooth_exact, source=smooth_source)
    cells = [8, 16, 32, 64]
    errors = [max_error(problem, n, substeps=32) for n in cells]
    observed = rate([2.0 / n for n in cells], errors)
    assert abs(observed - NonlinearDiffusionSolver.order["space"]) < 0.3, (observed, errors)
    assert errors[-1] < 3e-4, errors


def test_manufactured_order_in_time():
    problem = NonlinearDiffusion(alpha=ALPHA, exact=bilinear_exact, source=bilinear_source)
    # the spatial discretization is exact here: on a coarse grid the error still vanishes with Δt
    assert max_error(problem, 8, substeps=1024) < 1e-7
    steps = [4, 8, 16, 32]
    errors = [max_error(problem, 8, substeps=n) for n in steps]
    observed = rate([1.0 / n for n in steps], errors)
    assert abs(observed - NonlinearDiffusionSolver.order["time"]) < 0.3, (observed, errors)


def test_pig_gaussians_converge_under_grid_refinement():
    problem = NonlinearDiffusion()  # PIG: α = 0.05, three Gaussians, u = 0 on the boundary
    times = np.linspace(0.0, 1.0, 6)
    fine = NonlinearDiffusionSolver(problem, 160).solve(times, substeps=1)
    cells, errors = [20, 40, 80], []
    for n in cells:
        u = NonlinearDiffusionSolver(problem, n).solve(times, substeps=1)
        ref = fine[:, :: 160 // n, :: 160 // n]
        errors.append(np.linalg.norm(u[1:] - ref[1:]) / np.linalg.norm(ref[1:]))
    # errors against the 160-cell run: (1 - (n/160)²) times the true error for a second-order scheme
    true = [e / (1 - (n / 160) ** 2) for e, n in zip(errors, cells, strict=True)]
    observed = rate([2.0 / n for n in cells], true)
    assert 1.7 < observed < 2.4, (observed, errors)
    assert true[-1] < 1e-3, true
    # the solution stays non-negative, its maximum decays, and the boundary holds g = 0 for t > 0
    assert fine.min() > -1e-12
    assert np.all(np.diff(fine.max(axis=(1, 2))) < 0)
    assert np.all(fine[1:, 0, :] == 0) and np.all(fine[1:, :, -1] == 0)


def test_first_snapshot_is_the_initial_data():
    problem = NonlinearDiffusion()
    solver = NonlinearDiffusionSolver(problem, 10)
    u = solver.solve(np.array([0.0, 0.1]))
    np.testing.assert_array_equal(u[0], problem.initial(solver.points, NUMPY))
    assert u[0, 0, :].max() > 1e-3  # PIG's u0 does not vanish on ∂Ω; the boundary becomes 0 after


@pytest.mark.parametrize("kwargs", [dict(cells=1), dict(cells=2.5), dict(substeps=0),
                                    dict(save_times=[0.0, 0.5, 0.4])])
def test_bad_input(kwargs):
    cells = kwargs.pop("cells", 4)
    with pytest.raises(BadInput):
        solver = NonlinearDiffusionSolver(NonlinearDiffusion(), cells)
        solver.solve(np.array(kwargs.pop("save_times", [0.0, 1.0])), **kwargs)
