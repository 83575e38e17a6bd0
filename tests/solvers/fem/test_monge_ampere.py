"""Monge-Ampère mesh movement (pdesuite.solvers.fem.monge_ampere): equidistribution, boundary sliding,
no movement for an optimal mesh, lower FEM error on the moved mesh, refusal of tangled or bad input."""

import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")

from mpi4py import MPI  # noqa: E402

from scipy.integrate import quad  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

from pdesuite.errors import BadInput, SolverError  # noqa: E402
from pdesuite.solvers.fem import (  # noqa: E402
    monge_ampere,  # noqa: E402
    unit_square,
    unstructured_rectangle,
)
from pdesuite.solvers.fem.monge_ampere import (  # noqa: E402
    ConstantMonitor,
    ExpressionMonitor,
    HessianMonitor,
    MeshTangled,
    MongeAmpereMover,
)
from pdesuite.solvers.mesh_quality import count_inverted, folded_edges  # noqa: E402

ALPHA, WIDTH = 5.0, 0.1


def strip_monitor(x, m):
    """A monitor of x alone: a band of refinement around x = 1/2."""
    return 1.0 + ALPHA * m.exp(-((x[0] - 0.5) ** 2) / (2 * WIDTH**2)) + 0.0 * x[1]


def equidistributed(xi: np.ndarray) -> np.ndarray:
    """The exact 1D map: ∫_0^x m = ξ ∫_0^1 m."""
    m = lambda s: strip_monitor([s, 0.0], np)  # noqa: E731
    total = quad(m, 0, 1)[0]
    def position(fraction):
        if fraction in (0.0, 1.0):
            return fraction
        return brentq(lambda x: quad(m, 0, x)[0] - fraction * total, 0, 1)

    return np.array([position(v) for v in xi])


@pytest.mark.parametrize("n", [10, 20, 40])
def test_a_one_dimensional_monitor_moves_nodes_to_its_equidistribution(n):
    domain = unit_square(n)
    mover = MongeAmpereMover(domain, ExpressionMonitor(strip_monitor), rtol=1e-8, maxiter=2000)
    result = mover.move()
    error = np.abs(result.points[:, 0] - equidistributed(mover.xi[:, 0])).max()
    # measured max |x - x_exact|: 1.7e-2, 5.3e-3, 2.0e-3 (order ≈ 1.5); bound 2 h^1.4
    assert error < 2.0 * (1.0 / n) ** 1.4, error
    assert result.residuals[-1] < 1e-8 and result.tangled == 0 and result.max_tangled == 0
    np.testing.assert_array_equal(domain.mesh.geometry.x[:, :2], result.points)  # moved in place


def test_constant_monitor_does_not_move_the_mesh():
    domain = unstructured_rectangle(0.1, comm=MPI.COMM_SELF)
    before = domain.mesh.geometry.x[:, :2].copy()
    result = MongeAmpereMover(domain, ConstantMonitor(3.0), rtol=1e-10).move()
    assert result.iterations == 0
    np.testing.assert_allclose(result.points, before, atol=1e-14)


def test_boundary_nodes_slide_along_their_side_and_corners_stay():
    domain = unit_square(12)
    bump = lambda x, m: 1 + 20 * m.exp(-((x[0] - 0.1) ** 2 + (x[1] - 0.05) ** 2) / 0.02)  # noqa: E731
    mover = MongeAmpereMover(domain, ExpressionMonitor(bump), rtol=1e-6, maxiter=1000)
    result = mover.move()
    xi, x = mover.xi, result.points
    for axis in (0, 1):
        for value in (0.0, 1.0):
            on = np.abs(xi[:, axis] - value) < 1e-12
            np.testing.assert_array_equal(x[on, axis], value)  # exactly: the normal component is a Dirichlet 0
    corners = np.all((np.abs(xi) < 1e-12) | (np.abs(xi - 1) < 1e-12), axis=1)
    np.testing.assert_array_equal(x[corners], xi[corners])
    sliding = (np.abs(xi[:, 1]) < 1e-12) & ~corners
    assert np.abs(x[sliding, 0] - xi[sliding, 0]).max() > 0.01  # the bottom side's nodes did slide
    assert np.all((x >= 0) & (x <= 1))


