"""Navier-Stokes solvers and gmsh meshes: DFG 2D-1 forces, channel flow, IPCS vs Newton, errors."""

import numpy as np
import pytest

fem = pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
from pdesuite.errors import BadInput, SolverError  # noqa: E402
from pdesuite.problems.navier_stokes import DFG_2D1_REFERENCE, DFGCylinderFlow  # noqa: E402
from pdesuite.solvers.fem import (  # noqa: E402
    FEMSolution,
    NavierStokesIPCS,
    NavierStokesSteady,
    dfg_channel,
    force_coefficients,
    read_mesh,
    rectangle,
    unstructured_rectangle,
)

# A channel without cylinder, short and viscous so that it reaches its steady state quickly.
CHANNEL = DFGCylinderFlow(max_inflow=1.0, viscosity=0.1, t_end=2.0)
LENGTH = 1.0


def poiseuille_velocity(x, m):
    h, um = CHANNEL.height, CHANNEL.max_inflow
    return (4 * um * x[1] * (h - x[1]) / h**2, 0.0 * x[0])


def poiseuille_pressure(x, m):
    """p = 8 μ U_m / H² (L - x): zero on the do-nothing outlet (∂u/∂n = 0 there)."""
    mu = CHANNEL.density * CHANNEL.viscosity
    return 8 * mu * CHANNEL.max_inflow / CHANNEL.height**2 * (LENGTH - x[0])


@pytest.fixture(scope="module")
def channel():
    return unstructured_rectangle(0.1, (0.0, 0.0), (LENGTH, CHANNEL.height))


@pytest.fixture(scope="module")
def coarse_dfg():
    return dfg_channel(h_cylinder=0.01, h_max=0.04)


# --- meshes -----------------------------------------------------------------------------------
def test_dfg_mesh_markers_and_msh_round_trip(tmp_path):
    path = tmp_path / "dfg.msh"
    domain = dfg_channel(h_cylinder=0.02, h_max=0.05, msh_path=path)
    assert set(domain.markers) == {"inlet", "outlet", "walls", "cylinder"}
    for name in domain.markers:
        assert domain.boundary_facets(name).size > 0, name
    assert domain.description["kind"] == "dfg_channel"
    assert domain.description["h_cylinder"] == 0.02 and domain.description["msh_path"] == str(path)
    # Cylinder facets lie on the circle.
    mesh = domain.mesh
    x = mesh.geometry.x
    facets = domain.boundary_facets("cylinder")
    mesh.topology.create_connectivity(1, 0)
    vertices = np.unique(mesh.topology.connectivity(1, 0).array.reshape(-1, 2)[facets])
    radius = np.hypot(x[vertices, 0] - 0.2, x[vertices, 1] - 0.2)
    assert np.allclose(radius, 0.05, atol=1e-10)

    again = read_mesh(path)
    assert again.num_vertices == domain.num_vertices
    assert again.num_cells == domain.num_cells
    assert set(again.markers) == set(domain.markers)


def test_meshes_are_reproducible():
    a, b = dfg_channel(0.02, 0.05), dfg_channel(0.02, 0.05)
    assert np.array_equal(a.mesh.geometry.x, b.mesh.geometry.x)


def test_unstructured_rectangle(tmp_path):
    domain = unstructured_rectangle(0.1, (0.0, 0.0), (2.0, 1.0), msh_path=tmp_path / "r.msh")
    assert set(domain.markers) == {"left", "right", "bottom", "top"}
    assert domain.hmax() < 0.2
    assert (tmp_path / "r.msh").is_file()


@pytest.mark.parametrize("h", [0.0, -0.1, 2.0, float("nan")])
def test_unstructured_rectangle_rejects_bad_sizes(h):
    with pytest.raises(BadInput):
        unstructured_rectangle(h)


@pytest.mark.parametrize("sizes", [(0.0, 0.04), (0.05, 0.01), (0.2, 0.3), (0.01, 0.5)])
def test_dfg_channel_rejects_bad_sizes(sizes):
    with pytest.raises(BadInput):
        dfg_channel(*sizes)


# --- steady Newton ----------------------------------------------------------------------------
def test_dfg_2d1_drag_and_lift_within_one_percent():
    """DFG 2D-1 (Re = 20), P2/P1 on h = 0.0025 at the cylinder, 0.04 away (≈ 4200 cells)."""
    problem = DFGCylinderFlow()
    domain = dfg_channel(h_cylinder=0.0025, h_max=0.04, problem=problem)
    velocity, pressure = NavierStokesSteady(problem, domain).solve()
    c_d, c_l = force_coefficients(velocity, pressure, problem, domain)
    assert (c_d, c_l) == (velocity.info["drag"], velocity.info["lift"])
    assert velocity.info["newton_iterations"] <= 8
    assert abs(c_d / DFG_2D1_REFERENCE["drag"] - 1) < 0.01
    assert abs(c_l / DFG_2D1_REFERENCE["lift"] - 1) < 0.01
    # The surface integral is worse on the same mesh (the reason for the volume formulation).
    c_d_surface, _ = force_coefficients(velocity, pressure, problem, domain, method="surface")
    assert abs(c_d_surface / DFG_2D1_REFERENCE["drag"] - 1) > abs(c_d / DFG_2D1_REFERENCE["drag"] - 1)


