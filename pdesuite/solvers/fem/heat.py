"""Heat and advection-diffusion: θ-scheme in time, Lagrange P_k in space.

With A(u; v) = ∫ (b·∇u) v + κ ∇u·∇v dx, one step from t_n to t_{n+1} = t_n + Δt solves

    ∫ u^{n+1} v dx + θ Δt A(u^{n+1}; v)
        = ∫ u^n v dx - (1 - θ) Δt A(u^n; v) + Δt ∫ (θ f^{n+1} + (1 - θ) f^n) v dx,

with u^{n+1} = g(·, t_{n+1}) on ∂Ω. θ = 1 is backward Euler (first order in time), θ = 1/2
Crank-Nicolson (second order). The matrix does not change between steps, so it is assembled and
factorised once.
"""

from __future__ import annotations

import math
from typing import ClassVar

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from petsc4py import PETSc

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.heat import Heat
from pdesuite.solvers.fem.base import LinearFEMSolver, unique_prefix
from pdesuite.solvers.fem.expressions import UFL, numpy_interpolant, spatial, to_ufl
from pdesuite.solvers.fem.solution import FEMSolution, TimeSeries
from pdesuite.solvers.order import ConvergenceOrder, Rate

SCHEMES = {"backward-euler": 1.0, "crank-nicolson": 0.5}