def test_the_residual_falls_below_rtol_and_the_monitor_is_equidistributed():
    domain = unit_square(16)
    mover = MongeAmpereMover(domain, ExpressionMonitor(strip_monitor), rtol=1e-4)
    result = mover.move()
    assert result.residuals[-1] < 1e-4 <= result.residuals[-2]
    assert result.residuals[0] > 100 * result.residuals[-1]
    # equidistribution: m × cell area nearly constant on the moved mesh, far from it on the uniform one
    from pdesuite.solvers.mesh_quality import signed_areas

    cells = domain.mesh.geometry.dofmaps[0]
    def spread(points):
        m = strip_monitor(points.T, np)[cells].mean(axis=1)
        mass = m * np.abs(signed_areas(points, cells))
        return mass.std() / mass.mean()
    assert spread(result.points) < 0.25 * spread(mover.xi)


def bump_case(domain, theta):
    from pdesuite.recipes.helmholtz_bumps import bump_problem

    parametric, problem, solver = bump_problem(domain)
    parametric.set(theta)
    return problem, solver


@pytest.mark.parametrize("make", [lambda: unit_square(20), lambda: unstructured_rectangle(0.05, comm=MPI.COMM_SELF)],
                         ids=["structured", "unstructured"])
def test_moving_to_the_hessian_monitor_lowers_the_fem_error_of_the_bump_problem(make):
    from pdesuite.recipes.helmholtz_bumps import draw_bumps

    domain = make()
    problem, solver = bump_case(domain, draw_bumps(np.random.default_rng(3)))
    uniform = solver.solve().errornorm(problem.exact)
    result = MongeAmpereMover(domain, HessianMonitor(lambda: solver.solve().function)).move()
    moved = solver.solve().errornorm(problem.exact)
    assert 0 < result.iterations < 500 and result.tangled == 0
    assert moved < 0.9 * uniform, (uniform, moved)


def test_count_inverted_and_folded_edges_see_one_flipped_cell():
    domain = unit_square(4)
    points = domain.mesh.geometry.x[:, :2].copy()
    cells = domain.mesh.geometry.dofmaps[0]
    assert count_inverted(points, cells, points) == 0 and folded_edges(points, cells) == 0
    interior = np.flatnonzero(np.all(np.abs(points - 0.25) < 1e-12, axis=1))[0]  # the node at (1/4, 1/4)
    moved = points.copy()
    moved[interior] += [0.3, 0.0]  # across its right-hand neighbours
    assert count_inverted(moved, cells, points) >= 1
    assert folded_edges(moved, cells) >= 1


def test_bad_input_and_failures_are_refused_and_leave_the_mesh_unmoved(monkeypatch):
    domain = unit_square(8)
    before = domain.mesh.geometry.x.copy()
    with pytest.raises(BadInput, match="positive"):
        MongeAmpereMover(domain, ExpressionMonitor(lambda x, m: x[0] - 0.5)).move()
    with pytest.raises(BadInput, match="rtol"):
        MongeAmpereMover(domain, ConstantMonitor(), rtol=0.0)
    with pytest.raises(SolverError, match=r"diverged at iteration \d+: residual"):
        MongeAmpereMover(domain, ExpressionMonitor(strip_monitor), pseudo_timestep=1.0).move()
    with pytest.raises(SolverError, match=r"did not converge in 3 iterations \(residual"):
        MongeAmpereMover(domain, ExpressionMonitor(strip_monitor), maxiter=3).move()
    monkeypatch.setattr(monge_ampere, "count_inverted", lambda points, cells, reference: 2)
    with pytest.raises(MeshTangled, match="inverted cells"):
        MongeAmpereMover(domain, ExpressionMonitor(strip_monitor)).move()
    np.testing.assert_array_equal(domain.mesh.geometry.x, before)
    monkeypatch.undo()

    folded = unit_square(4)
    points = folded.mesh.geometry.x
    inner = np.flatnonzero(np.all(np.abs(points[:, :2] - 0.25) < 1e-12, axis=1))[0]
    points[inner, 0] += 0.3
    with pytest.raises(BadInput, match="inverted cells"):
        MongeAmpereMover(folded, ConstantMonitor())
