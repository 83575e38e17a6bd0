"""Reaction-diffusion and Helmholtz solvers (Dirichlet data on the whole boundary).

    reaction-diffusion:  ∫ κ∇u·∇v + c u v dx = ∫ f v dx        (SPD: CG + AMG scales)
    Helmholtz:           ∫ -∇u·∇v + k² u v dx = ∫ f v dx       (from Δu + k²u = f; indefinite, LU)
"""

from __future__ import annotations

from typing import ClassVar

import ufl

from pdesuite.problems.helmholtz import Helmholtz, ReactionDiffusion
from pdesuite.solvers.fem.base import DIRECT, LinearFEMSolver
from pdesuite.solvers.fem.expressions import UFL, spatial, to_ufl
from pdesuite.solvers.fem.solution import FEMSolution


class _DirichletLinearSolver(LinearFEMSolver):
    """Solve with Dirichlet data g (or the exact solution) on the whole boundary."""

    def boundary_conditions(self):
        p = self.problem
        value = p.dirichlet_value if p.dirichlet_value is not None else p.exact
        return [self.dirichlet_bc(value)]

    def solve(self) -> FEMSolution:
        a, L = self.forms()
        uh, info = self.linear_solve(a, L, self.boundary_conditions())
        uh.name = "u"
        return FEMSolution(uh, info=info)

    def _source(self, operator):
        """f from the problem, or operator(u_exact) for a manufactured solution, or zero."""
        p, x = self.problem, spatial(self.domain.mesh)
        if p.source is not None:
            return to_ufl(p.source, self.domain.mesh)
        if p.exact is not None:
            return operator(p.exact(x, UFL))
        return 0.0 * x[0]


class ReactionDiffusionSolver(_DirichletLinearSolver):
    """Lagrange P_k for -∇·(κ∇u) + c u = f (UM2N's training problem has κ = c = 1).

    Orders: L2 p + 1, H1 seminorm p.
    """

    name: ClassVar[str] = "reaction-diffusion"
    default_petsc_options: ClassVar[dict] = DIRECT

    def __init__(self, problem: ReactionDiffusion, domain, degree: int = 1, petsc_options=None):
        super().__init__(problem, domain, degree, petsc_options)

    def forms(self):
        p = self.problem
        kappa, c = to_ufl(p.kappa, self.domain.mesh), p.reaction
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        f = self._source(lambda w: -ufl.div(kappa * ufl.grad(w)) + c * w)
        a = (ufl.inner(kappa * ufl.grad(u), ufl.grad(v)) + c * u * v) * ufl.dx
        return a, f * v * ufl.dx


class HelmholtzSolver(_DirichletLinearSolver):
    """Lagrange P_k for Δu + k²u = f (indefinite once k² exceeds the first Dirichlet eigenvalue).

    Always solved with direct LU: CG does not apply to indefinite systems. For k h small enough
    (no pollution regime) the orders are L2 p + 1 and H1 seminorm p.
    """

    name: ClassVar[str] = "helmholtz"

    def __init__(self, problem: Helmholtz, domain, degree: int = 1, petsc_options=None):
        super().__init__(problem, domain, degree, petsc_options)

    def forms(self):
        k2 = self.problem.wavenumber ** 2
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        f = self._source(lambda w: ufl.div(ufl.grad(w)) + k2 * w)
        a = (-ufl.inner(ufl.grad(u), ufl.grad(v)) + k2 * u * v) * ufl.dx
        return a, f * v * ufl.dx
