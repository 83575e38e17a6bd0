"""Manufactured-solution studies: observed convergence orders of the FEM solvers.

Used by the test suite (tests/solvers/fem/test_convergence.py) and by
``benchmarks/fem_convergence.py``, which prints the tables in docs/fem-solvers.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pdesuite.problems import Heat, Helmholtz, Poisson, ReactionDiffusion
from pdesuite.solvers.fem.heat import HeatSolver
from pdesuite.solvers.fem.helmholtz import HelmholtzSolver, ReactionDiffusionSolver
from pdesuite.solvers.fem.mesh import unit_square
from pdesuite.solvers.fem.poisson import PoissonSolver


def observed_rate(h, errors) -> float:
    """Least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(np.asarray(h, float)), np.log(np.asarray(errors, float)), 1)[0])


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
            "expected": solver.convergence_order}


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
    for n in resolutions:
        solver = HeatSolver(problem, unit_square(n), degree=degree, dt=0.1, scheme="crank-nicolson")
        final = solver.solve(save_times=[0.2])[-1]
        for norm in errors:
            errors[norm].append(final.errornorm(lambda x, m: u_heat_space(x, 0.2, m), norm))
    h = [1.0 / n for n in resolutions]
    return {"h": h, "errors": errors, "rates": {k: observed_rate(h, v) for k, v in errors.items()},
            "expected": {k: solver.convergence_order[k] for k in errors}}


def heat_time_study(scheme, dts=(0.2, 0.1, 0.05, 0.025)) -> dict:
    problem = Heat(kappa=1.0, velocity=(0.3, 0.2), exact=u_heat_time, t_end=1.0)
    errors = []
    for dt in dts:
        solver = HeatSolver(problem, unit_square(4), degree=2, dt=dt, scheme=scheme)
        final = solver.solve(save_times=[1.0])[-1]
        errors.append(final.errornorm(lambda x, m: u_heat_time(x, 1.0, m)))
    return {"dt": list(dts), "errors": errors, "rate": observed_rate(dts, errors), "expected": solver.time_order}
