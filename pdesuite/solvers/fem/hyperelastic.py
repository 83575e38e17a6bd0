"""Plane-strain neo-Hookean elasticity by energy minimisation: static stretch and implicit Euler.

Each step minimises the incremental potential of `pdesuite.problems.hyperelastic` over the Lagrange
P_k displacements u_h ∈ V_h² (k = 1 or 2) on a structured triangle mesh of the body:

    Π(u) = ∫_Ω₀ [ ρ/(2Δt²) |u − û|² + Ψ(I + ∇u) − ρ g·u ] dX      (û = 2u_k − u_{k−1}; static: Ψ alone)
           + κ/2 ∫_∂Ω₀ max(0, floor − X_y − u_y)² dS              (collide only: floor contact)

with u = u_D on the clamped ends (none for the free body of ``collide``: there the mass term ρ/Δt²
keeps the Jacobian definite although the elastic energy alone is invariant under rigid motions). The
collide march starts from u_{−1} = −Δt v_0 so that the first target is û = Δt v_0. The contact term is
C¹ with a Hessian that jumps where a boundary point reaches the floor; Newton with the backtracking line
search converges on it (measured on the default collide case: at most 26 iterations, in the step
after the impact, on P1 16 × 16 and P2 128 × 128), and its
boundary quadrature uses degree ``CONTACT_QUADRATURE`` (the max makes the integrand piecewise
polynomial, so no rule is exact). The energy is written in UFL; its first variation (the residual
⟨DΠ(u), v⟩) and second variation (the Jacobian, the tangent stiffness plus ρ/Δt² × mass) come from
``ufl.derivative``, and Newton's method is PETSc SNES with a backtracking line search and MUMPS LU,
through `dolfinx.fem.petsc.NonlinearProblem` (as `pdesuite.solvers.fem.navier_stokes`).

The static stretch (the right end moved by 2, the square doubling its length) is far from the
undeformed start, so it is applied in ``load_steps`` equal increments of the Dirichlet datum, each
solved by Newton from the last; an increment whose Newton fails is halved (at most ``max_halvings``
times). The dynamic steps start Newton from the inertia prediction û (from u_k for the first step).

`HyperelasticSolver.displacement_at` evaluates u_h at arbitrary material points (the cells holding
them are found once); `elastic_energy` is ∫Ψ dX and `kinetic_energy` ∫ρ/2 |v|² dX of the current
state, by quadrature of the finite-element functions.

Shapes: points (n, 2) material coordinates; displacements (n, 2); a march (n_steps + 1, n, 2).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mpi4py import MPI

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from petsc4py import PETSc

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.hyperelastic import Hyperelastic, neo_hookean
from pdesuite.solvers.fem.base import DIRECT, unique_prefix
from pdesuite.solvers.fem.mesh import Domain, rectangle
from pdesuite.solvers.order import ConvergenceOrder, Rate

#: Gauss degree of the boundary integral of the contact penalty (a piecewise quadratic of u_y).
CONTACT_QUADRATURE = 6

#: Newton with a backtracking line search, MUMPS LU for every linear system.
NEWTON = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_rtol": 1e-10,
    "snes_atol": 1e-10,
    "snes_stol": 0.0,
    "snes_max_it": 40,
    **DIRECT,
}


def strain_energy(u, mu, lam):
    """Ψ(I + ∇u) in UFL (plane strain, the problem's `neo_hookean` formula)."""
    F = ufl.Identity(2) + ufl.grad(u)
    return neo_hookean(ufl.tr(F.T * F), ufl.det(F), ufl.ln, mu, lam)


def newton_problem(energy: ufl.Form, u: dolfinx.fem.Function, bcs: list, petsc_options: dict | None = None,
                   name: str = "hyperelastic") -> dolfinx.fem.petsc.NonlinearProblem:
    """The SNES problem DΠ(u) = 0 for the energy form Π (a UFL functional of u): residual and Jacobian are
    ``ufl.derivative`` of Π. Built once and solved many times (the forms see later values of u's
    coefficients and of the Dirichlet constants)."""
    V = u.function_space
    residual = ufl.derivative(energy, u, ufl.TestFunction(V))
    jacobian = ufl.derivative(residual, u, ufl.TrialFunction(V))
    return dolfinx.fem.petsc.NonlinearProblem(
        residual, u, bcs=bcs, J=jacobian, petsc_options_prefix=unique_prefix(name),
        petsc_options=dict(NEWTON if petsc_options is None else petsc_options))


def solve_newton(problem: dolfinx.fem.petsc.NonlinearProblem, u: dolfinx.fem.Function,
                 name: str = "hyperelastic") -> dict:
    """Newton's method from u's current values. Returns {newton_iterations, residual_norm, snes_reason};
    raises SolverError when Newton fails or the result is not finite (u then holds what Newton left)."""
    snes = problem.solver
    try:
        problem.solve()
    except PETSc.Error as exc:
        raise SolverError(f"{name}: PETSc failed during Newton's method ({exc})") from exc
    info = {"newton_iterations": int(snes.getIterationNumber()), "residual_norm": float(snes.getFunctionNorm()),
            "snes_reason": int(snes.getConvergedReason())}
    if info["snes_reason"] <= 0 or not np.all(np.isfinite(u.x.array)):
        raise SolverError(f"{name}: Newton's method did not converge (SNES reason {info['snes_reason']}, "
                          f"{info['newton_iterations']} iterations, residual {info['residual_norm']:.3e})")
    return info


def minimise(energy: ufl.Form, u: dolfinx.fem.Function, bcs: list, petsc_options: dict | None = None,
             name: str = "hyperelastic") -> dict:
    """argmin Π by Newton from u's values (`newton_problem` then `solve_newton`)."""
    return solve_newton(newton_problem(energy, u, bcs, petsc_options, name), u, name)


class HyperelasticSolver:
    """The problem's steps on an ``nx`` × ``ny`` triangle mesh of the body with P_``degree`` displacements.

    Args:
        problem: The `Hyperelastic` problem (case, material, Δt).
        nx, ny: Cells along x and y (each rectangle cut in two triangles).
        degree: 1 or 2.
        load_steps: Increments of the static stretch.
        max_halvings: Times a failed increment may be halved.
        petsc_options: SNES/KSP options (default `NEWTON`).
    """

    def __init__(self, problem: Hyperelastic, nx: int, ny: int, degree: int = 2, load_steps: int = 8,
                 max_halvings: int = 6, petsc_options: dict | None = None, comm: MPI.Comm = MPI.COMM_SELF):
        if not isinstance(problem, Hyperelastic):
            raise BadInput(f"HyperelasticSolver solves the hyperelastic problem, got {type(problem).__name__}")
        if degree not in (1, 2):
            raise BadInput(f"hyperelastic: degree must be 1 or 2, got {degree!r}")
        if isinstance(load_steps, bool) or not isinstance(load_steps, int) or load_steps < 1:
            raise BadInput(f"hyperelastic: load_steps must be a positive integer, got {load_steps!r}")
        self.problem, self.degree, self.load_steps, self.max_halvings = problem, degree, load_steps, max_halvings
        self.petsc_options = petsc_options
        x0, x1, y0, y1 = problem.body
        self.domain: Domain = rectangle((x0, y0), (x1, y1), (nx, ny), comm=comm)
        mesh = self.domain.mesh
        self.V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree, (2,)))
        self.u = dolfinx.fem.Function(self.V, name="displacement")       # u_{k+1}, the unknown
        self.u_prev = dolfinx.fem.Function(self.V)                        # u_k
        self.u_prev2 = dolfinx.fem.Function(self.V)                       # u_{k-1}
        self.step_index = 0
        self.mu = dolfinx.fem.Constant(mesh, float(problem.mu))
        self.lam = dolfinx.fem.Constant(mesh, float(problem.lam))
        self.left_value = dolfinx.fem.Constant(mesh, np.zeros(2))
        self.right_value = dolfinx.fem.Constant(mesh, np.zeros(2))
        fdim = mesh.topology.dim - 1
        ends = {}
        for side, xs in (("left", x0), ("right", x1)):
            facets = dolfinx.mesh.locate_entities_boundary(mesh, fdim, lambda x, xs=xs: np.isclose(x[0], xs))
            ends[side] = dolfinx.fem.locate_dofs_topological(self.V, fdim, facets)
        left, right = problem.clamp_displacement(1)
        self.bcs = [] if left is None else [dolfinx.fem.dirichletbc(self.left_value, ends["left"], self.V)]
        if right is not None:
            self.bcs.append(dolfinx.fem.dirichletbc(self.right_value, ends["right"], self.V))
        self._points: np.ndarray | None = None
        self._cells: np.ndarray | None = None
        self.info: list[dict] = []
        self._problem: dolfinx.fem.petsc.NonlinearProblem | None = None
        # u_{-1} = -Δt v_0: the first step's inertia target is then û = 2u_0 - u_{-1} = Δt v_0
        v0 = np.asarray(problem.initial_velocity, dtype=float)
        self.u_prev.interpolate(lambda x: np.outer(-problem.dt * v0, np.ones(x.shape[1])))

    # -- sizes ---------------------------------------------------------------------------------------
    @property
    def convergence_order(self) -> ConvergenceOrder:
        """P_k on smooth deformations: L2 error O(h^{k+1}), H1 seminorm O(h^k) (measured on a manufactured
        deformation by `pdesuite.solvers.fem.verification.hyperelastic_space_study`)."""
        return ConvergenceOrder(L2=Rate(self.degree + 1, "h", "L2"), H1=Rate(self.degree, "h", "H1 seminorm"))

    @property
    def dofs(self) -> int:
        """Displacement unknowns, 2 × nodes (constrained ones included)."""
        return self.V.dofmap.index_map.size_global * self.V.dofmap.index_map_bs

    @staticmethod
    def p1_dofs(nx: int, ny: int) -> int:
        return 2 * (nx + 1) * (ny + 1)

    # -- the energies ----------------------------------------------------------------------------------
    def step_energy(self) -> ufl.Form:
        """Π(u) of the current step (see the module docstring)."""
        p = self.problem
        psi = strain_energy(self.u, self.mu, self.lam)
        if not p.dynamic:
            return psi * ufl.dx
        rho = dolfinx.fem.Constant(self.domain.mesh, float(p.rho))
        inv_dt2 = dolfinx.fem.Constant(self.domain.mesh, 1.0 / p.dt**2)
        force = dolfinx.fem.Constant(self.domain.mesh, np.asarray(p.body_force, dtype=float))
        target = 2.0 * self.u_prev - self.u_prev2
        diff = self.u - target
        energy = (0.5 * rho * inv_dt2 * ufl.inner(diff, diff) + psi - ufl.inner(force, self.u)) * ufl.dx
        if p.collide:
            energy = energy + self.contact_integrand() * self._ds()
        return energy

    def _ds(self) -> ufl.Measure:
        return ufl.Measure("ds", domain=self.domain.mesh, metadata={"quadrature_degree": CONTACT_QUADRATURE})

    def contact_integrand(self):
        """κ/2 max(0, floor − X_y − u_y)² in UFL (the boundary density of E_c; collide)."""
        p = self.problem
        X = ufl.SpatialCoordinate(self.domain.mesh)
        kappa = dolfinx.fem.Constant(self.domain.mesh, float(p.kappa))
        depth = dolfinx.fem.Constant(self.domain.mesh, float(p.floor)) - X[1] - self.u[1]
        return 0.5 * kappa * ufl.max_value(depth, 0.0) ** 2

    def _assemble(self, integrand) -> float:
        local = dolfinx.fem.assemble_scalar(dolfinx.fem.form(integrand * ufl.dx))
        return float(self.domain.comm.allreduce(local, op=MPI.SUM))

    def elastic_energy(self) -> float:
        """∫_Ω₀ Ψ(I + ∇u) dX of the current state."""
        return self._assemble(strain_energy(self.u, self.mu, self.lam))

    def kinetic_energy(self) -> float:
        """∫_Ω₀ ρ/2 |(u_{k+1} − u_k)/Δt|² dX of the last step (0 before any dynamic step)."""
        if not self.problem.dynamic:
            return 0.0
        # before any step u = 0 and u_prev = u_{-1} = −Δt v_0: this is ∫ρ/2 |v_0|² (zero from rest)
        v = (self.u - self.u_prev) / self.problem.dt
        return self._assemble(0.5 * self.problem.rho * ufl.inner(v, v))

    def gravity_energy(self) -> float:
        """−∫_Ω₀ ρ g·u dX of the current state (zero at u = 0)."""
        fx, fy = self.problem.body_force
        if fx == 0.0 and fy == 0.0:  # UFL folds 0 · u to a form without a domain
            return 0.0
        return -self._assemble(fx * self.u[0] + fy * self.u[1])

    def contact_energy(self) -> float:
        """E_c = κ/2 ∫_∂Ω₀ max(0, floor − q_y)² dS of the current state (0 unless collide)."""
        if not self.problem.collide:
            return 0.0
        local = dolfinx.fem.assemble_scalar(dolfinx.fem.form(self.contact_integrand() * self._ds()))
        return float(self.domain.comm.allreduce(local, op=MPI.SUM))

    def total_energy(self) -> float:
        """Kinetic + elastic + gravity + contact energy of the current state."""
        return self.kinetic_energy() + self.elastic_energy() + self.gravity_energy() + self.contact_energy()

    def penetration(self) -> float:
        """max over the nodes of floor − q_y, the deepest point below the floor (negative: above it)."""
        y = self.V.tabulate_dof_coordinates()[:, 1]
        uy = self.u.x.array.reshape(-1, 2)[: len(y), 1]
        return float(np.max(self.problem.floor - (y + uy)))

    # -- steps -------------------------------------------------------------------------------------------
    def _set_ends(self, step: int, fraction: float = 1.0) -> None:
        left, right = self.problem.clamp_displacement(step)
        if left is not None:
            self.left_value.value[...] = np.asarray(left)
        if right is not None:
            self.right_value.value[...] = fraction * np.asarray(right)

    def _newton(self) -> dolfinx.fem.petsc.NonlinearProblem:
        if self._problem is None:  # compiled once: later steps change only coefficients and constants
            self._problem = newton_problem(self.step_energy(), self.u, self.bcs, self.petsc_options)
        return self._problem

    def step(self) -> dict:
        """One step: the static equilibrium (stretch, step 1) or one implicit-Euler step (sag, collide)."""
        started = time.perf_counter()
        k = self.step_index + 1
        if self.problem.dynamic:
            self.u_prev2.x.array[:] = self.u_prev.x.array
            self.u_prev.x.array[:] = self.u.x.array
            self.u.x.array[:] = 2.0 * self.u_prev.x.array - self.u_prev2.x.array  # Newton from û
            self._set_ends(k)
            info = solve_newton(self._newton(), self.u, "hyperelastic_step")
            info["load_increments"] = 1
        else:
            info = self._load_stepping(k)
        self.step_index = k
        info.update(step=k, seconds=time.perf_counter() - started, elastic_energy=self.elastic_energy())
        self.info.append(info)
        return info

    def _load_stepping(self, k: int) -> dict:
        """The static equilibrium for step k's Dirichlet data, in increments of the datum."""
        self.u_prev.x.array[:] = self.u.x.array
        newton = self._newton()
        done, increment, iterations, increments = 0.0, 1.0 / self.load_steps, 0, 0
        halvings = 0
        while done < 1.0 - 1e-12:
            target = min(1.0, done + increment)
            saved = self.u.x.array.copy()
            self._set_ends(k, target)
            try:
                info = solve_newton(newton, self.u, "hyperelastic_load")
            except SolverError:
                self.u.x.array[:] = saved
                halvings += 1
                if halvings > self.max_halvings:
                    raise
                increment /= 2.0
                continue
            iterations += info["newton_iterations"]
            increments += 1
            done = target
        return {**info, "newton_iterations": iterations, "load_increments": increments}

    def march(self, steps: int, points: np.ndarray | None = None,
              callback: Callable[[int, HyperelasticSolver], None] | None = None) -> np.ndarray | None:
        """``steps`` steps from rest; with ``points`` (n, 2) the displacement there at every time,
        shape (steps + 1, n, 2) (time 0 included)."""
        out = None if points is None else np.zeros((steps + 1, len(points), 2))
        if out is not None:
            out[0] = self.displacement_at(points)
        for k in range(1, steps + 1):
            self.step()
            if out is not None:
                out[k] = self.displacement_at(points)
            if callback is not None:
                callback(k, self)
        return out

    # -- evaluation ------------------------------------------------------------------------------------
    def displacement_at(self, points: np.ndarray) -> np.ndarray:
        """u_h at material points (n, 2) inside the body (serial); the cells are found once per point set."""
        points = np.asarray(points, dtype=np.float64)
        if self._points is None or self._points.shape != points.shape or not np.array_equal(self._points, points):
            mesh = self.domain.mesh
            padded = np.zeros((len(points), 3))
            padded[:, :2] = points
            tree = dolfinx.geometry.bb_tree(mesh, mesh.topology.dim)
            candidates = dolfinx.geometry.compute_collisions_points(tree, padded)
            colliding = dolfinx.geometry.compute_colliding_cells(mesh, candidates, padded)
            cells = np.full(len(points), -1, dtype=np.int32)
            for i in range(len(points)):
                links = colliding.links(i)
                if links.size:
                    cells[i] = links[0]
            if np.any(cells < 0):
                raise BadInput(f"hyperelastic: {int(np.sum(cells < 0))} point(s) lie outside the body "
                               f"{self.problem.body}")
            self._points, self._cells, self._padded = points.copy(), cells, padded
        return self.u.eval(self._padded, self._cells)
