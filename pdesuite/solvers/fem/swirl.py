"""The swirl (`pdesuite.problems.swirl.Swirl`) by discontinuous Galerkin, on a fixed or moving mesh.

Space: u_h in DG_p (discontinuous Lagrange of degree p, Legendre variant: orthonormal moments as
dofs, so interpolation is a cell-wise L2 projection at interior quadrature points and the mass matrix
is block (indeed fully) diagonal). As ∇·b = 0, u_t + b·∇u = 0 is u_t + ∇·(b u) = 0, and the upwind DG
form is: find u_h with

    ∫ ∂_t u_h v dx = L(u_h; v) = ∫ u_h b·∇v dx - Σ_F ∫_F [v] (b·n⁺) u_h^up dS - ∫_∂Ω (b·n)₊ u_h v ds

for all v in DG_p, where [v] = v⁺ - v⁻ across an interior facet with normal n⁺, the upwind flux
(b·n⁺) u^up = (b·n⁺)₊ u⁺ - (b·n⁻)₊ u⁻ with (s)₊ = max(s, 0), and the boundary term lets outflow
leave; the inflow datum is 0, so its term vanishes (for the swirl b·n = 0 on ∂[0, 1]²: no flux at
all). With v = 1 the interior fluxes cancel: ∫u_h is conserved to round-off on a fixed mesh.

Time: SSPRK3 (Shu & Osher 1988) on M du/dt = L(u), M the DG mass matrix,

    u¹ = uⁿ + Δt M⁻¹L(uⁿ, tⁿ),
    u² = ¾ uⁿ + ¼ (u¹ + Δt M⁻¹L(u¹, tⁿ⁺¹⁻)),
    uⁿ⁺¹ = ⅓ uⁿ + ⅔ (u² + Δt M⁻¹L(u², tⁿ + Δt/2)),

with M⁻¹ applied by a PETSc KSP (``preonly`` + block Jacobi with ILU(0) blocks: exact, because the
DG mass matrix is block diagonal, so ILU makes no fill). The forms are compiled once; the time is a
`dolfinx.fem.Constant` and b a UFL expression of the spatial coordinate, so after a mesh move only M is
reassembled. The step grid puts the reversal time t_r on a step boundary (⌈t_r/Δt⌉ steps before it,
⌈(T - t_r)/Δt⌉ after, each part with its uniform step ≤ Δt) and the stage at a step's end is taken at
the left limit tⁿ⁺¹⁻ (the float just below), so no step straddles the jump of b in time.

CFL: explicit; stable for roughly max|b| Δt / h_min ≤ 1/(2p + 1) (1/3 for DG1). UM2N's case
(|b| ≤ 1.5, Δt = 10⁻³, 20 × 20 mesh, h = 0.05) has max|b| Δt / h = 0.03; moved meshes have smaller
cells, so `SwirlResult.info["cfl"]` reports max|b| Δt / h_min over all meshes used. A blow-up
raises `SolverError`.

Moving mesh (`SwirlSolver.run` with a mover, as UM2N): every ``move_every`` steps (and once at t = 0)
a monitor is built from the current solution (`SolutionMonitor`), the mover moves a copy of the
*original* mesh ξ (`reference_domain`), the result is checked for inverted cells, the solution is
transferred to the new mesh and the solver's mesh takes the new coordinates (same topology). The
transfer (`transfer`) is non-matching interpolation: each new cell's DG moments are computed by
quadrature of the old solution at the new cell's interior points; it is exact for fields that are
polynomials of degree ≤ p on every new cell (e.g. globally linear ones), but it is **not conservative**
(∫u changes by the quadrature error of the old, discontinuous field; measured per move in
`SwirlResult.transfer_mass`: up to ~1.5 % per move, a few % over UM2N's 49 transfers).
At t = 0 the initial condition is interpolated afresh on the moved mesh instead.

Units: dimensionless (x in the unit square, t in [0, T]). Shapes: mesh points (n_nodes, 2) in the
order of ``mesh.geometry.x``; DG dofs (n_dofs,) in the dofmap's order; nodal values (n_nodes,).

    solver = SwirlSolver(Swirl(), unit_square(20), dt=1e-3)
    fixed = solver.run()
    moved = solver.run(move_every=20, mover=monge_ampere_mover())
    er = (fixed.error_exact - moved.error_exact) / fixed.error_exact
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mpi4py import MPI

import basix
import basix.ufl
import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from petsc4py import PETSc

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.swirl import Swirl
from pdesuite.solvers.fem.base import PROJECTION as BASE_PROJECTION
from pdesuite.solvers.fem.base import LinearSystem, unique_prefix
from pdesuite.solvers.fem.expressions import UFL, numpy_interpolant, spatial
from pdesuite.solvers.fem.mesh import Domain, require_affine_triangles, unit_square
from pdesuite.solvers.fem.monge_ampere import MeshTangled, MongeAmpereMover, Monitor, MoveResult, hessian_recovery
from pdesuite.solvers.mesh_quality import count_inverted

#: The DG mass-matrix inverse: exact for a block-diagonal matrix (ILU(0) of each block makes no fill).
MASS_SOLVER = {"ksp_type": "preonly", "pc_type": "bjacobi", "sub_pc_type": "ilu"}
#: P1 projections and the monitor's smoothing step (SPD, well conditioned).
PROJECTION = {**BASE_PROJECTION, "ksp_max_it": 2000}
#: Bounding-box padding of the non-matching interpolation's point search.
PADDING = 1e-10


# ----------------------------------------------------------------------------------------- helpers


def dg_space(mesh: dolfinx.mesh.Mesh, degree: int = 1) -> dolfinx.fem.FunctionSpace:
    """Discontinuous Lagrange P_degree in the Legendre variant (interior interpolation points)."""
    element = basix.ufl.element("Lagrange", mesh.basix_cell(), int(degree), discontinuous=True,
                                lagrange_variant=basix.LagrangeVariant.legendre)
    return dolfinx.fem.functionspace(mesh, element)


def _local_cells(mesh: dolfinx.mesh.Mesh) -> np.ndarray:
    return np.arange(mesh.topology.index_map(mesh.topology.dim).size_local, dtype=np.int32)


def transfer(source: dolfinx.fem.Function, target: dolfinx.fem.Function, padding: float = PADDING) -> None:
    """Interpolate ``source`` into ``target`` where the two live on different (non-matching) meshes,
    each at its current geometry (`Function.interpolate_nonmatching`).

    Exact for fields that ``target``'s space represents on ``source``'s cells (e.g. a linear field
    between DG1 or P1 spaces); not conservative in general.

    Raises:
        SolverError: an interpolation point of ``target`` lies outside ``source``'s mesh.
    """
    mesh = target.function_space.mesh
    cells = _local_cells(mesh)
    data = dolfinx.fem.create_interpolation_data(target.function_space, source.function_space, cells, padding)
    missing = mesh.comm.allreduce(int(np.count_nonzero(np.asarray(data.src_owner) < 0)), op=MPI.SUM)
    if missing:
        raise SolverError(f"non-matching transfer: {missing} interpolation points lie outside the source mesh")
    target.interpolate_nonmatching(source, cells, data)
    target.x.scatter_forward()


def _all_cells(mesh: dolfinx.mesh.Mesh) -> np.ndarray:
    index_map = mesh.topology.index_map(mesh.topology.dim)
    return np.arange(index_map.size_local + index_map.num_ghosts, dtype=np.int32)


def _copy_mesh(mesh: dolfinx.mesh.Mesh) -> tuple[dolfinx.mesh.Mesh, np.ndarray, np.ndarray]:
    """An independent mesh with the same cells and coordinates: the submesh of all process-local
    cells, ghosts included (so it has the same geometry nodes, ghosts included, and the same owners).

    Returns the copy, ``node_map`` (copy geometry node -> ``mesh`` geometry node, a permutation) and
    ``cell_map`` (copy cell -> ``mesh`` cell, ghosts included).
    """
    tdim = mesh.topology.dim
    copy, entity_map, _, node_map = dolfinx.mesh.create_submesh(mesh, tdim, _all_cells(mesh))
    if copy.geometry.x.shape[0] != mesh.geometry.x.shape[0]:  # pragma: no cover - dolfinx invariant
        raise SolverError("copying the mesh lost geometry nodes")
    cell_map = np.asarray(entity_map.sub_topology_to_topology(_all_cells(copy), inverse=False), dtype=np.int32)
    return copy, np.asarray(node_map, dtype=np.int64), cell_map


def _scalar(form, comm) -> float:
    return comm.allreduce(float(dolfinx.fem.assemble_scalar(form)), op=MPI.SUM)


def nodal_values(u: dolfinx.fem.Function) -> np.ndarray:
    """(n_nodes,) values of a DG (or any Lagrange) function at the mesh's geometry nodes: the mean
    over the cells sharing a node of each cell's trace there (the plain value for continuous ones).
    Needs an affine (degree-1) geometry. In parallel the mean is over the process-local cells (ghosts
    included), so nodes touching cells of another process only through a vertex may differ slightly."""
    V = u.function_space
    mesh = V.mesh
    if mesh.geometry.cmaps[0].degree != 1:
        raise BadInput("nodal values need an affine (degree-1) mesh geometry")
    element = V.element.basix_element
    vertices = basix.geometry(element.cell_type)
    table = element.tabulate(0, vertices)[0, :, :, 0]  # (vertices, dofs per cell)
    cells = mesh.geometry.dofmaps[0]
    dofs = V.dofmap.list
    per_cell = u.x.array[dofs] @ table.T  # (cells, vertices)
    total = np.zeros(mesh.geometry.x.shape[0])
    count = np.zeros_like(total)
    np.add.at(total, cells.ravel(), per_cell.ravel())
    np.add.at(count, cells.ravel(), 1.0)
    return total / np.maximum(count, 1.0)


def _mean_cell_size(mesh: dolfinx.mesh.Mesh) -> float:
    """h = √(2|Ω| / n_cells): the leg of the right triangles of a uniform mesh with as many cells."""
    area = _scalar(dolfinx.fem.form(dolfinx.fem.Constant(mesh, PETSc.ScalarType(1.0)) * ufl.dx), mesh.comm)
    return math.sqrt(2.0 * area / mesh.topology.index_map(mesh.topology.dim).size_global)


# ----------------------------------------------------------------------------------------- monitor


class SolutionMonitor(Monitor):
    """m = 1 + α q̃ / max q̃ from a solution ``u`` on another mesh (the solver's), for `MongeAmpereMover`.

    q is the structure of u: the Frobenius norm ‖H‖_F of the recovered Hessian (``measure="hessian"``,
    `hessian_recovery` of the P1 L2 projection of u) or the P1 projection of |∇u| (``"gradient"``),
    at the P1 nodes of u's mesh. It is smoothed by one implicit diffusion step
    ∫ q̃ v + ε ∇q̃·∇v dx = ∫ q v dx (natural boundary condition) with ε = ``smoothing`` (default
    (2h)², h = √(2|Ω|/n_cells)), and clipped at 0. All of this is computed on u's mesh by `refresh`
    (call it whenever u or its mesh changed); `evaluate` then interpolates m (non-matching, `transfer`)
    onto the mesh being moved at its current geometry, so the mover can re-evaluate it at every
    iteration cheaply. If u has no structure (q = 0), m = 1.

    Args:
        solution: The solution Function (any scalar space on an affine triangle mesh).
        alpha: Weight α ≥ 0 (UM2N's swirl monitor has a maximum of about 1 + 10).
        measure: "hessian" or "gradient".
        smoothing: ε ≥ 0 of the smoothing step, or None for (2h)².
    """

    MEASURES = ("hessian", "gradient")

    def __init__(self, solution: dolfinx.fem.Function, alpha: float = 5.0, measure: str = "hessian",
                 smoothing: float | None = None):
        if not isinstance(solution, dolfinx.fem.Function):
            raise BadInput(f"the solution monitor needs a dolfinx Function, got {type(solution).__name__}")
        if not (isinstance(alpha, int | float) and math.isfinite(alpha) and alpha >= 0):
            raise BadInput(f"monitor weight alpha must be a non-negative number, got {alpha}")
        if measure not in self.MEASURES:
            raise BadInput(f"unknown monitor measure {measure!r} (known: {', '.join(self.MEASURES)})")
        mesh = solution.function_space.mesh
        if smoothing is None:
            smoothing = (2.0 * _mean_cell_size(mesh)) ** 2
        if not (isinstance(smoothing, int | float) and math.isfinite(smoothing) and smoothing >= 0):
            raise BadInput(f"monitor smoothing must be a non-negative number, got {smoothing}")
        self.solution, self.alpha, self.measure, self.smoothing = solution, float(alpha), measure, float(smoothing)
        d = mesh.geometry.dim
        P1 = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
        w, v = ufl.TrialFunction(P1), ufl.TestFunction(P1)
        self.u1 = dolfinx.fem.Function(P1, name="u_P1")
        self.q = dolfinx.fem.Function(P1, name="q")
        self.q_smooth = dolfinx.fem.Function(P1, name="q_smooth")
        self.m = dolfinx.fem.Function(P1, name="monitor")
        def projection(a, L, target, name):  # on the solver's mesh, which moves: matrices reassembled
            return LinearSystem(a, L, target, options=PROJECTION, reassemble=True, name=f"swirl monitor {name}")

        self._project_u = projection(w * v * ufl.dx, solution * v * ufl.dx, self.u1, "P1 projection")
        if measure == "hessian":
            self.hessian = dolfinx.fem.Function(dolfinx.fem.functionspace(mesh, ("Lagrange", 1, (d, d))))
            self._recovery = hessian_recovery(self.u1, self.hessian)
        else:
            grad_norm = ufl.sqrt(ufl.dot(ufl.grad(self.u1), ufl.grad(self.u1)))
            self._grad_norm = projection(w * v * ufl.dx, grad_norm * v * ufl.dx, self.q, "gradient norm")
        eps = dolfinx.fem.Constant(mesh, PETSc.ScalarType(self.smoothing))
        self._smooth = projection((w * v + eps * ufl.inner(ufl.grad(w), ufl.grad(v))) * ufl.dx, self.q * v * ufl.dx,
                                  self.q_smooth, "smoothing")
        self.refresh()

    def refresh(self) -> None:
        """Recompute m on the solution's mesh from the solution's current values and geometry."""
        self._project_u.solve()
        if self.measure == "hessian":
            self._recovery.solve()
            d = self.u1.function_space.mesh.geometry.dim
            self.q.x.array[:] = np.sqrt(np.sum(self.hessian.x.array.reshape(-1, d * d) ** 2, axis=1))
        else:
            self._grad_norm.solve()
        if self.smoothing > 0:
            self._smooth.solve()
        else:
            self.q_smooth.x.array[:] = self.q.x.array
        q = np.maximum(self.q_smooth.x.array, 0.0)
        comm = self.m.function_space.mesh.comm
        q_max = comm.allreduce(float(q.max()) if q.size else 0.0, op=MPI.MAX)
        self.m.x.array[:] = 1.0 + (self.alpha * q / q_max if q_max > 0 else 0.0)

    def evaluate(self, m: dolfinx.fem.Function) -> None:
        transfer(self.m, m)

    def describe(self) -> dict:
        return {"kind": "solution", "alpha": self.alpha, "measure": self.measure, "smoothing": self.smoothing}


# ------------------------------------------------------------------------------------------- mover


class MongeAmpereCallback:
    """``(reference_domain, monitor) -> points``: moves a copy of ``reference_domain`` (at ξ) with one
    `MongeAmpereMover`, built at the first call and reused while the reference mesh stays the same
    (the mover remembers ξ and starts from it at every move), and returns the moved points (n_nodes, 2)
    in the geometry order of ``reference_domain.mesh``. ``results`` keeps every `MoveResult`.
    """

    def __init__(self, rtol: float = 1e-3, maxiter: int = 500, **options):
        self.rtol, self.maxiter, self.options = rtol, maxiter, options
        self.mover: MongeAmpereMover | None = None
        self.results: list[MoveResult] = []
        self._reference = None

    def __call__(self, reference_domain: Domain, monitor: Monitor) -> np.ndarray:
        if not isinstance(reference_domain, Domain):
            raise BadInput(f"the mover needs a Domain, got {type(reference_domain).__name__}")
        if not isinstance(monitor, Monitor):
            raise BadInput(f"the monitor must be a pdesuite Monitor, got {type(monitor).__name__}")
        if self.mover is None or self._reference is not reference_domain.mesh:
            copy, self._node_map, _ = _copy_mesh(reference_domain.mesh)
            self.mover = MongeAmpereMover(Domain(copy, description={"kind": "copy"}), monitor, rtol=self.rtol,
                                          maxiter=self.maxiter, **self.options)
            self._reference = reference_domain.mesh
        self.mover.monitor = monitor
        result = self.mover.move()  # restores ξ itself on failure
        self.mover.restore()
        self.results.append(result)
        points = np.empty_like(result.points)
        points[self._node_map] = result.points
        return points


def monge_ampere_mover(rtol: float = 1e-3, maxiter: int = 500, **options) -> MongeAmpereCallback:
    """A Monge-Ampère mover callback for `SwirlSolver.run` (UM2N's settings: rtol 1e-3, 500 iterations);
    ``options`` go to `MongeAmpereMover` (dtol, pseudo_timestep)."""
    return MongeAmpereCallback(rtol=rtol, maxiter=maxiter, **options)


# ------------------------------------------------------------------------------------------ solver


@dataclass
class SwirlResult:
    """What `SwirlSolver.run` computed.

    Attributes:
        solution: The final DG solution (a Function on the solver's mesh, valid while that mesh keeps
            the final coordinates ``points``).
        dofs: (n_dofs,) its DG coefficients (Legendre moments, not nodal values).
        values: (n_nodes,) nodal values: at each geometry node the mean of the DG traces of the cells
            sharing it (`nodal_values`).
        points: (n_nodes, 2) final mesh coordinates (geometry order).
        error_exact: ‖u_h(T) - u(T)‖_L2 against `Swirl.exact` by quadrature on the final mesh (None when
            the final state has no closed form).
        moves: Mesh moves made (including the one at t = 0; refused tangled moves not counted).
        move_seconds: Wall time of each mover call.
        mover_seconds: Their sum.
        seconds: Total wall time of the run.
        tangled: Moves refused for inverted cells (only with ``allow_tangled``).
        inverted: Inverted cells of each proposed mesh, in call order (-1: the mover itself raised
            `MeshTangled`).
        mass_initial, mass_final: ∫u_h dx at t = 0 (on the mesh the time stepping starts on) and at T.
        transfer_mass: Relative change of ∫u_h caused by each solution transfer (t > 0 moves).
        info: Step sizes, step count, dofs, CFL number, quadrature degree, monitor.
    """

    solution: dolfinx.fem.Function
    dofs: np.ndarray
    values: np.ndarray
    points: np.ndarray
    error_exact: float | None
    moves: int
    move_seconds: list[float]
    mover_seconds: float
    seconds: float
    tangled: int
    inverted: list[int]
    mass_initial: float
    mass_final: float
    transfer_mass: list[float] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def mass_change(self) -> float:
        """(∫u_h(T) - ∫u_h(0)) / |∫u_h(0)|: round-off on a fixed mesh, the transfers' effect otherwise."""
        return (self.mass_final - self.mass_initial) / abs(self.mass_initial)


class SwirlSolver:
    """Upwind DG_p + SSPRK3 for `Swirl` on a fixed or moving triangle mesh (see the module docstring).

    Args:
        problem: The `Swirl` problem.
        domain: The mesh (2D affine triangles, normally the unit square). Its coordinates at
            construction are the reference ξ; `run` with a mover moves it (in place) and leaves it at
            the final coordinates; every `run` starts again from ξ.
        dt: Largest time step Δt > 0 (the steps are shortened to put t_r and T on step boundaries).
        degree: DG degree p ≥ 0.
        quadrature_degree: Quadrature degree of the error integral against the exact solution.

    Raises:
        BadInput: not a Swirl, not a 2D affine triangle mesh, bad dt or degree.
    """

    name = "swirl"

    def __init__(self, problem: Swirl, domain: Domain, dt: float = 1e-3, degree: int = 1,
                 quadrature_degree: int = 10):
        if not isinstance(problem, Swirl):
            raise BadInput(f"SwirlSolver solves a Swirl problem, got {type(problem).__name__}")
        require_affine_triangles(domain, "SwirlSolver")
        if not (isinstance(dt, int | float) and not isinstance(dt, bool) and math.isfinite(dt) and dt > 0):
            raise BadInput(f"time step dt must be a positive number, got {dt}")
        if isinstance(degree, bool) or int(degree) != degree or degree < 0:
            raise BadInput(f"DG degree must be a non-negative integer, got {degree}")
        if int(quadrature_degree) != quadrature_degree or quadrature_degree < 1:
            raise BadInput(f"quadrature degree must be a positive integer, got {quadrature_degree}")
        mesh = domain.mesh
        self.problem, self.domain, self.degree = problem, domain, int(degree)
        self.quadrature_degree = int(quadrature_degree)
        self.times = self._time_grid(problem, float(dt))
        self.dt, self.n_steps = float(dt), len(self.times) - 1
        self.xi = mesh.geometry.x[:, :2].copy()
        self._cells = mesh.geometry.dofmaps[0]
        self._owned_cells = mesh.topology.index_map(2).size_local
        # the fixed reference mesh ξ handed to movers, and a scratch copy holding the old geometry
        # during a transfer; node maps: copy node -> solver node
        ref_mesh, self._reference_nodes, _ = _copy_mesh(mesh)
        self.reference_domain = Domain(ref_mesh, description={"kind": "swirl reference", **domain.description})
        self._shadow, self._shadow_nodes, self._shadow_cells = _copy_mesh(mesh)

        self.V = dg_space(mesh, self.degree)
        self.V_shadow = dg_space(self._shadow, self.degree)
        self.u = dolfinx.fem.Function(self.V, name="u")
        self._w = dolfinx.fem.Function(self.V)  # the stage input
        self._k = dolfinx.fem.Function(self.V)  # M⁻¹ L(w)
        self._u_shadow = dolfinx.fem.Function(self.V_shadow)
        self.t = dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0))
        self._build_forms()

    @staticmethod
    def _time_grid(problem: Swirl, dt: float) -> np.ndarray:
        """Step times 0 = t_0 < ... < t_N = T with t_r among them and every step ≤ dt."""
        t_r, T = problem.reversal_time, problem.t_end
        before = np.linspace(0.0, t_r, max(1, math.ceil(t_r / dt - 1e-9)) + 1)
        if T - t_r <= 1e-12 * T:
            return before
        after = np.linspace(t_r, T, max(1, math.ceil((T - t_r) / dt - 1e-9)) + 1)
        return np.concatenate([before, after[1:]])

    # --- the mathematics ---------------------------------------------------------------------
    def velocity(self):
        """b(x, t) in UFL on the solver's mesh (follows its geometry), t the time Constant."""
        return self.problem.velocity(spatial(self.domain.mesh), self.t, UFL)

    def residual_form(self, w, v):
        """L(w; v): the upwind DG advection operator (inflow value 0)."""
        b = self.velocity()
        n = ufl.FacetNormal(self.domain.mesh)
        bn = 0.5 * (ufl.dot(b, n) + abs(ufl.dot(b, n)))  # (b·n)₊
        return (w * ufl.dot(b, ufl.grad(v)) * ufl.dx
                - ufl.jump(v) * (bn("+") * w("+") - bn("-") * w("-")) * ufl.dS
                - bn * w * v * ufl.ds)

    def _build_forms(self) -> None:
        mesh = self.domain.mesh
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        self._mass_form = dolfinx.fem.form(u * v * ufl.dx)
        self._rhs_form = dolfinx.fem.form(self.residual_form(self._w, v))
        self._integral = dolfinx.fem.form(self.u * ufl.dx)
        self.M = dolfinx.fem.petsc.create_matrix(self._mass_form)
        self._b = dolfinx.fem.petsc.create_vector(self.V)
        self.ksp = PETSc.KSP().create(mesh.comm)
        prefix = unique_prefix(self.name)
        self.ksp.setOptionsPrefix(prefix)
        opts = PETSc.Options()
        for key, value in MASS_SOLVER.items():
            opts[prefix + key] = value
        self.ksp.setFromOptions()
        for key in MASS_SOLVER:
            del opts[prefix + key]
        self._assemble_mass()
        self._error_form = None
        if self.problem.has_exact_solution:
            exact = self.problem.exact(spatial(mesh), UFL)
            dx = ufl.dx(metadata={"quadrature_degree": self.quadrature_degree})
            self._error_form = dolfinx.fem.form((self.u - exact) ** 2 * dx)

    def _assemble_mass(self) -> None:
        self.M.zeroEntries()
        dolfinx.fem.petsc.assemble_matrix(self.M, self._mass_form)
        self.M.assemble()
        self.ksp.setOperators(self.M)

    def _apply(self, w: np.ndarray, t: float) -> np.ndarray:
        """M⁻¹ L(w) at time t (process-local array, ghosts updated)."""
        self.t.value = t
        self._w.x.array[:] = w
        with self._b.localForm() as local:
            local.set(0.0)
        dolfinx.fem.petsc.assemble_vector(self._b, self._rhs_form)
        self._b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self.ksp.solve(self._b, self._k.x.petsc_vec)
        if self.ksp.getConvergedReason() < 0:
            raise SolverError(f"swirl: the mass-matrix solve failed (PETSc reason {self.ksp.getConvergedReason()})")
        self._k.x.scatter_forward()
        return self._k.x.array

    def step(self, t0: float, t1: float) -> None:
        """One SSPRK3 step of ``self.u`` from t0 to t1."""
        dt = t1 - t0
        u0 = self.u.x.array.copy()
        u1 = u0 + dt * self._apply(u0, t0)
        u2 = 0.75 * u0 + 0.25 * (u1 + dt * self._apply(u1, np.nextafter(t1, t0)))
        self.u.x.array[:] = u0 / 3.0 + 2.0 / 3.0 * (u2 + dt * self._apply(u2, t0 + 0.5 * dt))

    def mass(self) -> float:
        """∫ u_h dx on the current mesh."""
        return _scalar(self._integral, self.domain.comm)

    def error_exact(self) -> float | None:
        """‖u_h - u(T)‖_L2 by quadrature on the current mesh (meaningful at t = T), or None."""
        if self._error_form is None:
            return None
        return math.sqrt(max(_scalar(self._error_form, self.domain.comm), 0.0))

    def cfl(self) -> float:
        """max|b| Δt / h_min on the current mesh (|b| ≤ √2 A, h_min the smallest cell diameter)."""
        mesh = self.domain.mesh
        h = dolfinx.cpp.mesh.h(mesh._cpp_object, 2, _local_cells(mesh))
        h_min = mesh.comm.allreduce(float(h.min()) if h.size else np.inf, op=MPI.MIN)
        return math.sqrt(2.0) * abs(self.problem.amplitude) * float(np.max(np.diff(self.times))) / h_min

    # --- the mesh ----------------------------------------------------------------------------
    def points(self) -> np.ndarray:
        """(n_nodes, 2) current coordinates of the solver's mesh (a copy)."""
        return self.domain.mesh.geometry.x[:, :2].copy()

    def set_points(self, points: np.ndarray) -> None:
        """Give the solver's mesh new coordinates (same topology) and reassemble the mass matrix.
        The solution's dofs are left as they are (see `move_to` for a transfer)."""
        self.domain.mesh.geometry.x[:, :2] = points
        self._assemble_mass()

    def restore(self) -> None:
        """Put the solver's mesh back at ξ."""
        self.set_points(self.xi)

    def inverted_cells(self, points: np.ndarray) -> int:
        """Inverted cells (global) of the solver's mesh with nodes at ``points``, relative to ξ."""
        owned = self._cells[: self._owned_cells]
        return self.domain.comm.allreduce(count_inverted(points, owned, self.xi), op=MPI.SUM)

    def move_to(self, points: np.ndarray) -> float:
        """Move the mesh to ``points`` and transfer u to it (non-matching interpolation, `transfer`).
        Returns the relative change of ∫u the transfer caused (not conservative)."""
        before = self.mass()
        self._shadow.geometry.x[:, :2] = self.domain.mesh.geometry.x[self._shadow_nodes, :2]
        self._u_shadow.interpolate(self.u, cells0=self._shadow_cells, cells1=_all_cells(self._shadow))
        self._u_shadow.x.scatter_forward()
        self.set_points(points)
        transfer(self._u_shadow, self.u)
        return (self.mass() - before) / abs(before) if before else 0.0

    def _reference_to_solver(self, points: np.ndarray) -> np.ndarray:
        expected = (self.reference_domain.mesh.geometry.x.shape[0], 2)
        points = np.asarray(points, dtype=float)
        if points.shape != expected:
            raise BadInput(f"the mover returned points of shape {points.shape}, expected {expected}")
        if not np.all(np.isfinite(points)):
            raise BadInput("the mover returned non-finite points")
        ordered = np.empty_like(points)
        ordered[self._reference_nodes] = points
        return ordered

    def _initialise(self) -> None:
        self.u.interpolate(numpy_interpolant(self.problem.initial))
        self.u.x.scatter_forward()

    # --- the run -----------------------------------------------------------------------------
    def run(self, move_every: int = 0, mover: Callable | None = None, alpha: float = 5.0,
            measure: str = "hessian", allow_tangled: bool = False, progress: bool = False) -> SwirlResult:
        """March from t = 0 to T, moving the mesh if a mover is given.

        Args:
            move_every: With a mover: move every this many steps (0: only once, at t = 0); ignored
                without a mover.
            mover: ``(reference_domain, monitor) -> points`` (n_nodes, 2) in the geometry order of
                ``reference_domain.mesh``, which is at ξ (e.g. `monge_ampere_mover()`); may raise
                `MeshTangled`.
            alpha, measure: The `SolutionMonitor` built from the current solution before each move.
            allow_tangled: Keep the old mesh (and count the failure) when a proposed mesh has inverted
                cells, instead of raising `MeshTangled`.
            progress: Show a progress bar.

        Raises:
            BadInput: bad move_every, mover not callable, mover output of the wrong shape.
            MeshTangled: a proposed mesh has inverted cells (without ``allow_tangled``).
            SolverError: the solution blew up (CFL) or a linear solve failed.
        """
        from tqdm.auto import tqdm

        if isinstance(move_every, bool) or not isinstance(move_every, int | np.integer) or move_every < 0:
            raise BadInput(f"move_every must be a non-negative integer, got {move_every!r}")
        if mover is not None and not callable(mover):
            raise BadInput("the mover must be callable (reference_domain, monitor) -> points, "
                           f"got {type(mover).__name__}")
        start = time.perf_counter()
        self.restore()
        self._initialise()
        monitor = SolutionMonitor(self.u, alpha=alpha, measure=measure) if mover is not None else None
        move_seconds: list[float] = []
        inverted: list[int] = []
        transfer_mass: list[float] = []
        tangled = moves = 0
        cfl = self.cfl()

        def move(step: int) -> None:
            nonlocal tangled, moves, cfl
            monitor.refresh()
            began = time.perf_counter()
            try:
                proposed = mover(self.reference_domain, monitor)
            except MeshTangled:
                move_seconds.append(time.perf_counter() - began)
                if not allow_tangled:
                    raise
                inverted.append(-1)
                tangled += 1
                return
            move_seconds.append(time.perf_counter() - began)
            new = self._reference_to_solver(proposed)
            bad = self.inverted_cells(new)
            inverted.append(bad)
            if bad:
                if not allow_tangled:
                    raise MeshTangled(f"swirl: the mover's mesh at step {step} has {bad} inverted cells")
                tangled += 1
                return
            if step == 0:
                self.set_points(new)
                self._initialise()
            else:
                transfer_mass.append(self.move_to(new))
            moves += 1
            cfl = max(cfl, self.cfl())

        if mover is not None:
            move(0)
        mass_initial = self.mass()
        bar = tqdm(range(self.n_steps), disable=not progress, desc="swirl", unit="step", leave=False)
        for n in bar:
            if mover is not None and n > 0 and move_every > 0 and n % move_every == 0:
                move(n)
            self.step(self.times[n], self.times[n + 1])
            if not np.all(np.isfinite(self.u.x.array)):
                raise SolverError(f"swirl: the solution is not finite at t = {self.times[n + 1]:g} "
                                  f"(CFL number max|b| dt / h_min = {cfl:.3g}; reduce dt)")
        bar.close()
        final = dolfinx.fem.Function(self.V, name="u")
        final.x.array[:] = self.u.x.array
        return SwirlResult(
            solution=final, dofs=final.x.array.copy(), values=nodal_values(final), points=self.points(),
            error_exact=self.error_exact(), moves=moves, move_seconds=move_seconds,
            mover_seconds=float(sum(move_seconds)), seconds=time.perf_counter() - start, tangled=tangled,
            inverted=inverted, mass_initial=mass_initial, mass_final=self.mass(), transfer_mass=transfer_mass,
            info={"dt": float(np.max(np.diff(self.times))), "n_steps": self.n_steps, "degree": self.degree,
                  "dofs": self.V.dofmap.index_map.size_global * self.V.dofmap.index_map_bs, "cfl": cfl,
                  "move_every": int(move_every), "quadrature_degree": self.quadrature_degree,
                  "monitor": monitor.describe() if monitor is not None else None},
        )


# --------------------------------------------------------------------------------------- reference


def reference_solution(problem: Swirl, n_fine: int, dt: float = 1e-3, degree: int = 1,
                       progress: bool = False) -> dolfinx.fem.Function:
    """The final DG solution on the fixed uniform ``n_fine`` × ``n_fine`` mesh of the unit square (the
    fine-mesh reference of UM2N's error; the mesh is serial-safe but built on MPI.COMM_WORLD)."""
    return SwirlSolver(problem, unit_square(n_fine), dt=dt, degree=degree).run(progress=progress).solution


def reference_error(solution: dolfinx.fem.Function, reference: dolfinx.fem.Function,
                    quadrature_degree: int | None = None) -> float:
    """‖I u - u_ref‖_L2 on the reference's (fine) mesh, I the non-matching interpolation (`transfer`)
    of ``solution`` (on any mesh, at its current coordinates) into the reference's space."""
    interpolated = dolfinx.fem.Function(reference.function_space)
    transfer(solution, interpolated)
    metadata = {} if quadrature_degree is None else {"quadrature_degree": int(quadrature_degree)}
    form = dolfinx.fem.form((interpolated - reference) ** 2 * ufl.dx(metadata=metadata))
    return math.sqrt(max(_scalar(form, reference.function_space.mesh.comm), 0.0))
