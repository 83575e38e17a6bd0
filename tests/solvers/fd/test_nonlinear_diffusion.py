"""Nonlinear diffusion u_t = α∇·(u∇u) + f: the PIG Gaussian reference converges under grid
refinement; bad input is refused. (The declared orders against manufactured solutions are cases of
tests/solvers/test_orders.py; the solutions are in `pdesuite.solvers.fd.verification`.)"""

import numpy as np
import pytest

from pdesuite.errors import BadInput
from pdesuite.problems.base import NUMPY
from pdesuite.problems.pig import NonlinearDiffusion
from pdesuite.solvers.fd.nonlinear_diffusion import NonlinearDiffusionSolver
from pdesuite.solvers.fd.verification import ALPHA, bilinear_exact, bilinear_source, nonlinear_diffusion_error


def rate(h, errors) -> float:
    """Least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


def test_bilinear_solution_is_exact_in_space():
    """The time study's premise (tests/solvers/test_orders.py): for u bilinear in space the 5-point
    Δ_h(u²) is exact, so on a coarse grid the error still vanishes with Δt."""
    problem = NonlinearDiffusion(alpha=ALPHA, exact=bilinear_exact, source=bilinear_source)
    assert nonlinear_diffusion_error(problem, 8, substeps=1024) < 1e-7


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
