"""Poisson solver: -∇·(κ∇u) = f, u = g_D on Γ_D, κ∇u·n = g_N on Γ_N.

Weak form (V_0 the Lagrange space vanishing on Γ_D):

    find u ∈ V with u = g_D on Γ_D:   ∫ κ ∇u·∇v dx = ∫ f v dx + ∫_{Γ_N} g_N v ds   for all v ∈ V_0.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import dolfinx
import numpy as np
import ufl

from pdesuite.problems.poisson import Poisson
from pdesuite.solvers.fem.base import CG_AMG, DIRECT, LinearFEMSolver
from pdesuite.solvers.fem.expressions import UFL, spatial, to_ufl
from pdesuite.solvers.fem.solution import FEMSolution


class PoissonSolver(LinearFEMSolver):
    """Lagrange P_k finite elements for `pdesuite.problems.Poisson`.

    Converges as O(h^{k+1}) in L2 and O(h^k) in the H1 seminorm for smooth solutions.
    Default solver: MUMPS LU below 2e5 dofs, CG + algebraic multigrid (PETSc GAMG) above.

    Example:
        >>> solver = PoissonSolver(Poisson(source=1.0), unit_square(32), degree=2)  # doctest: +SKIP
        >>> u = solver.solve(); u.eval([0.5, 0.5])                                   # doctest: +SKIP
    """

    name: ClassVar[str] = "poisson"
    amg_threshold: ClassVar[int] = 200_000

    def __init__(self, problem: Poisson, domain, degree: int = 1, petsc_options: dict | None = None):
        super().__init__(problem, domain, degree, petsc_options)
        if petsc_options is None and self.V.dofmap.index_map.size_global > self.amg_threshold:
            self.petsc_options = dict(CG_AMG)
        elif petsc_options is None:
            self.petsc_options = dict(DIRECT)

    def forms(self):
        """The bilinear and linear forms a(u, v), L(v), in UFL."""
        p, mesh = self.problem, self.domain.mesh
        x = spatial(mesh)
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        kappa = to_ufl(p.kappa, mesh)
        u_exact = p.exact(x, UFL) if p.exact is not None else None

        if p.source is not None:
            f = to_ufl(p.source, mesh)
        elif u_exact is not None:
            f = -ufl.div(kappa * ufl.grad(u_exact))
        else:
            f = 0.0 * x[0]

        a = ufl.inner(kappa * ufl.grad(u), ufl.grad(v)) * ufl.dx
        L = f * v * ufl.dx

        if p.neumann_flux is not None:
            g_n = p.neumann_flux(x, UFL)
        elif u_exact is not None:
            g_n = ufl.dot(kappa * ufl.grad(u_exact), ufl.FacetNormal(mesh))
        else:
            g_n = None
        neumann_facets = self._neumann_facets()
        # The form must be the same on every MPI rank, so the term is kept even where this
        # rank owns no Neumann facet (it then integrates over an empty set).
        if g_n is not None and self.domain.comm.allreduce(neumann_facets.size) > 0:
            fdim = mesh.topology.dim - 1
            tags = dolfinx.mesh.meshtags(mesh, fdim, neumann_facets, np.full_like(neumann_facets, 1))
            ds = ufl.Measure("ds", domain=mesh, subdomain_data=tags)
            L += g_n * v * ds(1)
        return a, L

    @functools.cached_property
    def _boundary_split(self) -> tuple[np.ndarray, np.ndarray]:
        """(Γ_D facets, Γ_N facets): boundary facets whose midpoint the marker selects, and the rest."""
        mesh = self.domain.mesh
        facets = self.domain.boundary_facets()
        midpoints = dolfinx.mesh.compute_midpoints(mesh, mesh.topology.dim - 1, facets).T
        on_dirichlet = np.asarray(self.problem.dirichlet_boundary(midpoints), dtype=bool)
        return facets[on_dirichlet], facets[~on_dirichlet].astype(np.int32)

    def _dirichlet_facets(self) -> np.ndarray:
        return self._boundary_split[0]

    def _neumann_facets(self) -> np.ndarray:
        return self._boundary_split[1]

    def boundary_conditions(self):
        p = self.problem
        value = p.dirichlet_value if p.dirichlet_value is not None else p.exact
        return [self.dirichlet_bc(value, self._dirichlet_facets())]

    def solve(self) -> FEMSolution:
        """Assemble and solve; returns u_h with solver diagnostics in ``info``."""
        a, L = self.forms()
        uh, info = self.linear_solve(a, L, self.boundary_conditions())
        uh.name = "u"
        return FEMSolution(uh, info=info)