class HeatSolver(LinearFEMSolver):
    """θ-scheme finite elements for `pdesuite.problems.Heat` (advection-diffusion when b ≠ 0).

    Args:
        problem: The Heat problem (κ, optional velocity b, f, g, u0 or exact solution, T).
        domain: Mesh.
        degree: Lagrange degree p.
        dt: Time step Δt > 0; shortened so that an integer number of steps reaches T.
        scheme: "crank-nicolson", "backward-euler", or a number θ ∈ [1/2, 1].
        petsc_options: Linear-solver options (default: LU, factorised once).

    Orders: space L2 p + 1 / H1 p; time 2 for θ = 1/2, 1 otherwise.
    """

    name: ClassVar[str] = "heat"

    def __init__(self, problem: Heat, domain, degree: int = 1, dt: float = 0.01,
                 scheme: str | float = "crank-nicolson", petsc_options: dict | None = None):
        super().__init__(problem, domain, degree, petsc_options)
        if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
            raise BadInput(f"time step dt must be positive, got {dt}")
        if isinstance(scheme, str):
            if scheme not in SCHEMES:
                raise BadInput(f"unknown time scheme {scheme!r} (known: {', '.join(SCHEMES)} or a θ value)")
            theta = SCHEMES[scheme]
        else:
            theta = float(scheme)
        if not 0.5 <= theta <= 1.0:
            raise BadInput(f"θ must lie in [0.5, 1] for an unconditionally stable scheme, got {theta}")
        self.theta = theta
        self.n_steps = max(1, math.ceil(problem.t_end / dt - 1e-9))
        self.dt = problem.t_end / self.n_steps

    @property
    def convergence_order(self) -> ConvergenceOrder:
        """Space as `LinearFEMSolver`; time (L2 at the final time, in Δt) 2 for Crank-Nicolson (θ = 1/2),
        1 for any other θ (the θ-scheme's truncation error is (1/2 - θ) Δt u'' + O(Δt²))."""
        time = Rate(2, "dt", "L2", "θ = 1/2") if self.theta == 0.5 else Rate(1, "dt", "L2", f"θ = {self.theta:g}")
        return super().convergence_order.merged(time=time)

    # --- the mathematics ----------------------------------------------------------------------
    def _operator(self, w, v, x):
        p = self.problem
        kappa = to_ufl(p.kappa, self.domain.mesh)
        form = ufl.inner(kappa * ufl.grad(w), ufl.grad(v))
        if p.velocity is not None:
            form += ufl.dot(ufl.as_vector(p.velocity), ufl.grad(w)) * v
        return form

    def _source(self, x, t):
        """f(x, t) in UFL; derived from the exact solution (u_t + b·∇u - ∇·(κ∇u)) when not given."""
        p = self.problem
        if p.source is not None:
            return p.source(x, t, UFL)
        if p.exact is None:
            return 0.0 * x[0]
        tv = ufl.variable(t)
        u = p.exact(x, tv, UFL)
        kappa = to_ufl(p.kappa, self.domain.mesh)
        f = ufl.diff(u, tv) - ufl.div(kappa * ufl.grad(u))
        if p.velocity is not None:
            f += ufl.dot(ufl.as_vector(p.velocity), ufl.grad(u))
        return f

    def forms(self, u_old, t_old, t_new):
        """Bilinear form of the step matrix and the right-hand side, in UFL."""
        x = spatial(self.domain.mesh)
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        dt, th = self.dt, self.theta
        a = u * v * ufl.dx + th * dt * self._operator(u, v, x) * ufl.dx
        rhs = u_old * v - (1 - th) * dt * self._operator(u_old, v, x)
        rhs += dt * (th * self._source(x, t_new) + (1 - th) * self._source(x, t_old)) * v
        return a, rhs * ufl.dx

    # --- time stepping ------------------------------------------------------------------------
    def _initial(self):
        p = self.problem
        if p.initial is not None:
            return p.initial if callable(p.initial) else (lambda x, m, c=float(p.initial): c + 0 * x[0])
        return lambda x, m: p.exact(x, 0.0, m)

    def save_steps(self, save_times) -> np.ndarray:
        """Step indices nearest to the requested output times (default: every step)."""
        if save_times is None:
            return np.arange(self.n_steps + 1)
        times = np.asarray(save_times, dtype=float)
        if np.any(times < -1e-12) or np.any(times > self.problem.t_end + 1e-12):
            raise BadInput(f"save times must lie in [0, {self.problem.t_end}]")
        return np.unique(np.rint(times / self.dt).astype(int))

    def solve(self, save_times=None, progress: bool = False) -> TimeSeries:
        """March from t = 0 to T; returns the solutions at the (snapped) ``save_times``."""
        from tqdm.auto import tqdm

        mesh, p = self.domain.mesh, self.problem
        t_old = dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0))
        t_new = dolfinx.fem.Constant(mesh, PETSc.ScalarType(self.dt))
        u_old = dolfinx.fem.Function(self.V, name="u")
        u_old.interpolate(numpy_interpolant(self._initial()))
        u_new = dolfinx.fem.Function(self.V, name="u")

        boundary_value = p.dirichlet_value if p.dirichlet_value is not None else (
            p.exact if p.exact is not None else (lambda x, t, m: 0.0 * x[0]))
        g = dolfinx.fem.Function(self.V)
        fdim = mesh.topology.dim - 1
        bc = dolfinx.fem.dirichletbc(
            g, dolfinx.fem.locate_dofs_topological(self.V, fdim, self.domain.boundary_facets()))

        a, L = self.forms(u_old, t_old, t_new)
        a_form, L_form = dolfinx.fem.form(a), dolfinx.fem.form(L)
        A = dolfinx.fem.petsc.assemble_matrix(a_form, bcs=[bc])
        A.assemble()
        b = dolfinx.fem.petsc.create_vector(self.V)
        ksp = PETSc.KSP().create(mesh.comm)
        ksp.setOptionsPrefix(unique_prefix(self.name))
        ksp.setOperators(A)
        opts = PETSc.Options()
        for key, value in self.petsc_options.items():
            opts[ksp.getOptionsPrefix() + key] = value
        ksp.setFromOptions()

        steps = set(self.save_steps(save_times).tolist())
        saved: list[FEMSolution] = []

        def keep(step: int, u: dolfinx.fem.Function) -> None:
            if step in steps:
                copy = dolfinx.fem.Function(self.V, name="u")
                copy.x.array[:] = u.x.array
                saved.append(FEMSolution(copy, time=step * self.dt))

        keep(0, u_old)
        bar = tqdm(range(1, self.n_steps + 1), disable=not progress, desc=f"{self.name} θ={self.theta}",
                   unit="step", leave=False)
        for step in bar:
            t_old.value = (step - 1) * self.dt
            t_new.value = step * self.dt
            g.interpolate(numpy_interpolant(boundary_value, t=step * self.dt))
            with b.localForm() as local:
                local.set(0.0)
            dolfinx.fem.petsc.assemble_vector(b, L_form)
            dolfinx.fem.petsc.apply_lifting(b, [a_form], [[bc]])
            b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            dolfinx.fem.petsc.set_bc(b, [bc])
            ksp.solve(b, u_new.x.petsc_vec)
            if ksp.getConvergedReason() < 0:
                raise SolverError(f"{self.name}: linear solve failed at step {step} "
                                  f"(PETSc reason {ksp.getConvergedReason()})")
            u_new.x.scatter_forward()
            if not np.all(np.isfinite(u_new.x.array)):
                raise SolverError(f"{self.name}: solution is not finite at t = {step * self.dt:g}")
            u_old.x.array[:] = u_new.x.array
            keep(step, u_old)
        ksp.destroy()
        A.destroy()
        b.destroy()
        return TimeSeries(saved, info={"dt": self.dt, "n_steps": self.n_steps, "theta": self.theta,
                                       "dofs": self.V.dofmap.index_map.size_global})


class AdvectionDiffusionSolver(HeatSolver):
    """`HeatSolver` for problems with an advection velocity b (plain Galerkin, no stabilisation:
    keep the mesh Péclet number |b| h / (2κ) below 1)."""

    name: ClassVar[str] = "advection-diffusion"

    def __init__(self, problem: Heat, domain, degree: int = 1, dt: float = 0.01,
                 scheme: str | float = "crank-nicolson", petsc_options: dict | None = None):
        if problem.velocity is None:
            raise BadInput("advection-diffusion needs a velocity; use HeatSolver for pure diffusion")
        super().__init__(problem, domain, degree, dt, scheme, petsc_options)
