"""What every linear FEM solver shares: function space, Dirichlet data, a PETSc linear solve."""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from typing import ClassVar

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from petsc4py import PETSc

from pdesuite.errors import BadInput, SolverError
from pdesuite.solvers.fem.conjugate_directions import attach_dof_coordinates
from pdesuite.solvers.fem.expressions import bind_parameters
from pdesuite.solvers.fem.mesh import Domain
from pdesuite.solvers.order import ConvergenceOrder, Rate

#: Direct sparse LU (MUMPS): robust for indefinite problems and small meshes.
DIRECT = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
#: Conjugate gradients with PETSc's algebraic multigrid: for large SPD systems.
CG_AMG = {"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-10, "ksp_atol": 1e-14,
          "ksp_max_it": 500}

#: Mass-matrix projections: conjugate gradients with Jacobi (a P1 mass matrix is well conditioned).
PROJECTION = {"ksp_type": "cg", "pc_type": "jacobi", "ksp_rtol": 1e-12, "ksp_atol": 1e-15, "ksp_max_it": 1000}

_prefix_counter = itertools.count()


def unique_prefix(name: str) -> str:
    """A PETSc options prefix that no other solver object uses."""
    return f"pdesuite_{name}_{next(_prefix_counter)}_"


class LinearFEMSolver:
    """Base for solvers of linear problems a(u, v) = L(v) on a Lagrange space.

    Subclasses build the forms in `forms` (the mathematics) and the Dirichlet conditions in
    `boundary_conditions`; `solve` assembles, solves and checks the result.

    Args:
        problem: The problem dataclass.
        domain: Mesh and markers (`pdesuite.solvers.fem.mesh.Domain`).
        degree: Polynomial degree of the Lagrange elements (>= 1).
        petsc_options: PETSc KSP/PC options; default direct LU (MUMPS).
    """

    name: ClassVar[str] = "fem"
    default_petsc_options: ClassVar[dict] = DIRECT

    def __init__(self, problem, domain: Domain, degree: int = 1, petsc_options: dict | None = None):
        if not isinstance(domain, Domain):
            raise BadInput(f"{type(self).__name__} needs a Domain (see pdesuite.solvers.fem.mesh), "
                           f"got {type(domain).__name__}")
        if int(degree) != degree or degree < 1:
            raise BadInput(f"element degree must be a positive integer, got {degree}")
        self.problem = problem
        self.domain = domain
        self.degree = int(degree)
        self.petsc_options = dict(self.default_petsc_options if petsc_options is None else petsc_options)
        self.V = dolfinx.fem.functionspace(domain.mesh, ("Lagrange", self.degree))
        bind_parameters(problem, domain.mesh)

    @property
    def convergence_order(self) -> ConvergenceOrder:
        """Error orders in the mesh size h for smooth solutions (Ciarlet 1978, Thm. 3.2.2, and the
        Aubin-Nitsche duality argument): ‖u - u_h‖_L2 = O(h^{p+1}), |u - u_h|_H1 = O(h^p)."""
        return ConvergenceOrder(L2=Rate(self.degree + 1, "h", "L2"), H1=Rate(self.degree, "h", "H1 seminorm"))

    def dirichlet_bc(self, value, facets: np.ndarray | None = None) -> dolfinx.fem.DirichletBC:
        """u = value on ``facets`` (all boundary facets by default); ``value`` is an expression ``(x, m)``."""
        from pdesuite.solvers.fem.expressions import numpy_interpolant

        if facets is None:
            facets = self.domain.boundary_facets()
        mesh = self.domain.mesh
        fdim = mesh.topology.dim - 1
        dofs = dolfinx.fem.locate_dofs_topological(self.V, fdim, facets)
        constant = 0.0 if value is None else getattr(value, "constant_value", None)
        if constant is not None:
            return dolfinx.fem.dirichletbc(PETSc.ScalarType(constant), dofs, self.V)
        # interpolate g only on the cells touching the boundary: O(boundary), not O(mesh)
        cells = dolfinx.mesh.compute_incident_entities(mesh.topology, facets, fdim, fdim + 1)
        g = dolfinx.fem.Function(self.V)
        g.interpolate(numpy_interpolant(value), cells0=cells)
        return dolfinx.fem.dirichletbc(g, dofs)

    def linear_solve(self, a, L, bcs, u: dolfinx.fem.Function | None = None) -> tuple[dolfinx.fem.Function, dict]:
        """Solve a(u, v) = L(v) with Dirichlet ``bcs``; raises SolverError if PETSc fails or u is not finite."""
        with python_ksp_errors():
            problem = dolfinx.fem.petsc.LinearProblem(
                a, L, bcs=bcs, u=u, petsc_options=self.petsc_options,
                petsc_options_prefix=unique_prefix(self.name))
            if self.petsc_options.get("ksp_type") == "python":  # e.g. DCDM's network maps dofs to a grid
                attach_dof_coordinates(problem.A, self.V)
            start = time.perf_counter()
            uh = problem.solve()
        ksp = problem.solver
        info = {"ksp_iterations": ksp.getIterationNumber(), "ksp_reason": int(ksp.getConvergedReason()),
                "solve_seconds": time.perf_counter() - start, "dofs": self.V.dofmap.index_map.size_global}
        if info["ksp_reason"] < 0:
            raise SolverError(f"{self.name}: linear solver failed (PETSc reason {info['ksp_reason']})")
        if not np.all(np.isfinite(uh.x.array)):
            raise SolverError(f"{self.name}: solution is not finite")
        return uh, info


