"""The neo-Hookean energy minimisation: an affine deformation is reproduced to round-off, Newton takes few
iterations, the implicit-Euler march does not gain energy, and point evaluation returns the clamped data.
The convergence orders (P1, P2; L2 and H1 on a manufactured deformation) are in tests/solvers/test_orders.py."""

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
import ufl

from pdesuite.errors import BadInput
from pdesuite.problems.hyperelastic import Hyperelastic
from pdesuite.solvers.fem.hyperelastic import HyperelasticSolver, minimise, strain_energy
from pdesuite.solvers.fem.mesh import rectangle

MU, LAM = 1.0, 1.5


def whole_boundary_bc(V, values):
    mesh = V.mesh
    fdim = mesh.topology.dim - 1
    mesh.topology.create_connectivity(fdim, fdim + 1)
    facets = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    g = dolfinx.fem.Function(V)
    g.interpolate(values)
    return dolfinx.fem.dirichletbc(g, dolfinx.fem.locate_dofs_topological(V, fdim, facets))


def test_an_affine_deformation_is_exact():
    """u = (A - I) X on the whole boundary: F = A is constant, ∇·P = 0, so u_h = (A - I) X exactly (P1)."""
    A = np.array([[1.4, 0.2], [-0.1, 0.8]])
    V = dolfinx.fem.functionspace(rectangle((-1, -1), (1, 1), (6, 6), comm=MPI.COMM_SELF).mesh,
                                  ("Lagrange", 1, (2,)))
    u = dolfinx.fem.Function(V)
    affine = lambda x: (A - np.eye(2)) @ x[:2]  # noqa: E731
    info = minimise(strain_energy(u, MU, LAM) * ufl.dx, u, [whole_boundary_bc(V, affine)])
    exact = dolfinx.fem.Function(V)
    exact.interpolate(affine)
    assert np.abs(u.x.array - exact.x.array).max() < 1e-11
    assert info["newton_iterations"] <= 8


def test_the_static_stretch_and_the_sagging_beam():
    stretch = HyperelasticSolver(Hyperelastic(dynamic=0.0, stretch=1.0), 8, 8, degree=1, load_steps=2)
    ends = np.array([[-1.0, 0.3], [1.0, -0.5], [0.0, 1.0]])
    stretch.step()
    u = stretch.displacement_at(ends)
    assert np.allclose(u[0], 0.0, atol=1e-12) and np.allclose(u[1], [1.0, 0.0], atol=1e-12)
    assert u[2, 1] < -0.05  # the free top edge necks in
    assert stretch.info[0]["load_increments"] == 2 and stretch.info[0]["newton_iterations"] <= 16
    assert stretch.elastic_energy() > 0

    beam = HyperelasticSolver(Hyperelastic(dynamic=1.0), 16, 4, degree=1)
    fx, fy = beam.problem.body_force
    potential = lambda s: -float(dolfinx.fem.assemble_scalar(dolfinx.fem.form(  # noqa: E731
        (fx * s.u[0] + fy * s.u[1]) * ufl.dx)))
    totals = [0.0]
    tip = beam.march(6, np.array([[1.0, 0.0]]),
                     lambda k, s: totals.append(s.kinetic_energy() + s.elastic_energy() + potential(s)))
    assert all(i["newton_iterations"] <= 6 for i in beam.info)
    assert np.all(np.diff(tip[:, 0, 1]) < 0)  # falling
    assert np.all(np.diff(totals) < 1e-12)  # implicit Euler dissipates: no step gains energy
    assert beam.dofs == HyperelasticSolver.p1_dofs(16, 4)


def test_a_free_body_translates_rigidly():
    """collide without gravity and with the floor far below: Ψ = 0 and the inertia target is reached by
    u = v_0 t, so each Newton step lands on it exactly (P1 and P2 hold it exactly)."""
    problem = Hyperelastic(dynamic=2.0, gravity=0.0, floor=-100.0, vx=0.7, vy=-0.4)
    for degree in (1, 2):
        solver = HyperelasticSolver(problem, 4, 4, degree=degree)
        assert solver.bcs == [] and np.isclose(solver.kinetic_energy(), 0.5 * 4.0 * (0.49 + 0.16))
        u = solver.march(5, np.array([[0.0, 0.0], [1.0, -1.0], [-0.3, 0.9]]))
        t = problem.dt * np.arange(6)
        assert np.abs(u - t[:, None, None] * np.array([0.7, -0.4])).max() < 1e-10
        assert solver.elastic_energy() < 1e-12 and solver.contact_energy() == 0.0


def test_the_collision_dissipates_and_does_not_penetrate():
    """The default collide case on P1 16 × 16: the square hits the floor at step 4, total energy (kinetic +
    elastic + gravity + contact) never increases, and the deepest point stays within a depth set by κ."""
    problem = Hyperelastic(dynamic=2.0)
    solver = HyperelasticSolver(problem, 16, 16, degree=1)
    totals, depths = [solver.total_energy()], [solver.penetration()]
    assert np.isclose(totals[0], 0.5 * 4.0 * (0.25 + 1.0)) and np.isclose(depths[0], -0.5)

    def record(k, s):
        totals.append(s.total_energy())
        depths.append(s.penetration())

    bottom = solver.march(20, np.array([[0.0, -1.0]]), record)
    assert all(i["newton_iterations"] <= 40 for i in solver.info)
    assert np.all(np.diff(totals) < 1e-9), np.diff(totals)  # implicit Euler with a convex penalty dissipates
    assert depths[3] < 0 < depths[4]  # first contact in step 4 (t = 0.37)
    # the kinetic energy at impact, (1/2)·4·2.5², stored in the contact alone over the bottom edge (2 long)
    # would need a depth sqrt(12.5 / κ) = 0.035; the body's compression takes most of it (measured: 2.3e-3)
    assert max(depths) < 0.01 and solver.contact_energy() > 0
    assert np.allclose(bottom[4:, 0, 1], -0.5, atol=0.01)  # it stays on the floor: no rebound at Δt = 0.1
    assert np.isclose(solver.kinetic_energy(), 0.5 * 4.0 * 0.25, rtol=1e-3)  # sliding on at vx, frictionless


def test_bad_input():
    with pytest.raises(BadInput, match="degree must be 1 or 2"):
        HyperelasticSolver(Hyperelastic(), 4, 4, degree=3)
    solver = HyperelasticSolver(Hyperelastic(), 4, 4, degree=1)
    with pytest.raises(BadInput, match="outside the body"):
        solver.displacement_at(np.array([[2.0, 0.0]]))