def test_dfg_2d1_drag_converges_under_cylinder_refinement():
    """Halving h at the cylinder cuts the drag error by ≳ 3 (the polygonal boundary's O(h²))."""
    problem = DFGCylinderFlow()
    errors = []
    for h in (0.01, 0.005, 0.0025):
        velocity, _ = NavierStokesSteady(problem, dfg_channel(h, 0.04, problem)).solve()
        errors.append(abs(velocity.info["drag"] / DFG_2D1_REFERENCE["drag"] - 1))
    assert errors[0] / errors[1] > 2.5 and errors[1] / errors[2] > 2.5, errors


@pytest.mark.parametrize("structured", [True, False])
def test_steady_channel_is_exact_poiseuille(structured, channel):
    """Poiseuille flow lies in P2 × P1, so Taylor-Hood reproduces it to round-off."""
    domain = rectangle((0.0, 0.0), (LENGTH, CHANNEL.height), (10, 4)) if structured else channel
    solver = NavierStokesSteady(CHANNEL, domain)
    assert solver.convergence_order == {"velocity_L2": 3, "velocity_H1": 2, "pressure_L2": 2}
    velocity, pressure = solver.solve()
    assert velocity.errornorm(poiseuille_velocity) < 1e-10
    assert pressure.errornorm(poiseuille_pressure) < 1e-10
    assert "drag" not in velocity.info


def test_newton_failure_raises_solver_error(coarse_dfg):
    solver = NavierStokesSteady(DFGCylinderFlow(), coarse_dfg, petsc_options={
        "snes_type": "newtonls", "snes_max_it": 1, "ksp_type": "preonly", "pc_type": "lu",
        "pc_factor_mat_solver_type": "mumps"})
    with pytest.raises(SolverError, match="did not converge"):
        solver.solve()


def test_steady_rejects_pulsating_inflow(coarse_dfg):
    with pytest.raises(BadInput):
        NavierStokesSteady(DFGCylinderFlow(pulsating=True), coarse_dfg)


# --- IPCS -------------------------------------------------------------------------------------
def test_ipcs_channel_converges_to_poiseuille(channel):
    """From rest, IPCS reaches the exact steady Poiseuille flow and pressure gradient."""
    result = NavierStokesIPCS(CHANNEL, channel, dt=0.02).run(save_times=[0.2, 2.0])
    assert len(result.times) == 100 and result.drag is None
    u_early, u_late = result.velocity[0], result.velocity[1]
    p_late = result.pressure[1]
    assert u_early.time == pytest.approx(0.2) and u_late.time == pytest.approx(2.0)
    scale_u = FEMSolution(u_late.function).norm()
    error_early = u_early.errornorm(poiseuille_velocity) / scale_u
    error_late = u_late.errornorm(poiseuille_velocity) / scale_u
    assert error_late < 1e-5 < error_early
    assert p_late.errornorm(poiseuille_pressure) / p_late.norm() < 1e-4
    # Pressure gradient dp/dx = -8 μ U_m / H².
    (p0,), (p1,) = p_late.eval([[0.2, 0.2], [0.8, 0.2]])
    exact_gradient = -8 * CHANNEL.viscosity * CHANNEL.max_inflow / CHANNEL.height**2
    assert (p1 - p0) / 0.6 == pytest.approx(exact_gradient, rel=1e-4)


def test_ipcs_re20_approaches_newton_drag(coarse_dfg):
    """DFG 2D-1 by time stepping: c_D(t) tends to the steady Newton value on the same mesh."""
    problem = DFGCylinderFlow()
    velocity, _ = NavierStokesSteady(problem, coarse_dfg).solve()
    result = NavierStokesIPCS(problem, coarse_dfg, dt=0.05).run(t_end=5.0)
    assert result.drag.shape == result.lift.shape == result.times.shape == (100,)
    c_d = velocity.info["drag"]
    assert abs(result.drag[-1] / c_d - 1) < 5e-4
    assert abs(result.drag[19] / c_d - 1) > 1e-3  # at t = 1 it is still moving: not trivially equal
    assert abs(result.lift[-1] - velocity.info["lift"]) < 2e-3


def test_ipcs_pulsating_inflow_starts_from_zero(channel):
    problem = DFGCylinderFlow(max_inflow=1.0, viscosity=0.1, pulsating=True)
    result = NavierStokesIPCS(problem, channel, dt=0.1).run(t_end=0.4, save_times=[0.1, 0.4])
    inlet_speed = [s.eval([[0.0, problem.height / 2]])[0, 0] for s in result.velocity]
    expected = [np.sin(np.pi * t / 8) for t in (0.1, 0.4)]
    assert inlet_speed == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("dt", [0.0, -0.01, float("nan")])
def test_ipcs_rejects_bad_dt(dt, channel):
    with pytest.raises(BadInput):
        NavierStokesIPCS(CHANNEL, channel, dt=dt)


def test_ipcs_non_finite_solution_raises_solver_error(channel):
    def poison(t, u, p):
        u.x.array[:] = np.nan

    with pytest.raises(SolverError, match="non-finite|failed"):
        NavierStokesIPCS(CHANNEL, channel, dt=0.1).run(t_end=0.5, callback=poison)


def test_ipcs_callback_can_stop_early(channel):
    result = NavierStokesIPCS(CHANNEL, channel, dt=0.1).run(t_end=1.0, callback=lambda t, u, p: t >= 0.3)
    assert len(result.times) == 3
    assert result.velocity[-1].time == pytest.approx(0.3)

