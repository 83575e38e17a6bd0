"""Monge-Ampère mesh movement by pseudo-time relaxation (McRae, Cotter & Budd 2018), on dolfinx.

The moved (physical) mesh is x(ξ) = ξ + ∇φ(ξ), with the potential φ on the fixed computational mesh
ξ solving the Monge-Ampère equation

    m(x) det(I + H(φ)) = θ,        θ = ∫_Ω m(x) det(I + H(φ)) dξ / |Ω|,

so that the physical area of a cell is inversely proportional to the monitor m: cells crowd where m
is large (equidistribution). H(φ) is the Hessian of φ with respect to ξ. The relaxation method marches
the parabolised equation -∂_τ Δφ = m det(I + H(φ)) - θ in pseudo-time τ by forward Euler,

    ∫ ∇φⁿ⁺¹·∇ψ dξ = ∫ ∇φⁿ·∇ψ dξ + Δτ ∫ ψ (m(xⁿ) det(I + Hⁿ) - θⁿ) dξ     for all ψ ∈ P1,

a Laplace solve with the natural Neumann condition (φ is defined up to a constant: the constant
null space is handed to PETSc). One iteration, as in McRae et al. and the `movement` package:

1. g = L2 projection of ∇φⁿ onto P1 vectors, with g·n = 0 on the boundary: on sides parallel to an
   axis of the domain's bounding box the normal component is zero (nodes slide along the side),
   corners and any other boundary node (curved parts) are fixed;
2. x = ξ + g; the monitor is evaluated on the mesh at x (for a solution-based monitor this re-solves
   the PDE there);
3. θ and the relative residual ‖∫ψ (m det(I + Hⁿ) - θ)‖₂ / ‖∫ψ θ‖₂ (vectors over the P1 test
   functions), stopping below ``rtol``, failing above ``dtol`` × the first residual or after
   ``maxiter`` iterations;
4. the pseudo-time step for φⁿ⁺¹, then Hⁿ⁺¹ by the L2 projection (Hessian recovery)

       ∫ H : τ dξ = -∫ (∇·τ)·∇φ dξ + ∫ (∇_t φ)·(τ n) ds          for all τ ∈ P1^{2×2},

   where ∇_t φ is the tangential part of ∇φ (its normal part vanishes at convergence).

Every iteration counts the inverted cells of the physical mesh (signed area of opposite sign from the
computational cell's, or zero); a final mesh with inverted cells raises `MeshTangled` and the mesh is
put back: a tangled mesh is never handed on silently. Divergence and non-convergence raise
`SolverError` naming the iteration and residual, likewise with the mesh restored.

Monitors (`Monitor` subclasses) fill a P1 function with m > 0 at the current geometry:
`ConstantMonitor`, `ExpressionMonitor` (an analytic m(x)), and `HessianMonitor`
m = 1 + α ‖H(u_h)‖²_F / max ‖H(u_h)‖²_F (UM2N's Helmholtz monitor, α = 5), with u_h re-solved on
the moving mesh by a callback, as UM2N's data generation does.

    mover = MongeAmpereMover(unit_square(20), ExpressionMonitor(lambda x, m: 1 + 5 * m.exp(-50 * (x[0] - .5) ** 2)))
    result = mover.move()          # the mesh is now moved; result.points, result.iterations
    mover.restore()                # back to ξ

Units: coordinates in the mesh's units; m dimensionless (only its ratios matter).
Shapes: ``points`` (n_nodes, 2) in the order of ``mesh.geometry.x`` (process-local, ghosts included).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mpi4py import MPI

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from petsc4py import PETSc

from pdesuite.errors import BadInput, SolverError
from pdesuite.solvers.fem.base import LinearSystem
from pdesuite.solvers.fem.expressions import numpy_interpolant
from pdesuite.solvers.fem.mesh import Domain, require_affine_triangles
from pdesuite.solvers.mesh_quality import count_inverted, folded_edges, signed_areas

#: The pseudo-time Laplace solve with its constant null space: CG with algebraic multigrid.
LAPLACE = {"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-12, "ksp_atol": 1e-15, "ksp_max_it": 1000}


class MeshTangled(SolverError):
    """The moved mesh has inverted cells."""


def _tangential(v, n):
    """The part of vector v tangential to the unit normal n."""
    return v - ufl.dot(v, n) * n


def hessian_recovery(u: dolfinx.fem.Function, hessian: dolfinx.fem.Function, tangential_boundary: bool = False,
                     reassemble: bool = True) -> LinearSystem:
    """The L2-projection Hessian recovery of a P1 function u into the P1 tensor function ``hessian``:

        ∫ H : τ dx = -∫ (∇·τ)·∇u dx + ∫ ∇u·(τ n) ds       for all τ ∈ P1^{d×d}

    (integration by parts of ∫ ∂ᵢⱼu τᵢⱼ). With ``tangential_boundary`` the boundary term uses the
    tangential part of ∇u only (the mover's potential, whose normal derivative is zero at convergence).
    Returns the system; ``.solve()`` fills ``hessian``.
    """
    mesh = u.function_space.mesh
    T = hessian.function_space
    sigma, tau = ufl.TrialFunction(T), ufl.TestFunction(T)
    n = ufl.FacetNormal(mesh)
    grad_b = _tangential(ufl.grad(u), n) if tangential_boundary else ufl.grad(u)
    a = ufl.inner(sigma, tau) * ufl.dx
    L = -ufl.dot(ufl.div(tau), ufl.grad(u)) * ufl.dx + ufl.dot(grad_b, ufl.dot(tau, n)) * ufl.ds
    return LinearSystem(a, L, hessian, reassemble=reassemble, name="Hessian recovery")


# --------------------------------------------------------------------------------------------- monitors


class Monitor:
    """A monitor function m(x) > 0: `evaluate` fills the P1 function ``m`` at the mesh's current geometry."""

    def evaluate(self, m: dolfinx.fem.Function) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> dict:
        return {"kind": type(self).__name__}


class ConstantMonitor(Monitor):
    """m = ``value`` everywhere: the computational mesh is already optimal and must not move."""

    def __init__(self, value: float = 1.0):
        self.value = float(value)

    def evaluate(self, m):
        m.x.array[:] = self.value

    def describe(self):
        return {"kind": "constant", "value": self.value}


class ExpressionMonitor(Monitor):
    """m = ``expression(x, math)`` evaluated at the nodes' physical coordinates (``math`` is numpy)."""

    def __init__(self, expression: Callable, name: str = "expression"):
        self.expression, self.name = expression, name

    def evaluate(self, m):
        m.interpolate(numpy_interpolant(self.expression))

    def describe(self):
        return {"kind": "expression", "name": self.name}


class HessianMonitor(Monitor):
    """m = 1 + α ‖H(u_h)‖²_F / max_Ω ‖H(u_h)‖²_F with H the recovered Hessian of a P1 solution u_h.

    ``solve()`` returns u_h computed on the mesh's current geometry (called at every evaluation, so
    the monitor follows the moving mesh). UM2N's Helmholtz data use α = 5. The squared norm is taken
    at the nodes of the P1 Hessian (UM2N projects it onto P1 first: the same at the nodes up to the
    projection's smoothing). If u_h has no curvature at all, m = 1.
    """

    def __init__(self, solve: Callable[[], dolfinx.fem.Function], alpha: float = 5.0):
        if not (np.isfinite(alpha) and alpha >= 0):
            raise BadInput(f"monitor weight alpha must be a non-negative number, got {alpha}")
        self.solve, self.alpha = solve, float(alpha)
        self._recovery: LinearSystem | None = None
        self._u: dolfinx.fem.Function | None = None

    def hessian_norm_squared(self) -> np.ndarray:
        """‖H(u_h)‖²_F at the P1 dofs (process-local) on the current geometry."""
        u = self.solve()
        mesh = u.function_space.mesh
        if self._recovery is None or self._u.function_space.mesh is not mesh:
            d = mesh.geometry.dim
            self._u = dolfinx.fem.Function(dolfinx.fem.functionspace(mesh, ("Lagrange", 1)))
            self._hessian = dolfinx.fem.Function(dolfinx.fem.functionspace(mesh, ("Lagrange", 1, (d, d))))
            self._recovery = hessian_recovery(self._u, self._hessian)
        self._u.interpolate(u)  # a copy (u_h may be a new Function each call), P1 if u_h is not
        self._recovery.solve()
        d = mesh.geometry.dim
        return np.sum(self._hessian.x.array.reshape(-1, d * d) ** 2, axis=1)

    def evaluate(self, m):
        q = self.hessian_norm_squared()
        comm = m.function_space.mesh.comm
        q_max = comm.allreduce(float(q.max()) if q.size else 0.0, op=MPI.MAX)
        m.x.array[:] = 1.0 + (self.alpha * q / q_max if q_max > 0 else 0.0)

    def describe(self):
        return {"kind": "hessian", "alpha": self.alpha}


# ------------------------------------------------------------------------------------------------ mover


@dataclass
class MoveResult:
    """What one `MongeAmpereMover.move` did.

    Attributes:
        points: (n_nodes, 2) physical coordinates of the process-local geometry nodes (ghosts included).
        monitor: (n_nodes,) the monitor at the nodes of the moved mesh.
        initial_monitor: (n_nodes,) the monitor on the mesh before the move (a mesh mover's input).
        iterations: Relaxation iterations until the residual fell below rtol (0: already optimal).
        residuals: The relative residual at every iteration.
        seconds: Wall time of the move.
        tangled: Inverted cells of the final mesh (always 0: a tangled result raises `MeshTangled`).
        max_tangled: The most inverted cells seen at any iteration (intermediate meshes may tangle).
    """

    points: np.ndarray
    monitor: np.ndarray
    initial_monitor: np.ndarray
    iterations: int
    residuals: np.ndarray
    seconds: float
    tangled: int = 0
    max_tangled: int = 0
    info: dict = field(default_factory=dict)


class MongeAmpereMover:
    """Moves a triangle mesh by the Monge-Ampère relaxation method (see the module docstring).

    Args:
        domain: The mesh to move (2D triangles); its current coordinates are the computational mesh ξ.
        monitor: A `Monitor`.
        rtol: Stop when the relative residual falls below this (UM2N's data: 1e-3).
        maxiter: At most this many iterations (UM2N's data: 500).
        dtol: Fail when the residual exceeds dtol × the first iteration's residual.
        pseudo_timestep: Δτ of the forward-Euler relaxation (movement's default 0.1).
        progress: Show a progress bar.

    Raises:
        BadInput: not a 2D triangle mesh, degenerate or inverted input cells, bad tolerances.
    """

    def __init__(self, domain: Domain, monitor: Monitor, rtol: float = 1e-3, maxiter: int = 500,
                 dtol: float = 2.0, pseudo_timestep: float = 0.1, progress: bool = False):
        require_affine_triangles(domain, "the Monge-Ampère mover")
        if not isinstance(monitor, Monitor):
            raise BadInput(f"the monitor must be a pdesuite Monitor, got {type(monitor).__name__}")
        for name, value in (("rtol", rtol), ("dtol", dtol), ("pseudo_timestep", pseudo_timestep)):
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise BadInput(f"{name} must be a positive number, got {value}")
        if int(maxiter) != maxiter or maxiter < 1:
            raise BadInput(f"maxiter must be a positive integer, got {maxiter}")
        mesh = domain.mesh
        self.domain, self.monitor = domain, monitor
        self.rtol, self.maxiter, self.dtol = float(rtol), int(maxiter), float(dtol)
        self.progress = progress
        self.xi = mesh.geometry.x[:, :2].copy()
        self._cells = mesh.geometry.dofmaps[0]
        self._owned_cells = mesh.topology.index_map(2).size_local
        self._check_input_mesh()

        self.V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
        self.W = dolfinx.fem.functionspace(mesh, ("Lagrange", 1, (2,)))
        self.T = dolfinx.fem.functionspace(mesh, ("Lagrange", 1, (2, 2)))
        # geometry node -> P1 dof (the same vertices, numbered differently)
        self._node_dof = np.empty(mesh.geometry.x.shape[0], dtype=np.int64)
        self._node_dof[self._cells.ravel()] = self.V.dofmap.list.ravel()

        self.m = dolfinx.fem.Function(self.V, name="monitor")
        self.phi = dolfinx.fem.Function(self.V, name="phi")
        self.phi_old = dolfinx.fem.Function(self.V)
        self.H = dolfinx.fem.Function(self.T, name="hessian")
        self.H_old = dolfinx.fem.Function(self.T)
        self.grad_phi = dolfinx.fem.Function(self.W, name="displacement")
        self.theta = dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0))
        self.dtau = dolfinx.fem.Constant(mesh, PETSc.ScalarType(pseudo_timestep))
        self._build_forms()

    # ------------------------------------------------------------------ set-up
    def _check_input_mesh(self) -> None:
        mesh = self.domain.mesh
        areas = signed_areas(mesh.geometry.x, self._cells[: self._owned_cells])
        scale = mesh.comm.allreduce(float(np.abs(areas).max()) if areas.size else 0.0, op=MPI.MAX)
        degenerate = mesh.comm.allreduce(int(np.count_nonzero(np.abs(areas) <= 1e-12 * scale)), op=MPI.SUM)
        if degenerate:
            raise BadInput(f"the mesh to move has {degenerate} degenerate (zero-area) cells")
        folds = mesh.comm.allreduce(folded_edges(mesh.geometry.x, self._cells), op=MPI.MAX)
        if folds:
            raise BadInput(f"the mesh to move has inverted cells ({folds} interior edges with both "
                           "cells on one side)")

    def _boundary_conditions(self) -> list:
        """g·n = 0: x-component zero on vertical sides of the bounding box, y-component on horizontal
        ones (so corners are fixed), both on any other boundary facet."""
        mesh = self.domain.mesh
        comm, fdim = mesh.comm, 1
        lo, hi = np.empty(2), np.empty(2)
        comm.Allreduce(self.xi.min(axis=0), lo, op=MPI.MIN)  # buffer reductions: element-wise
        comm.Allreduce(self.xi.max(axis=0), hi, op=MPI.MAX)
        tol = 1e-10 * float(np.max(hi - lo))
        self.lower, self.upper = lo, hi
        mesh.topology.create_connectivity(fdim, 2)
        exterior = dolfinx.mesh.exterior_facet_indices(mesh.topology)
        facet_nodes = dolfinx.mesh.entities_to_geometry(mesh, fdim, exterior)
        xs = mesh.geometry.x[facet_nodes][:, :, :2]  # (n_facets, 2 nodes, 2)
        on_side = {}
        for axis in (0, 1):
            on = np.zeros(len(exterior), dtype=bool)
            for value in (lo[axis], hi[axis]):
                on |= np.all(np.abs(xs[:, :, axis] - value) < tol, axis=1)
            on_side[axis] = on
        bcs = []
        for axis in (0, 1):
            dofs = dolfinx.fem.locate_dofs_topological(self.W.sub(axis), fdim, exterior[on_side[axis]])
            bcs.append(dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), dofs, self.W.sub(axis)))
        other = exterior[~(on_side[0] | on_side[1])]
        self.fixed_curved_facets = comm.allreduce(len(other), op=MPI.SUM)
        if self.fixed_curved_facets:
            dofs = dolfinx.fem.locate_dofs_topological(self.W, fdim, other)
            bcs.append(dolfinx.fem.dirichletbc(np.zeros(2, dtype=PETSc.ScalarType), dofs, self.W))
        return bcs

    def _build_forms(self) -> None:
        mesh = self.domain.mesh
        identity = ufl.Identity(2)
        self.residual_expr = self.m * ufl.det(identity + self.H_old) - self.theta
        psi = ufl.TestFunction(self.V)
        self._theta_form = dolfinx.fem.form(self.m * ufl.det(identity + self.H_old) * ufl.dx)
        self._volume = mesh.comm.allreduce(
            dolfinx.fem.assemble_scalar(dolfinx.fem.form(dolfinx.fem.Constant(mesh, 1.0) * ufl.dx)), op=MPI.SUM)
        self._residual_form = dolfinx.fem.form(psi * self.residual_expr * ufl.dx)
        self._norm_form = dolfinx.fem.form(psi * self.theta * ufl.dx)
        self._vector = dolfinx.fem.petsc.create_vector(self.V)  # reused by _vector_norm every iteration

        g, v = ufl.TrialFunction(self.W), ufl.TestFunction(self.W)
        self._gradient = LinearSystem(ufl.inner(g, v) * ufl.dx, ufl.inner(ufl.grad(self.phi_old), v) * ufl.dx,
                                      self.grad_phi, bcs=self._boundary_conditions(),
                                      name="Monge-Ampère gradient projection")
        phi = ufl.TrialFunction(self.V)
        a = ufl.inner(ufl.grad(phi), ufl.grad(psi)) * ufl.dx
        L = ufl.inner(ufl.grad(self.phi_old), ufl.grad(psi)) * ufl.dx + self.dtau * psi * self.residual_expr * ufl.dx
        self._pseudo_step = LinearSystem(a, L, self.phi, options=LAPLACE, nullspace_constant=True,
                                         name="Monge-Ampère pseudo-time step")
        self._hessian = hessian_recovery(self.phi, self.H, tangential_boundary=True, reassemble=False)

    # ------------------------------------------------------------------ pieces
    def _vector_norm(self, form) -> float:
        """‖b‖₂ of the assembled linear form (over the P1 test functions)."""
        b = self._vector
        with b.localForm() as local:
            local.set(0.0)
        dolfinx.fem.petsc.assemble_vector(b, form)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        return float(b.norm())

    def _set_geometry(self, points: np.ndarray) -> None:
        self.domain.mesh.geometry.x[:, :2] = points

    def physical_points(self) -> np.ndarray:
        """x = ξ + g at the geometry nodes, from the current projected gradient."""
        return self.xi + self.grad_phi.x.array.reshape(-1, 2)[self._node_dof]

    def _evaluate_monitor(self, points: np.ndarray) -> None:
        self._set_geometry(points)
        try:
            self.monitor.evaluate(self.m)
        finally:
            self._set_geometry(self.xi)
        values = self.m.x.array
        comm = self.domain.mesh.comm
        low = comm.allreduce(float(values.min()) if values.size else np.inf, op=MPI.MIN)
        if not np.isfinite(low) or not np.all(np.isfinite(values)) or low <= 0:
            raise BadInput(f"the monitor must be positive and finite everywhere (minimum {low:.3g})")

    def tangled_cells(self, points: np.ndarray) -> int:
        """Inverted cells (global) of the mesh with nodes at ``points``, relative to ξ."""
        owned = self._cells[: self._owned_cells]
        return self.domain.mesh.comm.allreduce(count_inverted(points, owned, self.xi), op=MPI.SUM)

    def restore(self) -> None:
        """Put the mesh back at the computational coordinates ξ."""
        self._set_geometry(self.xi)

    # ------------------------------------------------------------------ the iteration
    def move(self) -> MoveResult:
        """Relax to convergence and leave the mesh at the moved coordinates.

        Raises:
            SolverError: divergence or no convergence in ``maxiter`` iterations (iteration and residual
                named; the mesh is restored).
            MeshTangled: the converged mesh has inverted cells (the mesh is restored).
            BadInput: the monitor is not positive.
        """
        from tqdm.auto import tqdm

        start = time.perf_counter()
        for f in (self.phi, self.phi_old, self.H, self.H_old, self.grad_phi):
            f.x.array[:] = 0.0
        residuals: list[float] = []
        max_tangled = 0
        comm = self.domain.mesh.comm
        bar = tqdm(total=self.maxiter, disable=not self.progress or comm.rank != 0, desc="Monge-Ampère",
                   unit="it", leave=False)
        try:
            for iteration in range(self.maxiter + 1):
                self._gradient.solve()
                points = self.physical_points()
                tangled = self.tangled_cells(points)
                max_tangled = max(max_tangled, tangled)
                self._evaluate_monitor(points)
                if iteration == 0:
                    initial_monitor = self.m.x.array[self._node_dof].copy()
                theta = comm.allreduce(dolfinx.fem.assemble_scalar(self._theta_form), op=MPI.SUM) / self._volume
                self.theta.value = theta
                residual = self._vector_norm(self._residual_form) / self._vector_norm(self._norm_form)
                residuals.append(residual)
                bar.set_postfix(residual=f"{residual:.2e}")
                bar.update(1 if iteration else 0)
                if not np.isfinite(residual):
                    raise SolverError(f"Monge-Ampère mover: residual is not finite at iteration {iteration}")
                if residual < self.rtol:
                    break
                if residual > self.dtol * residuals[0]:
                    raise SolverError(f"Monge-Ampère mover diverged at iteration {iteration}: residual "
                                      f"{residual:.3e} > dtol {self.dtol:g} × initial {residuals[0]:.3e}")
                if iteration == self.maxiter:
                    raise SolverError(f"Monge-Ampère mover did not converge in {self.maxiter} iterations "
                                      f"(residual {residual:.3e} > rtol {self.rtol:g})")
                self._pseudo_step.solve()
                self._hessian.solve()
                self.phi_old.x.array[:] = self.phi.x.array
                self.H_old.x.array[:] = self.H.x.array
        except BaseException:
            self.restore()
            raise
        finally:
            bar.close()
        if tangled:  # the count of the final iteration's mesh
            self.restore()
            raise MeshTangled(f"Monge-Ampère mover: the converged mesh has {tangled} inverted cells "
                              f"(after {iteration} iterations); nothing was moved")
        self._set_geometry(points)
        monitor = self.m.x.array[self._node_dof].copy()
        return MoveResult(points=points.copy(), monitor=monitor, initial_monitor=initial_monitor, iterations=iteration,
                          residuals=np.asarray(residuals), seconds=time.perf_counter() - start,
                          tangled=0, max_tangled=max_tangled,
                          info={"rtol": self.rtol, "maxiter": self.maxiter, "dtol": self.dtol,
                                "pseudo_timestep": float(self.dtau.value), "monitor": self.monitor.describe(),
                                "fixed_curved_facets": self.fixed_curved_facets})
