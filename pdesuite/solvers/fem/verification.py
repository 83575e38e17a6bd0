"""Manufactured-solution studies: observed convergence orders of the FEM solvers.

Used by the order test (tests/solvers/test_orders.py) and by ``benchmarks/fem_convergence.py``,
which prints the tables in docs/fem-solvers.md. Each study returns the errors, the fitted rates and
the solver's own declaration (``expected``: its `convergence_order`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mpi4py import MPI

import dolfinx
import numpy as np
import ufl

from pdesuite.problems import DFGCylinderFlow, Heat, Helmholtz, Poisson, ReactionDiffusion
from pdesuite.problems.hyperelastic import Hyperelastic, neo_hookean
from pdesuite.solvers.fem.heat import AdvectionDiffusionSolver, HeatSolver
from pdesuite.solvers.fem.helmholtz import HelmholtzSolver, ReactionDiffusionSolver
from pdesuite.solvers.fem.hyperelastic import HyperelasticSolver, minimise, strain_energy
from pdesuite.solvers.fem.mesh import Domain, rectangle, unit_square
from pdesuite.solvers.fem.navier_stokes import NavierStokesIPCS, NavierStokesSteady
from pdesuite.solvers.fem.poisson import PoissonSolver
from pdesuite.solvers.order import observed_rate

__all__ = ["SPATIAL_CASES", "heat_space_study", "heat_time_study", "hyperelastic_space_study", "ipcs_time_study",
           "navier_stokes_space_study", "observed_rate", "spatial_study"]


def u_smooth(x, m):
    """A non-polynomial solution without symmetries, so no element reproduces it."""
    return m.sin(m.pi * x[0]) * m.cos(2.0 * x[1]) + m.exp(x[0] * x[1])


def kappa_variable(x, m):
    return 1.0 + 0.5 * x[0] ** 2 + 0.25 * m.sin(x[1])


def _poisson_mixed():
    # Dirichlet on the left and bottom sides, Neumann flux κ∇u·n (from u_smooth) on the others
    return Poisson(kappa=kappa_variable, exact=u_smooth, dirichlet_boundary=lambda x: (x[0] < 1e-12) | (x[1] < 1e-12))


@dataclass(frozen=True)
class SpatialCase:
    """A steady manufactured problem: solver class, problem factory, cell type."""

    solver: type
    problem: Callable[[], object]
    cell: str = "triangle"


SPATIAL_CASES = {
    "poisson-tri": SpatialCase(PoissonSolver, _poisson_mixed),
    "poisson-quad": SpatialCase(PoissonSolver, _poisson_mixed, "quadrilateral"),
    "reaction-diffusion": SpatialCase(ReactionDiffusionSolver,
                                      lambda: ReactionDiffusion(kappa=kappa_variable, reaction=1.0, exact=u_smooth)),
    "helmholtz-k3": SpatialCase(HelmholtzSolver, lambda: Helmholtz(wavenumber=3.0, exact=u_smooth)),
    # k² = 30 > 2π² ≈ 19.7 (the first Dirichlet eigenvalue): the indefinite case
    "helmholtz-indefinite": SpatialCase(HelmholtzSolver, lambda: Helmholtz(wavenumber=np.sqrt(30.0), exact=u_smooth),
                                        "quadrilateral"),
}
RESOLUTIONS = {1: [8, 16, 32, 64], 2: [4, 8, 16, 32]}


def spatial_study(case: str, degree: int, resolutions=None) -> dict:
    """Errors in L2 and the H1 seminorm over mesh refinements, with fitted rates and expected orders."""
    spec = SPATIAL_CASES[case]
    resolutions = resolutions or RESOLUTIONS[degree]
    errors = {"L2": [], "H1": []}
    for n in resolutions:
        solver = spec.solver(spec.problem(), unit_square(n, spec.cell), degree=degree)
        uh = solver.solve()
        for norm in errors:
            errors[norm].append(uh.errornorm(u_smooth, norm))
    h = [1.0 / n for n in resolutions]
    return {"h": h, "errors": errors, "rates": {k: observed_rate(h, v) for k, v in errors.items()},
            "expected": solver.convergence_order, "declared": solver.convergence_order}


def u_heat_space(x, t, m):
    """Linear in t, so every θ-scheme integrates time exactly: the error is spatial only."""
    return (1.0 + t) * m.sin(m.pi * x[0]) * m.sin(m.pi * x[1]) + x[0] * x[1] ** 2


def u_heat_time(x, t, m):
    """Quadratic in space (exact in P2), smooth in time: the error is temporal only."""
    return (1.0 + x[0] ** 2 + 2.0 * x[1] ** 2) * (1.0 + m.sin(2.0 * t))


def heat_space_study(degree: int, velocity=None, resolutions=None) -> dict:
    resolutions = resolutions or RESOLUTIONS[degree][:3]
    problem = Heat(kappa=0.5, velocity=velocity, exact=u_heat_space, t_end=0.2)
    errors = {"L2": [], "H1": []}
    solver_class = HeatSolver if velocity is None else AdvectionDiffusionSolver
    for n in resolutions:
        solver = solver_class(problem, unit_square(n), degree=degree, dt=0.1, scheme="crank-nicolson")
        final = solver.solve(save_times=[0.2])[-1]
        for norm in errors:
            errors[norm].append(final.errornorm(lambda x, m: u_heat_space(x, 0.2, m), norm))
    h = [1.0 / n for n in resolutions]
    return {"h": h, "errors": errors, "rates": {k: observed_rate(h, v) for k, v in errors.items()},
            "expected": {k: solver.convergence_order[k] for k in errors}, "declared": solver.convergence_order}


def heat_time_study(scheme, dts=(0.2, 0.1, 0.05, 0.025)) -> dict:
    problem = Heat(kappa=1.0, velocity=(0.3, 0.2), exact=u_heat_time, t_end=1.0)
    errors = []
    for dt in dts:
        solver = HeatSolver(problem, unit_square(4), degree=2, dt=dt, scheme=scheme)
        final = solver.solve(save_times=[1.0])[-1]
        errors.append(final.errornorm(lambda x, m: u_heat_time(x, 1.0, m)))
    return {"dt": list(dts), "errors": errors, "rate": observed_rate(dts, errors),
            "expected": solver.convergence_order["time"], "declared": solver.convergence_order}


# -- Navier-Stokes: a manufactured flow on [0, 1]² --------------------------------------------------
# Velocity from a stream function, u = (ψ_y, -ψ_x) with ψ = e^{(x-1)³} sin 2y + sin(y)/2 (divergence
# free, non-polynomial), pressure p = sin(πx) cos y, both times s(t) = sin 2t (or 1 when steady). At the
# outlet x = 1: ∂u/∂x = 0 and p = 0, so the do-nothing condition μ ∂u/∂n - p n = 0 (steady solver) and
# the IPCS outlet conditions (μ ∂u*/∂n = 0, φ = 0) hold exactly; u = exact on the other three sides
# (the "inlet" marker), f = ρ(∂u/∂t + (u·∇)u) - μΔu + ∇p.
def _flow(x, m):
    a = m.exp((x[0] - 1.0) ** 3)
    return (2.0 * a * m.cos(2.0 * x[1]) + 0.5 * m.cos(x[1]), -3.0 * (x[0] - 1.0) ** 2 * a * m.sin(2.0 * x[1]))


def _pressure(x, m):
    return m.sin(m.pi * x[0]) * m.cos(x[1])


@dataclass(frozen=True)
class ManufacturedFlow(DFGCylinderFlow):
    """`DFGCylinderFlow` whose "inflow" (Dirichlet data) and body force make ``exact`` the solution."""

    unsteady: bool = False

    def factor(self, t, m):
        """s(t): sin 2t (zero at t = 0: the IPCS solver starts from rest), or 1 when steady."""
        return m.sin(2.0 * t) if self.unsteady else 1.0

    def velocity(self, x, t, m):
        s = self.factor(t, m)
        return tuple(s * c for c in _flow(x, m))

    def pressure(self, x, t, m):
        return self.factor(t, m) * _pressure(x, m)

    def inflow(self, x, t, m):
        return self.velocity(x, t, m)

    def body_force(self, x, t, m):
        U, P = ufl.as_vector(_flow(x, m)), _pressure(x, m)
        s = self.factor(t, m)
        ds = 2.0 * m.cos(2.0 * t) if self.unsteady else 0.0
        mu = self.density * self.viscosity
        f = self.density * (ds * U + s * s * ufl.grad(U) * U) - mu * s * ufl.div(ufl.grad(U)) + s * ufl.grad(P)
        return tuple(f[i] for i in range(2))


def _square_with_outlet(n: int, cell: str = "triangle") -> Domain:
    """The unit square, n × n cells, markers "inlet" (x = 0, y = 0, y = 1) and "outlet" (x = 1)."""
    domain = unit_square(n, cell)
    mesh = domain.mesh
    fdim = mesh.topology.dim - 1
    outlet = dolfinx.mesh.locate_entities_boundary(mesh, fdim, lambda x: np.isclose(x[0], 1.0))
    boundary = dolfinx.mesh.locate_entities_boundary(mesh, fdim, lambda x: np.full(x.shape[1], True))
    inlet = np.setdiff1d(boundary, outlet)
    facets = np.concatenate([inlet, outlet]).astype(np.int32)
    values = np.concatenate([np.full(len(inlet), 1), np.full(len(outlet), 2)]).astype(np.int32)
    order = np.argsort(facets)
    tags = dolfinx.mesh.meshtags(mesh, fdim, facets[order], values[order])
    return Domain(mesh, tags, {"inlet": 1, "outlet": 2}, dict(domain.description))


def _flow_errors(problem: ManufacturedFlow, velocity, pressure, t: float) -> dict[str, float]:
    return {"velocity_L2": velocity.errornorm(lambda x, m: problem.velocity(x, t, m)),
            "velocity_H1": velocity.errornorm(lambda x, m: problem.velocity(x, t, m), "H1"),
            "pressure_L2": pressure.errornorm(lambda x, m: problem.pressure(x, t, m))}


def navier_stokes_space_study(degree: int = 2, resolutions=(4, 8, 16), viscosity: float = 0.1) -> dict:
    """Steady Newton solver on the manufactured flow (Re ≈ 20 with U ≈ 2 on the unit square)."""
    problem = ManufacturedFlow(viscosity=viscosity)
    errors = {"velocity_L2": [], "velocity_H1": [], "pressure_L2": []}
    for n in resolutions:
        solver = NavierStokesSteady(problem, _square_with_outlet(n), degree=degree)
        u, p = solver.solve()
        for key, value in _flow_errors(problem, u, p, 0.0).items():
            errors[key].append(value)
    h = [1.0 / n for n in resolutions]
    return {"h": h, "errors": errors, "rates": {k: observed_rate(h, v) for k, v in errors.items()},
            "expected": {k: solver.convergence_order[k] for k in errors}, "declared": solver.convergence_order}


def ipcs_time_study(dts=(0.2, 0.1, 0.05, 0.025), n: int = 16, degree: int = 3, viscosity: float = 0.1,
                    t_end: float = 1.0) -> dict:
    """IPCS on the unsteady manufactured flow, P3/P2 on a 16² mesh (spatial error far below the temporal)."""
    problem = ManufacturedFlow(viscosity=viscosity, unsteady=True, t_end=t_end)
    domain = _square_with_outlet(n)
    errors = {"time_velocity": [], "time_pressure": []}
    for dt in dts:
        solver = NavierStokesIPCS(problem, domain, dt=dt, degree=degree)
        result = solver.run()
        e = _flow_errors(problem, result.velocity[-1], result.pressure[-1], t_end)
        errors["time_velocity"].append(e["velocity_L2"])
        errors["time_pressure"].append(e["pressure_L2"])
    return {"dt": list(dts), "errors": errors, "rates": {k: observed_rate(dts, v) for k, v in errors.items()},
            "expected": {k: solver.convergence_order[k] for k in errors}, "declared": solver.convergence_order}


# -- hyperelasticity -------------------------------------------------------------------------------
def _deformation(x, m):
    """u = 0.2 (sin(πx/2) cos(πy/2), x y²): smooth, non-polynomial, J well away from 0."""
    return 0.2 * m.as_vector((m.sin(m.pi * x[0] / 2) * m.cos(m.pi * x[1] / 2), x[0] * x[1] ** 2)) if m is ufl else \
        0.2 * np.stack([np.sin(np.pi * x[0] / 2) * np.cos(np.pi * x[1] / 2), x[0] * x[1] ** 2])


def hyperelastic_space_study(degree: int, resolutions=None, mu: float = 1.0, lam: float = 1.5) -> dict:
    """L2 and H1-seminorm errors of the neo-Hookean energy minimisation (the energy and the Newton solve of
    `HyperelasticSolver`) on [-1, 1]² with the body force b = -∇·P(I + ∇u) that makes `_deformation` the
    minimiser, its values on the whole boundary; with fitted rates and the solver's declaration."""
    resolutions = resolutions or {1: [8, 16, 32], 2: [4, 8, 16]}[degree]
    errors: dict[str, list[float]] = {"L2": [], "H1": []}
    for n in resolutions:
        mesh = rectangle((-1, -1), (1, 1), (n, n), comm=MPI.COMM_SELF).mesh
        V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree, (2,)))
        x = ufl.SpatialCoordinate(mesh)
        exact = _deformation(x, ufl)
        F = ufl.variable(ufl.Identity(2) + ufl.grad(exact))
        body = -ufl.div(ufl.diff(neo_hookean(ufl.tr(F.T * F), ufl.det(F), ufl.ln, mu, lam), F))
        mesh.topology.create_connectivity(1, 2)
        boundary = dolfinx.fem.Function(V)
        boundary.interpolate(lambda X: _deformation(X, np))
        bc = dolfinx.fem.dirichletbc(boundary, dolfinx.fem.locate_dofs_topological(
            V, 1, dolfinx.mesh.exterior_facet_indices(mesh.topology)))
        u = dolfinx.fem.Function(V)
        quadrature = {"quadrature_degree": 2 * degree + 4}
        minimise((strain_energy(u, mu, lam) - ufl.inner(body, u)) * ufl.dx(metadata=quadrature), u, [bc])
        e = u - exact
        for norm, integrand in (("L2", ufl.inner(e, e)), ("H1", ufl.inner(ufl.grad(e), ufl.grad(e)))):
            value = dolfinx.fem.assemble_scalar(dolfinx.fem.form(integrand * ufl.dx(metadata={"quadrature_degree": 8})))
            errors[norm].append(float(np.sqrt(value)))
    h = [2.0 / n for n in resolutions]
    declared = HyperelasticSolver(Hyperelastic(), 2, 2, degree=degree).convergence_order
    return {"h": h, "errors": errors, "rates": {k: observed_rate(h, v) for k, v in errors.items()},
            "expected": declared, "declared": declared}