class LinearSystem:
    """One linear system a(u, v) = L(v) with Dirichlet ``bcs``, solved repeatedly into ``target``: the
    forms are compiled and the KSP set up once; every `solve` reassembles the right-hand side.

    ``reassemble``: rebuild the matrix before every solve too (forms on a mesh whose geometry moves).
    ``nullspace_constant``: the operator is singular with the constants as its null space.
    ``options``: PETSc KSP/PC options (default `PROJECTION`, for mass matrices); ``name`` appears in
    the error of a failed solve.
    """

    def __init__(self, a, L, target: dolfinx.fem.Function, bcs=(), options: dict | None = None,
                 reassemble: bool = False, nullspace_constant: bool = False, name: str = "projection"):
        self.a, self.L = dolfinx.fem.form(a), dolfinx.fem.form(L)
        self.bcs, self.target, self.reassemble, self.name = list(bcs), target, reassemble, name
        self.A = dolfinx.fem.petsc.create_matrix(self.a)
        self.b = dolfinx.fem.petsc.create_vector(target.function_space)
        self.nullspace = None
        if nullspace_constant:
            ones = self.A.createVecRight()
            ones.set(1.0)
            ones.normalize()
            self.nullspace = PETSc.NullSpace().create(vectors=[ones], comm=target.function_space.mesh.comm)
        self._assemble_matrix()
        self.ksp = PETSc.KSP().create(target.function_space.mesh.comm)
        self.ksp.setOperators(self.A)
        prefix = unique_prefix(re.sub(r"\W+", "_", name))
        self.ksp.setOptionsPrefix(prefix)
        opts = PETSc.Options()
        for key, value in (options or PROJECTION).items():
            opts[prefix + key] = value
        try:
            with python_ksp_errors():
                self.ksp.setFromOptions()
        finally:
            for key in options or PROJECTION:
                del opts[prefix + key]
        if (options or PROJECTION).get("ksp_type") == "python":
            attach_dof_coordinates(self.A, target.function_space)

    def _assemble_matrix(self) -> None:
        self.A.zeroEntries()
        dolfinx.fem.petsc.assemble_matrix(self.A, self.a, bcs=self.bcs)
        self.A.assemble()
        if self.nullspace is not None:
            self.A.setNullSpace(self.nullspace)

    def solve(self) -> dolfinx.fem.Function:
        if self.reassemble:
            self._assemble_matrix()
            self.ksp.setOperators(self.A)
        with self.b.localForm() as local:
            local.set(0.0)
        dolfinx.fem.petsc.assemble_vector(self.b, self.L)
        dolfinx.fem.petsc.apply_lifting(self.b, [self.a], bcs=[self.bcs])
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        dolfinx.fem.petsc.set_bc(self.b, self.bcs)
        if self.nullspace is not None:
            self.nullspace.remove(self.b)
        with python_ksp_errors():
            self.ksp.solve(self.b, self.target.x.petsc_vec)
        reason = self.ksp.getConvergedReason()
        if reason < 0:
            raise SolverError(f"{self.name}: the linear solve failed (PETSc reason {reason})")
        self.target.x.scatter_forward()
        return self.target

    def destroy(self) -> None:
        for obj in (self.ksp, self.A, self.b):
            obj.destroy()


@contextlib.contextmanager
def python_ksp_errors():
    """Re-raise pdesuite's own errors (BadInput, SolverError) that a Python KSP or PC context raised and
    petsc4py wrapped into a `PETSc.Error` (as its ``__cause__``), so they keep their meaning."""
    try:
        yield
    except PETSc.Error as exc:
        if isinstance(exc.__cause__, BadInput | SolverError):
            raise exc.__cause__ from None
        raise


def manufactured_or(given, derived):
    """``given`` when set, else what the exact solution implies (``derived()``), else None."""
    return given if given is not None else derived()


def facet_normal_flux(kappa, u_exact, mesh):
    """κ ∇u · n on the boundary, for Neumann data derived from an exact solution."""
    n = ufl.FacetNormal(mesh)
    return ufl.dot(kappa * ufl.grad(u_exact), n)
